/* SIGINT/SIGTERM during a run: waits and transfers stop early so the order
 * driver still cleans up every presented challenge before flint exits. */
#ifndef FLINT_CLIENT_INTERRUPT_H
#define FLINT_CLIENT_INTERRUPT_H

#include <signal.h>
#include <stdbool.h>

/* Installs handlers for SIGINT and SIGTERM (without SA_RESTART) that set the flag. */
void flint_interrupt_install(void);
bool flint_interrupted(void);
/* Sleeps ms milliseconds, stopping early when interrupted; 0 or FLINT_EIO (interrupted). */
int flint_sleep_ms(long ms);
#include "timefmt.h" /* flint_now_ms */

#endif
