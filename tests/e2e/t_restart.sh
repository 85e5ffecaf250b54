#!/bin/bash
# flintd restart keeps its state: an account, a pending order and an issued
# certificate survive SIGTERM + start on the same data dir; root.pem is unchanged;
# the restarted server keeps validating and issuing under the same root.
# Also checks the CLI contract: directory URL on stdout, clean exit on SIGTERM.
# Ports 21500-21599.
TEST_NAME=t_restart
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_prog jq sha256sum cmp

PORT=21500 HTTP01=21502 DNS=21553 MGMT=21555
start_challtestsrv "$DNS" "$MGMT"
start_flintd "$PORT" "$HTTP01" "$DNS"

if check_dir_url_printed; then step_ok prints_directory_url; else
	step_fail prints_directory_url "flintd stdout lacks $DIR_URL: '$(head -c 300 "$T/flintd.out")'"
fi

root_sum=$(sha256sum <"$ROOT")
curl -sf --max-time 5 --cacert "$ROOT" "$BASE_URL/ca/intermediate.der" -o "$T/inter1.der" \
	|| step_fail ca_intermediate "GET /ca/intermediate.der failed before restart"

ACME=("$PY" "$TOOLS_DIR/acme_tool.py" --dir "$DIR_URL" --ca "$ROOT")
run_tool phase1 180 "${ACME[@]}" restart-phase1 --state "$T/state.json" --http01-port "$HTTP01" \
	|| fail "phase 1 (before restart) failed; nothing to compare after a restart"

stop_flintd
if [ "$FLINTD_KILLED" = 1 ]; then
	step_fail sigterm_exit "flintd did not exit within 15 s of SIGTERM"
elif [ "$FLINTD_RC" != 0 ]; then
	step_fail sigterm_exit "flintd exited with status $FLINTD_RC on SIGTERM (want 0)"
else
	step_ok sigterm_exit
fi
port_busy "$PORT" && wait_port_free "$PORT"

start_flintd "$PORT" "$HTTP01" "$DNS"
if [ "$(sha256sum <"$ROOT")" = "$root_sum" ]; then step_ok root_unchanged; else
	step_fail root_unchanged "DATA/root.pem changed across the restart"
fi
if curl -sf --max-time 5 --cacert "$ROOT" "$BASE_URL/ca/intermediate.der" -o "$T/inter2.der" \
	&& cmp -s "$T/inter1.der" "$T/inter2.der"; then
	step_ok intermediate_unchanged
else
	step_fail intermediate_unchanged "/ca/intermediate.der missing or changed across the restart"
fi

if run_tool phase2 180 "${ACME[@]}" restart-phase2 --state "$T/state.json" --http01-port "$HTTP01"; then
	step_ok state_after_restart
else
	step_fail state_after_restart "see the FAIL lines above"
fi

# a second restart right away (nothing new, state written by the restarted server)
stop_flintd
start_flintd "$PORT" "$HTTP01" "$DNS"
jq -r .key_pem "$T/state.json" >"$T/acct.key"
if [ "$(sha256sum <"$ROOT")" = "$root_sum" ] && acme_account_info "$T/acct.key" >/dev/null; then
	step_ok second_restart
else
	step_fail second_restart "account lookup or root after a second restart failed"
fi

finish
