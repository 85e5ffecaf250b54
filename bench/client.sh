#!/usr/bin/env bash
# One certificate issuance by flint, by certbot and by lego against the same Pebble,
# in one run: wall time and peak RSS of each whole client process, ROUNDS times per
# client, interleaved. A measurement, not a test: no number is judged. See
# bench/README.md ("Client: one issuance").
#
#   bench/client.sh                       # ROUNDS=5, a new account in every run
#   ROUNDS=9 ACCOUNT=both bench/client.sh # also with a pre-registered account
#
# Environment:
#   FLINT        flint binary (default REPO/build/flint; not built for you)
#   ROUNDS       measured issuances per client (and per account mode) (5)
#   CLIENTS      which clients, in the first round's order ("flint certbot lego")
#   ACCOUNT      new (default): every run starts from an empty state directory, so it
#                registers an account; existing: the run starts with an account
#                registered beforehand; both: the two, one after the other
#   WARMUP       unmeasured issuances per client before measuring (1; >= 1 when
#                ACCOUNT is existing or both: the warm-up registers that account)
#   PORT_BASE    first port (23100); uses PORT_BASE+{0,1,2,3,53,55}
#   NONCEREJECT  Pebble's PEBBLE_WFE_NONCEREJECT, % of nonces refused (0; Pebble's own
#                default is 5, and two refusals in a row make certbot 2.1 give up)
#   RUN_TIMEOUT  seconds before one client run is killed and counted as failed (120)
#   KEEP=1       keep the work directory (client logs, state dirs, JSON per run)
#
# Exit status: 0 when every run issued a valid certificate; 1 when a run did not
# (the table still shows the rest) or Pebble failed; 2 on a usage error or a
# missing program.

# shellcheck disable=SC2317  # cleanup is called from the trap
set -uo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
PY=/usr/bin/python3
export PYTHONDONTWRITEBYTECODE=1
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy no_proxy NO_PROXY
unset REQUESTS_CA_BUNDLE LEGO_CA_CERTIFICATES SSL_CERT_FILE

FLINT=${FLINT:-$REPO/build/flint}
ROUNDS=${ROUNDS:-5}
CLIENTS=${CLIENTS:-flint certbot lego}
ACCOUNT=${ACCOUNT:-new}
WARMUP=${WARMUP:-1}
PORT_BASE=${PORT_BASE:-23100}
NONCEREJECT=${NONCEREJECT:-0}
RUN_TIMEOUT=${RUN_TIMEOUT:-120}
KEEP=${KEEP:-0}

PEBBLE_PORT=$PORT_BASE
PEBBLE_MGMT_PORT=$((PORT_BASE + 1))
HTTP01_PORT=$((PORT_BASE + 2))
PEBBLE_TLS_PORT=$((PORT_BASE + 3)) # only a number in Pebble's config (tls-alpn-01 target)
CTS_DNS_PORT=$((PORT_BASE + 53))
CTS_MGMT_PORT=$((PORT_BASE + 55))

say() { echo "[client-bench $(date +%T)] $*" >&2; }
usage_fail() { echo "bench/client.sh: $*" >&2; exit 2; }

for v in ROUNDS WARMUP PORT_BASE NONCEREJECT RUN_TIMEOUT; do
	[[ ${!v} =~ ^[0-9]+$ ]] || usage_fail "$v must be a non-negative integer (got '${!v}')"
done
[ "$ROUNDS" -ge 1 ] || usage_fail "ROUNDS must be >= 1"
[ "$RUN_TIMEOUT" -ge 1 ] || usage_fail "RUN_TIMEOUT must be >= 1"
[ "$NONCEREJECT" -le 100 ] || usage_fail "NONCEREJECT is a percentage (0..100)"
if [ "$PORT_BASE" -lt 1024 ] || [ $((PORT_BASE + 55)) -ge 32768 ]; then
	usage_fail "PORT_BASE must keep ports in 1024..32767"
fi
case $ACCOUNT in
new) MODES=(new) ;;
existing) MODES=(existing) ;;
both) MODES=(new existing) ;;
*) usage_fail "ACCOUNT must be new, existing or both (got '$ACCOUNT')" ;;
esac
if [ "$ACCOUNT" != new ] && [ "$WARMUP" -lt 1 ]; then
	usage_fail "ACCOUNT=$ACCOUNT needs WARMUP >= 1 (the warm-up issuance registers the account)"
fi
# shellcheck disable=SC2206
CLIENT_LIST=($CLIENTS)
[ ${#CLIENT_LIST[@]} -ge 1 ] || usage_fail "CLIENTS is empty"
for c in "${CLIENT_LIST[@]}"; do
	case $c in
	flint)
		[ -x "$FLINT" ] || usage_fail "flint binary '$FLINT' not found or not executable.
Build it first:  cd $REPO && cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build build -j2
or point FLINT at a binary."
		;;
	certbot | lego)
		command -v "$c" >/dev/null 2>&1 ||
			usage_fail "'$c' not found (Debian 12: apt-get install $c), or leave it out: CLIENTS=\"${CLIENTS//$c/}\""
		;;
	*) usage_fail "CLIENTS: unknown client '$c' (flint, certbot, lego)" ;;
	esac
done
for p in pebble pebble-challtestsrv openssl curl ss; do
	command -v "$p" >/dev/null 2>&1 || usage_fail "required program '$p' not found (Debian: pebble, openssl, curl, iproute2)"
done
[ -x "$PY" ] || usage_fail "$PY not found"
[ -x /usr/bin/time ] || usage_fail "/usr/bin/time (GNU time) not found: it measures each client's peak RSS.
Install it first:  apt-get install time"

# ------------------------------------------------------------- process control
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
wait_port_free() { # port seconds
	local i
	for ((i = 0; i < $2 * 10; i++)); do port_busy "$1" || return 0; sleep 0.1; done
	return 1
}

# ------------------------------------------------------------------ Pebble setup
for p in "$PEBBLE_PORT" "$PEBBLE_MGMT_PORT" "$HTTP01_PORT" "$CTS_DNS_PORT" "$CTS_MGMT_PORT"; do
	port_busy "$p" && { say "port $p is in use (set PORT_BASE)"; exit 1; }
done
T=$(mktemp -d /tmp/flint-client-bench.XXXXXX) || exit 1
say "work dir $T; ROUNDS=$ROUNDS CLIENTS='$CLIENTS' ACCOUNT=$ACCOUNT WARMUP=$WARMUP"

# Fake DNS: every name is A 127.0.0.1, no AAAA; its own challenge responders are off
# (the client under test answers http-01 on HTTP01_PORT).
pebble-challtestsrv -dns01 "127.0.0.1:$CTS_DNS_PORT" -http01 "" -https01 "" -tlsalpn01 "" \
	-management "127.0.0.1:$CTS_MGMT_PORT" -defaultIPv4 127.0.0.1 -defaultIPv6 "" \
	>"$T/cts.log" 2>&1 </dev/null &
PIDS+=($!)
if ! wait_listen udp "$CTS_DNS_PORT" 10 || ! wait_listen tcp "$CTS_MGMT_PORT" 10; then
	say "pebble-challtestsrv did not come up; $T/cts.log:"
	tail -n 20 "$T/cts.log" >&2
	exit 1
fi

P=$T/pebble
mkdir -p "$P"
# a throwaway CA for Pebble's own HTTPS listener (the API's TLS certificate)
if ! {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj "/CN=flint client bench Pebble TLS CA" -keyout "$P/tls-ca.key" -out "$P/tls-ca.pem" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign &&
		openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
			-keyout "$P/key.pem" -out "$P/srv.csr" &&
		printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$P/srv.ext" &&
		openssl x509 -req -in "$P/srv.csr" -CA "$P/tls-ca.pem" -CAkey "$P/tls-ca.key" \
			-CAcreateserial -days 2 -extfile "$P/srv.ext" -out "$P/cert.pem"
} >"$P/openssl.log" 2>&1; then
	say "could not make Pebble's TLS certificate"
	cat "$P/openssl.log" >&2
	exit 1
fi
cat >"$P/pebble-config.json" <<EOF
{
  "pebble": {
    "listenAddress": "127.0.0.1:$PEBBLE_PORT",
    "managementListenAddress": "127.0.0.1:$PEBBLE_MGMT_PORT",
    "certificate": "$P/cert.pem",
    "privateKey": "$P/key.pem",
    "httpPort": $HTTP01_PORT,
    "tlsPort": $PEBBLE_TLS_PORT,
    "ocspResponderURL": "",
    "externalAccountBindingRequired": false
  }
}
EOF
# NOSLEEP: no random 0-15 s before each validation. Everything else is Pebble's
# default (authz reuse is moot: every run orders a new name) except NONCEREJECT.
env -u PEBBLE_VA_ALWAYS_VALID -u PEBBLE_VA_SLEEPTIME -u PEBBLE_AUTHZREUSE -u PEBBLE_CHAIN_LENGTH \
	-u PEBBLE_ALTERNATE_ROOTS PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT="$NONCEREJECT" \
	pebble -config "$P/pebble-config.json" -dnsserver "127.0.0.1:$CTS_DNS_PORT" \
	>"$T/pebble.log" 2>&1 </dev/null &
PEBBLE_PID=$!
PIDS+=("$PEBBLE_PID")
DIR_URL="https://127.0.0.1:$PEBBLE_PORT/dir"
TLS_CA=$P/tls-ca.pem
ok=0
for ((i = 0; i < 150; i++)); do
	alive "$PEBBLE_PID" || break
	curl -sf --max-time 2 --cacert "$TLS_CA" "$DIR_URL" -o /dev/null && { ok=1; break; }
	sleep 0.2
done
if [ $ok != 1 ]; then
	say "pebble did not come up at $DIR_URL; $T/pebble.log:"
	tail -n 20 "$T/pebble.log" >&2
	exit 1
fi
# the issuing root, to verify what the clients got
ROOT=$P/root.pem
if ! curl -sf --max-time 5 --cacert "$TLS_CA" "https://127.0.0.1:$PEBBLE_MGMT_PORT/roots/0" -o "$ROOT" ||
	! openssl x509 -in "$ROOT" -noout 2>/dev/null; then
	say "cannot fetch Pebble's issuing root from its management API"
	exit 1
fi
say "pebble ready at $DIR_URL (pid $PEBBLE_PID, PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=$NONCEREJECT)"

# --------------------------------------------------------------------- clients
# client_cmd CLIENT DIR NAME: fills CMD (an env(1) command line) for one issuance
# with standalone http-01 on 127.0.0.1:HTTP01_PORT and all state under DIR.
client_cmd() {
	local c=$1 d=$2 name=$3
	case $c in
	flint)
		CMD=("$FLINT" --server "$DIR_URL" --ca-bundle "$TLS_CA" --state-dir "$d"
			issue --agree-tos --http01-port "$HTTP01_PORT" --http01-bind 127.0.0.1 "$name")
		;;
	certbot)
		CMD=(env REQUESTS_CA_BUNDLE="$TLS_CA" certbot --non-interactive --agree-tos --server "$DIR_URL"
			--config-dir "$d/cfg" --work-dir "$d/work" --logs-dir "$d/logs"
			--register-unsafely-without-email certonly --standalone --preferred-challenges http-01
			--http-01-port "$HTTP01_PORT" --http-01-address 127.0.0.1 -d "$name")
		;;
	lego)
		CMD=(env LEGO_CA_CERTIFICATES="$TLS_CA" lego --server "$DIR_URL" --accept-tos
			--email lab@example.com --path "$d" --domains "$name" --key-type ec256
			--http --http.port "127.0.0.1:$HTTP01_PORT" run)
		;;
	esac
}

# cert_files CLIENT DIR NAME: prints "LEAF CHAIN" where that client stores them
cert_files() {
	case $1 in
	flint) echo "$2/certs/$3/cert.pem $2/certs/$3/chain.pem" ;;
	certbot) echo "$2/cfg/live/$3/cert.pem $2/cfg/live/$3/chain.pem" ;;
	lego) echo "$2/certificates/$3.crt $2/certificates/$3.issuer.crt" ;; # .crt: leaf first
	esac
}

# account_dir CLIENT DIR: where that client keeps its accounts under DIR
account_dir() {
	case $1 in
	flint) echo "$2/accounts" ;;
	certbot) echo "$2/cfg/accounts" ;;
	lego) echo "$2/accounts" ;;
	esac
}

# verify CLIENT DIR NAME RESULT.json: 0 when the client exited 0 and left a
# certificate for NAME that chains to Pebble's root; otherwise WHY says what is wrong.
verify() {
	local c=$1 d=$2 name=$3 res=$4 leaf chain v
	WHY=
	if ! grep -q '"exit": 0,' "$res" 2>/dev/null; then
		if grep -q '"timed_out": true' "$res" 2>/dev/null; then
			WHY="killed after RUN_TIMEOUT=${RUN_TIMEOUT}s"
		elif grep -q '"exit": null' "$res" 2>/dev/null; then
			WHY="killed by signal $(sed -n 's/.*"signal": \([0-9]*\).*/\1/p' "$res")"
		else
			WHY="exit status $(sed -n 's/.*"exit": \([0-9]*\).*/\1/p' "$res")"
		fi
		return 1
	fi
	read -r leaf chain < <(cert_files "$c" "$d" "$name")
	[ -s "$leaf" ] || { WHY="no certificate at $leaf"; return 1; }
	[ -s "$chain" ] || { WHY="no chain at $chain"; return 1; }
	v=$(openssl verify -CAfile "$ROOT" -untrusted "$chain" "$leaf" 2>&1) ||
		{ WHY="openssl verify: $(tr '\n' ' ' <<<"$v")"; return 1; }
	openssl x509 -in "$leaf" -noout -ext subjectAltName 2>/dev/null | grep -q "DNS:$name\b" ||
		{ WHY="certificate does not name $name"; return 1; }
	return 0
}

# run_one MODE ROUND CLIENT TAG: one issuance in a fresh directory, measured.
# Writes T/runs/TAG.json (client_measure.py's figures + labels) and T/runs/TAG.verdict
# ("ok" or the reason). Returns 0 when the run issued a valid certificate.
run_one() {
	local mode=$1 rnd=$2 c=$3 tag=$4 d name res
	d=$T/state/$tag
	name=$tag.bench.example.com
	res=$T/runs/$tag.json
	mkdir -p "$d" "$T/runs"
	if [ "$mode" = existing ]; then
		mkdir -p "$(dirname "$(account_dir "$c" "$d")")"
		cp -a "$(account_dir "$c" "$T/state/account-$c")" "$(account_dir "$c" "$d")" ||
			{ echo "cannot copy the pre-registered account" >"$T/runs/$tag.verdict"; return 1; }
	fi
	if ! wait_port_free "$HTTP01_PORT" 10; then
		echo "port $HTTP01_PORT still in use before the run" >"$T/runs/$tag.verdict"
		return 1
	fi
	client_cmd "$c" "$d" "$name"
	{ printf '+'; printf ' %q' "${CMD[@]}"; echo; } >"$T/logs/$tag.log"
	(cd "$d" && exec "$PY" "$BENCH_DIR/client_measure.py" --out "$res" --timeout "$RUN_TIMEOUT" \
		--label "mode=$mode" --label "round=$rnd" --label "client=$c" --label "name=$name" \
		-- "${CMD[@]}") >>"$T/logs/$tag.log" 2>&1 </dev/null
	if [ ! -s "$res" ]; then
		echo "the measuring wrapper failed (see $T/logs/$tag.log)" >"$T/runs/$tag.verdict"
		return 1
	fi
	if verify "$c" "$d" "$name" "$res"; then
		echo ok >"$T/runs/$tag.verdict"
		return 0
	fi
	echo "$WHY" >"$T/runs/$tag.verdict"
	return 1
}

mkdir -p "$T/logs" "$T/state" "$T/runs"
FAILED=()
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

# Warm-up: page cache (certbot's Python modules, lego's and flint's binaries), and for
# ACCOUNT=existing the account that the measured runs start from (account-CLIENT).
for c in "${CLIENT_LIST[@]}"; do
	for ((w = 1; w <= WARMUP; w++)); do
		# the first warm-up's state directory is the account template for ACCOUNT=existing
		tag=warmup$w-$c
		[ $w = 1 ] && tag=account-$c
		if ! run_one new 0 "$c" "$tag"; then
			say "$c: warm-up issuance failed: $(cat "$T/runs/$tag.verdict"); $T/logs/$tag.log:"
			tail -n 15 "$T/logs/$tag.log" >&2
			FAILED+=("$c warm-up")
			[ "$ACCOUNT" != new ] && [ $w = 1 ] && { say "no account to start the 'existing' runs from"; exit 1; }
		else
			say "$c: warm-up $w ok ($(sed -n 's/.*"wall_s": \([0-9.]*\).*/\1/p' "$T/runs/$tag.json") s)"
		fi
	done
done

# The floor of the measurement: /bin/true through the same wrapper and GNU time.
for ((r = 1; r <= 5; r++)); do
	"$PY" "$BENCH_DIR/client_measure.py" --out "$T/runs/floor$r-true.json" -- /bin/true \
		>>"$T/logs/floor.log" 2>&1 </dev/null && echo ok >"$T/runs/floor$r-true.verdict"
done

for mode in "${MODES[@]}"; do
	say "measuring: $ROUNDS rounds, $([ "$mode" = new ] && echo 'a new account in every run' || echo 'a pre-registered account')"
	for ((r = 1; r <= ROUNDS; r++)); do
		# round-robin, and the first client rotates from round to round, so that drift
		# in the machine's load and the position in the round hit every client alike
		n=${#CLIENT_LIST[@]}
		for ((k = 0; k < n; k++)); do
			c=${CLIENT_LIST[$(((k + r - 1) % n))]}
			tag=$mode$r-$c
			if run_one "$mode" "$r" "$c" "$tag"; then
				say "$mode round $r $c: ok, $(sed -n 's/.*"wall_s": \([0-9.]*\).*/\1/p' "$T/runs/$tag.json") s"
			else
				say "$mode round $r $c: FAILED: $(cat "$T/runs/$tag.verdict"); $T/logs/$tag.log:"
				tail -n 15 "$T/logs/$tag.log" >&2
				FAILED+=("$tag")
			fi
			if ! alive "$PEBBLE_PID"; then
				say "pebble died; $T/pebble.log:"
				tail -n 20 "$T/pebble.log" >&2
				exit 1
			fi
		done
	done
done

# ------------------------------------------------------------------------ report
echo
echo "Client benchmark: one issuance (one new name, standalone http-01 on 127.0.0.1:$HTTP01_PORT)," \
	"$ROUNDS runs per client, interleaved; one Pebble $(dpkg-query -W -f '${Version}' pebble 2>/dev/null)" \
	"(PEBBLE_VA_NOSLEEP=1, PEBBLE_WFE_NONCEREJECT=$NONCEREJECT); $(nproc) cores," \
	"load average $LOAD0 at start, $(cut -d' ' -f1-3 /proc/loadavg) at end"
vers=()
for c in "${CLIENT_LIST[@]}"; do
	case $c in
	flint) vers+=("$("$FLINT" --version 2>&1 | head -n 1) ($FLINT)") ;;
	*) vers+=("$c $(dpkg-query -W -f '${Version}' "$c" 2>/dev/null || echo '?')") ;;
	esac
done
echo "Clients: $(printf '%s; ' "${vers[@]}" | sed 's/; $//')"
BENCH_T=$T BENCH_CLIENTS=$CLIENTS BENCH_MODES="${MODES[*]}" "$PY" "$BENCH_DIR/client_report.py" || FAILED+=("report")

if [ ${#FAILED[@]} -gt 0 ]; then
	say "FAILED: $(printf '%s; ' "${FAILED[@]}")(logs in $T/logs)"
	exit 1
fi
exit 0
