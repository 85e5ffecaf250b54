# shellcheck shell=bash
# Knot DNS (Debian package `knot`) on loopback, authoritative for a test zone and accepting
# RFC 2136 UPDATEs signed with an HMAC-SHA256 TSIG key; source after lib.sh.
#
# start_knot DIR ZONE PORT   sets KNOT_PID TSIG_NAME TSIG_ALG TSIG_SECRET; zone: SOA, NS ns1,
#                            ns1 and * A 127.0.0.1 (flintd only needs the TXT for dns-01);
#                            every parent of ZONE up to its top-level label is served too,
#                            empty, so that lookups climbing the tree (CAA, RFC 8659 §3)
#                            get answers, as they would from the real DNS

# parent_zones DIR ZONE: writes an empty zone file for each parent of ZONE and prints
# their knot.conf zone entries
parent_zones() {
	local dir=$1 p=$2
	while [[ $p == *.* ]]; do
		p=${p#*.}
		printf '$ORIGIN %s.\n$TTL 60\n@ SOA ns1 hostmaster 1 60 60 3600 60\n@ NS ns1\nns1 A 127.0.0.1\n' \
			"$p" >"$dir/zones/$p.zone"
		printf '  - domain: %s\n    storage: "%s/zones"\n    file: "%s.zone"\n' "$p" "$dir" "$p"
	done
}

start_knot() {
	local dir=$1 zone=$2 port=$3 i
	need_prog knotd kdig
	mkdir -p "$dir/zones" "$dir/run" "$dir/db"
	TSIG_NAME=acme-update. TSIG_ALG=hmac-sha256
	TSIG_SECRET=$(head -c 32 /dev/urandom | base64)
	cat >"$dir/zones/$zone.zone" <<Z
\$ORIGIN $zone.
\$TTL 60
@ SOA ns1 hostmaster 1 60 60 3600 60
@ NS ns1
ns1 A 127.0.0.1
* A 127.0.0.1
Z
	cat >"$dir/knot.conf" <<C
server:
    rundir: "$dir/run"
    listen: 127.0.0.1@$port
    user: $(id -un):$(id -gn)
database:
    storage: "$dir/db"
key:
  - id: $TSIG_NAME
    algorithm: $TSIG_ALG
    secret: $TSIG_SECRET
acl:
  - id: acme_update
    key: $TSIG_NAME
    action: update
zone:
  - domain: $zone
    storage: "$dir/zones"
    file: "$zone.zone"
    acl: acme_update
    zonefile-sync: -1
$(parent_zones "$dir" "$zone")
log:
  - target: stderr
    any: info
C
	wait_port_free "$port" || fail "port $port busy"
	timeout -k 5 "$E2E_LIFETIME" knotd -c "$dir/knot.conf" >"$dir/knotd.log" 2>&1 </dev/null &
	KNOT_PID=$!
	PIDS+=("$KNOT_PID")
	DUMP_LOGS+=("$dir/knotd.log")
	for ((i = 0; i < 50; i++)); do
		kdig +short +timeout=1 +retry=0 @127.0.0.1 -p "$port" SOA "$zone" 2>/dev/null | grep -q . && return 0
		alive "$KNOT_PID" || fail "knotd exited (see $dir/knotd.log)"
		sleep 0.2
	done
	fail "knotd does not answer on 127.0.0.1:$port"
}
