/* Unit tests for the validation resolver's address policy (RFC 8555 §10.2):
 * both sides of every denied range, IPv4-mapped IPv6, and the loopback switch. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "error.h"
#include "validate/resolver.h"

static bool allowed(const char *ip, bool loopback)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(ip, ':')) {
		ss.ss_family = AF_INET6;
		if (inet_pton(AF_INET6, ip, &((struct sockaddr_in6 *)&ss)->sin6_addr) != 1)
			return false;
	} else {
		ss.ss_family = AF_INET;
		if (inet_pton(AF_INET, ip, &((struct sockaddr_in *)&ss)->sin_addr) != 1)
			return false;
	}
	return flint_address_allowed(&ss, loopback);
}

static const struct {
	const char *ip;
	bool ok;          /* allow_loopback = false */
	bool ok_loopback; /* allow_loopback = true */
} cases[] = {
	/* 0.0.0.0/8 */
	{"0.0.0.0", false, false},
	{"0.255.255.255", false, false},
	{"1.0.0.0", true, true},
	/* 10/8 */
	{"9.255.255.255", true, true},
	{"10.0.0.0", false, false},
	{"10.255.255.255", false, false},
	{"11.0.0.0", true, true},
	/* 100.64/10 */
	{"100.63.255.255", true, true},
	{"100.64.0.0", false, false},
	{"100.127.255.255", false, false},
	{"100.128.0.0", true, true},
	/* 127/8 */
	{"126.255.255.255", true, true},
	{"127.0.0.1", false, true},
	{"127.255.255.255", false, true},
	{"128.0.0.0", true, true},
	/* 169.254/16 */
	{"169.253.255.255", true, true},
	{"169.254.0.0", false, false},
	{"169.254.255.255", false, false},
	{"169.255.0.0", true, true},
	/* 172.16/12 */
	{"172.15.255.255", true, true},
	{"172.16.0.0", false, false},
	{"172.31.255.255", false, false},
	{"172.32.0.0", true, true},
	/* 192.0.0/24, 192.0.2/24 */
	{"191.255.255.255", true, true},
	{"192.0.0.0", false, false},
	{"192.0.0.255", false, false},
	{"192.0.1.0", true, true},
	{"192.0.1.255", true, true},
	{"192.0.2.0", false, false},
	{"192.0.2.255", false, false},
	{"192.0.3.0", true, true},
	/* 192.168/16 */
	{"192.167.255.255", true, true},
	{"192.168.0.0", false, false},
	{"192.168.255.255", false, false},
	{"192.169.0.0", true, true},
	/* 198.18/15 */
	{"198.17.255.255", true, true},
	{"198.18.0.0", false, false},
	{"198.19.255.255", false, false},
	{"198.20.0.0", true, true},
	/* 198.51.100/24 */
	{"198.51.99.255", true, true},
	{"198.51.100.0", false, false},
	{"198.51.100.255", false, false},
	{"198.51.101.0", true, true},
	/* 203.0.113/24 */
	{"203.0.112.255", true, true},
	{"203.0.113.0", false, false},
	{"203.0.113.255", false, false},
	{"203.0.114.0", true, true},
	/* 224/4, 240/4, broadcast */
	{"223.255.255.255", true, true},
	{"224.0.0.0", false, false},
	{"239.255.255.255", false, false},
	{"240.0.0.0", false, false},
	{"255.255.255.254", false, false},
	{"255.255.255.255", false, false},
	{"8.8.8.8", true, true},
	/* IPv6 */
	{"::", false, false},
	{"::1", false, true},
	{"::2", false, false},
	{"::8.8.8.8", false, false}, /* deprecated IPv4-compatible, in ::/8 */
	{"2001:4860:4860::8888", true, true},
	/* v4-mapped: IPv4 rules on the embedded address */
	{"::ffff:8.8.8.8", true, true},
	{"::ffff:10.0.0.1", false, false},
	{"::ffff:127.0.0.1", false, true},
	{"::ffff:192.168.1.1", false, false},
	{"::fffe:8.8.8.8", false, false},
	/* NAT64: also IPv4 rules on the embedded address */
	{"64:ff9b::8.8.8.8", true, true},
	{"64:ff9b::10.0.0.1", false, false},
	/* 100::/64 */
	{"ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false, false}, /* reserved ::/8 */
	{"100::", false, false},
	{"100::ffff:ffff:ffff:ffff", false, false},
	{"100:0:0:1::", true, true},
	/* 2001:db8::/32 */
	{"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", true, true},
	{"2001:db8::", false, false},
	{"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", false, false},
	{"2001:db9::", true, true},
	/* fc00::/7 */
	{"fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true, true},
	{"fc00::", false, false},
	{"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false, false},
	{"fe00::", true, true},
	/* fe80::/10 (and deprecated site-local fec0::/10) */
	{"fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true, true},
	{"fe80::", false, false},
	{"febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false, false},
	{"fec0::", false, false},
	{"feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false, false},
	/* ff00::/8 */
	{"ff00::", false, false},
	{"ff02::1", false, false},
	{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false, false},
};

static void test_policy_table(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool a = allowed(cases[i].ip, false), b = allowed(cases[i].ip, true);
		if (a != cases[i].ok || b != cases[i].ok_loopback)
			fprintf(stderr, "  %s: got %d/%d, expected %d/%d\n", cases[i].ip, a, b,
				cases[i].ok, cases[i].ok_loopback);
		CHECK(a == cases[i].ok);
		CHECK(b == cases[i].ok_loopback);
	}
}

static void test_policy_odd(void)
{
	struct sockaddr_storage ss;

	CHECK(!flint_address_allowed(NULL, true));
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	CHECK(!flint_address_allowed(&ss, true));
}

static void test_resolver_new(void)
{
	struct flint_resolver *r = NULL;

	CHECK_INT(flint_resolver_new("127.0.0.1:20099", &r), 0);
	flint_resolver_free(r);
	r = NULL;
	CHECK_INT(flint_resolver_new("[::1]:53", &r), 0);
	flint_resolver_free(r);
	r = NULL;
	CHECK_INT(flint_resolver_new("127.0.0.1", &r), 0);
	flint_resolver_free(r);
	r = NULL;
	CHECK_INT(flint_resolver_new("127.0.0.1:99999", &r), FLINT_EINVAL);
	CHECK_INT(flint_resolver_new("127.0.0.1:", &r), FLINT_EINVAL);
	CHECK_INT(flint_resolver_new("[::1", &r), FLINT_EINVAL);
	CHECK(r == NULL);
	flint_resolver_free(NULL);
	/* The system resolver (DNSSEC-validating when the root key is installed). */
	if (access("/etc/resolv.conf", R_OK) == 0) {
		CHECK_INT(flint_resolver_new(NULL, &r), 0);
		flint_resolver_free(r);
	}
}

static void test_txt_rdata(void)
{
	static const struct {
		const char *rdata;
		size_t len;
		const char *want; /* NULL: refused */
	} cases[] = {
		{"\x03" "abc", 4, "abc"},
		{"\x03" "abc\x02" "de", 7, "abcde"},  /* strings of one record concatenate */
		{"\x00", 1, ""},
		{"", 0, ""},
		{"\x05" "ab", 3, NULL},            /* length beyond the rdata */
		{"\x03" "abc\x01", 5, NULL},        /* truncated second string */
		{"\x03" "a\x00" "c", 4, NULL},         /* embedded NUL would truncate */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *s = NULL;
		int rc = flint_dns_txt_rdata_parse((const unsigned char *)cases[i].rdata, cases[i].len,
						   &s);
		if (cases[i].want) {
			CHECK_INT(rc, 0);
			CHECK_STR(s, cases[i].want);
		} else {
			CHECK(rc < 0);
			CHECK(s == NULL);
		}
		free(s);
	}
}

/* A forwarder that never answers: the lookup ends at the deadline with a
 * dns problem instead of hanging on unbound's retries. */
static void test_timeout(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(20061)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	struct flint_resolver *r = NULL;
	CHECK_INT(flint_resolver_new("127.0.0.1:20061", &r), 0);
	if (!r) {
		close(fd);
		return;
	}
	flint_resolver_set_timeout(r, 1);
	char **txt = NULL;
	size_t n = 0;
	struct flint_problem *p = NULL;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_INT(flint_resolver_txt(r, "_acme-challenge.silent.example", &txt, &n, &p), FLINT_EIO);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK(p && p->type == FLINT_PROB_DNS && strstr(p->detail, "timed out"));
	CHECK(t1.tv_sec - t0.tv_sec < 4);
	flint_problem_free(p);
	p = NULL;
	/* the cancelled query left nothing behind: the next one on the same
	 * resolver runs (and times out) the same way */
	struct sockaddr_storage *a = NULL;
	CHECK_INT(flint_resolver_addrs(r, "silent.example", &a, &n, &p), FLINT_EIO);
	CHECK(p && p->type == FLINT_PROB_DNS && strstr(p->detail, "timed out"));
	free(a);
	flint_problem_free(p);
	p = NULL;
	/* a prefetched query that is never answered: the lookup that takes it
	 * over times out the same way; the ones nobody took are dropped, or
	 * freed with the resolver */
	flint_resolver_prefetch(r, "a.silent.example", 16);
	flint_resolver_prefetch(r, "b.silent.example", 16);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_INT(flint_resolver_txt(r, "a.silent.example", &txt, &n, &p), FLINT_EIO);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK(p && strstr(p->detail, "timed out"));
	CHECK(t1.tv_sec - t0.tv_sec < 4);
	flint_problem_free(p);
	flint_resolver_prefetch_drop(r);
	flint_resolver_prefetch(r, "c.silent.example", 16);
	flint_resolver_free(r);
	close(fd);
}

int main(void)
{
	RUN(test_timeout);
	RUN(test_txt_rdata);
	RUN(test_policy_table);
	RUN(test_policy_odd);
	RUN(test_resolver_new);
	return CHECK_DONE();
}
