#!/bin/bash
# flint's --dns-hook for the client e2e tests: `PROG present|cleanup FQDN VALUE` (lego's
# exec-provider convention, FQDN = _acme-challenge.NAME. with a trailing dot, or for
# dns-account-01 _LABEL._acme-challenge.NAME.) puts the TXT records into
# pebble-challtestsrv. Every call is logged as one line
# "ACTION FQDN VALUE" to HOOK_LOG so the test can check what flint passed.
# The values of each name are kept in HOOK_STATE, so cleaning up one of them (the base
# name's while the wildcard's is still pending, both at _acme-challenge.NAME.) keeps the
# others: clear-txt drops them all and the rest are put back.
# Env: CTS_MGMT (challtestsrv management URL), HOOK_LOG, HOOK_STATE (a directory),
#      HOOK_MODE = ok (default) | noop (log only, set nothing, exit 0) | fail (exit 1) |
#      slow (like ok, but present then writes its pid to HOOK_STATE/slow.pid and sleeps
#      HOOK_SLEEP seconds, default 60: for interrupting flint while its hook runs) |
#      relabel (like ok, but the record goes to HOOK_RELABEL._acme-challenge.NAME., or
#      to _acme-challenge.NAME. when HOOK_RELABEL is empty, whatever label flint asked
#      for: a dns-account-01 record at the wrong name).
# Bounded: every curl has --max-time, the lock a timeout.
set -u
: "${CTS_MGMT:?CTS_MGMT not set}" "${HOOK_LOG:?HOOK_LOG not set}" "${HOOK_STATE:?HOOK_STATE not set}"
mode=${HOOK_MODE:-ok}

if [ $# -ne 3 ]; then
	echo "BADARGS $*" >>"$HOOK_LOG"
	echo "flint-dns-hook: want 'present|cleanup FQDN VALUE', got $# argument(s): $*" >&2
	exit 2
fi
action=$1 fqdn=$2 value=$3
die() {
	echo "ERROR $*" >>"$HOOK_LOG"
	echo "flint-dns-hook: $*" >&2
	exit 1
}

# the record name challtestsrv wants: absolute, _acme-challenge. prefixed (kept as is
# with a dns-account-01 label before it), no wildcard label (tolerant here; the test
# checks the exact FQDN flint passed in HOOK_LOG)
host=${fqdn%.}
host=${host#\*.}
case "$host" in _acme-challenge.* | _*._acme-challenge.*) ;; *) host="_acme-challenge.$host" ;; esac
if [ "$mode" = relabel ]; then
	base=${host#*_acme-challenge.}
	host="_acme-challenge.$base"
	[ -n "${HOOK_RELABEL:-}" ] && host="$HOOK_RELABEL.$host"
fi
host="$host."

mkdir -p "$HOOK_STATE" || die "cannot create $HOOK_STATE"
exec 9>>"$HOOK_STATE/.lock"
flock -w 20 9 || die "lock $HOOK_STATE/.lock timed out"
echo "$action $fqdn $value" >>"$HOOK_LOG"
vals="$HOOK_STATE/$host"

cts() {  # path json
	curl -sf --max-time 5 -X POST -d "$2" "$CTS_MGMT/$1" >/dev/null || die "POST $CTS_MGMT/$1 $2 failed"
}

case "$mode" in
noop) exit 0 ;;
fail) die "HOOK_MODE=fail: refusing to $action $fqdn" ;;
ok | slow | relabel) ;;
*) die "unknown HOOK_MODE $mode" ;;
esac

case "$action" in
present)
	echo "$value" >>"$vals"
	cts set-txt "{\"host\":\"$host\",\"value\":\"$value\"}"
	if [ "$mode" = slow ]; then
		echo $$ >"$HOOK_STATE/slow.pid"
		exec 9>&-   # not holding the lock while asleep
		sleep "${HOOK_SLEEP:-60}"
	fi
	;;
cleanup)
	# drop one occurrence of VALUE, then reset challtestsrv to what is left
	if [ -f "$vals" ]; then
		awk -v v="$value" '!done && $0 == v { done = 1; next } { print }' "$vals" >"$vals.new" \
			&& mv "$vals.new" "$vals"
	fi
	cts clear-txt "{\"host\":\"$host\"}"
	if [ -s "$vals" ]; then
		while IFS= read -r v; do
			cts set-txt "{\"host\":\"$host\",\"value\":\"$v\"}"
		done <"$vals"
	fi
	;;
*) die "unknown action '$action' (want present or cleanup)" ;;
esac
exit 0
