#!/bin/bash
# Handshake admission (max-handshakes): flintd with one event loop, at most 2
# TLS handshakes in progress and a 60 s request deadline. tests/tools/handshakes.py:
# a burst of 60 handshakes at once all finish, those beyond the cap parked
# (flintd_connections_parked_total); a client behind 30 silent connections is
# answered within 10 s, the silent ones it found counted having yielded their slots
# (flintd_tls_handshake_slots_yielded_total, no stalled handshake), the rest parked
# until they speak; a client behind 6 connections stalled after their ClientHello
# (2 counted, at least 4 parked) is answered within 10 s, at least 2 stalled handshakes
# having stopped counting (the deadline would free them after 60);
# flintd_tls_handshakes and _waiting are 0 afterwards.
# Then acme-load, 100 clients at once against the same cap: 100 issuances, no error;
# and flintd stopped with 8 silent connections open (2 counted, 6 parked) exits cleanly.
# Ports 23860-23869.
TEST_NAME=t_handshakes
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT=23860 HTTP01=23862 DNS=23863 MGMT=23865
start_challtestsrv "$DNS" "$MGMT"
start_flintd "$PORT" "$HTTP01" "$DNS" --http-threads 1 --max-handshakes 2 --request-deadline 60

if run_tool handshakes 120 "$PY" "$TOOLS_DIR/handshakes.py" --host 127.0.0.1 --port "$PORT" \
	--ca "$ROOT"; then
	step_ok handshakes "$(grep -c '^ok' "$T/handshakes.log") cases"
else
	step_fail handshakes "$(grep -c '^FAIL' "$T/handshakes.log") case(s) failed (see FAIL lines above)"
fi

LOAD_BOUND=180 acme_load_run acme_load 100 -c 100 -n 100 --max-retry-after-ms 0

# connections counted and parked while flintd stops: it exits cleanly (the
# sanitizers watch the parked ones' bufferevents being freed)
for fd in 20 21 22 23 24 25 26 27; do eval "exec $fd<>/dev/tcp/127.0.0.1/$PORT" || fail "connect"; done
sleep 0.5
finish
