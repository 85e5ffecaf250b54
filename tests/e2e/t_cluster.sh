#!/bin/bash
# Three flintd nodes on one PostgreSQL database (a throwaway cluster from
# tests/unit/pg_cluster.sh), one data dir and one base URL, as behind a load
# balancer. acme-load spreads every request round-robin over the three nodes
# (--connect-to: the next request of a client, with the nonce of the previous
# reply, goes to the next node, so nonces, orders and authorizations cross
# nodes all the time); its http-01 responder answers slowly so that each node
# always holds validations in processing (1 s each). Mid-load node 2 or 3 (the first seen
# holding validations in processing) is killed with
# SIGKILL: the load must still finish every issuance without an error (requests
# that hit the dead node are retried on the next one), the work it held is
# taken over by the others once its claims expire (job-lease), nothing stays
# in processing, no serial is used twice. Then it comes back under the same
# node id, a finalization left by a dead node is finished by a live one
# (t_cluster.py), and the scheduled jobs hold their leases.
# Env: FLINTD (required), FLINT_SRC. Ports 23400-23449: base URL = node 1
# 127.0.0.1:23401, nodes 2-3 23402-23403, the database socket 23410 (unix socket
# only), http-01 23412, challtestsrv DNS 23413 and management 23415.
if [ -z "${FLINT_PG_URI:-}" ]; then
	export E2E_LIFETIME=${E2E_LIFETIME:-480} PG_CLUSTER_TIMEOUT=540
	exec bash "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../unit/pg_cluster.sh" 23410 \
		bash "${BASH_SOURCE[0]}" "$@"
fi
TEST_NAME=t_cluster
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ACME_LOAD=${ACME_LOAD:-$(dirname "$FLINTD")/acme-load}
[ -x "$ACME_LOAD" ] || fail "acme-load not found at $ACME_LOAD (build the acme-load target or set ACME_LOAD)"
need_prog psql

HTTP01=23412 DNS=23413 MGMT=23415
LEASE=4          # job-lease: a dead node's work is taken over within ~5 s
ISSUANCES=72 CLIENTS=12
PSQL=(timeout 20 psql -X -q -t -A -h "$FLINT_PG_DIR" -p 23410 -U flint -d flint)
DATA=$T/data
BASE_URL=https://127.0.0.1:23401
DIR_URL=$BASE_URL/directory
ROOT=$DATA/root.pem
mkdir -p "$DATA" "$T/crl"
sql() { "${PSQL[@]}" -c "$1"; }
node_port() { echo $((23400 + $1)); }
node_id() { echo "node$1.test:$(node_port "$1")"; }
declare -A NODE_PID FLINTD_OF

start_challtestsrv "$DNS" "$MGMT"

# start_node N: node N on its own port, the shared data dir and database
start_node() {
	local n=$1 port i
	port=$(node_port "$n")
	wait_port_free "$port" || fail "port $port busy"
	echo "+ node $n" >>"$T/node$n.log"
	timeout -k 5 "$E2E_LIFETIME" "$FLINTD" --listen "127.0.0.1:$port" --base-url "$BASE_URL" \
		--node-id "$(node_id "$n")" --data-dir "$DATA" --database "$FLINT_PG_URI" \
		--job-lease "$LEASE" --crl-dir "$T/crl" --validation-workers 4 \
		--http01-port "$HTTP01" --dns-server "127.0.0.1:$DNS" --allow-loopback-targets \
		--rate-new-orders off --rate-certs-per-domain off --rate-failed-validations off \
		--rate-new-accounts-per-ip off >>"$T/node$n.out" 2>>"$T/node$n.log" </dev/null &
	NODE_PID[$n]=$!
	PIDS+=("${NODE_PID[$n]}")
	for ((i = 0; i < READY_TIMEOUT * 5; i++)); do
		alive "${NODE_PID[$n]}" || fail "node $n exited before becoming ready"
		if [ -s "$ROOT" ] && curl -sf --max-time 2 --cacert "$ROOT" \
			--connect-to "127.0.0.1:23401:127.0.0.1:$port" "$DIR_URL" -o /dev/null; then
			# NODE_PID is the timeout wrapper; SIGKILL must reach flintd itself
			FLINTD_OF[$n]=$(pgrep -P "${NODE_PID[$n]}" -x flintd) ||
				fail "node $n: no flintd under its timeout wrapper"
			log "node $n ready on $port (pid ${FLINTD_OF[$n]})"
			return 0
		fi
		sleep 0.2
	done
	fail "node $n not ready within ${READY_TIMEOUT}s"
}

DUMP_LOGS+=("$T/node1.log" "$T/node2.log" "$T/node3.log" "$T/load.txt")
start_node 1 # creates the CA in the data dir; the others load it
start_node 2
start_node 3
step_ok three_nodes "one database, one data dir, base URL $BASE_URL"

kv() { awk -v k="$2" '$1 == k { print $2; exit }' "$1"; }

# ---- the load, with node 2 or 3 killed in the middle
"$ACME_LOAD" --http01-port "$HTTP01" --ca-bundle "$ROOT" \
	--connect-to 127.0.0.1:23401 --connect-to 127.0.0.1:23402 --connect-to 127.0.0.1:23403 \
	--http01-delay-ms 1000 --domain-suffix cluster.acme-load.example.com --timeout-ms 5000 \
	--stall-s 60 -n "$ISSUANCES" -c "$CLIENTS" -j 1 "$DIR_URL" >"$T/load.txt" 2>&1 </dev/null &
LOAD_PID=$!
PIDS+=("$LOAD_PID")

issued_now() { sql "SELECT count(*) FROM certificates" 2>/dev/null || echo 0; }
for ((i = 0; i < 600; i++)); do
	[ "$(issued_now)" -ge $((ISSUANCES / 3)) ] && break
	alive "$LOAD_PID" || break
	sleep 0.1
done
# then the kill, of node 2 or 3 at a moment it is validating (each validation
# takes the responder's 1 s, far longer than from this query to the kill;
# node 1 stays: it is the base URL the later steps use)
K=2
for ((i = 0; i < 300; i++)); do
	busy=$(sql "SELECT claimed_by FROM challenges WHERE status = 'processing'
		AND claimed_by IN ('$(node_id 2)', '$(node_id 3)') LIMIT 1")
	[ -n "$busy" ] && { K=${busy:4:1}; break; }
	alive "$LOAD_PID" || break
	sleep 0.05
done
kill -KILL "${FLINTD_OF[$K]}"
NK=$(node_id "$K")
before_kill=$(issued_now)
wait "${NODE_PID[$K]}" 2>/dev/null
forget_pid "${NODE_PID[$K]}"
left_chal=$(sql "SELECT count(*) FROM challenges WHERE status = 'processing' AND claimed_by = '$NK'")
left_ord=$(sql "SELECT count(*) FROM orders WHERE status = 'processing' AND claimed_by = '$NK'")
log "node $K killed after $before_kill issuances; it held $left_chal challenges and $left_ord orders in processing"

for ((i = 0; i < 1200; i++)); do alive "$LOAD_PID" || break; sleep 0.1; done
if alive "$LOAD_PID"; then
	step_fail load_finished "acme-load still running after 120 s"
	kill -TERM "$LOAD_PID"
fi
wait "$LOAD_PID"
load_rc=$?
forget_pid "$LOAD_PID"
got=$(kv "$T/load.txt" issuances) errs=$(kv "$T/load.txt" errors)
retried=$(kv "$T/load.txt" retried_transport)
if [ "$load_rc" = 0 ] && [ "$got" = "$ISSUANCES" ] && [ "$errs" = 0 ]; then
	step_ok load_through_kill "$got issuances, $retried requests retried on another node"
else
	step_fail load_through_kill "status $load_rc, issuances '$got' (want $ISSUANCES), errors '$errs'; report:
$(grep -vE '^ *$' "$T/load.txt" | head -n 40)"
fi
if [ "${left_chal:-0}" -gt 0 ]; then
	step_ok killed_node_held_work "node $K: $left_chal validations in processing at the kill"
else
	step_fail killed_node_held_work "node $K held no validation in processing when killed (the slow responder should make it hold some); validations by node: $(sql "SELECT coalesce(claimed_by, '-') || '=' || n FROM (SELECT claimed_by, count(*) AS n FROM challenges WHERE status <> 'pending' GROUP BY claimed_by) c" | paste -sd' ')"
fi

# ---- the dead node's claims are taken over once they expire: nothing stays in processing
for ((i = 0; i < (LEASE + 15) * 5; i++)); do
	stuck=$(sql "SELECT (SELECT count(*) FROM challenges WHERE status = 'processing') +
		(SELECT count(*) FROM orders WHERE status = 'processing')")
	[ "$stuck" = 0 ] && break
	sleep 0.2
done
others=$(for n in 1 2 3; do [ "$n" != "$K" ] && echo "$T/node$n.log"; done)
# shellcheck disable=SC2086
taken=$(cat $others | grep -c "claimed=")
if [ "$stuck" = 0 ] && [ "${taken:-0}" -ge "$left_chal" ]; then
	step_ok taken_over "$taken claims taken over by the other nodes, nothing in processing"
else
	step_fail taken_over "$stuck rows still in processing, $taken take-over lines (want >= $left_chal)"
fi

# every certificate of a valid order is stored once, serials unique
dup_serials=$(sql "SELECT count(*) FROM (SELECT serial FROM certificates GROUP BY serial HAVING count(*) > 1) d")
valid_orders=$(sql "SELECT count(*) FROM orders o JOIN certificates c ON c.id = o.cert_id WHERE o.status = 'valid'")
if [ "$dup_serials" = 0 ] && [ "$valid_orders" -ge "$ISSUANCES" ]; then
	step_ok store_consistent "$valid_orders valid orders with their certificates, serials unique"
else
	step_fail store_consistent "duplicate serials $dup_serials, valid orders with certificate $valid_orders (want >= $ISSUANCES)"
fi

# ---- the killed node comes back under its name; a dead node's finalization is finished
start_node "$K"
if run_tool resume "$((LEASE + 60))" "$PY" "$E2E_DIR/t_cluster.py" --dir "$DIR_URL" --ca "$ROOT" \
	--http01-port "$HTTP01" --psql "${PSQL[*]:2}" --dead-node "node9.test:23409" \
	--claim-seconds "$LEASE"; then
	:
else
	STEPS_FAILED+=(resume)
fi

# ---- scheduled jobs run under a lease (one holder per job)
leases=$(sql "SELECT name || '=' || holder FROM leases ORDER BY name" | paste -sd' ')
if [[ $leases == *crl-publish=node?.test:2340?* && $leases == *nonce-purge=node?.test:2340?* ]]; then
	step_ok job_leases "$leases"
else
	step_fail job_leases "leases: '$leases' (want crl-publish and nonce-purge held by a node)"
fi

# ---- every node still serves, and stops cleanly (sanitizer builds check leaks)
for n in 1 2 3; do
	if alive "${NODE_PID[$n]}" && curl -sf --max-time 5 --cacert "$ROOT" \
		--connect-to "127.0.0.1:23401:127.0.0.1:$(node_port "$n")" "$DIR_URL" -o /dev/null; then
		stop_pid "${NODE_PID[$n]}" 15
		if [ "$STOP_RC" = 0 ]; then step_ok "node${n}_clean_exit"; else
			step_fail "node${n}_clean_exit" "node $n exited with status $STOP_RC after SIGTERM"
		fi
	else
		step_fail "node${n}_serving" "node $n does not answer"
	fi
done

finish
