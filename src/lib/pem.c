/* Memory BIOs to strings, and private keys to PKCS#8 PEM (pem.h). */
#include "pem.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

int flint_bio_string(BIO *b, char **ret, size_t *ret_len)
{
	char *data;
	long n = BIO_get_mem_data(b, &data);
	char *s;

	if (n < 0)
		return FLINT_ECRYPTO;
	s = malloc((size_t)n + 1);
	if (!s)
		return FLINT_ENOMEM;
	if (n > 0)
		memcpy(s, data, (size_t)n);
	s[n] = '\0';
	*ret = s;
	if (ret_len)
		*ret_len = (size_t)n;
	return 0;
}

int flint_key_to_pem(EVP_PKEY *key, char **ret, size_t *ret_len)
{
	BIO *b = BIO_new(BIO_s_secmem());
	int r = FLINT_ECRYPTO;

	if (!b)
		return FLINT_ENOMEM;
	if (PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) != 1 || BIO_pending(b) <= 0)
		goto out;
	r = flint_bio_string(b, ret, ret_len);
out:
	ERR_clear_error();
	BIO_free(b); /* a secmem BIO cleanses */
	return r;
}
