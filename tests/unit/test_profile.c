/* Unit tests for certificate profiles (profile.c): the shipped three parse
 * and differ as documented; profile lines with every field; hostile lines. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "error.h"
#include "profile.h"

static void test_builtin(void)
{
	struct flint_profile p[3];
	size_t n = 0;

	for (; flint_profiles_builtin[n]; n++) {
		char *err = NULL;

		CHECK(n < 3);
		if (n >= 3)
			break;
		CHECK_INT(flint_profile_parse(flint_profiles_builtin[n], &p[n], &err), 0);
		CHECK(err == NULL);
	}
	CHECK_INT(n, 3);
	if (n != 3)
		return;
	CHECK_STR(p[0].name, "classic");
	CHECK_INT(p[0].lifetime, 90 * 86400);
	CHECK(p[0].server_auth && p[0].client_auth && p[0].common_name);
	CHECK_STR(p[1].name, "tlsserver");
	CHECK(p[1].server_auth && !p[1].client_auth && !p[1].common_name);
	CHECK_STR(p[2].name, "shortlived");
	CHECK_INT(p[2].lifetime, 160 * 3600);
	CHECK(p[2].allow_dns && p[2].allow_ip);
	CHECK(flint_profile_find(p, 3, "tlsserver") == &p[1]);
	CHECK(flint_profile_find(p, 3, "TLSSERVER") == NULL);
	CHECK(flint_profile_find(p, 3, NULL) == NULL);
	CHECK(flint_profile_allows(&p[0], "dns") && flint_profile_allows(&p[0], "ip"));
	CHECK(!flint_profile_allows(&p[0], "email"));
	for (size_t i = 0; i < n; i++)
		flint_profile_clear(&p[i]);
}

static void test_fields(void)
{
	struct flint_profile p = {0};
	char *err = NULL;

	CHECK_INT(flint_profile_parse(" mail_1.x ; lifetime=12h;eku=clientAuth ; cn=yes; "
				      "identifiers=dns; description=For; mail; servers",
				      &p, &err),
		  0);
	CHECK_STR(p.name, "mail_1.x");
	CHECK_INT(p.lifetime, 12 * 3600);
	CHECK(!p.server_auth && p.client_auth && p.common_name);
	CHECK(p.allow_dns && !p.allow_ip);
	CHECK_STR(p.description, "For; mail; servers"); /* the rest of the line */
	CHECK(!flint_profile_allows(&p, "ip"));
	flint_profile_clear(&p);
	CHECK_INT(flint_profile_parse("bare; lifetime=398d; eku=serverAuth", &p, &err), 0);
	CHECK_STR(p.description, "bare"); /* defaults to the name */
	CHECK(!p.common_name);
	flint_profile_clear(&p);
}

static void test_hostile(void)
{
	static const char *const bad[] = {
		"",
		"; lifetime=90d; eku=serverAuth",           /* no name */
		"bad name; lifetime=90d; eku=serverAuth",   /* space in the name */
		"x/y; lifetime=90d; eku=serverAuth",        /* slash */
		"x; eku=serverAuth",                        /* no lifetime */
		"x; lifetime=90d",                          /* no eku */
		"x; lifetime=0d; eku=serverAuth",
		"x; lifetime=-1d; eku=serverAuth",
		"x; lifetime=399d; eku=serverAuth",
		"x; lifetime=90; eku=serverAuth",           /* no unit */
		"x; lifetime=90w; eku=serverAuth",
		"x; lifetime=9999999999999999999999d; eku=serverAuth",
		"x; lifetime=90d; eku=codeSigning",
		"x; lifetime=90d; eku=",
		"x; lifetime=90d; eku=serverAuth; cn=maybe",
		"x; lifetime=90d; eku=serverAuth; identifiers=email",
		"x; lifetime=90d; eku=serverAuth; colour=blue", /* unknown field */
		"x; lifetime=90d; eku=serverAuth; novalue",
		("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa; lifetime=1d; "
		 "eku=serverAuth"), /* a 65-character name */
	};
	struct flint_profile p = {0};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *err = NULL;
		int rc = flint_profile_parse(bad[i], &p, &err);

		if (rc != FLINT_EINVAL || !err) {
			fprintf(stderr, "  accepted or unexplained: \"%s\"\n", bad[i]);
			CHECK(false);
		}
		CHECK(p.name == NULL);
		free(err);
	}
	CHECK_INT(flint_profile_parse(NULL, &p, NULL), FLINT_EINVAL);
}

int main(void)
{
	RUN(test_builtin);
	RUN(test_fields);
	RUN(test_hostile);
	return CHECK_DONE();
}
