#!/usr/bin/env bash
# Load test: acme-load (bench/acme-load, the C load generator) against flintd and
# against Pebble, one after the other, with the same count/time and concurrency;
# prints both reports and the flintd/Pebble ratios of issuances/s and of server CPU
# per issuance. A measurement, not a test: it asserts no timing.
#
# Usage: bench/loadtest.sh   (environment: see bench/README.md, "acme-load")

# shellcheck disable=SC2317  # cleanup and start_* are called indirectly (trap, "start_$s")
set -uo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # BENCH_DIR REPO FLINTD ACME_LOAD, process control
COUNT=${COUNT:-0}          # issuances per server (0: only DURATION limits)
DURATION=${DURATION:-30}   # seconds per server (0: only COUNT limits)
CLIENTS=${CLIENTS:-64}
THREADS=${THREADS:-2}
ACCOUNT_PER_ORDER=${ACCOUNT_PER_ORDER:-0}
MAX_RETRY_AFTER_MS=${MAX_RETRY_AFTER_MS:-10000} # 0: ignore Retry-After, poll every POLL_MS
POLL_MS=${POLL_MS:-50}
SERVERS=${SERVERS:-flintd pebble}
PORT_BASE=${PORT_BASE:-23200}
READY_TIMEOUT=${READY_TIMEOUT:-30}
FLINTD_ARGS=${FLINTD_ARGS:-}
KEEP=${KEEP:-0}

FLINTD_PORT=$PORT_BASE
HTTP01_PORT=$((PORT_BASE + 1))
PEBBLE_PORT=$((PORT_BASE + 10))
PEBBLE_MGMT_PORT=$((PORT_BASE + 11))
PEBBLE_TLS_PORT=$((PORT_BASE + 12)) # only a number in Pebble's config
CTS_DNS_PORT=$((PORT_BASE + 53))
CTS_MGMT_PORT=$((PORT_BASE + 55))

say() { echo "[loadtest $(date +%T)] $*" >&2; }
usage_fail() { echo "bench/loadtest.sh: $*" >&2; exit 2; }

for v in COUNT DURATION CLIENTS THREADS MAX_RETRY_AFTER_MS POLL_MS PORT_BASE READY_TIMEOUT; do
	[[ ${!v} =~ ^[0-9]+$ ]] || usage_fail "$v must be a non-negative integer (got '${!v}')"
done
[ "$COUNT" -gt 0 ] || [ "$DURATION" -gt 0 ] || usage_fail "set COUNT or DURATION (or both)"
[ "$DURATION" -le 600 ] || usage_fail "DURATION is capped at 600 s"
case $ACCOUNT_PER_ORDER in 0 | 1) ;; *) usage_fail "ACCOUNT_PER_ORDER must be 0 or 1" ;; esac
for s in $SERVERS; do
	case $s in flintd | pebble) ;; *) usage_fail "SERVERS: unknown server '$s' (flintd, pebble)" ;; esac
done
[ -x "$ACME_LOAD" ] || usage_fail "acme-load '$ACME_LOAD' not found; build it:
  cd $REPO && cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build build -j2"
if [[ " $SERVERS " == *" flintd "* ]]; then
	[ -x "$FLINTD" ] || usage_fail "flintd '$FLINTD' not found (build it, or set FLINTD)"
fi
for p in pebble pebble-challtestsrv openssl curl ss timeout getconf awk; do
	command -v "$p" >/dev/null 2>&1 || usage_fail "required program '$p' not found"
done
CLK_TCK=$(getconf CLK_TCK)

# ------------------------------------------------------------- process control

# ------------------------------------------------------------------------- setup
for p in "$FLINTD_PORT" "$HTTP01_PORT" "$PEBBLE_PORT" "$PEBBLE_MGMT_PORT" "$CTS_DNS_PORT" "$CTS_MGMT_PORT"; do
	port_busy "$p" && { say "port $p is in use (set PORT_BASE)"; exit 1; }
done
T=$(mktemp -d /tmp/flint-loadtest.XXXXXX) || exit 1

start_challtestsrv "$CTS_DNS_PORT" "$CTS_MGMT_PORT" "$T/cts.log" || exit 1

SRV_PID='' DIR_URL='' CA_BUNDLE=

start_flintd() {
	local d=$T/flintd-data
	mkdir -p "$d"
	# shellcheck disable=SC2086
	"$FLINTD" --listen "127.0.0.1:$FLINTD_PORT" --data-dir "$d" --http01-port "$HTTP01_PORT" \
		--dns-server "127.0.0.1:$CTS_DNS_PORT" --allow-loopback-targets \
		--rate-new-orders off --rate-certs-per-domain off --rate-new-accounts-per-ip off \
		--rate-failed-validations off $FLINTD_ARGS \
		>"$T/flintd.out" 2>"$T/flintd.log" </dev/null &
	SRV_PID=$!
	PIDS+=("$SRV_PID")
	DIR_URL="https://127.0.0.1:$FLINTD_PORT/directory"
	CA_BUNDLE=$d/root.pem
	wait_directory flintd "$SRV_PID" "$DIR_URL" "$CA_BUNDLE" "$T/flintd.log"
}

start_pebble() {
	start_pebble_at "$T/pebble" "$PEBBLE_PORT" "$PEBBLE_MGMT_PORT" "$PEBBLE_TLS_PORT" \
		"$HTTP01_PORT" "$CTS_DNS_PORT" "$T/pebble.log"
}

FAILED=()
# bench NAME: start, run acme-load, read the server's CPU before and after, stop.
bench() {
	local s=$1 c0 c1 rc args=()
	say "$s: starting"
	if ! "start_$s"; then
		FAILED+=("$s did not start")
		[ -n "$SRV_PID" ] && stop_pid "$SRV_PID" 5
		return 1
	fi
	args=(-c "$CLIENTS" -j "$THREADS" -n "$COUNT" -t "$DURATION" --http01-port "$HTTP01_PORT"
		--ca-bundle "$CA_BUNDLE" --domain-suffix "$s.load.example.com" --poll-ms "$POLL_MS"
		--max-retry-after-ms "$MAX_RETRY_AFTER_MS")
	[ "$ACCOUNT_PER_ORDER" = 1 ] && args+=(--account-per-order)
	say "$s: acme-load ${args[*]} $DIR_URL"
	c0=$(cpu_ticks "$SRV_PID") || c0=
	# the generator bounds itself; timeout is the backstop
	timeout -k 5 $((DURATION > 0 ? DURATION + 90 : 900)) "$ACME_LOAD" "${args[@]}" "$DIR_URL" \
		>"$T/result-$s.txt" 2>"$T/load-$s.log" </dev/null
	rc=$?
	c1=$(cpu_ticks "$SRV_PID") || c1=
	if ! alive "$SRV_PID"; then
		FAILED+=("$s died during the run")
	fi
	stop_pid "$SRV_PID" 15
	SRV_PID=
	if [ -n "$c0" ] && [ -n "$c1" ]; then
		awk -v a="$c0" -v b="$c1" -v h="$CLK_TCK" 'BEGIN { printf "%.3f\n", (b - a) / h }' >"$T/cpu-$s"
	fi
	case $rc in
	0) ;;
	3) say "$s: WARNING: some issuances failed or errors were seen (see its report)" ;;
	*)
		say "$s: acme-load failed (status $rc)"
		tail -n 20 "$T/load-$s.log" >&2
		FAILED+=("acme-load against $s (status $rc)")
		;;
	esac
	return 0
}

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
for s in $SERVERS; do bench "$s"; done

# ------------------------------------------------------------------------ report
echo "acme-load: CLIENTS=$CLIENTS THREADS=$THREADS COUNT=$COUNT DURATION=$DURATION" \
	"ACCOUNT_PER_ORDER=$ACCOUNT_PER_ORDER MAX_RETRY_AFTER_MS=$MAX_RETRY_AFTER_MS;" \
	"$(nproc) cores, load average $LOAD0 at start, $(cut -d' ' -f1-3 /proc/loadavg) at end"
for s in $SERVERS; do
	[ -s "$T/result-$s.txt" ] || continue
	echo
	echo "== $s"
	cat "$T/result-$s.txt"
	if [ -s "$T/cpu-$s" ]; then
		echo "server_cpu_s $(cat "$T/cpu-$s")"
		awk -v c="$(cat "$T/cpu-$s")" -v n="$(kv "$T/result-$s.txt" issuances)" \
			'BEGIN { printf "server_cpu_ms_per_issuance %.3f\n", (n > 0 ? c * 1000 / n : 0) }'
	fi
done
if [ -s "$T/result-flintd.txt" ] && [ -s "$T/result-pebble.txt" ] && [ -s "$T/cpu-flintd" ] && [ -s "$T/cpu-pebble" ]; then
	echo
	awk -v fr="$(kv "$T/result-flintd.txt" issuances_per_s)" -v pr="$(kv "$T/result-pebble.txt" issuances_per_s)" \
		-v fc="$(cat "$T/cpu-flintd")" -v pc="$(cat "$T/cpu-pebble")" \
		-v fn="$(kv "$T/result-flintd.txt" issuances)" -v pn="$(kv "$T/result-pebble.txt" issuances)" 'BEGIN {
		fm = fn > 0 ? fc * 1000 / fn : 0; pm = pn > 0 ? pc * 1000 / pn : 0
		printf "ratio.issuances_per_s.flintd_over_pebble %s\n", (pr > 0 ? sprintf("%.2f", fr / pr) : "n/a")
		printf "ratio.server_cpu_ms_per_issuance.flintd_over_pebble %s\n", (pm > 0 ? sprintf("%.2f", fm / pm) : "n/a")
		printf "# flintd %.1f issuances/s at %.2f ms server CPU each; Pebble %.1f/s at %.2f ms\n", fr, fm, pr, pm
	}'
fi
if [ ${#FAILED[@]} -gt 0 ]; then
	say "FAILED: $(printf '%s; ' "${FAILED[@]}")"
	exit 1
fi
exit 0
