/* The dns-account-01 validation name (draft-ietf-acme-dns-account-label-02 §3):
 * "_" base32(SHA-256(account URL)[0:10]) "._acme-challenge." domain. */
#ifndef FLINT_DNSACCOUNT_H
#define FLINT_DNSACCOUNT_H

#include <stddef.h>

#include "identifier.h" /* FLINT_DNS_NAME_MAX, FLINT_DNS_LABEL_MAX */

/* "_" + 16 base32 characters: the account label, without its NUL. */
#define FLINT_DNSACCOUNT_LABEL_LEN 17

/* RFC 4648 §6 base32 of in[0..len), lowercase, without "=" padding, into a
 * malloc'd *ret. len 0 gives "". */
int flint_base32_encode(const unsigned char *in, size_t len, char **ret);

/* The account label of account_url (the exact Location of the account,
 * RFC 8555 §7.3) into out: "_" + 16 lowercase base32 characters + NUL. */
int flint_dnsaccount_label(const char *account_url, char out[FLINT_DNSACCOUNT_LABEL_LEN + 1]);

/* The name whose TXT record answers dns-account-01 for domain, malloc'd,
 * without a trailing dot: "_<label>._acme-challenge.<domain>". domain may
 * carry one trailing dot and a leading "*." (a wildcard's label sits under
 * its base domain); its labels are letters, digits, "-" and "_". FLINT_EINVAL
 * for an empty URL or domain, an empty label or another character;
 * FLINT_ETOOBIG when a label of domain exceeds 63 octets or the whole name
 * 253. *ret is untouched on failure. */
int flint_dnsaccount_name(const char *account_url, const char *domain, char **ret);

#endif
