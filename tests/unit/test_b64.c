/* Unit tests for b64.c: RFC 4648 §10 vectors in the url alphabet, strict
 * decoding (RFC 8555 §6.1 forbids padding), random strings. */
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "check.h"
#include "error.h"

static void test_rfc4648_vectors(void)
{
	static const struct {
		const char *plain, *enc;
	} v[] = {
		{"", ""}, {"f", "Zg"}, {"fo", "Zm8"}, {"foo", "Zm9v"},
		{"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"},
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char *enc = NULL;
		uint8_t *dec = NULL;
		size_t n = 99;

		CHECK_INT(flint_b64url_encode((const uint8_t *)v[i].plain, strlen(v[i].plain), &enc), 0);
		CHECK_STR(enc, v[i].enc);
		CHECK_INT(flint_b64url_decode(v[i].enc, strlen(v[i].enc), &dec, &n), 0);
		CHECK_INT(n, strlen(v[i].plain));
		CHECK(dec && memcmp(dec, v[i].plain, n) == 0 && dec[n] == '\0');
		free(enc);
		free(dec);
	}
}

static void test_url_alphabet(void)
{
	static const uint8_t bytes[] = {0xfb, 0xff, 0xbf};
	char *enc = NULL;
	uint8_t *dec = NULL;
	size_t n = 0;

	CHECK_INT(flint_b64url_encode(bytes, sizeof(bytes), &enc), 0);
	CHECK_STR(enc, "-_-_");
	CHECK_INT(flint_b64url_decode("-_-_", 4, &dec, &n), 0);
	CHECK(n == 3 && memcmp(dec, bytes, 3) == 0);
	free(enc);
	free(dec);
}

static void test_rejects(void)
{
	static const char *bad[] = {
		"Zg==",     /* padding */
		"Zm8=",     /* padding */
		"Zm9v Yg",  /* whitespace */
		"Zm9v\nYg", /* newline */
		"Zm9v+g",   /* standard alphabet */
		"Zm9v/g",   /* standard alphabet */
		"Z",        /* length 1 mod 4 */
		"Zm9vY",    /* length 1 mod 4 */
		"Zh",       /* non-zero trailing bits */
		"Zm9",      /* non-zero trailing bits */
		"Zm\x80v",  /* non-ASCII */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t *dec = (uint8_t *)0x1;
		size_t n = 77;

		CHECK_INT(flint_b64url_decode(bad[i], strlen(bad[i]), &dec, &n), FLINT_EINVAL);
		CHECK(dec == (uint8_t *)0x1 && n == 77); /* untouched on failure */
	}
	/* An embedded NUL inside the counted length is not base64url. */
	{
		uint8_t *dec = NULL;
		size_t n = 0;
		CHECK_INT(flint_b64url_decode("Zm\0v", 4, &dec, &n), FLINT_EINVAL);
	}
}

static void test_random(void)
{
	char *a = NULL, *b = NULL;

	CHECK_INT(flint_random_b64url(32, &a), 0);
	CHECK_INT(flint_random_b64url(32, &b), 0);
	CHECK(a && strlen(a) == 43);
	CHECK(a && b && strcmp(a, b) != 0);
	CHECK(a && strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == 43);
	CHECK_INT(flint_random_b64url(0, &a), FLINT_EINVAL);
	free(a);
	free(b);
}

static void test_roundtrip_all_bytes(void)
{
	uint8_t buf[256];
	for (int i = 0; i < 256; i++)
		buf[i] = (uint8_t)i;
	for (size_t len = 0; len <= sizeof(buf); len += 37) {
		char *enc = NULL;
		uint8_t *dec = NULL;
		size_t n = 0;
		CHECK_INT(flint_b64url_encode(buf, len, &enc), 0);
		CHECK_INT(flint_b64url_decode(enc, strlen(enc), &dec, &n), 0);
		CHECK(n == len && memcmp(dec, buf, len) == 0);
		free(enc);
		free(dec);
	}
}

/* The decoder against the definition, character by character (RFC 4648
 * §5, no padding, zero leftover bits): every byte in every position of
 * strings up to 3 characters, and random strings of the alphabet with a
 * stray byte now and then, up to 67 characters. Same verdict, same bytes. */
static int reference_decode(const char *in, size_t len, uint8_t *out, size_t *ret_len)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;

	if (len % 4 == 1)
		return -1;
	for (size_t i = 0; i < len; i++) {
		const char *p = in[i] ? memchr(alphabet, in[i], 64) : NULL;
		if (!p)
			return -1;
		acc = (acc << 6 | (uint32_t)(p - alphabet)) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	if (bits && (acc & ((1u << bits) - 1)))
		return -1;
	*ret_len = o;
	return 0;
}

static void agree(const char *in, size_t len, int *mismatches)
{
	uint8_t want[64], *got = NULL;
	size_t want_len = 0, got_len = 0;
	int w = reference_decode(in, len, want, &want_len);
	int g = flint_b64url_decode(in, len, &got, &got_len);

	if ((w == 0) != (g == 0) || (w == 0 && (got_len != want_len || memcmp(got, want, want_len))))
		(*mismatches)++;
	free(got);
}

static void test_against_definition(void)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char s[68];
	int mismatches = 0;
	unsigned seed = 12345;

	for (int len = 1; len <= 3; len++)
		for (int pos = 0; pos < len; pos++)
			for (int byte = 0; byte < 256; byte++)
				for (int fill = 0; fill < 64; fill += 7) {
					memset(s, alphabet[fill], sizeof(s));
					s[pos] = (char)byte;
					agree(s, (size_t)len, &mismatches);
				}
	for (int n = 0; n < 200000; n++) {
		size_t len = (size_t)(n % 68);
		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			s[i] = (seed >> 16) % 97 == 0 ? (char)(seed >> 8) : alphabet[(seed >> 16) & 63];
		}
		agree(s, len, &mismatches);
	}
	CHECK_INT(mismatches, 0);
}

int main(void)
{
	RUN(test_rfc4648_vectors);
	RUN(test_url_alphabet);
	RUN(test_rejects);
	RUN(test_random);
	RUN(test_roundtrip_all_bytes);
	RUN(test_against_definition);
	return CHECK_DONE();
}
