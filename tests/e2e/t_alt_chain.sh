#!/bin/bash
# Alternate chains (RFC 8555 §7.4.2) with flintd --alternate-chain: a second root
# (DATA/root-alt.pem) cross-signs the intermediate; each certificate is served with its
# default chain and the alternate one, linked by Link: rel="alternate".
#   certbot --preferred-chain, lego --preferred-chain and flint --preferred-chain, each with
#   the second root's CN: the chain they store verifies to root-alt.pem and NOT to root.pem;
#   without a preference each keeps the default chain (verifies to root.pem only);
#   /ca/root-alt.pem serves the second root; flintd without --alternate-chain answers 404
#   for the alternate chain (a scripted client checks the Link headers both ways).
# Ports 22600-22699: flintd +0, http-01 +2, challtestsrv DNS +53 and management +55.
TEST_NAME=t_alt_chain
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$E2E_DIR/client.sh"
need_prog certbot lego openssl curl

PORT=22600 HTTP01=22602 DNS=22653 CTS=22655
start_challtestsrv "$DNS" "$CTS"
start_flintd "$PORT" "$HTTP01" "$DNS" --alternate-chain
MAIN_ROOT=$ROOT ALT_ROOT=$DATA/root-alt.pem
[ -s "$ALT_ROOT" ] || fail "flintd --alternate-chain created no $ALT_ROOT"
ALT_CN=$(openssl x509 -in "$ALT_ROOT" -noout -subject -nameopt multiline | sed -n 's/^ *commonName *= *//p')
log "alternate root: $ALT_CN"

if curl -sf --cacert "$MAIN_ROOT" "$BASE_URL/ca/root-alt.pem" | cmp -s - "$ALT_ROOT"; then
	step_ok root_alt_served
else
	step_fail root_alt_served "$BASE_URL/ca/root-alt.pem differs from $ALT_ROOT"
fi

# chain_step STEP LEAF CHAIN NAME WANT(alt|main): the chain verifies to the wanted root only
chain_step() {
	local step=$1 leaf=$2 chain=$3 name=$4 want=$5 other
	ROOT=$([ "$want" = alt ] && echo "$ALT_ROOT" || echo "$MAIN_ROOT")
	other=$([ "$want" = alt ] && echo "$MAIN_ROOT" || echo "$ALT_ROOT")
	if ! verify_cert "$leaf" "$chain" "$name"; then
		step_fail "$step" "$VERIFY_ERR"
	elif openssl verify -CAfile "$other" -untrusted "$chain" "$leaf" >/dev/null 2>&1; then
		step_fail "$step" "the chain also verifies to $other: not the $want chain"
	else
		step_ok "$step" "verifies to the $want root only"
	fi
	ROOT=$MAIN_ROOT
}

# ---- certbot
export REQUESTS_CA_BUNDLE="$MAIN_ROOT"
CB=(certbot --non-interactive --agree-tos --no-eff-email --server "$DIR_URL" -m cb@example.com
	--config-dir "$T/cb/cfg" --work-dir "$T/cb/work" --logs-dir "$T/cb/logs" certonly --standalone
	--preferred-challenges http-01 --http-01-port "$HTTP01" --http-01-address 127.0.0.1)
if run_logged certbot-alt 180 "${CB[@]}" --preferred-chain "$ALT_CN" -d cb-alt.example.com; then
	live=$T/cb/cfg/live/cb-alt.example.com
	chain_step certbot_preferred "$live/cert.pem" "$live/chain.pem" cb-alt.example.com alt
else
	step_fail certbot_preferred "certbot --preferred-chain failed (see above)"
fi
if run_logged certbot-default 180 "${CB[@]}" -d cb-default.example.com; then
	live=$T/cb/cfg/live/cb-default.example.com
	chain_step certbot_default "$live/cert.pem" "$live/chain.pem" cb-default.example.com main
else
	step_fail certbot_default "certbot failed (see above)"
fi

# ---- lego
L=(env LEGO_CA_CERTIFICATES="$MAIN_ROOT" lego --server "$DIR_URL" --accept-tos --email lego@example.com
	--path "$T/lego" --key-type ec256 --http-timeout 30 --http --http.port "127.0.0.1:$HTTP01")
CERTS=$T/lego/certificates
if run_logged lego-alt 180 "${L[@]}" --domains lego-alt.example.com run --preferred-chain "$ALT_CN"; then
	split_pem "$CERTS/lego-alt.example.com.crt" "$T/la"
	chain_step lego_preferred "$T/la.1.pem" "$CERTS/lego-alt.example.com.issuer.crt" lego-alt.example.com alt
else
	step_fail lego_preferred "lego --preferred-chain failed (see above)"
fi
if run_logged lego-default 180 "${L[@]}" --domains lego-default.example.com run; then
	split_pem "$CERTS/lego-default.example.com.crt" "$T/ld"
	chain_step lego_default "$T/ld.1.pem" "$CERTS/lego-default.example.com.issuer.crt" lego-default.example.com main
else
	step_fail lego_default "lego failed (see above)"
fi

# ---- flint
ACME_URL=$DIR_URL ACME_CA=$MAIN_ROOT STATE=$T/state
flint_run register account register --email flint@example.com --agree-tos || fail "register: $(flint_why)"
if flint_run flint-alt issue --http01-port "$HTTP01" --preferred-chain "$ALT_CN" flint-alt.example.com; then
	d=$(cert_dir flint-alt.example.com)
	chain_step flint_preferred "$d/cert.pem" "$d/chain.pem" flint-alt.example.com alt
else
	step_fail flint_preferred "$(flint_why)"
fi
if flint_run flint-default issue --http01-port "$HTTP01" flint-default.example.com; then
	d=$(cert_dir flint-default.example.com)
	chain_step flint_default "$d/cert.pem" "$d/chain.pem" flint-default.example.com main
else
	step_fail flint_default "$(flint_why)"
fi

# ---- Link headers both ways; one chain only without --alternate-chain
if run_tool links 120 "$PY" "$TOOLS_DIR/alt_chain_links.py" --dir "$DIR_URL" --ca "$MAIN_ROOT" \
	--http01-port "$HTTP01" --expect alternate; then
	step_ok links_alternate
else
	step_fail links_alternate "see the output above"
fi
stop_flintd
[ "$FLINTD_RC" = 0 ] || step_fail flintd_clean_exit "flintd exited $FLINTD_RC"
start_flintd "$PORT" "$HTTP01" "$DNS"
if run_tool links-none 120 "$PY" "$TOOLS_DIR/alt_chain_links.py" --dir "$DIR_URL" --ca "$MAIN_ROOT" \
	--http01-port "$HTTP01" --expect none; then
	step_ok links_none
else
	step_fail links_none "see the output above"
fi
finish
