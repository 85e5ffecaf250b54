#!/bin/bash
# certbot (Debian 2.1.0) against flintd:
#   http-01 (standalone)  -> chain verifies to DATA/root.pem, SANs exact
#   dns-01 (manual + hooks setting TXT in challtestsrv), name + wildcard -> verifies
#   update_account -m new@example.com -> certbot confirms; the server's account has the new contact
#   revoke (account key) -> serial in /ca/crl with the reason; revoke with the certificate key too
# Ports 21000-21099.
TEST_NAME=t_certbot
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_prog certbot jq

PORT=21000 HTTP01=21002 DNS=21053 MGMT=21055
start_challtestsrv "$DNS" "$MGMT"
start_flintd "$PORT" "$HTTP01" "$DNS"
check_dir_url_printed || log "warning: flintd did not print $DIR_URL on stdout (yet)"

export REQUESTS_CA_BUNDLE="$ROOT" HOOK_LOG="$T/hook.log"
CB=(certbot --non-interactive --agree-tos --no-eff-email --server "$DIR_URL"
	--config-dir "$T/cb/cfg" --work-dir "$T/cb/work" --logs-dir "$T/cb/logs")
HOOK="bash $E2E_DIR/hook.sh"
N_HTTP=cb-http.example.com
N_DNS=cb-dns.example.com
TMO=180

# ---- 1. http-01, standalone authenticator on the port flintd validates against
if run_logged certbot-http "$TMO" "${CB[@]}" -m old@example.com certonly --standalone \
	--preferred-challenges http-01 --http-01-port "$HTTP01" --http-01-address 127.0.0.1 -d "$N_HTTP"; then
	live="$T/cb/cfg/live/$N_HTTP"
	if verify_cert "$live/cert.pem" "$live/chain.pem" "$N_HTTP" && verify_fullchain "$live/fullchain.pem" "$N_HTTP"; then
		step_ok certbot_http01 "serial $(serial_of "$live/cert.pem")"
		HTTP_CERT="$live/cert.pem"
	else
		step_fail certbot_http01 "$VERIFY_ERR"
	fi
else
	step_fail certbot_http01 "certbot certonly --standalone failed (see above)"
fi

# ---- 2. dns-01 through manual hooks (name and its wildcard: two TXT values at once)
if run_logged certbot-dns "$TMO" "${CB[@]}" -m old@example.com certonly --manual \
	--preferred-challenges dns-01 --manual-auth-hook "$HOOK certbot-auth" \
	--manual-cleanup-hook "$HOOK certbot-cleanup" -d "$N_DNS" -d "*.$N_DNS"; then
	live="$T/cb/cfg/live/$N_DNS"
	if verify_cert "$live/cert.pem" "$live/chain.pem" "$N_DNS" "*.$N_DNS"; then
		step_ok certbot_dns01_wildcard
		DNS_CERT="$live/cert.pem" DNS_KEY="$live/privkey.pem"
	else
		step_fail certbot_dns01_wildcard "$VERIFY_ERR"
	fi
else
	step_fail certbot_dns01_wildcard "certbot certonly --manual dns-01 failed (see above)"
fi

# ---- 3. update_account: new e-mail, confirmed by certbot and by the server
acct_key=$(find "$T/cb/cfg/accounts" -name private_key.json 2>/dev/null | head -n 1)
if [ -z "$acct_key" ]; then
	step_fail certbot_update_account "certbot stored no account (registration failed?)"
elif ! run_logged certbot-update 120 "${CB[@]}" update_account -m new@example.com; then
	step_fail certbot_update_account "certbot update_account failed (see above)"
elif ! grep -q 'new@example.com' "$T/certbot-update.log"; then
	step_fail certbot_update_account "certbot printed no confirmation mentioning new@example.com"
elif ! info=$(acme_account_info "$acct_key" 2>"$T/acctinfo.err"); then
	step_fail certbot_update_account "fetching the account from the server failed: $(tail -n 3 "$T/acctinfo.err")"
elif [ "$(jq -c '.contact' <<<"$info")" != '["mailto:new@example.com"]' ]; then
	step_fail certbot_update_account "server account contact is $(jq -c '.contact' <<<"$info"), want [\"mailto:new@example.com\"]"
else
	step_ok certbot_update_account "$(jq -r .url <<<"$info")"
fi

# ---- 4. revoke with the account key; the serial must appear in the CRL with the reason
if [ -z "${HTTP_CERT:-}" ]; then
	step_fail certbot_revoke "no certificate from the http-01 step"
else
	serial=$(serial_of "$HTTP_CERT")
	if ! run_logged certbot-revoke 120 "${CB[@]}" revoke --cert-path "$HTTP_CERT" --reason superseded \
		--no-delete-after-revoke; then
		step_fail certbot_revoke "certbot revoke failed (see above)"
	elif ! grep -qi 'successfully revoked' "$T/certbot-revoke.log"; then
		step_fail certbot_revoke "certbot did not report success"
	elif ! crl_has_serial "$serial"; then
		step_fail certbot_revoke "$CRL_ERR"
	elif [ "$(crl_reason "$serial")" != "Superseded" ]; then
		step_fail certbot_revoke "CRL entry for $serial has reason '$(crl_reason "$serial")', want Superseded"
	else
		step_ok certbot_revoke "serial $serial in CRL, reason Superseded"
	fi
fi

# ---- 5. revoke signed by the certificate's own key (JWS with jwk)
if [ -z "${DNS_CERT:-}" ]; then
	step_fail certbot_revoke_cert_key "no certificate from the dns-01 step"
else
	serial=$(serial_of "$DNS_CERT")
	if ! run_logged certbot-revoke2 120 "${CB[@]}" revoke --cert-path "$DNS_CERT" --key-path "$DNS_KEY" \
		--reason keycompromise --no-delete-after-revoke; then
		step_fail certbot_revoke_cert_key "certbot revoke --key-path failed (see above)"
	elif ! crl_has_serial "$serial"; then
		step_fail certbot_revoke_cert_key "$CRL_ERR"
	elif [ "$(crl_reason "$serial")" != "Key Compromise" ]; then
		step_fail certbot_revoke_cert_key "CRL entry for $serial has reason '$(crl_reason "$serial")', want Key Compromise"
	else
		step_ok certbot_revoke_cert_key "serial $serial in CRL, reason Key Compromise"
	fi
fi

finish
