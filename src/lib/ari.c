/* RFC 9773 §4.1 certID: base64url(AKI keyIdentifier) "." base64url(DER
 * serial content octets), the key of renewalInfo and of "replaces". */
#include "ari.h"

#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "error.h"

int flint_ari_cert_id_raw(const uint8_t *keyid, size_t keyid_len, const uint8_t *serial,
			  size_t serial_len, char **ret)
{
	char *a = NULL, *b = NULL, *out = NULL;
	int r;

	if (!keyid || !keyid_len || !serial || !serial_len || !ret)
		return FLINT_EINVAL;
	if ((r = flint_b64url_encode(keyid, keyid_len, &a)) < 0 ||
	    (r = flint_b64url_encode(serial, serial_len, &b)) < 0)
		goto out;
	r = FLINT_ENOMEM;
	size_t n = strlen(a) + strlen(b) + 2;

	if (!(out = malloc(n)))
		goto out;
	snprintf(out, n, "%s.%s", a, b);
	*ret = out;
	r = 0;
out:
	free(a);
	free(b);
	return r;
}

/* The content octets of the DER INTEGER: i2d gives tag, length, content; the
 * content is what remains after the header, whatever the length form. */
static int serial_content(const ASN1_INTEGER *serial, unsigned char **ret_der,
			  const unsigned char **ret, size_t *ret_len)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	long len = 0;
	int tag, cls, n = i2d_ASN1_INTEGER(serial, &der);

	if (n <= 0)
		return FLINT_ECRYPTO;
	p = der;
	if (ASN1_get_object(&p, &len, &tag, &cls, n) & 0x80 || tag != V_ASN1_INTEGER || len <= 0 ||
	    p + len != der + n) {
		OPENSSL_free(der);
		return FLINT_EINVAL;
	}
	*ret_der = der;
	*ret = p;
	*ret_len = (size_t)len;
	return 0;
}

int flint_ari_cert_id(X509 *cert, char **ret)
{
	const ASN1_OCTET_STRING *kid;
	const unsigned char *content = NULL;
	unsigned char *der = NULL;
	size_t len = 0;
	int r;

	if (!cert || !ret)
		return FLINT_EINVAL;
	kid = X509_get0_authority_key_id(cert);
	if (!kid || ASN1_STRING_length(kid) <= 0)
		return FLINT_EINVAL;
	if ((r = serial_content(X509_get0_serialNumber(cert), &der, &content, &len)) < 0)
		return r;
	r = flint_ari_cert_id_raw(ASN1_STRING_get0_data(kid), (size_t)ASN1_STRING_length(kid),
				  content, len, ret);
	OPENSSL_free(der);
	return r;
}

int flint_ari_cert_id_parse(const char *id, uint8_t **ret_keyid, size_t *ret_keyid_len,
			    uint8_t **ret_serial, size_t *ret_serial_len)
{
	uint8_t *keyid = NULL, *serial = NULL;
	size_t keyid_len = 0, serial_len = 0, dot;
	char *again = NULL;
	int r = FLINT_EINVAL;

	if (!id || !ret_keyid || !ret_keyid_len || !ret_serial || !ret_serial_len)
		return FLINT_EINVAL;
	dot = strcspn(id, ".");
	if (dot == 0 || id[dot] != '.' || id[dot + 1] == '\0' || strchr(id + dot + 1, '.'))
		goto out;
	if (flint_b64url_decode(id, dot, &keyid, &keyid_len) < 0 ||
	    flint_b64url_decode(id + dot + 1, strlen(id + dot + 1), &serial, &serial_len) < 0)
		goto out;
	if (keyid_len == 0 || keyid_len > FLINT_ARI_KEYID_MAX || serial_len == 0 ||
	    serial_len > FLINT_ARI_SERIAL_MAX)
		goto out;
	/* positive and minimal: no sign bit; a leading 0x00 only before a high bit */
	if ((serial[0] & 0x80) || (serial_len > 1 && serial[0] == 0 && !(serial[1] & 0x80)) ||
	    (serial_len == 1 && serial[0] == 0))
		goto out;
	/* canonical text only: the encoding of what was decoded is the input */
	if (flint_ari_cert_id_raw(keyid, keyid_len, serial, serial_len, &again) < 0 ||
	    strcmp(again, id) != 0)
		goto out;
	*ret_keyid = keyid;
	*ret_keyid_len = keyid_len;
	*ret_serial = serial;
	*ret_serial_len = serial_len;
	keyid = serial = NULL;
	r = 0;
out:
	free(again);
	free(keyid);
	free(serial);
	return r;
}

int flint_ari_serial_hex(const uint8_t *serial, size_t len, char **ret)
{
	static const char digits[] = "0123456789abcdef";
	char *hex, *p;

	if (!serial || !ret)
		return FLINT_EINVAL;
	while (len > 1 && serial[0] == 0) {
		serial++;
		len--;
	}
	if (len == 0)
		return FLINT_EINVAL;
	if (!(hex = malloc(2 * len + 1)))
		return FLINT_ENOMEM;
	p = hex;
	for (size_t i = 0; i < len; i++) {
		*p++ = digits[serial[i] >> 4];
		*p++ = digits[serial[i] & 15];
	}
	*p = '\0';
	*ret = hex;
	return 0;
}
