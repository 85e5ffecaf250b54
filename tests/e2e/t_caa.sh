#!/bin/bash
# CAA (RFC 8659, RFC 8657) checked by flintd when a challenge validates:
#   tests/tools/caa_table.py with record sets served by pebble-challtestsrv: none, issue for
#   this CA (caa-identities flint.invalid) / another CA / ";", a restrictive parent and a leaf
#   overriding it, issuewild only (plain name allowed, wildcard refused), issuewild for this
#   CA over issue ";", accounturi match/mismatch, validationmethods match/mismatch (http-01
#   and dns-01), a SERVFAIL while climbing -> each authorization ends valid, or invalid with
#   a caa problem naming the identifier. The issuer-critical flag (challtestsrv cannot set
#   it) from Knot: a critical unknown tag forbids, a non-critical one is ignored, a
#   critical issue is honoured.
#   At issuance: a CAA change after validation does not matter within caa-reuse (default
#   8 h); with --caa-reuse 0 finalize re-checks on a worker (answers processing): a now
#   forbidding CAA makes the order invalid with a caa error naming the name, an allowing
#   one issues.
# Ports 22800-22899: flintd +0, http-01 +2, challtestsrv DNS +53 and management +55, Knot +60.
TEST_NAME=t_caa
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT=22800 HTTP01=22802 DNS=22853 CTS=22855
start_challtestsrv "$DNS" "$CTS"
start_flintd "$PORT" "$HTTP01" "$DNS"
# section STEP SECTION: runs caa_table.py --section SECTION against the running flintd
section() {
	if run_tool "$1" 300 "$PY" "$TOOLS_DIR/caa_table.py" --dir "$DIR_URL" --ca "$ROOT" \
		--http01-port "$HTTP01" --cts-mgmt "$CTS_MGMT" --section "$2" --suffix "$2.caa.example.com"; then
		step_ok "$1" "$(grep -c '^ok ' "$T/$1.log") cases"
	else
		step_fail "$1" "$(grep '^FAIL' "$T/$1.log" | head -3 | tr '\n' ' ')"
	fi
}
section caa_table validation
section caa_reuse reuse
# at finalize: with caa-reuse 0 every authorization is checked again, on a worker
stop_flintd
[ "$FLINTD_RC" = 0 ] || step_fail flintd_clean_exit "flintd exited $FLINTD_RC"
start_flintd "$PORT" "$HTTP01" "$DNS" --caa-reuse 0
section caa_recheck recheck
if grep -q "caa=recheck" "$T/flintd.log"; then
	step_ok caa_recheck_on_worker
else
	step_fail caa_recheck_on_worker "flintd's log shows no finalize handed to a worker for CAA"
fi

# the issuer-critical flag, from an authoritative server (challtestsrv cannot set it); the
# names need their own A records (a wildcard does not cover names that exist)
. "$E2E_DIR/knot.sh"
need_prog knsupdate
KNOT=22860
start_knot "$T/knot" caa.example "$KNOT"
if knsupdate >"$T/knsupdate.log" 2>&1 <<U
server 127.0.0.1 $KNOT
key $TSIG_ALG:$TSIG_NAME $TSIG_SECRET
zone caa.example.
update add crit.caa.example. 60 CAA 128 future "x"
update add crit.caa.example. 60 CAA 0 issue "flint.invalid"
update add noncrit.caa.example. 60 CAA 0 future "x"
update add noncrit.caa.example. 60 CAA 0 issue "flint.invalid"
update add critissue.caa.example. 60 CAA 128 issue "flint.invalid"
update add crit.caa.example. 60 A 127.0.0.1
update add noncrit.caa.example. 60 A 127.0.0.1
update add critissue.caa.example. 60 A 127.0.0.1
send
U
then
	stop_flintd
	[ "$FLINTD_RC" = 0 ] || step_fail flintd_clean_exit_2 "flintd exited $FLINTD_RC"
	start_flintd "$PORT" "$HTTP01" "$KNOT"
	section caa_flags flags
else
	step_fail caa_flags "knsupdate failed: $(tail -3 "$T/knsupdate.log")"
fi
finish
