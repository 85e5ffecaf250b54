#!/bin/bash
# flint's DNS UPDATE solver (RFC 2136 + TSIG, RFC 8945) against Knot DNS, with flintd
# validating dns-01 at that same authoritative server (--dns-server):
#   issue for a.example.com and *.example.com with --dns-update + --tsig-key: the
#   certificate verifies, and no _acme-challenge TXT is left in the zone afterwards;
#   the same with --tsig-key-file (a BIND/nsupdate -k key file) and --dns-update-zone;
#   a wrong TSIG secret: non-zero exit, stderr names the server and BADSIG/NOTAUTH,
#   nothing added to the zone; no flint process left behind.
# Env: FLINTD, FLINT_BIN (both required), FLINT_SRC. Ports 22100-22199: flintd +0,
# its (unused) http-01 port +2, Knot +53.
TEST_NAME=t_client_rfc2136
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$E2E_DIR/client.sh"
. "$E2E_DIR/knot.sh"

PORT=22100 HTTP01=22102 KNOT=22153 ZONE=example.com
start_knot "$T/knot" "$ZONE" "$KNOT"
start_flintd "$PORT" "$HTTP01" "$KNOT"
ACME_URL=$DIR_URL ACME_CA=$ROOT STATE=$T/state
UPD=(--dns-update "127.0.0.1:$KNOT")
KEY="$TSIG_NAME:$TSIG_ALG:$TSIG_SECRET"

# txt_left: the _acme-challenge TXT records Knot serves for the test names
txt_left() {
	local n
	for n in a b; do
		kdig +short +timeout=2 +retry=1 @127.0.0.1 -p "$KNOT" TXT "_acme-challenge.$n.$ZONE" 2>/dev/null
	done
	kdig +short +timeout=2 +retry=1 @127.0.0.1 -p "$KNOT" TXT "_acme-challenge.$ZONE" 2>/dev/null
}

if help_lists --dns-update help-issue issue && help_lists --tsig-key help-issue2 issue; then
	step_ok help_documents_dns_update
else
	step_fail help_documents_dns_update "flint issue --help does not list --dns-update/--tsig-key"
fi

# ---- issue: a name and a wildcard, both by DNS UPDATE
step=issue_tsig_key
if ! flint_run "$step" issue --agree-tos "${UPD[@]}" --tsig-key "$KEY" \
	"a.$ZONE" "*.$ZONE"; then
	step_fail "$step" "$(flint_why)"
elif ! check_cert "a.$ZONE" "a.$ZONE" "*.$ZONE"; then
	step_fail "$step" "$CHECK_ERR"
elif [ -n "$(txt_left)" ]; then
	step_fail "$step" "TXT records left in the zone after the run: $(txt_left | tr '\n' ' ')"
else
	step_ok "$step" "serial $(cert_serial "a.$ZONE")"
fi
grep -q "DDNS, finished" "$T/knot/knotd.log" && step_ok knot_applied_updates \
	|| step_fail knot_applied_updates "knotd logged no finished DDNS"

# ---- issue: key file in BIND's format (tsig-keygen / nsupdate -k), explicit zone
cat >"$T/tsig.key" <<K
key "$TSIG_NAME" {
	algorithm $TSIG_ALG;
	secret "$TSIG_SECRET";
};
K
step=issue_tsig_key_file
if ! flint_run "$step" issue "${UPD[@]}" --tsig-key-file "$T/tsig.key" \
	--dns-update-zone "$ZONE" "b.$ZONE"; then
	step_fail "$step" "$(flint_why)"
elif ! check_cert "b.$ZONE" "b.$ZONE"; then
	step_fail "$step" "$CHECK_ERR"
elif [ -n "$(txt_left)" ]; then
	step_fail "$step" "TXT records left in the zone after the run: $(txt_left | tr '\n' ' ')"
else
	step_ok "$step"
fi

# ---- a wrong secret: refused by Knot with a clear message
step=wrong_secret
BAD="$TSIG_NAME:$TSIG_ALG:$(head -c 32 /dev/urandom | base64)"
flint_run "$step" issue "${UPD[@]}" --tsig-key "$BAD" "c.$ZONE"
if [ "$FLINT_RC" = 0 ]; then
	step_fail "$step" "exit status 0 with a wrong TSIG secret"
elif [ "$FLINT_RC" = 124 ]; then
	step_fail "$step" "$(flint_why)"
elif ! grep -q "127.0.0.1:$KNOT" "$FLINT_ERR" || ! grep -Eq "BADSIG|NOTAUTH" "$FLINT_ERR"; then
	step_fail "$step" "stderr does not name the server and BADSIG/NOTAUTH: $(head -c 300 "$FLINT_ERR" | tr '\n' ' ')"
elif [ -n "$(txt_left)" ]; then
	step_fail "$step" "TXT records in the zone: $(txt_left | tr '\n' ' ')"
else
	step_ok "$step" "exit $FLINT_RC: $(grep -m1 -E 'BADSIG|NOTAUTH' "$FLINT_ERR" | cut -c1-160)"
fi

# ---- nothing left running
if pgrep -f -- "--state-dir $STATE" >/dev/null 2>&1; then
	step_fail no_flint_left "a flint process with --state-dir $STATE still runs"
else
	step_ok no_flint_left
fi
sanitizer_step
finish
