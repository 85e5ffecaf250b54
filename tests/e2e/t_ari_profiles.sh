#!/bin/bash
# ARI (RFC 9773) and certificate profiles (draft-ietf-acme-profiles) against flintd:
#   tests/tools/ari_profiles.py --phase main: the directory, profile choice/reflection/
#   refusals, each shipped profile's certificate contents, renewalInfo (unauthenticated GET,
#   window per lifetime, Retry-After, bad certIDs), "replaces" (foreign account, no shared
#   identifier, malformed, 409 alreadyReplaced, allowed again after the replacing order
#   failed), a revoked certificate's window in the past;
#   flint (the client): issue --profile shortlived|tlsserver and the default (classic), each
#   checked with openssl (lifetime, EKU, subject); an unknown profile is refused before any
#   order; the renewal window is fetched right after issuance and stored; renew with ARI:
#   the window lies ahead -> nothing due (status 3); `flintd admin ari-expedite --serial S --explanation URL` -> renewalInfo shows a
#   past window and the explanationURL; once the stored Retry-After time has passed (the test
#   moves it instead of waiting hours), `flint renew` renews at once and flintd's log shows the
#   new order with replaces=<certID>;
#   flintd restarted without "shortlived": ari_profiles.py --phase withdrawn (the directory
#   drops it, newOrder and finalize of a ready order get invalidProfile).
# Env: FLINTD, FLINT_BIN, FLINT_SRC. Ports 22500-22599: flintd +0, http-01 +2, challtestsrv
# DNS +53 and management +55.
TEST_NAME=t_ari_profiles
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$E2E_DIR/client.sh"
need_prog jq openssl curl

PORT=22500 HTTP01=22502 DNS=22553 CTS=22555
start_challtestsrv "$DNS" "$CTS"
start_flintd "$PORT" "$HTTP01" "$DNS"
ACME_URL=$DIR_URL ACME_CA=$ROOT STATE=$T/state
SFX=ari.example.com

# ---- the protocol, with a scripted client
if "$PY" "$TOOLS_DIR/ari_profiles.py" --dir "$DIR_URL" --ca "$ROOT" --http01-port "$HTTP01" \
	--state "$T/withdrawn.json" --phase main --suffix "$SFX" >"$T/py-main.log" 2>&1; then
	step_ok protocol "$(grep -c '^ok ' "$T/py-main.log") cases"
else
	sed 's/^/    | /' "$T/py-main.log"
	step_fail protocol "$(grep '^FAIL' "$T/py-main.log" | head -3 | tr '\n' ' ')"
fi

# ---- flint: profiles
flint_run register account register --email ari@example.com --agree-tos ||
	fail "flint account register: $(flint_why)"

# profile_step STEP PROFILE(or -) NAME LIFETIME_S EKU_TEXT SUBJECT_CN(or -)
profile_step() {
	local step=$1 profile=$2 name=$3 life=$4 eku=$5 cn=$6 f nb na ext subj err=
	local -a p=()
	[ "$profile" = - ] || p=(--profile "$profile")
	if ! flint_run "$step" issue --http01-port "$HTTP01" "${p[@]}" "$name"; then
		step_fail "$step" "$(flint_why)"
		return
	fi
	if ! check_cert "$name" "$name"; then
		step_fail "$step" "$CHECK_ERR"
		return
	fi
	f=$(cert_dir "$name")/cert.pem
	nb=$(date -d "$(openssl x509 -in "$f" -noout -startdate | cut -d= -f2)" +%s)
	na=$(date -d "$(openssl x509 -in "$f" -noout -enddate | cut -d= -f2)" +%s)
	[ $((na - nb)) = "$life" ] || err+="lifetime $((na - nb)) s, want $life; "
	ext=$(openssl x509 -in "$f" -noout -ext extendedKeyUsage | tail -n +2 | sed 's/^ *//')
	[ "$ext" = "$eku" ] || err+="EKU '$ext', want '$eku'; "
	subj=$(openssl x509 -in "$f" -noout -subject -nameopt multiline | sed -n 's/^ *commonName *= *//p')
	[ "$subj" = "${cn#-}" ] || err+="subject CN '$subj', want '${cn#-}'; "
	if [ -n "$err" ]; then step_fail "$step" "$err"; else step_ok "$step" "${profile/-/default}"; fi
}
profile_step profile_shortlived shortlived "short.$SFX" $((160 * 3600)) "TLS Web Server Authentication" -
profile_step profile_tlsserver tlsserver "tls.$SFX" $((90 * 86400)) "TLS Web Server Authentication" -
profile_step profile_default - "classic.$SFX" $((90 * 86400)) \
	"TLS Web Server Authentication, TLS Web Client Authentication" "classic.$SFX"

orders_before=$(grep -c '^state order=.* status=pending' "$T/flintd.log")
if flint_run profile_unknown issue --http01-port "$HTTP01" --profile no-such "nope.$SFX"; then
	step_fail profile_unknown "flint issue --profile no-such exited 0"
elif ! grep -q "no-such" "$FLINT_ERR"; then
	step_fail profile_unknown "the error does not name the profile: $(flint_why)"
elif [ "$(grep -c '^state order=.* status=pending' "$T/flintd.log")" != "$orders_before" ]; then
	step_fail profile_unknown "an order was created on the server anyway"
else
	step_ok profile_unknown "$(head -c 160 "$FLINT_ERR")"
fi

# ---- flint: renew with ARI
NAME=short.$SFX RJ=$(cert_dir "short.$SFX")/renewal.json
# RFC 9773 §4.3.3: the window is asked for right after issuance
if jq -e '.ari.cert_id and .ari.window_start and .ari.window_end and .ari.next_check' "$RJ" >/dev/null; then
	step_ok ari_after_issue "$(jq -r '.ari.window_start + " .. " + .ari.window_end' "$RJ")"
else
	step_fail ari_after_issue "renewal.json after issue has no ARI window: $(jq -c .ari "$RJ")"
fi
old_serial=$(cert_serial "$NAME")
flint_run renew_not_due renew
if [ "$FLINT_RC" != "$RENEW_NOTHING_DUE_RC" ]; then
	step_fail renew_not_due "want status $RENEW_NOTHING_DUE_RC (nothing due): $(flint_why)"
elif ! CID=$(jq -er '.ari.cert_id' "$RJ"); then
	step_fail renew_not_due "renewal.json has no ARI state: $(cat "$RJ")"
else
	step_ok renew_not_due "window $(jq -r '.ari.window_start' "$RJ") .. $(jq -r '.ari.window_end' "$RJ")"
fi

serial_hex=$(openssl x509 -in "$(cert_dir "$NAME")/cert.pem" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')
if ! "$FLINTD" --data-dir "$DATA" admin ari-expedite --serial "$serial_hex" \
	--explanation https://status.example.com/incident-1 >"$T/expedite.out" 2>&1; then
	step_fail ari_expedite "$(cat "$T/expedite.out")"
else
	ri=$(curl -sf --cacert "$ROOT" "$BASE_URL/acme/renewal-info/${CID:-x}")
	end=$(jq -r '.suggestedWindow.end' <<<"$ri" 2>/dev/null)
	if [ -z "$end" ] || [ "$end" = null ] || [ "$(date -d "$end" +%s)" -gt "$(date +%s)" ]; then
		step_fail ari_expedite "renewalInfo after expedite: $ri"
	elif [ "$(jq -r '.explanationURL' <<<"$ri")" != https://status.example.com/incident-1 ]; then
		step_fail ari_expedite "no explanationURL: $ri"
	else
		step_ok ari_expedite "$(cat "$T/expedite.out")"
	fi
fi
# the client asks again only after the Retry-After it stored: let that time pass
jq '.ari.next_check = "2000-01-01T00:00:00Z"' "$RJ" >"$RJ.new" && mv "$RJ.new" "$RJ"
if ! flint_run renew_ari renew; then
	step_fail renew_ari "$(flint_why)"
elif [ "$(cert_serial "$NAME")" = "$old_serial" ]; then
	step_fail renew_ari "exit 0 but the serial did not change"
elif ! check_cert "$NAME" "$NAME"; then
	step_fail renew_ari "$CHECK_ERR"
elif ! grep -q "^state order=.* profile=shortlived .*replaces=$CID" "$T/flintd.log"; then
	step_fail renew_ari "flintd's log has no order with profile=shortlived replaces=$CID"
elif ! grep -q "incident-1" "$FLINT_ERR" "$FLINT_OUT"; then
	step_fail renew_ari "flint did not mention the explanation URL"
else
	step_ok renew_ari "new serial $(cert_serial "$NAME"), replaces=$CID"
fi

# ---- a profile withdrawn between newOrder and finalize
stop_flintd
[ "$FLINTD_RC" = 0 ] || step_fail flintd_clean_exit "flintd exited $FLINTD_RC"
start_flintd "$PORT" "$HTTP01" "$DNS" \
	--profile "classic; lifetime=90d; eku=serverAuth,clientAuth; cn=yes; description=classic" \
	--profile "tlsserver; lifetime=90d; eku=serverAuth; description=TLS server"
if "$PY" "$TOOLS_DIR/ari_profiles.py" --dir "$DIR_URL" --ca "$ROOT" --http01-port "$HTTP01" \
	--state "$T/withdrawn.json" --phase withdrawn --suffix "$SFX" >"$T/py-withdrawn.log" 2>&1; then
	step_ok profile_withdrawn
else
	sed 's/^/    | /' "$T/py-withdrawn.log"
	step_fail profile_withdrawn "$(grep '^FAIL' "$T/py-withdrawn.log" | head -3 | tr '\n' ' ')"
fi
finish
