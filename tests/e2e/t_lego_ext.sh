#!/bin/bash
# tls-alpn-01 (RFC 8737) and IP identifiers (RFC 8738) against flintd:
#   lego (Debian 4.9.1) --tls for a DNS name (resolved to 127.0.0.1 by challtestsrv) -> verifies,
#     SANs exact, flintd logged the tls-alpn-01 challenge valid
#   lego --domains 127.0.0.1: lego 4.9.1 sends addresses as "dns" identifiers (no RFC 8738
#     support), which flintd refuses (rejectedIdentifier pointing at the "ip" type)
#   flint (the client): issue --tlsalpn01-port for a DNS name, issue --http01-port for
#     127.0.0.1, issue --tlsalpn01-port for ::1 (typed 0:0::1) and, from a second account,
#     issue --http01-port for ::1 (URL host [::1]) -> iPAddress SAN only
#   certbot 2.1.0: refuses `-d 127.0.0.1` itself ("Requested name ... is an IP address");
#     `certonly --csr` with DNS:NAME + IP:127.0.0.1 gets both SANs (ip identifier by http-01)
#   a dns identifier holding an address (127.0.0.1, ::1) is refused at newOrder
# Ports 22200-22299: flintd +0, http-01 +2, tls-alpn-01 +3, challtestsrv DNS +53, mgmt +55.
TEST_NAME=t_lego_ext
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_prog lego

PORT=22200 HTTP01=22202 TLSALPN=22203 DNS=22253 MGMT=22255
start_challtestsrv "$DNS" "$MGMT"
wait_port_free "$TLSALPN" || fail "port $TLSALPN busy"
start_flintd "$PORT" "$HTTP01" "$DNS" --tlsalpn01-port "$TLSALPN"

export LEGO_CA_CERTIFICATES="$ROOT"
L=(lego --server "$DIR_URL" --accept-tos --email lego-ext@example.com --path "$T/lego"
	--key-type ec256 --http-timeout 30)
CERTS="$T/lego/certificates"
TMO=180

# verify_sans LEAF CHAIN SANLINE...: chains to ROOT, and the SANs (as `openssl x509 -ext
# subjectAltName` prints them: "DNS:x", "IP Address:127.0.0.1") are exactly SANLINE...
verify_sans() {
	local leaf=$1 chain=$2 out want got
	shift 2
	VERIFY_ERR=
	[ -s "$leaf" ] || { VERIFY_ERR="no certificate file $leaf"; return 1; }
	if ! out=$(openssl verify -CAfile "$ROOT" -untrusted "$chain" "$leaf" 2>&1); then
		VERIFY_ERR="openssl verify -CAfile $ROOT -untrusted $chain $leaf: $out"
		return 1
	fi
	want=$(printf '%s\n' "$@" | sort)
	got=$(cert_sans "$leaf")
	[ "$want" = "$got" ] || { VERIFY_ERR="SANs [$(tr '\n' ' ' <<<"$got")] != expected [$(tr '\n' ' ' <<<"$want")]"; return 1; }
}

# verify_full FULLCHAIN SANLINE...: the first certificate is the leaf, the rest its chain.
verify_full() {
	local f=$1 pfx i
	shift
	pfx="$T/full.$RANDOM"
	[ -s "$f" ] || { VERIFY_ERR="no certificate file $f"; return 1; }
	split_pem "$f" "$pfx"
	[ "$PEM_COUNT" -ge 2 ] || { VERIFY_ERR="$f holds $PEM_COUNT certificate(s)"; return 1; }
	: >"$pfx.chain"
	for ((i = 2; i <= PEM_COUNT; i++)); do cat "$pfx.$i.pem" >>"$pfx.chain"; done
	verify_sans "$pfx.1.pem" "$pfx.chain" "$@"
}

# validated TYPE IDENT: flintd logged a valid challenge of TYPE for IDENT (its state lines).
validated() {
	grep -qF "type=$1 identifier=$2 status=valid" "$T/flintd.log"
}

# ---- 1. lego, tls-alpn-01, DNS name
N_ALPN=lego-alpn.example.com
if run_logged lego-tls "$TMO" "${L[@]}" --domains "$N_ALPN" --tls --tls.port "127.0.0.1:$TLSALPN" run; then
	if ! verify_full "$CERTS/$N_ALPN.crt" "DNS:$N_ALPN"; then
		step_fail lego_tlsalpn01_dns "$VERIFY_ERR"
	elif ! validated tls-alpn-01 "$N_ALPN"; then
		step_fail lego_tlsalpn01_dns "flintd did not log a valid tls-alpn-01 challenge for $N_ALPN"
	else
		step_ok lego_tlsalpn01_dns "serial $(serial_of "$CERTS/$N_ALPN.crt")"
	fi
else
	step_fail lego_tlsalpn01_dns "lego run --tls failed (see above)"
fi

# ---- 2. lego 4.9.1 has no RFC 8738 support: it sends an address as a "dns" identifier,
# which flintd refuses at newOrder with a detail pointing at the "ip" type.
if run_bounded "$TMO" "$T/lego-ip4.log" "${L[@]}" --domains 127.0.0.1 --http --http.port "127.0.0.1:$HTTP01" run; then
	step_fail lego_ip_as_dns_refused "lego got a certificate for 127.0.0.1 sent as a dns identifier"
elif grep -q 'rejectedIdentifier.*send it as an "ip" identifier' "$T/lego-ip4.log"; then
	step_ok lego_ip_as_dns_refused "rejectedIdentifier naming the ip type"
else
	step_fail lego_ip_as_dns_refused "lego failed, but not with flintd's rejectedIdentifier: $(tail -n 3 "$T/lego-ip4.log")"
fi

# ---- 3. flint, the client (ip identifiers, RFC 8738): tls-alpn-01 for a name, http-01 for
# 127.0.0.1 (Host: the literal), tls-alpn-01 for ::1 (SNI: the ip6.arpa name)
if [ -n "${FLINT_BIN:-}" ]; then
	. "$E2E_DIR/client.sh"
	ACME_URL=$DIR_URL ACME_CA=$ROOT STATE=$T/flint
	N_FLINT=flint-alpn.example.com
	if ! flint_run flint-tls issue --agree-tos --email flint-ext@example.com --tlsalpn01-port "$TLSALPN" \
		--tlsalpn01-bind 127.0.0.1 "$N_FLINT"; then
		step_fail flint_tlsalpn01_dns "$(flint_why)"
	elif ! check_cert "$N_FLINT" "$N_FLINT"; then
		step_fail flint_tlsalpn01_dns "$CHECK_ERR"
	elif ! validated tls-alpn-01 "$N_FLINT"; then
		step_fail flint_tlsalpn01_dns "flintd did not log a valid tls-alpn-01 challenge for $N_FLINT"
	else
		step_ok flint_tlsalpn01_dns
	fi
	if ! flint_run flint-ip4 issue --http01-port "$HTTP01" --http01-bind 127.0.0.1 127.0.0.1; then
		step_fail flint_ip4_http01 "$(flint_why)"
	elif ! verify_full "$(cert_dir 127.0.0.1)/fullchain.pem" "IP Address:127.0.0.1"; then
		step_fail flint_ip4_http01 "$VERIFY_ERR"
	elif ! validated http-01 127.0.0.1; then
		step_fail flint_ip4_http01 "flintd did not log a valid http-01 challenge for 127.0.0.1"
	else
		step_ok flint_ip4_http01
	fi
	# the address as typed is not canonical: flint and flintd agree on "::1"
	if ! flint_run flint-ip6 issue --tlsalpn01-port "$TLSALPN" --tlsalpn01-bind ::1 0:0::1; then
		step_fail flint_ip6_tlsalpn01 "$(flint_why)"
	elif ! verify_full "$(cert_dir ::1)/fullchain.pem" "IP Address:0:0:0:0:0:0:0:1"; then
		step_fail flint_ip6_tlsalpn01 "$VERIFY_ERR"
	elif ! validated tls-alpn-01 ::1; then
		step_fail flint_ip6_tlsalpn01 "flintd did not log a valid tls-alpn-01 challenge for ::1"
	else
		step_ok flint_ip6_tlsalpn01
	fi
	# http-01 for ::1 (URL http://[::1]:PORT/...) from another account, so that the
	# authorization just won by tls-alpn-01 is not reused
	STATE=$T/flint2
	if ! flint_run flint-ip6-http issue --agree-tos --http01-port "$HTTP01" --http01-bind ::1 ::1; then
		step_fail flint_ip6_http01 "$(flint_why)"
	elif ! verify_full "$(cert_dir ::1)/fullchain.pem" "IP Address:0:0:0:0:0:0:0:1"; then
		step_fail flint_ip6_http01 "$VERIFY_ERR"
	elif ! validated http-01 ::1; then
		step_fail flint_ip6_http01 "flintd did not log a valid http-01 challenge for ::1"
	else
		step_ok flint_ip6_http01
	fi
else
	step_fail flint_client "FLINT_BIN is not set (path to the flint client binary)"
fi

# ---- 4. certbot 2.1.0: `-d 127.0.0.1` is refused by certbot itself; with --csr its acme
# library sends the CSR's iPAddress SANs as ip identifiers, but certbot wants at least one
# dNSName there, so a DNS name plus 127.0.0.1 is as far as it goes.
CB=(certbot --non-interactive --agree-tos --no-eff-email -m cb-ext@example.com --server "$DIR_URL"
	--config-dir "$T/cb/cfg" --work-dir "$T/cb/work" --logs-dir "$T/cb/logs")
N_CB=cb-ip.example.com
if ! command -v certbot >/dev/null; then
	step_fail certbot_csr_dns_and_ip "certbot not found in PATH"
elif ! openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/cb.key" \
	-subj "/CN=$N_CB" -addext "subjectAltName=DNS:$N_CB,IP:127.0.0.1" -outform DER \
	-out "$T/cb.csr" 2>"$T/cb-csr.err"; then
	step_fail certbot_csr_dns_and_ip "openssl req: $(cat "$T/cb-csr.err")"
elif ! REQUESTS_CA_BUNDLE=$ROOT run_logged certbot-csr "$TMO" "${CB[@]}" certonly --csr "$T/cb.csr" \
	--standalone --preferred-challenges http-01 --http-01-port "$HTTP01" --http-01-address 127.0.0.1 \
	-d "$N_CB" --cert-path "$T/cb-cert.pem" --chain-path "$T/cb-chain.pem" \
	--fullchain-path "$T/cb-full.pem"; then
	step_fail certbot_csr_dns_and_ip "certbot certonly --csr failed (see above)"
elif ! verify_sans "$T/cb-cert.pem" "$T/cb-chain.pem" "DNS:$N_CB" "IP Address:127.0.0.1"; then
	step_fail certbot_csr_dns_and_ip "$VERIFY_ERR"
else
	step_ok certbot_csr_dns_and_ip
fi
if REQUESTS_CA_BUNDLE=$ROOT run_bounded 60 "$T/certbot-ip.log" "${CB[@]}" certonly --standalone \
	--http-01-port "$HTTP01" --http-01-address 127.0.0.1 -d 127.0.0.1; then
	step_fail certbot_ip_refused_by_certbot "certbot 2.1.0 accepted -d 127.0.0.1 (update this test and the README)"
elif grep -q 'is an IP address' "$T/certbot-ip.log"; then
	step_ok certbot_ip_refused_by_certbot "certbot: Requested name 127.0.0.1 is an IP address"
else
	step_fail certbot_ip_refused_by_certbot "certbot failed otherwise: $(tail -n 3 "$T/certbot-ip.log")"
fi

# ---- 5. an address in a dns identifier: refused at newOrder
out=$(timeout -k 5 60 "$PY" - "$DIR_URL" "$ROOT" 2>&1 <<'EOF'
import os, sys
sys.path.insert(0, os.environ["FLINT_SRC"] + "/tests/tools")
import acmelib
a = acmelib.Account(acmelib.Client(sys.argv[1], sys.argv[2]))
a.register()
for v in ("127.0.0.1", "::1"):
    p = acmelib.problem(a.new_order([v], expect=None))
    print(a.c.last.status_code, p.get("type"), p.get("detail"))
EOF
)
if [ "$(grep -c '^400 urn:ietf:params:acme:error:rejectedIdentifier .*"ip" identifier' <<<"$out")" = 2 ]; then
	step_ok dns_identifier_with_address_refused
else
	step_fail dns_identifier_with_address_refused "newOrder {dns 127.0.0.1}: $out"
fi

finish
