#!/bin/bash
# dehydrated (Debian 0.7.0) against flintd (RSA account key, so RS256 JWS):
#   register; http-01 via a webroot served on the http-01 port -> verifies, SANs exact
#   dns-01 through the hook (TXT in challtestsrv), name + wildcard -> verifies
#   --account after changing CONTACT_EMAIL -> the server's account has the new contact
#   --revoke -> serial in /ca/crl
# Ports 21200-21299.
TEST_NAME=t_dehydrated
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_prog dehydrated jq

PORT=21200 HTTP01=21202 DNS=21253 MGMT=21255
start_challtestsrv "$DNS" "$MGMT"
start_flintd "$PORT" "$HTTP01" "$DNS"
check_dir_url_printed || log "warning: flintd did not print $DIR_URL on stdout (yet)"

export HOOK_LOG="$T/hook.log"
N_HTTP=dh-http.example.com
N_DNS=dh-dns.example.com
TMO=180
printf '#!/bin/sh\nexec bash "%s" dehydrated "$@"\n' "$E2E_DIR/hook.sh" >"$T/dh-hook.sh"
chmod +x "$T/dh-hook.sh"
mkdir -p "$T/dh" "$T/webroot/.well-known/acme-challenge"   # dehydrated refuses a missing BASEDIR

write_conf() {  # file challengetype contact
	cat >"$1" <<CONF
CA="$DIR_URL"
BASEDIR="$T/dh"
WELLKNOWN="$T/webroot/.well-known/acme-challenge"
CURL_OPTS="--cacert $ROOT --max-time 30"
KEY_ALGO=prime256v1
CHALLENGETYPE=$2
HOOK="$T/dh-hook.sh"
CONTACT_EMAIL=$3
CONF
}
write_conf "$T/http.conf" http-01 old@example.com
write_conf "$T/dns.conf" dns-01 old@example.com

dh() {  # logname conf args...
	local name=$1 conf=$2
	shift 2
	run_logged "$name" "$TMO" dehydrated -f "$conf" "$@" || return 1
	if grep -q 'ERROR' "$T/$name.log"; then
		echo "---- dehydrated reported an error in $T/$name.log ----"
		grep -A3 'ERROR' "$T/$name.log" | head -n 20
		return 1
	fi
}

# ---- 0. account registration
if ! dh dh-register "$T/http.conf" --register --accept-terms; then
	step_fail dehydrated_register "dehydrated --register failed (see above)"
	finish
fi
step_ok dehydrated_register

# ---- 1. http-01 through the webroot served on the validation port
start_webroot "$T/webroot" "$HTTP01"
if DH_CHALLENGE=http-01 dh dh-http "$T/http.conf" -c -d "$N_HTTP" -t http-01; then
	d="$T/dh/certs/$N_HTTP"
	if verify_cert "$d/cert.pem" "$d/chain.pem" "$N_HTTP" && verify_fullchain "$d/fullchain.pem" "$N_HTTP"; then
		step_ok dehydrated_http01 "serial $(serial_of "$d/cert.pem")"
	else
		step_fail dehydrated_http01 "$VERIFY_ERR"
	fi
else
	step_fail dehydrated_http01 "dehydrated -c -t http-01 failed (see above)"
fi
stop_pid "$WEBROOT_PID" 5

# ---- 2. dns-01 through the hook, name and wildcard
if DH_CHALLENGE=dns-01 dh dh-dns "$T/dns.conf" -c -d "$N_DNS" -d "*.$N_DNS" -t dns-01; then
	d="$T/dh/certs/$N_DNS"
	if verify_cert "$d/cert.pem" "$d/chain.pem" "$N_DNS" "*.$N_DNS"; then
		step_ok dehydrated_dns01_wildcard
		DNS_CERT="$d/cert.pem"
	else
		step_fail dehydrated_dns01_wildcard "$VERIFY_ERR"
	fi
else
	step_fail dehydrated_dns01_wildcard "dehydrated -c -t dns-01 failed (see above)"
fi

# ---- 3. account contact update
acct_key=$(find "$T/dh/accounts" -name account_key.pem 2>/dev/null | head -n 1)
sed -i 's/^CONTACT_EMAIL=.*/CONTACT_EMAIL=new@example.com/' "$T/http.conf"
if [ -z "$acct_key" ]; then
	step_fail dehydrated_account_update "no account key under $T/dh/accounts"
elif ! dh dh-account "$T/http.conf" --account; then
	step_fail dehydrated_account_update "dehydrated --account failed (see above)"
elif grep -q 'Account information was the same' "$T/dh-account.log"; then
	step_fail dehydrated_account_update "server answered the update with unchanged account information"
elif ! info=$(acme_account_info "$acct_key" 2>"$T/acctinfo.err"); then
	step_fail dehydrated_account_update "fetching the account from the server failed: $(tail -n 3 "$T/acctinfo.err")"
elif [ "$(jq -c '.contact' <<<"$info")" != '["mailto:new@example.com"]' ]; then
	step_fail dehydrated_account_update "server account contact is $(jq -c '.contact' <<<"$info"), want [\"mailto:new@example.com\"]"
else
	step_ok dehydrated_account_update "$(jq -r .url <<<"$info")"
fi

# ---- 4. revoke the dns-01 certificate
if [ -z "${DNS_CERT:-}" ]; then
	step_fail dehydrated_revoke "no certificate from the dns-01 step"
else
	serial=$(serial_of "$DNS_CERT")
	cp "$DNS_CERT" "$T/dns-cert.pem"
	if ! dh dh-revoke "$T/http.conf" --revoke "$T/dns-cert.pem"; then
		step_fail dehydrated_revoke "dehydrated --revoke failed (see above)"
	elif ! crl_has_serial "$serial"; then
		step_fail dehydrated_revoke "$CRL_ERR"
	else
		step_ok dehydrated_revoke "serial $serial in CRL"
	fi
fi

finish
