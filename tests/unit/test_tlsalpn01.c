/* Unit tests for the tls-alpn-01 validator (RFC 8737, RFC 8738 §6): a TLS
 * responder thread on 127.0.0.1 and ::1 and pebble-challtestsrv as DNS (ports 20300-20349). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
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
#include "keyauth.h"
#include "validate/resolver.h"
#include "validate/validator.h"

#define TLS_PORT 20300 /* the responder, on 127.0.0.1 and on ::1 */
#define DNS_PORT 20301
#define MGMT_PORT 20302
#define SILENT_PORT 20303 /* listens, never accepts: the handshake times out */
#define DEAD_PORT 20349	  /* nothing listens here */
#define KEYAUTH                                                                                    \
	"LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"
#define TOKEN "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"
#define V4_SNI "1.0.0.127.in-addr.arpa"
#define V6_SNI "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa"

enum alpn_mode { ALPN_ACME, ALPN_HTTP11, ALPN_NONE };
enum ext_mode { EXT_RIGHT, EXT_WRONG_HASH, EXT_NOT_OCTETS, EXT_NONE };

/* What the responder presents for the next connection. */
struct responder_case {
	const char *san; /* OpenSSL config syntax ("DNS:x.example,IP:127.0.0.1"); NULL: none */
	enum ext_mode ext;
	bool critical;
	enum alpn_mode alpn;
	const char *need_sni; /* when set, any other SNI gets an unrecognized_name alert */
};

static atomic_int srv_stop;
static atomic_int srv_conns;
static int srv_fd4 = -1, srv_fd6 = -1, silent_fd = -1;
static pthread_mutex_t srv_mu = PTHREAD_MUTEX_INITIALIZER;
static SSL_CTX *srv_ctx;
static X509 *srv_cert;
static EVP_PKEY *srv_key;
static struct responder_case srv_case;
static char got_sni[256];	   /* the SNI of the last connection */
static unsigned char got_alpn[64]; /* the ALPN list it offered */
static unsigned got_alpn_len;
static struct flint_resolver *resolver;

/* A self-signed challenge certificate as c describes (RFC 8737 §3). */
static X509 *make_cert(const struct responder_case *c)
{
	unsigned char der[2 + 32] = {0x04, 0x20};
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	ASN1_OBJECT *oid = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
	ASN1_OCTET_STRING *val = ASN1_OCTET_STRING_new();

	flint_keyauth_digest(c->ext == EXT_WRONG_HASH ? "other." KEYAUTH : KEYAUTH, der + 2);
	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"challenge", -1,
				   -1, 0);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, name);
	X509_set_pubkey(x, srv_key);
	if (c->san) {
		X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, c->san);
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	if (c->ext != EXT_NONE) {
		/* EXT_NOT_OCTETS: the 32 octets without the OCTET STRING wrapper */
		if (c->ext == EXT_NOT_OCTETS)
			ASN1_OCTET_STRING_set(val, der + 2, 32);
		else
			ASN1_OCTET_STRING_set(val, der, sizeof(der));
		X509_EXTENSION *e = X509_EXTENSION_create_by_OBJ(NULL, oid, c->critical, val);
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	X509_sign(x, srv_key, EVP_sha256());
	ASN1_OCTET_STRING_free(val);
	ASN1_OBJECT_free(oid);
	X509_NAME_free(name);
	return x;
}

static int on_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
		   const unsigned char *in, unsigned int inlen, void *arg)
{
	static const unsigned char http11[] = "http/1.1";
	enum alpn_mode mode;

	(void)ssl;
	(void)arg;
	pthread_mutex_lock(&srv_mu);
	got_alpn_len = inlen < sizeof(got_alpn) ? inlen : sizeof(got_alpn);
	memcpy(got_alpn, in, got_alpn_len);
	mode = srv_case.alpn;
	pthread_mutex_unlock(&srv_mu);
	if (mode == ALPN_NONE)
		return SSL_TLSEXT_ERR_NOACK;
	if (mode == ALPN_HTTP11) { /* a protocol the client never offered */
		*out = http11;
		*outlen = sizeof(http11) - 1;
		return SSL_TLSEXT_ERR_OK;
	}
	if (inlen >= 11 && in[0] == 10 && memcmp(in + 1, "acme-tls/1", 10) == 0) {
		*out = in + 1;
		*outlen = 10;
		return SSL_TLSEXT_ERR_OK;
	}
	return SSL_TLSEXT_ERR_ALERT_FATAL;
}

static int on_servername(SSL *ssl, int *alert, void *arg)
{
	const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	int r = SSL_TLSEXT_ERR_OK;

	(void)arg;
	pthread_mutex_lock(&srv_mu);
	snprintf(got_sni, sizeof(got_sni), "%s", sni ? sni : "");
	if (srv_case.need_sni && strcmp(got_sni, srv_case.need_sni) != 0) {
		*alert = SSL_AD_UNRECOGNIZED_NAME;
		r = SSL_TLSEXT_ERR_ALERT_FATAL;
	}
	pthread_mutex_unlock(&srv_mu);
	return r;
}

static void serve_one(int lfd)
{
	struct timeval tv = {.tv_sec = 5};
	SSL *ssl;
	int c = accept(lfd, NULL, NULL);

	if (c < 0)
		return;
	atomic_fetch_add(&srv_conns, 1);
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	ssl = SSL_new(srv_ctx);
	pthread_mutex_lock(&srv_mu);
	if (ssl && srv_cert) {
		SSL_use_certificate(ssl, srv_cert);
		SSL_use_PrivateKey(ssl, srv_key);
	}
	pthread_mutex_unlock(&srv_mu);
	if (ssl && SSL_set_fd(ssl, c) == 1 && SSL_accept(ssl) == 1) {
		char buf[16];
		/* RFC 8737 §3: the validator sends no application data, only close. */
		if (SSL_read(ssl, buf, sizeof(buf)) > 0)
			fprintf(stderr, "  responder: unexpected application data\n");
	}
	SSL_free(ssl);
	ERR_clear_error();
	close(c);
}

static void *serve(void *arg)
{
	(void)arg;
	while (!atomic_load(&srv_stop)) {
		struct pollfd pfd[2] = {{.fd = srv_fd4, .events = POLLIN},
					{.fd = srv_fd6, .events = POLLIN}};

		if (poll(pfd, 2, 50) <= 0)
			continue;
		for (int i = 0; i < 2; i++)
			if (pfd[i].revents & POLLIN)
				serve_one(pfd[i].fd);
	}
	return NULL;
}

static void set_case(const struct responder_case *c)
{
	X509 *x = make_cert(c);

	pthread_mutex_lock(&srv_mu);
	X509_free(srv_cert);
	srv_cert = x;
	srv_case = *c;
	got_sni[0] = '\0';
	got_alpn_len = 0;
	pthread_mutex_unlock(&srv_mu);
}

static int validate_full(const char *type, const char *ident, uint16_t port, bool loopback,
			 int timeout, struct flint_problem **p)
{
	struct flint_validation_config cfg = {.http01_port = 80,
					      .tlsalpn01_port = port,
					      .allow_loopback = loopback,
					      .timeout_seconds = timeout};
	struct flint_validator_ctx ctx = {.cfg = &cfg, .resolver = resolver};
	struct flint_validation v = {.ident_type = type,
				     .ident_value = ident,
				     .token = TOKEN,
				     .key_authorization = KEYAUTH,
				     .account_url = "https://ca.test/acct/1"};
	int r;

	*p = NULL;
	r = flint_validator_tlsalpn01.validate(&ctx, &v, p);
	if (*p)
		fprintf(stderr, "  %s %s: %s\n", type, ident, (*p)->detail);
	return r;
}

static int validate(const char *type, const char *ident, struct flint_problem **p)
{
	return validate_full(type, ident, TLS_PORT, true, 5, p);
}

/* Presents c for (type, ident) and expects failure of problem type t whose
 * detail names the identifier and contains what. */
static void expect(const struct responder_case *c, const char *type, const char *ident,
		   enum flint_problem_type t, const char *what)
{
	struct flint_problem *p;

	set_case(c);
	CHECK(validate(type, ident, &p) < 0);
	CHECK(p && p->type == t);
	CHECK(p && strstr(p->detail, ident));
	if (what) {
		CHECK(p && strstr(p->detail, what));
		if (p && !strstr(p->detail, what))
			fprintf(stderr, "  expected \"%s\" in the detail\n", what);
	}
	flint_problem_free(p);
}

static const char *sni_seen(void)
{
	static char copy[256];

	pthread_mutex_lock(&srv_mu);
	memcpy(copy, got_sni, sizeof(copy));
	pthread_mutex_unlock(&srv_mu);
	return copy;
}

static void test_table(void)
{
	CHECK(flint_validator_find("tls-alpn-01") == &flint_validator_tlsalpn01);
	CHECK(flint_validator_tlsalpn01.applies("dns", false));
	CHECK(!flint_validator_tlsalpn01.applies("dns", true));
	CHECK(flint_validator_tlsalpn01.applies("ip", false));
	CHECK(!flint_validator_tlsalpn01.applies("email", false));
	CHECK(!flint_validator_tlsalpn01.applies(NULL, false));
	/* RFC 8738 §7: ip identifiers get http-01 and tls-alpn-01, never dns-01 */
	CHECK(flint_validator_http01.applies("ip", false));
	CHECK(!flint_validator_dns01.applies("ip", false));
	for (size_t i = 0; flint_validators[i]; i++)
		if (flint_validators[i]->applies("ip", false))
			CHECK(!strcmp(flint_validators[i]->type, "http-01") ||
			      !strcmp(flint_validators[i]->type, "tls-alpn-01"));
}

static void test_ok_dns(void)
{
	static const struct responder_case c = {"DNS:x.example", EXT_RIGHT, true, ALPN_ACME, NULL};
	struct flint_problem *p;

	set_case(&c);
	CHECK_INT(validate("dns", "x.example", &p), 0);
	CHECK(p == NULL);
	flint_problem_free(p);
	CHECK_STR(sni_seen(), "x.example");
	/* RFC 8737 §3: the ALPN extension offers acme-tls/1 and nothing else */
	pthread_mutex_lock(&srv_mu);
	CHECK_INT(got_alpn_len, 11);
	CHECK(got_alpn_len == 11 && memcmp(got_alpn,
					   "\x0a"
					   "acme-tls/1",
					   11) == 0);
	pthread_mutex_unlock(&srv_mu);
	/* dNSName comparison ignores case */
	static const struct responder_case upper = {"DNS:X.Example", EXT_RIGHT, true, ALPN_ACME,
						    NULL};
	set_case(&upper);
	CHECK_INT(validate("dns", "x.example", &p), 0);
	flint_problem_free(p);
}

static void test_bad_certificates(void)
{
	static const struct responder_case not_critical = {"DNS:x.example", EXT_RIGHT, false,
							   ALPN_ACME, NULL};
	static const struct responder_case two_sans = {"DNS:x.example,DNS:y.example", EXT_RIGHT,
						       true, ALPN_ACME, NULL};
	static const struct responder_case wrong_hash = {"DNS:x.example", EXT_WRONG_HASH, true,
							 ALPN_ACME, NULL};
	static const struct responder_case not_octets = {"DNS:x.example", EXT_NOT_OCTETS, true,
							 ALPN_ACME, NULL};
	static const struct responder_case no_ext = {"DNS:x.example", EXT_NONE, true, ALPN_ACME,
						     NULL};
	static const struct responder_case no_san = {NULL, EXT_RIGHT, true, ALPN_ACME, NULL};
	static const struct responder_case other_name = {"DNS:y.example", EXT_RIGHT, true,
							 ALPN_ACME, NULL};
	static const struct responder_case ip_san = {"IP:127.0.0.1", EXT_RIGHT, true, ALPN_ACME,
						     NULL};

	expect(&not_critical, "dns", "x.example", FLINT_PROB_UNAUTHORIZED, "not critical");
	expect(&two_sans, "dns", "x.example", FLINT_PROB_UNAUTHORIZED, "2 subjectAltName entries");
	expect(&wrong_hash, "dns", "x.example", FLINT_PROB_UNAUTHORIZED, "SHA-256");
	expect(&not_octets, "dns", "x.example", FLINT_PROB_UNAUTHORIZED, "OCTET STRING");
	expect(&no_ext, "dns", "x.example", FLINT_PROB_UNAUTHORIZED, "no acmeIdentifier");
	expect(&no_san, "dns", "x.example", FLINT_PROB_UNAUTHORIZED, "no subjectAltName");
	/* a wrong name answered: the certificate is for another name */
	expect(&other_name, "dns", "x.example", FLINT_PROB_UNAUTHORIZED, "dNSName x.example");
	expect(&ip_san, "dns", "x.example", FLINT_PROB_UNAUTHORIZED, "dNSName x.example");
}

static void test_alpn(void)
{
	static const struct responder_case http11 = {"DNS:x.example", EXT_RIGHT, true, ALPN_HTTP11,
						     NULL};
	static const struct responder_case none = {"DNS:x.example", EXT_RIGHT, true, ALPN_NONE,
						   NULL};

	expect(&http11, "dns", "x.example", FLINT_PROB_TLS, NULL);
	expect(&none, "dns", "x.example", FLINT_PROB_TLS, "got none");
}

/* A responder that only answers another SNI refuses the handshake. */
static void test_wrong_sni(void)
{
	static const struct responder_case c = {"DNS:x.example", EXT_RIGHT, true, ALPN_ACME,
						"other.example"};

	expect(&c, "dns", "x.example", FLINT_PROB_TLS, "TLS handshake");
	CHECK_STR(sni_seen(), "x.example");
}

static void test_ip_v4(void)
{
	static const struct responder_case c = {"IP:127.0.0.1", EXT_RIGHT, true, ALPN_ACME, V4_SNI};
	static const struct responder_case dns_san = {"DNS:127.0.0.1", EXT_RIGHT, true, ALPN_ACME,
						      NULL};
	static const struct responder_case other_ip = {"IP:127.0.0.2", EXT_RIGHT, true, ALPN_ACME,
						       NULL};
	struct flint_problem *p;

	set_case(&c);
	CHECK_INT(validate("ip", "127.0.0.1", &p), 0);
	CHECK(p == NULL);
	flint_problem_free(p);
	CHECK_STR(sni_seen(), V4_SNI);
	expect(&dns_san, "ip", "127.0.0.1", FLINT_PROB_UNAUTHORIZED, "iPAddress 127.0.0.1");
	expect(&other_ip, "ip", "127.0.0.1", FLINT_PROB_UNAUTHORIZED, "iPAddress 127.0.0.1");
}

static void test_ip_v6(void)
{
	static const struct responder_case c = {"IP:::1", EXT_RIGHT, true, ALPN_ACME, V6_SNI};
	struct flint_problem *p;

	set_case(&c);
	CHECK_INT(validate("ip", "::1", &p), 0);
	CHECK(p == NULL);
	flint_problem_free(p);
	CHECK_STR(sni_seen(), V6_SNI);
}

static void test_policy(void)
{
	static const struct responder_case c = {"IP:127.0.0.1", EXT_RIGHT, true, ALPN_ACME, NULL};
	struct flint_problem *p;
	int before;

	set_case(&c);
	before = atomic_load(&srv_conns);
	CHECK(validate_full("ip", "127.0.0.1", TLS_PORT, false, 5, &p) < 0);
	CHECK(p && p->type == FLINT_PROB_CONNECTION && strstr(p->detail, "non-public"));
	flint_problem_free(p);
	CHECK(validate_full("ip", "::1", TLS_PORT, false, 5, &p) < 0);
	CHECK(p && p->type == FLINT_PROB_CONNECTION && strstr(p->detail, "non-public"));
	flint_problem_free(p);
	/* x.example resolves to 127.0.0.1 only */
	CHECK(validate_full("dns", "x.example", TLS_PORT, false, 5, &p) < 0);
	CHECK(p && p->type == FLINT_PROB_DNS && strstr(p->detail, "non-public"));
	flint_problem_free(p);
	/* never connected, whatever the loopback permission */
	CHECK(validate_full("ip", "10.0.0.1", TLS_PORT, true, 5, &p) < 0);
	CHECK(p && p->type == FLINT_PROB_CONNECTION);
	flint_problem_free(p);
	CHECK_INT(atomic_load(&srv_conns), before);
	/* hostile or mistyped identifiers */
	CHECK(validate("dns", "127.0.0.1", &p) < 0);
	CHECK(p && p->type == FLINT_PROB_MALFORMED);
	flint_problem_free(p);
	CHECK(validate("ip", "x.example", &p) < 0);
	CHECK(p && p->type == FLINT_PROB_MALFORMED);
	flint_problem_free(p);
	CHECK(validate("dns", "x.example/evil", &p) < 0);
	CHECK(p && p->type == FLINT_PROB_MALFORMED);
	flint_problem_free(p);
	CHECK_INT(atomic_load(&srv_conns), before);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_unreachable(void)
{
	struct flint_problem *p;
	double t0;

	CHECK(validate_full("dns", "x.example", DEAD_PORT, true, 5, &p) < 0);
	CHECK(p && p->type == FLINT_PROB_CONNECTION && strstr(p->detail, "x.example"));
	flint_problem_free(p);
	/* connected (the kernel's backlog) but never answered: bounded by the timeout */
	t0 = now_s();
	CHECK(validate_full("dns", "x.example", SILENT_PORT, true, 2, &p) < 0);
	CHECK(now_s() - t0 < 4.0);
	CHECK(now_s() - t0 >= 1.9);
	CHECK(p && p->type == FLINT_PROB_CONNECTION && strstr(p->detail, "Timeout"));
	flint_problem_free(p);
}

static int listen_on(int family, uint16_t port)
{
	struct sockaddr_storage ss = {0};
	socklen_t len;
	int one = 1, fd = socket(family, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		s6->sin6_addr = in6addr_loopback;
		len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*s4);
	}
	if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 16) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int main(void)
{
	pthread_t th;
	char fwd[32];
	bool served = false;

	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (!cts_start(DNS_PORT, MGMT_PORT)) {
		/* a missing test peer is a failure, never a silent pass */
		fprintf(stderr,
			"FAIL: pebble-challtestsrv unavailable (install Debian's pebble)\n");
		curl_global_cleanup();
		return 1;
	}
	snprintf(fwd, sizeof(fwd), "127.0.0.1:%d", DNS_PORT);
	CHECK_INT(flint_resolver_new(fwd, &resolver), 0);
	srv_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	srv_ctx = SSL_CTX_new(TLS_server_method());
	CHECK(srv_key && srv_ctx);
	if (srv_ctx) {
		SSL_CTX_set_alpn_select_cb(srv_ctx, on_alpn, NULL);
		SSL_CTX_set_tlsext_servername_callback(srv_ctx, on_servername);
	}
	srv_fd4 = listen_on(AF_INET, TLS_PORT);
	srv_fd6 = listen_on(AF_INET6, TLS_PORT);
	silent_fd = listen_on(AF_INET, SILENT_PORT);
	CHECK(srv_fd4 >= 0 && srv_fd6 >= 0 && silent_fd >= 0);
	if (resolver && srv_ctx && srv_key && srv_fd4 >= 0 && srv_fd6 >= 0 && silent_fd >= 0 &&
	    pthread_create(&th, NULL, serve, NULL) == 0) {
		served = true;
		RUN(test_table);
		RUN(test_ok_dns);
		RUN(test_bad_certificates);
		RUN(test_alpn);
		RUN(test_wrong_sni);
		RUN(test_ip_v4);
		RUN(test_ip_v6);
		RUN(test_policy);
		RUN(test_unreachable);
		atomic_store(&srv_stop, 1);
		pthread_join(th, NULL);
	}
	CHECK(served);
	for (int *fd = (int[]){srv_fd4, srv_fd6, silent_fd, -2}; *fd != -2; fd++)
		if (*fd >= 0)
			close(*fd);
	X509_free(srv_cert);
	EVP_PKEY_free(srv_key);
	SSL_CTX_free(srv_ctx);
	flint_resolver_free(resolver);
	cts_stop();
	curl_global_cleanup();
	return CHECK_DONE();
}
