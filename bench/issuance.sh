#!/usr/bin/env bash
# Full ACME issuance throughput of flintd and of Pebble, measured in one run with
# the same load generator (bench/acme_load.py) and the same parameters. The two
# servers run one after the other, never at the same time. See bench/README.md.
#
#   bench/issuance.sh                     # COUNT=200 PROCS=2 THREADS=8
#   COUNT=500 THREADS=16 bench/issuance.sh
#
# Environment:
#   FLINTD       flintd binary (default REPO/build/flintd; not built for you)
#   COUNT        issuances per server (200)        PROCS / THREADS  load concurrency (2 / 8)
#   WARMUP       unmeasured issuances per server before the measured run (10; 0 = none)
#   ACCOUNT_PER_ORDER  1 (default): every issuance is a new client + new account;
#                0: one account per load-generator thread, reused
#   SERVERS      which servers, in order ("flintd pebble")
#   ROUNDS       measure each server this many times, alternating the order (1); the
#                report then shows every round and the median per server
#   PORT_BASE    first of the ports used (23000); the run uses PORT_BASE+{0,1,10,11,12,53,55}
#   DEADLINE     cap in seconds on each load-generator run (300)
#   STALL        the generator gives up after this many seconds without an issuance (20)
#   PEBBLE_RETRIES  fresh Pebble starts after Pebble stalls (2)
#   READY_TIMEOUT  seconds a server may take to come up (30)
#   FLINTD_ARGS  extra flintd arguments (word-split)
#   KEEP=1       keep the work directory (server logs, JSON results)
#
# Exit status: 0 when both servers ran (even if some issuances failed: that is
# reported, not judged); 1 when a server failed to start or died, or the load
# generator failed; 2 on a usage / missing-program error. No timing is asserted.

# shellcheck disable=SC2317  # cleanup and start_* are called indirectly (trap, "start_$s")
set -uo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
PY=/usr/bin/python3
export PYTHONDONTWRITEBYTECODE=1
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy no_proxy NO_PROXY

FLINTD=${FLINTD:-$REPO/build/flintd}
COUNT=${COUNT:-200}
PROCS=${PROCS:-2}
THREADS=${THREADS:-8}
WARMUP=${WARMUP:-10}
ACCOUNT_PER_ORDER=${ACCOUNT_PER_ORDER:-1}
SERVERS=${SERVERS:-flintd pebble}
ROUNDS=${ROUNDS:-1}
PORT_BASE=${PORT_BASE:-23000}
DEADLINE=${DEADLINE:-300}
STALL=${STALL:-20}
PEBBLE_RETRIES=${PEBBLE_RETRIES:-2}
READY_TIMEOUT=${READY_TIMEOUT:-30}
FLINTD_ARGS=${FLINTD_ARGS:-}
KEEP=${KEEP:-0}

FLINTD_PORT=$PORT_BASE
HTTP01_PORT=$((PORT_BASE + 1))
PEBBLE_PORT=$((PORT_BASE + 10))
PEBBLE_MGMT_PORT=$((PORT_BASE + 11))
PEBBLE_TLS_PORT=$((PORT_BASE + 12))   # only a number in Pebble's config (tls-alpn-01 target)
CTS_DNS_PORT=$((PORT_BASE + 53))
CTS_MGMT_PORT=$((PORT_BASE + 55))

say() { echo "[bench $(date +%T)] $*" >&2; }
usage_fail() { echo "bench/issuance.sh: $*" >&2; exit 2; }

for v in COUNT PROCS THREADS WARMUP ROUNDS DEADLINE STALL PEBBLE_RETRIES READY_TIMEOUT PORT_BASE; do
	[[ ${!v} =~ ^[0-9]+$ ]] || usage_fail "$v must be a non-negative integer (got '${!v}')"
done
if [ "$COUNT" -lt 1 ] || [ "$PROCS" -lt 1 ] || [ "$THREADS" -lt 1 ] || [ "$ROUNDS" -lt 1 ]; then
	usage_fail "COUNT, PROCS, THREADS, ROUNDS must be >= 1"
fi
if [ "$PORT_BASE" -lt 1024 ] || [ $((PORT_BASE + 55)) -ge 32768 ]; then
	usage_fail "PORT_BASE must keep ports in 1024..32767"
fi
case $ACCOUNT_PER_ORDER in 0 | 1) ;; *) usage_fail "ACCOUNT_PER_ORDER must be 0 or 1" ;; esac
for s in $SERVERS; do
	case $s in flintd | pebble) ;; *) usage_fail "SERVERS: unknown server '$s' (flintd, pebble)" ;; esac
done
if [[ " $SERVERS " == *" flintd "* ]]; then
	[ -x "$FLINTD" ] || usage_fail "flintd binary '$FLINTD' not found or not executable.
Build it first:  cd $REPO && cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build build -j2
or point FLINTD at a binary."
fi
for p in pebble pebble-challtestsrv openssl curl ss timeout getconf; do
	command -v "$p" >/dev/null 2>&1 || usage_fail "required program '$p' not found (Debian: pebble, openssl, curl, iproute2, coreutils)"
done
[ -x "$PY" ] || usage_fail "$PY not found"
"$PY" -c 'import acme, josepy, OpenSSL, cryptography, requests' 2>/dev/null \
	|| usage_fail "$PY lacks python3-acme (apt-get install python3-acme)"
CLK_TCK=$(getconf CLK_TCK)

# ------------------------------------------------------------- process control
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cpu_ticks() { # pid -> utime+stime (clock ticks) of the whole process, all threads
	local s
	s=$(<"/proc/$1/stat") || return 1
	s=${s##*) } # after the comm field; $1 is then field 3 (state)
	# shellcheck disable=SC2086
	set -- $s
	echo $((${12} + ${13}))
}

peak_rss_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# ------------------------------------------------------------------------- setup
for p in "$FLINTD_PORT" "$HTTP01_PORT" "$PEBBLE_PORT" "$PEBBLE_MGMT_PORT" "$CTS_DNS_PORT" "$CTS_MGMT_PORT"; do
	port_busy "$p" && { say "port $p is in use (set PORT_BASE)"; exit 1; }
done
T=$(mktemp -d /tmp/flint-bench.XXXXXX) || exit 1
say "work dir $T; COUNT=$COUNT PROCS=$PROCS THREADS=$THREADS WARMUP=$WARMUP ACCOUNT_PER_ORDER=$ACCOUNT_PER_ORDER"

# Fake DNS for both servers: every name is A 127.0.0.1, no AAAA. Its own challenge
# responders are off; acme_load.py answers http-01 on HTTP01_PORT.
start_challtestsrv "$CTS_DNS_PORT" "$CTS_MGMT_PORT" "$T/cts.log" || exit 1

# ----------------------------------------------------------------------- servers
SRV_PID='' DIR_URL='' CA_BUNDLE=

start_flintd() {
	local d=$T/flintd-data-$ROUND
	mkdir -p "$d"
	# shellcheck disable=SC2086
	"$FLINTD" --listen "127.0.0.1:$FLINTD_PORT" --data-dir "$d" --http01-port "$HTTP01_PORT" \
		--dns-server "127.0.0.1:$CTS_DNS_PORT" --allow-loopback-targets \
		--rate-new-orders off --rate-certs-per-domain off --rate-new-accounts-per-ip off \
		--rate-failed-validations off $FLINTD_ARGS \
		>"$T/flintd-$ROUND.out" 2>"$T/flintd-$ROUND.log" </dev/null &
	SRV_PID=$!
	PIDS+=("$SRV_PID")
	DIR_URL="https://127.0.0.1:$FLINTD_PORT/directory"
	CA_BUNDLE=$d/root.pem
	wait_directory flintd "$SRV_PID" "$DIR_URL" "$CA_BUNDLE" "$T/flintd-$ROUND.log"
}

start_pebble() {
	start_pebble_at "$T/pebble" "$PEBBLE_PORT" "$PEBBLE_MGMT_PORT" "$PEBBLE_TLS_PORT" \
		"$HTTP01_PORT" "$CTS_DNS_PORT" "$T/pebble-$ROUND.log"
}

# run_load NAME COUNT OUT.json -> acme_load.py's status (124: killed by the time cap)
run_load() {
	local name=$1 n=$2 out=$3 p rc apo=()
	[ "$ACCOUNT_PER_ORDER" = 1 ] && apo=(--account-per-order)
	# timeout: its own process group; a TERM to it reaches the generator's workers too
	timeout -k 5 $((DEADLINE + 60)) "$PY" "$BENCH_DIR/acme_load.py" --dir "$DIR_URL" --ca "$CA_BUNDLE" \
		--http-port "$HTTP01_PORT" --count "$n" --procs "$PROCS" --threads "$THREADS" \
		--deadline "$DEADLINE" --stall "$STALL" --suffix "$name.bench.example.com" "${apo[@]}" --out "$out" \
		>>"$T/load-$name-$ROUND.log" 2>&1 </dev/null &
	p=$!
	PIDS+=("$p")
	wait "$p"
	rc=$?
	forget_pid "$p"
	return $rc
}

# dump_stacks NAME PID: where a stalled server's threads are. Pebble (Go) prints every
# goroutine to its log on SIGQUIT and exits; flintd gets a gdb backtrace if gdb exists.
dump_stacks() {
	local s=$1 pid=$2 i
	if [ "$s" = pebble ]; then
		kill -QUIT "$pid" 2>/dev/null
		for ((i = 0; i < 50; i++)); do alive "$pid" || break; sleep 0.1; done
		say "$s: stalled; goroutine dump at the end of its log (work dir kept)"
	elif command -v gdb >/dev/null 2>&1; then
		timeout 60 gdb -p "$pid" -batch -nx -ex 'thread apply all bt' >"$T/$s-$ROUND-stacks.txt" 2>&1 </dev/null
		say "$s: stalled; thread backtraces in $T/$s-$ROUND-stacks.txt (work dir kept)"
	fi
	KEEP=1
}

# bench_once NAME: start the server, warm up, measure, stop; the files of this
# attempt are tagged NAME-ROUND. Returns 0 (every certificate issued), 3 (some
# failed), 4 (the server stalled: stopped answering), 1 (the server did not start
# or died, or the load generator failed; FAILED says which). Sets M_CPU, M_RSS.
bench_once() {
	local s=$1 rc c0 c1 tag=$1-$ROUND
	M_CPU='' M_RSS=
	say "$s (round $ROUND): starting"
	if ! "start_$s"; then
		FAILED+=("$s did not start")
		[ -n "$SRV_PID" ] && stop_pid "$SRV_PID" 5
		SRV_PID=
		return 1
	fi
	say "$s: ready at $DIR_URL (pid $SRV_PID)"
	if [ "$WARMUP" -gt 0 ]; then
		run_load "$s" "$WARMUP" "$T/warmup-$tag.json"
		rc=$?
		if [ $rc -ne 0 ] && [ $rc -ne 3 ]; then
			say "$s: load generator failed in the warm-up (status $rc); $T/load-$tag.log:"
			tail -n 20 "$T/load-$tag.log" >&2
			FAILED+=("load generator against $s (warm-up, status $rc)")
			stop_pid "$SRV_PID" 15
			SRV_PID=
			return 1
		fi
		[ $rc -eq 3 ] && say "$s: WARNING: not every warm-up issuance succeeded"
	fi
	c0=$(cpu_ticks "$SRV_PID") || c0=
	say "$s: $COUNT issuances, concurrency $((PROCS * THREADS))"
	run_load "$s" "$COUNT" "$T/result-$tag.json"
	rc=$?
	c1=$(cpu_ticks "$SRV_PID") || c1=
	M_RSS=$(($(peak_rss_kb "$SRV_PID") / 1024))
	if [ -n "$c0" ] && [ -n "$c1" ]; then
		M_CPU=$(awk -v a="$c0" -v b="$c1" -v h="$CLK_TCK" 'BEGIN { printf "%.3f", (b - a) / h }')
	fi
	if ! alive "$SRV_PID"; then
		wait "$SRV_PID" 2>/dev/null
		say "$s: ERROR: the server died during the run (status $?)"
		forget_pid "$SRV_PID"
		FAILED+=("$s died during the run")
		SRV_PID=
		return 1
	fi
	if [ $rc -eq 3 ] && grep -q '"stalled": true' "$T/result-$tag.json" 2>/dev/null; then
		dump_stacks "$s" "$SRV_PID" # keeps the stacks for the bug report
		stop_pid "$SRV_PID" 5
		SRV_PID=
		return 4
	fi
	stop_pid "$SRV_PID" 15
	SRV_PID=
	case $rc in
	0 | 3) ;;
	*)
		say "$s: load generator failed (status $rc$([ $rc = 124 ] && echo ', time cap')); $T/load-$tag.log:"
		tail -n 20 "$T/load-$tag.log" >&2
		FAILED+=("load generator against $s (status $rc)")
		return 1
		;;
	esac
	[ -s "$T/result-$tag.json" ] || { FAILED+=("no result from the load generator against $s"); return 1; }
	if [ $rc -eq 3 ] && grep -q '"issued": 0,' "$T/result-$tag.json"; then
		say "$s: ERROR: not one certificate issued; $T/result-$tag.json:"
		grep -A5 error_samples "$T/result-$tag.json" >&2
		FAILED+=("$s issued no certificate")
		return 1
	fi
	[ $rc -eq 3 ] && say "$s: WARNING: not every issuance succeeded (see $T/result-$tag.json)"
	return $rc
}

# bench_server NAME: bench_once, and for Pebble a fresh start when it stalled
# (Pebble 2.4.0 sometimes wedges under this load; see bench/README.md). Writes
# T/meta-NAME-ROUND.json for the report.
bench_server() {
	local s=$1 n=0 rc st
	while :; do
		n=$((n + 1))
		bench_once "$s"
		rc=$?
		case $rc in
		0) st=ok ;;
		3) st=partial ;;
		4)
			st=stalled
			if [ "$s" = pebble ] && [ $n -le "$PEBBLE_RETRIES" ]; then
				say "$s: stalled (attempt $n); starting a fresh Pebble"
				mv "$T/pebble-$ROUND.log" "$T/pebble-$ROUND-stalled-$n.log"
				continue
			fi
			say "$s: WARNING: the server stopped answering (no issuance for ${STALL}s)"
			;;
		*) st=failed ;;
		esac
		printf '{"cpu_s": %s, "rss_mb": %s, "status": "%s", "attempts": %d}\n' \
			"${M_CPU:-null}" "${M_RSS:-null}" "$st" "$n" >"$T/meta-$s-$ROUND.json"
		return 0
	done
}

FAILED=()
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
ORDER=()
for ((ROUND = 1; ROUND <= ROUNDS; ROUND++)); do
	# alternate the order so that drift in the machine's load hits both servers alike
	# shellcheck disable=SC2206
	ORDER=($SERVERS)
	if [ $((ROUND % 2)) = 0 ]; then
		ORDER=()
		for s in $SERVERS; do ORDER=("$s" "${ORDER[@]}"); done
	fi
	for s in "${ORDER[@]}"; do bench_server "$s"; done
done

# ------------------------------------------------------------------------ report
echo
echo "ACME issuance benchmark: COUNT=$COUNT PROCS=$PROCS THREADS=$THREADS (concurrency $((PROCS * THREADS))," \
	"$([ "$ACCOUNT_PER_ORDER" = 1 ] && echo 'a new account per issuance' || echo 'one account per thread'))," \
	"WARMUP=$WARMUP, ROUNDS=$ROUNDS; $(nproc) cores, load average $LOAD0 at start, $(cut -d' ' -f1-3 /proc/loadavg) at end"
BENCH_T=$T BENCH_SERVERS=$SERVERS BENCH_ROUNDS=$ROUNDS "$PY" "$BENCH_DIR/report.py"

if [[ " $SERVERS " == *" flintd "* ]] && compgen -G "$T/flintd-*.log" >/dev/null; then
	# Server-side problems: request lines with a problem or a 5xx, and state lines with a problem.
	nreq=$(cat "$T"/flintd-*.log | grep -c '^req ')
	bad=$(cat "$T"/flintd-*.log | grep -E 'problem=[^-]|problem=-[^ ]|status=5[0-9][0-9]')
	if [ -n "$bad" ]; then
		echo "flintd log: $(printf '%s\n' "$bad" | wc -l) lines (of $nreq requests) carry a problem or a 5xx:"
		printf '%s\n' "$bad" | sed -E 's/ (account|order|challenge|identifier)=[^ ]*//g; s/ us=[0-9]+//; s#/[A-Za-z0-9_-]{12,}#/ID#g' |
			sort | uniq -c | sort -rn | head -n 15
		KEEP=1
	else
		echo "flintd log: $nreq requests, none with a problem or a 5xx"
	fi
fi

if [ ${#FAILED[@]} -gt 0 ]; then
	say "FAILED: $(printf '%s; ' "${FAILED[@]}")"
	exit 1
fi
exit 0
