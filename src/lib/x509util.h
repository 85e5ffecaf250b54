/* X.509 pieces the CSR builder and parser, the CA and the client's
 * tls-alpn-01 solver need: subjectAltName entries for ACME identifiers, DER
 * encoding into malloc'd memory, ASN1_TIME as Unix seconds, public keys as
 * a request carries them. */
#ifndef FLINT_X509UTIL_H
#define FLINT_X509UTIL_H

#include <openssl/asn1.h>
#include <openssl/x509v3.h>
#include <stddef.h>
#include <stdint.h>

/* A GeneralName of an IA5String type (GEN_DNS, GEN_URI) holding value. */
int flint_general_name_ia5(int type, const char *value, GENERAL_NAME **ret);

/* The subjectAltName entry for the identifier type/value: "dns" a dNSName
 * (value as given), "ip" an iPAddress (4 or 16 octets; FLINT_EINVAL when value
 * is no IPv4/IPv6 address). NULL or empty: FLINT_EINVAL; other types:
 * FLINT_EUNSUPPORTED. */
int flint_general_name_of(const char *type, const char *value, GENERAL_NAME **ret);

/* DER of v (an X509, X509_REQ, X509_CRL ... of ASN1 item it) into *ret
 * (malloc'd); outputs untouched on failure. */
int flint_der_encode(const ASN1_VALUE *v, const ASN1_ITEM *it, unsigned char **ret,
		     size_t *ret_len);

/* t as seconds since the epoch: FLINT_EINVAL for NULL, FLINT_ECRYPTO when
 * unreadable. */
int flint_asn1_time_unix(const ASN1_TIME *t, int64_t *ret);

/* dst := the algorithm alg (with its parameters) and the key bits[0..n),
 * copied as they are: nothing is decoded (OpenSSL 3 decodes a key through
 * its provider decoder, several times the cost of a signature check).
 * Parameters are absent, NULL, an OID or a SEQUENCE, as every public-key
 * algorithm has them; any other kind is FLINT_EINVAL. */
int flint_spki_set(X509_PUBKEY *dst, const X509_ALGOR *alg, const unsigned char *bits, int n);

/* dst (a fresh X509_PUBKEY, such as a new request's) := the public half of
 * key as a request carries it:
 * id-ecPublicKey with its named curve and the point as key encodes it, or
 * Ed25519 with its 32 bytes; the same DER as X509_PUBKEY_set, without the
 * provider encoder and decoder that take several times a signature's CPU
 * there. FLINT_EUNSUPPORTED for any other key (RSA: the caller takes
 * X509_PUBKEY_set), FLINT_EINVAL for NULL arguments. Only the encoded
 * form is set: dst keeps no decoded key (X509_PUBKEY_get0 decodes it). */
int flint_spki_of_key(X509_PUBKEY *dst, EVP_PKEY *key);

/* The key spki holds, decoded: rsaEncryption, id-ecPublicKey on a named
 * P-256/384/521 and Ed25519 straight from their bits (flint_rsa_public_key,
 * flint_ec_public_key); other algorithms and curves through OpenSSL's
 * decoder. FLINT_EINVAL for a malformed key: wrong lengths, a point off
 * the curve, explicit curve parameters, RSA parameters other than NULL, a
 * bad RSAPublicKey. No key policy (flint_key_type_of). */
int flint_spki_key(const X509_PUBKEY *spki, EVP_PKEY **ret);

/* Whether spki holds the public key of key: 1 yes, 0 no, FLINT_EINVAL for
 * an spki flint_spki_key cannot read. An uncompressed EC point equal to
 * key's own encoding on key's curve, or Ed25519 bits equal to key's, is
 * compared as bytes; anything else is decoded and compared as keys. */
int flint_spki_holds(const X509_PUBKEY *spki, EVP_PKEY *key);

#endif
