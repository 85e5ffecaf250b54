/* Printing for the flint client: progress unless quiet, debug when verbose,
 * warnings and errors always, each one line on stderr. */
#include "output.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static enum flint_verbosity verbosity = FLINT_NORMAL;
static bool json_mode;

void flint_set_json(bool on)
{
	json_mode = on;
}

bool flint_json(void)
{
	return json_mode;
}

void flint_json_emit(json_t *obj)
{
	char *s;

	if (!obj)
		return;
	if (json_mode && (s = json_dumps(obj, JSON_COMPACT))) {
		printf("%s\n", s);
		fflush(stdout);
		free(s);
	}
	json_decref(obj);
}

void flint_set_verbosity(enum flint_verbosity v)
{
	verbosity = v;
}

enum flint_verbosity flint_get_verbosity(void)
{
	return verbosity;
}

static void line_buf(char *buf, size_t size, const char *prefix, const char *fmt, va_list ap)
{
	vsnprintf(buf, size, fmt, ap);
	/* one line per message, whatever a server put into its detail */
	for (char *p = buf; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	fprintf(stderr, "%s%s\n", prefix, buf);
}

static void line(const char *prefix, const char *fmt, va_list ap)
{
	char buf[2048];

	line_buf(buf, sizeof(buf), prefix, fmt, ap);
}

static void error_obj(const char *msg, json_t *identifier, json_t *problem)
{
	json_t *o = json_mode ? json_pack("{s:s}", "error", msg) : NULL;

	if (o && identifier)
		json_object_set(o, "identifier", identifier);
	if (o && problem)
		json_object_set(o, "problem", problem);
	json_decref(identifier);
	json_decref(problem);
	flint_json_emit(o);
}

void flint_error_ctx(json_t *identifier, json_t *problem, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	va_start(ap, fmt);
	line_buf(buf, sizeof(buf), "flint: ", fmt, ap);
	va_end(ap);
	error_obj(buf, identifier, problem);
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
	char buf[2048];
	va_list ap;

	va_start(ap, fmt);
	line_buf(buf, sizeof(buf), "flint: ", fmt, ap);
	va_end(ap);
	error_obj(buf, NULL, NULL);
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
