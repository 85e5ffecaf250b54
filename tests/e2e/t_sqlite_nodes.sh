#!/bin/bash
# Two flintd processes on one SQLite database (one data dir, one base URL, as
# behind a load balancer on one machine): used nonces live in the ledger file
# beside the database that both map (DATA/flintd.db-nonces). acme-load spreads
# every request round-robin over the two (each request carries the nonce of the
# other node's reply): every issuance completes. tests/tools/nonce_nodes.py:
# a nonce used on one node is refused on the other, whichever issued it; one
# nonce sent to both at once is accepted once; after node 2 restarts, a used
# nonce stays used and an unused one is accepted once.
# A file in the ledger's place that is not one: flintd refuses to start.
# Ports 23800-23849: node 1 23800 (the base URL), node 2 23801, http-01 23802,
# challtestsrv DNS 23803 and management 23805, the refused flintd 23806.
TEST_NAME=t_sqlite_nodes
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ACME_LOAD=${ACME_LOAD:-$(dirname "$FLINTD")/acme-load}
[ -x "$ACME_LOAD" ] || fail "acme-load not found at $ACME_LOAD (build the acme-load target or set ACME_LOAD)"
PY=/usr/bin/python3
"$PY" -c 'import requests, cryptography' 2>/dev/null || fail "$PY lacks python3-requests or python3-cryptography"

PORT=23800 PORT2=23801 HTTP01=23802 DNS=23803 MGMT=23805
start_challtestsrv "$DNS" "$MGMT"
start_flintd "$PORT" "$HTTP01" "$DNS" --node-id node1.test
NODE1=$FLINTD_PID

start_node2 "$PORT2" "$HTTP01" "$DNS" node2.test

mode=$(stat -c %a "$DATA/flintd.db-nonces" 2>/dev/null)
if [ "$mode" = 600 ]; then step_ok ledger_file "mode $mode"; else
	step_fail ledger_file "DATA/flintd.db-nonces: mode '$mode' (want 600)"
fi

run_bounded 120 "$T/load.txt" "$ACME_LOAD" --http01-port "$HTTP01" --ca-bundle "$ROOT" \
	--connect-to "127.0.0.1:$PORT" --connect-to "127.0.0.1:$PORT2" \
	--domain-suffix nodes.example.com --timeout-ms 10000 --stall-s 30 -n 30 -c 6 "$DIR_URL"
rc=$?
kv() { awk -v k="$1" '$1 == k { print $2; exit }' "$T/load.txt"; }
if [ "$rc" = 0 ] && [ "$(kv issuances)" = 30 ] && [ "$(kv errors)" = 0 ] &&
	[ "$(kv retried.badNonce)" = 0 ]; then
	step_ok round_robin "30 issuances, requests alternating between the nodes"
else
	step_fail round_robin "status $rc; $(grep -E '^(#|errors|issuances |retried)' "$T/load.txt" | head -n 20)"
fi

restart_node2() {
	kill "$NODE2" && wait "$NODE2" 2>/dev/null
	forget_pid "$NODE2"
	start_node2 "$PORT2" "$HTTP01" "$DNS" node2.test
}
NODE_ARGS=(--dir "$DIR_URL" --ca "$ROOT" --node1 "https://127.0.0.1:$PORT"
	--node2 "https://127.0.0.1:$PORT2")
# the script stops half-way for node 2's restart: it prints "restart" and
# waits for a line on its standard input
mkfifo "$T/to_py" "$T/from_py"
"$PY" "$FLINT_SRC/tests/tools/nonce_nodes.py" "${NODE_ARGS[@]}" <"$T/to_py" >"$T/from_py" 2>&1 &
PYPID=$!
PIDS+=("$PYPID")
exec 3>"$T/to_py" 4<"$T/from_py"
while IFS= read -r line <&4; do
	case $line in
	restart)
		restart_node2
		echo go >&3
		;;
	"ok "*) step_ok "${line#ok }" ;;
	"FAIL "*)
		l=${line#FAIL }
		step_fail "${l%%:*}" "${l#*: }"
		;;
	*) echo "$line" ;;
	esac
done
exec 3>&- 4<&-
wait "$PYPID"
rc=$?
forget_pid "$PYPID"
if [ "$rc" = 0 ]; then step_ok nonce_script; else step_fail nonce_script "nonce_nodes.py exited with status $rc"; fi

# a file in the ledger's place that is not a ledger: flintd refuses to start,
# saying so, and leaves the file alone
mkdir -p "$T/other"
head -c 9000 /dev/urandom >"$T/other/flintd.db-nonces"
cp "$T/other/flintd.db-nonces" "$T/junk.copy"
timeout 30 "$FLINTD" --listen 127.0.0.1:23806 --data-dir "$T/other" >"$T/other.out" 2>"$T/other.err" </dev/null
rc=$?
if [ "$rc" != 0 ] && grep -q 'cannot open the nonce ledger.*not a ledger' "$T/other.err" &&
	cmp -s "$T/junk.copy" "$T/other/flintd.db-nonces"; then
	step_ok foreign_ledger_file "exit $rc: $(grep -m1 'nonce ledger' "$T/other.err")"
else
	step_fail foreign_ledger_file "exit $rc: $(tail -n 3 "$T/other.err")"
fi

if alive "$NODE1" && alive "$NODE2"; then step_ok nodes_alive; else step_fail nodes_alive "a node exited"; fi
finish
