#!/bin/bash
# TLS records that arrive together (tests/tools/tls_records.py): flintd lets
# OpenSSL read ahead, so a record behind another waits in OpenSSL's buffer;
# the request right behind a TLS 1.3 client's Finished, a request in two
# records, pipelined requests, TLS 1.2: each answered within seconds.
# Ports 23850-23859.
TEST_NAME=t_tls_records
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PORT=23850 HTTP01=23852 DNS=23853 MGMT=23855
start_challtestsrv "$DNS" "$MGMT"
start_flintd "$PORT" "$HTTP01" "$DNS"

if run_tool tls_records 120 "$PY" "$TOOLS_DIR/tls_records.py" --host 127.0.0.1 --port "$PORT" \
	--ca "$ROOT"; then
	step_ok tls_records
else
	step_fail tls_records "$(grep -c '^FAIL' "$T/tls_records.log") case(s) failed (see FAIL lines above)"
fi
finish
