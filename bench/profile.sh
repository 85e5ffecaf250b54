#!/usr/bin/env bash
# bench/profile.sh: where flintd spends its CPU under an issuance load. Starts a
# fresh flintd (SQLite), runs acme-load against it for DURATION seconds while
# `perf record --call-graph dwarf` samples flintd, then prints the server CPU per
# issuance and the inclusive share of on-CPU samples of the functions that matter
# (each counted once per sample, so nested ones overlap). A measurement, not a test.
#
# Usage: bench/profile.sh   (environment: DURATION=15 CLIENTS=16 FLINTD_ARGS=...
#        FLINTD, ACME_LOAD, PORT_BASE=24600, KEEP=1 keeps perf.data)
# shellcheck disable=SC2317  # cleanup is called by the trap
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # BENCH_DIR REPO FLINTD ACME_LOAD, process control
DURATION=${DURATION:-15}
CLIENTS=${CLIENTS:-16}
FLINTD_ARGS=${FLINTD_ARGS:-}
PORT_BASE=${PORT_BASE:-24600}
KEEP=${KEEP:-0}
PORT=$PORT_BASE HTTP01=$((PORT_BASE + 1)) DNS=$((PORT_BASE + 53)) MGMT=$((PORT_BASE + 55))

say() { echo "[profile $(date +%T)] $*" >&2; }
for p in perf python3 pebble-challtestsrv curl; do
	command -v "$p" >/dev/null || { say "required program '$p' not found"; exit 2; }
done
[ -x "$FLINTD" ] && [ -x "$ACME_LOAD" ] || { say "build flintd and acme-load first (make)"; exit 2; }
[[ $DURATION =~ ^[0-9]+$ && $CLIENTS =~ ^[0-9]+$ ]] || { say "DURATION and CLIENTS are numbers"; exit 2; }
T=$(mktemp -d /tmp/flint-profile.XXXXXX) || exit 1

start_challtestsrv "$DNS" "$MGMT" "$T/cts.log" || exit 1
# shellcheck disable=SC2086
"$FLINTD" --listen "127.0.0.1:$PORT" --data-dir "$T/data" --http01-port "$HTTP01" \
	--dns-server "127.0.0.1:$DNS" --allow-loopback-targets --rate-new-orders off \
	--rate-certs-per-domain off --rate-failed-validations off --rate-new-accounts-per-ip off \
	$FLINTD_ARGS >"$T/flintd.out" 2>"$T/flintd.log" </dev/null &
SRV=$!
PIDS+=("$SRV")
wait_directory flintd "$SRV" "https://127.0.0.1:$PORT/directory" "$T/data/root.pem" "$T/flintd.log" || exit 1

perf record -q -F 299 --call-graph dwarf,16384 -p "$SRV" -o "$T/perf.data" -- sleep "$DURATION" \
	>"$T/perf.log" 2>&1 &
PERF=$!
t0=$(cpu_ticks "$SRV")
thread_ticks "$SRV" >"$T/threads0.txt"
"$ACME_LOAD" -c "$CLIENTS" -t "$DURATION" --max-retry-after-ms 0 --http01-port "$HTTP01" \
	--ca-bundle "$T/data/root.pem" "https://127.0.0.1:$PORT/directory" >"$T/load.txt" 2>&1
t1=$(cpu_ticks "$SRV")
thread_ticks "$SRV" >"$T/threads1.txt"
wait "$PERF"
issued=$(kv "$T/load.txt" issuances)
[ "${issued:-0}" -gt 0 ] || { say "acme-load issued nothing"; cat "$T/load.txt" >&2; exit 1; }
awk -v t="$((t1 - t0))" -v hz="$(getconf CLK_TCK)" -v n="$issued" -v r="$(kv "$T/load.txt" issuances_per_s)" \
	'BEGIN { printf "flintd: %d issuances, %s/s, %.2f ms server CPU each\n", n, r, t * 1000 / hz / n }'
# threads are named by role (flintd = the main thread, also the first event
# loop; flintd-httpN further loops; flintd-validN validation workers;
# flintd-wal the SQLite checkpointer)
echo "server CPU per issuance by thread:"
awk -v hz="$(getconf CLK_TCK)" -v n="$issued" 'NR == FNR { a[$1] = $2; next }
	{ d = $2 - a[$1]; role = $1; sub(/[0-9]+$/, "", role); r[role] += d; c[role]++ }
	END { for (k in r) printf "  %-14s %2d thread(s) %.3f ms\n", k, c[k], r[k] * 1000 / hz / n }' \
	"$T/threads0.txt" "$T/threads1.txt" | sort -k4 -rn
echo "inclusive share of flintd's on-CPU samples:"
perf script -i "$T/perf.data" 2>/dev/null | python3 -c '
import collections, sys
want = ("flint_api_", "flint_req_authenticate", "flint_nonce_redeem", "flint_jws_verify",
        "flint_csr_parse_der", "flint_issuer_issue", "validate_one", "resolve_bounded",
        "curl_easy_perform", "sqlite3_step", "sqlite3WalCheckpoint", "fdatasync",
        "SSL_read", "SSL_write", "evhttp_send_reply", "epoll_wait", "flint_reply_",
        "X509_set_pubkey", "d2i_X509_REQ", "EVP_DigestVerifyFinal", "EVP_DigestSignFinal",
        "json_loadb", "json_dumps", "malloc", "free")
total, inc, frames = 0, collections.Counter(), set()
def flush():
    global total
    if frames:
        total += 1
        inc.update(frames)
for line in sys.stdin:
    if not line.strip():
        flush(); frames = set()
    elif line[0] in " \t":
        p = line.split()
        if len(p) >= 2:
            frames.add(p[1].split("+")[0])
flush()
for f, c in inc.most_common():
    if any(f.startswith(w) or f == w for w in want):
        print("  %6.2f%%  %s" % (100.0 * c / max(total, 1), f))
' | head -n 40
[ "$KEEP" = 1 ] && say "perf data: $T/perf.data"
exit 0
