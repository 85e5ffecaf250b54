#!/bin/bash
# Rate limits: tests/tools/rate_limits.py, one section per flintd run with only that limit on
# (new accounts per address 3/3h, new orders per account 3/1h, certificates per registered
# domain 2/7d with the replaces exemption, failed validations per account and name 2/1h):
# each refusal is 429 rateLimited with Retry-After and names what it counted; the defaults
# (300/3h, 50/7d, 5/1h, 10/3h) are checked in flintd --help.
# Ports 22900-22999: flintd +0, http-01 +2, challtestsrv DNS +53 and management +55.
# t_rate_limits_pg.sh runs newOrder's sections again on PostgreSQL: with FLINT_PG_URI
# set, each section has a database of its own; RATE_SECTIONS and RATE_PORT_BASE choose.
TEST_NAME=${TEST_NAME:-t_rate_limits}
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BASE=${RATE_PORT_BASE:-22900}
PORT=$BASE HTTP01=$((BASE + 2)) DNS=$((BASE + 53)) CTS=$((BASE + 55))
start_challtestsrv "$DNS" "$CTS"
for section in ${RATE_SECTIONS:-accounts orders certs failed}; do
	case $section in
	accounts) RATE_LIMITS="--rate-new-accounts-per-ip 3/3h --rate-new-orders off --rate-certs-per-domain off --rate-failed-validations off" ;;
	orders) RATE_LIMITS="--rate-new-orders 3/1h --rate-new-accounts-per-ip off --rate-certs-per-domain off --rate-failed-validations off" ;;
	certs) RATE_LIMITS="--rate-certs-per-domain 2/7d --rate-new-accounts-per-ip off --rate-new-orders off --rate-failed-validations off" ;;
	failed) RATE_LIMITS="--rate-failed-validations 2/1h --rate-new-accounts-per-ip off --rate-new-orders off --rate-certs-per-domain off" ;;
	esac
	DATA=$T/data-$section
	db=()
	if [ -n "${FLINT_PG_URI:-}" ]; then
		timeout 20 psql -X -q "$FLINT_PG_URI" -c "CREATE DATABASE rl_$section" >/dev/null ||
			fail "CREATE DATABASE rl_$section failed"
		uri=${FLINT_PG_URI/\/flint\?//rl_$section?}
		[ "$uri" != "$FLINT_PG_URI" ] || fail "FLINT_PG_URI names no /flint? database: $FLINT_PG_URI"
		db=(--database "$uri")
	fi
	start_flintd "$PORT" "$HTTP01" "$DNS" "${db[@]}"
	if run_tool "rl-$section" 300 "$PY" "$TOOLS_DIR/rate_limits.py" --dir "$DIR_URL" --ca "$ROOT" \
		--http01-port "$HTTP01" --section "$section"; then
		step_ok "limit_$section"
	else
		step_fail "limit_$section" "$(grep '^FAIL' "$T/rl-$section.log" | head -2 | tr '\n' ' ')"
	fi
	stop_flintd
	[ "$FLINTD_RC" = 0 ] || step_fail "flintd_clean_exit_$section" "flintd exited $FLINTD_RC"
done
help=$("$FLINTD" --help)
missing=
for d in "rate-new-orders N/TIME" "[300/3h]" "[50/7d]" "[5/1h]" "[10/3h]"; do
	grep -qF -- "$d" <<<"$help" || missing+="'$d' "
done
if [ -z "$missing" ]; then step_ok defaults_documented; else step_fail defaults_documented "flintd --help lacks $missing"; fi
finish
