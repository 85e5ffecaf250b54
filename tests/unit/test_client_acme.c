/* Unit tests for the client's ACME session (acme.c, http.c): retry and poll
 * decisions, nonce pool, problem text, Link/Retry-After headers and directory
 * documents (good and hostile), and badNonce/rateLimited/503/size caps
 * against canned replies from a small HTTPS server run in-process. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "acme.h"
#include "check.h"
#include "error.h"
#include "http.h"
#include "jwk.h"
#include "jws.h"
#include "problem.h"

/* ------------------------------------------------------- pure decisions */

static void test_retry_delay(void)
{
	struct flint_problem *bad_nonce = flint_problem_new(FLINT_PROB_BAD_NONCE, "stale");
	struct flint_problem *limited = flint_problem_new(FLINT_PROB_RATE_LIMITED, "slow down");
	struct flint_problem *malformed = flint_problem_new(FLINT_PROB_MALFORMED, "no");
	struct flint_problem *internal = flint_problem_new(FLINT_PROB_SERVER_INTERNAL, "busy");

	for (int a = 1; a <= FLINT_ACME_BADNONCE_RETRIES; a++)
		CHECK_INT(flint_acme_retry_delay(400, bad_nonce, -1, a), 0);
	CHECK_INT(flint_acme_retry_delay(400, bad_nonce, -1, FLINT_ACME_BADNONCE_RETRIES + 1), -1);
	CHECK_INT(flint_acme_retry_delay(429, limited, 5, 1), -1);
	CHECK_INT(flint_acme_retry_delay(503, limited, 5, 1), -1); /* rateLimited is never retried */
	CHECK_INT(flint_acme_retry_delay(400, malformed, -1, 1), -1);
	CHECK_INT(flint_acme_retry_delay(500, internal, -1, 1), -1);
	CHECK_INT(flint_acme_retry_delay(503, internal, 2, 1), 2000);
	CHECK_INT(flint_acme_retry_delay(503, internal, 0, 1), 0);
	CHECK_INT(flint_acme_retry_delay(503, internal, FLINT_ACME_503_MAX_WAIT, 1),
		  FLINT_ACME_503_MAX_WAIT * 1000);
	CHECK_INT(flint_acme_retry_delay(503, internal, FLINT_ACME_503_MAX_WAIT + 1, 1), -1);
	CHECK_INT(flint_acme_retry_delay(503, internal, -1, 2), 2000);
	CHECK_INT(flint_acme_retry_delay(503, NULL, 1, FLINT_ACME_503_RETRIES), 1000);
	CHECK_INT(flint_acme_retry_delay(503, NULL, 1, FLINT_ACME_503_RETRIES + 1), -1);
	flint_problem_free(bad_nonce);
	flint_problem_free(limited);
	flint_problem_free(malformed);
	flint_problem_free(internal);
}

static void test_poll_delay(void)
{
	static const struct {
		int attempt;
		long retry_after, want;
	} cases[] = {
		{0, -1, 75},   {1, -1, 150},  {2, -1, 300},    {3, -1, 600},     {5, -1, 2400},
		{6, -1, 4000}, {60, -1, 4000}, {0, 0, 50},     {0, 1, 1000},     {9, 3, 3000},
		{0, 60, 60000}, {0, 86400, 60000},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_INT(flint_acme_poll_delay(cases[i].attempt, cases[i].retry_after),
			  cases[i].want);
}

static void test_problem_describe(void)
{
	struct flint_problem *p = flint_problem_new(FLINT_PROB_REJECTED_IDENTIFIER, "no %s", "way");
	char *s;

	p->status = 400;
	s = flint_problem_describe(p);
	CHECK_STR(s, "urn:ietf:params:acme:error:rejectedIdentifier: no way (HTTP 400)");
	free(s);
	flint_problem_add_sub(p, FLINT_PROB_CAA, "dns", "a.example", "CAA forbids");
	flint_problem_add_sub(p, FLINT_PROB_DNS, NULL, NULL, "SERVFAIL");
	p->status = 0;
	s = flint_problem_describe(p);
	CHECK_STR(s, "urn:ietf:params:acme:error:rejectedIdentifier: no way; subproblems: "
		     "dns a.example: urn:ietf:params:acme:error:caa: CAA forbids; "
		     "(no identifier): urn:ietf:params:acme:error:dns: SERVFAIL");
	free(s);
	s = flint_problem_describe(NULL);
	CHECK_STR(s, "(no problem document)");
	free(s);
	flint_problem_free(p);
}

static void test_nonce_pool(void)
{
	struct flint_nonce_pool pool = {0};
	char buf[32], *n;

	CHECK(flint_nonce_pool_take(&pool) == NULL);
	flint_nonce_pool_push(&pool, "first");
	flint_nonce_pool_push(&pool, "second");
	flint_nonce_pool_push(&pool, NULL);
	flint_nonce_pool_push(&pool, "");
	flint_nonce_pool_push(&pool, "has space");
	flint_nonce_pool_push(&pool, "pad=");
	flint_nonce_pool_push(&pool, "new\r\nX-Injected: 1");
	CHECK_INT(pool.n, 2);
	n = flint_nonce_pool_take(&pool);
	CHECK_STR(n, "second"); /* newest first: the one from the last reply */
	free(n);
	n = flint_nonce_pool_take(&pool);
	CHECK_STR(n, "first");
	free(n);
	CHECK(flint_nonce_pool_take(&pool) == NULL);
	/* overflow drops the oldest */
	for (int i = 0; i < FLINT_ACME_NONCE_POOL + 3; i++) {
		snprintf(buf, sizeof(buf), "n%d", i);
		flint_nonce_pool_push(&pool, buf);
	}
	CHECK_INT(pool.n, FLINT_ACME_NONCE_POOL);
	CHECK_STR(pool.nonce[0], "n3");
	flint_nonce_pool_clear(&pool);
	CHECK_INT(pool.n, 0);
}

static void test_retry_after_parse(void)
{
	long long now = 1700000000; /* 2023-11-14T22:13:20Z */

	CHECK_INT(flint_http_parse_retry_after("120", now), 120);
	CHECK_INT(flint_http_parse_retry_after(" 7 ", now), 7);
	CHECK_INT(flint_http_parse_retry_after("0", now), 0);
	CHECK_INT(flint_http_parse_retry_after("", now), -1);
	CHECK_INT(flint_http_parse_retry_after("soon", now), -1);
	CHECK_INT(flint_http_parse_retry_after("12abc", now), -1);
	CHECK_INT(flint_http_parse_retry_after(NULL, now), -1);
	CHECK_INT(flint_http_parse_retry_after("99999999999999999999", now), 86400L * 365);
	CHECK_INT(flint_http_parse_retry_after("Tue, 14 Nov 2023 22:15:00 GMT", now), 100);
	CHECK_INT(flint_http_parse_retry_after("Tue, 14 Nov 2023 22:00:00 GMT", now), 0);
}

/* Hostile Retry-After values: every result is -1 or in [0, one year]. */
static void test_retry_after_hostile(void)
{
	static const struct {
		const char *value;
		long long now;
		long want;
	} cases[] = {
	    {"-5", 1700000000, -1},
	    {"-0", 1700000000, -1},
	    {"+5", 1700000000, -1},
	    {"5 5", 1700000000, -1},
	    {"5\r\n", 1700000000, -1},
	    {"\t\t", 1700000000, -1},
	    {"0x10", 1700000000, -1},
	    {"1e3", 1700000000, -1},
	    {"18446744073709551617", 1700000000, 86400L * 365},
	    {"000000000000000000000000000000000000000000007", 1700000000, 7},
	    {"31536001", 1700000000, 86400L * 365},
	    {"31536000", 1700000000, 86400L * 365},
	    {"31535999", 1700000000, 31535999},
	    /* an HTTP-date: past is 0, far future is capped, before 1970 is the past */
	    {"Thu, 01 Jan 1970 00:00:00 GMT", 1700000000, 0},
	    {"Fri, 31 Dec 9999 23:59:59 GMT", 1700000000, 86400L * 365},
	    {"Tue, 14 Nov 2023 22:13:21 GMT", 1700000000, 1},
	    {"Tue, 14 Nov 2023 22:13:20 GMT", 1700000000, 0},
	    /* a now far in the past: the difference would overflow a long long */
	    {"Tue, 14 Nov 2023 22:13:21 GMT", -9223372036854775807LL, 86400L * 365},
	    {"Tue, 14 Nov 2023 22:13:21 GMT", 9223372036854775807LL, 0},
	    {"tomorrow", 1700000000, -1},
	    {"Tue, 99 Nov 2023 99:99:99 GMT", 1700000000, -1},
	    {"\xff\xfe", 1700000000, -1},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long got = flint_http_parse_retry_after(cases[i].value, cases[i].now);

		if (got != cases[i].want)
			fprintf(stderr, "  Retry-After case %zu: \"%s\"\n", i, cases[i].value);
		CHECK_INT(got, cases[i].want);
	}
}

/* Hostile Link values: the count stays within max, every URL is set, and
 * malformed links are skipped without taking the good ones with them. */
static void test_links_hostile(void)
{
	static const struct {
		const char *value;
		size_t max, want_n;
		const char *want0; /* the first URL kept; NULL when none */
	} cases[] = {
	    {"<unterminated", 4, 0, NULL},
	    {"<https://ca/a;rel=alternate", 4, 0, NULL},
	    {">;rel=alternate <", 4, 0, NULL},
	    {"<>;rel=alternate", 4, 1, ""},
	    {"<<https://ca/a>>;rel=alternate", 4, 1, "<https://ca/a"},
	    {"<https://ca/a>;rel=\"alternate", 4, 1, "https://ca/a"}, /* unterminated quote */
	    {"<https://ca/a>;rel=\"", 4, 0, NULL},
	    {"<https://ca/a>;rel=", 4, 0, NULL},
	    {"<https://ca/a>;rel", 4, 0, NULL},
	    {"<https://ca/a>;xrel=alternate", 4, 0, NULL},
	    {"<https://ca/a>;REL=ALTERNATE", 4, 1, "https://ca/a"},
	    {"<https://ca/a>;rel = alternate", 4, 1, "https://ca/a"},
	    /* a stray quote in a token ends it (this looped forever once) */
	    {"<https://ca/a>;rel=alternate\"x", 4, 1, "https://ca/a"},
	    {"<https://ca/a>;rel=x\"alternate", 4, 0, NULL},
	    {"<https://ca/a>;rel=\"\"\"\"alternate", 4, 0, NULL},
	    {"<https://ca/a>;rel=\"index\";rel=alternate", 4, 0, NULL}, /* the first rel counts */
	    {"<https://ca/a>;title=\"x, y\";rel=alternate", 4, 1, "https://ca/a"},
	    {"<https://ca/a>;title=\"<https://evil/>;rel=alternate\"", 4, 0, NULL},
	    {",,,,;;;;\"\"\"", 4, 0, NULL},
	    {"<a>;rel=alternate,<b>;rel=alternate,<c>;rel=alternate", 2, 2, "a"},
	    {"<a>;rel=alternate,<b>;rel=alternate,<c>;rel=alternate", 0, 0, NULL},
	    {"", 4, 0, NULL},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *urls[4] = {0};
		size_t n = 0;

		CHECK_INT(
		    flint_http_parse_links(cases[i].value, "alternate", urls, cases[i].max, &n), 0);
		if (n != cases[i].want_n)
			fprintf(stderr, "  Link case %zu: \"%s\"\n", i, cases[i].value);
		CHECK_INT(n, cases[i].want_n);
		if (cases[i].want0)
			CHECK_STR(urls[0], cases[i].want0);
		for (size_t j = 0; j < n && j < 4; j++) {
			CHECK(urls[j] != NULL);
			free(urls[j]);
		}
	}
	/* many links: only max kept, the rest dropped, all of a big header scanned */
	{
		size_t len = 2000 * 24 + 1, n = 0;
		char *big = malloc(len), *urls[FLINT_HTTP_MAX_ALTERNATES] = {0};

		big[0] = '\0';
		for (int i = 0; i < 2000; i++)
			sprintf(big + strlen(big), "%s<https://c/%04d>;rel=x", i ? "," : "", i);
		strcat(big, ",<https://c/last>;rel=alternate");
		CHECK_INT(
		    flint_http_parse_links(big, "alternate", urls, FLINT_HTTP_MAX_ALTERNATES, &n),
		    0);
		CHECK_INT(n, 1);
		CHECK_STR(urls[0], "https://c/last");
		free(urls[0]);
		free(big);
	}
}

/* ------------------------------------------------- directory documents */

#define DIR_URL "https://ca/dir"
#define D_REQ                                                                                      \
	"\"newNonce\":\"https://ca/n\",\"newAccount\":\"https://ca/a\",\"newOrder\":\"https://ca/" \
	"o\""

/* body[0..len) through flint_acme_directory_parse: the result, and on
 * failure the part of the message it must carry. */
static int dir_parse(const char *body, size_t len, struct flint_acme_directory *d,
		     const char *err_has)
{
	char *err = NULL;
	int r;

	memset(d, 0, sizeof(*d));
	r = flint_acme_directory_parse(DIR_URL, body, len, d, &err);
	if (r < 0) {
		CHECK(d->url == NULL && d->new_nonce == NULL && d->profiles == NULL);
		CHECK(err != NULL);
		if (err_has && (!err || !strstr(err, err_has))) {
			fprintf(stderr, "  directory \"%.60s\": \"%s\" lacks \"%s\"\n", body,
				err ? err : "(null)", err_has);
			CHECK(0);
		}
	} else {
		CHECK(err == NULL);
	}
	free(err);
	return r;
}

static void test_directory_parse(void)
{
	static const char pebble[] =
	    "{\"keyChange\":\"https://localhost:14000/rollover-account-key\",\"meta\":{"
	    "\"externalAccountRequired\":false,\"termsOfService\":\"data:text/"
	    "plain,Do%20what%20thou"
	    "%20wilt\",\"profiles\":{\"default\":\"The profile you know and love\",\"shortlived\":"
	    "\"A short-lived cert "
	    "profile\"}},\"newAccount\":\"https://localhost:14000/sign-me-up\","
	    "\"newNonce\":\"https://localhost:14000/nonce-plz\",\"newOrder\":"
	    "\"https://localhost:14000/order-plz\",\"renewalInfo\":\"https://localhost:14000/"
	    "draft-ietf-acme-ari-03/renewalInfo/\",\"revokeCert\":\"https://localhost:14000/"
	    "revoke-cert\"}";
	static const char flintd[] =
	    "{" D_REQ ",\"revokeCert\":\"https://ca/r\",\"keyChange\":\"https://ca/k\","
	    "\"renewalInfo\":\"https://ca/ri\",\"newAuthz\":\"https://ca/na\",\"meta\":{"
	    "\"termsOfService\":\"https://ca/terms\",\"website\":\"https://ca/\",\"caaIdentities\":"
	    "[\"ca\"],\"externalAccountRequired\":true,\"profiles\":{\"classic\":\"90 days\"}}}";
	static const char absent[] =
	    "{" D_REQ ",\"keyChange\":null,\"newAuthz\":\"\",\"meta\":{\"website\":\"\","
	    "\"profiles\":null,\"externalAccountRequired\":null,\"x\":[1,{}]},"
	    "\"caaIdentities\":5,\"newThing\":{\"a\":[]}}";
	struct flint_acme_directory d;

	CHECK_INT(dir_parse(pebble, strlen(pebble), &d, NULL), 0);
	CHECK_STR(d.url, DIR_URL);
	CHECK_STR(d.new_nonce, "https://localhost:14000/nonce-plz");
	CHECK_STR(d.new_account, "https://localhost:14000/sign-me-up");
	CHECK_STR(d.new_order, "https://localhost:14000/order-plz");
	CHECK_STR(d.key_change, "https://localhost:14000/rollover-account-key");
	CHECK_STR(d.terms_of_service, "data:text/plain,Do%20what%20thou%20wilt");
	CHECK(d.website == NULL && d.new_authz == NULL && !d.eab_required);
	CHECK_INT(json_object_size(d.profiles), 2);
	flint_acme_directory_clear(&d);
	CHECK(d.url == NULL && d.profiles == NULL);
	flint_acme_directory_clear(&d); /* twice: a no-op */
	flint_acme_directory_clear(NULL);

	CHECK_INT(dir_parse(flintd, strlen(flintd), &d, NULL), 0);
	CHECK_STR(d.revoke_cert, "https://ca/r");
	CHECK_STR(d.renewal_info, "https://ca/ri");
	CHECK_STR(d.new_authz, "https://ca/na");
	CHECK_STR(d.website, "https://ca/");
	CHECK(d.eab_required);
	CHECK(json_is_string(json_object_get(d.profiles, "classic")));
	flint_acme_directory_clear(&d);

	/* null and "" are absent; unknown members are ignored whatever their type */
	CHECK_INT(dir_parse(absent, strlen(absent), &d, NULL), 0);
	CHECK(d.key_change == NULL && d.new_authz == NULL && d.website == NULL && !d.profiles);
	flint_acme_directory_clear(&d);
	CHECK_INT(
	    dir_parse("{" D_REQ ",\"meta\":null}", strlen("{" D_REQ ",\"meta\":null}"), &d, NULL),
	    0);
	flint_acme_directory_clear(&d);
}

static void test_directory_hostile(void)
{
	static const struct {
		const char *body;
		const char *err_has;
	} cases[] = {
	    {"", "not a JSON object"},
	    {"[]", "not a JSON object"},
	    {"\"https://ca/n\"", "not a JSON object"},
	    {"null", "not a JSON object"},
	    {"{", "not a JSON object"},
	    {"{" D_REQ "}garbage", "not a JSON object"},
	    {"{" D_REQ "}{}", "not a JSON object"},
	    {"<html>Service Unavailable</html>", "not a JSON object"},
	    {"{}", "lacks newNonce, newAccount or newOrder"},
	    {"{\"newNonce\":\"https://ca/n\",\"newAccount\":\"https://ca/a\"}", "lacks"},
	    {"{\"newNonce\":\"https://ca/n\",\"newAccount\":\"https://ca/a\",\"newOrder\":\"\"}",
	     "lacks"},
	    {"{\"newNonce\":\"https://ca/n\",\"newAccount\":\"https://ca/a\",\"newOrder\":null}",
	     "lacks"},
	    /* wrong types */
	    {"{\"newNonce\":5,\"newAccount\":\"https://ca/a\",\"newOrder\":\"https://ca/o\"}",
	     "newNonce is not a URL"},
	    {"{\"newNonce\":\"https://ca/n\",\"newAccount\":[\"https://ca/a\"],\"newOrder\":\"x\"}",
	     "newAccount is not a URL"},
	    {"{\"newNonce\":\"https://ca/n\",\"newAccount\":\"https://ca/"
	     "a\",\"newOrder\":{\"u\":1}}",
	     "newOrder is not a URL"},
	    {"{" D_REQ ",\"keyChange\":true}", "keyChange is not a URL"},
	    {"{" D_REQ ",\"renewalInfo\":1.5}", "renewalInfo is not a URL"},
	    {"{" D_REQ ",\"newAuthz\":[]}", "newAuthz is not a URL"},
	    {"{" D_REQ ",\"revokeCert\":{}}", "revokeCert is not a URL"},
	    {"{" D_REQ ",\"meta\":\"x\"}", "meta is not an object"},
	    {"{" D_REQ ",\"meta\":[]}", "meta is not an object"},
	    {"{" D_REQ ",\"meta\":{\"termsOfService\":[\"https://ca/t\"]}}",
	     "termsOfService is not a URL"},
	    {"{" D_REQ ",\"meta\":{\"website\":0}}", "website is not a URL"},
	    {"{" D_REQ ",\"meta\":{\"externalAccountRequired\":\"true\"}}",
	     "externalAccountRequired is not a boolean"},
	    {"{" D_REQ ",\"meta\":{\"externalAccountRequired\":1}}", "is not a boolean"},
	    {"{" D_REQ ",\"meta\":{\"profiles\":[\"classic\"]}}", "profiles is not an object"},
	    {"{" D_REQ ",\"meta\":{\"profiles\":\"classic\"}}", "profiles is not an object"},
	    /* the same member twice: which one is meant? */
	    {"{" D_REQ ",\"newOrder\":\"https://evil/o\"}", "not a JSON object"},
	    {"{" D_REQ ",\"meta\":{\"website\":\"a\",\"website\":\"b\"}}", "not a JSON object"},
	    /* a NUL inside a URL (jansson refuses \u0000 unless asked) */
	    {"{\"newNonce\":\"https://ca/n\\u0000evil\",\"newAccount\":\"https://ca/a\","
	     "\"newOrder\":\"https://ca/o\"}",
	     "not a JSON object"},
	    {"{\"newNonce\":\"\\ud800\",\"newAccount\":\"x\",\"newOrder\":\"y\"}",
	     "not a JSON object"},
	};
	struct flint_acme_directory d;
	char *deep, *big;
	size_t n, at;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = dir_parse(cases[i].body, strlen(cases[i].body), &d, cases[i].err_has);

		if (r != FLINT_EPROTO)
			fprintf(stderr, "  directory case %zu: %d\n", i, r);
		CHECK_INT(r, FLINT_EPROTO);
		flint_acme_directory_clear(&d);
	}
	/* a raw NUL byte in the body: the length counts, not the string */
	{
		static const char nul[] = "{" D_REQ "}\0{\"x\":1}";

		CHECK_INT(dir_parse(nul, sizeof(nul) - 1, &d, "not a JSON object"), FLINT_EPROTO);
		CHECK_INT(dir_parse(nul, strlen(nul), &d, NULL), 0);
		flint_acme_directory_clear(&d);
	}
	CHECK_INT(flint_acme_directory_parse(NULL, "{}", 2, &d, NULL), FLINT_EINVAL);
	CHECK_INT(flint_acme_directory_parse(DIR_URL, NULL, 2, &d, NULL), FLINT_EINVAL);
	CHECK_INT(flint_acme_directory_parse(DIR_URL, "{}", 2, NULL, NULL), FLINT_EINVAL);
	/* deep nesting: past jansson's depth limit refused, within it ignored */
	n = 5000;
	deep = malloc(6 * n + 128);
	at = (size_t)sprintf(deep, "{" D_REQ ",\"x\":");
	for (size_t i = 0; i < n; i++)
		deep[at++] = '[';
	for (size_t i = 0; i < n; i++)
		deep[at++] = ']';
	strcpy(deep + at, "}");
	CHECK_INT(dir_parse(deep, strlen(deep), &d, "not a JSON object"), FLINT_EPROTO);
	at = (size_t)sprintf(deep, "{" D_REQ ",\"meta\":");
	for (size_t i = 0; i < 1000; i++)
		at += (size_t)sprintf(deep + at, "{\"a\":");
	deep[at++] = '1';
	for (size_t i = 0; i < 1001; i++)
		deep[at++] = '}';
	deep[at] = '\0';
	CHECK_INT(dir_parse(deep, strlen(deep), &d, NULL), 0);
	flint_acme_directory_clear(&d);
	free(deep);
	/* a huge array in meta: read past, not kept */
	n = 100000;
	big = malloc(2 * n + 128);
	at = (size_t)sprintf(big, "{" D_REQ ",\"meta\":{\"caaIdentities\":[1");
	for (size_t i = 1; i < n; i++, at += 2)
		memcpy(big + at, ",1", 2);
	strcpy(big + at, "]}}");
	CHECK_INT(dir_parse(big, strlen(big), &d, NULL), 0);
	flint_acme_directory_clear(&d);
	free(big);
}

/* ------------------------------------------------ a canned HTTPS server */

struct canned {
	int status;
	const char *content_type; /* NULL: none */
	const char *nonce;        /* Replay-Nonce; NULL: none */
	const char *retry_after;  /* NULL: none */
	const char *body;         /* may contain %PORT% */
	size_t big;               /* > 0: send this many 'x' instead of body */
};

static struct {
	int fd, port;
	SSL_CTX *ctx;
	pthread_t thread;
	const struct canned *script;
	size_t n_script, next;
	char *nonces_seen[32]; /* the nonce of each POST's JWS, in order */
	size_t n_posts, n_heads;
	volatile int stop;
	char ca_path[64];
} srv;

static char *expand_port(const char *s)
{
	const char *p;
	char *out = malloc(strlen(s) * 2 + 16), *o = out;

	for (p = s; *p;) {
		if (!strncmp(p, "%PORT%", 6)) {
			o += sprintf(o, "%d", srv.port);
			p += 6;
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
	return out;
}

/* Reads one request: headers, then Content-Length bytes of body. */
static int read_request(SSL *ssl, char *buf, size_t cap, char **ret_body)
{
	size_t len = 0, clen = 0;
	char *end = NULL, *cl;

	while (!end) {
		int n = SSL_read(ssl, buf + len, (int)(cap - len - 1));

		if (n <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (len >= cap - 1)
			return -1;
	}
	cl = strcasestr(buf, "\r\nContent-Length:");
	if (cl)
		clen = strtoul(cl + 17, NULL, 10);
	while (len - (size_t)(end + 4 - buf) < clen) {
		int n = SSL_read(ssl, buf + len, (int)(cap - len - 1));

		if (n <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = '\0';
		if (len >= cap - 1)
			return -1;
	}
	*ret_body = end + 4;
	return 0;
}

static void serve_one(int cfd)
{
	static char buf[256 * 1024];
	const struct canned *c;
	char head[1024], *body_in = NULL, *body_out = NULL;
	size_t out_len;
	SSL *ssl = SSL_new(srv.ctx);

	SSL_set_fd(ssl, cfd);
	if (SSL_accept(ssl) != 1 || read_request(ssl, buf, sizeof(buf), &body_in) < 0)
		goto out;
	if (!strncmp(buf, "POST ", 5) && srv.n_posts < 32) {
		struct flint_jws *jws = NULL;

		if (flint_jws_parse(body_in, strlen(body_in), FLINT_JWS_REQUEST, &jws, NULL) == 0)
			srv.nonces_seen[srv.n_posts] = strdup(jws->nonce);
		flint_jws_free(jws);
		srv.n_posts++;
	} else if (!strncmp(buf, "HEAD ", 5)) {
		srv.n_heads++;
	}
	if (srv.next >= srv.n_script) {
		static const struct canned none = {500, NULL, NULL, NULL, "script exhausted", 0};
		c = &none;
	} else {
		c = &srv.script[srv.next++];
	}
	if (c->big) {
		body_out = malloc(c->big);
		memset(body_out, 'x', c->big);
		out_len = c->big;
	} else {
		body_out = expand_port(c->body ? c->body : "");
		out_len = strlen(body_out);
	}
	snprintf(head, sizeof(head),
		 "HTTP/1.1 %d X\r\nConnection: close\r\nContent-Length: %zu\r\n%s%s%s%s%s%s%s%s%s\r\n",
		 c->status, strncmp(buf, "HEAD ", 5) ? out_len : 0,
		 c->content_type ? "Content-Type: " : "", c->content_type ? c->content_type : "",
		 c->content_type ? "\r\n" : "", c->nonce ? "Replay-Nonce: " : "",
		 c->nonce ? c->nonce : "", c->nonce ? "\r\n" : "",
		 c->retry_after ? "Retry-After: " : "", c->retry_after ? c->retry_after : "",
		 c->retry_after ? "\r\n" : "");
	SSL_write(ssl, head, (int)strlen(head));
	if (strncmp(buf, "HEAD ", 5) != 0) {
		for (size_t off = 0; off < out_len;) {
			int n = SSL_write(ssl, body_out + off, (int)(out_len - off > 65536 ? 65536 : out_len - off));

			if (n <= 0)
				break;
			off += (size_t)n;
		}
	}
	SSL_shutdown(ssl);
out:
	free(body_out);
	SSL_free(ssl);
	close(cfd);
}

static void *serve(void *arg)
{
	(void)arg;
	while (!srv.stop) {
		struct pollfd pfd = {.fd = srv.fd, .events = POLLIN};
		int cfd;

		if (poll(&pfd, 1, 50) <= 0)
			continue;
		cfd = accept(srv.fd, NULL, NULL);
		if (cfd >= 0)
			serve_one(cfd);
	}
	return NULL;
}

/* A self-signed P-256 certificate for IP 127.0.0.1, written as the CA bundle. */
static int make_cert(EVP_PKEY **ret_key, X509 **ret_cert)
{
	EVP_PKEY *key = NULL;
	X509 *x = X509_new();
	X509_EXTENSION *ext;
	X509V3_CTX v3;
	FILE *f;
	int fd;

	if (flint_key_generate(FLINT_KEY_P256, 0, &key) < 0 || !x)
		return -1;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)"flint test", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_set_pubkey(x, key);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, "IP:127.0.0.1");
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	X509_sign(x, key, EVP_sha256());
	strcpy(srv.ca_path, "/tmp/flint-test-ca.XXXXXX");
	fd = mkstemp(srv.ca_path);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f)
		return -1;
	PEM_write_X509(f, x);
	fclose(f);
	*ret_key = key;
	*ret_cert = x;
	return 0;
}

static int server_start(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	int one = 1;

	if (make_cert(&key, &cert) < 0)
		return -1;
	srv.ctx = SSL_CTX_new(TLS_server_method());
	SSL_CTX_use_certificate(srv.ctx, cert);
	SSL_CTX_use_PrivateKey(srv.ctx, key);
	X509_free(cert);
	EVP_PKEY_free(key);
	srv.fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(srv.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(srv.fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(srv.fd, 16) < 0 ||
	    getsockname(srv.fd, (struct sockaddr *)&sa, &sl) < 0)
		return -1;
	srv.port = ntohs(sa.sin_port);
	return pthread_create(&srv.thread, NULL, serve, NULL) == 0 ? 0 : -1;
}

static void server_stop(void)
{
	srv.stop = 1;
	pthread_join(srv.thread, NULL);
	close(srv.fd);
	SSL_CTX_free(srv.ctx);
	unlink(srv.ca_path);
}

static void script(const struct canned *s, size_t n)
{
	for (size_t i = 0; i < srv.n_posts && i < 32; i++) {
		free(srv.nonces_seen[i]);
		srv.nonces_seen[i] = NULL;
	}
	srv.script = s;
	srv.n_script = n;
	srv.next = 0;
	srv.n_posts = 0;
	srv.n_heads = 0;
}

#define DIRECTORY                                                                              \
	"{\"newNonce\":\"https://127.0.0.1:%PORT%/nonce\","                                    \
	"\"newAccount\":\"https://127.0.0.1:%PORT%/acct\","                                    \
	"\"newOrder\":\"https://127.0.0.1:%PORT%/order\","                                     \
	"\"meta\":{\"termsOfService\":\"https://127.0.0.1:%PORT%/tos\"}}"
#define JSON "application/json"
#define PROBLEM "application/problem+json"
#define BAD_NONCE "{\"type\":\"urn:ietf:params:acme:error:badNonce\",\"detail\":\"stale\"}"

/* Opens a session and POSTs once to /acct; returns the post's result. */
static int session_post(char **ret_err, struct flint_acme_reply **ret_reply,
			enum flint_problem_type *ret_ptype)
{
	struct flint_http_opts opts = {.ca_bundle = srv.ca_path};
	struct flint_acme *a = NULL;
	struct flint_jwk *key = NULL;
	char url[128];
	int r;

	snprintf(url, sizeof(url), "https://127.0.0.1:%d/dir", srv.port);
	if ((r = flint_acme_new(url, &opts, &a, ret_err)) < 0)
		return r;
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/tos", srv.port);
	CHECK_STR(flint_acme_dir(a)->terms_of_service, url);
	flint_jwk_generate(FLINT_KEY_P256, 0, &key);
	flint_acme_set_account(a, key, "https://127.0.0.1/acct/1");
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/acct", srv.port);
	r = flint_acme_post(a, url, "{}", NULL, ret_reply, ret_err);
	if (ret_ptype)
		*ret_ptype = flint_acme_problem(a) ? flint_acme_problem(a)->type : FLINT_PROB__COUNT;
	flint_acme_free(a);
	flint_jwk_free(key);
	return r;
}

/* badNonce twice: each retry uses the nonce of the error reply before it. */
static void test_bad_nonce_retry(void)
{
	static const struct canned s[] = {
		{200, JSON, "nonce000", NULL, DIRECTORY, 0},
		{400, PROBLEM, "nonce001", NULL, BAD_NONCE, 0},
		{400, PROBLEM, "nonce002", NULL, BAD_NONCE, 0},
		{200, JSON, "nonce003", NULL, "{\"status\":\"valid\"}", 0},
	};
	struct flint_acme_reply *reply = NULL;
	char *err = NULL;

	script(s, 4);
	CHECK_INT(session_post(&err, &reply, NULL), 0);
	CHECK(err == NULL);
	CHECK_INT(srv.n_posts, 3);
	CHECK_INT(srv.n_heads, 0);
	CHECK_STR(srv.nonces_seen[0], "nonce000");
	CHECK_STR(srv.nonces_seen[1], "nonce001");
	CHECK_STR(srv.nonces_seen[2], "nonce002");
	CHECK(reply && json_is_object(reply->json));
	if (reply)
		CHECK_STR(json_string_value(json_object_get(reply->json, "status")), "valid");
	flint_acme_reply_free(reply);
	free(err);
}

/* badNonce every time: 1 + FLINT_ACME_BADNONCE_RETRIES attempts, then the problem. */
static void test_bad_nonce_gives_up(void)
{
	static const struct canned s[] = {
		{200, JSON, "nonce000", NULL, DIRECTORY, 0},	{400, PROBLEM, "nonce001", NULL, BAD_NONCE, 0},
		{400, PROBLEM, "nonce002", NULL, BAD_NONCE, 0}, {400, PROBLEM, "nonce003", NULL, BAD_NONCE, 0},
		{400, PROBLEM, "nonce004", NULL, BAD_NONCE, 0}, {400, PROBLEM, "nonce005", NULL, BAD_NONCE, 0},
		{400, PROBLEM, "nonce006", NULL, BAD_NONCE, 0}, {400, PROBLEM, "nonce007", NULL, BAD_NONCE, 0},
		{400, PROBLEM, "nonce008", NULL, BAD_NONCE, 0}, {400, PROBLEM, "nonce009", NULL, BAD_NONCE, 0},
		{400, PROBLEM, "nonce010", NULL, BAD_NONCE, 0}, {400, PROBLEM, "nonce011", NULL, BAD_NONCE, 0},
		{200, JSON, "nonce012", NULL, "{}", 0},
	};
	/* the directory, one badNonce per attempt, then a success never reached */
	_Static_assert(sizeof(s) / sizeof(s[0]) == FLINT_ACME_BADNONCE_RETRIES + 3,
		       "one canned badNonce per attempt");
	struct flint_acme_reply *reply = NULL;
	enum flint_problem_type t;
	char *err = NULL;

	script(s, sizeof(s) / sizeof(s[0]));
	CHECK_INT(session_post(&err, &reply, &t), FLINT_EPROTO);
	CHECK(reply == NULL);
	CHECK_INT(srv.n_posts, 1 + FLINT_ACME_BADNONCE_RETRIES);
	CHECK_INT(t, FLINT_PROB_BAD_NONCE);
	CHECK(err && strstr(err, "urn:ietf:params:acme:error:badNonce: stale"));
	free(err);
}

/* rateLimited: no retry; the message carries Retry-After. No nonce in the
 * directory reply: the session asks newNonce with HEAD. */
static void test_rate_limited(void)
{
	static const struct canned s[] = {
		{200, JSON, NULL, NULL, DIRECTORY, 0},
		{200, NULL, "headnonc", NULL, NULL, 0},
		{429, PROBLEM, "nonce001", "7",
		 "{\"type\":\"urn:ietf:params:acme:error:rateLimited\",\"detail\":\"too many\"}", 0},
	};
	struct flint_acme_reply *reply = NULL;
	enum flint_problem_type t;
	char *err = NULL;

	script(s, 3);
	CHECK_INT(session_post(&err, &reply, &t), FLINT_EPROTO);
	CHECK_INT(srv.n_heads, 1);
	CHECK_INT(srv.n_posts, 1);
	CHECK_STR(srv.nonces_seen[0], "headnonc");
	CHECK_INT(t, FLINT_PROB_RATE_LIMITED);
	CHECK(err && strstr(err, "rateLimited: too many (HTTP 429)"));
	CHECK(err && strstr(err, "retry after 7 s"));
	free(err);
}

/* 503 with Retry-After: 1 is waited for, then retried. */
static void test_503_retry_after(void)
{
	static const struct canned s[] = {
		{200, JSON, "nonce000", NULL, DIRECTORY, 0},
		{503, NULL, "nonce001", "1", "", 0},
		{201, JSON, "nonce002", NULL, "{\"ok\":true}", 0},
	};
	struct flint_acme_reply *reply = NULL;
	struct timespec t0, t1;
	char *err = NULL;
	long ms;

	script(s, 3);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_INT(session_post(&err, &reply, NULL), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	CHECK(ms >= 950);
	CHECK_INT(srv.n_posts, 2);
	CHECK_STR(srv.nonces_seen[1], "nonce001");
	CHECK(reply && reply->http->status == 201);
	flint_acme_reply_free(reply);
	free(err);
}

/* A reply body over the 1 MiB cap fails the request. */
static void test_body_cap(void)
{
	static const struct canned s[] = {
		{200, JSON, "nonce000", NULL, DIRECTORY, 0},
		{200, JSON, "nonce001", NULL, NULL, FLINT_HTTP_MAX_BODY + 1},
	};
	struct flint_acme_reply *reply = NULL;
	char *err = NULL;

	script(s, 2);
	CHECK_INT(session_post(&err, &reply, NULL), FLINT_ETOOBIG);
	CHECK(err && strstr(err, "larger than 1048576 bytes"));
	free(err);
}

/* A directory without newOrder is refused. */
static void test_bad_directory(void)
{
	static const struct canned s[] = {
		{200, JSON, "nonce000", NULL, "{\"newNonce\":\"https://x/n\",\"newAccount\":\"https://x/a\"}", 0},
	};
	struct flint_acme_reply *reply = NULL;
	char *err = NULL;

	script(s, 1);
	CHECK_INT(session_post(&err, &reply, NULL), FLINT_EPROTO);
	CHECK(err && strstr(err, "lacks newNonce, newAccount or newOrder"));
	free(err);
}

int main(void)
{
	int rc;

	RUN(test_retry_delay);
	RUN(test_poll_delay);
	RUN(test_problem_describe);
	RUN(test_nonce_pool);
	RUN(test_retry_after_parse);
	RUN(test_retry_after_hostile);
	RUN(test_links_hostile);
	RUN(test_directory_parse);
	RUN(test_directory_hostile);
	/* the canned server writes to clients that hang up (the body cap test) */
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	CHECK_INT(server_start(), 0);
	RUN(test_bad_nonce_retry);
	RUN(test_bad_nonce_gives_up);
	RUN(test_rate_limited);
	RUN(test_503_retry_after);
	RUN(test_body_cap);
	RUN(test_bad_directory);
	server_stop();
	script(NULL, 0);
	curl_global_cleanup();
	rc = CHECK_DONE();
	return rc;
}
