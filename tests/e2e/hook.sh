#!/bin/bash
# Challenge hooks for the ACME client e2e tests. Every action is bounded (curl --max-time)
# and fails loudly (non-zero exit) when challtestsrv does not take the record.
#   hook.sh lego-exec present|cleanup FQDN VALUE      (lego --dns exec: EXEC_PATH)
#   hook.sh certbot-auth | certbot-cleanup            (certbot --manual hooks, CERTBOT_* env)
#   hook.sh dehydrated EVENT ARGS...                  (dehydrated HOOK; DH_CHALLENGE=dns-01|http-01)
# Env: CTS_MGMT (pebble-challtestsrv management URL), HOOK_LOG (optional log file)
set -u
log() { [ -n "${HOOK_LOG:-}" ] && echo "$(date +%T.%N) $*" >>"$HOOK_LOG"; return 0; }
die() { echo "hook.sh: $*" >&2; log "ERROR $*"; exit 1; }

[ -n "${CTS_MGMT:-}" ] || die "CTS_MGMT not set"

txt_name() {  # identifier or FQDN -> _acme-challenge.NAME. (wildcard label stripped)
	local n="${1%.}"
	n="${n#\*.}"
	case "$n" in _acme-challenge.*) ;; *) n="_acme-challenge.$n" ;; esac
	echo "$n."
}

set_txt() {
	local h
	h=$(txt_name "$1")
	log "set-txt $h $2"
	curl -sf --max-time 5 -X POST -d "{\"host\":\"$h\",\"value\":\"$2\"}" "$CTS_MGMT/set-txt" >/dev/null \
		|| die "set-txt $h failed ($CTS_MGMT)"
}
clear_txt() {
	local h
	h=$(txt_name "$1")
	log "clear-txt $h"
	curl -sf --max-time 5 -X POST -d "{\"host\":\"$h\"}" "$CTS_MGMT/clear-txt" >/dev/null \
		|| die "clear-txt $h failed ($CTS_MGMT)"
}

mode=${1:-}
shift || true
case "$mode" in
lego-exec)
	log "lego $*"
	case "${1:-}" in
	present) set_txt "$2" "$3" ;;
	cleanup) clear_txt "$2" ;;
	*) exit 0 ;;
	esac
	;;
certbot-auth) set_txt "$CERTBOT_DOMAIN" "$CERTBOT_VALIDATION" ;;
certbot-cleanup) clear_txt "$CERTBOT_DOMAIN" ;;
dehydrated)
	ev=${1:-}
	shift || true
	log "dehydrated $ev $*"
	case "$ev" in
	deploy_challenge)
		# arguments come in triples (domain token_filename token_value); several with HOOK_CHAIN=yes
		while [ $# -ge 3 ]; do
			[ "${DH_CHALLENGE:-}" = dns-01 ] && set_txt "$1" "$3"
			shift 3
		done
		;;
	clean_challenge)
		while [ $# -ge 3 ]; do
			[ "${DH_CHALLENGE:-}" = dns-01 ] && clear_txt "$1"
			shift 3
		done
		;;
	invalid_challenge | request_failure) echo "hook.sh: dehydrated $ev $*" >&2 ;;
	*) ;; # other events are ignored
	esac
	exit 0
	;;
*) die "unknown mode '$mode'" ;;
esac
