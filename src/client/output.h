/* What flint tells its user: progress on stderr unless -q, details with -v,
 * errors always. The one place the client decides what to print. */
#ifndef FLINT_CLIENT_OUTPUT_H
#define FLINT_CLIENT_OUTPUT_H

#include <jansson.h>
#include <stdbool.h>

enum flint_verbosity { FLINT_QUIET = 0, FLINT_NORMAL = 1, FLINT_VERBOSE = 2 };

void flint_set_verbosity(enum flint_verbosity v);
enum flint_verbosity flint_get_verbosity(void);

/* Progress line on stderr ("a.example.com: http-01 pending -> valid"); not with -q. */
void flint_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Detail line on stderr, only with -v. */
void flint_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Warning on stderr ("flint: warning: ..."), even with -q. */
void flint_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Error on stderr ("flint: ..."), even with -q: one line per failure. */
void flint_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* --json: results as one JSON object per line on stdout. Every error line
 * then also goes to stdout as {"error": "..."} (stderr keeps the text). */
void flint_set_json(bool on);
bool flint_json(void);
/* Prints obj (reference stolen) compactly on one stdout line, in --json mode only. */
void flint_json_emit(json_t *obj);
/* flint_error with context: in --json mode the object also carries
 * "identifier" ({type, value}) and "problem" (RFC 7807) when non-NULL
 * (references stolen either way). */
void flint_error_ctx(json_t *identifier, json_t *problem, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A malloc'd printf result, NULL when out of memory. */
char *flint_strdupf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Sets *ret_err (when non-NULL and still NULL) to a malloc'd message. */
void flint_set_err(char **ret_err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
