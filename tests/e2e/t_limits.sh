#!/bin/bash
# flintd's per-account limits against a live server: tests/e2e/t_limits.py.
# Ports 21900-21999.
TEST_NAME=t_limits
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT=21900 HTTP01=21902 DNS=21953 MGMT=21955
start_challtestsrv "$DNS" "$MGMT"
start_flintd "$PORT" "$HTTP01" "$DNS" --max-pending-authzs 3

if run_tool limits 120 "$PY" "$E2E_DIR/t_limits.py" --dir "$DIR_URL" --ca "$ROOT"; then
	step_ok limits_cases
else
	step_fail limits_cases "$(grep -c '^FAIL' "$T/limits.log") case(s) failed (see FAIL lines above)"
fi
finish
