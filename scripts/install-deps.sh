#!/bin/sh
# Installs the Debian 12 packages flint needs to build and run, plus those to
# test (`install-deps.sh test`) or to benchmark (`install-deps.sh bench`), only
# when something is missing (apt-get update first: fresh package lists may be empty).
set -eu
BUILD="cmake make pkg-config gcc clang libclang-rt-14-dev libssl-dev libjansson-dev
libevent-dev libmimalloc-dev libsqlite3-dev libpq-dev libcurl4-openssl-dev libunbound-dev libpsl-dev publicsuffix
openssl curl"
TEST="certbot lego dehydrated pebble python3-acme python3-requests jq bc iproute2 time
knot knot-dnsutils dnsutils postgresql softhsm2 libengine-pkcs11-openssl"
# bench/compare.sh: the CAs, fake DNS, PostgreSQL, wrk (HTTP load) and ss; profile.sh: perf
BENCH="pebble postgresql wrk iproute2 procps linux-perf"
want=$BUILD
case "${1:-}" in
test) want="$BUILD $TEST" ;;
bench) want="$BUILD $BENCH" ;;
esac
missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
