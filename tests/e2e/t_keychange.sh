#!/bin/bash
# Account key rollover (keyChange, RFC 8555 §7.3.5) against flintd: tests/e2e/t_keychange.py.
# Ports 21400-21499.
TEST_NAME=t_keychange
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT=21400 HTTP01=21402 DNS=21453 MGMT=21455
start_challtestsrv "$DNS" "$MGMT"
start_flintd "$PORT" "$HTTP01" "$DNS"

if run_tool keychange 300 "$PY" "$E2E_DIR/t_keychange.py" --dir "$DIR_URL" --ca "$ROOT"; then
	step_ok keychange_cases
else
	step_fail keychange_cases "$(grep -c '^FAIL' "$T/keychange.log") case(s) failed (see FAIL lines above)"
fi
finish
