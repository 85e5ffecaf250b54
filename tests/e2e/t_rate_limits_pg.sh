#!/bin/bash
# newOrder's rate limits (t_rate_limits.sh's orders, certs and failed sections) with flintd on
# PostgreSQL, where newOrder's counts and reusable authorizations are read with the nonce's
# redemption (read ahead): the same refusals, each naming what it counted. A throwaway
# cluster (tests/unit/pg_cluster.sh, its socket on port 23951), a database per section.
# Ports 23900-23999: flintd +0, http-01 +2, challtestsrv DNS +53 and management +55.
if [ -z "${FLINT_PG_URI:-}" ]; then
	# again inside a cluster that is removed however it ends
	export E2E_LIFETIME=${E2E_LIFETIME:-480} PG_CLUSTER_TIMEOUT=540
	exec bash "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../unit/pg_cluster.sh" 23951 \
		bash "${BASH_SOURCE[0]}" "$@"
fi
export TEST_NAME=t_rate_limits_pg RATE_PORT_BASE=23900 RATE_SECTIONS="orders certs failed"
. "$(dirname "${BASH_SOURCE[0]}")/t_rate_limits.sh"
