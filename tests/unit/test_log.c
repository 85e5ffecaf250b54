/* Unit tests for log.c: the text line "event k=v ..." as one JSON object
 * (log-format = json), including hostile values; a thread's held lines. */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "log.h"

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void test_request_line(void)
{
	json_t *o = flintd_log_text_to_json("req method=POST path=/acme/new-order route=newOrder "
					    "account=abc status=201 problem=- us=1234");
	CHECK(o != NULL);
	CHECK_STR(str(o, "event"), "req");
	CHECK_STR(str(o, "method"), "POST");
	CHECK_STR(str(o, "path"), "/acme/new-order");
	CHECK_STR(str(o, "route"), "newOrder");
	CHECK_STR(str(o, "problem"), "-");
	CHECK(json_is_integer(json_object_get(o, "status")));
	CHECK_INT(json_integer_value(json_object_get(o, "status")), 201);
	CHECK_INT(json_integer_value(json_object_get(o, "us")), 1234);
	CHECK(json_object_get(o, "note") == NULL);
	json_decref(o);
}

static void test_state_lines(void)
{
	json_t *o = flintd_log_text_to_json(
	    "state challenge=c1 type=http-01 identifier=a.test status=invalid problem=dns us=-5 "
	    "(not recorded: state changed)\n");
	CHECK_STR(str(o, "event"), "state");
	CHECK_STR(str(o, "type"), "http-01");
	CHECK_INT(json_integer_value(json_object_get(o, "us")), -5);
	CHECK_STR(str(o, "note"), "(not recorded: state changed)");
	json_decref(o);

	/* quoted values keep their spaces and '=' */
	o = flintd_log_text_to_json("validate challenge=c2 detail=\"no TXT at x=y \"here\"\" k=v");
	CHECK_STR(str(o, "detail"), "no TXT at x=y \"here\"");
	CHECK_STR(str(o, "k"), "v");
	json_decref(o);

	/* an unterminated quote takes the rest of the line */
	o = flintd_log_text_to_json("validate detail=\"open");
	CHECK_STR(str(o, "detail"), "open");
	json_decref(o);
}

static void test_hostile(void)
{
	/* non-UTF-8 and control bytes must still give valid JSON */
	json_t *o = flintd_log_text_to_json("req path=/\xff\xfe\x01x account=\xc3\xa9");
	CHECK_STR(str(o, "path"), "/???x");
	CHECK_STR(str(o, "account"), "??");
	char *s = json_dumps(o, JSON_COMPACT);
	CHECK(s && !strchr(s, '\n'));
	free(s);
	json_decref(o);
	/* numbers too long for an integer stay strings */
	o = flintd_log_text_to_json("state serial=12345678901234567890123");
	CHECK_STR(str(o, "serial"), "12345678901234567890123");
	json_decref(o);
	o = flintd_log_text_to_json("");
	CHECK(o && json_object_size(o) == 0);
	json_decref(o);
}

/* stderr goes to a temporary file while a test logs; what was written is
 * read back from it */
static FILE *captured;
static int saved_stderr = -1, failures_before;

static void capture_begin(void)
{
	failures_before = check_failures;
	fflush(stderr);
	captured = tmpfile();
	saved_stderr = dup(2);
	if (captured && saved_stderr >= 0)
		dup2(fileno(captured), 2);
}

/* What was written since capture_begin (or the last capture_text): a new
 * string, in order. */
static char *capture_text(void)
{
	static long seen;
	fseek(captured, 0, SEEK_END);
	long end = ftell(captured);
	char *s = calloc(1, (size_t)(end - seen) + 1);
	if (s) {
		fseek(captured, seen, SEEK_SET);
		size_t n = fread(s, 1, (size_t)(end - seen), captured);
		s[n] = '\0';
	}
	seen = end;
	return s;
}

static void capture_end(void)
{
	dup2(saved_stderr, 2);
	close(saved_stderr);
	if (check_failures > failures_before) { /* their messages went there too */
		char buf[4096];
		size_t n;
		rewind(captured);
		while ((n = fread(buf, 1, sizeof(buf), captured)) > 0)
			fwrite(buf, 1, n, stderr);
	}
	fclose(captured);
}

static int wakes;
static void count_wake(void *arg)
{
	(void)arg;
	wakes++;
}

static void *other_thread_logs(void *arg)
{
	(void)arg;
	flintd_logf("other thread=1");
	return NULL;
}

static void test_held_lines(void)
{
	capture_begin();
	CHECK_INT(flintd_log_hold(count_wake, NULL), 0);
	flintd_logf("req status=%d", 200);
	flintd_logf("state line\n"); /* a line that brings its newline */
	char *s = capture_text();
	CHECK_STR(s, ""); /* held */
	free(s);
	CHECK_INT(wakes, 1); /* once, for the first line */

	/* another thread's line is written at once, before the held ones */
	pthread_t t;
	CHECK_INT(pthread_create(&t, NULL, other_thread_logs, NULL), 0);
	pthread_join(t, NULL);
	s = capture_text();
	CHECK_STR(s, "other thread=1\n");
	free(s);

	flintd_log_flush();
	s = capture_text();
	CHECK_STR(s, "req status=200\nstate line\n");
	free(s);
	flintd_log_flush(); /* nothing held: nothing written */
	s = capture_text();
	CHECK_STR(s, "");
	free(s);

	/* more than the buffer holds: written when full, nothing lost, in order */
	char big[1000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	int lines = 3 * FLINTD_LOG_HOLD_MAX / (int)sizeof(big);
	for (int i = 0; i < lines; i++)
		flintd_logf("n=%04d %s", i, big);
	s = capture_text();
	size_t written = s ? strlen(s) : 0;
	CHECK(written >= (size_t)FLINTD_LOG_HOLD_MAX); /* two buffers' worth went out */
	CHECK(written <= (size_t)lines * (sizeof(big) + 7));
	CHECK(written % (sizeof(big) + 7) == 0); /* complete lines only */
	free(s);
	int per_buffer = FLINTD_LOG_HOLD_MAX / (int)(sizeof(big) + 7);
	CHECK_INT(wakes, 1 + (lines + per_buffer - 1) / per_buffer); /* a first line each */
	/* a line longer than the buffer: what is held goes first, then it */
	char *huge = malloc(FLINTD_LOG_HOLD_MAX + 10);
	memset(huge, 'y', FLINTD_LOG_HOLD_MAX + 9);
	huge[FLINTD_LOG_HOLD_MAX + 9] = '\0';
	flintd_logf("%s", huge);
	flintd_logf("after");
	flintd_log_release(); /* flushes */
	s = capture_text();
	size_t n = s ? strlen(s) : 0;
	CHECK(written + n == (size_t)lines * (sizeof(big) + 7) + FLINTD_LOG_HOLD_MAX + 10 + 6);
	CHECK(n > 6 && strcmp(s + n - 6, "after\n") == 0);
	CHECK(n > 6 && s[n - 7] == '\n' && s[n - 8] == 'y');
	char last[16];
	snprintf(last, sizeof(last), "n=%04d ", lines - 1);
	CHECK(s && strstr(s, last) != NULL && strstr(s, last) < strchr(s, 'y'));
	free(s);
	free(huge);

	/* released: written at once again, without a wake */
	flintd_logf("free");
	s = capture_text();
	CHECK_STR(s, "free\n");
	free(s);
	CHECK_INT(wakes, 2 + (lines + per_buffer - 1) / per_buffer); /* and "after" */

	/* json lines are held the same way */
	flintd_log_set_json(true);
	CHECK_INT(flintd_log_hold(NULL, NULL), 0);
	flintd_logf("req status=201");
	s = capture_text();
	CHECK_STR(s, "");
	free(s);
	flintd_log_release();
	s = capture_text();
	CHECK_STR(s, "{\"event\":\"req\",\"status\":201}\n");
	free(s);
	flintd_log_set_json(false);
	capture_end();
}

int main(void)
{
	RUN(test_request_line);
	RUN(test_state_lines);
	RUN(test_hostile);
	RUN(test_held_lines);
	return CHECK_DONE();
}
