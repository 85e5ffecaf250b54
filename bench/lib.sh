# shellcheck shell=bash
# Process control shared by the bench scripts: source it after setting `say` and KEEP.
# PIDS holds every background process a script started; T its work dir. On exit
# every process is stopped (TERM, bounded wait, KILL) and T removed unless KEEP=1
# or the script failed.
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
