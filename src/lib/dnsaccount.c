/* The dns-account-01 validation name (draft-ietf-acme-dns-account-label-02 §3)
 * and the RFC 4648 §6 base32 encoding its account label uses. */
#include "dnsaccount.h"

#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "error.h"

#define LABEL_HASH_BYTES 10 /* SHA-256(account URL)[0:10]: 80 bits, 16 base32 characters */

int flint_base32_encode(const unsigned char *in, size_t len, char **ret)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
	unsigned int acc = 0;
	int bits = 0;
	size_t o = 0;
	char *s;

	if ((!in && len) || !ret)
		return FLINT_EINVAL;
	if (len > (SIZE_MAX - 1) / 8)
		return FLINT_ETOOBIG;
	s = malloc((len * 8 + 4) / 5 + 1);
	if (!s)
		return FLINT_ENOMEM;
	for (size_t i = 0; i < len; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			s[o++] = alphabet[(acc >> bits) & 31];
		}
		acc &= (1u << bits) - 1; /* keep only the bits not yet written */
	}
	if (bits > 0) /* the last group, zero-filled on the right (§6) */
		s[o++] = alphabet[(acc << (5 - bits)) & 31];
	s[o] = '\0';
	*ret = s;
	return 0;
}

int flint_dnsaccount_label(const char *account_url, char out[FLINT_DNSACCOUNT_LABEL_LEN + 1])
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	char *b32 = NULL;
	int r;

	if (!account_url || !*account_url || !out)
		return FLINT_EINVAL;
	r = EVP_Digest(account_url, strlen(account_url), d, &n, flint_md(FLINT_MD_SHA256), NULL);
	if (r != 1 || n != 32)
		return FLINT_ECRYPTO;
	r = flint_base32_encode(d, LABEL_HASH_BYTES, &b32);
	if (r < 0)
		return r;
	out[0] = '_';
	memcpy(out + 1, b32, FLINT_DNSACCOUNT_LABEL_LEN - 1);
	out[FLINT_DNSACCOUNT_LABEL_LEN] = '\0';
	free(b32);
	return 0;
}

/* Checks the labels of d[0..n): non-empty, at most 63 octets, LDH or "_". */
static int check_domain(const char *d, size_t n)
{
	size_t label = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)d[i];

		if (c == '.') {
			if (label == 0)
				return FLINT_EINVAL;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return FLINT_EINVAL;
		if (++label > FLINT_DNS_LABEL_MAX)
			return FLINT_ETOOBIG;
	}
	return label == 0 ? FLINT_EINVAL : 0;
}

int flint_dnsaccount_name(const char *account_url, const char *domain, char **ret)
{
	static const char middle[] = "._acme-challenge.";
	char label[FLINT_DNSACCOUNT_LABEL_LEN + 1];
	size_t n;
	char *s;
	int r;

	if (!account_url || !*account_url || !domain || !ret)
		return FLINT_EINVAL;
	if (domain[0] == '*' && domain[1] == '.')
		domain += 2;
	n = strlen(domain);
	if (n > 0 && domain[n - 1] == '.')
		n--;
	if (n == 0)
		return FLINT_EINVAL;
	if ((r = check_domain(domain, n)) < 0)
		return r;
	if (FLINT_DNSACCOUNT_LABEL_LEN + sizeof(middle) - 1 + n > FLINT_DNS_NAME_MAX)
		return FLINT_ETOOBIG;
	if ((r = flint_dnsaccount_label(account_url, label)) < 0)
		return r;
	if (asprintf(&s, "%s%s%.*s", label, middle, (int)n, domain) < 0)
		return FLINT_ENOMEM;
	*ret = s;
	return 0;
}
