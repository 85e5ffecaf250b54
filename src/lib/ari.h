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

/* A certID as received (renewalInfo path, "replaces"): exactly one ".",
 * both halves non-empty canonical base64url without padding, the key
 * identifier at most FLINT_ARI_KEYID_MAX octets, the serial a positive DER
 * INTEGER content of at most FLINT_ARI_SERIAL_MAX octets (RFC 5280 §4.1.2.2
 * plus a leading 0x00) in minimal form. FLINT_EINVAL otherwise. The outputs
 * are malloc'd and untouched on failure. */
#define FLINT_ARI_KEYID_MAX 64
#define FLINT_ARI_SERIAL_MAX 21
int flint_ari_cert_id_parse(const char *id, uint8_t **ret_keyid, size_t *ret_keyid_len,
			    uint8_t **ret_serial, size_t *ret_serial_len);

/* The serial's content octets as lowercase hex without leading zero
 * octets (how flintd stores serials). *ret is malloc'd. */
int flint_ari_serial_hex(const uint8_t *serial, size_t len, char **ret);

#endif
