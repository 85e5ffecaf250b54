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
# Extensions: RFC 8738 IP identifiers (127.0.0.1 and ::1 over http-01, 127.0.0.1 over
#   tls-alpn-01, iPAddress SANs, an IPv4-mapped name refused); --json (issue result object,
#   error object, account show); --profile against Pebble without meta.profiles (clear
#   error, no newOrder sent); --preferred-chain with Pebble restarted with
#   PEBBLE_ALTERNATE_ROOTS=1 (each root's name from /roots/N picks that chain; an unknown
#   name keeps the default and says so); EAB with Pebble restarted requiring it (the kid/key
#   pairs of Debian's pebble-config-external-account-bindings.json): with the right key the
#   account is registered, without EAB the error names the requirement, a wrong key fails
#   with Pebble's detail.
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


# ---- RFC 8738 IP identifiers: iPAddress SANs, the directory named by the literal
# ip_cert_ok CERTNAME IP: chains to Pebble's root; the only SAN is "IP Address:IP" (as openssl prints it)
ip_cert_ok() {
	local d out got want=$3
	d=$(cert_dir "$1")
	CHECK_ERR=
	[ -s "$d/cert.pem" ] || { CHECK_ERR="no $d/cert.pem"; return 1; }
	if ! out=$(openssl verify -CAfile "$ROOT" -untrusted "$d/chain.pem" "$d/cert.pem" 2>&1); then
		CHECK_ERR="openssl verify: $out"
		return 1
	fi
	got=$(cert_sans "$d/cert.pem" | tr '\n' ' ')
	[ "$got" = "IP Address:$want " ] || { CHECK_ERR="SANs [$got] != [IP Address:$want]"; return 1; }
	[ "$(stat -c %a "$d/key.pem")" = 600 ] || { CHECK_ERR="$d/key.pem is not 0600"; return 1; }
}
ip_step() {  # STEP CERTNAME OPENSSL-IP SOLVER-ARGS... -- NAME
	local step=$1 cn=$2 want=$3 a=()
	shift 3
	while [ "$1" != -- ]; do a+=("$1"); shift; done
	shift
	if ! flint_run "$step" issue "${a[@]}" "$1"; then
		step_fail "$step" "$(flint_why)"
	elif ! ip_cert_ok "$cn" "$1" "$want"; then
		step_fail "$step" "$CHECK_ERR"
	else
		step_ok "$step" "serial $(cert_serial "$cn")"
	fi
}
ip_step issue_ip4_http01 127.0.0.1 127.0.0.1 --http01-port "$HTTP01" -- 127.0.0.1
ip_step issue_ip4_tlsalpn01 127.0.0.1 127.0.0.1 --tlsalpn01-port "$TLSALPN01" -- 127.0.0.1
if python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null; then
	# given in a non-canonical form: flint asks for (and files under) the RFC 5952 text
	ip_step issue_ip6_http01 ::1 0:0:0:0:0:0:0:1 --http01-port "$HTTP01" -- ::0:1
else
	log "note: no ::1 on this host; the IPv6 issuance is not checked"
fi
if flint_run ip_mapped issue --http01-port "$HTTP01" ::ffff:127.0.0.1; then
	step_fail ip_mapped_refused "an IPv4-mapped name was accepted"
elif [ "$FLINT_RC" != 2 ] || ! grep -q "IPv4-mapped" "$FLINT_ERR"; then
	step_fail ip_mapped_refused "want exit 2 and a message naming the IPv4-mapped form; $(flint_why)"
else
	step_ok ip_mapped_refused
fi

# ---- --json: one result object on stdout; errors as {"error", "identifier", "problem"}
if flint_run json_issue --json issue --http01-port "$HTTP01" json.example.com 127.0.0.2 \
	&& python3 - "$FLINT_OUT" "$(cert_dir json.example.com)" <<'PY'
import json, sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
assert len(lines) == 1, lines
o = json.loads(lines[0])
assert o["name"] == "json.example.com" and o["names"] == ["json.example.com", "127.0.0.2"], o
assert o["renewed"] is False and o["serial"] and o["not_before"] < o["not_after"], o
assert o["fullchain"] == sys.argv[2] + "/fullchain.pem" and o["key"] == sys.argv[2] + "/key.pem", o
PY
then
	step_ok json_issue
else
	step_fail json_issue "$(flint_why)"
fi
if flint_run json_error --json issue --http01-port "$((HTTP01 + 10))" jsonerr.example.com; then
	step_fail json_error "issue succeeded although nothing answered on Pebble's http-01 port"
elif [ "$FLINT_RC" != 1 ] || ! python3 - "$FLINT_OUT" <<'PY'
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert objs, "nothing on stdout"
o = objs[-1]
assert o["error"] and o["identifier"] == {"type": "dns", "value": "jsonerr.example.com"}, o
assert o["problem"]["type"].startswith("urn:ietf:params:acme:error:"), o
PY
then
	step_fail json_error "want exit 1 and an error object with identifier and problem; $(flint_why)"
else
	step_ok json_error
fi
if flint_run json_account --json account show && python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
assert o["status"] == "valid" and o["url"].startswith("https://"), o' "$FLINT_OUT"; then
	step_ok json_account_show
else
	step_fail json_account_show "$(flint_why)"
fi

# ---- --profile: Pebble 2.4 has no meta.profiles: a clear error before any newOrder
if flint_run profile_none -v issue --profile shortlived --http01-port "$HTTP01" prof.example.com; then
	step_fail profile_unsupported "issue --profile succeeded against a server without profiles"
elif ! grep -q "no certificate profiles" "$FLINT_ERR"; then
	step_fail profile_unsupported "the error does not say the server has no profiles; $(flint_why)"
elif grep -q "order-plz" "$FLINT_ERR"; then
	step_fail profile_unsupported "flint sent newOrder before refusing the profile"
else
	step_ok profile_unsupported
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

# ---- --preferred-chain: Pebble with an alternate root offers two chains
stop_pebble
start_pebble "$PEB" "$PEB_MGMT" "$HTTP01" "$TLSALPN01" "$DNS" PEBBLE_ALTERNATE_ROOTS=1
STATE=$T/state-chains
root_cn() {
	curl -sf --max-time 5 --cacert "$PEBBLE_TLS_CA" "$PEBBLE_MGMT/roots/$1" \
		| openssl x509 -noout -subject -nameopt multiline 2>/dev/null | sed -n 's/^ *commonName *= //p'
}
chain_issuer() { openssl x509 -in "$(cert_dir "$1")/chain.pem" -noout -issuer -nameopt multiline | sed -n 's/^ *commonName *= //p'; }
ROOT0=$(root_cn 0) ROOT1=$(root_cn 1)
if [ -z "$ROOT0" ] || [ -z "$ROOT1" ] || [ "$ROOT0" = "$ROOT1" ]; then
	step_fail preferred_chain "Pebble's /roots/0 and /roots/1 do not give two root names ('$ROOT0', '$ROOT1')"
elif ! flint_run chains-register account register --email "$EMAIL" --agree-tos; then
	step_fail preferred_chain "register: $(flint_why)"
else
	err=
	for want in "$ROOT1" "$ROOT0"; do
		if ! flint_run chain-pick issue --preferred-chain "$want" --http01-port "$HTTP01" chain.example.com; then
			err+="--preferred-chain '$want': $(flint_why); "
		elif [ "$(chain_issuer chain.example.com)" != "$want" ]; then
			err+="--preferred-chain '$want' stored a chain issued by '$(chain_issuer chain.example.com)'; "
		elif ! check_cert chain.example.com chain.example.com 2>/dev/null && [ "$want" = "$ROOT0" ]; then
			err+="$CHECK_ERR; "
		fi
	done
	if [ -n "$err" ]; then step_fail preferred_chain "$err"; else step_ok preferred_chain "$ROOT1, $ROOT0"; fi
	if ! flint_run chain-none issue --preferred-chain "No Such Root" --http01-port "$HTTP01" chain2.example.com; then
		step_fail preferred_chain_unknown "$(flint_why)"
	elif [ "$(chain_issuer chain2.example.com)" != "$ROOT0" ]; then
		step_fail preferred_chain_unknown "want the default chain (issued by $ROOT0), got $(chain_issuer chain2.example.com)"
	elif ! grep -q 'No Such Root' "$FLINT_ERR"; then
		step_fail preferred_chain_unknown "flint did not say on stderr that no chain matched"
	else
		step_ok preferred_chain_unknown
	fi
fi

# ---- external account binding: Pebble restarted requiring it
stop_pebble
EAB_EXAMPLE=/usr/share/doc/pebble/examples/pebble-config-external-account-bindings.json
if [ ! -r "$EAB_EXAMPLE" ]; then
	step_fail eab "$EAB_EXAMPLE is missing (the kid/key pairs come from it)"
else
	EAB_KID=$(python3 -c 'import json,sys; k=json.load(open(sys.argv[1]))["pebble"]["externalAccountMACKeys"]; print(sorted(k)[0])' "$EAB_EXAMPLE")
	EAB_KEY=$(python3 -c 'import json,sys; k=json.load(open(sys.argv[1]))["pebble"]["externalAccountMACKeys"]; print(k[sys.argv[2]])' "$EAB_EXAMPLE" "$EAB_KID")
	EAB_OTHER=$(python3 -c 'import json,sys; k=json.load(open(sys.argv[1]))["pebble"]["externalAccountMACKeys"]; print(k[sorted(k)[1]])' "$EAB_EXAMPLE")
	PEBBLE_EAB_KEYS=$(python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["pebble"]["externalAccountMACKeys"]))' "$EAB_EXAMPLE") \
		start_pebble "$PEB" "$PEB_MGMT" "$HTTP01" "$TLSALPN01" "$DNS"
	STATE=$T/state-eab-none
	if flint_run eab-none account register --email "$EMAIL" --agree-tos; then
		step_fail eab_required "register without EAB succeeded against a server that requires it"
	elif ! grep -q -- "--eab-kid" "$FLINT_ERR"; then
		step_fail eab_required "the error does not say how to give the binding; $(flint_why)"
	else
		step_ok eab_required
	fi
	STATE=$T/state-eab-wrong
	if flint_run eab-wrong account register --agree-tos --eab-kid "$EAB_KID" --eab-hmac-key "$EAB_OTHER"; then
		step_fail eab_wrong_key "register with the wrong MAC key succeeded"
	elif ! grep -qi "external account binding\|unauthorized" "$FLINT_ERR"; then
		step_fail eab_wrong_key "the error does not carry Pebble's detail; $(flint_why)"
	else
		step_ok eab_wrong_key
	fi
	STATE=$T/state-eab
	if ! flint_run eab-register account register --email "$EMAIL" --agree-tos --eab-kid "$EAB_KID" --eab-hmac-key "$EAB_KEY"; then
		step_fail eab_register "$(flint_why)"
	elif ! flint_run eab-show --json account show || ! grep -q '"valid"' "$FLINT_OUT"; then
		step_fail eab_register "account show after the EAB registration: $(flint_why)"
	else
		step_ok eab_register
	fi
	STATE=$T/state-eab-issue
	if flint_run eab-issue issue --agree-tos --eab-kid "$EAB_KID" --eab-alg HS256 --eab-hmac-key "$EAB_KEY" \
		--http01-port "$HTTP01" eab.example.com && check_cert eab.example.com eab.example.com; then
		step_ok eab_issue
	else
		step_fail eab_issue "${CHECK_ERR:-$(flint_why)}"
	fi
fi

if key_modes_ok "$T/state" "$T/state-nonce"; then step_ok key_file_modes; else step_fail key_file_modes "$CHECK_ERR"; fi
sanitizer_step

finish
