#!/bin/bash
# Smoke run of bench/acme-load (the C load generator) against flintd: 20 issuances
# by 4 concurrent clients (one account each), then 8 with an account per issuance;
# every one issued, no error, flintd still running. Asserts counts, never timing.
# Ports 23290-23299 (flintd 23290, http-01 23292, DNS 23293, its management 23295).
TEST_NAME=t_acme_load
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# acme-load is built beside flintd (a top-level target of the same build)
ACME_LOAD=${ACME_LOAD:-$(dirname "$FLINTD")/acme-load}
[ -x "$ACME_LOAD" ] || fail "acme-load not found at $ACME_LOAD (build the acme-load target or set ACME_LOAD)"

PORT=23290 HTTP01=23292 DNS=23293 MGMT=23295
start_challtestsrv "$DNS" "$MGMT"
start_flintd "$PORT" "$HTTP01" "$DNS"

acme_load_run per_client 20 -n 20 -c 4
acme_load_run per_order 8 -n 8 -c 4 -j 1 --account-per-order
# many clients at once (under the per-address cap), then the database must
# still be whole: a WAL-writing VFS once corrupted it only under such load
acme_load_run burst 400 -n 400 -c 200
check_db_integrity

# a bounded run against a port where nothing listens ends with an error, not a hang
run_bounded 30 "$T/dead.txt" "$ACME_LOAD" --http01-port "$HTTP01" --timeout-ms 2000 -n 1 \
	"https://127.0.0.1:23299/directory"
rc=$?
if [ "$rc" = 1 ]; then step_ok dead_server "exit 1"; else
	step_fail dead_server "status $rc (want 1): $(head -c 300 "$T/dead.txt")"
fi

finish
