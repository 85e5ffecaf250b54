/* Unit tests for timefmt.c: RFC 3339 formatting in UTC and parsing with
 * fractions and offsets (RFC 3339 §5.6). */
#include <stdint.h>

#include "check.h"
#include "error.h"
#include "timefmt.h"

static void test_format(void)
{
	char buf[FLINT_TIME_BUF];

	flint_time_format(0, buf);
	CHECK_STR(buf, "1970-01-01T00:00:00Z");
	flint_time_format(1795418576, buf);
	CHECK_STR(buf, "2026-11-23T07:22:56Z");
	flint_time_format(951782400, buf); /* leap day 2000 */
	CHECK_STR(buf, "2000-02-29T00:00:00Z");
}

static void test_parse(void)
{
	static const struct {
		const char *s;
		int64_t t;
	} ok[] = {
		{"1970-01-01T00:00:00Z", 0},
		{"2026-11-23T07:22:56Z", 1795418576},
		{"2026-11-23t07:22:56z", 1795418576},
		{"2026-11-23T07:22:56.123456Z", 1795418576},
		{"2026-11-23T09:22:56+02:00", 1795418576},
		{"2026-11-23T02:52:56-04:30", 1795418576},
		{"2000-02-29T00:00:00Z", 951782400},
	};
	static const char *bad[] = {
		"", "2026-11-23", "2026-11-23T07:22:56", "2026-11-23 07:22:56Z",
		"2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z", "1900-02-29T00:00:00Z",
		"2026-11-23T24:00:00Z", "2026-11-23T07:60:00Z", "2026-11-23T07:22:56.Z",
		"2026-11-23T07:22:56+0200", "2026-11-23T07:22:56Zjunk", "26-11-23T07:22:56Z",
		"2026-11-23T07:22:56+24:00", "2026-00-10T00:00:00Z", "2026-01-00T00:00:00Z",
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int64_t t = -1;
		CHECK_INT(flint_time_parse(ok[i].s, &t), 0);
		CHECK_INT(t, ok[i].t);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t t = 42;
		CHECK_INT(flint_time_parse(bad[i], &t), FLINT_EINVAL);
		CHECK_INT(t, 42);
	}
}

static void test_roundtrip(void)
{
	char buf[FLINT_TIME_BUF];
	for (int64_t t = 0; t < 4102444800; t += 86400 * 37 + 3607) {
		int64_t back = -1;
		flint_time_format(t, buf);
		CHECK_INT(flint_time_parse(buf, &back), 0);
		CHECK_INT(back, t);
	}
}

int main(void)
{
	RUN(test_format);
	RUN(test_parse);
	RUN(test_roundtrip);
	return CHECK_DONE();
}
