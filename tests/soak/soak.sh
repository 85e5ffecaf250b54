#!/bin/bash
# The soak run (`make soak`, nightly in CI: .ci/nightly): the optimised flintd
# (build/flintd, as users run it) on one SQLite database under loads far
# larger than `make test` gives it, round after round on the same data:
#   burst     one node, SOAK_BURST clients (1 000) starting at once,
#             3 issuances each;
#   two_nodes two flintd processes on the one database (one data dir),
#             SOAK_NODE_CLIENTS clients (400) sending every request
#             alternately to each, 5 issuances each.
# After each round: every issuance done and no error; a copy of the database
# and its WAL taken while flintd still runs (stopped with SIGSTOP for the
# copy: what a crash at that moment would leave) opens whole (PRAGMA integrity_check) and holds every
# certificate issued so far; then flintd is killed with SIGKILL and the files
# it left open whole too, with the same certificates, before the next round
# starts it again on them. This is the run that showed the WAL-batching
# VFS's lost commit page (docs/PERFORMANCE.md): only loads of ~1 000 clients
# reached it, too slow for every `make test`. Counts, never timing.
# Env: SOAK_ROUNDS (10: burst and two_nodes alternately), SOAK_BURST (1000),
# SOAK_NODE_CLIENTS (400), FLINT_RELEASE_BUILD (build), KEEP=1.
# Ports 23880-23889: node 1 23880, node 2 23881, http-01 23882, challtestsrv
# DNS 23883 and management 23885.
TEST_NAME=soak
FLINT_SRC=${FLINT_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
RELEASE=${FLINT_RELEASE_BUILD:-$FLINT_SRC/build}
FLINTD=$RELEASE/flintd ACME_LOAD=$RELEASE/acme-load
E2E_LIFETIME=${E2E_LIFETIME:-7200}
. "$FLINT_SRC/tests/e2e/lib.sh"

ROUNDS=${SOAK_ROUNDS:-10}
BURST=${SOAK_BURST:-1000}
NODE_CLIENTS=${SOAK_NODE_CLIENTS:-400}
[ -x "$FLINTD" ] && [ -x "$ACME_LOAD" ] ||
	fail "no optimised build at $RELEASE (make builds it)"

PORT=23880 PORT2=23881 HTTP01=23882 DNS=23883 MGMT=23885
CONN_CAP=$((BURST + 100))
start_challtestsrv "$DNS" "$MGMT"
ISSUED=0

# signal_all SIG: SIG to every flintd of the round (the processes under
# their timeout wrappers)
signal_all() {
	local p
	for p in "$FLINTD_PID" ${NODE2:-}; do
		[ -n "$p" ] && pkill "-$1" -P "$p" 2>/dev/null
	done
}

# kill_all NAME: each flintd of the round still running (a step), then
# SIGKILL to them all (a crash), reaped
kill_all() {
	local p dead=
	for p in "$FLINTD_PID" ${NODE2:-}; do
		[ -n "$p" ] && ! alive "$p" && dead+=" $p"
	done
	if [ -z "$dead" ]; then step_ok "$1_alive"; else
		step_fail "$1_alive" "flintd (timeout wrapper$dead) exited before the kill: see $T/flintd.log"
	fi
	signal_all KILL
	for p in "$FLINTD_PID" ${NODE2:-}; do
		[ -n "$p" ] || continue
		wait "$p" 2>/dev/null
		forget_pid "$p"
	done
	FLINTD_PID= NODE2=
}

# check_files NAME DIR [running]: the database in DIR (flintd.db and its
# WAL, no shared memory: SQLite rebuilds it from the WAL as after a crash)
# opens whole and holds ISSUED certificates or more; checked on a copy, so
# the recovery never writes to DIR. With "running", the flintd processes are
# stopped (SIGSTOP) while the two files are copied, so the copy is one
# moment's files, what a crash then would leave.
check_files() {
	local name=$1 dir=$2 copy=$T/check-$1 out ok=1
	rm -rf "$copy" && mkdir -p "$copy"
	[ "${3:-}" = running ] && signal_all STOP
	cp "$dir/flintd.db" "$copy/" || ok=0
	[ -f "$dir/flintd.db-wal" ] && { cp "$dir/flintd.db-wal" "$copy/" || ok=0; }
	[ "${3:-}" = running ] && signal_all CONT
	[ "$ok" = 1 ] || { step_fail "$name" "cannot copy the database in $dir"; return; }
	out=$("$PY" -c 'import sqlite3, sys
try:
    db = sqlite3.connect(sys.argv[1], timeout=10)
    print(" ".join(r[0] for r in db.execute("PRAGMA integrity_check")))
    print(db.execute("SELECT count(*) FROM certificates").fetchone()[0])
except sqlite3.Error as e:
    print("sqlite3: %s" % e)
    print("-")' "$copy/flintd.db" 2>&1)
	local check=${out%%$'\n'*} certs=${out##*$'\n'}
	if [ "$check" = ok ] && [[ "$certs" =~ ^[0-9]+$ ]] && [ "$certs" -ge "$ISSUED" ]; then
		step_ok "$name" "integrity ok, $certs certificates (issued so far: $ISSUED)"
	else
		step_fail "$name" "integrity_check '$check', certificates '$certs' (issued so far: $ISSUED)"
	fi
	rm -rf "$copy"
}

for ((round = 1; round <= ROUNDS; round++)); do
	DATA=$T/data
	start_flintd "$PORT" "$HTTP01" "$DNS" --node-id node1.soak --max-connections-per-ip "$CONN_CAP"
	if ((round % 2)); then
		kind=burst want=$((BURST * 3))
		LOAD_BOUND=900 acme_load_run "r${round}_$kind" "$want" -n "$want" -c "$BURST" \
			--timeout-ms 60000 --stall-s 120
	else
		kind=two_nodes want=$((NODE_CLIENTS * 5))
		start_node2 "$PORT2" "$HTTP01" "$DNS" node2.soak --max-connections-per-ip "$CONN_CAP"
		LOAD_BOUND=900 acme_load_run "r${round}_$kind" "$want" -n "$want" -c "$NODE_CLIENTS" \
			--connect-to "127.0.0.1:$PORT" --connect-to "127.0.0.1:$PORT2" \
			--timeout-ms 60000 --stall-s 120
	fi
	got=$(report_value "$T/r${round}_$kind.txt" issuances)
	ISSUED=$((ISSUED + ${got:-0}))
	check_files "r${round}_copy_while_running" "$DATA" running
	kill_all "r$round"
	check_files "r${round}_after_sigkill" "$DATA"
done
echo "soak: $ROUNDS rounds, $ISSUED issuances"
finish
