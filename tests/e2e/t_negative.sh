#!/bin/bash
# Hostile / edge-case ACME requests (tests/tools/acme_negative.py) against flintd:
# JWS validation, nonces, content types, problem documents, order/authz state
# machine, CSR checks, revocation authorization, CRL, account deactivation, paging.
# Ports 21300-21399. Pass case names in NEG_ONLY to run a subset (debugging).
TEST_NAME=t_negative
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT=21300 HTTP01=21302 DNS=21353 MGMT=21355
start_challtestsrv "$DNS" "$MGMT"
start_flintd "$PORT" "$HTTP01" "$DNS"

ONLY=()
[ -n "${NEG_ONLY:-}" ] && read -r -a ONLY <<<"$NEG_ONLY" && ONLY=(--only "${ONLY[@]}")
if run_tool negative 400 "$PY" "$TOOLS_DIR/acme_negative.py" --dir "$DIR_URL" --ca "$ROOT" \
	--http01-port "$HTTP01" --cts-mgmt "$CTS_MGMT" "${ONLY[@]}"; then
	step_ok acme_negative
else
	step_fail acme_negative "$(grep -c '^FAIL' "$T/negative.log") case(s) failed (see FAIL lines above)"
fi
finish
