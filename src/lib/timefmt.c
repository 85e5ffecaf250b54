/* RFC 3339 timestamps as ACME objects carry them (RFC 8555 §7.1: expires,
 * notBefore, notAfter, validated): format in UTC "Z", parse any offset. */
#include "timefmt.h"

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "error.h"

void flint_time_format(int64_t unix_seconds, char *buf)
{
	struct tm tm;
	time_t t = (time_t)unix_seconds;

	if (!buf)
		return;
	if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) {
		snprintf(buf, FLINT_TIME_BUF, "1970-01-01T00:00:00Z");
		return;
	}
	if (strftime(buf, FLINT_TIME_BUF, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, FLINT_TIME_BUF, "1970-01-01T00:00:00Z");
}

/* Reads exactly n decimal digits. */
static bool digits(const char **p, int n, int *ret)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		char c = (*p)[i];
		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (c - '0');
	}
	*p += n;
	*ret = v;
	return true;
}

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int flint_time_parse(const char *s, int64_t *ret)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int year, mon, day, hour, min, sec, oh = 0, om = 0, sign = 0;
	const char *p = s;
	struct tm tm = {0};
	time_t t;

	if (!s || !ret)
		return FLINT_EINVAL;
	if (!digits(&p, 4, &year) || *p++ != '-' || !digits(&p, 2, &mon) || *p++ != '-' ||
	    !digits(&p, 2, &day))
		return FLINT_EINVAL;
	if (*p != 'T' && *p != 't')
		return FLINT_EINVAL;
	p++;
	if (!digits(&p, 2, &hour) || *p++ != ':' || !digits(&p, 2, &min) || *p++ != ':' ||
	    !digits(&p, 2, &sec))
		return FLINT_EINVAL;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return FLINT_EINVAL;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '+' ? 1 : -1;
		if (!digits(&p, 2, &oh) || *p++ != ':' || !digits(&p, 2, &om) || oh > 23 ||
		    om > 59)
			return FLINT_EINVAL;
	} else {
		return FLINT_EINVAL;
	}
	if (*p != '\0')
		return FLINT_EINVAL;
	if (mon < 1 || mon > 12 || day < 1 || hour > 23 || min > 59 || sec > 60)
		return FLINT_EINVAL;
	if (day > mdays[mon - 1] + (mon == 2 && is_leap(year)))
		return FLINT_EINVAL;
	/* A leap second is folded onto the next second, as time_t cannot hold it. */
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	t = timegm(&tm);
	*ret = (int64_t)t - (int64_t)sign * (oh * 3600 + om * 60);
	return 0;
}

long long flint_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
