#!/usr/bin/env bash
# bench/compare.sh: in one go on this machine, acme-load (the C load generator) against
# flintd+SQLite, flintd+PostgreSQL (1 node, then 2 nodes behind one URL) and Pebble,
# each freshly started, with the same load; then wrk on the directory and newNonce
# against flintd and Pebble. Prints one table (issuances/s, server CPU per
# issuance, the slowest resource's p50/p99, errors, peak RSS), the wrk figures and the
# flintd/Pebble ratios. A measurement, not a test: it asserts no timing.
#
# Usage: bench/compare.sh   (environment: see bench/README.md, "compare.sh"; `make bench`)

# shellcheck disable=SC2317  # cleanup and start_* are called indirectly (trap, "start_$s")
set -uo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # BENCH_DIR REPO FLINTD ACME_LOAD, process control
CONFIGS=${CONFIGS:-flintd-sqlite flintd-pg1 flintd-pg2 pebble}
PEBBLE_RETRY=${PEBBLE_RETRY:-1}
ROUNDS=${ROUNDS:-1}        # the configurations this many times over, alternated (medians reported)
DURATION=${DURATION:-30}   # seconds of acme-load per configuration (0: only COUNT limits)
COUNT=${COUNT:-0}          # issuances per configuration (0: only DURATION limits)
CLIENTS=${CLIENTS:-16}
THREADS=${THREADS:-2}
ACCOUNT_PER_ORDER=${ACCOUNT_PER_ORDER:-0}
MAX_RETRY_AFTER_MS=${MAX_RETRY_AFTER_MS:-0} # 0: poll every POLL_MS (Pebble sends no Retry-After)
POLL_MS=${POLL_MS:-50}
BURST=${BURST:-1000}      # flintd+SQLite once more with this many clients at once (0: not)
PEAK=${PEAK:-128}         # flintd+SQLite once more with this many clients, for throughput (0: not)
PEAK_DURATION=${PEAK_DURATION:-20}
WRK=${WRK:-1}                         # 0: no wrk runs
WRK_DURATION=${WRK_DURATION:-10}      # seconds per wrk run (4 runs)
WRK_CONNECTIONS=${WRK_CONNECTIONS:-32}
WRK_THREADS=${WRK_THREADS:-2}
PORT_BASE=${PORT_BASE:-24200}
READY_TIMEOUT=${READY_TIMEOUT:-30}
FLINTD_ARGS=${FLINTD_ARGS:-}
PG_BIN=${PG_BIN:-}
KEEP=${KEEP:-0}

FLINTD_PORT=$PORT_BASE              # node 1 (and the single node's URL)
HTTP01_PORT=$((PORT_BASE + 1))      # acme-load's http-01 responder
FLINTD2_PORT=$((PORT_BASE + 2))     # node 2
CLUSTER_PORT=$((PORT_BASE + 4))     # only in the 2-node base URL: nothing listens there
PEBBLE_PORT=$((PORT_BASE + 10))
PEBBLE_MGMT_PORT=$((PORT_BASE + 11))
PEBBLE_TLS_PORT=$((PORT_BASE + 12)) # only a number in Pebble's config
PG_PORT=$((PORT_BASE + 40))         # names PostgreSQL's unix socket; no TCP
CTS_DNS_PORT=$((PORT_BASE + 53))
CTS_MGMT_PORT=$((PORT_BASE + 55))

say() { echo "[compare $(date +%T)] $*" >&2; }
usage_fail() { echo "bench/compare.sh: $*" >&2; exit 2; }

for v in DURATION COUNT CLIENTS BURST PEAK PEAK_DURATION PEBBLE_RETRY ROUNDS THREADS MAX_RETRY_AFTER_MS POLL_MS WRK WRK_DURATION \
	WRK_CONNECTIONS WRK_THREADS PORT_BASE READY_TIMEOUT; do
	[[ ${!v} =~ ^[0-9]+$ ]] || usage_fail "$v must be a non-negative integer (got '${!v}')"
done
[ "$COUNT" -gt 0 ] || [ "$DURATION" -gt 0 ] || usage_fail "set COUNT or DURATION (or both)"
ROUNDS=$((10#$ROUNDS)) # "08" is 8, not bad octal
if [ "$ROUNDS" -lt 1 ] || [ "$ROUNDS" -gt 20 ]; then usage_fail "ROUNDS must be 1-20"; fi
[ "$DURATION" -le 600 ] || usage_fail "DURATION is capped at 600 s"
[ "$PEAK_DURATION" -le 600 ] || usage_fail "PEAK_DURATION is capped at 600 s"
if [ "$WRK_DURATION" -lt 1 ] || [ "$WRK_DURATION" -gt 600 ]; then usage_fail "WRK_DURATION must be 1-600"; fi
if [ "$WRK_THREADS" -lt 1 ] || [ "$WRK_CONNECTIONS" -lt "$WRK_THREADS" ]; then
	usage_fail "WRK_CONNECTIONS must be at least WRK_THREADS (and WRK_THREADS at least 1)"
fi
case $ACCOUNT_PER_ORDER in 0 | 1) ;; *) usage_fail "ACCOUNT_PER_ORDER must be 0 or 1" ;; esac
[ $((PORT_BASE + 55)) -le 65535 ] || usage_fail "PORT_BASE too high"
NEED_PG=0 NEED_FLINTD=0
for c in $CONFIGS; do
	case $c in
	flintd-sqlite) NEED_FLINTD=1 ;;
	flintd-pg1 | flintd-pg2) NEED_FLINTD=1 NEED_PG=1 ;;
	pebble) progs_pebble=pebble ;;
	*) usage_fail "CONFIGS: unknown configuration '$c' (flintd-sqlite flintd-pg1 flintd-pg2 pebble)" ;;
	esac
done
[ -x "$ACME_LOAD" ] || usage_fail "acme-load '$ACME_LOAD' not found; build it (make all), or set ACME_LOAD"
[ "$NEED_FLINTD" = 0 ] || [ -x "$FLINTD" ] || usage_fail "flintd '$FLINTD' not found (make all, or set FLINTD)"
progs="pebble-challtestsrv openssl curl ss timeout getconf awk ${progs_pebble:-}"
[ "$NEED_PG" = 1 ] && progs="$progs pgrep psql"
[ "$WRK" = 1 ] && progs="$progs wrk"
for p in $progs; do
	command -v "$p" >/dev/null 2>&1 ||
		usage_fail "required program '$p' not found (scripts/install-deps.sh bench installs what the benchmarks need)"
done
CLK_TCK=$(getconf CLK_TCK)

# ------------------------------------------------------------- process control

# cpu_snap PID... -> "pid:ticks" words; cpu_delta_ms SNAP0 SNAP1 -> the CPU (ms) the
# processes of SNAP1 used since SNAP0 (a process absent from SNAP0 counts from 0)
cpu_snap() {
	local p t
	for p in "$@"; do t=$(cpu_ticks "$p") && printf '%s:%s ' "$p" "$t"; done
}
cpu_delta_ms() {
	awk -v a="$1" -v b="$2" -v h="$CLK_TCK" 'BEGIN {
		n = split(a, x, " "); for (i = 1; i <= n; i++) { split(x[i], kv, ":"); t0[kv[1]] = kv[2] }
		n = split(b, y, " "); for (i = 1; i <= n; i++) { split(y[i], kv, ":"); s += kv[2] - (kv[1] in t0 ? t0[kv[1]] : 0) }
		printf "%.0f\n", s * 1000 / h }'
}

# ------------------------------------------------------------------------- setup
for p in "$FLINTD_PORT" "$HTTP01_PORT" "$FLINTD2_PORT" "$CLUSTER_PORT" "$PEBBLE_PORT" \
	"$PEBBLE_MGMT_PORT" "$CTS_DNS_PORT" "$CTS_MGMT_PORT"; do
	port_busy "$p" && { say "port $p is in use (set PORT_BASE)"; exit 1; }
done
T=$(mktemp -d /tmp/flint-compare.XXXXXX) || exit 1
chmod 0755 "$T" # PostgreSQL's user must reach $T/pg
start_challtestsrv "$CTS_DNS_PORT" "$CTS_MGMT_PORT" "$T/cts.log" || exit 1
CTS_PID=${PIDS[-1]}

# A throwaway PostgreSQL cluster (initdb in $T/pg, unix socket only), one empty
# database per flintd+PostgreSQL configuration. Like tests/unit/pg_cluster.sh, as an
# unprivileged system user when run as root. synchronous_commit=off: commits do not
# wait for the WAL flush, as SQLite's WAL with synchronous=NORMAL (flintd's) does not.
PG_PID='' PG_DIR='' PG_ERR=''
start_pg() {
	local bindir=$PG_BIN d i as=()
	if [ -z "$bindir" ]; then
		for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r); do
			[ -x "$d/initdb" ] && { bindir=$d; break; }
		done
	fi
	if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ] || [ ! -x "$bindir/postgres" ]; then
		PG_ERR="PostgreSQL server binaries not found (install postgresql, or set PG_BIN)"
		return 1
	fi
	PG_DIR=$T/pg
	mkdir -p "$PG_DIR"
	if [ "$(id -u)" = 0 ]; then
		if ! id flinttest >/dev/null 2>&1; then
			useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin flinttest ||
				{ PG_ERR="useradd flinttest failed"; return 1; }
		fi
		chown flinttest "$PG_DIR"
		as=(setpriv --reuid=flinttest --regid="$(id -g flinttest)" --clear-groups)
	fi
	if ! (cd "$PG_DIR" && "${as[@]}" "$bindir/initdb" -D "$PG_DIR/data" -U flint --auth=trust \
		--no-sync -E UTF8 --locale=C) >"$PG_DIR/initdb.log" 2>&1; then
		PG_ERR="initdb failed (see $PG_DIR/initdb.log)"
		tail -n 5 "$PG_DIR/initdb.log" >&2
		return 1
	fi
	(cd "$PG_DIR" && exec "${as[@]}" "$bindir/postgres" -D "$PG_DIR/data" -k "$PG_DIR" -p "$PG_PORT" \
		-c listen_addresses='' -c synchronous_commit=off) >"$PG_DIR/postgres.log" 2>&1 </dev/null &
	PG_PID=$!
	PIDS+=("$PG_PID")
	for ((i = 0; i < READY_TIMEOUT * 5; i++)); do
		alive "$PG_PID" || break
		if timeout 5 psql -X -q -h "$PG_DIR" -p "$PG_PORT" -U flint -d postgres -c 'SELECT 1' >/dev/null 2>&1; then
			for d in flint_pg1 flint_pg2; do
				timeout 30 psql -X -q -h "$PG_DIR" -p "$PG_PORT" -U flint -d postgres \
					-c "CREATE DATABASE $d" >/dev/null || { PG_ERR="CREATE DATABASE $d failed"; return 1; }
			done
			return 0
		fi
		sleep 0.2
	done
	PG_ERR="postgres did not start (see $PG_DIR/postgres.log)"
	tail -n 10 "$PG_DIR/postgres.log" >&2
	return 1
}
if [ "$NEED_PG" = 1 ]; then
	say "postgresql: starting"
	start_pg || say "PostgreSQL: $PG_ERR; the flintd+PostgreSQL configurations will not run"
	PG_VERSION=$(psql --version 2>/dev/null | awk '{ print $3 }')
fi

# ----------------------------------------------------------------- the servers
SRV_PIDS=() CONNECT=() DIR_URL='' CA_BUNDLE='' SRV_PID='' START_ERR=''

# start_flintd_nodes CONFIG N DB: N flintd nodes sharing one data directory and one
# database (sqlite: the data directory's; pg1, pg2: that PostgreSQL database). Two
# nodes share the base URL https://localhost:CLUSTER_PORT and listen on their own
# ports; acme-load reaches them with --connect-to, round-robin.
start_flintd_nodes() {
	local cfg=$1 n=$2 db=$3 data=$T/$1-data base i pid ports=("$FLINTD_PORT" "$FLINTD2_PORT") dbargs=()
	mkdir -p "$data"
	if [ "$db" != sqlite ]; then
		if [ -z "$PG_PID" ] || [ -n "$PG_ERR" ]; then
			say "$cfg: PostgreSQL is not running: $PG_ERR"
			START_ERR="not run: no PostgreSQL"
			return 1
		fi
		dbargs=(--database "postgresql://flint@/flint_$db?host=$PG_DIR&port=$PG_PORT")
	fi
	base=https://127.0.0.1:$FLINTD_PORT
	[ "$n" -gt 1 ] && base=https://localhost:$CLUSTER_PORT
	DIR_URL=$base/directory
	CA_BUNDLE=$data/root.pem
	for ((i = 0; i < n; i++)); do
		# every simulated client comes from 127.0.0.1: the per-address connection cap
		# (a safe default of 256 per event loop) is raised above CLIENTS
		# shellcheck disable=SC2086
		"$FLINTD" --listen "127.0.0.1:${ports[i]}" --data-dir "$data" --base-url "$base" "${dbargs[@]}" \
			--http01-port "$HTTP01_PORT" --dns-server "127.0.0.1:$CTS_DNS_PORT" --allow-loopback-targets \
			--rate-new-orders off --rate-certs-per-domain off --rate-new-accounts-per-ip off \
			--rate-failed-validations off --max-connections-per-ip "$((CLIENTS + 64))" $FLINTD_ARGS \
			>"$T/$cfg-node$((i + 1)).out" 2>"$T/$cfg-node$((i + 1)).log" </dev/null &
		pid=$!
		PIDS+=("$pid")
		SRV_PIDS+=("$pid")
		# one at a time: the first node creates the CA in the data directory
		wait_directory "$cfg node $((i + 1))" "$pid" "$DIR_URL" "$CA_BUNDLE" \
			"$T/$cfg-node$((i + 1)).log" "127.0.0.1:${ports[i]}" || return 1
		[ "$n" -gt 1 ] && CONNECT+=(--connect-to "127.0.0.1:${ports[i]}")
	done
	return 0
}
start_flintd-sqlite() { start_flintd_nodes flintd-sqlite 1 sqlite; }
start_flintd-pg1() { start_flintd_nodes flintd-pg1 1 pg1; }
start_flintd-pg2() { start_flintd_nodes flintd-pg2 2 pg2; }
start_pebble() {
	start_pebble_at "$T/pebble" "$PEBBLE_PORT" "$PEBBLE_MGMT_PORT" "$PEBBLE_TLS_PORT" \
		"$HTTP01_PORT" "$CTS_DNS_PORT" "$T/pebble.log"
	local rc=$?
	[ -n "$SRV_PID" ] && SRV_PIDS=("$SRV_PID")
	return "$rc"
}

stop_servers() {
	local i
	for ((i = ${#SRV_PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${SRV_PIDS[i]}" 15; done
	SRV_PIDS=() CONNECT=() SRV_PID=''
}

# ---------------------------------------------------------------------- wrk
# newNonce is fetched with GET (RFC 8555 §7.2: 204, a fresh Replay-Nonce, the same
# work as HEAD): Debian's wrk 4.1 never completes a reply to HEAD that carries no
# Content-Length (it waits for a body; wg/wrk#198), which is what flintd and Pebble send.
declare -A W_RPS W_NOTE
# run_wrk CONFIG KIND URL: KIND dir or nonce; GET over keep-alive HTTPS
run_wrk() {
	local cfg=$1 kind=$2 url=$3 out=$T/wrk-$1-$2.txt args rps non2xx sockerr
	args=(-t "$WRK_THREADS" -c "$WRK_CONNECTIONS" -d "${WRK_DURATION}s")
	say "$cfg: wrk ${args[*]} $url"
	timeout -k 5 $((WRK_DURATION + 30)) wrk "${args[@]}" "$url" >"$out" 2>&1 </dev/null
	rps=$(awk '$1 == "Requests/sec:" { print $2 }' "$out")
	[ "$rps" = 0.00 ] && rps=
	non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$out")
	sockerr=$(awk -F'Socket errors: ' 'NF > 1 { print $2 }' "$out")
	W_RPS[$cfg.$kind]=${rps:-n/a}
	[ -z "$rps" ] && W_NOTE[$cfg.$kind]="wrk failed: $(tail -n 1 "$out")"
	[ -n "$non2xx" ] && W_NOTE[$cfg.$kind]="${W_NOTE[$cfg.$kind]:+${W_NOTE[$cfg.$kind]}; }$non2xx non-2xx"
	[ -n "$sockerr" ] && W_NOTE[$cfg.$kind]="${W_NOTE[$cfg.$kind]:+${W_NOTE[$cfg.$kind]}; }socket errors: $sockerr"
	return 0
}

# ------------------------------------------------------------------- one run
declare -A R_NODES R_ISSUED R_RATE R_CPU R_DB R_GEN R_DNS R_SLOW R_P50 R_P99 R_ERR R_RSS R_STATUS
declare -A ROUND_CPU # "config round" -> cpu ms per issuance of that round (ROUNDS > 1)
ROUND=1
FAILED=()

# run_config CONFIG [LABEL]: one acme-load run (CLIENTS, COUNT, DURATION) against a freshly
# started CONFIG; the results go under LABEL (default CONFIG); wrk only without a LABEL
run_config() {
	local cfg=${2:-$1} srv=$1 r=$T/result-${2:-$1}-$ROUND.txt rc args c0 c1 d0 d1 p0 p1 rss=0 kb p slow nonce_url
	# nothing from an earlier run of this configuration (a round, Pebble's first try) stays
	unset "R_NODES[$cfg]" "R_ISSUED[$cfg]" "R_RATE[$cfg]" "R_CPU[$cfg]" "R_DB[$cfg]" "R_GEN[$cfg]" \
		"R_DNS[$cfg]" "R_SLOW[$cfg]" "R_P50[$cfg]" "R_P99[$cfg]" "R_ERR[$cfg]" "R_RSS[$cfg]"
	R_STATUS[$cfg]=ok
	START_ERR=
	say "$cfg: starting"
	if ! "start_$srv"; then
		R_STATUS[$cfg]=${START_ERR:-did not start}
		FAILED+=("$cfg did not start")
		stop_servers
		return 1
	fi
	R_NODES[$cfg]=${#SRV_PIDS[@]}
	args=(-c "$CLIENTS" -j "$THREADS" -n "$COUNT" -t "$DURATION" --http01-port "$HTTP01_PORT"
		--ca-bundle "$CA_BUNDLE" --domain-suffix "$cfg.load.example.com" --poll-ms "$POLL_MS"
		--max-retry-after-ms "$MAX_RETRY_AFTER_MS" "${CONNECT[@]}")
	[ "$ACCOUNT_PER_ORDER" = 1 ] && args+=(--account-per-order)
	say "$cfg: acme-load ${args[*]} $DIR_URL"
	c0=$(cpu_snap "${SRV_PIDS[@]}")
	d0=$(cpu_snap "$CTS_PID")
	# shellcheck disable=SC2046 # one word per process
	[ "$cfg" != "${cfg#flintd-pg}" ] && p0=$(cpu_snap "$PG_PID" $(pgrep -P "$PG_PID"))
	# the generator bounds itself; timeout is the backstop
	timeout -k 5 $((DURATION > 0 ? DURATION + 90 : 900)) "$ACME_LOAD" "${args[@]}" "$DIR_URL" \
		>"$r" 2>"$T/load-$cfg.log" </dev/null
	rc=$?
	c1=$(cpu_snap "${SRV_PIDS[@]}")
	d1=$(cpu_snap "$CTS_PID")
	# shellcheck disable=SC2046
	[ "$cfg" != "${cfg#flintd-pg}" ] && p1=$(cpu_snap "$PG_PID" $(pgrep -P "$PG_PID"))
	for p in "${SRV_PIDS[@]}"; do
		if kb=$(vm_hwm_kb "$p") && alive "$p"; then
			rss=$((rss + kb))
		else
			R_STATUS[$cfg]="a server died"
			FAILED+=("$cfg: server process $p died during the run")
		fi
	done
	R_RSS[$cfg]=$(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }')
	case $rc in
	0) ;;
	3) say "$cfg: WARNING: some issuances failed or errors were seen (see $r)" ;;
	*)
		say "$cfg: acme-load failed (status $rc); the end of its log:"
		tail -n 10 "$T/load-$cfg.log" >&2
		R_STATUS[$cfg]="acme-load status $rc"
		FAILED+=("acme-load against $cfg (status $rc)")
		;;
	esac
	R_ISSUED[$cfg]=$(kv "$r" issuances)
	R_RATE[$cfg]=$(kv "$r" issuances_per_s)
	R_ERR[$cfg]=$(kv "$r" errors)
	R_CPU[$cfg]=$(awk -v ms="$(cpu_delta_ms "$c0" "$c1")" -v n="${R_ISSUED[$cfg]:-0}" \
		'BEGIN { if (n > 0) printf "%.2f", ms / n; else print "n/a" }')
	R_DB[$cfg]=-
	R_GEN[$cfg]=$(kv "$r" cpu_ms_per_issuance)
	R_DNS[$cfg]=$(awk -v ms="$(cpu_delta_ms "$d0" "$d1")" -v n="${R_ISSUED[$cfg]:-0}" \
		'BEGIN { if (n > 0) printf "%.2f", ms / n; else print "n/a" }')
	[ "$cfg" != "${cfg#flintd-pg}" ] && R_DB[$cfg]=$(awk -v ms="$(cpu_delta_ms "$p0" "$p1")" \
		-v n="${R_ISSUED[$cfg]:-0}" 'BEGIN { if (n > 0) printf "%.2f", ms / n; else print "n/a" }')
	# the slowest resource: the highest p99 of one request (not the whole issuance), among
	# those requested at least once per 10 issuances (not the first newNonce of each client)
	slow=$(awk -v n="${R_ISSUED[$cfg]:-0}" '$1 ~ /^latency_ms\..*\.count$/ { split($1, a, "."); cnt[a[2]] = $2 }
		$1 ~ /^latency_ms\..*\.p99$/ { split($1, a, ".");
		if (a[2] != "issuance" && cnt[a[2]] > 0 && cnt[a[2]] * 10 >= n && (res == "" || $2 + 0 > best)) {
			best = $2 + 0; res = a[2] } }
		END { print res }' "$r" 2>/dev/null)
	R_SLOW[$cfg]=${slow:--}
	R_P50[$cfg]=$(kv "$r" "latency_ms.$slow.p50")
	R_P99[$cfg]=$(kv "$r" "latency_ms.$slow.p99")
	if [ "$WRK" = 1 ] && [ "$ROUND" = 1 ] && [ "$cfg" = "$srv" ] &&
		{ [ "$cfg" = flintd-sqlite ] || [ "$cfg" = pebble ]; } &&
		[ "${R_STATUS[$cfg]}" = ok ]; then
		nonce_url=$(curl -sf --max-time 5 --cacert "$CA_BUNDLE" "$DIR_URL" |
			awk -F'"' '{ for (i = 1; i < NF; i++) if ($i == "newNonce") { print $(i + 2); exit } }')
		run_wrk "$cfg" dir "$DIR_URL"
		if [ -n "$nonce_url" ]; then
			run_wrk "$cfg" nonce "$nonce_url"
		else
			W_RPS[$cfg.nonce]=n/a W_NOTE[$cfg.nonce]="no newNonce in the directory"
		fi
	fi
	stop_servers
	return 0
}

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
T0=$(date +%s)
read -ra CONFIG_LIST <<<"$CONFIGS"
for ((ROUND = 1; ROUND <= ROUNDS; ROUND++)); do
	# each round starts one configuration further on: none always runs first or last
	k=$(((ROUND - 1) % ${#CONFIG_LIST[@]}))
	round_configs=("${CONFIG_LIST[@]:k}" "${CONFIG_LIST[@]:0:k}")
	[ "$ROUNDS" -gt 1 ] && say "round $ROUND of $ROUNDS: ${round_configs[*]}"
	for c in "${round_configs[@]}"; do
		n_failed=${#FAILED[@]}
		run_config "$c"
		# Pebble wedges under load now and then (2 of 9 runs when the scale issue
		# was filed; requests time out and nothing is issued): its figures then
		# come from a second run on a fresh Pebble, and its status says so.
		# flintd's failures are never retried.
		if [ "$c" = pebble ] && [ "${R_STATUS[$c]}" != ok ] && [ "$PEBBLE_RETRY" = 1 ]; then
			first=${R_STATUS[$c]}
			say "pebble: $first; once more on a fresh Pebble (PEBBLE_RETRY=0: no second run)"
			FAILED=("${FAILED[@]:0:n_failed}")
			run_config "$c"
			R_STATUS[$c]="${R_STATUS[$c]} (second run; first: $first)"
		fi
		# a round counts only when its run was measured whole
		ROUND_CPU["$c $ROUND"]=n/a
		[ "${R_STATUS[$c]%% *}" = ok ] && ROUND_CPU["$c $ROUND"]=${R_CPU[$c]:-n/a}
	done
done
ROUND=1
# the burst: BURST clients start at once (each its TLS handshake, account, order), 3 x
# BURST issuances; peak RSS is what it measures (Pebble 2.4.0 hangs well below this)
BURST_LABEL=
if [ "$BURST" -gt 0 ] && [[ " $CONFIGS " == *" flintd-sqlite "* ]]; then
	BURST_LABEL=flintd-sqlite-$BURST
	saved=("$CLIENTS" "$COUNT" "$DURATION")
	CLIENTS=$BURST COUNT=$((BURST * 3)) DURATION=0
	run_config flintd-sqlite "$BURST_LABEL"
	CLIENTS=${saved[0]} COUNT=${saved[1]} DURATION=${saved[2]}
fi
# the peak: enough clients to keep both cores busy (CLIENTS leaves them half idle), for
# the issuances a second the machine gives, the generator and the fake DNS included
PEAK_LABEL=
if [ "$PEAK" -gt 0 ] && [ "$PEAK_DURATION" -gt 0 ] && [[ " $CONFIGS " == *" flintd-sqlite "* ]]; then
	PEAK_LABEL=flintd-sqlite-c$PEAK
	saved=("$CLIENTS" "$COUNT" "$DURATION")
	CLIENTS=$PEAK COUNT=0 DURATION=$PEAK_DURATION
	run_config flintd-sqlite "$PEAK_LABEL"
	CLIENTS=${saved[0]} COUNT=${saved[1]} DURATION=${saved[2]}
fi

# ------------------------------------------------------------------------ report
ratio() { # A B -> A/B with 2 decimals, n/a when either is missing or B is 0
	awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b + 0 > 0) printf "%.2f", a / b; else print "n/a" }'
}
echo "bench/compare: acme-load CLIENTS=$CLIENTS THREADS=$THREADS DURATION=$DURATION COUNT=$COUNT" \
	"ACCOUNT_PER_ORDER=$ACCOUNT_PER_ORDER MAX_RETRY_AFTER_MS=$MAX_RETRY_AFTER_MS POLL_MS=$POLL_MS;" \
	"wrk ${WRK_DURATION}s x $WRK_CONNECTIONS connections, $WRK_THREADS threads;" \
	"$(nproc) cores, load average $LOAD0 at start, $(cut -d' ' -f1-3 /proc/loadavg) at end, $(($(date +%s) - T0)) s"
echo "$("$FLINTD" --version 2>/dev/null | head -n 1); Pebble $(dpkg-query -W -f='${Version}' pebble 2>/dev/null);" \
	"PostgreSQL ${PG_VERSION:-n/a} (synchronous_commit=off); SQLite WAL, synchronous=NORMAL"
echo
printf '%-20s %5s %8s %8s %8s %8s %8s %8s  %-12s %8s %8s %7s %9s  %s\n' config nodes issued 'iss/s' \
	'cpu ms' 'db ms' 'gen ms' 'dns ms' slowest 'p50 ms' 'p99 ms' errors 'RSS MiB' status
for c in $CONFIGS $BURST_LABEL $PEAK_LABEL; do
	printf '%-20s %5s %8s %8s %8s %8s %8s %8s  %-12s %8s %8s %7s %9s  %s\n' "$c" "${R_NODES[$c]:--}" \
		"${R_ISSUED[$c]:--}" "${R_RATE[$c]:--}" "${R_CPU[$c]:--}" "${R_DB[$c]:--}" "${R_GEN[$c]:--}" \
		"${R_DNS[$c]:--}" "${R_SLOW[$c]:--}" "${R_P50[$c]:--}" "${R_P99[$c]:--}" "${R_ERR[$c]:--}" \
		"${R_RSS[$c]:--}" "${R_STATUS[$c]}"
done
echo "(cpu ms: the server processes' user+system CPU per issued certificate, summed over the nodes;"
echo " db ms: the same for the PostgreSQL processes; gen ms, dns ms: the same for acme-load and"
echo " for the fake DNS server, which share the cores; slowest: the request with the highest p99"
echo " among those made at least once per 10 issuances;"
echo " RSS: peak resident set (VmHWM) of the server processes at the end of the run, summed over"
echo " the nodes, PostgreSQL's not included)"
[ -n "$BURST_LABEL" ] && echo "($BURST_LABEL: flintd+SQLite again, $BURST clients starting at once, $((BURST * 3)) issuances)"
[ -n "$PEAK_LABEL" ] && echo "($PEAK_LABEL: flintd+SQLite again, $PEAK clients for ${PEAK_DURATION} s: the issuances a second" \
	"of the two cores, shared with acme-load and the fake DNS)"
if [ "$WRK" = 1 ]; then
	echo
	printf '%-14s %14s %14s  %s\n' server 'directory r/s' 'newNonce r/s' notes
	for c in flintd-sqlite pebble; do
		[[ " $CONFIGS " == *" $c "* ]] || continue
		printf '%-14s %14s %14s  %s\n' "$c" "${W_RPS[$c.dir]:-n/a}" "${W_RPS[$c.nonce]:-n/a}" \
			"$(printf '%s' "${W_NOTE[$c.dir]:+directory: ${W_NOTE[$c.dir]} }${W_NOTE[$c.nonce]:+newNonce: ${W_NOTE[$c.nonce]}}")"
	done
	echo "(wrk over keep-alive HTTPS: GET directory, GET newNonce (204 + Replay-Nonce; wrk 4.1 cannot"
	echo " complete HEAD replies); flintd with SQLite, after its acme-load run)"
fi
if [[ " $CONFIGS " == *" pebble "* ]]; then
	echo
	echo "flintd/Pebble ratios (iss/s, r/s: above 1 = flintd faster; cpu ms, RSS: below 1 = flintd cheaper)"
	printf '%-14s %8s %8s %9s\n' config 'iss/s' 'cpu ms' 'RSS'
	for c in $CONFIGS; do
		[ "$c" = pebble ] && continue
		printf '%-14s %8s %8s %9s\n' "$c" "$(ratio "${R_RATE[$c]:-}" "${R_RATE[pebble]:-}")" \
			"$(ratio "${R_CPU[$c]:-}" "${R_CPU[pebble]:-}")" "$(ratio "${R_RSS[$c]:-}" "${R_RSS[pebble]:-}")"
	done
	if [ "$WRK" = 1 ] && [[ " $CONFIGS " == *" flintd-sqlite "* ]]; then
		echo "directory r/s $(ratio "${W_RPS[flintd-sqlite.dir]:-}" "${W_RPS[pebble.dir]:-}")," \
			"newNonce r/s $(ratio "${W_RPS[flintd-sqlite.nonce]:-}" "${W_RPS[pebble.nonce]:-}")"
	fi
fi
# ROUNDS > 1: each configuration's CPU per issuance in every round, and the
# ratio to Pebble's of the same round; the median of each (the table above is
# the last round's)
# median: of the numbers on stdin, with how many of ROUNDS there were ("1.23 (2/3)")
median() { tr ' ' '\n' | grep -E '^[0-9.]+$' | sort -n | awk -v all="$ROUNDS" '{ v[NR] = $1 }
	END { if (NR == 0) { print "n/a"; exit } if (NR % 2) m = v[(NR + 1) / 2]; else m = (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.2f", m; if (NR < all) printf " (%d/%d)", NR, all }'; }
if [ "$ROUNDS" -gt 1 ]; then
	echo
	echo "cpu ms per issuance in each of $ROUNDS rounds (the table above: the last), and the median;"
	echo "with Pebble, each round's ratio to Pebble's of the same round, and their median (n/a: a"
	echo "round not measured whole, left out of the median, which then says how many it counts)"
	for c in $CONFIGS; do
		cpus='' ratios=''
		for ((r = 1; r <= ROUNDS; r++)); do
			cpus+="${ROUND_CPU["$c $r"]:-n/a} "
			[[ " $CONFIGS " == *" pebble "* ]] && [ "$c" != pebble ] &&
				ratios+="$(ratio "${ROUND_CPU["$c $r"]:-}" "${ROUND_CPU["pebble $r"]:-}") "
		done
		printf '%-14s cpu ms %s median %s' "$c" "$cpus" "$(median <<<"$cpus")"
		[ -n "$ratios" ] && printf '   ratio %s median %s' "$ratios" "$(median <<<"$ratios")"
		echo
	done
fi
if [ ${#FAILED[@]} -gt 0 ]; then
	say "FAILED: $(printf '%s; ' "${FAILED[@]}")"
	exit 1
fi
exit 0
