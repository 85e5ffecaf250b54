# shellcheck shell=bash disable=SC2034
# Pebble helpers for the client end-to-end tests; source after lib.sh:
#
#   E2E_NO_FLINTD=1; . "$E2E_DIR/lib.sh"; . "$E2E_DIR/pebble.sh"
#
# start_pebble PORT MGMT_PORT HTTP01_PORT TLSALPN01_PORT DNS_PORT [VAR=VALUE...]
#   Debian's pebble on loopback with its own throwaway TLS CA (made with openssl),
#   httpPort/tlsPort = the ports the client's standalone solvers listen on,
#   -dnsserver = pebble-challtestsrv on DNS_PORT (start_challtestsrv first),
#   PEBBLE_VA_NOSLEEP=1 and Pebble's defaults for everything else (5% badNonce
#   rejection included); VAR=VALUE pairs add to Pebble's environment
#   (e.g. PEBBLE_WFE_NONCEREJECT=30). With the shell variable PEBBLE_EAB_KEYS set to a JSON
#   object {"kid": "base64url MAC key", ...} Pebble requires external account binding
#   with those keys (externalAccountBindingRequired). Pebble keeps everything in memory and makes a
#   new issuing hierarchy on every start.
#   Sets PEBBLE_PID, PEBBLE_DIR_URL, PEBBLE_TLS_CA (verifies Pebble's HTTPS),
#   PEBBLE_MGMT (management API URL) and ROOT (= $T/pebble-root.pem, the issuing
#   root from /roots/0, which lib.sh's verify_cert / verify_fullchain use).
# stop_pebble: SIGTERM, bounded wait.
# pebble_alive: 0 while Pebble runs; otherwise sets PEBBLE_DEATH.
# pebble_cert_status SERIAL_HEX: the management API's /cert-status-by-serial JSON.
# pebble_cert_revoked SERIAL_HEX: 0 when that says "Status": "Revoked" (PEBBLE_ERR otherwise).

PEBBLE_PID=

# Pebble's own HTTPS certificate: a throwaway CA + a leaf for 127.0.0.1/localhost.
pebble_tls_ca() {
	local d=$T/pebble-tls
	[ -s "$d/cert.pem" ] && return 0
	mkdir -p "$d"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj "/CN=flint e2e Pebble TLS CA" -keyout "$d/ca.key" -out "$d/ca.pem" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
		>>"$T/openssl.log" 2>&1 || fail "openssl: cannot make Pebble's TLS CA (see $T/openssl.log)"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
		-keyout "$d/key.pem" -out "$d/srv.csr" >>"$T/openssl.log" 2>&1 \
		|| fail "openssl: cannot make Pebble's TLS key"
	printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth\n' >"$d/srv.ext"
	openssl x509 -req -in "$d/srv.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 2 \
		-extfile "$d/srv.ext" -out "$d/cert.pem" >>"$T/openssl.log" 2>&1 \
		|| fail "openssl: cannot sign Pebble's TLS certificate"
}

start_pebble() {
	local port=$1 mgmt=$2 http01=$3 tlsalpn=$4 dns=$5 i eab='"externalAccountBindingRequired": false'
	shift 5
	[ -n "${PEBBLE_EAB_KEYS:-}" ] && eab="\"externalAccountBindingRequired\": true,
    \"externalAccountMACKeys\": $PEBBLE_EAB_KEYS"
	need_prog pebble
	pebble_tls_ca
	wait_port_free "$port" || fail "port $port busy"
	wait_port_free "$mgmt" || fail "port $mgmt busy"
	cat >"$T/pebble-config.json" <<EOF
{
  "pebble": {
    "listenAddress": "127.0.0.1:$port",
    "managementListenAddress": "127.0.0.1:$mgmt",
    "certificate": "$T/pebble-tls/cert.pem",
    "privateKey": "$T/pebble-tls/key.pem",
    "httpPort": $http01,
    "tlsPort": $tlsalpn,
    "ocspResponderURL": "",
    $eab
  }
}
EOF
	PEBBLE_TLS_CA=$T/pebble-tls/ca.pem
	PEBBLE_DIR_URL="https://127.0.0.1:$port/dir"
	PEBBLE_MGMT="https://127.0.0.1:$mgmt"
	echo "+ $* pebble -config $T/pebble-config.json -dnsserver 127.0.0.1:$dns" >>"$T/pebble.log"
	# env -u: whatever the caller's environment says, Pebble runs with its defaults
	# (5% nonce rejection, authz reuse...) plus PEBBLE_VA_NOSLEEP=1 and "$@".
	timeout -k 5 "$E2E_LIFETIME" env -u PEBBLE_WFE_NONCEREJECT -u PEBBLE_VA_ALWAYS_VALID \
		-u PEBBLE_VA_SLEEPTIME -u PEBBLE_AUTHZREUSE -u PEBBLE_CHAIN_LENGTH \
		-u PEBBLE_ALTERNATE_ROOTS -u PEBBLE_WFE_ORDERS_PER_PAGE \
		PEBBLE_VA_NOSLEEP=1 "$@" \
		pebble -config "$T/pebble-config.json" -dnsserver "127.0.0.1:$dns" \
		>>"$T/pebble.log" 2>&1 </dev/null &
	PEBBLE_PID=$!
	PIDS+=("$PEBBLE_PID")
	case " ${DUMP_LOGS[*]} " in *" $T/pebble.log "*) ;; *) DUMP_LOGS+=("$T/pebble.log") ;; esac
	for ((i = 0; i < 300; i++)); do
		pebble_alive || fail "$PEBBLE_DEATH (before becoming ready; see $T/pebble.log)"
		curl -sf --max-time 2 --cacert "$PEBBLE_TLS_CA" "$PEBBLE_DIR_URL" -o "$T/pebble-dir.json" 2>/dev/null && break
		sleep 0.1
	done
	[ "$i" -lt 300 ] || fail "Pebble not ready within 30 s at $PEBBLE_DIR_URL"
	ROOT=$T/pebble-root.pem
	curl -sf --max-time 5 --cacert "$PEBBLE_TLS_CA" "$PEBBLE_MGMT/roots/0" -o "$ROOT" \
		|| fail "GET $PEBBLE_MGMT/roots/0 failed"
	openssl x509 -in "$ROOT" -noout 2>/dev/null || fail "Pebble's /roots/0 is not a PEM certificate"
	curl -sf --max-time 5 --cacert "$PEBBLE_TLS_CA" "$PEBBLE_MGMT/intermediates/0" \
		-o "$T/pebble-intermediate.pem" || fail "GET $PEBBLE_MGMT/intermediates/0 failed"
	log "pebble ready at $PEBBLE_DIR_URL (pid $PEBBLE_PID${*:+, $*})"
}

pebble_alive() {
	[ -n "$PEBBLE_PID" ] || { PEBBLE_DEATH="Pebble is not running"; return 1; }
	alive "$PEBBLE_PID" && return 0
	wait "$PEBBLE_PID" 2>/dev/null
	local rc=$?
	forget_pid "$PEBBLE_PID"
	PEBBLE_PID=
	PEBBLE_DEATH="Pebble died unexpectedly: exit status $rc"
	return 1
}

stop_pebble() {
	[ -n "$PEBBLE_PID" ] || return 0
	stop_pid "$PEBBLE_PID" 10
	PEBBLE_PID=
	log "pebble stopped"
}

pebble_cert_status() {
	curl -sf --max-time 5 --cacert "$PEBBLE_TLS_CA" "$PEBBLE_MGMT/cert-status-by-serial/$1"
}

# Pebble answers {"Certificate": PEM, "Reason": n, "RevokedAt": ..., "Serial": ..., "Status": "Revoked"|"Valid"}
pebble_cert_revoked() {
	local js
	PEBBLE_ERR=
	if ! js=$(pebble_cert_status "$1"); then
		PEBBLE_ERR="GET $PEBBLE_MGMT/cert-status-by-serial/$1 failed"
		return 1
	fi
	if ! grep -Eq '"Status":[[:space:]]*"Revoked"' <<<"$js"; then
		PEBBLE_ERR="cert-status-by-serial/$1 says: $(tr -d '\n' <<<"$js" | sed 's/"Certificate":[[:space:]]*"[^"]*",\{0,1\}//' | cut -c1-300)"
		return 1
	fi
	return 0
}
