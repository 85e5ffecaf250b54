#!/bin/bash
# flintd on PostgreSQL: a throwaway cluster (tests/unit/pg_cluster.sh), flintd with
# --database postgresql://...; flint registers and issues a certificate with http-01
# standalone (verified against DATA/root.pem, exact SANs); the rows are in PostgreSQL
# and no SQLite file appears in the data dir; flintd restarted on the same database
# keeps the account and issues again (the store's schema already current).
# Env: FLINTD, FLINT_BIN (both required), FLINT_SRC. Ports 23050-23099: flintd 23050,
# the cluster's socket 23051 (unix socket only), http-01 23052, challtestsrv DNS 23053
# and management 23055.
if [ -z "${FLINT_PG_URI:-}" ]; then
	# run this script again inside a cluster that is removed however it ends;
	# the processes of the test end before the cluster's own time limit
	export E2E_LIFETIME=${E2E_LIFETIME:-480} PG_CLUSTER_TIMEOUT=540
	exec bash "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../unit/pg_cluster.sh" 23051 \
		bash "${BASH_SOURCE[0]}" "$@"
fi
TEST_NAME=t_postgres
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$E2E_DIR/client.sh"

PORT=23050 HTTP01=23052 DNS=23053 CTS=23055
PSQL=(timeout 20 psql -X -q -t -A -h "$FLINT_PG_DIR" -p 23051 -U flint -d flint)
need_prog psql

start_challtestsrv "$DNS" "$CTS"
start_flintd "$PORT" "$HTTP01" "$DNS" --database "$FLINT_PG_URI"
ACME_URL=$DIR_URL ACME_CA=$ROOT STATE=$T/state

if flint_run register account register --email pg-e2e@example.com --agree-tos; then
	step_ok register
else
	step_fail register "$(flint_why)"
fi

# issue_step STEP NAME: flint issue with http-01 standalone, then the files checked
issue_step() {
	if ! flint_run "$1" issue --http01-port "$HTTP01" "$2"; then
		step_fail "$1" "$(flint_why)"
	elif ! check_cert "$2" "$2"; then
		step_fail "$1" "$CHECK_ERR"
	else
		step_ok "$1"
	fi
	wait_port_free "$HTTP01"
}

issue_step issue pg1.example.com

# the certificate and its account are rows of the PostgreSQL store
n_certs=$("${PSQL[@]}" -c "SELECT count(*) FROM certificates")
n_accts=$("${PSQL[@]}" -c "SELECT count(*) FROM accounts")
if [ "$n_certs" = 1 ] && [ "$n_accts" = 1 ] && [ ! -e "$DATA/flintd.db" ]; then
	step_ok rows_in_postgres
else
	step_fail rows_in_postgres "certificates=$n_certs accounts=$n_accts (want 1 and 1), DATA/flintd.db $([ -e "$DATA/flintd.db" ] && echo exists || echo absent)"
fi

# used nonces are rows too (SQLite's nodes keep them in a ledger file instead):
# every request redeemed its nonce in the store, no ledger file appeared
n_used=$("${PSQL[@]}" -c "SELECT count(*) FROM used_nonces")
n_redeemed=$(curl -sS --max-time 10 --cacert "$ROOT" "$BASE_URL/metrics" |
	awk '$1 == "flintd_nonces_redeemed_total" { print $2 }')
if [ -n "$n_used" ] && [ "$n_used" -ge 5 ] && [ "$n_used" = "$n_redeemed" ] &&
	[ ! -e "$DATA/flintd.db-nonces" ]; then
	step_ok nonces_in_postgres "$n_used used nonces"
else
	step_fail nonces_in_postgres "used_nonces=$n_used, redeemed=$n_redeemed, ledger file $(ls "$DATA" | grep -c nonces)"
fi

stop_flintd
if [ "$FLINTD_RC" = 0 ]; then step_ok sigterm_exit; else
	step_fail sigterm_exit "flintd exited with status $FLINTD_RC on SIGTERM (want 0)"
fi
port_busy "$PORT" && wait_port_free "$PORT"
start_flintd "$PORT" "$HTTP01" "$DNS" --database "$FLINT_PG_URI"

PG_SCHEMA=5 # the number of migrations in src/server/store/postgres.c
# the same account (flint's state) issues again after the restart
issue_step issue_after_restart pg2.example.com
n_certs=$("${PSQL[@]}" -c "SELECT count(*) FROM certificates")
n_accts=$("${PSQL[@]}" -c "SELECT count(*) FROM accounts")
version=$("${PSQL[@]}" -c "SELECT version FROM schema_version")
if [ "$n_certs" = 2 ] && [ "$n_accts" = 1 ] && [ "$version" = "$PG_SCHEMA" ]; then
	step_ok state_after_restart
else
	step_fail state_after_restart "certificates=$n_certs accounts=$n_accts schema=$version (want 2, 1, $PG_SCHEMA)"
fi

finish
