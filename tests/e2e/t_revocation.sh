#!/bin/bash
# Revocation status with flintd --ocsp: certificates name the responder (AIA OCSP);
#   `openssl ocsp` (POST) says good, with the response signed by the intermediate and verified
#   to DATA/root.pem; the GET form (RFC 6960 A.1, base64 in the path) answers the same;
#   after `flint revoke --reason 4` the responder says revoked (superseded) and the CRL lists
#   the serial with its reason, verified by `openssl crl`; a second revocation raises the
#   CRL number; a serial flintd never issued is "unknown"; garbage gets malformedRequest;
#   flintd without --ocsp answers 404 at /ocsp and names no responder in certificates;
#   with --crl-shards 4 --public-http-listen: each certificate's CRL DP is
#   http://PUB/ca/crl/(last serial octet mod 4), each shard verifies, carries a critical
#   Issuing Distribution Point naming itself and lists exactly its revoked serials; the full
#   CRL lists all; the plain listener serves nothing but /ca and /ocsp; OCSP over plain HTTP;
#   --crl-dir: crl.der and crl-K.der written at start and again after each revocation.
# Ports 22700-22799: flintd +0, http-01 +2, plain HTTP +12, challtestsrv DNS +53 and management +55.
TEST_NAME=t_revocation
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$E2E_DIR/client.sh"
need_prog openssl curl base64

PORT=22700 HTTP01=22702 PLAIN=22712 DNS=22753 CTS=22755
start_challtestsrv "$DNS" "$CTS"
start_flintd "$PORT" "$HTTP01" "$DNS" --ocsp
ACME_URL=$DIR_URL ACME_CA=$ROOT STATE=$T/state
INTER=$DATA/intermediate.pem
flint_run register account register --email rev@example.com --agree-tos || fail "register: $(flint_why)"

# ocsp_status NAME|-serial HEX: runs openssl ocsp against flintd; prints its output, returns its status
ocsp_query() {
	local -a what
	if [ "$1" = -serial ]; then what=(-serial "0x$2"); else what=(-cert "$(cert_dir "$1")/cert.pem"); fi
	openssl ocsp -issuer "$INTER" "${what[@]}" -url "$BASE_URL/ocsp" -CAfile "$ROOT" \
		-verify_other "$INTER" -timeout 10 2>&1
}

for n in a b; do
	flint_run "issue-$n" issue --http01-port "$HTTP01" "rev-$n.example.com" || fail "issue: $(flint_why)"
done
uri=$(openssl x509 -in "$(cert_dir rev-a.example.com)/cert.pem" -noout -ocsp_uri)
if [ "$uri" = "$BASE_URL/ocsp" ]; then step_ok aia_ocsp "$uri"; else step_fail aia_ocsp "AIA OCSP '$uri'"; fi

out=$(ocsp_query rev-a.example.com)
if grep -q "Response verify OK" <<<"$out" && grep -q "cert.pem: good" <<<"$out"; then
	step_ok ocsp_good
else
	step_fail ocsp_good "$out"
fi

# the GET form: base64 of the DER request in the path (RFC 6960 A.1), '/' and '+' escaped
openssl ocsp -issuer "$INTER" -cert "$(cert_dir rev-a.example.com)/cert.pem" -no_nonce \
	-reqout "$T/req.der" >/dev/null 2>&1
b64=$(base64 -w0 <"$T/req.der" | sed 's|/|%2F|g; s|+|%2B|g; s|=|%3D|g')
if curl -sf --cacert "$ROOT" "$BASE_URL/ocsp/$b64" -o "$T/get.der" -D "$T/get.hdr" &&
	out=$(openssl ocsp -respin "$T/get.der" -issuer "$INTER" -cert "$(cert_dir rev-a.example.com)/cert.pem" \
		-CAfile "$ROOT" -verify_other "$INTER" -no_nonce 2>&1) &&
	grep -q "Response verify OK" <<<"$out" && grep -q ": good" <<<"$out" &&
	grep -qi '^content-type: application/ocsp-response' "$T/get.hdr"; then
	step_ok ocsp_get
else
	step_fail ocsp_get "$out $(cat "$T/get.hdr" 2>/dev/null | head -3)"
fi

serial_a=$(openssl x509 -in "$(cert_dir rev-a.example.com)/cert.pem" -noout -serial | cut -d= -f2)
curl -sf --cacert "$ROOT" "$BASE_URL/ca/crl" -o "$T/crl0.der" || step_fail crl_before "GET /ca/crl failed"
if flint_run revoke-a revoke --reason 4 rev-a.example.com; then
	out=$(ocsp_query rev-a.example.com)
	if grep -q "Response verify OK" <<<"$out" && grep -q "cert.pem: revoked" <<<"$out" &&
		grep -q "Reason: superseded" <<<"$out"; then
		step_ok ocsp_revoked
	else
		step_fail ocsp_revoked "$out"
	fi
	if ! crl_has_serial "$serial_a"; then
		step_fail crl_lists "$CRL_ERR"
	elif [ "$(crl_reason "$serial_a")" != Superseded ]; then
		step_fail crl_lists "reason '$(crl_reason "$serial_a")', want Superseded"
	else
		step_ok crl_lists "verified by openssl crl, reason Superseded"
	fi
else
	step_fail ocsp_revoked "$(flint_why)"
fi

crl_number() { openssl crl -inform DER -in "$1" -noout -crlnumber | cut -d= -f2; }
n1=$(crl_number "$T/crl.der")
sleep 1
if flint_run revoke-b revoke --reason 1 rev-b.example.com &&
	crl_has_serial "$(openssl x509 -in "$(cert_dir rev-b.example.com)/cert.pem" -noout -serial | cut -d= -f2)"; then
	n2=$(crl_number "$T/crl.der")
	if [ -n "$n1" ] && [ -n "$n2" ] && [ $((n2)) -gt $((n1)) ]; then
		step_ok crl_number_grows "$n1 -> $n2"
	else
		step_fail crl_number_grows "CRL number '$n1' then '$n2'"
	fi
else
	step_fail crl_number_grows "second revocation: $(flint_why) $CRL_ERR"
fi

out=$(ocsp_query -serial 123456789abcdef)
if grep -q "Response verify OK" <<<"$out" && grep -q ": unknown" <<<"$out"; then
	step_ok ocsp_unknown
else
	step_fail ocsp_unknown "$out"
fi

printf 'not an OCSP request' >"$T/garbage"
curl -sf --cacert "$ROOT" -H 'Content-Type: application/ocsp-request' --data-binary @"$T/garbage" \
	"$BASE_URL/ocsp" -o "$T/garbage.der"
out=$(openssl ocsp -respin "$T/garbage.der" -resp_text -noverify 2>&1) # exits 1 on an error status
if grep -qi "malformedRequest" <<<"$out"; then
	step_ok ocsp_malformed
else
	step_fail ocsp_malformed "$out"
fi

# without --ocsp: no responder, none named
stop_flintd
[ "$FLINTD_RC" = 0 ] || step_fail flintd_clean_exit "flintd exited $FLINTD_RC"
start_flintd "$PORT" "$HTTP01" "$DNS"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$ROOT" -H 'Content-Type: application/ocsp-request' \
	--data-binary @"$T/req.der" "$BASE_URL/ocsp")
flint_run issue-c issue --http01-port "$HTTP01" rev-c.example.com || fail "issue: $(flint_why)"
uri=$(openssl x509 -in "$(cert_dir rev-c.example.com)/cert.pem" -noout -ocsp_uri)
if [ "$code" = 404 ] && [ -z "$uri" ]; then
	step_ok ocsp_off
else
	step_fail ocsp_off "POST /ocsp -> $code, AIA OCSP '$uri' (want 404 and none)"
fi

# ---- CRL shards and the plain-HTTP listener for relying parties
stop_flintd
[ "$FLINTD_RC" = 0 ] || step_fail flintd_clean_exit_2 "flintd exited $FLINTD_RC"
PUB=127.0.0.1:$PLAIN
start_flintd "$PORT" "$HTTP01" "$DNS" --ocsp --crl-shards 4 --public-http-listen "$PUB" \
	--crl-dir "$T/crls" --crl-interval 60
if [ -s "$T/crls/crl.der" ] && [ -s "$T/crls/crl-0.der" ] && [ -s "$T/crls/crl-3.der" ] &&
	[ ! -e "$T/crls/crl-4.der" ]; then
	step_ok crl_dir_at_start "$(ls "$T/crls" | tr '\n' ' ')"
else
	step_fail crl_dir_at_start "crl-dir holds: $(ls "$T/crls" 2>&1 | tr '\n' ' ')"
fi
declare -A SHARD_OF=()
for n in s1 s2 s3 s4 s5 s6; do
	flint_run "issue-$n" issue --http01-port "$HTTP01" "rev-$n.example.com" || fail "issue: $(flint_why)"
	f=$(cert_dir "rev-$n.example.com")/cert.pem
	dp=$(openssl x509 -in "$f" -noout -ext crlDistributionPoints | sed -n 's/^ *URI://p')
	ser=$(openssl x509 -in "$f" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')
	want=$(( 16#${ser: -2} % 4 ))
	if [ "$dp" != "http://$PUB/ca/crl/$want" ]; then
		step_fail crl_dp_shard "rev-$n: CRL DP '$dp', want http://$PUB/ca/crl/$want (serial $ser)"
	fi
	SHARD_OF[$n]=$want
	flint_run "revoke-$n" revoke --reason 1 "rev-$n.example.com" || step_fail crl_shards "revoke: $(flint_why)"
done
[[ " ${STEPS_FAILED[*]} " == *" crl_dp_shard "* ]] || step_ok crl_dp_shard "every certificate names http://$PUB/ca/crl/(last serial octet mod 4)"
err=
for k in 0 1 2 3; do
	if ! curl -sf --max-time 10 "http://$PUB/ca/crl/$k" -o "$T/shard$k.der"; then
		err+="GET http://$PUB/ca/crl/$k failed; "
		continue
	fi
	txt=$(openssl crl -inform DER -in "$T/shard$k.der" -noout -text -CAfile "$INTER" 2>&1)
	grep -q "verify OK" <<<"$txt" || err+="shard $k does not verify; "
	grep -q "Issuing Distribution Point: critical" <<<"$txt" || err+="shard $k lacks a critical IDP; "
	grep -q "URI:http://$PUB/ca/crl/$k" <<<"$txt" || err+="shard $k's IDP does not name its URL; "
	for n in s1 s2 s3 s4 s5 s6; do
		ser=$(openssl x509 -in "$(cert_dir "rev-$n.example.com")/cert.pem" -noout -serial | cut -d= -f2)
		listed=$(sed -n 's/^[[:space:]]*Serial Number:[[:space:]]*//p' <<<"$txt" | grep -cix "$ser")
		if [ "${SHARD_OF[$n]}" = "$k" ] && [ "$listed" != 1 ]; then err+="rev-$n missing from shard $k; "; fi
		if [ "${SHARD_OF[$n]}" != "$k" ] && [ "$listed" != 0 ]; then err+="rev-$n listed in shard $k; "; fi
	done
done
code=$(curl -s -o /dev/null -w '%{http_code}' "http://$PUB/ca/crl/4")
[ "$code" = 404 ] || err+="GET /ca/crl/4 (no such shard) -> $code; "
if [ -z "$err" ]; then step_ok crl_shards "4 shards over plain HTTP, each verified, each with its own serials"; else step_fail crl_shards "$err"; fi
# crl-dir was rewritten after each revocation: the published file lists them all
n_file=$(openssl crl -inform DER -in "$T/crls/crl.der" -noout -text -CAfile "$INTER" 2>&1 |
	tee "$T/crl-file.txt" | grep -c "Serial Number:")
if grep -q "verify OK" "$T/crl-file.txt" && [ "$n_file" -ge 6 ]; then
	step_ok crl_dir_after_revocation "$n_file entries in crl.der"
else
	step_fail crl_dir_after_revocation "crl.der: $n_file entries (want >= 6), $(head -2 "$T/crl-file.txt")"
fi
# the full CRL still lists everything; the plain listener serves nothing else
full=$(curl -sf "http://$PUB/ca/crl" | openssl crl -inform DER -noout -text 2>/dev/null | grep -c "Serial Number:")
dir_code=$(curl -s -o /dev/null -w '%{http_code}' "http://$PUB/directory")
if [ "$full" -ge 6 ] && [ "$dir_code" = 404 ]; then
	step_ok public_http_only_revocation "full CRL $full entries; /directory over plain HTTP -> 404"
else
	step_fail public_http_only_revocation "full CRL $full entries (want >= 6); /directory -> $dir_code (want 404)"
fi
out=$(openssl ocsp -issuer "$INTER" -cert "$(cert_dir rev-s1.example.com)/cert.pem" -url "http://$PUB/ocsp" \
	-CAfile "$ROOT" -verify_other "$INTER" -timeout 10 2>&1)
uri=$(openssl x509 -in "$(cert_dir rev-s1.example.com)/cert.pem" -noout -ocsp_uri)
if grep -q "Response verify OK" <<<"$out" && grep -q ": revoked" <<<"$out" && [ "$uri" = "http://$PUB/ocsp" ]; then
	step_ok ocsp_plain_http "$uri"
else
	step_fail ocsp_plain_http "AIA OCSP '$uri'; $out"
fi
finish
