#!/bin/bash
# The issuing key in a PKCS#11 token (SoftHSM2 through OpenSSL's pkcs11
# engine): a token is initialised in the test's temp dir, a P-256 key pair is
# imported into it (and the key file shredded), flintd starts with
# --intermediate-key-uri and the PIN in a 0600 file. It makes intermediate.pem
# for the token's key, writes no intermediate.key, issues certificates that
# verify up to the root through that intermediate, and serves a CRL signed in
# the token. The PIN appears in no log. Refusals, each one line and a non-zero
# status: a wrong PIN, an object not in the token, a URI carrying the PIN, a
# PIN file readable by others.
# Env: FLINTD (required), FLINT_SRC, ACME_LOAD. Ports 23750-23799: flintd 23750,
# http-01 23752, challtestsrv DNS 23753 and management 23755.
TEST_NAME=t_pkcs11
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need_prog softhsm2-util
ACME_LOAD=${ACME_LOAD:-$(dirname "$FLINTD")/acme-load}
[ -x "$ACME_LOAD" ] || fail "acme-load not found at $ACME_LOAD"
MODULE=/usr/lib/softhsm/libsofthsm2.so
[ -r "$MODULE" ] || fail "SoftHSM2's module $MODULE is missing (install softhsm2)"
PORT=23750 HTTP01=23752 DNS=23753 MGMT=23755
PIN=4711-flint-pin SO_PIN=8312-flint-so
URI="pkcs11:token=flint-ca;object=issuing;type=private"

# ---- a token of our own
export SOFTHSM2_CONF=$T/softhsm2.conf
mkdir -p "$T/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
	"$T/tokens" >"$SOFTHSM2_CONF"
softhsm2-util --init-token --free --label flint-ca --pin "$PIN" --so-pin "$SO_PIN" \
	>"$T/softhsm.log" 2>&1 || fail "softhsm2-util --init-token failed: $(cat "$T/softhsm.log")"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/issuing.key" 2>/dev/null \
	|| fail "openssl genpkey failed"
openssl pkey -in "$T/issuing.key" -pubout -out "$T/issuing.pub" 2>/dev/null
softhsm2-util --import "$T/issuing.key" --token flint-ca --label issuing --id 01 --pin "$PIN" \
	>>"$T/softhsm.log" 2>&1 || fail "softhsm2-util --import failed: $(cat "$T/softhsm.log")"
shred -u "$T/issuing.key" 2>/dev/null || rm -f "$T/issuing.key"
printf '%s\n' "$PIN" >"$T/pin" && chmod 600 "$T/pin"
step_ok token "SoftHSM2 token flint-ca with the issuing key pair"

start_challtestsrv "$DNS" "$MGMT"

# ---- refusals
refuse() { # name expected-text flintd-args...
	local name=$1 want=$2 out rc
	shift 2
	out=$(timeout -k 5 60 "$FLINTD" --listen "127.0.0.1:$PORT" --data-dir "$T/refused-$name" \
		--pkcs11-module "$MODULE" "$@" 2>&1 </dev/null)
	rc=$?
	if [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q -- "$want" <<<"$out" && ! grep -qF "$PIN" <<<"$out"; then
		step_ok "$name" "status $rc: $(grep -m1 "$want" <<<"$out")"
	else
		step_fail "$name" "want a non-zero status and '$want' (and never the PIN), got status $rc: $out"
	fi
}
printf 'not-the-pin\n' >"$T/wrong-pin" && chmod 600 "$T/wrong-pin"
refuse wrong_pin "PIN is wrong" --intermediate-key-uri "$URI" --pkcs11-pin-file "$T/wrong-pin"
refuse unknown_object "no such private key" \
	--intermediate-key-uri "pkcs11:token=flint-ca;object=absent;type=private" --pkcs11-pin-file "$T/pin"
refuse pin_in_uri "pkcs11-pin-file instead" --intermediate-key-uri "$URI;pin-value=$PIN"
cp "$T/pin" "$T/open-pin" && chmod 644 "$T/open-pin"
refuse pin_file_readable "readable by others" --intermediate-key-uri "$URI" --pkcs11-pin-file "$T/open-pin"

# ---- the CA on the token's key
start_flintd "$PORT" "$HTTP01" "$DNS" --intermediate-key-uri "$URI" --pkcs11-module "$MODULE" \
	--pkcs11-pin-file "$T/pin"
if [ ! -e "$DATA/intermediate.key" ] && [ -s "$DATA/intermediate.pem" ] &&
	cmp -s <(openssl x509 -in "$DATA/intermediate.pem" -noout -pubkey) "$T/issuing.pub"; then
	step_ok intermediate_is_token_key "intermediate.pem certifies the token's key; no intermediate.key"
else
	step_fail intermediate_is_token_key "intermediate.key present: $([ -e "$DATA/intermediate.key" ] && echo yes || echo no); public keys: $(openssl x509 -in "$DATA/intermediate.pem" -noout -pubkey 2>&1 | head -2 | tr '\n' ' ') vs $(head -2 "$T/issuing.pub" | tr '\n' ' ')"
fi
if run_logged load 180 "$ACME_LOAD" -c 2 -n 4 --http01-port "$HTTP01" --http01-addr 127.0.0.1 \
	--ca-bundle "$ROOT" --domain-suffix pkcs11.example.com --issued-out "$T/issued.jsonl" "$DIR_URL"; then
	step_ok issues "$(awk '$1 == "issuances" { print $2 }' "$T/load.log") certificates signed in the token"
else
	step_fail issues "acme-load failed with the key in the token"
fi
# each issued leaf verifies through the intermediate to the root
bad=0 n=0
while IFS= read -r line; do
	n=$((n + 1))
	"$PY" -c 'import json,sys; print(json.loads(sys.argv[1])["pem"], end="")' "$line" >"$T/chain.pem"
	split_pem "$T/chain.pem" "$T/part"
	openssl verify -CAfile "$ROOT" -untrusted "$DATA/intermediate.pem" "$T/part.1.pem" >/dev/null 2>&1 || bad=$((bad + 1))
done <"$T/issued.jsonl"
if [ "$n" -gt 0 ] && [ "$bad" = 0 ]; then
	step_ok leaves_verify "$n leaves verify through intermediate.pem to the root"
else
	step_fail leaves_verify "$bad of $n leaves do not verify"
fi
if curl -sf --max-time 10 --cacert "$ROOT" "$BASE_URL/ca/crl" -o "$T/crl.der" &&
	openssl crl -inform DER -in "$T/crl.der" -noout -CAfile "$DATA/intermediate.pem" 2>&1 | grep -q "verify OK"; then
	step_ok crl_signed_in_token
else
	step_fail crl_signed_in_token "GET /ca/crl does not verify with intermediate.pem"
fi
if grep -rqF "$PIN" "$T/flintd.log" "$T/flintd.out" "$T/load.log" 2>/dev/null; then
	step_fail pin_not_logged "the PIN appears in a log"
else
	step_ok pin_not_logged
fi
finish
