#!/bin/bash
# The flintd users run: the optimised build (`make`, build/flintd, or
# FLINT_RELEASE_BUILD/flintd), not the sanitizer build the other tests use. It links
# mimalloc in place of glibc's malloc (every library binds malloc to it); acme-load
# from the same build: 300 issuances by 200 clients starting at once (beyond
# max-handshakes per loop), every one issued, no error; the database whole afterwards
# (PRAGMA integrity_check); flintd still running and exits cleanly. `make test` builds
# it first. Asserts counts, never timing. Ports 23870-23879.
TEST_NAME=t_release
FLINT_SRC=${FLINT_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
RELEASE=${FLINT_RELEASE_BUILD:-$FLINT_SRC/build}
FLINTD=$RELEASE/flintd ACME_LOAD=$RELEASE/acme-load
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ -x "$FLINTD" ] && [ -x "$ACME_LOAD" ] ||
	fail "no optimised build at $RELEASE (make builds it; make test does too)"
# ldd's output in full first: under pipefail, grep -q leaving early would
# make ldd die of SIGPIPE and the test fail at random
libs=$(ldd "$FLINTD")
if grep -q 'libmimalloc\.so' <<<"$libs"; then
	step_ok mimalloc "$(awk '/libmimalloc/ { print $1; exit }' <<<"$libs")"
else
	step_fail mimalloc "$FLINTD is not linked with mimalloc (libmimalloc-dev missing at build time?)"
fi

PORT=23870 HTTP01=23872 DNS=23873 MGMT=23875
start_challtestsrv "$DNS" "$MGMT"
start_flintd "$PORT" "$HTTP01" "$DNS" --max-connections-per-ip 400

LOAD_BOUND=300 acme_load_run burst 300 -n 300 -c 200 --timeout-ms 20000 --stall-s 60
check_db_integrity
finish
