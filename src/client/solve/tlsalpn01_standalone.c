/* "standalone-tls-alpn": answers tls-alpn-01 (RFC 8737, IP identifiers RFC 8738
 * §6) with a TLS listener that only speaks ALPN "acme-tls/1" and, per SNI, shows
 * a self-signed certificate carrying the key authorization's digest. */
#include <arpa/inet.h>
#include <ctype.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "error.h"
#include "solve/serve.h"
#include "solve/solver.h"
#include "x509util.h"

#define ACME_TLS_1 "acme-tls/1"
#define OID_ACME_IDENTIFIER "1.3.6.1.5.5.7.1.31" /* id-pe-acmeIdentifier, RFC 8737 §6.1 */
#define SNI_MAX 253

/* One presented identifier: the name a validator sends as SNI (the domain, or
 * for an IP the reverse-DNS name, RFC 8738 §6) and the certificate it gets. */
struct alpn_cert {
	struct alpn_cert *next;
	char sni[SNI_MAX + 1];
	unsigned char digest[32];
	X509 *cert;
	EVP_PKEY *key;
};

struct alpn_solver {
	struct flint_serve *srv;
	SSL_CTX *ctx;
	pthread_mutex_t mu; /* guards certs: present/cleanup vs the server thread */
	struct alpn_cert *certs;
};

struct alpn_conn {
	SSL *ssl;
	bool handshaken;
};

static struct alpn_solver *from(struct flint_solver *s) { return (struct alpn_solver *)(void *)s; }

static bool alpn_configured(const struct flint_solver_config *cfg)
{
	return cfg && cfg->tlsalpn01_port > 0;
}

static bool alpn_applies(const char *ident_type, bool wildcard)
{
	return !wildcard && ident_type &&
	       (strcmp(ident_type, "dns") == 0 || strcmp(ident_type, "ip") == 0);
}

static void cert_free(struct alpn_cert *c)
{
	if (!c)
		return;
	X509_free(c->cert);
	EVP_PKEY_free(c->key);
	free(c);
}

/* Whether the ALPN extension body (RFC 7301 §3.1) offers acme-tls/1. */
static bool offers_acme_tls(const unsigned char *p, size_t len)
{
	size_t i;

	if (len < 2 || (size_t)((p[0] << 8) | p[1]) != len - 2)
		return false;
	for (i = 2; i < len;) {
		size_t n = p[i];

		if (n == 0 || i + 1 + n > len)
			return false;
		if (n == strlen(ACME_TLS_1) && memcmp(p + i + 1, ACME_TLS_1, n) == 0)
			return true;
		i += 1 + n;
	}
	return false;
}

/* The host_name from the server_name extension body (RFC 6066 §3), lower-cased
 * and without a trailing dot, into out[SNI_MAX + 1]. */
static bool parse_sni(const unsigned char *p, size_t len, char *out)
{
	size_t i;

	if (len < 2 || (size_t)((p[0] << 8) | p[1]) != len - 2)
		return false;
	for (i = 2; i + 3 <= len;) {
		size_t n = (size_t)((p[i + 1] << 8) | p[i + 2]);

		if (i + 3 + n > len)
			return false;
		if (p[i] == 0) { /* host_name */
			if (n > 0 && p[i + 3 + n - 1] == '.')
				n--;
			if (n == 0 || n > SNI_MAX)
				return false;
			for (size_t j = 0; j < n; j++) {
				unsigned char ch = p[i + 3 + j];

				if (ch <= 0x20 || ch >= 0x7f)
					return false;
				out[j] = (char)tolower(ch);
			}
			out[n] = '\0';
			return true;
		}
		i += 3 + n;
	}
	return false;
}

/* Picks the certificate by SNI before OpenSSL looks at anything else; a hello
 * without acme-tls/1 or for a name not presented ends the handshake. */
static int alpn_hello_cb(SSL *ssl, int *al, void *arg)
{
	struct alpn_solver *as = arg;
	const unsigned char *p;
	size_t len;
	char sni[SNI_MAX + 1];
	bool ok = false;

	if (!SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_application_layer_protocol_negotiation, &p,
				       &len) ||
	    !offers_acme_tls(p, len)) {
		*al = SSL_AD_NO_APPLICATION_PROTOCOL;
		return SSL_CLIENT_HELLO_ERROR;
	}
	if (!SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &p, &len) ||
	    !parse_sni(p, len, sni)) {
		*al = SSL_AD_UNRECOGNIZED_NAME;
		return SSL_CLIENT_HELLO_ERROR;
	}
	pthread_mutex_lock(&as->mu);
	for (struct alpn_cert *c = as->certs; c; c = c->next) {
		if (strcmp(c->sni, sni) == 0) {
			/* the SSL takes its own references: cleanup may free c meanwhile */
			ok = SSL_use_certificate(ssl, c->cert) == 1 &&
			     SSL_use_PrivateKey(ssl, c->key) == 1;
			break;
		}
	}
	pthread_mutex_unlock(&as->mu);
	if (!ok) {
		*al = SSL_AD_UNRECOGNIZED_NAME;
		return SSL_CLIENT_HELLO_ERROR;
	}
	return SSL_CLIENT_HELLO_SUCCESS;
}

/* RFC 8737 §3: the negotiated protocol is acme-tls/1 or there is no handshake. */
static int alpn_select_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
			  const unsigned char *in, unsigned int inlen, void *arg)
{
	unsigned int i;

	(void)ssl;
	(void)arg;
	for (i = 0; i < inlen;) {
		unsigned int n = in[i];

		if (i + 1 + n > inlen)
			break;
		if (n == strlen(ACME_TLS_1) && memcmp(in + i + 1, ACME_TLS_1, n) == 0) {
			*out = in + i + 1;
			*outlen = (unsigned char)n;
			return SSL_TLSEXT_ERR_OK;
		}
		i += 1 + n;
	}
	return SSL_TLSEXT_ERR_ALERT_FATAL; /* no_application_protocol */
}

static void *alpn_open(void *arg, int fd)
{
	struct alpn_solver *as = arg;
	struct alpn_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->ssl = SSL_new(as->ctx);
	if (!c->ssl || SSL_set_fd(c->ssl, fd) != 1) {
		SSL_free(c->ssl);
		free(c);
		ERR_clear_error();
		return NULL;
	}
	SSL_set_accept_state(c->ssl);
	return c;
}

static short want(SSL *ssl, int r)
{
	switch (SSL_get_error(ssl, r)) {
	case SSL_ERROR_WANT_READ:
		return POLLIN;
	case SSL_ERROR_WANT_WRITE:
		return POLLOUT;
	default:
		ERR_clear_error();
		return 0;
	}
}

/* The handshake is all a validator needs (RFC 8737 §3): then close_notify and close. */
static short alpn_io(void *arg, void *conn, int fd)
{
	struct alpn_conn *c = conn;
	int r;

	(void)arg;
	(void)fd;
	if (!c->handshaken) {
		r = SSL_do_handshake(c->ssl);
		if (r != 1)
			return want(c->ssl, r);
		c->handshaken = true;
	}
	r = SSL_shutdown(c->ssl);
	return r < 0 ? want(c->ssl, r) : 0;
}

static void alpn_close(void *arg, void *conn)
{
	struct alpn_conn *c = conn;

	(void)arg;
	SSL_free(c->ssl);
	free(c);
}

static const struct flint_serve_ops alpn_ops = {
    .open = alpn_open,
    .io = alpn_io,
    .close = alpn_close,
};

static void alpn_stop(struct flint_solver *s)
{
	struct alpn_solver *as = from(s);
	struct alpn_cert *c, *next;

	if (!as)
		return;
	flint_serve_stop(as->srv);
	for (c = as->certs; c; c = next) {
		next = c->next;
		cert_free(c);
	}
	SSL_CTX_free(as->ctx);
	pthread_mutex_destroy(&as->mu);
	free(as);
}

static int alpn_start(const struct flint_solver_config *cfg, struct flint_solver **ret,
		      char **ret_err)
{
	struct alpn_solver *as;
	int r;

	if (!alpn_configured(cfg) || !ret)
		return flint_solve_errf(ret_err, FLINT_EINVAL,
					"standalone-tls-alpn: no port configured");
	as = calloc(1, sizeof(*as));
	if (!as)
		return flint_solve_errf(ret_err, FLINT_ENOMEM,
					"standalone-tls-alpn: out of memory");
	pthread_mutex_init(&as->mu, NULL);
	as->ctx = SSL_CTX_new(TLS_server_method());
	if (!as->ctx || SSL_CTX_set_min_proto_version(as->ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_num_tickets(as->ctx, 0) != 1) {
		ERR_clear_error();
		r = flint_solve_errf(ret_err, FLINT_ECRYPTO,
				     "standalone-tls-alpn: cannot set up a TLS context");
		goto fail;
	}
	SSL_CTX_set_options(as->ctx,
			    SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_session_cache_mode(as->ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_client_hello_cb(as->ctx, alpn_hello_cb, as);
	SSL_CTX_set_alpn_select_cb(as->ctx, alpn_select_cb, NULL);
	r = flint_serve_start("standalone-tls-alpn", cfg->tlsalpn01_bind, cfg->tlsalpn01_port,
			      &alpn_ops, as, &as->srv, ret_err);
	if (r < 0)
		goto fail;
	*ret = (struct flint_solver *)(void *)as;
	return 0;
fail:
	SSL_CTX_free(as->ctx);
	pthread_mutex_destroy(&as->mu);
	free(as);
	return r;
}

/* The SNI a validator sends for t: the domain, or the reverse-DNS name of an IP
 * (RFC 8738 §6). */
static int task_sni(const struct flint_challenge_task *t, char *out)
{
	size_t n = strlen(t->ident_value), i;

	if (strcmp(t->ident_type, "ip") == 0) {
		unsigned char ip[16];
		static const char hex[] = "0123456789abcdef";
		char *p = out;

		if (inet_pton(AF_INET, t->ident_value, ip) == 1) {
			snprintf(out, SNI_MAX + 1, "%u.%u.%u.%u.in-addr.arpa", ip[3], ip[2], ip[1],
				 ip[0]);
			return 0;
		}
		if (inet_pton(AF_INET6, t->ident_value, ip) != 1)
			return FLINT_EINVAL;
		for (i = 16; i-- > 0;) {
			*p++ = hex[ip[i] & 0xf];
			*p++ = '.';
			*p++ = hex[ip[i] >> 4];
			*p++ = '.';
		}
		memcpy(p, "ip6.arpa", sizeof("ip6.arpa"));
		return 0;
	}
	if (n > 0 && t->ident_value[n - 1] == '.')
		n--;
	if (n == 0 || n > SNI_MAX)
		return FLINT_EINVAL;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)t->ident_value[i];

		if (ch <= 0x20 || ch >= 0x7f)
			return FLINT_EINVAL;
		out[i] = (char)tolower(ch);
	}
	out[n] = '\0';
	return 0;
}

/* RFC 8737 §3: self-signed, exactly one SAN (the identifier), and the critical
 * id-pe-acmeIdentifier extension holding OCTET STRING (SIZE(32)) = digest. */
static int make_cert(const struct flint_challenge_task *t, X509 **ret_cert, EVP_PKEY **ret_key)
{
	unsigned char ext_der[2 + 32] = {0x04, 0x20};
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	BIGNUM *serial = NULL;
	GENERAL_NAMES *gens = NULL;
	GENERAL_NAME *gen = NULL;
	ASN1_OBJECT *oid = NULL;
	ASN1_OCTET_STRING *ext_val = NULL;
	X509_EXTENSION *ext = NULL;
	X509_NAME *name;
	int r = FLINT_ECRYPTO;

	key = EVP_EC_gen("P-256");
	x = X509_new();
	serial = BN_new();
	gens = sk_GENERAL_NAME_new_null();
	if (!key || !x || !serial || !gens)
		goto out;
	if (X509_set_version(x, X509_VERSION_3) != 1 ||
	    BN_rand(serial, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
	    !BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), 7 * 24 * 3600))
		goto out;
	name = X509_get_subject_name(x);
	if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				       (const unsigned char *)"flint tls-alpn-01 challenge", -1, -1,
				       0) != 1 ||
	    X509_set_issuer_name(x, name) != 1 || X509_set_pubkey(x, key) != 1)
		goto out;
	if (flint_general_name_of(t->ident_type, t->ident_value, &gen) < 0)
		goto out;
	if (!sk_GENERAL_NAME_push(gens, gen))
		goto out;
	gen = NULL;
	if (X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) != 1)
		goto out;
	memcpy(ext_der + 2, t->digest, 32);
	oid = OBJ_txt2obj(OID_ACME_IDENTIFIER, 1);
	ext_val = ASN1_OCTET_STRING_new();
	if (!oid || !ext_val || ASN1_OCTET_STRING_set(ext_val, ext_der, sizeof(ext_der)) != 1)
		goto out;
	ext = X509_EXTENSION_create_by_OBJ(NULL, oid, 1, ext_val);
	if (!ext || X509_add_ext(x, ext, -1) != 1)
		goto out;
	if (X509_sign(x, key, flint_md(FLINT_MD_SHA256)) <= 0)
		goto out;
	*ret_cert = x;
	*ret_key = key;
	x = NULL;
	key = NULL;
	r = 0;
out:
	ERR_clear_error();
	X509_EXTENSION_free(ext);
	ASN1_OCTET_STRING_free(ext_val);
	ASN1_OBJECT_free(oid);
	GENERAL_NAME_free(gen);
	GENERAL_NAMES_free(gens);
	BN_free(serial);
	X509_free(x);
	EVP_PKEY_free(key);
	return r;
}

static int alpn_present(struct flint_solver *s, const struct flint_challenge_task *t,
			char **ret_err)
{
	struct alpn_solver *as = from(s);
	struct alpn_cert *c, **pp, *old = NULL;
	int r;

	if (!as || !t || !t->ident_type || !t->ident_value)
		return flint_solve_errf(ret_err, FLINT_EINVAL, "standalone-tls-alpn: no challenge");
	if (!alpn_applies(t->ident_type, t->wildcard))
		return flint_solve_errf(ret_err, FLINT_EUNSUPPORTED,
					"standalone-tls-alpn: cannot prove %s%s",
					t->wildcard ? "*." : "", t->ident_value);
	c = calloc(1, sizeof(*c));
	if (!c)
		return flint_solve_errf(ret_err, FLINT_ENOMEM,
					"standalone-tls-alpn: out of memory");
	if (task_sni(t, c->sni) < 0) {
		free(c);
		return flint_solve_errf(ret_err, FLINT_EINVAL,
					"standalone-tls-alpn: bad %s identifier %.64s",
					t->ident_type, t->ident_value);
	}
	memcpy(c->digest, t->digest, sizeof(c->digest));
	r = make_cert(t, &c->cert, &c->key);
	if (r < 0) {
		cert_free(c);
		return flint_solve_errf(
		    ret_err, r, "standalone-tls-alpn: cannot make the certificate for %.64s",
		    t->ident_value);
	}
	pthread_mutex_lock(&as->mu);
	for (pp = &as->certs; *pp; pp = &(*pp)->next) {
		if (strcmp((*pp)->sni, c->sni) == 0) {
			/* presented again: the newest digest wins */
			old = *pp;
			*pp = old->next;
			break;
		}
	}
	c->next = as->certs;
	as->certs = c;
	pthread_mutex_unlock(&as->mu);
	cert_free(old);
	return 0;
}

static void alpn_cleanup(struct flint_solver *s, const struct flint_challenge_task *t)
{
	struct alpn_solver *as = from(s);
	struct alpn_cert **pp, *c = NULL;
	char sni[SNI_MAX + 1];

	if (!as || !t || !t->ident_type || !t->ident_value || task_sni(t, sni) < 0)
		return;
	pthread_mutex_lock(&as->mu);
	for (pp = &as->certs; *pp; pp = &(*pp)->next) {
		/* only what this task presented, not a later presentation for the name */
		if (strcmp((*pp)->sni, sni) == 0 &&
		    memcmp((*pp)->digest, t->digest, sizeof(t->digest)) == 0) {
			c = *pp;
			*pp = c->next;
			break;
		}
	}
	pthread_mutex_unlock(&as->mu);
	cert_free(c);
}

const struct flint_solver_type flint_solver_tlsalpn01_standalone = {
    .name = "standalone-tls-alpn",
    .challenge_type = "tls-alpn-01",
    .configured = alpn_configured,
    .applies = alpn_applies,
    .start = alpn_start,
    .present = alpn_present,
    .cleanup = alpn_cleanup,
    .stop = alpn_stop,
};
