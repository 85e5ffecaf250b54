#!/bin/bash
# dns-account-01 (draft-ietf-acme-dns-account-label) end to end: flintd validating it
# against pebble-challtestsrv, flint answering it with --dns-hook --dns-account.
#   the label: flint's account URL (`account show --json`, and account.json in the state
#   dir) hashed here independently (python3 hashlib + base64.b32encode) gives the FQDN
#   the hook must be called with; flintd offers dns-account-01 to names and wildcards;
#   issue a name and its wildcard in one order: the hook gets only account-label FQDNs
#   (never _acme-challenge.NAME.), flintd logs dns-account-01 valid, the certificate
#   verifies; a second account (own state dir) issues under its own label;
#   negative: the TXT at the plain _acme-challenge name, and under the second account's
#   label, make flint fail naming the identifier, dns-account-01 and flintd's problem
#   detail (which names the queried name); --dns-account without a DNS solver exits 2;
#   then --dns-update --dns-account (RFC 2136 + TSIG) against Knot, with a second
#   flintd resolving through Knot: a name and a wildcard, no TXT left afterwards.
# Env: FLINTD, FLINT_BIN (both required), FLINT_SRC. Ports 22300-22399: flintd +0,
# http-01 +2 (unused: flintd needs one), challtestsrv DNS +53 and management +55;
# the second flintd +10, its http-01 +12, Knot +63.
TEST_NAME=t_dns_account
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$E2E_DIR/client.sh"

PORT=22300 HTTP01=22302 DNS=22353 CTS=22355 PORT2=22310 HTTP02=22312 KNOT=22363
start_challtestsrv "$DNS" "$CTS"
start_flintd "$PORT" "$HTTP01" "$DNS"
ACME_URL=$DIR_URL ACME_CA=$ROOT STATE=$T/state
HOOK=$T/dns-hook
make_dns_hook "$HOOK" ok

# relabel_hook FILE LABEL: a hook that publishes at LABEL._acme-challenge.NAME. (or at
# _acme-challenge.NAME. when LABEL is empty) whatever FQDN flint passes
relabel_hook() {
	mkdir -p "$T/hook-state"
	cat >"$1" <<EOF
#!/bin/sh
CTS_MGMT='$CTS_MGMT' HOOK_LOG='$T/hook.log' HOOK_STATE='$T/hook-state' HOOK_MODE=relabel \\
	HOOK_RELABEL='$2' exec bash '$E2E_DIR/flint-dns-hook.sh' "\$@"
EOF
	chmod 755 "$1"
}

# label_of URL: "_" + lowercase base32(SHA-256(URL)[0:10]), computed without flint
label_of() {
	"$PY" -c 'import sys, hashlib, base64
print("_" + base64.b32encode(hashlib.sha256(sys.argv[1].encode()).digest()[:10]).decode().lower())' "$1"
}

# account_url_shown NAME: the "url" of `flint account show --json` (run as NAME)
account_url_shown() {
	flint_run "$1" account show --json || return 1
	"$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["url"])' "$FLINT_OUT"
}

# flintd_detail TYPE IDENT: the problem detail flintd logged for its last invalid TYPE
# challenge of IDENT (as in t_client_flintd.sh)
flintd_detail() {
	local id
	id=$(sed -n "s/^.*state challenge=\([^ ]*\) type=$1 identifier=$2 status=invalid.*$/\1/p" "$T/flintd.log" | tail -n 1)
	[ -n "$id" ] || return 1
	sed -n "s/^.*validate challenge=$id detail=\"\(.*\)\"$/\1/p" "$T/flintd.log" | tail -n 1
}

# valid_logged TYPE IDENT: flintd logged a valid TYPE challenge for IDENT
valid_logged() { grep -q "state challenge=[^ ]* type=$1 identifier=$2 status=valid" "$T/flintd.log"; }

# ---- the account and its label
if ! flint_run register account register --email dns-account@example.com --agree-tos; then
	fail "account register: $(flint_why)"
fi
ACCT=$(account_url_shown account_show) || fail "account show --json: $(flint_why)"
case "$ACCT" in
"$BASE_URL"/acme/acct/?*) ;;
*) fail "account show --json gives url '$ACCT', want $BASE_URL/acme/acct/ID (flintd's Location)" ;;
esac
STORED=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["url"])' \
	"$(find "$STATE/accounts" -name account.json -type f | head -n 1)" 2>/dev/null)
LABEL=$(label_of "$ACCT")
[[ $LABEL =~ ^_[a-z2-7]{16}$ ]] || fail "label_of '$ACCT' gave '$LABEL'"
# the draft's example, so a broken label_of cannot agree with a broken flint
[ "$(label_of https://example.com/acme/acct/ExampleAccount)" = _ujmmovf2vn55tgye ] \
	|| fail "label_of does not reproduce the draft's example _ujmmovf2vn55tgye"
if [ "$STORED" != "$ACCT" ]; then
	step_fail account_url "account.json has url '$STORED', account show --json '$ACCT'"
else
	step_ok account_url "$ACCT -> $LABEL"
fi

# ---- issue a name and its wildcard with dns-account-01
NAME=acct.example.com
hook_reset
if ! flint_run issue issue --dns-hook "$HOOK" --dns-account "$NAME" "*.$NAME"; then
	step_fail issue_name_and_wildcard "$(flint_why)"
elif ! check_cert "$NAME" "$NAME" "*.$NAME"; then
	step_fail issue_name_and_wildcard "$CHECK_ERR"
else
	err=''
	fqdn="$LABEL._acme-challenge.$NAME."
	vals=$(awk -v f="$fqdn" '$1 == "present" && $2 == f { print $3 }' "$T/hook.log" | sort -u)
	[ "$(grep -c . <<<"$vals")" = 2 ] \
		|| err+="want two 'present $fqdn VALUE' calls with distinct values (name and wildcard); "
	for v in $vals; do
		grep -qxF "cleanup $fqdn $v" "$T/hook.log" || err+="no 'cleanup $fqdn $v'; "
	done
	others=$(awk -v f="$fqdn" '($1 == "present" || $1 == "cleanup") && $2 != f' "$T/hook.log")
	[ -z "$others" ] || err+="hook calls for other names: $(tr '\n' ';' <<<"$others"); "
	grep -q '^BADARGS\|^ERROR' "$T/hook.log" && err+="hook errors: $(grep -m1 '^BADARGS\|^ERROR' "$T/hook.log"); "
	[ "$(grep -c "state challenge=[^ ]* type=dns-account-01 identifier=$NAME status=valid" "$T/flintd.log")" = 2 ] \
		|| err+="flintd did not log two valid dns-account-01 challenges for $NAME; "
	grep -q "type=dns-01 identifier=$NAME " "$T/flintd.log" && err+="flintd validated dns-01 for $NAME; "
	if [ -n "$err" ]; then
		step_fail issue_name_and_wildcard "$err hook log: $(head -c 600 "$T/hook.log" | tr '\n' ';')"
	else
		step_ok issue_name_and_wildcard "serial $(cert_serial "$NAME"), TXT at $fqdn"
	fi
fi

# ---- a second account: its own label
STATE_A=$STATE
STATE=$T/state2
if ! flint_run register2 account register --email other@example.com --agree-tos; then
	fail "second account register: $(flint_why)"
fi
ACCT2=$(account_url_shown account_show2) || fail "account show --json (second account): $(flint_why)"
LABEL2=$(label_of "$ACCT2")
if [ "$ACCT2" = "$ACCT" ] || [ "$LABEL2" = "$LABEL" ]; then
	fail "the second account has the same URL or label as the first ($ACCT2, $LABEL2)"
fi
hook_reset
if ! flint_run issue2 issue --dns-hook "$HOOK" --dns-account other.example.com; then
	step_fail issue_second_account "$(flint_why)"
elif ! check_cert other.example.com other.example.com; then
	step_fail issue_second_account "$CHECK_ERR"
elif ! grep -q "^present $LABEL2._acme-challenge.other.example.com. " "$T/hook.log"; then
	step_fail issue_second_account "no 'present $LABEL2._acme-challenge.other.example.com. VALUE' (hook log: $(tr '\n' ';' <"$T/hook.log"))"
else
	step_ok issue_second_account "$ACCT2 -> $LABEL2"
fi
STATE=$STATE_A

# ---- the TXT at the wrong name: flint fails with flintd's problem
# neg_step STEP IDENT HOOK WANT_NAME: flint must fail, and say IDENT, dns-account-01 and
# flintd's detail, which names WANT_NAME (the name flintd queried)
neg_step() {
	local step=$1 ident=$2 hook=$3 want=$4 detail miss=''
	hook_reset
	if flint_run "$step" issue --dns-hook "$hook" --dns-account "$ident"; then
		step_fail "$step" "flint exited 0 although the record is at the wrong name"
		return
	fi
	if [ "$FLINT_RC" = 124 ] || [ "$FLINT_RC" -gt 128 ]; then
		step_fail "$step" "$(flint_why)"
		return
	fi
	if ! detail=$(flintd_detail dns-account-01 "$ident") || [ -z "$detail" ]; then
		step_fail "$step" "flintd logged no invalid dns-account-01 challenge for $ident; $(flint_why)"
		return
	fi
	grep -q '^present ' "$T/hook.log" || miss+=" (the hook never presented);"
	grep -qF -- "$want" <<<"$detail" || miss+=" flintd's detail does not name $want;"
	grep -qF -- "$ACCT" <<<"$detail" || miss+=" flintd's detail does not name the account URL;"
	grep -qF -- "$ident" "$FLINT_ERR" || miss+=" stderr lacks the identifier;"
	grep -qF -- dns-account-01 "$FLINT_ERR" || miss+=" stderr lacks 'dns-account-01';"
	grep -qF -- "$detail" "$FLINT_ERR" || miss+=" stderr lacks the server's detail '$detail';"
	grep -q unauthorized "$T/flintd.log" || miss+=" flintd logged no unauthorized problem;"
	if [ -n "$miss" ]; then
		step_fail "$step" "$miss stderr was: $(head -c 600 "$FLINT_ERR" | tr '\n' ' ')"
	else
		step_ok "$step" "exit $FLINT_RC: $detail"
	fi
}
PLAIN_HOOK=$T/dns-hook-plain OTHER_HOOK=$T/dns-hook-other
relabel_hook "$PLAIN_HOOK" ''
relabel_hook "$OTHER_HOOK" "$LABEL2"
neg_step error_plain_acme_challenge plain.example.com "$PLAIN_HOOK" "$LABEL._acme-challenge.plain.example.com"
neg_step error_other_accounts_label other2.example.com "$OTHER_HOOK" "$LABEL._acme-challenge.other2.example.com"
# the records really were published, at the names the hooks chose (their state files)
if [ -e "$T/hook-state/_acme-challenge.plain.example.com." ] &&
	[ -e "$T/hook-state/$LABEL2._acme-challenge.other2.example.com." ]; then
	step_ok negative_records_published
else
	step_fail negative_records_published "no hook state for _acme-challenge.plain.example.com. or $LABEL2._acme-challenge.other2.example.com.: $(ls "$T/hook-state" | tr '\n' ' ')"
fi

# ---- usage: --dns-account alone is not a way to answer challenges
flint_run usage issue --dns-account usage.example.com
if [ "$FLINT_RC" != 2 ] || ! grep -q -- --dns-account "$FLINT_ERR"; then
	step_fail usage_dns_account_alone "want exit 2 and a message naming --dns-account; $(flint_why)"
else
	step_ok usage_dns_account_alone
fi
help_lists --dns-account help-issue issue && step_ok help_lists_dns_account \
	|| step_fail help_lists_dns_account "'flint issue --help' does not list --dns-account"

# ---- --dns-update --dns-account against Knot: a second flintd resolving through Knot
stop_flintd
if [ "$FLINTD_RC" = 0 ]; then step_ok flintd_clean_exit_first; else
	step_fail flintd_clean_exit_first "flintd exited with status $FLINTD_RC after SIGTERM"; fi
. "$E2E_DIR/knot.sh"
ZONE=example.com  # not .test: unbound (flintd's resolver) answers NXDOMAIN for .test itself
start_knot "$T/knot" "$ZONE" "$KNOT"
DATA=$T/data2 start_flintd "$PORT2" "$HTTP02" "$KNOT"
ACME_URL=$DIR_URL ACME_CA=$ROOT STATE=$T/state3
step=issue_dns_update
if ! flint_run "$step" issue --agree-tos --dns-update "127.0.0.1:$KNOT" \
	--tsig-key "$TSIG_NAME:$TSIG_ALG:$TSIG_SECRET" --dns-account "a.$ZONE" "*.$ZONE"; then
	step_fail "$step" "$(flint_why)"
elif ! check_cert "a.$ZONE" "a.$ZONE" "*.$ZONE"; then
	step_fail "$step" "$CHECK_ERR"
elif ! ACCT3=$(account_url_shown account_show3); then
	step_fail "$step" "account show --json: $(flint_why)"
else
	L3=$(label_of "$ACCT3") err=''
	for n in "a.$ZONE" "$ZONE"; do
		[ "$(grep -c "state challenge=[^ ]* type=dns-account-01 identifier=$n status=valid" "$T/flintd.log")" = 1 ] \
			|| err+="flintd logged no valid dns-account-01 challenge for $n; "
		left=$(kdig +short +timeout=2 +retry=1 @127.0.0.1 -p "$KNOT" TXT "$L3._acme-challenge.$n" 2>/dev/null)
		[ -z "$left" ] || err+="TXT left at $L3._acme-challenge.$n: $left; "
	done
	grep -q "DDNS, finished" "$T/knot/knotd.log" || err+="knotd logged no finished DDNS; "
	if [ -n "$err" ]; then step_fail "$step" "$err"; else step_ok "$step" "$ACCT3 -> $L3"; fi
fi

if key_modes_ok "$STATE_A" "$T/state2" "$T/state3"; then step_ok key_file_modes; else step_fail key_file_modes "$CHECK_ERR"; fi
sanitizer_step

finish
