/* A minimal table-friendly unit-test harness: each test file is one
 * executable (one CTest test); CHECK failures are counted, not fatal. */
#ifndef FLINT_CHECK_H
#define FLINT_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures;
static int check_count;

#define CHECK(cond)                                                                     \
	do {                                                                            \
		check_count++;                                                          \
		if (!(cond)) {                                                          \
			check_failures++;                                               \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
		}                                                                       \
	} while (0)

#define CHECK_INT(a, b)                                                                 \
	do {                                                                            \
		long long check_a_ = (long long)(a), check_b_ = (long long)(b);         \
		check_count++;                                                          \
		if (check_a_ != check_b_) {                                             \
			check_failures++;                                               \
			fprintf(stderr, "%s:%d: %s == %lld, expected %lld\n", __FILE__, __LINE__, \
				#a, check_a_, check_b_);                                \
		}                                                                       \
	} while (0)

#define CHECK_STR(a, b)                                                                 \
	do {                                                                            \
		const char *check_a_ = (a), *check_b_ = (b);                            \
		check_count++;                                                          \
		if (!check_a_ || !check_b_ || strcmp(check_a_, check_b_) != 0) {        \
			check_failures++;                                               \
			fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, __LINE__, \
				#a, check_a_ ? check_a_ : "(null)", check_b_ ? check_b_ : "(null)"); \
		}                                                                       \
	} while (0)

#define RUN(fn)                                                                         \
	do {                                                                            \
		int before_ = check_failures;                                           \
		fn();                                                                   \
		fprintf(stderr, "%s %s\n", check_failures == before_ ? "ok  " : "FAIL", #fn); \
	} while (0)

#define CHECK_DONE()                                                                    \
	(fprintf(stderr, "%d checks, %d failed\n", check_count, check_failures),        \
	 check_failures ? 1 : 0)

#endif
