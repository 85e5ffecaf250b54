/* A scripted fake ACME server for client unit tests: HTTPS on 127.0.0.1 (a
 * port in 20200-20299), a self-signed certificate made in-test and written
 * as the CA bundle the client trusts (fake.ca_path). Each request is answered
 * by the first unused script entry whose method and path match (so entries
 * for one URL are consumed in order); GET /dir and HEAD|GET /nonce have
 * defaults. Every reply carries a fresh Replay-Nonce ("nonce-000001", ...: 12 characters,
 * valid base64url as a server must send)
 * unless the entry says no_nonce. Every request is recorded: method, path,
 * the decoded JWS (protected header, payload, nonce, url, kid), the nonce
 * last handed out before it, the nonce of its reply and its arrival time.
 * Header-only: include it from one test file. */
#ifndef FLINT_TEST_ACME_FAKE_H
#define FLINT_TEST_ACME_FAKE_H

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "b64.h"
#include "jwk.h"
#include "jws.h"

#define FAKE_PORT_FIRST 20200
#define FAKE_PORT_LAST 20299
#define FAKE_MAX_REQ 128
#define FAKE_MAX_SCRIPT 64

struct fake_reply {
	const char *method;       /* "GET", "HEAD", "POST" */
	const char *path;         /* "/order/1"; matched exactly */
	int status;
	const char *content_type; /* NULL: none */
	const char *headers;      /* extra header lines, each ending "\r\n"; %PORT% expanded */
	const char *body;         /* %PORT% expanded; NULL: empty */
	size_t big;               /* > 0: this many 'x' instead of body */
	bool no_nonce;            /* no Replay-Nonce on this reply */
	bool optional;            /* not counted by fake_unused() */
};

struct fake_request {
	char method[8];
	char path[256];
	json_t *protected_hdr; /* decoded JWS protected header; NULL unless a POST of a JWS */
	char *payload;         /* decoded payload; "" for POST-as-GET */
	char *nonce, *url, *kid; /* from the JWS */
	bool jws_ok;           /* flint_jws_parse accepted the body */
	char *expected_nonce;  /* the last Replay-Nonce the server handed out before it */
	char *reply_nonce;     /* the Replay-Nonce of its reply (NULL: none) */
	int entry;             /* the script entry that answered; -1: a default or none */
	long long t_ms;        /* arrival, CLOCK_MONOTONIC */
};

static struct {
	int fd, port;
	SSL_CTX *ctx;
	EVP_PKEY *ca_key; /* the server's key, also signing test certificates */
	X509 *ca_cert;
	pthread_t thread;
	volatile int stop;
	char ca_path[64];
	const struct fake_reply *script;
	size_t n_script;
	bool used[FAKE_MAX_SCRIPT];
	struct fake_request req[FAKE_MAX_REQ];
	size_t n_req;
	unsigned nonce_counter;
	char last_nonce[32];
} fake;

static long long fake_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *fake_expand(const char *s)
{
	size_t n = 1;
	char *out, *o;

	for (const char *p = s; *p; p++)
		n += *p == '%' ? 8 : 1;
	out = o = malloc(n);
	if (!out)
		return NULL;
	for (const char *p = s; *p;) {
		if (!strncmp(p, "%PORT%", 6)) {
			o += sprintf(o, "%d", fake.port);
			p += 6;
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
	return out;
}

/* Reads one request: headers, then Content-Length bytes of body. */
static int fake_read_request(SSL *ssl, char *buf, size_t cap, char **ret_body)
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
		if (!end && len >= cap - 1)
			return -1;
	}
	cl = strcasestr(buf, "\r\nContent-Length:");
	if (cl)
		clen = strtoul(cl + 17, NULL, 10);
	while (len - (size_t)(end + 4 - buf) < clen) {
		int n;

		if (len >= cap - 1)
			return -1;
		n = SSL_read(ssl, buf + len, (int)(cap - len - 1));
		if (n <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = '\0';
	}
	*ret_body = end + 4;
	return 0;
}

static json_t *fake_b64_json(const char *s)
{
	uint8_t *raw = NULL;
	size_t len = 0;
	json_t *j = NULL;

	if (s && flint_b64url_decode(s, strlen(s), &raw, &len) == 0)
		j = json_loadb((const char *)raw, len, 0, NULL);
	free(raw);
	return j;
}

static void fake_record_jws(struct fake_request *q, const char *body)
{
	json_t *doc = json_loads(body, 0, NULL);
	struct flint_jws *jws = NULL;

	q->protected_hdr = fake_b64_json(json_string_value(json_object_get(doc, "protected")));
	json_decref(doc);
	if (flint_jws_parse(body, strlen(body), FLINT_JWS_REQUEST, &jws, NULL) == 0) {
		q->jws_ok = true;
		q->payload = strdup(jws->payload ? jws->payload : "");
		q->nonce = jws->nonce ? strdup(jws->nonce) : NULL;
		q->url = jws->url ? strdup(jws->url) : NULL;
		q->kid = jws->kid ? strdup(jws->kid) : NULL;
	}
	flint_jws_free(jws);
}

static const struct fake_reply *fake_match(const char *method, const char *path, int *ret_i)
{
	static const struct fake_reply dir = {
	    "GET", "/dir", 200, "application/json", NULL,
	    "{\"newNonce\":\"https://127.0.0.1:%PORT%/nonce\","
	    "\"newAccount\":\"https://127.0.0.1:%PORT%/new-acct\","
	    "\"newOrder\":\"https://127.0.0.1:%PORT%/new-order\","
	    "\"revokeCert\":\"https://127.0.0.1:%PORT%/revoke\","
	    "\"meta\":{\"termsOfService\":\"https://127.0.0.1:%PORT%/tos\"}}",
	    0, false, false};
	static const struct fake_reply nonce = {"HEAD", "/nonce", 200, NULL, "Cache-Control: no-store\r\n",
						NULL, 0, false, false};
	static const struct fake_reply none = {"", "", 404, "application/problem+json", NULL,
					       "{\"type\":\"urn:ietf:params:acme:error:malformed\","
					       "\"detail\":\"the fake server has no reply for this\"}",
					       0, false, false};

	*ret_i = -1;
	for (size_t i = 0; i < fake.n_script && i < FAKE_MAX_SCRIPT; i++)
		if (!fake.used[i] && !strcmp(fake.script[i].method, method) &&
		    !strcmp(fake.script[i].path, path)) {
			fake.used[i] = true;
			*ret_i = (int)i;
			return &fake.script[i];
		}
	if (!strcmp(path, "/dir") && !strcmp(method, "GET"))
		return &dir;
	if (!strcmp(path, "/nonce"))
		return &nonce;
	return &none;
}

static void fake_serve_one(int cfd)
{
	static char buf[256 * 1024];
	const struct fake_reply *c;
	struct fake_request *q = NULL, scratch;
	char head[4096], method[8] = "", path[256] = "", *body_in = NULL, *body_out = NULL;
	char *extra = NULL, nonce_hdr[64] = "";
	size_t out_len;
	int entry;
	SSL *ssl = SSL_new(fake.ctx);

	SSL_set_fd(ssl, cfd);
	if (SSL_accept(ssl) != 1 || fake_read_request(ssl, buf, sizeof(buf), &body_in) < 0)
		goto out;
	if (sscanf(buf, "%7s %255s", method, path) != 2)
		goto out;
	q = fake.n_req < FAKE_MAX_REQ ? &fake.req[fake.n_req++] : &scratch;
	memset(q, 0, sizeof(*q));
	snprintf(q->method, sizeof(q->method), "%s", method);
	snprintf(q->path, sizeof(q->path), "%s", path);
	q->t_ms = fake_now_ms();
	q->expected_nonce = fake.last_nonce[0] ? strdup(fake.last_nonce) : NULL;
	if (!strcmp(method, "POST"))
		fake_record_jws(q, body_in);
	c = fake_match(method, path, &entry);
	q->entry = entry;
	if (!c->no_nonce) {
		snprintf(fake.last_nonce, sizeof(fake.last_nonce), "nonce-%06u", ++fake.nonce_counter);
		snprintf(nonce_hdr, sizeof(nonce_hdr), "Replay-Nonce: %s\r\n", fake.last_nonce);
		q->reply_nonce = strdup(fake.last_nonce);
	}
	if (c->big) {
		body_out = malloc(c->big);
		memset(body_out, 'x', c->big);
		out_len = c->big;
	} else {
		body_out = fake_expand(c->body ? c->body : "");
		out_len = strlen(body_out);
	}
	extra = fake_expand(c->headers ? c->headers : "");
	snprintf(head, sizeof(head),
		 "HTTP/1.1 %d X\r\nConnection: close\r\nContent-Length: %zu\r\n%s%s%s%s%s\r\n",
		 c->status, strcmp(method, "HEAD") ? out_len : 0,
		 c->content_type ? "Content-Type: " : "", c->content_type ? c->content_type : "",
		 c->content_type ? "\r\n" : "", nonce_hdr, extra);
	if (q == &scratch) {
		free(q->expected_nonce);
		free(q->reply_nonce);
		json_decref(q->protected_hdr);
		free(q->payload);
		free(q->nonce);
		free(q->url);
		free(q->kid);
	}
	SSL_write(ssl, head, (int)strlen(head));
	if (strcmp(method, "HEAD") != 0) {
		for (size_t off = 0; off < out_len;) {
			size_t chunk = out_len - off > 65536 ? 65536 : out_len - off;
			int n = SSL_write(ssl, body_out + off, (int)chunk);

			if (n <= 0)
				break;
			off += (size_t)n;
		}
	}
	SSL_shutdown(ssl);
out:
	free(extra);
	free(body_out);
	SSL_free(ssl);
	close(cfd);
}

static void *fake_serve(void *arg)
{
	(void)arg;
	while (!fake.stop) {
		struct pollfd pfd = {.fd = fake.fd, .events = POLLIN};
		int cfd;

		if (poll(&pfd, 1, 50) <= 0)
			continue;
		cfd = accept(fake.fd, NULL, NULL);
		if (cfd >= 0)
			fake_serve_one(cfd);
	}
	return NULL;
}

/* A certificate for pub with subject CN and dNSName/IP SANs (san: an
 * OpenSSL config value like "DNS:a.example,IP:127.0.0.1"), signed by
 * issuer_key as issuer (NULL: self-signed). */
static X509 *fake_make_x509(EVP_PKEY *pub, const char *cn, const char *san, EVP_PKEY *issuer_key,
			    X509 *issuer)
{
	static long serial = 1;
	X509 *x = X509_new();
	X509V3_CTX v3;

	if (!x)
		return NULL;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(issuer ? issuer : x));
	X509_set_pubkey(x, pub);
	X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
	if (san) {
		X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);

		if (ext)
			X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
	X509_sign(x, issuer_key ? issuer_key : pub, EVP_sha256());
	return x;
}

/* PEM of x (malloc'd). */
static char *fake_pem(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *s = NULL;
	long n;

	if (b && PEM_write_bio_X509(b, x) == 1 && (n = BIO_get_mem_data(b, &data)) > 0 &&
	    (s = malloc((size_t)n + 1))) {
		memcpy(s, data, (size_t)n);
		s[n] = '\0';
	}
	BIO_free(b);
	return s;
}

static int fake_start(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	FILE *f;
	int one = 1, fd;

	if (flint_key_generate(FLINT_KEY_P256, 0, &fake.ca_key) < 0)
		return -1;
	fake.ca_cert = fake_make_x509(fake.ca_key, "flint fake ACME CA", "IP:127.0.0.1", NULL, NULL);
	if (!fake.ca_cert)
		return -1;
	strcpy(fake.ca_path, "/tmp/flint-test-ca.XXXXXX");
	fd = mkstemp(fake.ca_path);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f)
		return -1;
	PEM_write_X509(f, fake.ca_cert);
	fclose(f);
	fake.ctx = SSL_CTX_new(TLS_server_method());
	if (!fake.ctx || SSL_CTX_use_certificate(fake.ctx, fake.ca_cert) != 1 ||
	    SSL_CTX_use_PrivateKey(fake.ctx, fake.ca_key) != 1)
		return -1;
	fake.fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(fake.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (fake.port = FAKE_PORT_FIRST; fake.port <= FAKE_PORT_LAST; fake.port++) {
		sa.sin_port = htons((uint16_t)fake.port);
		if (bind(fake.fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			break;
	}
	if (fake.port > FAKE_PORT_LAST || listen(fake.fd, 16) < 0)
		return -1;
	return pthread_create(&fake.thread, NULL, fake_serve, NULL) == 0 ? 0 : -1;
}

static void fake_clear_requests(void)
{
	for (size_t i = 0; i < fake.n_req; i++) {
		struct fake_request *q = &fake.req[i];

		json_decref(q->protected_hdr);
		free(q->payload);
		free(q->nonce);
		free(q->url);
		free(q->kid);
		free(q->expected_nonce);
		free(q->reply_nonce);
		memset(q, 0, sizeof(*q));
	}
	fake.n_req = 0;
}

/* Installs the script of the next test and forgets the requests so far. */
static void fake_script(const struct fake_reply *s, size_t n)
{
	fake_clear_requests();
	memset(fake.used, 0, sizeof(fake.used));
	fake.script = s;
	fake.n_script = n;
}

/* Script entries not marked optional that no request consumed. */
static size_t fake_unused(void)
{
	size_t n = 0;

	for (size_t i = 0; i < fake.n_script && i < FAKE_MAX_SCRIPT; i++)
		if (!fake.used[i] && !fake.script[i].optional) {
			fprintf(stderr, "  unused script entry %zu: %s %s\n", i, fake.script[i].method,
				fake.script[i].path);
			n++;
		}
	return n;
}

/* How many requests came for method and path. */
static size_t fake_count(const char *method, const char *path)
{
	size_t n = 0;

	for (size_t i = 0; i < fake.n_req; i++)
		if (!strcmp(fake.req[i].method, method) && !strcmp(fake.req[i].path, path))
			n++;
	return n;
}

/* The nth (from 0) request for method and path, or NULL. */
static const struct fake_request *fake_find(const char *method, const char *path, size_t nth)
{
	for (size_t i = 0; i < fake.n_req; i++)
		if (!strcmp(fake.req[i].method, method) && !strcmp(fake.req[i].path, path) &&
		    nth-- == 0)
			return &fake.req[i];
	return NULL;
}

static void fake_stop(void)
{
	fake.stop = 1;
	pthread_join(fake.thread, NULL);
	close(fake.fd);
	SSL_CTX_free(fake.ctx);
	X509_free(fake.ca_cert);
	EVP_PKEY_free(fake.ca_key);
	unlink(fake.ca_path);
	fake_script(NULL, 0);
}

#endif
