#!/bin/bash
# Hostile-input suite (tests/tools/hostile.py): >150 table-driven cases, each with the
# exact HTTP status, ACME problem type (RFC 8555 §6.7) and, where nothing may change,
# an unchanged store (read-only snapshot of DATA/flintd.db): malformed/truncated/duplicate
# JSON, body size and Content-Type, base64url, jwk/kid, algorithm confusion and bad keys,
# nonces (incl. expired and another CA's), url header, cross-account access, newOrder
# identifiers, CSRs at finalize, revokeCert, slowloris, 10 000 idle connections.
# Ports 23600-23699. HOSTILE_ONLY="case ..." runs a subset (debugging).
TEST_NAME=t_hostile
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT=23600 HTTP01=23602 DNS=23653 MGMT=23655 PORT2=23610 DEADLINE2=3
CONNS=${HOSTILE_CONNS:-10000}

# 10 000 connections: flintd and the client each need more than that many descriptors
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt $((CONNS + 1024)) ]; then
	ulimit -Hn $((CONNS + 4096)) 2>/dev/null # root may raise it
fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge $((CONNS + 1024)) ] \
	|| fail "ulimit -n is $(ulimit -n) (hard $(ulimit -Hn)); need $((CONNS + 1024)) for $CONNS connections"

start_challtestsrv "$DNS" "$MGMT"

# The second flintd: short nonce lifetime (expired nonces, and nonces of "another CA")
# and a short request deadline (slowloris). Its own data dir, hence its own CA.
DATA2=$T/data2
mkdir -p "$DATA2"
wait_port_free "$PORT2" || fail "port $PORT2 busy"
timeout -k 5 "$E2E_LIFETIME" "$FLINTD" --listen "127.0.0.1:$PORT2" --data-dir "$DATA2" \
	--http01-port "$HTTP01" --dns-server "127.0.0.1:$DNS" --allow-loopback-targets \
	--rate-new-orders off --rate-certs-per-domain off --rate-failed-validations off \
	--rate-new-accounts-per-ip off --nonce-lifetime 10 --request-deadline "$DEADLINE2" \
	>>"$T/flintd2.out" 2>>"$T/flintd2.log" </dev/null &
FLINTD2_PID=$!
PIDS+=("$FLINTD2_PID")
DUMP_LOGS+=("$T/flintd2.log")
for ((i = 0; i < READY_TIMEOUT * 5; i++)); do
	alive "$FLINTD2_PID" || fail "second flintd exited before becoming ready"
	[ -s "$DATA2/root.pem" ] && curl -sf --max-time 2 --cacert "$DATA2/root.pem" \
		"https://127.0.0.1:$PORT2/directory" -o /dev/null 2>/dev/null && break
	sleep 0.2
done
curl -sf --max-time 2 --cacert "$DATA2/root.pem" "https://127.0.0.1:$PORT2/directory" -o /dev/null \
	|| fail "second flintd not ready"
log "second flintd ready on $PORT2 (pid $FLINTD2_PID)"

# The main flintd: a request deadline long enough for the idle-connection flood to be
# measured while it is open, and room for the connections (per event loop).
start_flintd "$PORT" "$HTTP01" "$DNS" --request-deadline 120 --max-connections 12000 --http-threads 2

ONLY=()
[ -n "${HOSTILE_ONLY:-}" ] && read -r -a ONLY <<<"$HOSTILE_ONLY" && ONLY=(--only "${ONLY[@]}")
if run_tool hostile 400 "$PY" "$TOOLS_DIR/hostile.py" --dir "$DIR_URL" --ca "$ROOT" \
	--db "$DATA/flintd.db" --http01-port "$HTTP01" --pid "$FLINTD_PID" \
	--dir2 "https://127.0.0.1:$PORT2/directory" --ca2 "$DATA2/root.pem" --deadline2 "$DEADLINE2" \
	--conns "$CONNS" --loops 2 --per-ip-cap 256 --rss-limit-mb "${HOSTILE_RSS_MB:-600}" "${ONLY[@]}"; then
	step_ok hostile "$(grep '^summary' "$T/hostile.log")"
else
	step_fail hostile "$(grep -c "^FAIL" "$T/hostile.log") case(s) failed$(grep -q "^summary" "$T/hostile.log" || echo ", and hostile.py did not finish (see its output above)")"
fi

if alive "$FLINTD2_PID"; then
	stop_pid "$FLINTD2_PID" 15
	if [ "$STOP_RC" = 0 ]; then step_ok flintd2_clean_exit; else
		step_fail flintd2_clean_exit "second flintd exited with status $STOP_RC (see $T/flintd2.log)"; fi
else
	step_fail flintd2_still_running "the second flintd died (see its log)"
fi
finish
