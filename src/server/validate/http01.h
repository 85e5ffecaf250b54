/* The http-01 response check (RFC 8555 §8.3), apart from the fetching so
 * that it can be unit-tested and fuzzed without a network. */
#ifndef FLINTD_VALIDATE_HTTP01_H
#define FLINTD_VALIDATE_HTTP01_H

#include <stddef.h>

#include "problem.h"

/* The most of a response body the validator reads (more is refused). */
#define FLINT_HTTP01_BODY_MAX 8192

/* Whether body[0..len) (any bytes, not NUL-terminated; NULL when len is 0)
 * is the key authorization once leading and trailing whitespace
 * (" \t\r\n\v\f") is trimmed: 0 when it is; FLINT_ENOTFOUND and an
 * incorrectResponse problem showing a printable prefix of what was found
 * when it is not; FLINT_ETOOBIG and an unauthorized problem when len exceeds
 * FLINT_HTTP01_BODY_MAX; FLINT_ENOMEM (*ret_problem may stay NULL). */
int flint_http01_check_body(const char *body, size_t len, const char *key_authorization,
			    struct flint_problem **ret_problem);

#endif
