/* The certificate authority's keys and signing: a root (P-384) and an
 * intermediate (P-256 by default, RSA optional) created on first start, a
 * serving certificate for flintd's own HTTPS, end-entity issuance per the
 * profile RFC 8555 clients expect, and CRLs (RFC 5280 §5). */
#ifndef FLINT_ISSUER_H
#define FLINT_ISSUER_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "identifier.h"

struct flint_issuer_options {
	const char *data_dir;     /* root.pem, root.key, intermediate.pem, intermediate.key,
				     server.pem (chain), server.key; keys 0600 */
	const char *intermediate_key; /* "ecdsa" (P-256, default) or "rsa" (RSA-3072) */
	EVP_PKEY *intermediate_token_key; /* the intermediate's key in a PKCS#11 token
					     (pkcs11.h): signs instead of intermediate.key,
					     which is then neither read nor created; NULL: none */
	const char *listen_host;  /* DNS name or IP literal for the serving certificate */
	const char *base_url;     /* "https://host:port"; AIA caIssuers = base_url + "/ca/intermediate.der",
				     CRL distribution point = base_url + "/ca/crl" */
	const char *public_url;   /* "http://host:port" for AIA, CRL DP and OCSP when set
				     (plain HTTP for relying parties), else base_url */
	int crl_shards;           /* > 1: certificates name CRL DP .../ca/crl/K, K from the serial */
	bool ocsp;                /* certificates name base_url + "/ocsp" (AIA OCSP) */
	bool alternate_chain;     /* also root-alt.pem/.key (P-384) and intermediate-cross.pem:
				     the intermediate cross-signed by that second root */
};

struct flint_issuer;

struct flint_issued {
	unsigned char *der;   /* end-entity certificate */
	size_t der_len;
	char *serial;         /* lowercase hex of the 128-bit (positive) serial */
	char *chain_pem;      /* leaf PEM then intermediate PEM */
	int64_t not_before;
	int64_t not_after;
};

/* Loads the hierarchy from data_dir, creating whatever is missing (the root
 * and intermediate once; the serving certificate again when it lacks
 * listen_host or expires within 7 days). Thread-safe after open. */
int flint_issuer_open(const struct flint_issuer_options *opt, struct flint_issuer **ret);

/* Paths of the serving certificate chain and key for the TLS server. */
const char *flint_issuer_server_chain_path(const struct flint_issuer *is);
const char *flint_issuer_server_key_path(const struct flint_issuer *is);
const char *flint_issuer_root_path(const struct flint_issuer *is);
/* PEM / DER blobs for download endpoints (owned by the issuer). */
const char *flint_issuer_root_pem(const struct flint_issuer *is);
const char *flint_issuer_intermediate_pem(const struct flint_issuer *is);
const unsigned char *flint_issuer_intermediate_der(const struct flint_issuer *is, size_t *ret_len);

/* With alternate_chain: the second root's PEM (NULL otherwise), and the
 * alternate chain of a leaf: the leaf then the cross-signed intermediate,
 * which leads to that root. FLINT_ENOTFOUND without an alternate chain. */
const char *flint_issuer_alt_root_pem(const struct flint_issuer *is);
int flint_issuer_alternate_chain(const struct flint_issuer *is, const unsigned char *leaf_der,
				 size_t len, char **ret);

/* Whether keyid is the Subject Key Identifier of the issuing intermediate,
 * i.e. the AKI of every certificate it issues (RFC 9773 certIDs name it). */
bool flint_issuer_is_keyid(const struct flint_issuer *is, const unsigned char *keyid,
			   size_t len);

/* What a profile decides about one end-entity certificate. */
struct flint_leaf_params {
	int64_t not_before;      /* 0: now - 1h (never earlier than that) */
	int64_t not_after;       /* 0: notBefore + lifetime; capped by the intermediate's */
	int64_t lifetime;        /* notAfter - notBefore when not_after is 0 (0: 90 days) */
	bool server_auth;        /* EKU id-kp-serverAuth */
	bool client_auth;        /* EKU id-kp-clientAuth */
	const char *common_name; /* subject CN, or NULL for an empty subject */
	/* subject_key as its CSR encoded it, copied into the certificate byte
	 * for byte (OpenSSL 3 re-encodes a key by decoding it again, a third of
	 * an issuance's CPU); NULL: encoded from subject_key. Must hold
	 * subject_key (FLINT_EINVAL otherwise), which is checked on the key
	 * flint_spki_key reads from it, so it need not cache one (flint_csr.spki
	 * does not). */
	const X509_PUBKEY *subject_spki;
};

/* Issues an end-entity certificate for subject_key and the identifiers ids
 * (dns -> SAN dNSName, ip -> iPAddress; SAN critical when the subject is
 * empty), 128-bit random serial, the validity and EKUs of p, KU
 * digitalSignature (+keyEncipherment for RSA keys), basicConstraints CA:FALSE
 * critical, SKI, AKI, AIA caIssuers, CRL distribution point. */
int flint_issuer_issue(struct flint_issuer *is, EVP_PKEY *subject_key,
		       const struct flint_identifier *ids, size_t n_ids,
		       const struct flint_leaf_params *p, struct flint_issued **ret);

/* A revoked entry for a CRL. */
struct flint_revoked_entry {
	const char *serial; /* hex */
	int64_t revoked_at;
	int reason;
};
/* A DER CRL signed by the intermediate, thisUpdate now, nextUpdate now+24h,
 * with a crlNumber of now (monotonic across restarts). shard -1: the full
 * CRL; 0..crl_shards-1: that partition, carrying a critical Issuing
 * Distribution Point naming its URL (the caller passes only its entries).
 * *ret_der is malloc'd (free()). Bad serial hex, reason or shard -> FLINT_EINVAL. */
int flint_issuer_crl(struct flint_issuer *is, const struct flint_revoked_entry *entries,
		     size_t n, int shard, unsigned char **ret_der, size_t *ret_len);
/* The number of CRL shards (0 when not sharded) and the shard of a serial
 * (lowercase hex as stored; -1 when not sharded). */
int flint_issuer_crl_shards(const struct flint_issuer *is);
int flint_issuer_crl_shard(const struct flint_issuer *is, const char *serial_hex);

/* The serial of x in the same lowercase hex as flint_issued.serial, so a
 * certificate presented for revocation maps to its stored record. *ret is
 * malloc'd. */
int flint_issuer_serial_hex(const X509 *x, char **ret);

/* OCSP (RFC 6960): the status of one certificate, by lowercase serial hex.
 * status is V_OCSP_CERTSTATUS_GOOD, _REVOKED (revoked_at, reason: a CRLReason,
 * 0 for none) or _UNKNOWN. Returns 0 or a negative error. */
struct flint_ocsp_status {
	int status;
	int64_t revoked_at;
	int reason;
};
typedef int (*flint_ocsp_lookup)(void *ctx, const char *serial_hex, struct flint_ocsp_status *ret);

/* Answers a DER OCSPRequest (at most 8 certificates, any CertID hash) with a
 * DER OCSPResponse signed by the intermediate (responder ID by key hash,
 * thisUpdate now, nextUpdate +1 h, the request's nonce echoed); a serial
 * this CA never issued is "unknown". A request that does not parse gets a
 * malformedRequest response, one naming another issuer's certificate an
 * unauthorized response (both still return 0). *ret_der is malloc'd. */
int flint_issuer_ocsp(struct flint_issuer *is, const unsigned char *req_der, size_t req_len,
		      flint_ocsp_lookup lookup, void *ctx, unsigned char **ret_der, size_t *ret_len);

void flint_issued_free(struct flint_issued *c);
void flint_issuer_free(struct flint_issuer *is);

#endif
