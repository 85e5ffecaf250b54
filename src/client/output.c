/* Printing for the flint client: progress unless quiet, debug when verbose,
 * warnings and errors always, each one line on stderr. */
#include "output.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static enum flint_verbosity verbosity = FLINT_NORMAL;

void flint_set_verbosity(enum flint_verbosity v)
{
	verbosity = v;
}

enum flint_verbosity flint_get_verbosity(void)
{
	return verbosity;
}

static void line(const char *prefix, const char *fmt, va_list ap)
{
	char buf[2048];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	/* one line per message, whatever a server put into its detail */
	for (char *p = buf; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	fprintf(stderr, "%s%s\n", prefix, buf);
}

void flint_progress(const char *fmt, ...)
{
	va_list ap;

	if (verbosity < FLINT_NORMAL)
		return;
	va_start(ap, fmt);
	line("", fmt, ap);
	va_end(ap);
}

void flint_debug(const char *fmt, ...)
{
	va_list ap;

	if (verbosity < FLINT_VERBOSE)
		return;
	va_start(ap, fmt);
	line("flint: ", fmt, ap);
	va_end(ap);
}

void flint_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	line("flint: warning: ", fmt, ap);
	va_end(ap);
}

void flint_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	line("flint: ", fmt, ap);
	va_end(ap);
}

char *flint_strdupf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
}

void flint_set_err(char **ret_err, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	if (!ret_err || *ret_err)
		return;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	*ret_err = s;
}
