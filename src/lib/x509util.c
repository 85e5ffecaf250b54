/* subjectAltName entries, DER encoding and ASN1_TIME conversion shared by
 * csr_build.c, the CA and the client (x509util.h). */
#include "x509util.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"

int flint_general_name_ia5(int type, const char *value, GENERAL_NAME **ret)
{
	GENERAL_NAME *g = GENERAL_NAME_new();
	ASN1_IA5STRING *s = ASN1_IA5STRING_new();

	if (!g || !s || ASN1_STRING_set(s, value, -1) != 1) {
		GENERAL_NAME_free(g);
		ASN1_IA5STRING_free(s);
		return FLINT_ENOMEM;
	}
	GENERAL_NAME_set0_value(g, type, s);
	*ret = g;
	return 0;
}

/* SAN entries, one row per identifier type. */
static int san_dns(const char *value, GENERAL_NAME **ret)
{
	return flint_general_name_ia5(GEN_DNS, value, ret);
}

static int san_ip(const char *value, GENERAL_NAME **ret)
{
	unsigned char buf[16];
	int len;
	GENERAL_NAME *g;
	ASN1_OCTET_STRING *s;

	if (inet_pton(AF_INET, value, buf) == 1)
		len = 4;
	else if (inet_pton(AF_INET6, value, buf) == 1)
		len = 16;
	else
		return FLINT_EINVAL;
	g = GENERAL_NAME_new();
	s = ASN1_OCTET_STRING_new();
	if (!g || !s || ASN1_OCTET_STRING_set(s, buf, len) != 1) {
		GENERAL_NAME_free(g);
		ASN1_OCTET_STRING_free(s);
		return FLINT_ENOMEM;
	}
	GENERAL_NAME_set0_value(g, GEN_IPADD, s);
	*ret = g;
	return 0;
}

static const struct {
	const char *type;
	int (*make)(const char *value, GENERAL_NAME **ret);
} san_types[] = {
    {"dns", san_dns},
    {"ip", san_ip},
};

int flint_general_name_of(const char *type, const char *value, GENERAL_NAME **ret)
{
	if (!type || !value || !value[0])
		return FLINT_EINVAL;
	for (size_t t = 0; t < sizeof(san_types) / sizeof(san_types[0]); t++)
		if (strcmp(san_types[t].type, type) == 0)
			return san_types[t].make(value, ret);
	return FLINT_EUNSUPPORTED;
}

int flint_der_encode(const ASN1_VALUE *v, const ASN1_ITEM *it, unsigned char **ret, size_t *ret_len)
{
	int len = ASN1_item_i2d(v, NULL, it);
	unsigned char *buf, *p;

	if (len <= 0)
		return FLINT_ECRYPTO;
	buf = malloc((size_t)len);
	if (!buf)
		return FLINT_ENOMEM;
	p = buf;
	if (ASN1_item_i2d(v, &p, it) != len) {
		free(buf);
		return FLINT_ECRYPTO;
	}
	*ret = buf;
	*ret_len = (size_t)len;
	return 0;
}

int flint_asn1_time_unix(const ASN1_TIME *t, int64_t *ret)
{
	struct tm tm;

	if (!t)
		return FLINT_EINVAL;
	if (ASN1_TIME_to_tm(t, &tm) != 1)
		return FLINT_ECRYPTO;
	*ret = (int64_t)timegm(&tm);
	return 0;
}
