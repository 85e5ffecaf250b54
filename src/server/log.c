/* flintd's log lines: the text form is the source; json mode converts it, so
 * every caller writes one format and both outputs carry the same fields. */
#include "log.h"

#include "error.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static atomic_bool log_json;

struct held_lines {
	char *buf;
	size_t len;
	void (*wake)(void *arg);
	void *arg;
};

static _Thread_local struct held_lines *held;

void flintd_log_set_json(bool json) { atomic_store(&log_json, json); }

/* A JSON string of s[0..n): non-ASCII and control bytes become '?' so the
 * value is always valid UTF-8 (jansson refuses anything else). */
static json_t *ascii_string(const char *s, size_t n)
{
	char *copy = malloc(n + 1);
	if (!copy)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		copy[i] = c < 0x20 || c >= 0x7f ? '?' : (char)c;
	}
	copy[n] = '\0';
	json_t *j = json_stringn(copy, n);
	free(copy);
	return j;
}

static json_t *value_json(const char *s, size_t n)
{
	size_t i = s[0] == '-' ? 1 : 0;
	if (n > i && n - i <= 18) {
		size_t k = i;
		while (k < n && s[k] >= '0' && s[k] <= '9')
			k++;
		if (k == n)
			return json_integer(strtoll(s, NULL, 10));
	}
	return ascii_string(s, n);
}

json_t *flintd_log_text_to_json(const char *line)
{
	json_t *o = json_object();
	char *note = NULL;
	size_t note_len = 0;
	const char *p = line;
	bool first = true;
	if (!o)
		return NULL;
	while (*p) {
		while (*p == ' ' || *p == '\n')
			p++;
		if (!*p)
			break;
		const char *start = p, *eq = NULL, *val, *end;
		while (*p && *p != ' ' && *p != '\n' && *p != '=')
			p++;
		if (*p == '=' && p > start && !first)
			eq = p;
		if (eq && eq[1] == '"') {
			/* the closing quote is the one followed by a space or the end */
			val = eq + 2;
			end = val;
			while (*end &&
			       !(end[0] == '"' && (end[1] == ' ' || end[1] == '\n' || !end[1])))
				end++;
			p = *end ? end + 1 : end;
		} else {
			while (*p && *p != ' ' && *p != '\n')
				p++;
			val = eq ? eq + 1 : start;
			end = p;
		}
		if (first) {
			json_object_set_new(o, "event", ascii_string(start, (size_t)(p - start)));
			first = false;
		} else if (eq) {
			char key[64];
			snprintf(key, sizeof(key), "%.*s", (int)(eq - start), start);
			json_object_set_new(o, key, value_json(val, (size_t)(end - val)));
		} else {
			size_t n = (size_t)(end - start);
			char *grown = realloc(note, note_len + n + 2);
			if (!grown)
				break;
			note = grown;
			if (note_len)
				note[note_len++] = ' ';
			memcpy(note + note_len, start, n);
			note_len += n;
			note[note_len] = '\0';
		}
	}
	if (note)
		json_object_set_new(o, "note", ascii_string(note, note_len));
	free(note);
	return o;
}

int flintd_log_hold(void (*wake)(void *arg), void *arg)
{
	struct held_lines *h = calloc(1, sizeof(*h));
	char *buf = malloc(FLINTD_LOG_HOLD_MAX);
	if (!h || !buf) {
		free(h);
		free(buf);
		return FLINT_ENOMEM;
	}
	flintd_log_release();
	h->buf = buf;
	h->wake = wake;
	h->arg = arg;
	held = h;
	return 0;
}

void flintd_log_flush(void)
{
	if (!held || !held->len)
		return;
	/* stderr is unbuffered: fwrite is one write(2) (more only after a short
	 * write), made under the stream's lock, so lines of other threads never
	 * land inside these */
	fwrite(held->buf, 1, held->len, stderr);
	held->len = 0;
}

void flintd_log_release(void)
{
	struct held_lines *h = held;
	if (!h)
		return;
	flintd_log_flush();
	held = NULL;
	free(h->buf);
	free(h);
}

/* Writes line (n bytes) and a newline unless it ends in one. */
static void emit(const char *line, size_t n)
{
	bool nl = n > 0 && line[n - 1] == '\n';
	size_t need = n + (nl ? 0 : 1);
	if (held && held->len + need > FLINTD_LOG_HOLD_MAX)
		flintd_log_flush();
	if (!held || need > FLINTD_LOG_HOLD_MAX) {
		/* one call per line: stdio locks stderr, so lines never interleave */
		fprintf(stderr, "%s%s", line, nl ? "" : "\n");
		return;
	}
	bool was_empty = held->len == 0;
	memcpy(held->buf + held->len, line, n);
	held->len += n;
	if (!nl)
		held->buf[held->len++] = '\n';
	if (was_empty && held->wake)
		held->wake(held->arg);
}

void flintd_logf(const char *fmt, ...)
{
	char *line = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (atomic_load(&log_json)) {
		json_t *o = flintd_log_text_to_json(line);
		char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
		json_decref(o);
		if (s) {
			emit(s, strlen(s));
			free(s);
			free(line);
			return;
		}
	}
	emit(line, (size_t)n);
	free(line);
}
