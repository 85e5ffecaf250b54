#!/bin/bash
# External account binding (RFC 8555 §7.3.4) and pre-authorization (§7.4.1)
# against flintd --external-account-required, keys from `flintd admin eab-add`:
#   t_eab.py: meta.externalAccountRequired, newAccount without a binding ->
#     externalAccountRequired, hostile bindings (bad MAC, unknown kid, url, other
#     key, alg, nonce, none/RS256) refused without consuming the key, one account
#     per kid, onlyReturnExisting keeps the key; newAuthz (wildcard and bad
#     names refused, deactivation, validated pre-authorization reused by newOrder)
#   lego (--eab --kid --hmac) registers and issues; its kid again -> refused
#   certbot (--eab-kid --eab-hmac-key) registers and issues
#   flint account register --eab-kid --eab-hmac-key; account show has the binding
#   flint authorize NAME, then issue NAME answers no challenge; authorize
#     refuses a wildcard, and a server without newAuthz before any request
#   eab-list shows who used which key (never the key); eab-remove
# Ports 22400-22499.
TEST_NAME=t_eab
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_prog lego certbot jq
. "$E2E_DIR/client.sh"

PORT=22400 HTTP01=22402 DNS=22453 MGMT=22455
start_challtestsrv "$DNS" "$MGMT"
start_flintd "$PORT" "$HTTP01" "$DNS" --external-account-required
TMO=180

# eab_add NAME [ARGS...]: a key from the operator command; sets NAME_KID and NAME_KEY.
eab_add() {
	local name=$1 out
	shift
	if ! out=$("$FLINTD" --data-dir "$DATA" admin eab-add "$@" 2>"$T/eab-add-$name.err"); then
		fail "flintd admin eab-add $* failed: $(cat "$T/eab-add-$name.err")"
	fi
	printf -v "${name}_KID" '%s' "$(sed -n 's/^kid=//p' <<<"$out")"
	printf -v "${name}_KEY" '%s' "$(sed -n 's/^hmac-key=//p' <<<"$out")"
}

# ---- 1. operator commands
eab_add PY
eab_add PY512 --kid py-hs512 --alg HS512
eab_add LEGO
eab_add CB --kid certbot-1
eab_add FL
if [ ${#PY_KEY} -lt 43 ] || [ ${#PY512_KEY} -lt 86 ] || [ "$PY512_KID" != py-hs512 ] \
	|| [ "$CB_KID" != certbot-1 ] || [ -z "$LEGO_KID" ] || [ "$LEGO_KID" = "$FL_KID" ]; then
	step_fail eab_add "unexpected kid/key output (key lengths ${#PY_KEY}/${#PY512_KEY}, kids $PY512_KID $CB_KID $LEGO_KID $FL_KID)"
elif "$FLINTD" --data-dir "$DATA" admin eab-add --kid certbot-1 >/dev/null 2>&1; then
	step_fail eab_add "a second key with kid certbot-1 was accepted"
elif "$FLINTD" --data-dir "$DATA" admin eab-add --alg HS1 >/dev/null 2>&1; then
	step_fail eab_add "--alg HS1 was accepted"
else
	step_ok eab_add "5 keys, 256/512-bit"
fi

# ---- 2. the protocol, by a scripted client
if run_tool eab-py 300 "$PY" "$E2E_DIR/t_eab.py" --dir "$DIR_URL" --ca "$ROOT" --http01 "$HTTP01" \
	--kid "$PY_KID" --hmac "$PY_KEY" --kid512 "$PY512_KID" --hmac512 "$PY512_KEY"; then
	step_ok eab_protocol
else
	step_fail eab_protocol "t_eab.py failed (see above)"
fi

# ---- 3. lego registers with EAB and issues (http-01); its kid cannot make a second account
export LEGO_CA_CERTIFICATES="$ROOT"
L=(lego --server "$DIR_URL" --accept-tos --email lego@example.com --key-type ec256 --http-timeout 30)
N_LEGO=lego-eab.example.com
if run_logged lego-eab "$TMO" "${L[@]}" --path "$T/lego" --eab --kid "$LEGO_KID" --hmac "$LEGO_KEY" \
	--domains "$N_LEGO" --http --http.port "127.0.0.1:$HTTP01" run; then
	if verify_fullchain "$T/lego/certificates/$N_LEGO.crt" "$N_LEGO"; then
		step_ok lego_eab "serial $(serial_of "$T/lego/certificates/$N_LEGO.crt")"
	else
		step_fail lego_eab "$VERIFY_ERR"
	fi
else
	step_fail lego_eab "lego run --eab failed (see above)"
fi
if run_logged lego-eab-reuse "$TMO" "${L[@]}" --path "$T/lego2" --eab --kid "$LEGO_KID" --hmac "$LEGO_KEY" \
	--domains "$N_LEGO" --http --http.port "127.0.0.1:$HTTP01" run >/dev/null; then
	step_fail lego_eab_used_kid "a second account registered with lego's used kid"
elif ! grep -q 'already bound to an account' "$T/lego-eab-reuse.log"; then
	step_fail lego_eab_used_kid "lego failed without flintd's 'already bound' problem: $(tail -n 3 "$T/lego-eab-reuse.log" | tr '\n' ' ')"
else
	step_ok lego_eab_used_kid
fi

# ---- 4. certbot registers with EAB and issues (standalone http-01)
export REQUESTS_CA_BUNDLE="$ROOT"
N_CB=cb-eab.example.com
CB=(certbot --non-interactive --agree-tos --no-eff-email --server "$DIR_URL" -m cb@example.com
	--config-dir "$T/cb/cfg" --work-dir "$T/cb/work" --logs-dir "$T/cb/logs")
if run_logged certbot-eab "$TMO" "${CB[@]}" --eab-kid "$CB_KID" --eab-hmac-key "$CB_KEY" certonly \
	--standalone --preferred-challenges http-01 --http-01-port "$HTTP01" --http-01-address 127.0.0.1 -d "$N_CB"; then
	live="$T/cb/cfg/live/$N_CB"
	if verify_cert "$live/cert.pem" "$live/chain.pem" "$N_CB"; then
		step_ok certbot_eab "serial $(serial_of "$live/cert.pem")"
	else
		step_fail certbot_eab "$VERIFY_ERR"
	fi
else
	step_fail certbot_eab "certbot --eab-kid certonly failed (see above)"
fi

# ---- 5. flint: register with EAB; authorize, then issue without a challenge
ACME_URL=$DIR_URL ACME_CA=$ROOT STATE=$T/flint
N_FL=flint-pre.example.com
if ! flint_run fl-register account register --agree-tos --eab-kid "$FL_KID" --eab-hmac-key "$FL_KEY"; then
	step_fail flint_eab_register "$(flint_why)"
elif ! flint_run fl-show --json account show; then
	step_fail flint_eab_register "account show: $(flint_why)"
elif [ "$(jq -r '.externalAccountBinding.protected | length > 0' "$T/fl-show.out")" != true ]; then
	step_fail flint_eab_register "the account object lacks externalAccountBinding: $(head -c 300 "$T/fl-show.out")"
else
	step_ok flint_eab_register "$(jq -r .url "$T/fl-show.out")"
fi
if flint_run fl-wild authorize --http01-port "$HTTP01" "*.$N_FL" || [ "$FLINT_RC" != 2 ]; then
	step_fail flint_authorize_wildcard "want exit 2 for a wildcard, got $(flint_why)"
elif ! grep -q 'cannot be pre-authorized' "$FLINT_ERR"; then
	step_fail flint_authorize_wildcard "no reason given: $(flint_why)"
else
	step_ok flint_authorize_wildcard
fi
if ! flint_run fl-authorize authorize --http01-port "$HTTP01" --http01-bind 127.0.0.1 "$N_FL"; then
	step_fail flint_authorize "$(flint_why)"
elif ! grep -q "$N_FL: http-01 pending -> valid" "$T/fl-authorize.err"; then
	step_fail flint_authorize "no http-01 validation reported: $(flint_why)"
else
	step_ok flint_authorize
fi
n_before=$(grep -c '^state challenge=.* status=processing' "$T/flintd.log")
if ! flint_run fl-issue issue --http01-port "$HTTP01" --http01-bind 127.0.0.1 "$N_FL"; then
	step_fail flint_issue_preauthorized "$(flint_why)"
elif ! check_cert "$N_FL" "$N_FL"; then
	step_fail flint_issue_preauthorized "$CHECK_ERR"
elif ! grep -q "$N_FL: already authorized" "$T/fl-issue.err"; then
	step_fail flint_issue_preauthorized "flint did not find the authorization valid: $(flint_why)"
elif [ "$(grep -c '^state challenge=.* status=processing' "$T/flintd.log")" != "$n_before" ]; then
	step_fail flint_issue_preauthorized "flintd validated a challenge during issue ($n_before before)"
else
	step_ok flint_issue_preauthorized "no challenge answered"
fi

# ---- 6. flint authorize refuses a server without newAuthz, before registering anything
NOAUTHZ=22410
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 -keyout "$T/noauthz.key" -out "$T/noauthz.pem" 2>/dev/null \
	|| fail "openssl could not make the test server's certificate"
wait_port_free "$NOAUTHZ" || fail "port $NOAUTHZ busy"
timeout -k 2 "$E2E_LIFETIME" "$PY" - "$NOAUTHZ" "$T/noauthz.pem" "$T/noauthz.key" "$T/noauthz.req" \
	>"$T/noauthz.log" 2>&1 </dev/null <<'PYEOF' &
import http.server, json, ssl, sys
port, cert, key, log = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
B = "https://127.0.0.1:%d" % port
DIRECTORY = {"newNonce": B + "/nonce", "newAccount": B + "/account", "newOrder": B + "/order"}
class H(http.server.BaseHTTPRequestHandler):
    def answer(self):
        open(log, "a").write("%s %s\n" % (self.command, self.path))
        body = json.dumps(DIRECTORY).encode() if self.path == "/directory" else b""
        self.send_response(200 if self.path == "/directory" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    do_GET = do_HEAD = do_POST = answer
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv = http.server.HTTPServer(("127.0.0.1", port), H)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
PYEOF
PIDS+=($!)
wait_tcp_listen "$NOAUTHZ" 10 || fail "the directory-only server did not listen on $NOAUTHZ"
ACME_URL="https://127.0.0.1:$NOAUTHZ/directory" ACME_CA=$T/noauthz.pem STATE=$T/flint-noauthz
if flint_run fl-noauthz authorize --agree-tos --http01-port "$HTTP01" "$N_FL"; then
	step_fail flint_authorize_no_newauthz "flint succeeded against a directory without newAuthz"
elif [ "$FLINT_RC" != 1 ] || ! grep -q 'no pre-authorization (its directory has no newAuthz)' "$FLINT_ERR"; then
	step_fail flint_authorize_no_newauthz "want exit 1 naming the missing newAuthz: $(flint_why)"
elif grep -qv '^GET /directory$' "$T/noauthz.req"; then
	step_fail flint_authorize_no_newauthz "flint sent more than the directory fetch: $(tr '\n' ' ' <"$T/noauthz.req")"
else
	step_ok flint_authorize_no_newauthz
fi

# ---- 7. eab-list: every used key names its account, never the MAC key; eab-remove
if ! "$FLINTD" --data-dir "$DATA" admin eab-list >"$T/eab-list.out" 2>&1; then
	step_fail eab_list "eab-list failed: $(cat "$T/eab-list.out")"
elif [ "$(grep -c ' account=unused' "$T/eab-list.out")" != 0 ] || [ "$(wc -l <"$T/eab-list.out")" != 5 ]; then
	step_fail eab_list "want 5 used keys: $(cat "$T/eab-list.out")"
elif grep -qF -e "$PY_KEY" -e "$LEGO_KEY" -e "$FL_KEY" "$T/eab-list.out"; then
	step_fail eab_list "eab-list printed a MAC key"
elif ! grep -q "^kid=$FL_KID alg=HS256 created=.* account=$(jq -r .url "$T/fl-show.out" | sed 's|.*/||') used=" "$T/eab-list.out"; then
	step_fail eab_list "flint's key does not name its account: $(cat "$T/eab-list.out")"
elif ! "$FLINTD" --data-dir "$DATA" admin eab-remove "$CB_KID" >/dev/null \
	|| "$FLINTD" --data-dir "$DATA" admin eab-remove "$CB_KID" >/dev/null 2>&1 \
	|| [ "$("$FLINTD" --data-dir "$DATA" admin eab-list | wc -l)" != 4 ]; then
	step_fail eab_remove "eab-remove did not remove exactly once"
else
	step_ok eab_list_remove
fi

finish
