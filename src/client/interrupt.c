/* A flag set by SIGINT/SIGTERM and an interruptible sleep, so that every wait
 * of a run ends promptly and cleanup still happens. */
#include "interrupt.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "error.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

void flint_interrupt_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

bool flint_interrupted(void)
{
	return stop_flag != 0;
}

int flint_sleep_ms(long ms)
{
	long long end = flint_now_ms() + (ms > 0 ? ms : 0);

	for (;;) {
		long long left = end - flint_now_ms();
		struct timespec ts;

		if (stop_flag)
			return FLINT_EIO;
		if (left <= 0)
			return 0;
		/* short slices: a signal that lands between the check and the sleep
		 * costs at most one slice */
		if (left > 100)
			left = 100;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)left * 1000000L;
		if (nanosleep(&ts, NULL) < 0 && errno != EINTR)
			return FLINT_EIO;
	}
}
