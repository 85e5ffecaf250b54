# shellcheck shell=bash disable=SC2034
# Helpers for the end-to-end tests of flint, the ACME client; source after lib.sh.
#
# Env: FLINT_BIN (the flint binary; required), FLINT_TIMEOUT (s per flint run, default 120;
# all runs together end E2E_LIFETIME - 60 s after the start).
# The test sets ACME_URL (directory URL), ACME_CA (--ca-bundle: roots for the server's
# HTTPS) and STATE (--state-dir) before calling flint_run; ROOT (lib.sh) verifies the
# issued certificates.
#
# flint_run NAME ARGS...      bounded run of flint --server --ca-bundle --state-dir ARGS;
#                             stdout to $T/NAME.out, stderr to $T/NAME.err; sets FLINT_RC
#                             (124: timed out) and returns it. flint_why says what happened.
# flint_bare NAME ARGS...     the same without the three global options (help texts).
# check_cert CERTNAME SAN...  $STATE/certs/CERTNAME/{fullchain.pem,key.pem}: chain to ROOT,
#                             exact SANs, key 0600 and matching the leaf. Sets CHECK_ERR.
# make_dns_hook FILE MODE     a --dns-hook program (flint-dns-hook.sh with CTS_MGMT, its log
#                             $T/hook.log and MODE baked in: ok|noop|fail).
# hook_check NAME...          every NAME got "present _acme-challenge.NAME. VALUE" and the
#                             matching cleanup in $T/hook.log. Sets HOOK_ERR.

[ -n "${FLINT_BIN:-}" ] || fail "FLINT_BIN is not set (path to the flint client binary)"
[ -x "$FLINT_BIN" ] || fail "FLINT_BIN=$FLINT_BIN is not an executable file"
need_prog flock stat cmp
FLINT_TIMEOUT=${FLINT_TIMEOUT:-120}
# All flint runs end by this time, so that the test still stops its servers and reports
# before CTest's TIMEOUT (600 s = E2E_LIFETIME) kills it.
FLINT_DEADLINE=$(($(date +%s) + E2E_LIFETIME - 60))
ACME_URL='' ACME_CA='' STATE=''

# `flint renew`'s exit status when no certificate is due, as `flint renew --help` documents
# it ("Exit status: 0 renewed at least one, 1 an error, 3 nothing was due"; also flint --help).
RENEW_NOTHING_DUE_RC=3
RENEW_RC_SOURCE="flint renew --help: 3 nothing was due"

flint_bare() {
	local name=$1 p secs
	shift
	FLINT_CMD="flint $*"
	FLINT_OUT=$T/$name.out FLINT_ERR=$T/$name.err
	echo "+ $FLINT_BIN $*" >"$T/$name.cmd"
	secs=$((FLINT_DEADLINE - $(date +%s)))
	[ "$secs" -gt "$FLINT_TIMEOUT" ] && secs=$FLINT_TIMEOUT
	if [ "$secs" -le 0 ]; then
		echo "(not run: the test's time is up)" >"$FLINT_ERR"
		: >"$FLINT_OUT"
		FLINT_RC=124
		return 124
	fi
	timeout -k 5 "$secs" "$FLINT_BIN" "$@" >"$FLINT_OUT" 2>"$FLINT_ERR" </dev/null &
	p=$!
	PIDS+=("$p")
	wait "$p"
	FLINT_RC=$?
	forget_pid "$p"
	echo "exit $FLINT_RC" >>"$T/$name.cmd"
	return "$FLINT_RC"
}

flint_run() {
	local name=$1
	shift
	flint_bare "$name" --server "$ACME_URL" --ca-bundle "$ACME_CA" --state-dir "$STATE" "$@"
	FLINT_CMD="flint --server $ACME_URL --ca-bundle $ACME_CA --state-dir $STATE $*"
	return "$FLINT_RC"
}

# flint_why: one line for a FAIL message about the last flint run; also prints the run's
# output tails (indented) so the test log shows what flint said.
flint_why() {
	local how="exit status $FLINT_RC"
	[ "$FLINT_RC" = 124 ] && how="timed out (${FLINT_TIMEOUT}s per run, or the test's time was up)"
	[ "$FLINT_RC" -gt 128 ] && [ "$FLINT_RC" != 124 ] && how+=" (signal $(kill -l $((FLINT_RC - 128)) 2>/dev/null))"
	{
		echo "    ---- $FLINT_CMD -> $how"
		[ -s "$FLINT_ERR" ] && { echo "    ---- stderr (last 15 lines):"; tail -n 15 "$FLINT_ERR" | sed 's/^/    | /'; }
		[ -s "$FLINT_OUT" ] && { echo "    ---- stdout (last 5 lines):"; tail -n 5 "$FLINT_OUT" | sed 's/^/    | /'; }
	} >&2
	echo "\`$FLINT_CMD\` -> $how; stderr: $(tail -n 3 "$FLINT_ERR" 2>/dev/null | tr '\n' ' ' | cut -c1-400)"
}

cert_dir() { echo "$STATE/certs/$1"; }

# pem_certs FILE...: the certificate blocks of the files, whitespace dropped
pem_certs() {
	cat "$@" | tr -d ' \t\r' | awk '/^-----BEGINCERTIFICATE-----$/ { c = 1 } c { print } /^-----ENDCERTIFICATE-----$/ { c = 0 }'
}

check_cert() {
	local d k mode pk1 pk2
	d=$(cert_dir "$1")
	shift
	CHECK_ERR=
	if ! verify_fullchain "$d/fullchain.pem" "$@"; then
		CHECK_ERR=$VERIFY_ERR
		return 1
	fi
	k=$d/key.pem
	[ -s "$k" ] || { CHECK_ERR="no key file $k"; return 1; }
	mode=$(stat -c %a "$k")
	[ "$mode" = 600 ] || { CHECK_ERR="$k has mode $mode, want 600"; return 1; }
	pk1=$(openssl pkey -in "$k" -pubout 2>/dev/null) || { CHECK_ERR="$k is not a private key openssl reads"; return 1; }
	pk2=$(openssl x509 -in "$d/fullchain.pem" -noout -pubkey 2>/dev/null)
	[ "$pk1" = "$pk2" ] || { CHECK_ERR="$k does not match the public key of the leaf in $d/fullchain.pem"; return 1; }
	# cert.pem = the leaf alone, chain.pem = the rest (flint --help: certs/NAME/{cert,chain,fullchain,key}.pem)
	if ! verify_cert "$d/cert.pem" "$d/chain.pem" "$@"; then
		CHECK_ERR="cert.pem + chain.pem: $VERIFY_ERR"
		return 1
	fi
	if [ "$(pem_certs "$d/cert.pem" "$d/chain.pem")" != "$(pem_certs "$d/fullchain.pem")" ]; then
		CHECK_ERR="cert.pem followed by chain.pem is not the certificate list of fullchain.pem"
		return 1
	fi
	return 0
}

# key_modes_ok STATEDIR...: every private key file (key.pem, *.key) has mode 600 and every
# directory 700 (flint(1), Files). Sets CHECK_ERR.
key_modes_ok() {
	local bad
	bad=$(find "$@" \( -type f \( -name 'key.pem' -o -name '*.key' \) ! -perm 600 \) -printf '%m %p; ' 2>/dev/null)
	bad+=$(find "$@" -type d ! -perm 700 -printf '%m %p; ' 2>/dev/null)
	CHECK_ERR=$bad
	[ -z "$bad" ]
}

# usage_step STEP: bad command lines exit 2 (flint(1), Exit status) and change nothing.
usage_step() {
	local step=$1 err='' args
	local -a cases=(
		"issue usage-none.example.com"                        # no way to answer challenges
		"account show --http01-port $((RANDOM % 1000 + 30000))" # an option of another verb
		"no-such-verb"
		"revoke"                                              # NAME missing
	)
	for args in "${cases[@]}"; do
		# shellcheck disable=SC2086 # the cases are word lists
		flint_run "$step" $args
		[ "$FLINT_RC" = 2 ] || err+="'flint ... $args' exited $FLINT_RC, want 2; "
		[ -s "$FLINT_ERR" ] || err+="'flint ... $args' printed no error; "
	done
	if [ -d "$STATE/certs/usage-none.example.com" ]; then err+="certs/usage-none.example.com was created; "; fi
	if [ -n "$err" ]; then step_fail "$step" "$err"; else step_ok "$step" "${#cases[@]} command lines"; fi
}

# account_key: the account key file of STATE (STATE/accounts/HOST/PATH/account.key)
account_key() { find "$STATE/accounts" -name account.key -type f 2>/dev/null | head -n 1; }

# account_url_of_key KEYFILE: the URL of the account the server has for this key (newAccount
# with onlyReturnExisting, tests/tools/acme_tool.py); retried on badNonce (Pebble rejects
# some on purpose). Sets ACCT_ERR (the tool's stderr) on failure.
account_url_of_key() {
	local i out
	for ((i = 0; i < 8; i++)); do
		if out=$(timeout -k 5 60 "$PY" "$TOOLS_DIR/acme_tool.py" --dir "$ACME_URL" --ca "$ACME_CA" \
			account-info --key "$1" 2>"$T/acme_tool.err"); then
			sed -n 's/.*"url": *"\([^"]*\)".*/\1/p' <<<"$out"
			return 0
		fi
		ACCT_ERR=$(tr '\n' ' ' <"$T/acme_tool.err" | cut -c1-300)
		grep -q badNonce "$T/acme_tool.err" || return 1
	done
	return 1
}

# rollover_step STEP: `flint account rollover`; account.key then holds another key, the
# server finds the same account by it and no longer by the old key.
rollover_step() {
	local step=$1 key url url2
	key=$(account_key)
	[ -n "$key" ] || { step_fail "$step" "no account.key under $STATE/accounts"; return 1; }
	cp "$key" "$T/old-account.key"
	if ! url=$(account_url_of_key "$key") || [ -z "$url" ]; then
		step_fail "$step" "the server does not find an account for $key before the rollover: $ACCT_ERR"
		return 1
	fi
	if ! flint_run "$step" account rollover; then
		step_fail "$step" "$(flint_why)"
		return 1
	fi
	key=$(account_key)
	if cmp -s "$key" "$T/old-account.key"; then
		step_fail "$step" "exit 0 but $key is unchanged"
		return 1
	fi
	if ! url2=$(account_url_of_key "$key"); then
		step_fail "$step" "the server finds no account for the new key in $key: $ACCT_ERR"
		return 1
	fi
	if [ "$url2" != "$url" ]; then
		step_fail "$step" "the new key belongs to account $url2, not to $url"
		return 1
	fi
	if account_url_of_key "$T/old-account.key" >/dev/null; then
		step_fail "$step" "the server still finds the account by the old key"
		return 1
	fi
	if ! grep -q accountDoesNotExist <<<"$ACCT_ERR"; then
		step_fail "$step" "looking the old key up failed, but not with accountDoesNotExist: $ACCT_ERR"
		return 1
	fi
	key_modes_ok "$STATE" || { step_fail "$step" "key files not 0600: $CHECK_ERR"; return 1; }
	step_ok "$step" "$url"
}

# serial of CERTNAME's current leaf ("" when there is none)
cert_serial() {
	local f
	f="$(cert_dir "$1")/fullchain.pem"
	[ -s "$f" ] && serial_of "$f" 2>/dev/null
}

make_dns_hook() {
	local f=$1 mode=${2:-ok}
	mkdir -p "$T/hook-state"
	cat >"$f" <<EOF
#!/bin/sh
CTS_MGMT='$CTS_MGMT' HOOK_LOG='$T/hook.log' HOOK_STATE='$T/hook-state' HOOK_MODE='$mode' \\
	exec bash '$E2E_DIR/flint-dns-hook.sh' "\$@"
EOF
	chmod 755 "$f"
}

hook_reset() { : >"$T/hook.log"; }

hook_check() {
	local n base fqdn want have vals v
	HOOK_ERR=
	if grep -q '^BADARGS' "$T/hook.log" 2>/dev/null; then
		HOOK_ERR="hook called with the wrong arguments: $(grep -m1 '^BADARGS' "$T/hook.log")"
		return 1
	fi
	# how many values each _acme-challenge name should have seen (NAME and *.NAME share one)
	declare -A need=()
	for n; do
		base=${n#\*.}
		need[$base]=$((${need[$base]:-0} + 1))
	done
	for base in "${!need[@]}"; do
		fqdn="_acme-challenge.$base."
		want=${need[$base]}
		vals=$(awk -v f="$fqdn" '$1 == "present" && $2 == f { print $3 }' "$T/hook.log" | sort -u)
		have=$(grep -c . <<<"$vals")
		[ -n "$vals" ] || have=0
		if [ "$have" -lt "$want" ]; then
			HOOK_ERR="want $want 'present $fqdn VALUE' call(s) with distinct values, saw $have; hook log: $(head -c 400 "$T/hook.log" | tr '\n' ';')"
			return 1
		fi
		for v in $vals; do
			if ! awk -v f="$fqdn" -v v="$v" '$1 == "cleanup" && $2 == f && $3 == v { ok = 1 } END { exit !ok }' "$T/hook.log"; then
				HOOK_ERR="no 'cleanup $fqdn $v' after its present; hook log: $(head -c 400 "$T/hook.log" | tr '\n' ';')"
				return 1
			fi
		done
	done
	return 0
}

# files under DIR (recursively) holding a certificate with serial SERIAL, one per line
files_with_serial() {
	local dir=$1 want=$2 f s pfx
	pfx="$T/fws.$RANDOM"
	while IFS= read -r -d '' f; do
		grep -q 'BEGIN CERTIFICATE' "$f" 2>/dev/null || continue
		split_pem "$f" "$pfx"
		for s in "$pfx".*.pem; do
			[ -f "$s" ] || continue
			if [ "$(serial_of "$s" 2>/dev/null)" = "$want" ]; then
				echo "$f"
				break
			fi
		done
	done < <(find "$dir" -type f -print0 2>/dev/null)
	rm -f "$pfx".*.pem
}

# help_lists WORD NAME ARGS...: 0 when `flint ARGS... --help` (stdout or stderr) names WORD
help_lists() {
	local w=$1 name=$2
	shift 2
	flint_bare "$name" "$@" --help
	cat "$FLINT_OUT" "$FLINT_ERR" | grep -Eq -- "(^|[^[:alnum:]_-])$w([^[:alnum:]_-]|$)"
}

# sanitizer_step: no flint run of this test printed an ASan/LSan/UBSan report (their exit
# status already fails the run; this names it).
sanitizer_step() {
	local files
	files=$(grep -l -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T"/*.err 2>/dev/null | xargs -r -n1 basename | tr '\n' ' ')
	if [ -n "$files" ]; then
		step_fail flint_sanitizers "sanitizer reports in the stderr of: $files(in $T)"
	else
		step_ok flint_sanitizers
	fi
}
