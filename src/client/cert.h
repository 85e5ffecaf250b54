/* Certificate chains as ACME delivers them (RFC 8555 §7.4.2,
 * application/pem-certificate-chain): leaf first, checks before storing. */
#ifndef FLINT_CLIENT_CERT_H
#define FLINT_CLIENT_CERT_H

#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FLINT_CHAIN_MAX_CERTS 10

struct flint_chain {
	X509 *leaf;
	STACK_OF(X509) *issuers; /* the rest, in the server's order */
	char *cert_pem;          /* the leaf */
	char *chain_pem;         /* the issuers */
	char *fullchain_pem;     /* leaf then issuers */
	int64_t not_before, not_after;
};

/* Parses one or more PEM CERTIFICATE blocks (at most FLINT_CHAIN_MAX_CERTS;
 * text between blocks ignored) and re-encodes them. */
int flint_chain_parse(const char *pem, size_t len, struct flint_chain **ret, char **ret_err);

/* The leaf certifies key and names every one of names (dNSName SANs,
 * wildcards compared literally). */
int flint_chain_check(const struct flint_chain *c, EVP_PKEY *key, const char *const *names,
		      size_t n, char **ret_err);

/* The chain ends in a certificate issued by name, or in the self-issued
 * root named name (its subject CN): how --preferred-chain picks (RFC 8555 §7.4.2
 * alternates). Compares the whole CN, case-sensitively. */
bool flint_chain_top_named(const struct flint_chain *c, const char *name);
/* The CN of the topmost certificate's issuer (malloc'd), for messages; NULL if none. */
char *flint_chain_top_issuer(const struct flint_chain *c);

/* notBefore/notAfter as unix seconds. */
int flint_cert_validity(X509 *x, int64_t *ret_not_before, int64_t *ret_not_after);
/* The serial as upper-case hex; malloc'd. */
char *flint_cert_serial_hex(X509 *x);

void flint_chain_free(struct flint_chain *c);

#endif
