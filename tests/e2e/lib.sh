# shellcheck shell=bash
# Shared helpers for flintd's end-to-end tests. Source it from tests/e2e/t_*.sh:
#
#   TEST_NAME=t_x; . "$(dirname "$0")/lib.sh"
#
# Environment: FLINTD (flintd binary, required unless the test sets E2E_NO_FLINTD=1
# before sourcing, e.g. a client test against Pebble), FLINT_SRC (repo root; defaults to
# this file's ../..), KEEP=1 keeps the temp dir, READY_TIMEOUT (s, default 60).
# Every process a test starts is wrapped in `timeout` (max lifetime E2E_LIFETIME,
# default 600 s = the CTest TIMEOUT) so nothing outlives a killed test run, and is stopped by the EXIT trap.
# Nothing here ever skips: a missing program is a failure.

set -uo pipefail

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export FLINT_SRC=${FLINT_SRC:-$(cd "$E2E_DIR/../.." && pwd)}
TOOLS_DIR=$FLINT_SRC/tests/tools
TEST_NAME=${TEST_NAME:-$(basename "$0" .sh)}
PY=/usr/bin/python3                 # Debian's python3 with python3-acme/cryptography/requests
export PYTHONDONTWRITEBYTECODE=1
# everything is on loopback: no proxies; CA bundles are always given explicitly
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
E2E_LIFETIME=${E2E_LIFETIME:-600}
READY_TIMEOUT=${READY_TIMEOUT:-60}

PIDS=()             # every background process we started (timeout wrappers)
DUMP_LOGS=()        # extra log files whose tails are shown when the test fails
FLINTD_PID=
STEPS_FAILED=()
T=

log() { echo "[$TEST_NAME $(date +%T)] $*"; }

# Fatal error: message, then the EXIT trap prints logs and cleans up.
fail() {
	echo "FAIL [$TEST_NAME]: $*" >&2
	exit 1
}

need_prog() {
	local p
	for p; do
		command -v "$p" >/dev/null 2>&1 || fail "required program '$p' not found in PATH"
	done
}

# ---------------------------------------------------------------- process control
alive() {  # pid -> 0 while the process exists and is not a zombie
	local s
	s=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	[[ -n $s && $s != Z* ]]
}

forget_pid() {
	local p keep=()
	for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}

# stop_pid PID [GRACE_SECONDS]: SIGTERM, bounded wait, then SIGKILL; reaps it.
# Sets STOP_RC to the exit status and STOP_KILLED=1 when SIGKILL was needed.
stop_pid() {
	local pid=$1 grace=${2:-10} i
	STOP_KILLED=0
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < grace * 10; i++)); do alive "$pid" || break; sleep 0.1; done
	if alive "$pid"; then
		STOP_KILLED=1
		kill -KILL "$pid" 2>/dev/null
		for ((i = 0; i < 50; i++)); do alive "$pid" || break; sleep 0.1; done
	fi
	wait "$pid" 2>/dev/null
	STOP_RC=$?
	forget_pid "$pid"
}

dump_logs() {
	local f
	if [ -n "$T" ] && [ -f "$T/flintd.log" ]; then
		echo "---- last 40 lines of flintd log ($T/flintd.log) ----" >&2
		tail -n 40 "$T/flintd.log" >&2
		echo "---- end of flintd log ----" >&2
	fi
	if [ -n "$T" ] && [ -s "$T/flintd.out" ]; then
		echo "---- flintd stdout ----" >&2
		tail -n 10 "$T/flintd.out" >&2
	fi
	f="$T/cts.log"
	[ -s "$f" ] && { echo "---- last 10 lines of $f ----" >&2; tail -n 10 "$f" >&2; }
	for f in "${DUMP_LOGS[@]}"; do
		[ -s "$f" ] && { echo "---- last 30 lines of $f ----" >&2; tail -n 30 "$f" >&2; }
	done
	return 0
}

cleanup() {
	local rc=$? i
	trap - EXIT INT TERM
	[ "$rc" -ne 0 ] && dump_logs
	for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${PIDS[i]}" 5; done
	if [ -n "$T" ] && [ -d "$T" ]; then
		if [ "${KEEP:-0}" = 1 ]; then echo "kept $T" >&2; else rm -rf "$T"; fi
	fi
	exit "$rc"
}

# ------------------------------------------------------------------------- setup
if [ "${E2E_NO_FLINTD:-0}" != 1 ]; then
	[ -n "${FLINTD:-}" ] || fail "FLINTD is not set (path to the flintd binary)"
	[ -x "$FLINTD" ] || fail "FLINTD=$FLINTD is not an executable file"
fi
[ -x "$PY" ] || fail "$PY not found (Debian python3 with python3-acme, python3-cryptography)"
need_prog curl openssl timeout ss ps awk sed grep
"$PY" -c 'import requests, cryptography, josepy, acme' 2>/dev/null \
	|| fail "$PY lacks requests/cryptography/josepy/acme (python3-acme, python3-requests)"

T=$(mktemp -d "/tmp/flint-e2e-$TEST_NAME.XXXXXX") || fail "mktemp failed"
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
log "work dir $T"

# ----------------------------------------------------------------------- ports
port_busy() { ss -ltnuH "( sport = :$1 )" 2>/dev/null | grep -q .; }

wait_port_free() {  # bounded 10 s
	local i
	for ((i = 0; i < 100; i++)); do port_busy "$1" || return 0; sleep 0.1; done
	return 1
}

wait_tcp_listen() {  # port [seconds=10]
	local i n=$((${2:-10} * 10))
	for ((i = 0; i < n; i++)); do
		ss -ltnH "( sport = :$1 )" 2>/dev/null | grep -q . && return 0
		sleep 0.1
	done
	return 1
}

wait_udp_listen() {
	local i n=$((${2:-10} * 10))
	for ((i = 0; i < n; i++)); do
		ss -lunH "( sport = :$1 )" 2>/dev/null | grep -q . && return 0
		sleep 0.1
	done
	return 1
}

# ----------------------------------------------------------------- challtestsrv
# start_challtestsrv DNS_PORT MGMT_PORT: fake DNS (A 127.0.0.1 for every name,
# no AAAA) + management API. Exports CTS_MGMT, CTS_DNS.
start_challtestsrv() {
	local dns=$1 mgmt=$2
	need_prog pebble-challtestsrv
	wait_port_free "$dns" || fail "port $dns busy"
	wait_port_free "$mgmt" || fail "port $mgmt busy"
	timeout -k 5 "$E2E_LIFETIME" pebble-challtestsrv -dns01 "127.0.0.1:$dns" -http01 "" -https01 "" \
		-tlsalpn01 "" -management "127.0.0.1:$mgmt" -defaultIPv4 127.0.0.1 -defaultIPv6 "" \
		>"$T/cts.log" 2>&1 </dev/null &
	PIDS+=($!)
	wait_tcp_listen "$mgmt" 10 || fail "pebble-challtestsrv management did not listen on $mgmt"
	wait_udp_listen "$dns" 10 || fail "pebble-challtestsrv DNS did not listen on udp $dns"
	export CTS_MGMT="http://127.0.0.1:$mgmt" CTS_DNS="127.0.0.1:$dns"
	log "challtestsrv dns=$CTS_DNS mgmt=$CTS_MGMT"
}

set_txt() {  # name value   (name with or without _acme-challenge. prefix is taken as is)
	local h="${1%.}."
	curl -sf --max-time 5 -X POST -d "{\"host\":\"$h\",\"value\":\"$2\"}" "$CTS_MGMT/set-txt" >/dev/null
}

clear_txt() {
	local h="${1%.}."
	curl -sf --max-time 5 -X POST -d "{\"host\":\"$h\"}" "$CTS_MGMT/clear-txt" >/dev/null
}

# ---------------------------------------------------------------------- flintd
# start_flintd PORT HTTP01_PORT DNS_PORT [extra flintd args...]
# Uses DATA (default $T/data). Sets FLINTD_PORT BASE_URL DIR_URL ROOT FLINTD_PID.
# DNS_PORT "system": no --dns-server (the resolvers of /etc/resolv.conf).
start_flintd() {
	local port=$1 http01=$2 dns=$3
	local -a dns_server=(--dns-server "127.0.0.1:$dns")
	shift 3
	[ "$dns" = system ] && dns_server=()
	DATA=${DATA:-$T/data}
	mkdir -p "$DATA"
	wait_port_free "$port" || fail "port $port busy"
	FLINTD_PORT=$port
	BASE_URL="https://127.0.0.1:$port"
	DIR_URL="$BASE_URL/directory"
	ROOT="$DATA/root.pem"
	# every client of a test comes from 127.0.0.1 and many share a domain: the rate
	# limits are off unless the test sets RATE_LIMITS (t_rate_limits tests them)
	local -a rates=(${RATE_LIMITS:---rate-new-orders off --rate-certs-per-domain off
		--rate-failed-validations off --rate-new-accounts-per-ip off})
	echo "+ $FLINTD --listen 127.0.0.1:$port --data-dir $DATA --http01-port $http01" \
		"${dns_server[*]} --allow-loopback-targets ${rates[*]} $*" >>"$T/flintd.log"
	timeout -k 5 "$E2E_LIFETIME" "$FLINTD" --listen "127.0.0.1:$port" --data-dir "$DATA" \
		--http01-port "$http01" "${dns_server[@]}" --allow-loopback-targets \
		"${rates[@]}" "$@" >>"$T/flintd.out" 2>>"$T/flintd.log" </dev/null &
	FLINTD_PID=$!
	PIDS+=("$FLINTD_PID")
	wait_ready
}

# start_node2 PORT2 HTTP01 DNS NODE_ID [ARGS...]: a second flintd process on the
# running one's data dir and database (DATA) and base URL, listening on PORT2
# (as behind a load balancer on one machine); waits until it answers; sets NODE2.
start_node2() {
	local port2=$1 http01=$2 dns=$3 node_id=$4 i
	shift 4
	wait_port_free "$port2" || fail "port $port2 busy"
	local -a rates=(${RATE_LIMITS:---rate-new-orders off --rate-certs-per-domain off
		--rate-failed-validations off --rate-new-accounts-per-ip off})
	timeout -k 5 "$E2E_LIFETIME" "$FLINTD" --listen "127.0.0.1:$port2" --base-url "$BASE_URL" \
		--node-id "$node_id" --data-dir "$DATA" --http01-port "$http01" \
		--dns-server "127.0.0.1:$dns" --allow-loopback-targets "${rates[@]}" "$@" \
		>>"$T/node2.out" 2>>"$T/node2.log" </dev/null &
	NODE2=$!
	PIDS+=("$NODE2")
	for ((i = 0; i < 150; i++)); do
		curl -sf --max-time 2 --cacert "$ROOT" \
			--connect-to "127.0.0.1:$FLINTD_PORT:127.0.0.1:$port2" "$DIR_URL" -o /dev/null && return 0
		alive "$NODE2" || fail "node 2 exited: $(tail -n 5 "$T/node2.log")"
		sleep 0.2
	done
	fail "node 2 not ready"
}

wait_ready() {
	local i n=$((READY_TIMEOUT * 5))
	for ((i = 0; i < n; i++)); do
		if ! alive "$FLINTD_PID"; then
			wait "$FLINTD_PID" 2>/dev/null
			local rc=$?
			forget_pid "$FLINTD_PID"
			fail "flintd exited with status $rc before becoming ready"
		fi
		if [ -s "$ROOT" ] && curl -sf --max-time 2 --cacert "$ROOT" "$DIR_URL" -o /dev/null 2>/dev/null; then
			log "flintd ready at $DIR_URL (pid $FLINTD_PID)"
			return 0
		fi
		sleep 0.2
	done
	fail "flintd not ready within ${READY_TIMEOUT}s ($DIR_URL with --cacert $ROOT)"
}

# check_dir_url_printed: the contract says flintd prints its directory URL on stdout.
check_dir_url_printed() {
	local i
	for ((i = 0; i < 25; i++)); do
		grep -qF "$DIR_URL" "$T/flintd.out" 2>/dev/null && return 0
		sleep 0.2
	done
	return 1
}

# flintd_alive: 0 while flintd runs; otherwise reaps it and sets FLINTD_DEATH
# (e.g. "flintd died: exit status 139 (signal SEGV)").
flintd_alive() {
	[ -n "$FLINTD_PID" ] || { FLINTD_DEATH="flintd is not running"; return 1; }
	alive "$FLINTD_PID" && return 0
	wait "$FLINTD_PID" 2>/dev/null
	local rc=$?
	forget_pid "$FLINTD_PID"
	FLINTD_PID=
	FLINTD_DEATH="flintd died unexpectedly: exit status $rc"
	[ "$rc" -gt 128 ] && FLINTD_DEATH+=" (signal $(kill -l $((rc - 128)) 2>/dev/null))"
	return 1
}

# stop_flintd: SIGTERM and a bounded wait (15 s). Sets FLINTD_RC, FLINTD_KILLED.
stop_flintd() {
	[ -n "$FLINTD_PID" ] || return 0
	stop_pid "$FLINTD_PID" 15
	FLINTD_RC=$STOP_RC FLINTD_KILLED=$STOP_KILLED
	FLINTD_PID=
	log "flintd stopped: status $FLINTD_RC$([ "$FLINTD_KILLED" = 1 ] && echo ' (needed SIGKILL)')"
}

# -------------------------------------------------------------------- steps
# A test runs several steps; each ends in step_ok or step_fail, and finish()
# exits non-zero when any step failed.
step_ok() { echo "ok $1${2:+ ($2)}"; }
step_fail() {
	echo "FAIL $1: $2"
	STEPS_FAILED+=("$1")
}
finish() {
	if [ -n "$FLINTD_PID" ]; then
		if flintd_alive; then step_ok flintd_still_running; else step_fail flintd_still_running "$FLINTD_DEATH"; fi
	fi
	# A clean shutdown exits 0; under the sanitizers a leak or error makes it non-zero.
	if [ -n "$FLINTD_PID" ]; then
		stop_flintd
		if [ "$FLINTD_RC" = 0 ]; then
			step_ok flintd_clean_exit
		else
			step_fail flintd_clean_exit "flintd exited with status $FLINTD_RC after SIGTERM (see its log for sanitizer reports)"
		fi
	fi
	if [ ${#STEPS_FAILED[@]} -gt 0 ]; then
		echo "FAILED steps: ${STEPS_FAILED[*]}"
		exit 1
	fi
	log "all steps passed"
	exit 0
}

# run_bounded SECONDS OUTFILE cmd...: runs cmd under timeout in the background with
# output appended to OUTFILE and waits for it, so that a signal to the test is
# handled at once (the EXIT trap then stops cmd). Returns cmd's status (124: timed out).
run_bounded() {
	local secs=$1 out=$2 p rc
	shift 2
	timeout -k 5 "$secs" "$@" >>"$out" 2>&1 </dev/null &
	p=$!
	PIDS+=("$p")
	wait "$p"
	rc=$?
	forget_pid "$p"
	return $rc
}

# run_logged LOGNAME SECONDS cmd...: bounded run, output to $T/LOGNAME.log; on
# failure shows the last 30 lines. Returns the command's status.
run_logged() {
	local name=$1 secs=$2 rc
	shift 2
	echo "+ $*" >>"$T/$name.log"
	run_bounded "$secs" "$T/$name.log" "$@"
	rc=$?
	if [ $rc -ne 0 ]; then
		echo "---- $name exited $rc$([ $rc = 124 ] && echo ' (timed out)'); last 30 lines of $T/$name.log ----"
		tail -n 30 "$T/$name.log"
		echo "----"
	fi
	return $rc
}

# run_tool LOGNAME SECONDS cmd...: bounded run of a test tool whose whole output
# (ok/FAIL lines) is then printed. Returns the tool's status.
run_tool() {
	local name=$1 secs=$2 rc
	shift 2
	run_bounded "$secs" "$T/$name.log" "$@"
	rc=$?
	cat "$T/$name.log"
	[ $rc = 124 ] && echo "FAIL $name: timed out after ${secs}s"
	return $rc
}

# acme_load_run NAME EXPECTED acme-load-args...: bench/acme-load ($ACME_LOAD, default:
# beside $FLINTD, a top-level target of the same build) against DIR_URL, bounded by
# LOAD_BOUND seconds (default 120); a step that passes when it exits 0 having issued
# EXPECTED certificates with no error and no failed issuance, each http-01 answered.
# Arguments after the defaults (--timeout-ms 10000 --stall-s 30) override them.
acme_load_run() {
	local name=$1 want=$2 rc got errs out load=${ACME_LOAD:-$(dirname "$FLINTD")/acme-load}
	shift 2
	out=$T/$name.txt
	if [ ! -x "$load" ]; then
		step_fail "$name" "acme-load not found at $load (build the acme-load target or set ACME_LOAD)"
		return
	fi
	run_bounded "${LOAD_BOUND:-120}" "$out" "$load" --http01-port "$HTTP01" --ca-bundle "$ROOT" \
		--domain-suffix "${name//_/-}.acme-load.example.com" --timeout-ms 10000 --stall-s 30 "$@" "$DIR_URL"
	rc=$?
	got=$(report_value "$out" issuances)
	errs=$(report_value "$out" errors)
	if [ "$rc" = 0 ] && [ "$got" = "$want" ] && [ "$errs" = 0 ] &&
		[ "$(report_value "$out" failed)" = 0 ] && [ "$(report_value "$out" http01_served)" -ge "$want" ]; then
		step_ok "$name" "$got issuances, $(report_value "$out" issuances_per_s)/s"
	else
		step_fail "$name" "status $rc, issuances '$got' (want $want), errors '$errs'; report:
$(grep -E '^(#|errors)' "$out" | head -n 30)"
	fi
}

# report_value FILE KEY: the value of "KEY value" in an acme-load report
report_value() { awk -v k="$2" '$1 == k { print $2; exit }' "$1"; }

# check_db_integrity: PRAGMA integrity_check of $DATA/flintd.db (read-only), as a step
check_db_integrity() {
	local check
	check=$("$PY" -c 'import sqlite3, sys
db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True, timeout=10)
print(" ".join(r[0] for r in db.execute("PRAGMA integrity_check")))' "$DATA/flintd.db" 2>&1)
	if [ "$check" = ok ]; then step_ok integrity_check; else
		step_fail integrity_check "PRAGMA integrity_check after the load: $check"
	fi
}

# start_webroot DIR PORT: python http.server serving DIR on 127.0.0.1:PORT.
start_webroot() {
	local dir=$1 port=$2
	mkdir -p "$dir/.well-known/acme-challenge"
	wait_port_free "$port" || fail "port $port busy"
	timeout -k 2 "$E2E_LIFETIME" "$PY" -m http.server --bind 127.0.0.1 "$port" --directory "$dir" \
		>>"$T/webroot-$port.log" 2>&1 </dev/null &
	PIDS+=($!)
	WEBROOT_PID=$!
	wait_tcp_listen "$port" 10 || fail "webroot server did not listen on $port"
}

# ---------------------------------------------------------- certificate checks
# split_pem FILE PREFIX: writes PREFIX.1.pem, PREFIX.2.pem ...; sets PEM_COUNT.
split_pem() {
	rm -f "$2".*.pem
	awk -v P="$2" '/-----BEGIN CERTIFICATE-----/{n++; f=P "." n ".pem"} n && f {print > f} /-----END CERTIFICATE-----/{close(f); f=""}' "$1"
	PEM_COUNT=$(ls "$2".*.pem 2>/dev/null | wc -l)
}

cert_sans() {  # file -> sorted "DNS:name" lines
	openssl x509 -in "$1" -noout -ext subjectAltName 2>/dev/null | tail -n +2 | tr ',' '\n' \
		| sed 's/^[[:space:]]*//; s/[[:space:]]*$//' | grep -v '^$' | sort
}

serial_of() { openssl x509 -in "$1" -noout -serial | cut -d= -f2 | tr 'a-f' 'A-F' | sed 's/^0*//'; }

# verify_cert LEAF CHAIN NAME...: chain to DATA/root.pem and the SANs are
# exactly NAME... . Returns 1 with VERIFY_ERR set on failure.
verify_cert() {
	local leaf=$1 chain=$2 out want got
	shift 2
	VERIFY_ERR=
	[ -s "$leaf" ] || { VERIFY_ERR="no certificate file $leaf"; return 1; }
	openssl x509 -in "$leaf" -noout 2>/dev/null || { VERIFY_ERR="$leaf does not parse"; return 1; }
	if [ "$(grep -c 'BEGIN CERTIFICATE' "$leaf")" -gt 1 ]; then
		VERIFY_ERR="$leaf holds more than one certificate (want the leaf alone)"
		return 1
	fi
	[ -s "$chain" ] || { VERIFY_ERR="empty chain file $chain"; return 1; }
	if ! out=$(openssl verify -CAfile "$ROOT" -untrusted "$chain" "$leaf" 2>&1); then
		VERIFY_ERR="openssl verify -CAfile $ROOT -untrusted $chain $leaf: $out"
		return 1
	fi
	want=$(printf 'DNS:%s\n' "$@" | sort)
	got=$(cert_sans "$leaf")
	if [ "$want" != "$got" ]; then
		VERIFY_ERR="SANs [$(echo $got)] != expected [$(echo $want)]"
		return 1
	fi
	return 0
}

# verify_fullchain FULLCHAIN NAME...: leaf is the first certificate, the rest the chain.
verify_fullchain() {
	local f=$1
	shift
	[ -s "$f" ] || { VERIFY_ERR="no certificate file $f"; return 1; }
	local pfx
	pfx="$T/split.$RANDOM"
	split_pem "$f" "$pfx"
	[ "$PEM_COUNT" -ge 2 ] || { VERIFY_ERR="$f holds $PEM_COUNT certificate(s), want leaf + chain"; return 1; }
	local i
	: >"$pfx.chain"
	for ((i = 2; i <= PEM_COUNT; i++)); do cat "$pfx.$i.pem" >>"$pfx.chain"; done
	verify_cert "$pfx.1.pem" "$pfx.chain" "$@"
}

# crl_has_serial SERIAL [SECONDS=15]: polls /ca/crl until SERIAL is listed; also
# checks the CRL's signature with /ca/intermediate.der. Sets CRL_ERR.
crl_has_serial() {
	local want i n=$((${2:-15} * 2)) txt
	want=$(echo "$1" | tr 'a-f' 'A-F' | sed 's/^0*//')
	CRL_ERR=
	curl -sf --max-time 5 --cacert "$ROOT" "$BASE_URL/ca/intermediate.der" -o "$T/intermediate.der" \
		|| { CRL_ERR="GET /ca/intermediate.der failed"; return 1; }
	openssl x509 -inform DER -in "$T/intermediate.der" -out "$T/intermediate.pem" 2>/dev/null \
		|| { CRL_ERR="/ca/intermediate.der does not parse as DER certificate"; return 1; }
	for ((i = 0; i < n; i++)); do
		if curl -sf --max-time 5 --cacert "$ROOT" "$BASE_URL/ca/crl" -o "$T/crl.der"; then
			if ! txt=$(openssl crl -inform DER -in "$T/crl.der" -noout -text -CAfile "$T/intermediate.pem" 2>&1); then
				CRL_ERR="openssl crl failed: $(echo "$txt" | tail -n 3)"
				return 1
			fi
			if ! grep -q 'verify OK' <<<"$txt"; then
				CRL_ERR="CRL signature does not verify with /ca/intermediate.der"
				return 1
			fi
			if sed -n 's/^[[:space:]]*Serial Number:[[:space:]]*//p' <<<"$txt" \
				| tr 'a-f' 'A-F' | sed 's/^0*//' | grep -qx "$want"; then
				return 0
			fi
		fi
		sleep 0.5
	done
	CRL_ERR="serial $want not in /ca/crl after ${2:-15}s (listed: $(sed -n 's/^[[:space:]]*Serial Number:[[:space:]]*//p' <<<"${txt:-}" | tr '\n' ' '))"
	return 1
}

# acme_account_info KEYFILE: prints the account object (JSON) the key belongs to
# (newAccount onlyReturnExisting); KEYFILE is a PEM private key or a private JWK (certbot).
acme_account_info() {
	timeout -k 5 60 "$PY" "$TOOLS_DIR/acme_tool.py" --dir "$DIR_URL" --ca "$ROOT" account-info --key "$1"
}

# crl_reason SERIAL: the CRL Reason Code text of SERIAL's entry in the last CRL that
# crl_has_serial fetched (empty when the entry has no reason code).
crl_reason() {
	local want
	want=$(echo "$1" | tr 'a-f' 'A-F' | sed 's/^0*//')
	openssl crl -inform DER -in "$T/crl.der" -noout -text 2>/dev/null | awk -v W="$want" '
		/Serial Number:/ { s=$NF; sub(/^0+/, "", s); cur = (toupper(s) == W); next }
		cur && /CRL Reason Code/ { getline; gsub(/^[ \t]+|[ \t]+$/, ""); print; exit }'
}
