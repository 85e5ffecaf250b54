/* RFC 3339 timestamps as ACME objects carry them (UTC, "Z"), and the
 * monotonic clock that deadlines are counted on. */
#ifndef FLINT_TIMEFMT_H
#define FLINT_TIMEFMT_H

#include <stdint.h>

#define FLINT_TIME_BUF 32

/* "2026-11-23T07:42:56Z" into buf (at least FLINT_TIME_BUF bytes). */
void flint_time_format(int64_t unix_seconds, char *buf);
/* Accepts "YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm)"; 't'/'z' too. FLINT_EINVAL otherwise. */
int flint_time_parse(const char *s, int64_t *ret);
/* Milliseconds on CLOCK_MONOTONIC: for deadlines, not for dates. */
long long flint_now_ms(void);

#endif
