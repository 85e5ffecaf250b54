#!/bin/bash
# Privilege drop: flintd started as root with --user nobody binds its API on a
# port below 1024 (and the plain-HTTP listener on another), then runs as
# nobody: every uid and gid of the process is nobody's, it has no supplementary
# group but nobody's own, root cannot be had back (CapEff is 0), the files it
# creates in the data directory (the CA keys at 0600, the database) are
# nobody's, and it issues a certificate. Refusals: an unknown user, root as the
# user, a data directory the user cannot write (a one-line error, exit status
# non-zero, before serving anything).
# Env: FLINTD (required), FLINT_SRC, ACME_LOAD. Ports: API 977, plain HTTP 978,
# 23700-23749 (http-01 23712, challtestsrv DNS 23713 and management 23715).
TEST_NAME=t_privileges
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ "$(id -u)" = 0 ] || fail "this test starts flintd as root (CI runs as root)"
ACME_LOAD=${ACME_LOAD:-$(dirname "$FLINTD")/acme-load}
[ -x "$ACME_LOAD" ] || fail "acme-load not found at $ACME_LOAD"
USER_NAME=nobody
uid=$(id -u "$USER_NAME") && gid=$(id -g "$USER_NAME") || fail "no user $USER_NAME on this machine"
PORT=977 PLAIN=978 HTTP01=23712 DNS=23713 MGMT=23715
start_challtestsrv "$DNS" "$MGMT"

# the user must reach its data directory through the temp dir
chmod 0711 "$T"
DATA=$T/data
mkdir "$DATA" && chown "$USER_NAME:" "$DATA"

# ---- refusals: one line on stderr, non-zero status, nothing served
refuse() { # name expected-text flintd-args...
	local name=$1 want=$2 out rc
	shift 2
	out=$(timeout -k 5 30 "$FLINTD" --listen "127.0.0.1:$PORT" "$@" 2>&1 </dev/null)
	rc=$?
	if [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q "$want" <<<"$out"; then
		step_ok "$name" "status $rc: $(head -n 1 <<<"$out")"
	else
		step_fail "$name" "want a non-zero status and '$want', got status $rc: $out"
	fi
}
refuse unknown_user "no such user" --data-dir "$T/refused1" --user flint-no-such-user
refuse root_as_user "is root" --data-dir "$T/refused2" --user root
mkdir -m 0755 "$T/root-owned"
refuse unwritable_data_dir "$T/root-owned/data" --data-dir "$T/root-owned/data" --user "$USER_NAME"

# ---- the real thing
start_flintd "$PORT" "$HTTP01" "$DNS" --user "$USER_NAME" --public-http-listen "127.0.0.1:$PLAIN"
pid=$(pgrep -P "$FLINTD_PID" -x flintd) || fail "no flintd under its timeout wrapper"
status=/proc/$pid/status
ids() { awk -v k="$1:" '$1 == k { $1 = ""; print substr($0, 2) }' "$status"; }
want_ids="$uid $uid $uid $uid"
if [ "$(ids Uid)" = "$want_ids" ] && [ "$(ids Gid)" = "$gid $gid $gid $gid" ]; then
	step_ok runs_as_user "Uid $(ids Uid), Gid $(ids Gid)"
else
	step_fail runs_as_user "Uid '$(ids Uid)' Gid '$(ids Gid)', want $uid and $gid for all four"
fi
groups=$(ids Groups | xargs)
if [ -z "$groups" ] || [ "$groups" = "$gid" ]; then
	step_ok no_root_groups "Groups '$groups'"
else
	step_fail no_root_groups "supplementary groups '$groups' (want none but $gid)"
fi
if [ "$(ids CapEff)" = 0000000000000000 ] && [ "$(ids CapPrm)" = 0000000000000000 ]; then
	step_ok no_capabilities
else
	step_fail no_capabilities "CapEff $(ids CapEff) CapPrm $(ids CapPrm)"
fi
bad_owner=$(find "$DATA" -mindepth 1 ! -user "$USER_NAME" -printf '%p ' 2>/dev/null)
loose_keys=$(find "$DATA" -name '*.key' -perm /0077 -printf '%p ' 2>/dev/null)
if [ -z "$bad_owner" ] && [ -z "$loose_keys" ] && [ -n "$(find "$DATA" -name '*.key')" ]; then
	step_ok data_files_owned "$(find "$DATA" -mindepth 1 | wc -l) files, all $USER_NAME's, keys 0600"
else
	step_fail data_files_owned "not $USER_NAME's: '$bad_owner'; keys readable by others: '$loose_keys'"
fi
if curl -sf --max-time 5 "http://127.0.0.1:$PLAIN/ca/root.pem" -o /dev/null; then
	step_ok plain_listener "the port bound before the drop serves"
else
	step_fail plain_listener "GET http://127.0.0.1:$PLAIN/ca/root.pem failed"
fi
if run_logged load 120 "$ACME_LOAD" -c 2 -n 4 --http01-port "$HTTP01" --http01-addr 127.0.0.1 \
	--ca-bundle "$ROOT" --domain-suffix privileges.example.com "$DIR_URL"; then
	step_ok issues_as_user "$(awk '$1 == "issuances" { print $2 }' "$T/load.log") certificates"
else
	step_fail issues_as_user "acme-load failed against flintd running as $USER_NAME"
fi
finish
