/* ACME Renewal Information (RFC 9773 §4.1): the certID naming a certificate
 * in renewalInfo URLs and in newOrder's "replaces"; client and server share it. */
#ifndef FLINT_ARI_H
#define FLINT_ARI_H

#include <openssl/x509.h>
#include <stddef.h>
#include <stdint.h>

/* base64url(keyid) "." base64url(serial), both unpadded; serial is the DER
 * INTEGER content octets (a leading 0x00 kept). Empty inputs: FLINT_EINVAL. */
int flint_ari_cert_id_raw(const uint8_t *keyid, size_t keyid_len, const uint8_t *serial,
			  size_t serial_len, char **ret);

/* The certID of cert: its Authority Key Identifier's keyIdentifier and its
 * serial number. FLINT_EINVAL when cert has no AKI keyIdentifier (RFC 9773
 * requires one). *ret is malloc'd, untouched on failure. */
int flint_ari_cert_id(X509 *cert, char **ret);

#endif
