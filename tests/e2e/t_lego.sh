#!/bin/bash
# lego (Debian 4.9.1) against flintd:
#   http-01 (lego's own server on the port flintd validates against) -> verifies, SANs exact
#   dns-01 with the exec provider (TXT into challtestsrv), name + wildcard -> verifies
#   revoke (account key, reason superseded) -> serial in /ca/crl with the reason
# Ports 21100-21199.
TEST_NAME=t_lego
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_prog lego

PORT=21100 HTTP01=21102 DNS=21153 MGMT=21155
start_challtestsrv "$DNS" "$MGMT"
start_flintd "$PORT" "$HTTP01" "$DNS"
check_dir_url_printed || log "warning: flintd did not print $DIR_URL on stdout (yet)"

export LEGO_CA_CERTIFICATES="$ROOT" HOOK_LOG="$T/hook.log"
L=(lego --server "$DIR_URL" --accept-tos --email lego@example.com --path "$T/lego"
	--key-type ec256 --http-timeout 30)
N_HTTP=lego-http.example.com
N_DNS=lego-dns.example.com
TMO=180
CERTS="$T/lego/certificates"

# ---- 1. http-01
if run_logged lego-http "$TMO" "${L[@]}" --domains "$N_HTTP" --http --http.port "127.0.0.1:$HTTP01" run; then
	split_pem "$CERTS/$N_HTTP.crt" "$T/lh"
	if verify_fullchain "$CERTS/$N_HTTP.crt" "$N_HTTP" \
		&& verify_cert "$T/lh.1.pem" "$CERTS/$N_HTTP.issuer.crt" "$N_HTTP"; then
		step_ok lego_http01 "serial $(serial_of "$CERTS/$N_HTTP.crt")"
	else
		step_fail lego_http01 "$VERIFY_ERR"
	fi
else
	step_fail lego_http01 "lego run --http failed (see above)"
fi

# ---- 2. dns-01 with the exec provider, name and wildcard
printf '#!/bin/sh\nexec bash "%s" lego-exec "$@"\n' "$E2E_DIR/hook.sh" >"$T/lego-exec.sh"
chmod +x "$T/lego-exec.sh"
if EXEC_PATH="$T/lego-exec.sh" EXEC_PROPAGATION_TIMEOUT=30 EXEC_POLLING_INTERVAL=1 EXEC_SEQUENCE_INTERVAL=1 \
	run_logged lego-dns "$TMO" "${L[@]}" --domains "$N_DNS" --domains "*.$N_DNS" --dns exec \
	--dns.resolvers "$CTS_DNS" --dns.disable-cp run; then
	if verify_fullchain "$CERTS/$N_DNS.crt" "$N_DNS" "*.$N_DNS"; then
		step_ok lego_dns01_wildcard
		DNS_OK=1
	else
		step_fail lego_dns01_wildcard "$VERIFY_ERR"
	fi
else
	step_fail lego_dns01_wildcard "lego run --dns exec failed (see above)"
fi

# ---- 3. revoke the dns-01 certificate
if [ -z "${DNS_OK:-}" ]; then
	step_fail lego_revoke "no certificate from the dns-01 step"
else
	serial=$(serial_of "$CERTS/$N_DNS.crt")
	if ! run_logged lego-revoke 120 "${L[@]}" --domains "$N_DNS" revoke --reason 4; then
		step_fail lego_revoke "lego revoke failed (see above)"
	elif ! crl_has_serial "$serial"; then
		step_fail lego_revoke "$CRL_ERR"
	elif [ "$(crl_reason "$serial")" != "Superseded" ]; then
		step_fail lego_revoke "CRL entry for $serial has reason '$(crl_reason "$serial")', want Superseded"
	else
		step_ok lego_revoke "serial $serial in CRL, reason Superseded"
	fi
fi

finish
