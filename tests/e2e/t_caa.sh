#!/bin/bash
# CAA (RFC 8659, RFC 8657) checked by flintd when a challenge validates:
#   tests/tools/caa_table.py with record sets served by pebble-challtestsrv: none, issue for
#   this CA (caa-identities flint.invalid) / another CA / ";", a restrictive parent and a leaf
#   overriding it, issuewild only (plain name allowed, wildcard refused), issuewild for this
#   CA over issue ";", accounturi match/mismatch, validationmethods match/mismatch (http-01
#   and dns-01), a SERVFAIL while climbing -> each authorization ends valid, or invalid with
#   a caa problem naming the identifier. Critical unknown tags: unit/test_caa (challtestsrv
#   cannot set the flag).
# Ports 22800-22899: flintd +0, http-01 +2, challtestsrv DNS +53 and management +55.
TEST_NAME=t_caa
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT=22800 HTTP01=22802 DNS=22853 CTS=22855
start_challtestsrv "$DNS" "$CTS"
start_flintd "$PORT" "$HTTP01" "$DNS"
if run_tool caa 300 "$PY" "$TOOLS_DIR/caa_table.py" --dir "$DIR_URL" --ca "$ROOT" \
	--http01-port "$HTTP01" --cts-mgmt "$CTS_MGMT"; then
	step_ok caa_table "$(grep -c '^ok ' "$T/caa.log") cases"
else
	step_fail caa_table "$(grep '^FAIL' "$T/caa.log" | head -3 | tr '\n' ' ')"
fi
finish
