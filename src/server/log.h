/* flintd's log lines on stderr: "event key=value ..." text, or with
 * log-format = json the same line as one JSON object (one per line). */
#ifndef FLINTD_LOG_H
#define FLINTD_LOG_H

#include <jansson.h>
#include <stdbool.h>

/* Chosen once at start (main.c), before any thread logs. */
void flintd_log_set_json(bool json);

/* Prints one line given in its text form, "EVENT key=value key=\"quoted\"
 * ...": as is, or in json mode converted by flintd_log_text_to_json. */
void flintd_logf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The conversion (a new object, NULL on OOM): the first word becomes
 * "event", each key=value a member (decimal integers as numbers, a value in
 * double quotes up to its closing quote before a space or the end), other
 * words are joined into "note"; bytes that are not ASCII become '?'. */
json_t *flintd_log_text_to_json(const char *line);

#endif
