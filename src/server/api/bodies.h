/* The JWS payloads (RFC 8555 §7) flintd reads, one pure parser per body type:
 * a payload object in, its validated fields or an ACME problem out. */
#ifndef FLINTD_API_BODIES_H
#define FLINTD_API_BODIES_H

/*
 * Every parser takes the payload as request.c decoded it (a JSON object,
 * duplicates rejected) and touches no store, request or network, so the
 * code the fuzzer drives (fuzz/fuzz_request_body.c) is the code that runs.
 * Each returns 0 and sets *ret (free it with the matching _free), or returns
 * a negative FLINT_E* code and sets *ret_problem (the caller replies with it
 * and so owns it); the other output is left untouched. Only when even the
 * problem cannot be allocated is *ret_problem set to NULL (FLINT_ENOMEM).
 * A payload that is NULL or not an object is malformed. Unknown members
 * are ignored (RFC 8555 §7.3, §7.4); members flintd reads are typed
 * strictly and their strings bounded.
 */

#include <jansson.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stdint.h>

#include "csr.h"
#include "identifier.h"
#include "jwk.h"
#include "problem.h"

/* Bound on free-form strings (profile, timestamps, account URLs, replaces). */
#define FLINT_BODY_STRING_MAX 1024
/* Bound on the DER of a certificate to revoke. */
#define FLINT_BODY_CERT_MAX_DER (64 * 1024)

/* newAccount (§7.3, §7.3.1, §7.3.4). onlyReturnExisting, when present, must
 * be a boolean; when true nothing else is read (§7.3.1: the account is only
 * looked up). termsOfServiceAgreed must be a boolean; contact null or absent
 * is no contact, else flint_policy_check_contacts (malformed,
 * unsupportedContact, invalidContact). externalAccountBinding is kept as
 * sent: only flint_eab_verify, with the store's keys, can judge it. */
struct flint_body_new_account {
	bool only_return_existing;
	bool tos_agreed;    /* termsOfServiceAgreed is true */
	char *contact_json; /* compact JSON array, "[]" without contacts; NULL when
			       only_return_existing */
	json_t *eab;	    /* externalAccountBinding (new reference), NULL when absent */
};
int flint_body_new_account_parse(const json_t *payload, struct flint_body_new_account **ret,
				 struct flint_problem **ret_problem);
void flint_body_new_account_free(struct flint_body_new_account *b);

/* Account update and deactivation (§7.3.2, §7.3.6). status, when present,
 * must be the string "deactivated" or "valid" (no change: only valid
 * accounts sign requests); anything else is malformed. contact, when
 * present, must pass flint_policy_check_contacts (null is malformed here). */
struct flint_body_account_update {
	bool deactivate;
	char *contact_json; /* compact JSON array; NULL when contact is absent */
};
int flint_body_account_update_parse(const json_t *payload, struct flint_body_account_update **ret,
				    struct flint_problem **ret_problem);
void flint_body_account_update_free(struct flint_body_account_update *b);

/* Authorization deactivation (§7.5.2): {"status": "deactivated"}, nothing
 * else is a change flintd makes (malformed). Only a problem comes out. */
int flint_body_authz_update_parse(const json_t *payload, struct flint_problem **ret_problem);

/* newAuthz (§7.4.1): "identifier" must be an object that
 * flint_policy_order_identifiers accepts (malformed, rejectedIdentifier,
 * unsupportedIdentifier) and not a wildcard (malformed). */
struct flint_body_new_authz {
	struct flint_identifier id; /* normalised */
};
int flint_body_new_authz_parse(const json_t *payload, struct flint_body_new_authz **ret,
			       struct flint_problem **ret_problem);
void flint_body_new_authz_free(struct flint_body_new_authz *b);

/* newOrder (§7.4; RFC 9773 §5 "replaces"; draft-ietf-acme-profiles
 * "profile"). identifiers: flint_policy_order_identifiers (1..100,
 * normalised, duplicates dropped). profile: a string (which profiles exist
 * is the handler's question). notBefore/notAfter: RFC 3339 strings (whether
 * the window fits the profile is the handler's). replaces: a string. All
 * type errors are malformed. */
struct flint_body_new_order {
	struct flint_identifier *ids;
	size_t n_ids;
	char *profile;	    /* NULL when absent */
	int64_t not_before; /* 0 when absent */
	int64_t not_after;  /* 0 when absent */
	char *replaces;	    /* ARI certID, NULL when absent */
};
int flint_body_new_order_parse(const json_t *payload, struct flint_body_new_order **ret,
			       struct flint_problem **ret_problem);
void flint_body_new_order_free(struct flint_body_new_order *b);

/* finalize (§7.4): "csr" must be a string (malformed), base64url without
 * padding (malformed), and a PKCS#10 request flint_csr_parse_der accepts
 * (badCSR). Whether its names match the order is the handler's question. */
struct flint_body_finalize {
	unsigned char *der; /* the CSR's DER, as stored with the order */
	size_t der_len;
	struct flint_csr *csr;
};
int flint_body_finalize_parse(const json_t *payload, struct flint_body_finalize **ret,
			      struct flint_problem **ret_problem);
void flint_body_finalize_free(struct flint_body_finalize *b);

/* revokeCert (§7.6): "certificate" a base64url DER string (malformed), at
 * most FLINT_BODY_CERT_MAX_DER bytes; "reason", when present, an integer
 * flint_policy_revocation_reason_ok accepts: 0-5, 9, 10 (anything else,
 * floats and strings included, is badRevocationReason); then the DER must
 * be exactly one X.509 certificate (malformed). */
struct flint_body_revoke {
	unsigned char *der;
	size_t der_len;
	int reason; /* 0 (unspecified) when absent */
	X509 *cert;
	char *serial; /* hex, as the store keys certificates */
};
int flint_body_revoke_parse(const json_t *payload, struct flint_body_revoke **ret,
			    struct flint_problem **ret_problem);
void flint_body_revoke_free(struct flint_body_revoke *b);

/* keyChange's inner payload (§7.3.5): "account" a string (the account URL),
 * "oldKey" present (malformed otherwise) and a public JWK (malformed "oldKey
 * is not the account's current key" when it is not one). Comparing them with
 * the signing account is the handler's job. inner may be NULL (an inner
 * payload that is not JSON). */
struct flint_body_key_change {
	char *account;
	struct flint_jwk *old_key;
};
int flint_body_key_change_parse(const json_t *inner, struct flint_body_key_change **ret,
				struct flint_problem **ret_problem);
void flint_body_key_change_free(struct flint_body_key_change *b);

/* Responding to a challenge (§7.5.1): any JSON object (clients send {}; the
 * members of older drafts, such as keyAuthorization, are ignored). Only a
 * problem comes out. */
int flint_body_challenge_parse(const json_t *payload, struct flint_problem **ret_problem);

#endif
