# shellcheck shell=bash
# Process control shared by the bench scripts (source it after setting `say` and KEEP),
# and the server starts and /proc readings loadtest.sh and compare.sh share.
# PIDS holds every background process a script started; T its work dir. On exit
# every process is stopped (TERM, bounded wait, KILL) and T removed unless KEEP=1
# or the script failed. Sourcing it also sets BENCH_DIR, REPO, and the FLINTD and
# ACME_LOAD defaults (the RelWithDebInfo build), and drops proxy settings.
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy no_proxy NO_PROXY
FLINTD=${FLINTD:-$REPO/build/flintd}
ACME_LOAD=${ACME_LOAD:-$REPO/build/acme-load}
PIDS=()
T=

alive() { # pid -> 0 while it exists and is not a zombie
	local s
	s=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	[[ -n $s && $s != Z* ]]
}

forget_pid() {
	local p keep=()
	for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}

stop_pid() { # pid [grace seconds]: TERM, bounded wait, KILL, reap
	local pid=$1 grace=${2:-10} i
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < grace * 10; i++)); do alive "$pid" || break; sleep 0.1; done
	if alive "$pid"; then
		kill -KILL "$pid" 2>/dev/null
		for ((i = 0; i < 50; i++)); do alive "$pid" || break; sleep 0.1; done
	fi
	wait "$pid" 2>/dev/null
	forget_pid "$pid"
}

cleanup() {
	local rc=$? i
	trap - EXIT INT TERM
	for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${PIDS[i]}" 5; done
	if [ -n "$T" ] && [ -d "$T" ]; then
		if [ "$KEEP" = 1 ] || [ "$rc" -ne 0 ]; then say "work dir kept: $T"; else rm -rf "$T"; fi
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_busy() { ss -ltnuH "( sport = :$1 )" 2>/dev/null | grep -q .; }
wait_listen() { # tcp|udp port seconds
	local i flag=-ltnH
	[ "$1" = udp ] && flag=-lunH
	for ((i = 0; i < $3 * 10; i++)); do
		ss $flag "( sport = :$2 )" 2>/dev/null | grep -q . && return 0
		sleep 0.1
	done
	return 1
}

# ------------------------------------------- servers (loadtest.sh, compare.sh)

cpu_ticks() { # pid -> utime+stime (clock ticks) of the whole process, all threads
	local s
	s=$(<"/proc/$1/stat") || return 1
	s=${s##*) }
	# shellcheck disable=SC2086
	set -- $s
	echo $((${12} + ${13}))
}

thread_ticks() { # pid -> "NAME TICKS" per thread (utime+stime), threads of one name summed
	local t s
	for t in /proc/"$1"/task/*; do
		s=$(<"$t/stat") || continue
		s=${s##*) }
		# shellcheck disable=SC2086
		set -- $s
		printf '%s %s\n' "$(<"$t/comm")" $((${12} + ${13}))
	done | awk '{ n[$1] += $2 } END { for (k in n) print k, n[k] }'
}

vm_hwm_kb() { # pid -> peak resident set size (VmHWM, kB) so far
	awk '$1 == "VmHWM:" { print $2; found = 1; exit } END { exit !found }' "/proc/$1/status" 2>/dev/null
}

kv() { # FILE KEY -> the value of "KEY value" in an acme-load report
	awk -v k="$2" '$1 == k { print $2; exit }' "$1" 2>/dev/null
}

# start_challtestsrv DNS_PORT MGMT_PORT LOG: the fake DNS both kinds of CA resolve
# through (every name is A 127.0.0.1; acme-load answers http-01 itself).
start_challtestsrv() {
	pebble-challtestsrv -dns01 "127.0.0.1:$1" -http01 "" -https01 "" -tlsalpn01 "" \
		-management "127.0.0.1:$2" -defaultIPv4 127.0.0.1 -defaultIPv6 "" \
		>"$3" 2>&1 </dev/null &
	PIDS+=($!)
	if ! wait_listen udp "$1" 10 || ! wait_listen tcp "$2" 10; then
		say "pebble-challtestsrv did not come up"
		tail -n 20 "$3" >&2
		return 1
	fi
}

# wait_directory NAME PID URL CA LOG [HOST:PORT]: 0 once URL answers over TLS verified
# with CA (connecting to HOST:PORT instead of the URL's host when given); 1 when the
# process exits or READY_TIMEOUT (default 30) seconds pass.
wait_directory() {
	local name=$1 pid=$2 url=$3 ca=$4 log=$5 to=${6:-} i ct=()
	[ -n "$to" ] && ct=(--connect-to "::$to")
	for ((i = 0; i < ${READY_TIMEOUT:-30} * 5; i++)); do
		if ! alive "$pid"; then
			say "$name exited during startup; the end of $log:"
			tail -n 20 "$log" >&2
			return 1
		fi
		[ -s "$ca" ] && curl -sf --max-time 2 --cacert "$ca" "${ct[@]}" "$url" -o /dev/null && return 0
		sleep 0.2
	done
	say "$name not ready within ${READY_TIMEOUT:-30}s ($url)"
	return 1
}

# start_pebble_at DIR PORT MGMT_PORT TLS_PORT HTTP01_PORT DNS_PORT LOG: a fresh Pebble
# with its own TLS CA (PEBBLE_VA_NOSLEEP=1: no random validation delay;
# PEBBLE_WFE_NONCEREJECT=0: no injected badNonce). Sets SRV_PID DIR_URL CA_BUNDLE.
start_pebble_at() {
	local d=$1 port=$2 mgmt=$3 tls=$4 http01=$5 dns=$6 log=$7
	mkdir -p "$d"
	if ! {
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
			-subj "/CN=flint bench Pebble TLS CA" -keyout "$d/tls-ca.key" -out "$d/tls-ca.pem" \
			-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign &&
			openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
				-keyout "$d/key.pem" -out "$d/srv.csr" &&
			printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$d/srv.ext" &&
			openssl x509 -req -in "$d/srv.csr" -CA "$d/tls-ca.pem" -CAkey "$d/tls-ca.key" \
				-CAcreateserial -days 2 -extfile "$d/srv.ext" -out "$d/cert.pem"
	} >"$d/openssl.log" 2>&1; then
		say "could not make Pebble's TLS certificate"
		cat "$d/openssl.log" >&2
		return 1
	fi
	cat >"$d/pebble-config.json" <<EOC
{
  "pebble": {
    "listenAddress": "127.0.0.1:$port",
    "managementListenAddress": "127.0.0.1:$mgmt",
    "certificate": "$d/cert.pem",
    "privateKey": "$d/key.pem",
    "httpPort": $http01,
    "tlsPort": $tls,
    "ocspResponderURL": "",
    "externalAccountBindingRequired": false
  }
}
EOC
	PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 \
		"${PEBBLE:-pebble}" -config "$d/pebble-config.json" -dnsserver "127.0.0.1:$dns" \
		>"$log" 2>&1 </dev/null &
	SRV_PID=$!
	PIDS+=("$SRV_PID")
	DIR_URL="https://127.0.0.1:$port/dir"
	CA_BUNDLE=$d/tls-ca.pem
	wait_directory pebble "$SRV_PID" "$DIR_URL" "$CA_BUNDLE" "$log"
}
