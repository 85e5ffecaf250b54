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
FLINTD=$RELEASE/flintd
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ -x "$FLINTD" ] && [ -x "$RELEASE/acme-load" ] ||
	fail "no optimised build at $RELEASE (make builds it; make test does too)"
if ldd "$FLINTD" | grep -q 'libmimalloc\.so'; then
	step_ok mimalloc "$(ldd "$FLINTD" | awk '/libmimalloc/ { print $1; exit }')"
else
	step_fail mimalloc "$FLINTD is not linked with mimalloc (libmimalloc-dev missing at build time?)"
fi

PORT=23870 HTTP01=23872 DNS=23873 MGMT=23875
start_challtestsrv "$DNS" "$MGMT"
start_flintd "$PORT" "$HTTP01" "$DNS" --max-connections-per-ip 400

if run_bounded 300 "$T/load.txt" "$RELEASE/acme-load" -n 300 -c 200 --http01-port "$HTTP01" \
	--ca-bundle "$ROOT" --timeout-ms 20000 --stall-s 60 "$DIR_URL"; then
	issued=$(awk '$1 == "issuances" { print $2 }' "$T/load.txt")
	errors=$(awk '$1 == "errors" { print $2 }' "$T/load.txt")
	if [ "$issued" = 300 ] && [ "$errors" = 0 ]; then
		step_ok burst "200 clients at once: $issued issuances, $errors errors"
	else
		step_fail burst "issued ${issued:-?} of 300, errors ${errors:-?}"
	fi
else
	step_fail burst "acme-load failed: $(grep -E '^(#|errors)' "$T/load.txt" | head -n 20)"
fi
check=$("$PY" -c 'import sqlite3, sys
db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True, timeout=10)
print(" ".join(r[0] for r in db.execute("PRAGMA integrity_check")))' "$DATA/flintd.db" 2>&1)
if [ "$check" = ok ]; then step_ok integrity_check; else
	step_fail integrity_check "PRAGMA integrity_check after the load: $check"
fi
finish
