/* ACME identifiers (RFC 8555 §7.1.4) with a table of types; dns names are
 * normalised per RFC 1035 LDH rules and IDNA A-labels (RFC 5890, RFC 3492). */
#include "identifier.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

static const struct flint_identifier_type identifier_types[] = {
	{"dns", flint_dns_name_normalize},
	{"ip", flint_ip_normalize}, /* RFC 8738 */
};

const struct flint_identifier_type *flint_identifier_type_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < sizeof(identifier_types) / sizeof(identifier_types[0]); i++)
		if (strcmp(identifier_types[i].name, name) == 0)
			return &identifier_types[i];
	return NULL;
}

/* RFC 3492 §6.2 decoding, used only to tell whether an A-label is valid:
 * returns true when in[0..len) decodes and contains a non-ASCII code point. */
static bool punycode_valid(const char *in, size_t len)
{
	enum { BASE = 36, TMIN = 1, TMAX = 26, SKEW = 38, DAMP = 700, INIT_BIAS = 72,
	       INIT_N = 128, MAX_OUT = 64 };
	uint32_t out[MAX_OUT];
	size_t b = 0, nout, inpos;
	uint32_t n = INIT_N, i = 0, bias = INIT_BIAS;
	bool non_ascii = false;

	for (size_t j = 0; j < len; j++)
		if (in[j] == '-')
			b = j;
	/* b is the position of the last delimiter, or 0 when there is none. */
	if (b > MAX_OUT)
		return false;
	for (nout = 0; nout < b; nout++)
		out[nout] = (unsigned char)in[nout];
	inpos = b > 0 ? b + 1 : 0;
	if (inpos >= len)
		return false; /* nothing encoded: the label would be pure ASCII */
	while (inpos < len) {
		uint32_t oldi = i, w = 1;
		for (uint32_t k = BASE;; k += BASE) {
			uint32_t digit, t;
			char c;

			if (inpos >= len)
				return false;
			c = in[inpos++];
			if (c >= '0' && c <= '9')
				digit = (uint32_t)(c - '0' + 26);
			else if (c >= 'a' && c <= 'z')
				digit = (uint32_t)(c - 'a');
			else if (c >= 'A' && c <= 'Z')
				digit = (uint32_t)(c - 'A');
			else
				return false;
			if (digit > (UINT32_MAX - i) / w)
				return false;
			i += digit * w;
			t = k <= bias ? TMIN : k >= bias + TMAX ? TMAX : k - bias;
			if (digit < t)
				break;
			if (w > UINT32_MAX / (BASE - t))
				return false;
			w *= BASE - t;
		}
		/* adapt(i - oldi, nout + 1, oldi == 0) */
		{
			uint32_t delta = oldi == 0 ? (i - oldi) / DAMP : (i - oldi) / 2, k = 0;
			delta += delta / (uint32_t)(nout + 1);
			while (delta > ((BASE - TMIN) * TMAX) / 2) {
				delta /= BASE - TMIN;
				k += BASE;
			}
			bias = k + (BASE - TMIN + 1) * delta / (delta + SKEW);
		}
		if (i / (uint32_t)(nout + 1) > UINT32_MAX - n)
			return false;
		n += i / (uint32_t)(nout + 1);
		i %= (uint32_t)(nout + 1);
		if (n > 0x10FFFF || (n >= 0xD800 && n <= 0xDFFF) || n < 0x80)
			return false;
		if (nout >= MAX_OUT)
			return false;
		memmove(&out[i + 1], &out[i], (nout - i) * sizeof(out[0]));
		out[i++] = n;
		nout++;
		non_ascii = true;
	}
	return non_ascii;
}

static void set_problem(struct flint_problem **ret_problem, enum flint_problem_type type,
			const char *what, const char *why)
{
	if (!ret_problem)
		return;
	*ret_problem = flint_problem_new(type, "%s: %s", what, why);
}

static bool is_ldh(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

int flint_dns_name_normalize(const char *in, char **ret, struct flint_problem **ret_problem)
{
	const char *why = NULL;
	char *name = NULL, *base;
	size_t len, nlabels = 0;
	bool all_digits = true;
	int r = FLINT_EINVAL;

	if (!in || !ret) {
		if (ret_problem)
			*ret_problem = flint_problem_new(FLINT_PROB_MALFORMED,
							 "identifier value missing");
		return FLINT_EINVAL;
	}
	len = strlen(in);
	if (len == 0) {
		why = "empty name";
		goto out;
	}
	if (flint_is_ip_address(in)) {
		why = "an IP address is not a DNS name (send it as an \"ip\" identifier, RFC 8738)";
		goto out;
	}
	if (len > FLINT_DNS_NAME_MAX) {
		why = "name longer than 253 octets";
		goto out;
	}
	name = malloc(len + 1);
	if (!name) {
		r = FLINT_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i <= len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c >= 0x80) {
			why = "non-ASCII characters (send IDNA A-labels)";
			goto out;
		}
		name[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
	base = name;
	if (strncmp(name, "*.", 2) == 0)
		base = name + 2;
	if (name[len - 1] == '.') {
		why = "trailing dot";
		goto out;
	}
	for (char *label = base; label;) {
		char *dot = strchr(label, '.');
		size_t ll = dot ? (size_t)(dot - label) : strlen(label);

		nlabels++;
		if (ll == 0) {
			why = "empty label";
			goto out;
		}
		if (ll > FLINT_DNS_LABEL_MAX) {
			why = "label longer than 63 octets";
			goto out;
		}
		all_digits = true;
		for (size_t i = 0; i < ll; i++) {
			if (label[i] == '*') {
				why = "wildcard only allowed as the whole leftmost label";
				goto out;
			}
			if (!is_ldh(label[i])) {
				why = "invalid character (letters, digits and hyphens only)";
				goto out;
			}
			if (label[i] < '0' || label[i] > '9')
				all_digits = false;
		}
		if (label[0] == '-' || label[ll - 1] == '-') {
			why = "label starts or ends with a hyphen";
			goto out;
		}
		if (ll >= 4 && label[2] == '-' && label[3] == '-') {
			if (strncmp(label, "xn", 2) != 0) {
				why = "reserved label (hyphens in positions 3 and 4)";
				goto out;
			}
			if (!punycode_valid(label + 4, ll - 4)) {
				why = "invalid punycode A-label";
				goto out;
			}
		}
		label = dot ? dot + 1 : NULL;
	}
	if (nlabels < 2) {
		why = "name needs at least two labels";
		goto out;
	}
	if (all_digits) {
		why = "name looks like an IP address (numeric top-level label)";
		goto out;
	}
	*ret = name;
	name = NULL;
	r = 0;
out:
	if (r == FLINT_EINVAL && why)
		set_problem(ret_problem, FLINT_PROB_REJECTED_IDENTIFIER, "invalid DNS name", why);
	free(name);
	return r;
}

bool flint_is_ip_address(const char *s)
{
	unsigned char buf[16];

	return s && (inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1);
}

int flint_ip_reverse_name(const char *ip, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char a[16];
	char *p = out;

	if (!ip || !out || cap < FLINT_IP_REVERSE_NAME_MAX)
		return FLINT_EINVAL;
	if (inet_pton(AF_INET, ip, a) == 1) {
		snprintf(out, cap, "%u.%u.%u.%u.in-addr.arpa", a[3], a[2], a[1], a[0]);
		return 0;
	}
	if (inet_pton(AF_INET6, ip, a) != 1)
		return FLINT_EINVAL;
	for (int i = 15; i >= 0; i--) {
		*p++ = hex[a[i] & 0xf];
		*p++ = '.';
		*p++ = hex[a[i] >> 4];
		*p++ = '.';
	}
	memcpy(p, "ip6.arpa", sizeof("ip6.arpa"));
	return 0;
}

/* RFC 5952 §4 text of a 16-octet address into out (at least 40 bytes). */
static void ipv6_canonical(const unsigned char a[16], char *out)
{
	unsigned g[8];
	int best = -1, best_len = 0;

	for (int i = 0; i < 8; i++)
		g[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
	for (int i = 0; i < 8;) {
		int j = i;

		while (j < 8 && g[j] == 0)
			j++;
		if (j - i > best_len && j - i >= 2) { /* §4.2.2: one zero group is not shortened */
			best = i;
			best_len = j - i;
		}
		i = j > i ? j : i + 1;
	}
	*out = 0;
	for (int i = 0; i < 8; i++) {
		if (i == best) {
			out += sprintf(out, "::");
			i += best_len - 1;
			continue;
		}
		out += sprintf(out, "%s%x", i > 0 && i != best + best_len ? ":" : "", g[i]);
	}
}

int flint_ip_normalize(const char *in, char **ret, struct flint_problem **ret_problem)
{
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const unsigned char zero[12] = {0};
	unsigned char a[16];
	char text[64];

	if (!in || !ret)
		return FLINT_EINVAL;
	if (inet_pton(AF_INET, in, a) == 1) {
		if (!inet_ntop(AF_INET, a, text, sizeof(text)))
			return FLINT_EINVAL;
	} else if (strlen(in) < sizeof(text) && inet_pton(AF_INET6, in, a) == 1) {
		if (memcmp(a, mapped, 12) == 0) {
			if (ret_problem)
				*ret_problem = flint_problem_new(
				    FLINT_PROB_REJECTED_IDENTIFIER,
				    "%s is an IPv4-mapped IPv6 address: use the IPv4 address "
				    "%u.%u.%u.%u",
				    in, a[12], a[13], a[14], a[15]);
			return FLINT_EINVAL;
		}
		if (memcmp(a, zero, 12) == 0 && (a[12] || a[13])) {
			if (ret_problem)
				*ret_problem = flint_problem_new(
				    FLINT_PROB_REJECTED_IDENTIFIER,
				    "%s is an IPv4-compatible IPv6 address (deprecated, RFC 4291 "
				    "§2.5.5.1): use the IPv4 address",
				    in);
			return FLINT_EINVAL;
		}
		ipv6_canonical(a, text);
	} else {
		if (ret_problem)
			*ret_problem = flint_problem_new(FLINT_PROB_MALFORMED,
							 "%s is not an IPv4 or IPv6 address", in);
		return FLINT_EINVAL;
	}
	if (!(*ret = strdup(text)))
		return FLINT_ENOMEM;
	return 0;
}

int flint_identifier_from_json(const json_t *obj, struct flint_identifier *ret,
			       struct flint_problem **ret_problem)
{
	const struct flint_identifier_type *t;
	const char *type, *value;
	char *norm = NULL, *tcopy = NULL;
	int r;

	if (!ret)
		return FLINT_EINVAL;
	if (!json_is_object(obj)) {
		if (ret_problem)
			*ret_problem = flint_problem_new(FLINT_PROB_MALFORMED,
							 "identifier is not an object");
		return FLINT_EINVAL;
	}
	type = json_string_value(json_object_get(obj, "type"));
	value = json_string_value(json_object_get(obj, "value"));
	if (!type || !value) {
		if (ret_problem)
			*ret_problem = flint_problem_new(
				FLINT_PROB_MALFORMED, "identifier needs string \"type\" and \"value\"");
		return FLINT_EINVAL;
	}
	t = flint_identifier_type_find(type);
	if (!t) {
		if (ret_problem)
			*ret_problem = flint_problem_new(FLINT_PROB_UNSUPPORTED_IDENTIFIER,
							 "identifier type \"%s\" is not supported",
							 type);
		return FLINT_EUNSUPPORTED;
	}
	/* An embedded NUL would make the checked name differ from the sent one. */
	if (strlen(value) != json_string_length(json_object_get(obj, "value"))) {
		if (ret_problem)
			*ret_problem = flint_problem_new(FLINT_PROB_REJECTED_IDENTIFIER,
							 "identifier value contains NUL");
		return FLINT_EINVAL;
	}
	r = t->normalize(value, &norm, ret_problem);
	if (r < 0)
		return r;
	tcopy = strdup(t->name);
	if (!tcopy) {
		free(norm);
		return FLINT_ENOMEM;
	}
	ret->type = tcopy;
	ret->value = norm;
	return 0;
}

json_t *flint_identifier_to_json(const struct flint_identifier *id)
{
	if (!id || !id->type || !id->value)
		return NULL;
	return json_pack("{s:s, s:s}", "type", id->type, "value", id->value);
}

bool flint_identifier_is_wildcard(const struct flint_identifier *id)
{
	return id && id->value && strncmp(id->value, "*.", 2) == 0;
}

const char *flint_identifier_authz_value(const struct flint_identifier *id)
{
	return flint_identifier_is_wildcard(id) ? id->value + 2 : id->value;
}

void flint_identifier_clear(struct flint_identifier *id)
{
	if (!id)
		return;
	free(id->type);
	free(id->value);
	id->type = NULL;
	id->value = NULL;
}
