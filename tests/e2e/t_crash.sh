#!/bin/bash
# Crash safety: under an issuance load flintd (SQLite) is killed with SIGKILL
# at random moments 20 times and restarted on the same data directory each
# time; the clients ride out each restart and finish every issuance, a
# revoker revokes certificates throughout. After the storm: nothing left in
# processing, every order and challenge in a legal state, every certificate
# served is in the store (and downloads again), no serial used twice, every
# acknowledged revocation is in the CRL, flintd exits cleanly
# (t_crash.py does the work and says which seed repeats the kill moments).
# Env: FLINTD (required), FLINT_SRC, ACME_LOAD, CRASH_KILLS (20), CRASH_SEED.
# Ports 23500-23549: flintd 23501, http-01 23512, challtestsrv DNS 23513 and
# management 23515.
TEST_NAME=t_crash
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ACME_LOAD=${ACME_LOAD:-$(dirname "$FLINTD")/acme-load}
[ -x "$ACME_LOAD" ] || fail "acme-load not found at $ACME_LOAD (build the acme-load target or set ACME_LOAD)"
PORT=23501 HTTP01=23512 DNS=23513 MGMT=23515
wait_port_free "$PORT" || fail "port $PORT busy"
wait_port_free "$HTTP01" || fail "port $HTTP01 busy"
start_challtestsrv "$DNS" "$MGMT"
mkdir -p "$T/data" "$T/work"
DUMP_LOGS+=("$T/work/flintd.log")

seed=()
[ -n "${CRASH_SEED:-}" ] && seed=(--seed "$CRASH_SEED")
if run_tool crash 540 "$PY" "$E2E_DIR/t_crash.py" --flintd "$FLINTD" --acme-load "$ACME_LOAD" \
	--data "$T/data" --work "$T/work" --port "$PORT" --http01-port "$HTTP01" \
	--dns "127.0.0.1:$DNS" --kills "${CRASH_KILLS:-20}" "${seed[@]}"; then
	step_ok crash_safety
else
	step_fail crash_safety "see the FAIL lines above; flintd's log: $T/work/flintd.log"
fi
finish
