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

/* Holding a thread's lines: an event-loop thread logs a line per request;
 * a write(2) per line is a system call per request. While the calling thread
 * holds, its lines wait in a buffer (up to FLINTD_LOG_HOLD_MAX bytes, then
 * they are written at once) and flintd_log_flush writes them in one call.
 * wake(arg) runs when a line arrives in an empty buffer, so the loop can
 * schedule the flush after the work it is doing (http.c: at the end of the
 * loop's pass). Lines of other threads are written as they come. Returns 0
 * or FLINT_ENOMEM (the thread then writes its lines as they come). */
#define FLINTD_LOG_HOLD_MAX (32 * 1024)
int flintd_log_hold(void (*wake)(void *arg), void *arg);
/* Writes the calling thread's held lines, complete lines in one write. */
void flintd_log_flush(void);
/* Flushes and stops holding (before the thread ends). */
void flintd_log_release(void);

/* The conversion (a new object, NULL on OOM): the first word becomes
 * "event", each key=value a member (decimal integers as numbers, a value in
 * double quotes up to its closing quote before a space or the end), other
 * words are joined into "note"; bytes that are not ASCII become '?'. */
json_t *flintd_log_text_to_json(const char *line);

#endif
