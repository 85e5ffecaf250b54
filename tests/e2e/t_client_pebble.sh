#!/bin/bash
# flint (the client) against Pebble (Debian 2.4.0) with its default 5% badNonce rejection:
#   a --ca-bundle that does not verify Pebble's HTTPS fails; account register; issue with
#   http-01 standalone (two names), dns-01 through a hook (TXT records in
#   pebble-challtestsrv), tls-alpn-01 standalone, a wildcard with its base name and one
#   alone (dns-01); renew --force (new serials, previous certificates in
#   certs/NAME/previous/); plain renew (nothing due: the documented status 3, silent, also
#   with -q); revoke (Pebble's management API says Revoked; --reason 4 -> Reason 4);
#   account rollover (the server finds the account by the new key only), then issue with
#   the new key; and 10 issuances out of 10 with Pebble restarted with
#   PEBBLE_WFE_NONCEREJECT=30 (flint -v must show badNonce retries).
# Every certificate: openssl verify -CAfile pebble-root.pem -untrusted chain leaf, exact
# SANs, key.pem 0600 matching the leaf.
# Env: FLINT_BIN (required), FLINT_SRC; FLINTD is not used. Ports 21600-21699.
TEST_NAME=t_client_pebble
E2E_NO_FLINTD=1
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$E2E_DIR/pebble.sh"
. "$E2E_DIR/client.sh"

PEB=21600 PEB_MGMT=21601 HTTP01=21602 TLSALPN01=21603 DNS=21653 CTS=21655
start_challtestsrv "$DNS" "$CTS"
start_pebble "$PEB" "$PEB_MGMT" "$HTTP01" "$TLSALPN01" "$DNS"
ACME_URL=$PEBBLE_DIR_URL ACME_CA=$PEBBLE_TLS_CA STATE=$T/state
HOOK=$T/dns-hook
make_dns_hook "$HOOK" ok
EMAIL=flint-e2e@example.com

# What this flint offers (the planned parts of the CLI are tested when listed).
help_lists rollover help-account account && HAVE_ROLLOVER=1
help_lists -q help-main && HAVE_QUIET=1
help_lists -v help-main && HAVE_VERBOSE=1
help_lists --reason help-revoke revoke && HAVE_REASON=1
help_lists --force help-renew renew || log "note: 'flint renew --help' does not list --force"
log "flint offers: rollover=${HAVE_ROLLOVER:-0} -q=${HAVE_QUIET:-0} revoke --reason=${HAVE_REASON:-0}"

ISSUED=()   # CERTNAME|SAN SAN...  of every certificate issued in the first account
issued() { ISSUED+=("$1|${*:2}"); }

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
	if [ "${a[0]}" = --http01-port ] || [ "${a[0]}" = --tlsalpn01-port ]; then
		if ! wait_port_free "${a[1]}"; then
			step_fail "$step" "port ${a[1]} still in use after flint exited (standalone listener left behind?)"
			return 1
		fi
	fi
	issued "$cn" "${names[@]}"
	step_ok "$step" "serial $(cert_serial "$cn")"
}

# ---- the server's HTTPS is verified against --ca-bundle: the wrong roots must fail
STATE=$T/state-badca ACME_CA=$ROOT
if flint_run register-badca account register --email "$EMAIL" --agree-tos; then
	step_fail tls_verified "register succeeded with --ca-bundle = Pebble's issuing root, which does not verify Pebble's HTTPS"
elif [ "$FLINT_RC" = 124 ] || [ "$FLINT_RC" -gt 128 ]; then
	step_fail tls_verified "$(flint_why)"
else
	step_ok tls_verified "exit $FLINT_RC"
fi
STATE=$T/state ACME_CA=$PEBBLE_TLS_CA

# ---- register
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

usage_step usage_errors

# ---- issuance with every challenge type
issue_step issue_http01 http.example.com --http01-port "$HTTP01" -- http.example.com www.http.example.com
issue_step issue_dns01 dns.example.com --dns-hook "$HOOK" -- dns.example.com
issue_step issue_tlsalpn01 alpn.example.com --tlsalpn01-port "$TLSALPN01" -- alpn.example.com
issue_step issue_wildcard_dns01 wild.example.com --dns-hook "$HOOK" -- wild.example.com '*.wild.example.com'
# a wildcard alone: its directory is the first name as given (flint issue --help)
issue_step issue_wildcard_only '*.only.example.com' --dns-hook "$HOOK" -- '*.only.example.com'

# ---- renew --force: every certificate renewed, the previous one kept
declare -A OLD=()
for e in "${ISSUED[@]}"; do OLD[${e%%|*}]=$(cert_serial "${e%%|*}"); done
if [ ${#ISSUED[@]} = 0 ]; then
	step_fail renew_force "no certificate was issued above"
elif ! flint_run renew-force renew --force; then
	step_fail renew_force "$(flint_why)"
else
	err=
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

# ---- plain renew: nothing is due (Pebble's certificates last years)
declare -A CUR=()
for e in "${ISSUED[@]}"; do CUR[${e%%|*}]=$(cert_serial "${e%%|*}"); done
renew_noop_step() {  # STEP [-q]
	local step=$1 q=("${@:2}") err='' cn
	flint_run "$step" "${q[@]}" renew
	if [ "$FLINT_RC" != "$RENEW_NOTHING_DUE_RC" ]; then
		step_fail "$step" "want exit status $RENEW_NOTHING_DUE_RC ($RENEW_RC_SOURCE) when nothing is due; $(flint_why)"
		return
	fi
	for cn in "${!CUR[@]}"; do
		[ "$(cert_serial "$cn")" = "${CUR[$cn]}" ] || err+="$cn was renewed although not due; "
	done
	# `flint renew --help`: "Silent when nothing is due."
	if [ -s "$FLINT_OUT" ] || [ -s "$FLINT_ERR" ]; then
		err+="'flint ${q[*]} renew' with nothing due printed: $(cat "$FLINT_OUT" "$FLINT_ERR" | head -n 3 | tr '\n' ' ')"
	fi
	if [ -n "$err" ]; then step_fail "$step" "$err"; else step_ok "$step" "exit $FLINT_RC"; fi
}
renew_noop_step renew_nothing_due
if [ -n "${HAVE_QUIET:-}" ]; then
	renew_noop_step renew_nothing_due_quiet -q
else
	log "note: 'flint --help' does not list -q; quiet renew not checked"
fi

# ---- revoke: Pebble's management API shows the serial Revoked
revoke_step() {  # STEP CERTNAME [REASON]
	local step=$1 cn=$2 reason=${3:-} s js
	s=$(cert_serial "$cn")
	[ -n "$s" ] || { step_fail "$step" "no certificate $cn to revoke"; return; }
	if ! flint_run "$step" revoke "$cn" ${reason:+--reason "$reason"}; then
		step_fail "$step" "$(flint_why)"
	elif ! pebble_cert_revoked "$s"; then
		step_fail "$step" "$PEBBLE_ERR"
	elif [ -n "$reason" ] && ! grep -Eq "\"Reason\":[[:space:]]*$reason\b" <<<"$(pebble_cert_status "$s")"; then
		step_fail "$step" "Pebble has serial $s Revoked but not with reason $reason: $(pebble_cert_status "$s" | grep -E '"(Reason|Status)"' | tr -d '\n')"
	else
		step_ok "$step" "serial $s${reason:+ reason $reason}"
	fi
}
revoke_step revoke dns.example.com
if [ -n "${HAVE_REASON:-}" ]; then
	revoke_step revoke_reason alpn.example.com 4
else
	log "note: 'flint revoke --help' does not list --reason; not checked"
fi

# ---- account rollover, then an issuance signed with the new key
if [ -n "${HAVE_ROLLOVER:-}" ]; then
	if rollover_step account_rollover; then
		issue_step issue_after_rollover roll.example.com --http01-port "$HTTP01" -- roll.example.com
	fi
else
	log "note: 'flint account --help' does not list rollover; not checked"
fi

if pebble_alive; then step_ok pebble_still_running; else step_fail pebble_still_running "$PEBBLE_DEATH"; fi

# ---- robustness: Pebble rejects 30% of the nonces; 10 issuances must all succeed
stop_pebble
start_pebble "$PEB" "$PEB_MGMT" "$HTTP01" "$TLSALPN01" "$DNS" PEBBLE_WFE_NONCEREJECT=30
STATE=$T/state-nonce
V=()
[ -n "${HAVE_VERBOSE:-}" ] && V=(-v)   # -v shows the badNonce retries, so we see they happened
if ! flint_run nr-register "${V[@]}" account register --email "$EMAIL" --agree-tos; then
	step_fail nonce_reject_30 "register: $(flint_why)"
else
	good=0 bad=''
	for i in 1 2 3 4 5 6 7 8 9 10; do
		n=nr$i.example.com
		if ! flint_run "nr-issue-$i" "${V[@]}" issue --http01-port "$HTTP01" "$n"; then
			bad+="#$i: $(flint_why); "
		elif ! check_cert "$n" "$n"; then
			bad+="#$i: $CHECK_ERR; "
		else
			good=$((good + 1))
		fi
	done
	retries=$(cat "$T"/nr-*.err | grep -c badNonce)
	if [ "$good" != 10 ]; then
		step_fail nonce_reject_30 "$good/10: $bad"
	elif [ -n "${HAVE_VERBOSE:-}" ] && [ "$retries" = 0 ]; then
		step_fail nonce_reject_30 "10/10 but flint -v mentions no badNonce at all: was the rejection on?"
	else
		step_ok nonce_reject_30 "10/10, $retries badNonce lines in flint -v output"
	fi
fi
if pebble_alive; then step_ok pebble_still_running_nonce; else step_fail pebble_still_running_nonce "$PEBBLE_DEATH"; fi
if key_modes_ok "$T/state" "$T/state-nonce"; then step_ok key_file_modes; else step_fail key_file_modes "$CHECK_ERR"; fi
sanitizer_step

finish
