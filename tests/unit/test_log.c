/* Unit tests for log.c: the text line "event k=v ..." as one JSON object
 * (log-format = json), including hostile values. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

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

int main(void)
{
	RUN(test_request_line);
	RUN(test_state_lines);
	RUN(test_hostile);
	return CHECK_DONE();
}
