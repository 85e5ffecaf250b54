#!/bin/sh
# `make run`: a CA on https://localhost for trying ACME clients on this
# machine. Validation is pointed at loopback with flintd's test-only
# settings: a local DNS server (Debian's pebble-challtestsrv) answers every
# name with 127.0.0.1, and http-01 / tls-alpn-01 go to ports 5002 / 5001.
# For a CA that validates real names, run build/flintd without those flags.
set -eu
flintd=${1:?usage: run-local.sh FLINTD DATA_DIR LISTEN}
data=${2:?}
listen=${3:?}
dns_port=${DNS_PORT:-8053}
mgmt_port=${DNS_MGMT_PORT:-8055}
port=${listen##*:}

pebble-challtestsrv -dns01 "127.0.0.1:$dns_port" -http01 "" -https01 "" -tlsalpn01 "" \
	-management "127.0.0.1:$mgmt_port" -defaultIPv4 127.0.0.1 -defaultIPv6 "" \
	>/dev/null 2>&1 &
dns_pid=$!
trap 'kill $dns_pid 2>/dev/null' EXIT INT TERM

cat <<MSG
flint local CA: validation uses TEST settings (names resolve to 127.0.0.1 via
127.0.0.1:$dns_port, http-01 on port 5002, tls-alpn-01 on port 5001).
Try it:
  REQUESTS_CA_BUNDLE=$data/root.pem certbot certonly --standalone \\
    --server https://localhost:$port/directory --http-01-port 5002 \\
    --http-01-address 127.0.0.1 -d test.example.com --agree-tos \\
    --register-unsafely-without-email \\
    --config-dir /tmp/flint-certbot --work-dir /tmp/flint-certbot --logs-dir /tmp/flint-certbot
dns-01 TXT records: curl -X POST -d '{"host":"_acme-challenge.NAME.","value":"..."}' http://127.0.0.1:$mgmt_port/set-txt

MSG
"$flintd" --listen "$listen" --data-dir "$data" --http01-port 5002 --tlsalpn01-port 5001 \
	--dns-server "127.0.0.1:$dns_port" --allow-loopback-targets
