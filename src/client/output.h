/* What flint tells its user: progress on stderr unless -q, details with -v,
 * errors always. The one place the client decides what to print. */
#ifndef FLINT_CLIENT_OUTPUT_H
#define FLINT_CLIENT_OUTPUT_H

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

/* A malloc'd printf result, NULL when out of memory. */
char *flint_strdupf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Sets *ret_err (when non-NULL and still NULL) to a malloc'd message. */
void flint_set_err(char **ret_err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
