/* Unit tests for dnsaccount.c: RFC 4648 §10 base32 vectors (lowercase, unpadded),
 * the draft-ietf-acme-dns-account-label example, wildcards, and hostile inputs. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dnsaccount.h"
#include "error.h"

static void test_base32_rfc4648(void)
{
	static const struct {
		const char *in, *out;
	} v[] = {
	    {"", ""},
	    {"f", "my"},
	    {"fo", "mzxq"},
	    {"foo", "mzxw6"},
	    {"foob", "mzxw6yq"},
	    {"fooba", "mzxw6ytb"},
	    {"foobar", "mzxw6ytboi"},
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char *s = NULL;

		CHECK_INT(flint_base32_encode((const unsigned char *)v[i].in, strlen(v[i].in), &s),
			  0);
		CHECK_STR(s, v[i].out);
		free(s);
	}
}

static void test_base32_bits(void)
{
	const unsigned char ones[5] = {0xff, 0xff, 0xff, 0xff, 0xff},
			    seq[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
	char *s = NULL;

	CHECK_INT(flint_base32_encode(ones, sizeof(ones), &s), 0);
	CHECK_STR(s, "77777777");
	free(s);
	s = NULL;
	CHECK_INT(flint_base32_encode(seq, sizeof(seq), &s), 0);
	CHECK_STR(s, "aaaqeayeaudaocaj");
	free(s);
	s = NULL;
	CHECK_INT(flint_base32_encode(NULL, 0, &s), 0);
	CHECK_STR(s, "");
	free(s);
	s = NULL;
	CHECK_INT(flint_base32_encode(NULL, 1, &s), FLINT_EINVAL);
	CHECK(s == NULL);
	CHECK_INT(flint_base32_encode(ones, 1, NULL), FLINT_EINVAL);
}

static void test_label(void)
{
	char l[FLINT_DNSACCOUNT_LABEL_LEN + 1];

	/* the draft's example account */
	CHECK_INT(flint_dnsaccount_label("https://example.com/acme/acct/ExampleAccount", l), 0);
	CHECK_STR(l, "_ujmmovf2vn55tgye");
	/* computed independently (python3 hashlib + base64.b32encode) */
	CHECK_INT(flint_dnsaccount_label("https://127.0.0.1:14000/acme/acct/1", l), 0);
	CHECK_STR(l, "_yig3uqnfz3vz5kxh");
	/* the URL is hashed as is: one byte more is another account */
	CHECK_INT(flint_dnsaccount_label("https://example.com/acme/acct/ExampleAccount/", l), 0);
	CHECK(strcmp(l, "_ujmmovf2vn55tgye") != 0);
	CHECK_INT(flint_dnsaccount_label(NULL, l), FLINT_EINVAL);
	CHECK_INT(flint_dnsaccount_label("", l), FLINT_EINVAL);
	CHECK_INT(flint_dnsaccount_label("https://x/", NULL), FLINT_EINVAL);
}

static void test_name(void)
{
	static const char url[] = "https://example.com/acme/acct/ExampleAccount";
	static const struct {
		const char *domain, *want;
	} v[] = {
	    {"www.example.org", "_ujmmovf2vn55tgye._acme-challenge.www.example.org"},
	    /* a wildcard's label sits under its base domain */
	    {"*.example.org", "_ujmmovf2vn55tgye._acme-challenge.example.org"},
	    {"www.example.org.", "_ujmmovf2vn55tgye._acme-challenge.www.example.org"},
	    {"org", "_ujmmovf2vn55tgye._acme-challenge.org"},
	    {"Mixed-Case.Example_1.ORG",
	     "_ujmmovf2vn55tgye._acme-challenge.Mixed-Case.Example_1.ORG"},
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char *s = NULL;

		CHECK_INT(flint_dnsaccount_name(url, v[i].domain, &s), 0);
		CHECK_STR(s, v[i].want);
		free(s);
	}
}

static void test_name_hostile(void)
{
	static const char url[] = "https://example.com/acme/acct/ExampleAccount";
	static const struct {
		const char *domain;
		int err;
	} bad[] = {
	    {"", FLINT_EINVAL},
	    {".", FLINT_EINVAL},
	    {"*.", FLINT_EINVAL},
	    {"a..b", FLINT_EINVAL},
	    {".a", FLINT_EINVAL},
	    {"a.b..", FLINT_EINVAL},
	    {"a b.example", FLINT_EINVAL},
	    {"a/b.example", FLINT_EINVAL},
	    {"a\n.example", FLINT_EINVAL},
	    {"x.*.example", FLINT_EINVAL},
	    {"*", FLINT_EINVAL},
	    {"caf\xc3\xa9.example", FLINT_EINVAL},
	    {"a\"b.example", FLINT_EINVAL},
	};
	char label63[64], label64[65], dom[512], *s = (char *)"untouched";

	CHECK_INT(flint_dnsaccount_name(NULL, "example.org", &s), FLINT_EINVAL);
	CHECK_INT(flint_dnsaccount_name("", "example.org", &s), FLINT_EINVAL);
	CHECK_INT(flint_dnsaccount_name(url, NULL, &s), FLINT_EINVAL);
	CHECK_INT(flint_dnsaccount_name(url, "example.org", NULL), FLINT_EINVAL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = flint_dnsaccount_name(url, bad[i].domain, &s);

		CHECK_INT(r, bad[i].err);
		if (r != bad[i].err)
			fprintf(stderr, "  domain: \"%s\"\n", bad[i].domain);
	}
	CHECK_STR(s, "untouched");

	/* labels: 63 octets is the limit */
	memset(label63, 'a', 63);
	label63[63] = '\0';
	memset(label64, 'a', 64);
	label64[64] = '\0';
	snprintf(dom, sizeof(dom), "%s.example", label63);
	s = NULL;
	CHECK_INT(flint_dnsaccount_name(url, dom, &s), 0);
	CHECK(s && strlen(s) == 17 + 17 + strlen(dom));
	free(s);
	s = (char *)"untouched";
	snprintf(dom, sizeof(dom), "%s.example", label64);
	CHECK_INT(flint_dnsaccount_name(url, dom, &s), FLINT_ETOOBIG);
	CHECK_STR(s, "untouched");

	/* the whole name: 253 octets; the two prefix labels take 34 of them */
	{
		size_t n = 0;

		/* 3 labels of 63 + dots = 191; then fill up to 219 */
		n += (size_t)snprintf(dom, sizeof(dom), "%s.%s.%s.", label63, label63, label63);
		memset(dom + n, 'b', 219 - n);
		dom[219] = '\0';
		s = NULL;
		CHECK_INT(flint_dnsaccount_name(url, dom, &s), 0);
		CHECK(s && strlen(s) == FLINT_DNS_NAME_MAX);
		free(s);
		dom[219] = 'b';
		dom[220] = '\0';
		s = (char *)"untouched";
		CHECK_INT(flint_dnsaccount_name(url, dom, &s), FLINT_ETOOBIG);
		CHECK_STR(s, "untouched");
		/* a trailing dot does not count */
		dom[219] = '.';
		s = NULL;
		CHECK_INT(flint_dnsaccount_name(url, dom, &s), 0);
		CHECK(s && strlen(s) == FLINT_DNS_NAME_MAX);
		free(s);
	}
	/* a huge domain */
	{
		size_t big = 1 << 20;
		char *huge = malloc(big + 1);

		CHECK(huge != NULL);
		if (huge) {
			for (size_t i = 0; i < big; i++)
				huge[i] = (i % 32 == 31) ? '.' : 'x';
			huge[big] = '\0';
			s = (char *)"untouched";
			CHECK_INT(flint_dnsaccount_name(url, huge, &s), FLINT_ETOOBIG);
			CHECK_STR(s, "untouched");
			free(huge);
		}
	}
}

int main(void)
{
	RUN(test_base32_rfc4648);
	RUN(test_base32_bits);
	RUN(test_label);
	RUN(test_name);
	RUN(test_name_hostile);
	return CHECK_DONE();
}
