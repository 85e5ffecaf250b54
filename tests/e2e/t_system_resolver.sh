#!/bin/bash
# flintd's default DNS for validation: no dns-server, so libunbound asks the resolvers of
# /etc/resolv.conf (the path every other test bypasses with dns-server and the DNS stub).
# In a network and mount namespace of its own (unshare): lo up, /etc/resolv.conf replaced
# by "nameserver 127.0.0.1" (a bind mount seen by this test only), pebble-challtestsrv
# answering on 127.0.0.1:53. /usr/share/dns is hidden when present: its root key would
# have unbound validate DNSSEC, which the unsigned test zone cannot pass. Then http-01
# issuances through libunbound's A/AAAA and CAA lookups, and a CAA record naming another
# CA refuses one (the authorization invalid, problem caa). Runs as root; its processes
# end with its PID namespace. Ports (inside the namespaces): flintd 24000, http-01 24002,
# challtestsrv DNS 53 and management 24055.

# namespaces: this shell's mount and network namespaces
namespaces() { echo "$(readlink /proc/self/ns/mnt) $(readlink /proc/self/ns/net)"; }
if [ -z "${FLINT_HOST_NAMESPACES:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "t_system_resolver: needs root (unshare, mount)" >&2; exit 1; }
	command -v unshare >/dev/null || { echo "t_system_resolver: unshare not found" >&2; exit 1; }
	# a PID namespace too, so that whatever the test started ends with it
	FLINT_HOST_NAMESPACES=$(namespaces) exec unshare --mount --net --pid --fork --kill-child \
		--mount-proc --propagation private bash "${BASH_SOURCE[0]}" "$@"
fi
TEST_NAME=t_system_resolver
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_prog ip mount
# never bind-mount over the machine's own files: both namespaces must be new
read -r host_mnt host_net <<<"$FLINT_HOST_NAMESPACES"
read -r own_mnt own_net <<<"$(namespaces)"
[ "$own_mnt" != "$host_mnt" ] && [ "$own_net" != "$host_net" ] ||
	fail "not in namespaces of its own (FLINT_HOST_NAMESPACES set outside unshare?)"

ip link set lo up || fail "cannot bring lo up in the namespace"
printf 'nameserver 127.0.0.1\noptions timeout:2 attempts:2\n' >"$T/resolv.conf"
mount --bind "$T/resolv.conf" /etc/resolv.conf || fail "cannot bind-mount /etc/resolv.conf"
if [ -d /usr/share/dns ]; then
	mkdir -p "$T/no-root-key"
	mount --bind "$T/no-root-key" /usr/share/dns || fail "cannot hide /usr/share/dns"
fi

PORT=24000 HTTP01=24002 MGMT=24055
start_challtestsrv 53 "$MGMT"
start_flintd "$PORT" "$HTTP01" system
if grep -q 'validation asks the resolvers of /etc/resolv.conf through libunbound' "$T/flintd.out"; then
	step_ok system_resolver
else
	step_fail system_resolver "flintd does not say it asks /etc/resolv.conf's resolvers through libunbound: $(grep -m1 'validation asks' "$T/flintd.out")"
fi

acme_load_run issued 6 -n 6 -c 2

# CAA at a parent of the names, for another CA: the tree climb finds it
curl -sf --max-time 5 -X POST \
	-d '{"host":"caa-refused.acme-load.example.com.","policies":[{"tag":"issue","value":"other-ca.example"}]}' \
	"$CTS_MGMT/add-caa" >/dev/null || fail "challtestsrv add-caa failed"
out=$T/caa.txt
run_bounded 60 "$out" "${ACME_LOAD:-$(dirname "$FLINTD")/acme-load}" --http01-port "$HTTP01" \
	--ca-bundle "$ROOT" --domain-suffix caa-refused.acme-load.example.com --timeout-ms 10000 \
	-n 1 -c 1 "$DIR_URL"
if [ "$(report_value "$out" issuances)" = 0 ] && [ "$(report_value "$out" failed)" = 1 ] &&
	[ "$(report_value "$out" errors.authz-invalid.caa)" = 1 ]; then
	step_ok caa_refused
else
	step_fail caa_refused "want one failure of type caa; report: $(grep -E '^(#|errors)|report' "$out" | head -n 12)"
fi
finish
