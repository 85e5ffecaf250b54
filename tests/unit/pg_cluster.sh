#!/bin/bash
# A throwaway PostgreSQL cluster for one test command: initdb in a temp dir,
# postgres on a unix socket there, databases flint and flint_fresh, then
#   FLINT_TEST_DSN        key=value conninfo of flint
#   FLINT_TEST_DSN_FRESH  key=value conninfo of flint_fresh (empty, for first-open tests)
#   FLINT_PG_URI          postgresql:// URI of flint
# in the environment of "$@". The cluster is stopped and the dir removed on
# every exit path. Fails (never skips) when PostgreSQL is not installed.
# Usage: pg_cluster.sh PORT COMMAND [ARGS...]   (PORT names the socket; no TCP)
set -u

port=${1:?usage: pg_cluster.sh PORT COMMAND [ARGS...]}
shift
[ $# -gt 0 ] || { echo "pg_cluster.sh: no command" >&2; exit 2; }

bindir=${PG_BIN:-}
if [ -z "$bindir" ]; then
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		[ -x "$d/initdb" ] && { bindir=$d; break; }
	done
fi
if [ -z "$bindir" ] && command -v pg_config >/dev/null 2>&1; then
	bindir=$(pg_config --bindir)
fi
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ] || [ ! -x "$bindir/pg_ctl" ]; then
	echo "pg_cluster.sh: PostgreSQL server binaries not found (install postgresql," \
	     "or set PG_BIN)" >&2
	exit 1
fi

# initdb and postgres refuse to run as root: use an unprivileged system user.
as_user=()
if [ "$(id -u)" = 0 ]; then
	if ! id flinttest >/dev/null 2>&1; then
		useradd --system --no-create-home --home-dir /nonexistent \
			--shell /usr/sbin/nologin flinttest || { echo "pg_cluster.sh: useradd failed" >&2; exit 1; }
	fi
	as_user=(runuser -u flinttest --)
fi

child=
dir=$(mktemp -d /tmp/flint-pg-XXXXXX) || exit 1
chmod 0755 "$dir"
[ ${#as_user[@]} -gt 0 ] && chown flinttest "$dir"
data=$dir/data
log=$dir/postgres.log

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [ -n "${child:-}" ] && kill -0 "$child" 2>/dev/null; then
		kill -TERM "$child" 2>/dev/null
		wait "$child" 2>/dev/null
	fi
	if [ -f "$data/postmaster.pid" ]; then
		"${as_user[@]}" "$bindir/pg_ctl" -D "$data" -m immediate -t 20 -w stop >/dev/null 2>&1
		if [ -f "$data/postmaster.pid" ]; then
			pid=$(head -1 "$data/postmaster.pid" 2>/dev/null)
			[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
		fi
	fi
	rm -rf "$dir"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
	echo "pg_cluster.sh: $*" >&2
	[ -f "$log" ] && tail -n 20 "$log" >&2
	exit 1
}

"${as_user[@]}" "$bindir/initdb" -D "$data" -U flint --auth=trust --no-sync -E UTF8 \
	--locale=C >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; fail "initdb failed"; }
"${as_user[@]}" "$bindir/pg_ctl" -D "$data" -l "$log" -w -t 30 \
	-o "-k $dir -p $port -c listen_addresses='' -c fsync=off -c full_page_writes=off" \
	start >/dev/null || fail "postgres did not start"
for db in flint flint_fresh; do
	timeout 30 "$bindir/psql" -X -q -h "$dir" -p "$port" -U flint -d postgres \
		-c "CREATE DATABASE $db" >/dev/null || fail "CREATE DATABASE $db failed"
done

export FLINT_TEST_DSN="host=$dir port=$port user=flint dbname=flint"
export FLINT_TEST_DSN_FRESH="host=$dir port=$port user=flint dbname=flint_fresh"
export FLINT_PG_URI="postgresql://flint@/flint?host=$dir&port=$port"
export FLINT_PG_DIR="$dir"
# in the background, so that a signal to this script runs the trap at once
# (bash defers traps while a foreground child runs)
timeout -k 5 "${PG_CLUSTER_TIMEOUT:-300}" "$@" &
child=$!
wait "$child"
