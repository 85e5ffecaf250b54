/* The tls-alpn-01 validator (RFC 8737 §3; RFC 8738 §6 for ip identifiers): a
 * TLS handshake offering only ALPN "acme-tls/1" must show the challenge certificate. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "identifier.h"
#include "keyauth.h"
#include "resolver.h"
#include "validator.h"

/*
 * As in http01.c, every address we connect to is one we resolved through the
 * validation resolver (or the ip identifier itself) and checked against
 * flint_address_allowed(); we connect to exactly that address. The whole of
 * connect + handshake for one address shares one deadline; the next address
 * is tried only when a connection is refused or unreachable, so a silent
 * peer costs one timeout, not one per address. No application data is sent.
 */

#define ACME_TLS_1 "acme-tls/1"
#define OID_ACME_IDENTIFIER "1.3.6.1.5.5.7.1.31" /* id-pe-acmeIdentifier, RFC 8737 §6.1 */
#define DEFAULT_TIMEOUT 10
#define DEFAULT_PORT 443

static bool tlsalpn01_applies(const char *ident_type, bool wildcard)
{
	/* RFC 8737 §3: not for wildcards; RFC 8738 §6: usable for ip. */
	return ident_type && (strcmp(ident_type, "dns") == 0 || strcmp(ident_type, "ip") == 0) &&
	       !wildcard;
}

static bool hostname_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 253 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") == n;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int ms_left(int64_t deadline)
{
	int64_t left = deadline - now_ms();

	return left <= 0 ? 0 : left > 60000 ? 60000 : (int)left;
}

/* "1.2.3.4" or "[::1]" into out, for details. */
static void addr_text(const struct sockaddr_storage *ss, char *out, size_t cap)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, ip, sizeof(ip));
		snprintf(out, cap, "[%s]", ip);
	} else {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, ip, sizeof(ip));
		snprintf(out, cap, "%s", ip);
	}
}

enum conn_result { CONN_OK, CONN_REFUSED, CONN_TIMEOUT, CONN_ERROR };

/* A non-blocking TCP connection to addr:port by deadline; *ret_fd on CONN_OK,
 * *ret_errno for the detail otherwise. */
static enum conn_result tcp_connect(const struct sockaddr_storage *addr, uint16_t port,
				    int64_t deadline, int *ret_fd, int *ret_errno)
{
	struct sockaddr_storage sa = *addr;
	socklen_t len;
	int fd, e = 0;

	*ret_fd = -1;
	*ret_errno = 0;
	if (sa.ss_family == AF_INET6) {
		((struct sockaddr_in6 *)&sa)->sin6_port = htons(port);
		len = sizeof(struct sockaddr_in6);
	} else {
		((struct sockaddr_in *)&sa)->sin_port = htons(port);
		len = sizeof(struct sockaddr_in);
	}
	fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*ret_errno = errno;
		return CONN_ERROR;
	}
	if (connect(fd, (struct sockaddr *)&sa, len) < 0) {
		struct pollfd pfd = {.fd = fd, .events = POLLOUT};
		socklen_t elen = sizeof(e);
		int n;

		if (errno != EINPROGRESS) {
			e = errno;
			goto failed;
		}
		do
			n = poll(&pfd, 1, ms_left(deadline));
		while (n < 0 && errno == EINTR);
		if (n == 0) {
			close(fd);
			*ret_errno = ETIMEDOUT;
			return CONN_TIMEOUT;
		}
		if (n < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) < 0) {
			e = errno;
			goto failed;
		}
		if (e != 0)
			goto failed;
	}
	*ret_fd = fd;
	return CONN_OK;
failed:
	close(fd);
	*ret_errno = e;
	return e == ECONNREFUSED || e == ENETUNREACH || e == EHOSTUNREACH || e == EADDRNOTAVAIL
		   ? CONN_REFUSED
	       : e == ETIMEDOUT ? CONN_TIMEOUT
				: CONN_ERROR;
}

/* The first OpenSSL error's reason, or a fallback, for a detail. */
static const char *ssl_reason(const char *fallback)
{
	unsigned long e = ERR_peek_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	return r ? r : fallback;
}

/* Handshakes on ssl (non-blocking fd) by deadline; 0, or a problem. */
static int handshake(SSL *ssl, int fd, int64_t deadline, const char *ident, const char *where,
		     struct flint_problem **ret_problem)
{
	for (;;) {
		struct pollfd pfd = {.fd = fd};
		int r, e, n;

		ERR_clear_error();
		r = SSL_connect(ssl);
		if (r == 1)
			return 0;
		e = SSL_get_error(ssl, r);
		if (e == SSL_ERROR_WANT_READ)
			pfd.events = POLLIN;
		else if (e == SSL_ERROR_WANT_WRITE)
			pfd.events = POLLOUT;
		else if (e == SSL_ERROR_SSL) {
			*ret_problem =
			    flint_problem_new(FLINT_PROB_TLS,
					      "TLS handshake with %s (%s) for tls-alpn-01 "
					      "failed: %s",
					      ident, where, ssl_reason("protocol error"));
			return FLINT_EPROTO;
		} else {
			*ret_problem = flint_problem_new(
			    FLINT_PROB_CONNECTION,
			    "Connection to %s (%s) closed during the tls-alpn-01 TLS handshake",
			    ident, where);
			return FLINT_EIO;
		}
		do
			n = poll(&pfd, 1, ms_left(deadline));
		while (n < 0 && errno == EINTR);
		if (n <= 0) {
			*ret_problem =
			    flint_problem_new(FLINT_PROB_CONNECTION,
					      "Timeout during the tls-alpn-01 TLS handshake "
					      "with %s (%s)",
					      ident, where);
			return FLINT_EIO;
		}
	}
}

/* RFC 8737 §3: exactly one subjectAltName entry, the identifier (a dNSName,
 * or for ip an iPAddress of the same octets). */
static bool san_matches(X509 *x, const struct flint_validation *v, const unsigned char *ip,
			int ip_len, char *why, size_t cap)
{
	GENERAL_NAMES *gens;
	const GENERAL_NAME *g;
	int crit = -1;
	bool ok = false;

	gens = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
	if (!gens) {
		snprintf(why, cap, "%s",
			 crit == -2   ? "more than one subjectAltName extension"
			 : crit == -1 ? "no subjectAltName extension"
				      : "unreadable subjectAltName extension");
		return false;
	}
	if (sk_GENERAL_NAME_num(gens) != 1) {
		snprintf(why, cap, "%d subjectAltName entries, expected exactly one (%s)",
			 sk_GENERAL_NAME_num(gens), v->ident_value);
		goto out;
	}
	g = sk_GENERAL_NAME_value(gens, 0);
	if (ip) {
		ok = g->type == GEN_IPADD && ASN1_STRING_length(g->d.iPAddress) == ip_len &&
		     memcmp(ASN1_STRING_get0_data(g->d.iPAddress), ip, (size_t)ip_len) == 0;
	} else if (g->type == GEN_DNS) {
		const unsigned char *d = ASN1_STRING_get0_data(g->d.dNSName);
		size_t n = (size_t)ASN1_STRING_length(g->d.dNSName);

		ok = n == strlen(v->ident_value) && memchr(d, '\0', n) == NULL &&
		     strncasecmp((const char *)d, v->ident_value, n) == 0;
	}
	if (!ok)
		snprintf(why, cap, "the subjectAltName entry is not the %s %s",
			 ip ? "iPAddress" : "dNSName", v->ident_value);
out:
	GENERAL_NAMES_free(gens);
	return ok;
}

/* RFC 8737 §3: one critical id-pe-acmeIdentifier extension whose extnValue is
 * the DER of OCTET STRING (SIZE(32)) holding digest. */
static bool acme_ext_matches(X509 *x, const unsigned char digest[32], char *why, size_t cap)
{
	ASN1_OBJECT *oid = OBJ_txt2obj(OID_ACME_IDENTIFIER, 1);
	const ASN1_OCTET_STRING *val;
	X509_EXTENSION *ext;
	const unsigned char *d;
	int pos;
	bool ok = false;

	if (!oid) {
		snprintf(why, cap, "out of memory");
		return false;
	}
	pos = X509_get_ext_by_OBJ(x, oid, -1);
	if (pos < 0) {
		snprintf(why, cap, "no acmeIdentifier extension (%s)", OID_ACME_IDENTIFIER);
		goto out;
	}
	if (X509_get_ext_by_OBJ(x, oid, pos) >= 0) {
		snprintf(why, cap, "more than one acmeIdentifier extension");
		goto out;
	}
	ext = X509_get_ext(x, pos);
	if (!X509_EXTENSION_get_critical(ext)) {
		snprintf(why, cap, "the acmeIdentifier extension is not critical");
		goto out;
	}
	val = X509_EXTENSION_get_data(ext);
	d = ASN1_STRING_get0_data(val);
	if (ASN1_STRING_length(val) != 34 || d[0] != 0x04 || d[1] != 0x20) {
		snprintf(why, cap,
			 "the acmeIdentifier extension is not a DER OCTET STRING of 32 "
			 "octets");
		goto out;
	}
	if (CRYPTO_memcmp(d + 2, digest, 32) != 0) {
		snprintf(why, cap,
			 "the acmeIdentifier extension does not hold SHA-256 of this "
			 "challenge's key authorization");
		goto out;
	}
	ok = true;
out:
	ASN1_OBJECT_free(oid);
	return ok;
}

/* One attempt on a connected fd: handshake, ALPN, certificate. */
static int check_peer(SSL_CTX *sctx, int fd, int64_t deadline, const char *sni,
		      const struct flint_validation *v, const unsigned char *ip, int ip_len,
		      const unsigned char digest[32], const char *where,
		      struct flint_problem **ret_problem)
{
	const unsigned char *alpn = NULL;
	unsigned int alpn_len = 0;
	X509 *peer = NULL;
	SSL *ssl = SSL_new(sctx);
	char why[160];
	int err = FLINT_ENOMEM;

	if (!ssl || SSL_set_fd(ssl, fd) != 1 || SSL_set_tlsext_host_name(ssl, sni) != 1)
		goto out;
	err = handshake(ssl, fd, deadline, v->ident_value, where, ret_problem);
	if (err < 0)
		goto out;
	err = FLINT_EPROTO;
	SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
	if (alpn_len != strlen(ACME_TLS_1) || memcmp(alpn, ACME_TLS_1, alpn_len) != 0) {
		*ret_problem = flint_problem_new(
		    FLINT_PROB_TLS,
		    "%s (%s) did not negotiate the ALPN protocol "
		    "\"" ACME_TLS_1 "\" for tls-alpn-01 (got %s%.*s%s)",
		    v->ident_value, where, alpn_len ? "\"" : "none", (int)alpn_len,
		    alpn_len ? (const char *)alpn : "", alpn_len ? "\"" : "");
		goto out;
	}
	peer = SSL_get1_peer_certificate(ssl);
	err = FLINT_ENOTFOUND;
	if (!peer)
		snprintf(why, sizeof(why), "no certificate");
	else if (san_matches(peer, v, ip, ip_len, why, sizeof(why)) &&
		 acme_ext_matches(peer, digest, why, sizeof(why)))
		err = 0;
	if (err < 0)
		*ret_problem = flint_problem_new(
		    FLINT_PROB_UNAUTHORIZED, "Incorrect tls-alpn-01 certificate from %s (%s): %s",
		    v->ident_value, where, why);
out:
	X509_free(peer);
	if (ssl && err == 0)
		SSL_shutdown(ssl); /* close_notify only; the reply is not awaited */
	SSL_free(ssl);
	ERR_clear_error();
	return err;
}

static SSL_CTX *client_ctx(void)
{
	static const unsigned char protos[] = "\x0a" ACME_TLS_1;
	SSL_CTX *c = SSL_CTX_new(TLS_client_method());

	if (!c)
		return NULL;
	/* RFC 8737 §3: no chain or expiry checks; TLS 1.2 or later; ALPN only acme-tls/1. */
	SSL_CTX_set_verify(c, SSL_VERIFY_NONE, NULL);
	if (SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_alpn_protos(c, protos, sizeof(protos) - 1) != 0) {
		SSL_CTX_free(c);
		return NULL;
	}
	return c;
}

static int tlsalpn01_validate(const struct flint_validator_ctx *ctx,
			      const struct flint_validation *v, struct flint_problem **ret_problem)
{
	const struct flint_validation_config *cfg;
	struct flint_problem *p = NULL;
	struct sockaddr_storage *addrs = NULL;
	size_t n_addrs = 0;
	SSL_CTX *sctx = NULL;
	char sni[FLINT_IP_REVERSE_NAME_MAX > 254 ? FLINT_IP_REVERSE_NAME_MAX : 254];
	char where[INET6_ADDRSTRLEN + 16] = "";
	unsigned char digest[32], ip[16];
	int ip_len = 0, timeout, err = FLINT_EINVAL;
	uint16_t port;
	bool is_ip;

	if (!ctx || !ctx->cfg || !ctx->resolver || !v || !v->ident_type || !v->ident_value ||
	    !v->key_authorization) {
		p = flint_problem_new(FLINT_PROB_SERVER_INTERNAL,
				      "tls-alpn-01 validation misconfigured");
		goto out;
	}
	cfg = ctx->cfg;
	port = cfg->tlsalpn01_port ? cfg->tlsalpn01_port : DEFAULT_PORT;
	timeout = cfg->timeout_seconds > 0 ? cfg->timeout_seconds : DEFAULT_TIMEOUT;
	is_ip = strcmp(v->ident_type, "ip") == 0;
	if (is_ip) {
		struct sockaddr_storage ss = {0};

		if (inet_pton(AF_INET, v->ident_value, ip) == 1) {
			ip_len = 4;
			ss.ss_family = AF_INET;
			memcpy(&((struct sockaddr_in *)&ss)->sin_addr, ip, 4);
		} else if (inet_pton(AF_INET6, v->ident_value, ip) == 1) {
			ip_len = 16;
			ss.ss_family = AF_INET6;
			memcpy(&((struct sockaddr_in6 *)&ss)->sin6_addr, ip, 16);
		}
		if (!ip_len || flint_ip_reverse_name(v->ident_value, sni, sizeof(sni)) < 0) {
			p = flint_problem_new(FLINT_PROB_MALFORMED,
					      "Invalid ip identifier %s for tls-alpn-01",
					      v->ident_value);
			goto out;
		}
		err = FLINT_EIO;
		if (!flint_address_allowed(&ss, cfg->allow_loopback)) {
			p = flint_problem_new(FLINT_PROB_CONNECTION,
					      "Refusing to connect to %s: non-public address",
					      v->ident_value);
			goto out;
		}
		err = FLINT_ENOMEM;
		addrs = malloc(sizeof(*addrs));
		if (!addrs)
			goto out;
		addrs[0] = ss;
		n_addrs = 1;
	} else if (strcmp(v->ident_type, "dns") == 0 && hostname_ok(v->ident_value) &&
		   !flint_is_ip_address(v->ident_value) && strlen(v->ident_value) < sizeof(sni)) {
		size_t kept = 0;

		snprintf(sni, sizeof(sni), "%s", v->ident_value);
		err = flint_resolver_addrs(ctx->resolver, v->ident_value, &addrs, &n_addrs, &p);
		if (err < 0)
			goto out;
		for (size_t i = 0; i < n_addrs; i++)
			if (flint_address_allowed(&addrs[i], cfg->allow_loopback))
				addrs[kept++] = addrs[i];
		n_addrs = kept;
		err = FLINT_EIO;
		if (n_addrs == 0) {
			p = flint_problem_new(FLINT_PROB_DNS,
					      "%s resolves only to non-public addresses",
					      v->ident_value);
			goto out;
		}
	} else {
		p = flint_problem_new(FLINT_PROB_MALFORMED,
				      "Invalid %s identifier %s for tls-alpn-01", v->ident_type,
				      v->ident_value);
		goto out;
	}
	err = flint_keyauth_digest(v->key_authorization, digest);
	if (err < 0) {
		p = flint_problem_new(FLINT_PROB_SERVER_INTERNAL, "tls-alpn-01: %s",
				      flint_strerror(err));
		goto out;
	}
	err = FLINT_ENOMEM;
	sctx = client_ctx();
	if (!sctx)
		goto out;
	err = FLINT_EIO;
	for (size_t i = 0; i < n_addrs; i++) {
		int64_t deadline = now_ms() + (int64_t)timeout * 1000;
		char at[INET6_ADDRSTRLEN + 2];
		enum conn_result cr;
		int fd, e;

		addr_text(&addrs[i], at, sizeof(at));
		snprintf(where, sizeof(where), "%s port %u", at, port);
		cr = tcp_connect(&addrs[i], port, deadline, &fd, &e);
		if (cr == CONN_REFUSED && i + 1 < n_addrs)
			continue;
		if (cr != CONN_OK) {
			p = flint_problem_new(FLINT_PROB_CONNECTION,
					      "Connecting to %s (%s) for tls-alpn-01 failed: %s",
					      v->ident_value, where,
					      cr == CONN_TIMEOUT ? "timeout" : strerror(e));
			break;
		}
		err = check_peer(sctx, fd, deadline, sni, v, is_ip ? ip : NULL, ip_len, digest,
				 where, &p);
		close(fd);
		break;
	}
out:
	if (err < 0 && ret_problem) {
		if (!p && err == FLINT_ENOMEM)
			p = flint_problem_new(FLINT_PROB_SERVER_INTERNAL, "out of memory");
		*ret_problem = p;
		p = NULL;
	}
	flint_problem_free(p);
	SSL_CTX_free(sctx);
	free(addrs);
	return err;
}

const struct flint_validator flint_validator_tlsalpn01 = {
    .type = "tls-alpn-01",
    .applies = tlsalpn01_applies,
    .validate = tlsalpn01_validate,
};
