/* A statement parameter, as both backends bind them (sqlite.c, postgres.c):
 * ARGS(TEXT(a), I64(b), ...) passes a list of them, bound in order as the
 * statement's first, second, ... placeholder; NO_ARGS passes none. */
#ifndef FLINTD_STORE_PARAM_H
#define FLINTD_STORE_PARAM_H

#include <stddef.h>
#include <stdint.h>

struct param {
	enum { P_TEXT, P_I64, P_BLOB } kind;
	const char *text; /* P_TEXT; NULL binds NULL */
	int64_t i64;      /* P_I64 */
	const void *blob; /* P_BLOB; NULL binds NULL */
	size_t len;       /* P_BLOB */
};

#define TEXT(v) ((struct param){ .kind = P_TEXT, .text = (v) })
#define I64(v) ((struct param){ .kind = P_I64, .i64 = (v) })
#define BLOB(v, n) ((struct param){ .kind = P_BLOB, .blob = (v), .len = (n) })
#define ARGS(...)                           \
	(const struct param[]){ __VA_ARGS__ }, \
		sizeof((const struct param[]){ __VA_ARGS__ }) / sizeof(struct param)
#define NO_ARGS NULL, 0

#endif
