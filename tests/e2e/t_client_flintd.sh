#!/bin/bash
# flint (the client) against flintd:
#   account register (+ `account show`); issue with http-01 standalone (two names), dns-01
#   through a hook (TXT in pebble-challtestsrv), a wildcard with its base name and one
#   alone, all dns-01; renew --force (new serials, previous certificates in
#   certs/NAME/previous/); plain renew (nothing due: the documented status 3, silent);
#   revoke (serial in /ca/crl; --reason 4 -> Superseded); account rollover (the server
#   finds the account by the new key only), then issue with the new key;
#   error reporting: a dns-01 hook that sets no record and a wrong http-01 answer make
#   flint exit non-zero naming the identifier, the challenge type and flintd's problem
#   detail on stderr; a taken standalone port and a failing hook are reported as such;
#   SIGTERM during a slow dns-01 hook: flint exits promptly, kills the hook, cleans up.
# Every certificate: openssl verify -CAfile DATA/root.pem -untrusted chain leaf, exact SANs,
# key.pem 0600 matching the leaf.
# Env: FLINTD, FLINT_BIN (both required), FLINT_SRC. Ports 21700-21799: flintd +0,
# flint's standalone http-01 (= flintd --http01-port) +2, a spare http-01 port +4,
# challtestsrv DNS +53 and management +55.
TEST_NAME=t_client_flintd
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$E2E_DIR/client.sh"

PORT=21700 HTTP01=21702 SPARE=21704 DNS=21753 CTS=21755
start_challtestsrv "$DNS" "$CTS"
start_flintd "$PORT" "$HTTP01" "$DNS"
ACME_URL=$DIR_URL ACME_CA=$ROOT STATE=$T/state
HOOK=$T/dns-hook NOOP_HOOK=$T/dns-hook-noop
make_dns_hook "$HOOK" ok
make_dns_hook "$NOOP_HOOK" noop
EMAIL=flint-e2e@example.com

help_lists rollover help-account account && HAVE_ROLLOVER=1
help_lists show help-account account && HAVE_SHOW=1
help_lists --reason help-revoke revoke && HAVE_REASON=1
log "flint offers: account show=${HAVE_SHOW:-0} rollover=${HAVE_ROLLOVER:-0} revoke --reason=${HAVE_REASON:-0}"

ISSUED=()
# issue_step STEP CERTNAME SOLVER-ARGS... -- NAME...
issue_step() {
	local step=$1 cn=$2 a=() names=()
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do a+=("$1"); shift; done
	shift
	names=("$@")
	hook_reset
	if ! flint_run "$step" issue "${a[@]}" "${names[@]}"; then
		step_fail "$step" "$(flint_why)"
		return 1
	fi
	if ! check_cert "$cn" "${names[@]}"; then
		step_fail "$step" "$CHECK_ERR"
		return 1
	fi
	if [ "${a[0]}" = --dns-hook ] && ! hook_check "${names[@]}"; then
		step_fail "$step" "$HOOK_ERR"
		return 1
	fi
	if [ "${a[0]}" = --http01-port ] && ! wait_port_free "${a[1]}"; then
		step_fail "$step" "port ${a[1]} still in use after flint exited (standalone listener left behind?)"
		return 1
	fi
	ISSUED+=("$cn|${names[*]}")
	step_ok "$step" "serial $(cert_serial "$cn")"
}

# ---- register, account show
if flint_run register account register --email "$EMAIL" --agree-tos; then
	if [ -z "$(ls -A "$STATE" 2>/dev/null)" ]; then
		step_fail register "exit 0 but the state dir $STATE is empty"
	else
		step_ok register
		REGISTERED=1
	fi
else
	step_fail register "$(flint_why)"
fi
[ -n "${REGISTERED:-}" ] || fail "no account: the other steps cannot run"
if [ -n "${HAVE_SHOW:-}" ]; then
	if ! flint_run account-show account show; then
		step_fail account_show "$(flint_why)"
	elif ! grep -qF "$EMAIL" "$FLINT_OUT"; then
		step_fail account_show "stdout does not name the contact $EMAIL: $(head -c 300 "$FLINT_OUT" | tr '\n' ' ')"
	elif ! grep -qiw valid "$FLINT_OUT"; then
		step_fail account_show "stdout does not give the status valid: $(head -c 300 "$FLINT_OUT" | tr '\n' ' ')"
	elif ! grep -qF "$BASE_URL/" "$FLINT_OUT"; then
		step_fail account_show "stdout does not give the account URL (under $BASE_URL/): $(head -c 300 "$FLINT_OUT" | tr '\n' ' ')"
	else
		step_ok account_show
	fi
else
	log "note: 'flint account --help' does not list show; not checked"
fi

# ---- issuance
issue_step issue_http01 http.example.com --http01-port "$HTTP01" -- http.example.com www.http.example.com
issue_step issue_dns01 dns.example.com --dns-hook "$HOOK" -- dns.example.com
issue_step issue_wildcard_dns01 wild.example.com --dns-hook "$HOOK" -- wild.example.com '*.wild.example.com'
# a wildcard alone: its directory is the first name as given (flint issue --help)
issue_step issue_wildcard_only '*.only.example.com' --dns-hook "$HOOK" -- '*.only.example.com'

# ---- renew --force
declare -A OLD=()
for e in "${ISSUED[@]}"; do OLD[${e%%|*}]=$(cert_serial "${e%%|*}"); done
if [ ${#ISSUED[@]} = 0 ]; then
	step_fail renew_force "no certificate was issued above"
elif ! flint_run renew-force renew --force; then
	step_fail renew_force "$(flint_why)"
else
	err=''
	for e in "${ISSUED[@]}"; do
		cn=${e%%|*}
		read -r -a sans <<<"${e#*|}"
		new=$(cert_serial "$cn")
		if [ "$new" = "${OLD[$cn]}" ]; then
			err+="$cn: serial unchanged (${OLD[$cn]}); "
		elif ! check_cert "$cn" "${sans[@]}"; then
			err+="$cn: $CHECK_ERR; "
		elif [ -z "$(files_with_serial "$(cert_dir "$cn")/previous" "${OLD[$cn]}")" ]; then
			err+="$cn: the previous certificate (serial ${OLD[$cn]}) is not kept in $(cert_dir "$cn")/previous/; "
		fi
	done
	if [ -n "$err" ]; then step_fail renew_force "$err"; else step_ok renew_force "${#ISSUED[@]} certificates"; fi
fi

# ---- renew --force NAME without --server: the server recorded for the certificate
# (flint(1)); only that certificate is renewed
declare -A BEFORE=()
for e in "${ISSUED[@]}"; do BEFORE[${e%%|*}]=$(cert_serial "${e%%|*}"); done
s0=$(cert_serial dns.example.com)
if [ -z "$s0" ]; then
	step_fail renew_name_recorded_server "no dns.example.com certificate"
elif ! flint_bare renew-name --ca-bundle "$ACME_CA" --state-dir "$STATE" renew --force dns.example.com; then
	step_fail renew_name_recorded_server "$(flint_why)"
elif [ "$(cert_serial dns.example.com)" = "$s0" ]; then
	step_fail renew_name_recorded_server "exit 0 but dns.example.com still has serial $s0"
elif ! check_cert dns.example.com dns.example.com; then
	step_fail renew_name_recorded_server "$CHECK_ERR"
else
	err=''
	for cn in "${!BEFORE[@]}"; do
		[ "$cn" = dns.example.com ] && continue
		[ "$(cert_serial "$cn")" = "${BEFORE[$cn]}" ] || err+="$cn was renewed too; "
	done
	if [ -n "$err" ]; then
		step_fail renew_name_recorded_server "$err"
	else
		step_ok renew_name_recorded_server "serial $s0 -> $(cert_serial dns.example.com)"
	fi
fi

# ---- plain renew: nothing due (flintd issues for 90 days)
declare -A CUR=()
for e in "${ISSUED[@]}"; do CUR[${e%%|*}]=$(cert_serial "${e%%|*}"); done
flint_run renew-noop renew
if [ "$FLINT_RC" != "$RENEW_NOTHING_DUE_RC" ]; then
	step_fail renew_nothing_due "want exit status $RENEW_NOTHING_DUE_RC ($RENEW_RC_SOURCE) when nothing is due; $(flint_why)"
else
	err=''
	for cn in "${!CUR[@]}"; do
		[ "$(cert_serial "$cn")" = "${CUR[$cn]}" ] || err+="$cn was renewed although not due; "
	done
	if [ -s "$FLINT_OUT" ] || [ -s "$FLINT_ERR" ]; then  # "Silent when nothing is due."
		err+="'flint renew' with nothing due printed: $(cat "$FLINT_OUT" "$FLINT_ERR" | head -n 3 | tr '\n' ' ')"
	fi
	if [ -n "$err" ]; then step_fail renew_nothing_due "$err"; else step_ok renew_nothing_due "exit $FLINT_RC"; fi
fi

# ---- revoke: the serial shows up in flintd's CRL (with the reason when one was given)
revoke_step() {  # STEP CERTNAME [REASON_CODE REASON_TEXT]
	local step=$1 cn=$2 reason=${3:-} text=${4:-} s got
	s=$(cert_serial "$cn")
	[ -n "$s" ] || { step_fail "$step" "no certificate $cn to revoke"; return; }
	if ! flint_run "$step" revoke "$cn" ${reason:+--reason "$reason"}; then
		step_fail "$step" "$(flint_why)"
	elif ! crl_has_serial "$s"; then
		step_fail "$step" "$CRL_ERR"
	elif [ -n "$text" ] && [ "$(crl_reason "$s")" != "$text" ]; then
		got=$(crl_reason "$s")
		step_fail "$step" "CRL entry for $s has reason '$got', want $text"
	else
		step_ok "$step" "serial $s in /ca/crl${text:+, reason $text}"
	fi
}
revoke_step revoke dns.example.com
if [ -n "${HAVE_REASON:-}" ]; then
	revoke_step revoke_reason http.example.com 4 Superseded
else
	log "note: 'flint revoke --help' does not list --reason; not checked"
fi

# ---- account rollover (flintd has keyChange), then issue with the new key
if [ -n "${HAVE_ROLLOVER:-}" ]; then
	if rollover_step account_rollover; then
		issue_step issue_after_rollover roll.example.com --http01-port "$HTTP01" -- roll.example.com
		if [ -n "${HAVE_SHOW:-}" ] && ! flint_run account-show-2 account show; then
			step_fail account_show_after_rollover "$(flint_why)"
		fi
	fi
else
	log "note: 'flint account --help' does not list rollover; not checked"
fi

# ---- error reporting
# flintd_detail TYPE IDENT: the problem detail flintd logged for its last invalid TYPE
# challenge of IDENT ("validate challenge=ID detail=..." after "state challenge=ID ... status=invalid").
flintd_detail() {
	local id
	id=$(sed -n "s/^.*state challenge=\([^ ]*\) type=$1 identifier=$2 status=invalid.*$/\1/p" "$T/flintd.log" | tail -n 1)
	[ -n "$id" ] || return 1
	sed -n "s/^.*validate challenge=$id detail=\"\(.*\)\"$/\1/p" "$T/flintd.log" | tail -n 1
}
# error_step STEP TYPE IDENT SOLVER-ARGS...: flint must fail and say IDENT, TYPE and the detail
error_step() {
	local step=$1 type=$2 ident=$3 detail miss=''
	shift 3
	if flint_run "$step" issue "$@" "$ident"; then
		step_fail "$step" "flint exited 0 although the $type challenge cannot succeed"
		return
	fi
	if [ "$FLINT_RC" = 124 ] || [ "$FLINT_RC" -gt 128 ]; then
		step_fail "$step" "$(flint_why)"
		return
	fi
	if ! detail=$(flintd_detail "$type" "$ident") || [ -z "$detail" ]; then
		step_fail "$step" "flintd logged no invalid $type challenge for $ident (did flint respond to it?); $(flint_why)"
		return
	fi
	grep -qF -- "$ident" "$FLINT_ERR" || miss+=" identifier '$ident';"
	grep -qF -- "$type" "$FLINT_ERR" || miss+=" '$type';"
	grep -qF -- "$detail" "$FLINT_ERR" || miss+=" the server's detail '$detail';"
	if [ -n "$miss" ]; then
		step_fail "$step" "stderr lacks$miss stderr was: $(head -c 600 "$FLINT_ERR" | tr '\n' ' ')"
	else
		step_ok "$step" "exit $FLINT_RC"
	fi
}
error_step error_dns01_no_record dns-01 nodns.example.com --dns-hook "$NOOP_HOOK"
# http-01 answered wrong: flintd asks port HTTP01 where a plain web server answers 404 for
# every token, while flint's own responder listens on a port nobody asks.
start_webroot "$T/wrong-webroot" "$HTTP01"
error_step error_http01_wrong_answer http-01 wronghttp.example.com --http01-port "$SPARE"
# ... and with that port taken, flint's standalone responder cannot listen: say so
if flint_run error_port_busy issue --http01-port "$HTTP01" busy.example.com; then
	step_fail error_port_busy "flint exited 0 although port $HTTP01 is taken by another server"
elif [ "$FLINT_RC" = 124 ] || [ "$FLINT_RC" -gt 128 ]; then
	step_fail error_port_busy "$(flint_why)"
elif ! grep -q "$HTTP01" "$FLINT_ERR" || ! grep -qi "address already in use" "$FLINT_ERR"; then
	step_fail error_port_busy "stderr does not name port $HTTP01 and 'Address already in use': $(head -c 400 "$FLINT_ERR" | tr '\n' ' ')"
else
	step_ok error_port_busy "exit $FLINT_RC"
fi
stop_pid "$WEBROOT_PID" 5

# a dns-01 hook that fails: flint stops, naming the identifier, dns-01 and what the hook said
FAIL_HOOK=$T/dns-hook-fail
make_dns_hook "$FAIL_HOOK" fail
if flint_run error_hook_fails issue --dns-hook "$FAIL_HOOK" hookfail.example.com; then
	step_fail error_hook_fails "flint exited 0 although its dns-01 hook failed"
elif [ "$FLINT_RC" = 124 ] || [ "$FLINT_RC" -gt 128 ]; then
	step_fail error_hook_fails "$(flint_why)"
else
	miss=''
	grep -qF hookfail.example.com "$FLINT_ERR" || miss+=" the identifier;"
	grep -qF dns-01 "$FLINT_ERR" || miss+=" 'dns-01';"
	grep -qF "HOOK_MODE=fail: refusing to present" "$FLINT_ERR" || miss+=" the hook's own message;"
	if [ -n "$miss" ]; then
		step_fail error_hook_fails "stderr lacks$miss stderr was: $(head -c 400 "$FLINT_ERR" | tr '\n' ' ')"
	else
		step_ok error_hook_fails "exit $FLINT_RC"
	fi
fi

# ---- SIGTERM while the dns-01 hook's present runs (it would sleep 60 s): flint stops
# promptly, kills the hook, still cleans up what it presented (flint(1): "removes every
# presented challenge whatever happens, also on SIGINT/SIGTERM") and frees its port.
interrupt_step() {
	local step=interrupt_during_hook slow=$T/dns-hook-slow p i t t0 rc v hpid err=''
	make_dns_hook "$slow" slow
	hook_reset
	rm -f "$T/hook-state/slow.pid"
	echo "+ $FLINT_BIN ... issue --http01-port $HTTP01 --dns-hook $slow intr.example.com *.intr.example.com; SIGTERM during the hook" >"$T/$step.cmd"
	FLINT_OUT=$T/$step.out FLINT_ERR=$T/$step.err FLINT_CMD="flint ... issue --http01-port $HTTP01 --dns-hook $slow intr.example.com '*.intr.example.com'"
	timeout -k 5 90 "$FLINT_BIN" --server "$ACME_URL" --ca-bundle "$ACME_CA" --state-dir "$STATE" \
		issue --http01-port "$HTTP01" --dns-hook "$slow" intr.example.com '*.intr.example.com' \
		>"$FLINT_OUT" 2>"$FLINT_ERR" </dev/null &
	p=$!
	PIDS+=("$p")
	for ((i = 0; i < 300; i++)); do
		[ -s "$T/hook-state/slow.pid" ] && break
		alive "$p" || break
		sleep 0.1
	done
	if [ ! -s "$T/hook-state/slow.pid" ]; then
		stop_pid "$p" 5
		FLINT_RC=$STOP_RC
		step_fail "$step" "the slow hook never got to present within 30 s; $(flint_why)"
		return
	fi
	hpid=$(cat "$T/hook-state/slow.pid")
	t0=$(date +%s)
	# to flint itself: `timeout` would pass SIGTERM on but SIGKILL it 5 s later (-k 5)
	kill -TERM "$(ps -o pid= --ppid "$p" | head -n 1)" 2>/dev/null || kill -TERM "$p"
	for ((i = 0; i < 200; i++)); do alive "$p" || break; sleep 0.1; done
	t=$(($(date +%s) - t0))
	if alive "$p"; then
		stop_pid "$p" 5
		FLINT_RC=$STOP_RC
		alive "$hpid" && { kill -TERM -- "-$hpid" 2>/dev/null || kill -TERM "$hpid" 2>/dev/null; }
		step_fail "$step" "still running ${t}s after SIGTERM (its dns-01 hook sleeps 60 s: waited for instead of killed?); stopped it with SIGKILL; stderr: $(head -c 300 "$FLINT_ERR" | tr '\n' ' ')"
		return
	else
		wait "$p"
		rc=$?
		forget_pid "$p"
		[ "$t" -le 15 ] || err+="took ${t}s to exit after SIGTERM (its hook sleeps 60 s: was it waited for instead of killed?); "
	fi
	FLINT_RC=$rc
	[ "$rc" != 0 ] || err+="exit status 0 although interrupted; "
	v=$(awk '$1 == "present" { print $3; exit }' "$T/hook.log")
	grep -qx "cleanup _acme-challenge.intr.example.com. $v" "$T/hook.log" \
		|| err+="no 'cleanup _acme-challenge.intr.example.com. $v' (hook log: $(tr '\n' ';' <"$T/hook.log")); "
	if alive "$hpid"; then
		err+="the hook (pid $hpid) still runs after flint exited; "
		kill -TERM -- "-$hpid" 2>/dev/null || kill -TERM "$hpid" 2>/dev/null  # its group: the hook and its sleep
	fi
	wait_port_free "$HTTP01" || err+="port $HTTP01 still in use; "
	if [ -n "$err" ]; then
		step_fail "$step" "$err exit status $rc; stderr: $(head -c 400 "$FLINT_ERR" | tr '\n' ' ')"
	else
		step_ok "$step" "exit $rc after ${t}s"
	fi
}
interrupt_step

if key_modes_ok "$STATE"; then step_ok key_file_modes; else step_fail key_file_modes "$CHECK_ERR"; fi
sanitizer_step

finish
