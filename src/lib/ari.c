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
