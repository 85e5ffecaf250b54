#!/bin/bash
# Account key rollover (keyChange, RFC 8555 §7.3.5) against flintd: tests/e2e/t_keychange.py.
# Ports 21400-21499.
TEST_NAME=t_keychange
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT=21400 HTTP01=21402 DNS=21453 MGMT=21455
start_challtestsrv "$DNS" "$MGMT"
start_flintd "$PORT" "$HTTP01" "$DNS"

FLINT_SRC="$FLINT_SRC" timeout -k 5 300 "$PY" "$E2E_DIR/t_keychange.py" --dir "$DIR_URL" --ca "$ROOT" 2>&1 \
	| tee "$T/keychange.log"
rc=${PIPESTATUS[0]}
[ "$rc" = 124 ] && echo "FAIL: t_keychange.py timed out"
[ "$rc" = 0 ] || fail "t_keychange.py: exit status $rc ($(grep -c '^FAIL' "$T/keychange.log") failed cases)"
log "all cases passed"
