/* Unit tests for the client's challenge solvers (RFC 8555 §8.3 and §8.4, RFC 8737,
 * dns-account-01 of draft-ietf-acme-dns-account-label):
 * real listeners on ports 20110-20129, temp dirs and hook scripts, all removed at the end. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "error.h"
#include "keyauth.h"
#include "solve/dnsname.h"
#include "solve/solver.h"

#define HTTP_PORT 20110	   /* dual-stack default */
#define HTTP_PORT_V4 20111 /* bound to 127.0.0.1 */
#define HTTP_PORT_V6 20112 /* bound to [::1] */
#define TLS_PORT 20120
#define TOKEN "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"
#define KEYAUTH TOKEN ".9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"
#define PREFIX "/.well-known/acme-challenge/"
#define OID_ACME_IDENTIFIER "1.3.6.1.5.5.7.1.31"

static const struct flint_solver_type *find(const char *name)
{
	for (size_t i = 0; flint_solver_types[i]; i++)
		if (strcmp(flint_solver_types[i]->name, name) == 0)
			return flint_solver_types[i];
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool have_ipv6(void)
{
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	int fd = socket(AF_INET6, SOCK_STREAM, 0);
	bool ok;

	if (fd < 0)
		return false;
	ok = bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) == 0;
	close(fd);
	return ok;
}

static struct flint_challenge_task task(const char *type, const char *ident_type, const char *ident,
					bool wildcard, const char *token, const char *keyauth)
{
	struct flint_challenge_task t = {
	    .ident_type = ident_type,
	    .ident_value = ident,
	    .wildcard = wildcard,
	    .type = type,
	    .token = token,
	    .key_authorization = keyauth,
	};

	flint_keyauth_digest(keyauth, t.digest);
	return t;
}

/* --- HTTP clients ------------------------------------------------------------ */

struct body {
	char buf[4096];
	size_t len;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	size_t len = size * n;

	if (len > sizeof(b->buf) - 1 - b->len)
		return 0;
	memcpy(b->buf + b->len, p, len);
	b->len += len;
	b->buf[b->len] = '\0';
	return len;
}

/* The status of GET url (POST when post), or -1 when there was no answer. */
static long fetch(const char *url, bool post, struct body *b, char *ctype, size_t ctype_len)
{
	CURL *c = curl_easy_init();
	long code = -1;
	char *ct = NULL;

	memset(b, 0, sizeof(*b));
	if (ctype)
		ctype[0] = '\0';
	if (!c)
		return -1;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
	if (post)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "x=1");
	if (curl_easy_perform(c) == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		if (ctype && curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
			snprintf(ctype, ctype_len, "%s", ct);
	}
	curl_easy_cleanup(c);
	return code;
}

static int tcp_connect(int family, int port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6,
				    .sin6_port = htons((uint16_t)port),
				    .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	struct timeval tv = {.tv_sec = 10};
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int r;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (family == AF_INET)
		r = connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	else
		r = connect(fd, (struct sockaddr *)&sin6, sizeof(sin6));
	if (r < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Sends req in pieces (a pause between them), reads the reply up to EOF. */
static void raw_exchange(int port, const char *const *pieces, char *out, size_t cap)
{
	int fd = tcp_connect(AF_INET, port);
	size_t len = 0;
	ssize_t n;

	out[0] = '\0';
	if (fd < 0)
		return;
	for (size_t i = 0; pieces[i]; i++) {
		if (i > 0)
			usleep(100 * 1000);
		if (send(fd, pieces[i], strlen(pieces[i]), MSG_NOSIGNAL) < 0)
			break;
	}
	while (len < cap - 1 && (n = recv(fd, out + len, cap - 1 - len, 0)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(fd);
}

/* --- standalone-http ---------------------------------------------------------- */

static void test_table(void)
{
	const struct flint_solver_type *h = find("standalone-http"), *w = find("webroot"),
				       *a = find("standalone-tls-alpn"), *d = find("dns-hook"),
				       *u = find("dns-update"), *da = find("dns-account-hook"),
				       *ua = find("dns-account-update");
	struct flint_solver_config none = {0}, all = {.http01_port = 80,
						      .webroot = "/var/www",
						      .tlsalpn01_port = 443,
						      .dns_hook = "hook",
						      .dns_update_server = "192.0.2.53"};
	struct flint_solver_config all_acct = all;

	all_acct.dns_account = true;
	CHECK(h && w && a && d && u && da && ua);
	if (!h || !w || !a || !d || !u || !da || !ua)
		return;
	CHECK(flint_solver_types[0] == h && flint_solver_types[4] == u &&
	      flint_solver_types[5] == da && flint_solver_types[6] == ua &&
	      flint_solver_types[7] == NULL);
	CHECK_STR(u->challenge_type, "dns-01");
	CHECK(u->applies("dns", true) && !u->applies("ip", false));
	CHECK_STR(h->challenge_type, "http-01");
	CHECK_STR(w->challenge_type, "http-01");
	CHECK_STR(a->challenge_type, "tls-alpn-01");
	CHECK_STR(d->challenge_type, "dns-01");
	CHECK_STR(da->challenge_type, "dns-account-01");
	CHECK_STR(ua->challenge_type, "dns-account-01");
	for (size_t i = 0; flint_solver_types[i]; i++) {
		const struct flint_solver_type *t = flint_solver_types[i];
		bool acct = !strcmp(t->challenge_type, "dns-account-01");

		CHECK(!t->configured(&none));
		/* --dns-account switches the DNS solvers from dns-01 to dns-account-01 */
		CHECK(t->configured(&all) == !acct);
		CHECK(t->configured(&all_acct) == (acct || strcmp(t->challenge_type, "dns-01") != 0));
		t->stop(NULL);
	}
	CHECK(h->applies("dns", false) && h->applies("ip", false) && !h->applies("dns", true));
	CHECK(w->applies("dns", false) && !w->applies("dns", true));
	CHECK(a->applies("dns", false) && a->applies("ip", false) && !a->applies("dns", true));
	CHECK(d->applies("dns", false) && d->applies("dns", true) && !d->applies("ip", false));
	CHECK(da->applies("dns", false) && da->applies("dns", true) && !da->applies("ip", false));
	CHECK(ua->applies("dns", false) && ua->applies("dns", true) && !ua->applies("ip", false));
	CHECK(!h->applies("email", false) && !d->applies("email", false));
}

struct churn {
	const struct flint_solver_type *type;
	struct flint_solver *s;
	int id;
};

/* present/cleanup from several threads while the server thread reads the table */
static void *churn_thread(void *arg)
{
	struct churn *c = arg;
	char token[64], keyauth[128];

	for (int i = 0; i < 200; i++) {
		struct flint_challenge_task t;
		char *err = NULL;

		snprintf(token, sizeof(token), "churn%d_%dxxxxxxxxxxxxxxxxxxxx", c->id, i);
		snprintf(keyauth, sizeof(keyauth), "%s.thumb", token);
		t = task("http-01", "dns", "example.com", false, token, keyauth);
		if (c->type->present(c->s, &t, &err) < 0) {
			free(err);
			return (void *)1;
		}
		c->type->cleanup(c->s, &t);
	}
	return NULL;
}

static void test_http_standalone(void)
{
	const struct flint_solver_type *h = find("standalone-http");
	struct flint_solver_config cfg = {.http01_port = HTTP_PORT};
	struct flint_challenge_task t =
	    task("http-01", "dns", "example.com", false, TOKEN, KEYAUTH);
	struct flint_challenge_task bad = t;
	struct flint_solver *s = NULL, *s2 = NULL;
	struct body b;
	char ctype[128], big[9000], reply[2048];
	char *err = NULL;
	int idle[8], r;
	bool v6 = have_ipv6();
	double t0;

	if (!h)
		return;
	r = h->start(&cfg, &s, &err);
	CHECK_INT(r, 0);
	CHECK(err == NULL);
	if (r < 0) {
		fprintf(stderr, "start: %s\n", err ? err : "?");
		free(err);
		return;
	}
	/* slow clients that never send a byte must not block anyone else */
	for (int i = 0; i < 8; i++)
		idle[i] = tcp_connect(i % 2 && v6 ? AF_INET6 : AF_INET, HTTP_PORT);
	t0 = now_s();

	CHECK_INT(fetch("http://127.0.0.1:20110" PREFIX TOKEN, false, &b, NULL, 0), 404);
	CHECK_INT(h->present(s, &t, &err), 0);
	CHECK(err == NULL);
	CHECK_INT(fetch("http://127.0.0.1:20110" PREFIX TOKEN, false, &b, ctype, sizeof(ctype)),
		  200);
	CHECK_STR(b.buf, KEYAUTH);
	CHECK_STR(ctype, "application/octet-stream");
	if (v6) {
		CHECK_INT(fetch("http://[::1]:20110" PREFIX TOKEN, false, &b, NULL, 0), 200);
		CHECK_STR(b.buf, KEYAUTH);
	} else {
		fprintf(stderr, "note: no ::1 here, IPv6 fetch skipped\n");
	}
	CHECK_INT(fetch("http://localhost:20110" PREFIX TOKEN, false, &b, NULL, 0), 200);

	/* unknown tokens and malformed paths */
	CHECK_INT(fetch("http://127.0.0.1:20110" PREFIX "unknownTokenxxxxxxxxxxxxxxxx", false, &b,
			NULL, 0),
		  404);
	CHECK_INT(fetch("http://127.0.0.1:20110" PREFIX TOKEN "x", false, &b, NULL, 0), 404);
	CHECK_INT(fetch("http://127.0.0.1:20110" PREFIX "../" TOKEN, false, &b, NULL, 0), 404);
	CHECK_INT(fetch("http://127.0.0.1:20110" PREFIX TOKEN "/", false, &b, NULL, 0), 404);
	CHECK_INT(fetch("http://127.0.0.1:20110" PREFIX TOKEN "%2e", false, &b, NULL, 0), 404);
	CHECK_INT(fetch("http://127.0.0.1:20110" PREFIX TOKEN "?a=b", false, &b, NULL, 0), 404);
	CHECK_INT(fetch("http://127.0.0.1:20110" PREFIX, false, &b, NULL, 0), 404);
	CHECK_INT(fetch("http://127.0.0.1:20110/" TOKEN, false, &b, NULL, 0), 404);
	CHECK_INT(
	    fetch("http://127.0.0.1:20110/.well-known/acme-challengeX" TOKEN, false, &b, NULL, 0),
	    404);
	CHECK_INT(fetch("http://127.0.0.1:20110" PREFIX TOKEN, true, &b, NULL, 0), 405);

	/* a request split over several packets; absolute-form; HEAD; garbage; HTTP/1.0 */
	raw_exchange(
	    HTTP_PORT,
	    (const char *const[]){"GET " PREFIX, TOKEN " HTTP/1.1\r\nHost: x\r\n", "\r\n", NULL},
	    reply, sizeof(reply));
	CHECK(strncmp(reply, "HTTP/1.1 200 ", 13) == 0);
	CHECK(strstr(reply, "\r\n\r\n" KEYAUTH) != NULL);
	raw_exchange(
	    HTTP_PORT,
	    (const char *const[]){"GET http://example.com" PREFIX TOKEN " HTTP/1.0\r\n\r\n", NULL},
	    reply, sizeof(reply));
	CHECK(strncmp(reply, "HTTP/1.1 200 ", 13) == 0);
	raw_exchange(HTTP_PORT,
		     (const char *const[]){"HEAD " PREFIX TOKEN " HTTP/1.1\r\n\r\n", NULL}, reply,
		     sizeof(reply));
	CHECK(strncmp(reply, "HTTP/1.1 200 ", 13) == 0);
	CHECK(strstr(reply, KEYAUTH) == NULL);
	raw_exchange(HTTP_PORT, (const char *const[]){"hello\r\n\r\n", NULL}, reply, sizeof(reply));
	CHECK(strncmp(reply, "HTTP/1.1 400 ", 13) == 0);
	raw_exchange(HTTP_PORT, (const char *const[]){"GET " PREFIX TOKEN " FTP/1.0\r\n\r\n", NULL},
		     reply, sizeof(reply));
	CHECK(strncmp(reply, "HTTP/1.1 400 ", 13) == 0);
	/* the request head is capped at 8 KiB */
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "GET /", 5);
	raw_exchange(HTTP_PORT, (const char *const[]){big, NULL}, reply, sizeof(reply));
	CHECK(strncmp(reply, "HTTP/1.1 431 ", 13) == 0);

	/* the same port twice: the error names it */
	r = h->start(&cfg, &s2, &err);
	CHECK(r < 0);
	CHECK(s2 == NULL);
	CHECK(err && strstr(err, "cannot listen") && strstr(err, "20110") && !strchr(err, '\n'));
	free(err);
	err = NULL;

	/* hostile tokens are refused, not served */
	bad.token = "../../etc/passwd";
	CHECK(h->present(s, &bad, &err) < 0);
	CHECK(err && strstr(err, "base64url"));
	free(err);
	err = NULL;
	bad.token = "";
	CHECK(h->present(s, &bad, &err) < 0);
	free(err);
	err = NULL;
	bad.token = TOKEN;
	bad.wildcard = true;
	CHECK(h->present(s, &bad, &err) < 0);
	CHECK(err && strstr(err, "*.example.com"));
	free(err);
	err = NULL;

	/* concurrent present/cleanup while serving */
	{
		pthread_t th[4];
		struct churn c[4];
		void *res;

		for (int i = 0; i < 4; i++) {
			c[i] = (struct churn){.type = h, .s = s, .id = i};
			pthread_create(&th[i], NULL, churn_thread, &c[i]);
		}
		for (int i = 0; i < 20; i++)
			CHECK_INT(fetch("http://127.0.0.1:20110" PREFIX TOKEN, false, &b, NULL, 0),
				  200);
		for (int i = 0; i < 4; i++) {
			pthread_join(th[i], &res);
			CHECK(res == NULL);
		}
	}

	/* presenting again replaces; cleanup removes */
	CHECK_INT(h->present(s, &t, &err), 0);
	h->cleanup(s, &t);
	CHECK_INT(fetch("http://127.0.0.1:20110" PREFIX TOKEN, false, &b, NULL, 0), 404);
	h->cleanup(s, &t); /* twice is harmless */

	/* the idle connections are cut after the per-connection timeout (5 s) */
	for (int i = 0; i < 8; i++) {
		char c;

		CHECK(idle[i] >= 0);
		if (idle[i] < 0)
			continue;
		CHECK(recv(idle[i], &c, 1, 0) <= 0);
		close(idle[i]);
	}
	CHECK(now_s() - t0 >= 4.0 && now_s() - t0 < 9.0);

	h->stop(s);
	/* listeners are gone after stop */
	CHECK_INT(tcp_connect(AF_INET, HTTP_PORT), -1);
	if (v6)
		CHECK_INT(tcp_connect(AF_INET6, HTTP_PORT), -1);
}

static void test_http_bind(void)
{
	const struct flint_solver_type *h = find("standalone-http");
	struct flint_solver_config cfg4 = {.http01_port = HTTP_PORT_V4, .http01_bind = "127.0.0.1"};
	struct flint_solver_config cfg6 = {.http01_port = HTTP_PORT_V6, .http01_bind = "[::1]"};
	struct flint_solver_config cfgbad = {.http01_port = HTTP_PORT_V4,
					     .http01_bind = "example.com"};
	struct flint_challenge_task t = task("http-01", "ip", "127.0.0.1", false, TOKEN, KEYAUTH);
	struct flint_solver *s = NULL;
	struct body b;
	char *err = NULL;
	int fd;

	if (!h)
		return;
	CHECK_INT(h->start(&cfg4, &s, &err), 0);
	if (!s) {
		free(err);
		return;
	}
	CHECK_INT(h->present(s, &t, &err), 0);
	CHECK_INT(fetch("http://127.0.0.1:20111" PREFIX TOKEN, false, &b, NULL, 0), 200);
	CHECK_STR(b.buf, KEYAUTH);
	fd = tcp_connect(AF_INET6, HTTP_PORT_V4);
	CHECK_INT(fd, -1); /* bound to 127.0.0.1 only */
	if (fd >= 0)
		close(fd);
	h->cleanup(s, &t);
	h->stop(s);
	s = NULL;

	if (have_ipv6()) {
		CHECK_INT(h->start(&cfg6, &s, &err), 0);
		if (s) {
			CHECK_INT(h->present(s, &t, &err), 0);
			CHECK_INT(fetch("http://[::1]:20112" PREFIX TOKEN, false, &b, NULL, 0),
				  200);
			fd = tcp_connect(AF_INET, HTTP_PORT_V6);
			CHECK_INT(fd, -1);
			if (fd >= 0)
				close(fd);
			h->cleanup(s, &t);
			h->stop(s);
			s = NULL;
		} else {
			free(err);
			err = NULL;
		}
	}

	CHECK(h->start(&cfgbad, &s, &err) < 0);
	CHECK(err && strstr(err, "example.com"));
	free(err);
	err = NULL;
	cfgbad.http01_bind = "127.0.0.1";
	cfgbad.http01_port = 70000;
	CHECK(h->start(&cfgbad, &s, &err) < 0);
	CHECK(err != NULL);
	free(err);
	CHECK(s == NULL);
}

/* --- webroot ------------------------------------------------------------------- */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void rm_rf(const char *dir) { nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS); }

static int count_entries(const char *dir)
{
	char cmd[512];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	if (fscanf(p, "%d", &n) != 1)
		n = -1;
	pclose(p);
	return n;
}

static void test_webroot(void)
{
	const struct flint_solver_type *w = find("webroot");
	char root[] = "/tmp/flint-test-webroot-XXXXXX", path[640], dir[512], buf[256];
	struct flint_solver_config cfg = {0};
	struct flint_challenge_task t =
	    task("http-01", "dns", "example.com", false, TOKEN, KEYAUTH);
	struct flint_challenge_task t2 =
	    task("http-01", "dns", "example.org", false, "otherTokenxxxxxxxxxxxxxxxx", "other.k");
	struct flint_solver *s = NULL;
	struct stat st;
	char *err = NULL;
	mode_t old;
	FILE *f;
	size_t n;

	if (!w || !mkdtemp(root)) {
		CHECK(0);
		return;
	}
	cfg.webroot = root;
	CHECK_INT(w->start(&cfg, &s, &err), 0);
	if (!s) {
		free(err);
		rm_rf(root);
		return;
	}
	old = umask(077); /* the modes must not depend on it */
	CHECK_INT(w->present(s, &t, &err), 0);
	CHECK_INT(w->present(s, &t2, &err), 0);
	umask(old);
	CHECK(err == NULL);
	snprintf(dir, sizeof(dir), "%s/.well-known", root);
	CHECK(stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0755);
	snprintf(dir, sizeof(dir), "%s/.well-known/acme-challenge", root);
	CHECK(stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0755);
	snprintf(path, sizeof(path), "%s/%s", dir, TOKEN);
	CHECK(stat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0644);
	f = fopen(path, "r");
	CHECK(f != NULL);
	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		buf[n] = '\0';
		fclose(f);
		CHECK_STR(buf, KEYAUTH);
	}
	CHECK_INT(count_entries(dir), 2); /* no temp files left behind */

	/* present again over an existing file */
	CHECK_INT(w->present(s, &t, &err), 0);
	CHECK_INT(count_entries(dir), 2);

	/* hostile tokens never become paths */
	t2.token = "../../x";
	CHECK(w->present(s, &t2, &err) < 0);
	CHECK(err && strstr(err, "base64url"));
	free(err);
	err = NULL;
	t2.token = ".hidden";
	CHECK(w->present(s, &t2, &err) < 0);
	free(err);
	err = NULL;
	t2.token = "otherTokenxxxxxxxxxxxxxxxx";

	w->cleanup(s, &t);
	CHECK(stat(path, &st) < 0 && errno == ENOENT);
	w->cleanup(s, &t2);
	CHECK_INT(count_entries(dir), 0);
	w->cleanup(s, &t); /* twice is harmless */
	w->stop(s);
	s = NULL;

	/* a webroot that does not exist, or is a file */
	cfg.webroot = "/nonexistent/flint/webroot";
	CHECK(w->start(&cfg, &s, &err) < 0);
	CHECK(err && strstr(err, "/nonexistent/flint/webroot"));
	free(err);
	err = NULL;
	cfg.webroot = path;
	f = fopen(path, "w");
	if (f)
		fclose(f);
	CHECK(w->start(&cfg, &s, &err) < 0);
	CHECK(err && strstr(err, "not a directory"));
	free(err);
	err = NULL;

	/* acme-challenge exists as a file: present fails with a message */
	cfg.webroot = root;
	unlink(path);
	rmdir(dir);
	f = fopen(dir, "w");
	if (f)
		fclose(f);
	CHECK_INT(w->start(&cfg, &s, &err), 0);
	if (s) {
		CHECK(w->present(s, &t, &err) < 0);
		CHECK(err && strstr(err, "acme-challenge"));
		free(err);
		err = NULL;
		w->stop(s);
	}
	rm_rf(root);
}

/* --- standalone-tls-alpn ---------------------------------------------------------- */

/* 0 after a completed handshake; the peer's certificate through ret_cert. */
static int tls_connect(int family, const char *sni, const char *alpn, int max_version,
		       X509 **ret_cert, char *ret_alpn, size_t alpn_cap)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = NULL;
	int fd = -1, r = -1;
	const unsigned char *sel = NULL;
	unsigned int sel_len = 0;

	if (ret_cert)
		*ret_cert = NULL;
	if (ret_alpn)
		ret_alpn[0] = '\0';
	if (!ctx)
		goto out;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	if (max_version)
		SSL_CTX_set_max_proto_version(ctx, max_version);
	fd = tcp_connect(family, TLS_PORT);
	ssl = SSL_new(ctx);
	if (fd < 0 || !ssl)
		goto out;
	if (sni)
		SSL_set_tlsext_host_name(ssl, sni);
	if (alpn) {
		unsigned char wire[64];
		size_t n = strlen(alpn);

		wire[0] = (unsigned char)n;
		memcpy(wire + 1, alpn, n);
		SSL_set_alpn_protos(ssl, wire, (unsigned int)n + 1);
	}
	SSL_set_fd(ssl, fd);
	if (SSL_connect(ssl) != 1)
		goto out;
	SSL_get0_alpn_selected(ssl, &sel, &sel_len);
	if (ret_alpn && sel_len < alpn_cap) {
		memcpy(ret_alpn, sel, sel_len);
		ret_alpn[sel_len] = '\0';
	}
	if (ret_cert)
		*ret_cert = SSL_get1_peer_certificate(ssl);
	r = 0;
out:
	ERR_clear_error();
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	if (fd >= 0)
		close(fd);
	return r;
}

/* RFC 8737 §3: self-signed, one SAN, critical acmeIdentifier = OCTET STRING(digest). */
static void check_challenge_cert(X509 *x, int gen_type, const void *san, size_t san_len,
				 const unsigned char digest[32])
{
	EVP_PKEY *pk;
	GENERAL_NAMES *gens;
	ASN1_OBJECT *oid;
	int idx;

	CHECK(x != NULL);
	if (!x)
		return;
	pk = X509_get0_pubkey(x);
	CHECK(pk && EVP_PKEY_is_a(pk, "EC") && EVP_PKEY_get_bits(pk) == 256);
	CHECK_INT(X509_verify(x, pk), 1);
	CHECK_INT(X509_check_issued(x, x), X509_V_OK);
	gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	CHECK(gens && sk_GENERAL_NAME_num(gens) == 1);
	if (gens && sk_GENERAL_NAME_num(gens) == 1) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, 0);
		ASN1_STRING *v = g->type == GEN_DNS	? g->d.dNSName
				 : g->type == GEN_IPADD ? g->d.iPAddress
							: NULL;

		CHECK_INT(g->type, gen_type);
		CHECK(v && (size_t)ASN1_STRING_length(v) == san_len &&
		      memcmp(ASN1_STRING_get0_data(v), san, san_len) == 0);
	}
	GENERAL_NAMES_free(gens);
	CHECK_INT(X509_get_ext_by_NID(x, NID_subject_alt_name, -1) >= 0, 1);
	oid = OBJ_txt2obj(OID_ACME_IDENTIFIER, 1);
	idx = X509_get_ext_by_OBJ(x, oid, -1);
	CHECK(idx >= 0);
	if (idx >= 0) {
		X509_EXTENSION *e = X509_get_ext(x, idx);
		ASN1_OCTET_STRING *d = X509_EXTENSION_get_data(e);

		CHECK_INT(X509_EXTENSION_get_critical(e), 1);
		CHECK_INT(ASN1_STRING_length(d), 34);
		if (ASN1_STRING_length(d) == 34) {
			const unsigned char *p = ASN1_STRING_get0_data(d);

			CHECK(p[0] == 0x04 && p[1] == 0x20 && memcmp(p + 2, digest, 32) == 0);
		}
		CHECK(X509_get_ext_by_OBJ(x, oid, idx) < 0); /* only once */
	}
	ASN1_OBJECT_free(oid);
}

static void test_tlsalpn(void)
{
	const struct flint_solver_type *a = find("standalone-tls-alpn");
	struct flint_solver_config cfg = {.tlsalpn01_port = TLS_PORT};
	struct flint_challenge_task t =
	    task("tls-alpn-01", "dns", "a.example.com", false, TOKEN, KEYAUTH);
	struct flint_challenge_task t2 =
	    task("tls-alpn-01", "dns", "a.example.com", false, TOKEN, KEYAUTH "2");
	struct flint_challenge_task tip4 =
	    task("tls-alpn-01", "ip", "127.0.0.1", false, TOKEN, KEYAUTH);
	struct flint_challenge_task tip6 = task("tls-alpn-01", "ip", "::1", false, TOKEN, KEYAUTH);
	struct flint_challenge_task twild = t;
	static const unsigned char ip4[4] = {127, 0, 0, 1};
	static const unsigned char ip6[16] = {[15] = 1};
	const char *ip6_sni =
	    "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa";
	struct flint_solver *s = NULL, *s2 = NULL;
	bool v6 = have_ipv6();
	char alpn[32], *err = NULL;
	X509 *x = NULL;

	if (!a)
		return;
	CHECK_INT(a->start(&cfg, &s, &err), 0);
	if (!s) {
		fprintf(stderr, "start: %s\n", err ? err : "?");
		free(err);
		return;
	}
	CHECK(tls_connect(AF_INET, "a.example.com", "acme-tls/1", 0, &x, alpn, sizeof(alpn)) < 0);
	CHECK_INT(a->present(s, &t, &err), 0);
	CHECK(err == NULL);

	CHECK_INT(tls_connect(AF_INET, "a.example.com", "acme-tls/1", 0, &x, alpn, sizeof(alpn)),
		  0);
	CHECK_STR(alpn, "acme-tls/1");
	check_challenge_cert(x, GEN_DNS, "a.example.com", 13, t.digest);
	X509_free(x);
	/* SNI is case-insensitive; TLS 1.2 works too */
	CHECK_INT(tls_connect(AF_INET, "A.Example.COM", "acme-tls/1", TLS1_2_VERSION, &x, alpn,
			      sizeof(alpn)),
		  0);
	CHECK_STR(alpn, "acme-tls/1");
	check_challenge_cert(x, GEN_DNS, "a.example.com", 13, t.digest);
	X509_free(x);
	if (v6) {
		CHECK_INT(
		    tls_connect(AF_INET6, "a.example.com", "acme-tls/1", 0, &x, alpn, sizeof(alpn)),
		    0);
		check_challenge_cert(x, GEN_DNS, "a.example.com", 13, t.digest);
		X509_free(x);
	}
	/* only acme-tls/1, only presented names */
	CHECK(tls_connect(AF_INET, "a.example.com", "http/1.1", 0, &x, NULL, 0) < 0);
	CHECK(x == NULL);
	CHECK(tls_connect(AF_INET, "a.example.com", NULL, 0, &x, NULL, 0) < 0);
	CHECK(tls_connect(AF_INET, "b.example.com", "acme-tls/1", 0, &x, NULL, 0) < 0);
	CHECK(tls_connect(AF_INET, NULL, "acme-tls/1", 0, &x, NULL, 0) < 0);
	CHECK(tls_connect(AF_INET, "a.example.com", "acme-tls/1", TLS1_1_VERSION, &x, NULL, 0) < 0);

	/* IP identifiers: SNI is the reverse name, the SAN an iPAddress (RFC 8738 §6) */
	CHECK_INT(a->present(s, &tip4, &err), 0);
	CHECK_INT(a->present(s, &tip6, &err), 0);
	CHECK_INT(tls_connect(AF_INET, "1.0.0.127.in-addr.arpa", "acme-tls/1", 0, &x, NULL, 0), 0);
	check_challenge_cert(x, GEN_IPADD, ip4, 4, tip4.digest);
	X509_free(x);
	CHECK_INT(tls_connect(AF_INET, ip6_sni, "acme-tls/1", 0, &x, NULL, 0), 0);
	check_challenge_cert(x, GEN_IPADD, ip6, 16, tip6.digest);
	X509_free(x);
	a->cleanup(s, &tip4);
	a->cleanup(s, &tip6);
	CHECK(tls_connect(AF_INET, "1.0.0.127.in-addr.arpa", "acme-tls/1", 0, &x, NULL, 0) < 0);

	/* presented again: the newest digest; cleanup of the old one leaves it */
	CHECK_INT(a->present(s, &t2, &err), 0);
	a->cleanup(s, &t);
	CHECK_INT(tls_connect(AF_INET, "a.example.com", "acme-tls/1", 0, &x, NULL, 0), 0);
	check_challenge_cert(x, GEN_DNS, "a.example.com", 13, t2.digest);
	X509_free(x);
	a->cleanup(s, &t2);
	CHECK(tls_connect(AF_INET, "a.example.com", "acme-tls/1", 0, &x, NULL, 0) < 0);

	/* never wildcards; a bad IP */
	twild.wildcard = true;
	CHECK(a->present(s, &twild, &err) < 0);
	free(err);
	err = NULL;
	tip4.ident_value = "300.1.1.1";
	CHECK(a->present(s, &tip4, &err) < 0);
	CHECK(err && strstr(err, "300.1.1.1"));
	free(err);
	err = NULL;

	CHECK(a->start(&cfg, &s2, &err) < 0);
	CHECK(err && strstr(err, "20120"));
	free(err);
	err = NULL;

	/* stop with a certificate still presented frees it */
	CHECK_INT(a->present(s, &t, &err), 0);
	a->stop(s);
	CHECK_INT(tcp_connect(AF_INET, TLS_PORT), -1);
}

/* --- dns-hook ---------------------------------------------------------------------- */

static bool write_script(const char *path, const char *body)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return false;
	fprintf(f, "#!/bin/sh\n%s", body);
	fclose(f);
	return chmod(path, 0755) == 0;
}

static bool slurp(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n;

	buf[0] = '\0';
	if (!f)
		return false;
	n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
	return true;
}

static void test_dnshook(void)
{
	const struct flint_solver_type *d = find("dns-hook");
	char dir[] = "/tmp/flint-test-hook-XXXXXX", hook[256], log[256], pidf[256];
	char body[2048], buf[4096], expect[2048], *err = NULL;
	struct flint_solver_config cfg = {.timeout_seconds = 10};
	struct flint_challenge_task t = task("dns-01", "dns", "example.com", false, TOKEN, KEYAUTH);
	struct flint_challenge_task tw = task("dns-01", "dns", "example.org", true, TOKEN, KEYAUTH);
	struct flint_challenge_task tip = task("dns-01", "ip", "127.0.0.1", false, TOKEN, KEYAUTH);
	struct flint_solver *s = NULL;
	char *txt = NULL;
	double t0;
	long pid = 0;
	int leak;

	if (!d || !mkdtemp(dir)) {
		CHECK(0);
		return;
	}
	flint_keyauth_digest_b64(KEYAUTH, &txt);
	t.dns_txt_value = tw.dns_txt_value = tip.dns_txt_value = txt;
	snprintf(hook, sizeof(hook), "%s/hook.sh", dir);
	snprintf(log, sizeof(log), "%s/log", dir);
	snprintf(pidf, sizeof(pidf), "%s/pid", dir);

	/* arguments and environment; a stale FLINT_TOKEN in ours is replaced */
	snprintf(
	    body, sizeof(body),
	    "for a in \"$@\"; do printf '[%%s]' \"$a\"; done >> '%s'\n"
	    "printf ' %%s %%s %%s %%s %%s\\n' \"$FLINT_CHALLENGE\" \"$FLINT_IDENTIFIER\" "
	    "\"$FLINT_TOKEN\" \"$FLINT_KEY_AUTHORIZATION\" \"${FLINT_TEST_KEEP:-unset}\" >> '%s'\n"
	    "env | grep -c '^FLINT_TOKEN=' >> '%s'\n"
	    "if [ -e /proc/$$/fd/$FLINT_TEST_FD ]; then echo leaked; else echo closed; fi >> "
	    "'%s'\n",
	    log, log, log, log);
	CHECK(write_script(hook, body));
	setenv("FLINT_TOKEN", "stale", 1);
	setenv("FLINT_TEST_KEEP", "kept", 1);
	/* a descriptor of ours without O_CLOEXEC must not reach the hook */
	leak = open("/dev/null", O_RDONLY);
	snprintf(buf, sizeof(buf), "%d", leak);
	setenv("FLINT_TEST_FD", buf, 1);
	cfg.dns_hook = hook;
	CHECK_INT(d->start(&cfg, &s, &err), 0);
	if (!s) {
		free(err);
		goto out;
	}
	CHECK_INT(d->present(s, &t, &err), 0);
	CHECK(err == NULL);
	d->cleanup(s, &t);
	CHECK_INT(d->present(s, &tw, &err), 0);
	CHECK(slurp(log, buf, sizeof(buf)));
	snprintf(
	    expect, sizeof(expect),
	    "[present][_acme-challenge.example.com.][%s] dns-01 example.com %s %s kept\n1\nclosed\n"
	    "[cleanup][_acme-challenge.example.com.][%s] dns-01 example.com %s %s kept\n1\nclosed\n"
	    "[present][_acme-challenge.example.org.][%s] dns-01 example.org %s %s "
	    "kept\n1\nclosed\n",
	    txt, TOKEN, KEYAUTH, txt, TOKEN, KEYAUTH, txt, TOKEN, KEYAUTH);
	CHECK_STR(buf, expect);
	unsetenv("FLINT_TOKEN");
	unsetenv("FLINT_TEST_KEEP");
	unsetenv("FLINT_TEST_FD");
	close(leak);
	/* never for IP identifiers (RFC 8738 §7) */
	CHECK(d->present(s, &tip, &err) < 0);
	free(err);
	err = NULL;
	d->stop(s);
	s = NULL;

	/* a failing hook: status, FQDN and its last stderr line in one line; a lot of
	 * output is cut to its tail */
	CHECK(write_script(
	    hook, "i=0; while [ $i -lt 2000 ]; do echo \"noise $i\" >&2; i=$((i+1)); done\n"
		  "printf 'zone not found\\n\\n' >&2\nexit 3\n"));
	CHECK_INT(d->start(&cfg, &s, &err), 0);
	if (!s) {
		free(err);
		goto out;
	}
	CHECK(d->present(s, &t, &err) < 0);
	CHECK(err && strstr(err, "exit status 3") && strstr(err, "_acme-challenge.example.com.") &&
	      strstr(err, hook) && strstr(err, "zone not found") && !strchr(err, '\n'));
	if (err)
		fprintf(stderr, "  (message: %s)\n", err);
	free(err);
	err = NULL;
	d->cleanup(s, &t); /* fails too, silently */
	d->stop(s);
	s = NULL;

	/* a hook past its timeout is killed with what it started */
	snprintf(body, sizeof(body), "sleep 30 &\necho $! > '%s'\nwait\n", pidf);
	CHECK(write_script(hook, body));
	cfg.timeout_seconds = 1;
	CHECK_INT(d->start(&cfg, &s, &err), 0);
	if (!s) {
		free(err);
		goto out;
	}
	t0 = now_s();
	CHECK(d->present(s, &t, &err) < 0);
	CHECK(now_s() - t0 < 5.0);
	CHECK(err && strstr(err, "timed out") && strstr(err, "1 s"));
	free(err);
	err = NULL;
	if (slurp(pidf, buf, sizeof(buf)) && (pid = atol(buf)) > 0) {
		char stat_path[64], st[512];
		bool gone = false;

		/* killed: gone, or a zombie until its new parent reaps it */
		snprintf(stat_path, sizeof(stat_path), "/proc/%ld/stat", pid);
		for (int i = 0; i < 100 && !gone; i++) {
			char *rp;

			gone = !slurp(stat_path, st, sizeof(st)) ||
			       ((rp = strrchr(st, ')')) && rp[1] == ' ' && rp[2] == 'Z');
			if (!gone)
				usleep(20 * 1000);
		}
		CHECK(gone);
		if (!gone)
			kill((pid_t)pid, SIGKILL);
	} else {
		CHECK(0);
	}
	d->stop(s);
	s = NULL;

	/* a hook that cannot be run */
	cfg.dns_hook = "/nonexistent/flint-hook";
	CHECK_INT(d->start(&cfg, &s, &err), 0);
	if (s) {
		CHECK(d->present(s, &t, &err) < 0);
		CHECK(err && strstr(err, "/nonexistent/flint-hook"));
		free(err);
		err = NULL;
		d->cleanup(s, &t);
		d->stop(s);
	}
out:
	free(txt);
	rm_rf(dir);
}

/* --- dns-account-01 (draft-ietf-acme-dns-account-label) ----------------------------- */

#define DRAFT_ACCT "https://example.com/acme/acct/ExampleAccount"
#define DRAFT_LABEL "_ujmmovf2vn55tgye" /* the draft's example */

/* The record names of both DNS solvers (solve/dnsname.c): dns-01 unchanged, the
 * account's label for dns-account-01, wildcards under their base name. */
static void test_dns_names(void)
{
	struct flint_challenge_task t = task("dns-account-01", "dns", "www.example.org", false,
					     TOKEN, KEYAUTH);
	char *n = NULL, *keep = (char *)"untouched", big[300];

	t.account_url = DRAFT_ACCT;
	CHECK_INT(flint_solve_dns_name(&t, &n), 0);
	CHECK_STR(n, DRAFT_LABEL "._acme-challenge.www.example.org.");
	free(n);
	n = NULL;
	t.ident_value = "example.org";
	t.wildcard = true;
	CHECK_INT(flint_solve_dns_name(&t, &n), 0);
	CHECK_STR(n, DRAFT_LABEL "._acme-challenge.example.org.");
	free(n);
	n = NULL;
	t.type = "dns-01";
	CHECK_INT(flint_solve_dns_name(&t, &n), 0);
	CHECK_STR(n, "_acme-challenge.example.org.");
	free(n);
	n = keep;
	t.type = "http-01";
	CHECK_INT(flint_solve_dns_name(&t, &n), FLINT_EUNSUPPORTED);
	t.type = "dns-account-01";
	t.account_url = NULL;
	CHECK_INT(flint_solve_dns_name(&t, &n), FLINT_EINVAL);
	t.account_url = "";
	CHECK_INT(flint_solve_dns_name(&t, &n), FLINT_EINVAL);
	t.account_url = DRAFT_ACCT;
	t.ident_value = "bad name.example";
	CHECK_INT(flint_solve_dns_name(&t, &n), FLINT_EINVAL);
	/* 230 octets: fine for dns-01, too long with the two account labels */
	memset(big, 'a', sizeof(big));
	for (size_t i = 50; i < 230; i += 51)
		big[i] = '.';
	big[230] = '\0';
	t.ident_value = big;
	CHECK_INT(flint_solve_dns_name(&t, &n), FLINT_ETOOBIG);
	CHECK(n == keep);
	t.type = "dns-01";
	n = NULL;
	CHECK_INT(flint_solve_dns_name(&t, &n), 0);
	free(n);
}

static void test_dnsaccount_hook(void)
{
	const struct flint_solver_type *d = find("dns-account-hook");
	char dir[] = "/tmp/flint-test-acct-hook-XXXXXX", hook[256], log[256], body[1024];
	char buf[4096], expect[2048], *err = NULL, *txt = NULL;
	struct flint_solver_config cfg = {.timeout_seconds = 10, .dns_account = true};
	struct flint_challenge_task t = task("dns-account-01", "dns", "www.example.org", false,
					     TOKEN, KEYAUTH);
	struct flint_challenge_task tw = task("dns-account-01", "dns", "example.org", true, TOKEN,
					      KEYAUTH);
	struct flint_challenge_task tip = task("dns-account-01", "ip", "127.0.0.1", false, TOKEN,
					       KEYAUTH);
	struct flint_solver *s = NULL;

	if (!d || !mkdtemp(dir)) {
		CHECK(0);
		return;
	}
	flint_keyauth_digest_b64(KEYAUTH, &txt);
	t.dns_txt_value = tw.dns_txt_value = tip.dns_txt_value = txt;
	t.account_url = tw.account_url = tip.account_url = DRAFT_ACCT;
	snprintf(hook, sizeof(hook), "%s/hook.sh", dir);
	snprintf(log, sizeof(log), "%s/log", dir);
	snprintf(body, sizeof(body),
		 "for a in \"$@\"; do printf '[%%s]' \"$a\"; done >> '%s'\n"
		 "printf ' %%s %%s\\n' \"$FLINT_CHALLENGE\" \"$FLINT_IDENTIFIER\" >> '%s'\n",
		 log, log);
	CHECK(write_script(hook, body));
	cfg.dns_hook = hook;
	CHECK(d->configured(&cfg));
	CHECK_INT(d->start(&cfg, &s, &err), 0);
	if (!s) {
		free(err);
		goto out;
	}
	CHECK_INT(d->present(s, &t, &err), 0);
	CHECK_INT(d->present(s, &tw, &err), 0);
	d->cleanup(s, &tw);
	d->cleanup(s, &t);
	CHECK(err == NULL);
	CHECK(slurp(log, buf, sizeof(buf)));
	/* the same value as dns-01, at the account's name; FLINT_CHALLENGE says which */
	snprintf(expect, sizeof(expect),
		 "[present][" DRAFT_LABEL "._acme-challenge.www.example.org.][%s] dns-account-01 "
		 "www.example.org\n"
		 "[present][" DRAFT_LABEL "._acme-challenge.example.org.][%s] dns-account-01 "
		 "example.org\n"
		 "[cleanup][" DRAFT_LABEL "._acme-challenge.example.org.][%s] dns-account-01 "
		 "example.org\n"
		 "[cleanup][" DRAFT_LABEL "._acme-challenge.www.example.org.][%s] dns-account-01 "
		 "www.example.org\n",
		 txt, txt, txt, txt);
	CHECK_STR(buf, expect);

	/* no account URL, an IP, an over-long name: refused before the hook runs */
	CHECK(truncate(log, 0) == 0);
	t.account_url = NULL;
	CHECK(d->present(s, &t, &err) < 0);
	CHECK(err && strstr(err, "dns-account-01") && strstr(err, "www.example.org"));
	if (err)
		fprintf(stderr, "  (message: %s)\n", err);
	free(err);
	err = NULL;
	d->cleanup(s, &t);
	CHECK(d->present(s, &tip, &err) < 0);
	free(err);
	err = NULL;
	{
		char big[240];

		memset(big, 'b', sizeof(big));
		for (size_t i = 60; i < 229; i += 61)
			big[i] = '.';
		memcpy(big + 221, ".example", 9);
		tw.ident_value = big;
		CHECK(d->present(s, &tw, &err) < 0);
		CHECK(err && strstr(err, "253"));
		free(err);
		err = NULL;
	}
	CHECK(slurp(log, buf, sizeof(buf)));
	CHECK_STR(buf, "");
	d->stop(s);
out:
	free(txt);
	rm_rf(dir);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	RUN(test_table);
	RUN(test_http_standalone);
	RUN(test_http_bind);
	RUN(test_webroot);
	RUN(test_tlsalpn);
	RUN(test_dnshook);
	RUN(test_dns_names);
	RUN(test_dnsaccount_hook);
	curl_global_cleanup();
	return CHECK_DONE();
}
