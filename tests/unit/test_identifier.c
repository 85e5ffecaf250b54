/* Unit tests for identifier.c: dns normalisation (RFC 1035 LDH, RFC 5890
 * A-labels checked by RFC 3492 decoding), RFC 8555 §7.1.4 identifier objects. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "error.h"
#include "identifier.h"

static void test_normalize_ok(void)
{
	static const struct {
		const char *in, *out;
	} v[] = {
		{"example.com", "example.com"},
		{"WWW.Example.COM", "www.example.com"},
		{"*.example.com", "*.example.com"},
		{"*.EXAMPLE.com", "*.example.com"},
		{"a-b.c-d.example", "a-b.c-d.example"},
		{"xn--bcher-kva.example", "xn--bcher-kva.example"},
		{"XN--MNCHEN-3YA.de", "xn--mnchen-3ya.de"},
		{"xn--ls8h.la", "xn--ls8h.la"},
		{"1.2.3.example", "1.2.3.example"},
		{"localhost.localdomain", "localhost.localdomain"},
		{"a.b0", "a.b0"},
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char *out = NULL;
		struct flint_problem *p = NULL;
		CHECK_INT(flint_dns_name_normalize(v[i].in, &out, &p), 0);
		CHECK_STR(out, v[i].out);
		CHECK(p == NULL);
		free(out);
	}
}

static void test_normalize_rejects(void)
{
	char long_label[80], long_name[300];
	static const char *bad[] = {
		"",
		"com",
		"example.com.",
		".example.com",
		"example..com",
		"-example.com",
		"example-.com",
		"exa_mple.com",
		"exa mple.com",
		"ex*ample.com",
		"*example.com",
		"foo.*.example.com",
		"*.*.example.com",
		"*.com",
		"*.",
		("b\xc3\xbc" "cher.example"),   /* U-label: must be sent as A-label */
		"xn--bcher-kv.example",       /* truncated punycode */
		"xn--abc-.example",           /* decodes to pure ASCII */
		"xn--99999999999.example",    /* overflow / incomplete */
		"xn--zzzzzzzz.example",
		"xn---9ya.example",           /* leading delimiter with no basic code points */
		"ab--cd.example",             /* reserved R-LDH label */
		"127.0.0.1",                  /* IP address */
		"10.0.0.256",
		"example.123",
		"[::1]",
		"::1",
		"example.com:443",
		"exa/mple.com",
	};
	memset(long_label, 'a', 64);
	long_label[64] = '\0';
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *out = (char *)0x1;
		struct flint_problem *p = NULL;
		CHECK_INT(flint_dns_name_normalize(bad[i], &out, &p), FLINT_EINVAL);
		CHECK(out == (char *)0x1);
		CHECK(p && p->type == FLINT_PROB_REJECTED_IDENTIFIER);
		if (!p || out != (char *)0x1)
			fprintf(stderr, "  input: %s\n", bad[i]);
		flint_problem_free(p);
	}
	{
		char buf[100];
		char *out = NULL;
		snprintf(buf, sizeof(buf), "%s.example", long_label);
		CHECK_INT(flint_dns_name_normalize(buf, &out, NULL), FLINT_EINVAL);
		long_label[63] = '\0'; /* 63 is fine */
		snprintf(buf, sizeof(buf), "%s.example", long_label);
		CHECK_INT(flint_dns_name_normalize(buf, &out, NULL), 0);
		free(out);
	}
	{
		/* 253 octets accepted, 254 refused. */
		char *out = NULL;
		size_t n = 0;
		while (n + 2 < 253) {
			long_name[n++] = 'a';
			long_name[n++] = '.';
		}
		while (n < 253)
			long_name[n++] = 'b';
		long_name[n] = '\0';
		CHECK_INT(strlen(long_name), 253);
		CHECK_INT(flint_dns_name_normalize(long_name, &out, NULL), 0);
		free(out);
		long_name[253] = 'c';
		long_name[254] = '\0';
		CHECK_INT(flint_dns_name_normalize(long_name, &out, NULL), FLINT_EINVAL);
	}
	CHECK_INT(flint_dns_name_normalize(NULL, NULL, NULL), FLINT_EINVAL);
}

static void test_from_json(void)
{
	struct flint_identifier id = {0};
	struct flint_problem *p = NULL;
	json_t *o;

	o = json_pack("{s:s, s:s, s:i}", "type", "dns", "value", "*.Example.COM", "extra", 1);
	CHECK_INT(flint_identifier_from_json(o, &id, &p), 0);
	CHECK_STR(id.type, "dns");
	CHECK_STR(id.value, "*.example.com");
	CHECK(flint_identifier_is_wildcard(&id));
	CHECK_STR(flint_identifier_authz_value(&id), "example.com");
	json_decref(o);
	o = flint_identifier_to_json(&id);
	CHECK_STR(json_string_value(json_object_get(o, "value")), "*.example.com");
	CHECK_STR(json_string_value(json_object_get(o, "type")), "dns");
	json_decref(o);
	flint_identifier_clear(&id);
	CHECK(id.type == NULL && id.value == NULL);
	flint_identifier_clear(&id);

	/* RFC 8738: ip is a row of the type table (see test_ip_identifiers) */
	o = json_pack("{s:s, s:s}", "type", "email", "value", "a@example.com");
	CHECK_INT(flint_identifier_from_json(o, &id, &p), FLINT_EUNSUPPORTED);
	CHECK(p && p->type == FLINT_PROB_UNSUPPORTED_IDENTIFIER);
	CHECK(id.type == NULL);
	flint_problem_free(p);
	p = NULL;
	json_decref(o);

	o = json_pack("{s:s, s:i}", "type", "dns", "value", 5);
	CHECK_INT(flint_identifier_from_json(o, &id, &p), FLINT_EINVAL);
	CHECK(p && p->type == FLINT_PROB_MALFORMED);
	flint_problem_free(p);
	p = NULL;
	json_decref(o);

	o = json_string("example.com");
	CHECK_INT(flint_identifier_from_json(o, &id, &p), FLINT_EINVAL);
	CHECK(p && p->type == FLINT_PROB_MALFORMED);
	flint_problem_free(p);
	p = NULL;
	json_decref(o);

	o = json_pack("{s:s, s:s}", "type", "dns", "value", "127.0.0.1");
	CHECK_INT(flint_identifier_from_json(o, &id, &p), FLINT_EINVAL);
	CHECK(p && p->type == FLINT_PROB_REJECTED_IDENTIFIER);
	flint_problem_free(p);
	p = NULL;
	json_decref(o);

	o = json_pack("{s:s, s:s%}", "type", "dns", "value", "a.com\0.evil", (size_t)11);
	CHECK_INT(flint_identifier_from_json(o, &id, &p), FLINT_EINVAL);
	CHECK(p && p->type == FLINT_PROB_REJECTED_IDENTIFIER);
	flint_problem_free(p);
	json_decref(o);

	CHECK(flint_identifier_type_find("dns") != NULL);
	CHECK(flint_identifier_type_find("DNS") == NULL);
	CHECK(flint_identifier_type_find(NULL) == NULL);
}

/* RFC 8738 §3 / RFC 5952 §4 canonical text; mapped and compatible forms refused. */
static void test_ip_normalize(void)
{
	static const struct {
		const char *in, *out;
	} ok[] = {
		{"127.0.0.1", "127.0.0.1"},
		{"::1", "::1"},
		{"::0:1", "::1"},
		{"0:0:0:0:0:0:0:1", "::1"},
		{"2001:DB8::1", "2001:db8::1"},
		{"2001:0db8:0000:0000:0000:0000:0002:0001", "2001:db8::2:1"},
		{"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"}, /* one zero group stays */
		{"2001:0:0:1:0:0:0:1", "2001:0:0:1::1"},           /* the longest run */
		{"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},     /* the first of equals */
		{"1:0:0:0:0:0:0:0", "1::"},
		{"::", "::"},
		{"fe80::1:2", "fe80::1:2"},
	};
	static const char *const bad[] = {
		"::ffff:127.0.0.1", "::ffff:7f00:1", "::1.2.3.4", "01.2.3.4", "1.2.3", "256.1.1.1",
		"1::2::3", "example.com", "", "[::1]",
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char *out = NULL;
		struct flint_problem *p = NULL;

		CHECK_INT(flint_ip_normalize(ok[i].in, &out, &p), 0);
		CHECK_STR(out, ok[i].out);
		CHECK(flint_is_ip_address(ok[i].in));
		CHECK(p == NULL);
		free(out);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *out = NULL;
		struct flint_problem *p = NULL;

		CHECK_INT(flint_ip_normalize(bad[i], &out, &p), FLINT_EINVAL);
		CHECK(out == NULL);
		CHECK(p != NULL && p->detail && strstr(p->detail, bad[i]));
		flint_problem_free(p);
	}
	{
		struct flint_problem *p = NULL;
		char *out = NULL;

		flint_ip_normalize("::ffff:10.0.0.1", &out, &p);
		CHECK(p && strstr(p->detail, "IPv4-mapped") && strstr(p->detail, "10.0.0.1"));
		flint_problem_free(p);
	}
	CHECK(!flint_is_ip_address("example.com"));
	CHECK(!flint_is_ip_address(NULL));
}

/* RFC 8738 §3 "ip" identifiers: canonicalised by the type table's row;
 * addresses in "dns" identifiers refused with a pointer to "ip". IPv4 with
 * leading zeros ("010.0.0.1", octal to some parsers) is refused, not
 * normalised, so the CA never guesses which address was meant. */
static void test_ip_identifiers(void)
{
	static const struct {
		const char *in, *out;
	} ok[] = {
		{"::0:1", "::1"},
		{"0:0::1", "::1"},
		{"127.0.0.1", "127.0.0.1"},
		{"2001:DB8:0:0:0:0:0:0A", "2001:db8::a"},
	};
	static const char *const bad_ip[] = {"010.0.0.1", "1.2.3.04", "::ffff:1.2.3.4", "example.com",
					     "1.2.3.4/24", "fe80::1%eth0", "*.1.2.3.4"};
	static const char *const ip_in_dns[] = {"127.0.0.1", "::1", "2001:db8::1", "::ffff:1.2.3.4"};
	struct flint_identifier id = {0};
	struct flint_problem *p = NULL;
	json_t *o;

	CHECK(flint_identifier_type_find("ip") != NULL);
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		o = json_pack("{s:s, s:s}", "type", "ip", "value", ok[i].in);
		CHECK_INT(flint_identifier_from_json(o, &id, &p), 0);
		CHECK_STR(id.type, "ip");
		CHECK_STR(id.value, ok[i].out);
		CHECK(p == NULL && !flint_identifier_is_wildcard(&id));
		CHECK_STR(flint_identifier_authz_value(&id), ok[i].out);
		flint_identifier_clear(&id);
		json_decref(o);
	}
	for (size_t i = 0; i < sizeof(bad_ip) / sizeof(bad_ip[0]); i++) {
		o = json_pack("{s:s, s:s}", "type", "ip", "value", bad_ip[i]);
		CHECK_INT(flint_identifier_from_json(o, &id, &p), FLINT_EINVAL);
		CHECK(id.type == NULL && id.value == NULL);
		CHECK(p && (p->type == FLINT_PROB_MALFORMED ||
			    p->type == FLINT_PROB_REJECTED_IDENTIFIER));
		if (!p)
			fprintf(stderr, "  accepted ip %s\n", bad_ip[i]);
		flint_problem_free(p);
		p = NULL;
		json_decref(o);
	}
	for (size_t i = 0; i < sizeof(ip_in_dns) / sizeof(ip_in_dns[0]); i++) {
		o = json_pack("{s:s, s:s}", "type", "dns", "value", ip_in_dns[i]);
		CHECK_INT(flint_identifier_from_json(o, &id, &p), FLINT_EINVAL);
		CHECK(p && p->type == FLINT_PROB_REJECTED_IDENTIFIER);
		CHECK(p && strstr(p->detail, "\"ip\" identifier"));
		flint_problem_free(p);
		p = NULL;
		json_decref(o);
	}
}

/* RFC 8738 §6: the tls-alpn-01 SNI of an address. */
static void test_ip_reverse_name(void)
{
	char out[FLINT_IP_REVERSE_NAME_MAX];

	CHECK_INT(flint_ip_reverse_name("127.0.0.1", out, sizeof(out)), 0);
	CHECK_STR(out, "1.0.0.127.in-addr.arpa");
	CHECK_INT(flint_ip_reverse_name("::1", out, sizeof(out)), 0);
	CHECK_STR(out, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa");
	CHECK_INT(flint_ip_reverse_name("2001:db8::abcd", out, sizeof(out)), 0);
	CHECK_STR(out, "d.c.b.a.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
	CHECK_INT(flint_ip_reverse_name("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", out,
					sizeof(out)), 0);
	CHECK_INT(strlen(out), FLINT_IP_REVERSE_NAME_MAX - 1);
	CHECK_INT(flint_ip_reverse_name("example.com", out, sizeof(out)), FLINT_EINVAL);
	CHECK_INT(flint_ip_reverse_name("::1", out, FLINT_IP_REVERSE_NAME_MAX - 1), FLINT_EINVAL);
	CHECK_INT(flint_ip_reverse_name(NULL, out, sizeof(out)), FLINT_EINVAL);
}

int main(void)
{
	RUN(test_ip_normalize);
	RUN(test_normalize_ok);
	RUN(test_normalize_rejects);
	RUN(test_from_json);
	RUN(test_ip_identifiers);
	RUN(test_ip_reverse_name);
	return CHECK_DONE();
}
