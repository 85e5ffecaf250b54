/* Strict base64url without padding (RFC 4648 §5) as RFC 8555 §6.1 requires,
 * and CSPRNG-backed random base64url strings for IDs, nonces and tokens. */
#include "b64.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "random.h"

static const char b64url_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int flint_b64url_encode(const uint8_t *in, size_t len, char **ret)
{
	size_t olen, i, o = 0;
	char *out;

	if (!ret || (!in && len))
		return FLINT_EINVAL;
	if (len > (SIZE_MAX - 4) / 4 * 3)
		return FLINT_ETOOBIG;
	olen = len / 3 * 4 + (len % 3 ? len % 3 + 1 : 0);
	out = malloc(olen + 1);
	if (!out)
		return FLINT_ENOMEM;
	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64url_alphabet[v >> 18 & 63];
		out[o++] = b64url_alphabet[v >> 12 & 63];
		out[o++] = b64url_alphabet[v >> 6 & 63];
		out[o++] = b64url_alphabet[v & 63];
	}
	if (len - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		out[o++] = b64url_alphabet[v >> 18 & 63];
		out[o++] = b64url_alphabet[v >> 12 & 63];
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = b64url_alphabet[v >> 18 & 63];
		out[o++] = b64url_alphabet[v >> 12 & 63];
		out[o++] = b64url_alphabet[v >> 6 & 63];
	}
	out[o] = '\0';
	*ret = out;
	return 0;
}

static int b64url_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

int flint_b64url_decode(const char *in, size_t len, uint8_t **ret, size_t *ret_len)
{
	size_t i, o = 0, rem;
	uint32_t acc = 0;
	int bits = 0;
	uint8_t *out;

	if (!ret || !ret_len || (!in && len))
		return FLINT_EINVAL;
	rem = len % 4;
	if (rem == 1)
		return FLINT_EINVAL;
	out = malloc(len / 4 * 3 + (rem ? rem - 1 : 0) + 1);
	if (!out)
		return FLINT_ENOMEM;
	for (i = 0; i < len; i++) {
		int v = b64url_value((unsigned char)in[i]);
		if (v < 0)
			goto bad;
		acc = (acc << 6 | (uint32_t)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	/* Leftover bits must be zero so every byte string has one encoding. */
	if (bits && (acc & ((1u << bits) - 1)))
		goto bad;
	out[o] = '\0';
	*ret = out;
	*ret_len = o;
	return 0;
bad:
	free(out);
	return FLINT_EINVAL;
}

int flint_random_b64url(size_t nbytes, char **ret)
{
	uint8_t buf[256];
	int r;

	if (!ret || nbytes == 0 || nbytes > sizeof(buf))
		return FLINT_EINVAL;
	if ((r = flint_random_fill(buf, nbytes)) < 0)
		return r;
	r = flint_b64url_encode(buf, nbytes, ret);
	OPENSSL_cleanse(buf, sizeof(buf));
	return r;
}
