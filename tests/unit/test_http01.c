/* Unit tests for the http-01 validator (RFC 8555 §8.3): a canned HTTP server
 * thread and pebble-challtestsrv as DNS (ports 20040-20049); redirects, caps, policy. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "challtestsrv.h"
#include "check.h"
#include "error.h"
#include "validate/http01.h"
#include "validate/resolver.h"
#include "validate/validator.h"

#define HTTP_PORT 20041
#define DNS_PORT 20042
#define MGMT_PORT 20043
#define DEAD_PORT 20049 /* nothing listens here */
#define PREFIX "/.well-known/acme-challenge/"
#define KEYAUTH "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"
#define PAD "_aaaaaaaaaaaaaaaaaaaaaaaa" /* tokens must be >= 22 characters */

static atomic_int srv_stop;
static atomic_int srv_requests;
static int srv_fd = -1;
static struct flint_resolver *resolver;

static void send_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void respond(int fd, int code, const char *location, const char *body, size_t len)
{
	char head[512];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: close\r\n%s%s%s\r\n", code,
			 len, location ? "Location: " : "", location ? location : "",
			 location ? "\r\n" : "");
	send_all(fd, head, (size_t)n);
	send_all(fd, body, len);
}

static void handle(int fd, const char *path)
{
	const char *tok = strncmp(path, PREFIX, strlen(PREFIX)) == 0 ? path + strlen(PREFIX) : "";
	char loc[256];

	if (strncmp(tok, "ok", 2) == 0) {
		respond(fd, 200, NULL, " " KEYAUTH "\r\n", strlen(KEYAUTH) + 3);
	} else if (strncmp(tok, "wrong", 5) == 0) {
		static const char body[] = "not the key\x01 authorization\n";
		respond(fd, 200, NULL, body, sizeof(body) - 1);
	} else if (strncmp(tok, "chain", 5) == 0) {
		int left = atoi(tok + 5);
		if (left <= 0) {
			respond(fd, 200, NULL, KEYAUTH, strlen(KEYAUTH));
			return;
		}
		snprintf(loc, sizeof(loc), "chain%02d" PAD, left - 1);
		respond(fd, 302, loc, "", 0);
	} else if (strncmp(tok, "toport1234", 10) == 0) {
		respond(fd, 302, "http://x.example:1234" PREFIX "ok" PAD, "", 0);
	} else if (strncmp(tok, "toftp", 5) == 0) {
		respond(fd, 302, "ftp://x.example" PREFIX "ok" PAD, "", 0);
	} else if (strncmp(tok, "toliteral", 9) == 0) {
		snprintf(loc, sizeof(loc), "http://127.0.0.1:%d" PREFIX "ok" PAD, HTTP_PORT);
		respond(fd, 301, loc, "", 0);
	} else if (strncmp(tok, "toprivate", 9) == 0) {
		snprintf(loc, sizeof(loc), "http://10.0.0.1:%d" PREFIX "ok" PAD, HTTP_PORT);
		respond(fd, 307, loc, "", 0);
	} else if (strncmp(tok, "tohttps", 7) == 0) {
		/* Allowed port and scheme; the plain-HTTP server makes the TLS handshake fail. */
		snprintf(loc, sizeof(loc), "https://x.example:%d" PREFIX "ok" PAD, HTTP_PORT);
		respond(fd, 308, loc, "", 0);
	} else if (strncmp(tok, "big", 3) == 0) {
		static char big[9000];
		memset(big, 'a', sizeof(big));
		respond(fd, 200, NULL, big, sizeof(big));
	} else if (strncmp(tok, "exact", 5) == 0) {
		/* Exactly at the 8 KiB cap: key authorization padded with whitespace. */
		static char body[8192];
		memset(body, ' ', sizeof(body));
		memcpy(body, KEYAUTH, strlen(KEYAUTH));
		respond(fd, 200, NULL, body, sizeof(body));
	} else if (strncmp(tok, "trickle", 7) == 0) {
		/* a byte every 250 ms: never idle, never done (the total time cap) */
		static const char head[] = "HTTP/1.1 200 X\r\nContent-Length: 100\r\n\r\n";
		send_all(fd, head, sizeof(head) - 1);
		for (int i = 0; i < 16 && send(fd, " ", 1, MSG_NOSIGNAL) == 1; i++)
			usleep(250000);
	} else {
		respond(fd, 404, NULL, "not found", 9);
	}
}

static void *serve(void *arg)
{
	(void)arg;
	while (!atomic_load(&srv_stop)) {
		struct pollfd pfd = {.fd = srv_fd, .events = POLLIN};
		char req[4096], method[8], path[1024];
		size_t len = 0;
		int c;

		if (poll(&pfd, 1, 50) <= 0)
			continue;
		c = accept(srv_fd, NULL, NULL);
		if (c < 0)
			continue;
		atomic_fetch_add(&srv_requests, 1);
		while (len < sizeof(req) - 1) {
			ssize_t r = recv(c, req + len, sizeof(req) - 1 - len, 0);
			if (r <= 0)
				break;
			len += (size_t)r;
			req[len] = '\0';
			if (req[0] == 0x16) /* a TLS ClientHello: hang up */
				break;
			if (strstr(req, "\r\n\r\n"))
				break;
		}
		req[len] = '\0';
		if (sscanf(req, "%7s %1023s", method, path) == 2)
			handle(c, path);
		close(c);
	}
	return NULL;
}

static int validate(const char *ident, const char *token, uint16_t port, bool loopback,
		    struct flint_problem **p)
{
	struct flint_validation_config cfg = {.http01_port = port,
					      .tlsalpn01_port = 443,
					      .allow_loopback = loopback,
					      .timeout_seconds = 5};
	struct flint_validator_ctx ctx = {.cfg = &cfg, .resolver = resolver};
	struct flint_validation v = {.ident_type = "dns",
				     .ident_value = ident,
				     .token = token,
				     .key_authorization = KEYAUTH,
				     .account_url = "https://ca.test/acct/1"};
	int r;

	*p = NULL;
	r = flint_validator_http01.validate(&ctx, &v, p);
	if (*p)
		fprintf(stderr, "  %s: %s\n", token, (*p)->detail);
	return r;
}

/* Expects failure with problem type t; returns nothing, counts checks. */
static void expect(const char *token, enum flint_problem_type t)
{
	struct flint_problem *p;

	CHECK(validate("x.example", token, HTTP_PORT, true, &p) < 0);
	CHECK(p != NULL);
	if (p && p->type != t)
		fprintf(stderr, "  %s: type %d, expected %d\n", token, p->type, t);
	CHECK(p && p->type == t);
	flint_problem_free(p);
}

static void test_ok(void)
{
	struct flint_problem *p;

	CHECK_INT(validate("x.example", "ok" PAD, HTTP_PORT, true, &p), 0);
	CHECK(p == NULL);
	flint_problem_free(p);
}

static void test_wrong_body(void)
{
	struct flint_problem *p;

	expect("wrong" PAD, FLINT_PROB_INCORRECT_RESPONSE);
	CHECK(validate("x.example", "wrong" PAD, HTTP_PORT, true, &p) < 0);
	CHECK(p && strstr(p->detail, "\"not the key? authorization\""));
	flint_problem_free(p);
}

static void test_404(void)
{
	struct flint_problem *p;

	expect("missing" PAD, FLINT_PROB_UNAUTHORIZED);
	CHECK(validate("x.example", "missing" PAD, HTTP_PORT, true, &p) < 0);
	CHECK(p && strstr(p->detail, "HTTP 404"));
	flint_problem_free(p);
}

static void test_redirects(void)
{
	struct flint_problem *p;

	/* Ten redirects are followed; the eleventh is one too many. */
	CHECK_INT(validate("x.example", "chain10" PAD, HTTP_PORT, true, &p), 0);
	flint_problem_free(p);
	expect("chain11" PAD, FLINT_PROB_CONNECTION);
	expect("toport1234" PAD, FLINT_PROB_CONNECTION);
	expect("toftp" PAD, FLINT_PROB_CONNECTION);
	expect("toprivate" PAD, FLINT_PROB_CONNECTION);
	expect("tohttps" PAD, FLINT_PROB_TLS);
	CHECK_INT(validate("x.example", "toliteral" PAD, HTTP_PORT, true, &p), 0);
	flint_problem_free(p);
}

static void test_body_cap(void)
{
	struct flint_problem *p;

	expect("big" PAD, FLINT_PROB_UNAUTHORIZED);
	CHECK(validate("x.example", "big" PAD, HTTP_PORT, true, &p) < 0);
	CHECK(p && strstr(p->detail, "response body too large"));
	flint_problem_free(p);
	CHECK_INT(validate("x.example", "exact" PAD, HTTP_PORT, true, &p), 0);
	flint_problem_free(p);
}

static void test_policy(void)
{
	struct flint_problem *p;
	int before = atomic_load(&srv_requests);

	/* x.example resolves to 127.0.0.1 only: refused before any connection. */
	CHECK(validate("x.example", "ok" PAD, HTTP_PORT, false, &p) < 0);
	CHECK(p && p->type == FLINT_PROB_DNS);
	CHECK(p && strstr(p->detail, "resolves only to non-public addresses"));
	flint_problem_free(p);
	CHECK_INT(atomic_load(&srv_requests), before);

	/* Hostile identifiers and tokens never reach a URL. */
	CHECK(validate("x.example/evil", "ok" PAD, HTTP_PORT, true, &p) < 0);
	CHECK(p && p->type == FLINT_PROB_MALFORMED);
	flint_problem_free(p);
	CHECK(validate("x.example", "ok/../../etc" PAD, HTTP_PORT, true, &p) < 0);
	CHECK(p && p->type == FLINT_PROB_MALFORMED);
	flint_problem_free(p);
	CHECK_INT(atomic_load(&srv_requests), before);
}

/* A target that keeps sending, slowly, is cut off at the validation's total
 * time (timeout_seconds), not only when it goes idle. */
static void test_total_time(void)
{
	struct flint_validation_config cfg = {.http01_port = HTTP_PORT,
					      .tlsalpn01_port = 443,
					      .allow_loopback = true,
					      .timeout_seconds = 1};
	struct flint_validator_ctx ctx = {.cfg = &cfg, .resolver = resolver};
	struct flint_validation v = {.ident_type = "dns",
				     .ident_value = "x.example",
				     .token = "trickle" PAD,
				     .key_authorization = KEYAUTH,
				     .account_url = "https://ca.test/acct/1"};
	struct flint_problem *p = NULL;
	struct timespec t0, t1;
	double secs;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK(flint_validator_http01.validate(&ctx, &v, &p) < 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	CHECK(p && p->type == FLINT_PROB_CONNECTION);
	CHECK(secs >= 0.9 && secs < 3.0);
	if (p)
		fprintf(stderr, "  trickle: %.2f s: %s\n", secs, p->detail);
	flint_problem_free(p);
}

static void test_connection_refused(void)
{
	struct flint_problem *p;

	CHECK(validate("x.example", "ok" PAD, DEAD_PORT, true, &p) < 0);
	CHECK(p && p->type == FLINT_PROB_CONNECTION);
	flint_problem_free(p);
}

static bool start_server(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(HTTP_PORT)};
	int one = 1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	srv_fd = socket(AF_INET, SOCK_STREAM, 0);
	if (srv_fd < 0)
		return false;
	setsockopt(srv_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	return bind(srv_fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(srv_fd, 16) == 0;
}

/* The body check alone (flint_http01_check_body), no network. */
static void test_check_body(void)
{
	static const struct {
		const char *body;
		size_t len;
		int want;
	} cases[] = {
		{KEYAUTH, sizeof(KEYAUTH) - 1, 0},
		{" \t" KEYAUTH "\r\n", sizeof(KEYAUTH) + 3, 0},
		{"\n\v\f" KEYAUTH "\n\n\n", sizeof(KEYAUTH) + 5, 0},
		{KEYAUTH "x", sizeof(KEYAUTH), FLINT_ENOTFOUND},
		{KEYAUTH, sizeof(KEYAUTH) - 2, FLINT_ENOTFOUND},
		{"x" KEYAUTH, sizeof(KEYAUTH), FLINT_ENOTFOUND},
		{KEYAUTH "\0", sizeof(KEYAUTH), FLINT_ENOTFOUND}, /* a NUL is not whitespace */
		{"", 0, FLINT_ENOTFOUND},
		{" \r\n", 3, FLINT_ENOTFOUND},
		{"\x01\xff\"\\", 4, FLINT_ENOTFOUND},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct flint_problem *p = NULL;
		int rc = flint_http01_check_body(cases[i].body, cases[i].len, KEYAUTH, &p);
		CHECK_INT(rc, cases[i].want);
		CHECK(rc == 0 ? p == NULL : p && p->type == FLINT_PROB_INCORRECT_RESPONSE);
		if (p) /* what was found, shown printable and bounded */
			CHECK(strlen(p->detail) < 300 && !strchr(p->detail, '\x01'));
		flint_problem_free(p);
	}
	struct flint_problem *p = NULL;
	CHECK_INT(flint_http01_check_body(NULL, 0, KEYAUTH, &p), FLINT_ENOTFOUND);
	flint_problem_free(p);
	p = NULL;
	CHECK_INT(flint_http01_check_body(NULL, 0, "", &p), 0);
	CHECK(p == NULL);
	char *big = malloc(FLINT_HTTP01_BODY_MAX + 1);
	memset(big, ' ', FLINT_HTTP01_BODY_MAX + 1);
	memcpy(big, KEYAUTH, strlen(KEYAUTH));
	CHECK_INT(flint_http01_check_body(big, FLINT_HTTP01_BODY_MAX, KEYAUTH, &p), 0);
	CHECK_INT(flint_http01_check_body(big, FLINT_HTTP01_BODY_MAX + 1, KEYAUTH, &p),
		  FLINT_ETOOBIG);
	CHECK(p && p->type == FLINT_PROB_UNAUTHORIZED);
	flint_problem_free(p);
	free(big);
}

int main(void)
{
	pthread_t th;
	char fwd[32];
	bool served = false;

	RUN(test_check_body);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (!cts_start(DNS_PORT, MGMT_PORT)) {
		/* a missing test peer is a failure, never a silent pass */
		fprintf(stderr, "FAIL: pebble-challtestsrv unavailable (install Debian's pebble)\n");
		curl_global_cleanup();
		return 1;
	}
	snprintf(fwd, sizeof(fwd), "127.0.0.1:%d", DNS_PORT);
	CHECK_INT(flint_resolver_new(fwd, &resolver), 0);
	CHECK(start_server());
	if (resolver && srv_fd >= 0 && pthread_create(&th, NULL, serve, NULL) == 0) {
		served = true;
		RUN(test_ok);
		RUN(test_wrong_body);
		RUN(test_404);
		RUN(test_redirects);
		RUN(test_body_cap);
		RUN(test_policy);
		RUN(test_total_time);
		RUN(test_connection_refused);
		atomic_store(&srv_stop, 1);
		pthread_join(th, NULL);
	}
	CHECK(served);
	if (srv_fd >= 0)
		close(srv_fd);
	flint_resolver_free(resolver);
	cts_stop();
	curl_global_cleanup();
	return CHECK_DONE();
}
