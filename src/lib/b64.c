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

/* Each alphabet character's value plus one; 0 for every other byte. */
static const uint8_t b64url_value1[256] = {
	['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6, ['G'] = 7,
	['H'] = 8, ['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14,
	['O'] = 15, ['P'] = 16, ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21,
	['V'] = 22, ['W'] = 23, ['X'] = 24, ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28,
	['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35,
	['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42,
	['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48, ['w'] = 49,
	['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56,
	['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['-'] = 63,
	['_'] = 64
};

int flint_b64url_decode(const char *in, size_t len, uint8_t **ret, size_t *ret_len)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t i, o = 0, rem;
	uint32_t a, b, c, d;
	uint8_t *out;

	if (!ret || !ret_len || (!in && len))
		return FLINT_EINVAL;
	rem = len % 4;
	if (rem == 1)
		return FLINT_EINVAL;
	out = malloc(len / 4 * 3 + (rem ? rem - 1 : 0) + 1);
	if (!out)
		return FLINT_ENOMEM;
	/* four characters, three bytes at a time */
	for (i = 0; i + 4 <= len; i += 4) {
		a = b64url_value1[s[i]], b = b64url_value1[s[i + 1]];
		c = b64url_value1[s[i + 2]], d = b64url_value1[s[i + 3]];
		if (!a || !b || !c || !d)
			goto bad;
		uint32_t v = (a - 1) << 18 | (b - 1) << 12 | (c - 1) << 6 | (d - 1);
		out[o++] = (uint8_t)(v >> 16);
		out[o++] = (uint8_t)(v >> 8);
		out[o++] = (uint8_t)v;
	}
	/* The tail's leftover bits must be zero so every byte string has one
	 * encoding: 4 of the second of two characters, 2 of the third of three. */
	if (rem) {
		a = b64url_value1[s[i]], b = b64url_value1[s[i + 1]];
		c = rem == 3 ? b64url_value1[s[i + 2]] : 1;
		if (!a || !b || !c)
			goto bad;
		uint32_t v = (a - 1) << 18 | (b - 1) << 12 | (c - 1) << 6;
		if (rem == 2 ? (v & 0xffff) : (v & 0xff))
			goto bad;
		out[o++] = (uint8_t)(v >> 16);
		if (rem == 3)
			out[o++] = (uint8_t)(v >> 8);
	}
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
