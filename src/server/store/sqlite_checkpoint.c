/* The WAL checkpointer (sqlite_checkpoint.h): a thread with its own
 * connection that runs PASSIVE checkpoints (which never wait for, nor block,
 * readers and writers) when a commit leaves WAKE_PAGES or more in the WAL,
 * and every IDLE_S seconds in any case.
 *
 * A checkpoint copies the WAL into the database; only a writer that starts
 * after a complete checkpoint, while no reader is in the WAL, starts the WAL
 * over from its beginning. Under a steady load that moment rarely comes by
 * itself: the WAL then stays above WAKE_PAGES, every commit woke the
 * checkpointer again and every round synced the files twice to copy a few
 * pages (more than one round per issuance). So a complete PASSIVE round is
 * followed by a RESTART that does not wait: it takes the write lock if it
 * is free, copies what came in meanwhile and makes the next writer start
 * the WAL over; if a writer or reader is busy it gives up at once and the
 * next round, WAKE_STEP pages later, tries again. */
#include "store/sqlite_checkpoint.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "error.h"
#include "metrics.h"

#define WAKE_PAGES 4000 /* 16 MB of 4 KiB pages: a page rewritten by many commits is copied once */
#define WAKE_STEP 128 /* pages more in the WAL since the last wake-up before the next */
#define IDLE_S 5

struct flint_sq_checkpointer {
	sqlite3 *db;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool due, stop;
	int woken_at; /* WAL pages at the last wake-up (set by committers) */
};

/* sqlite3_wal_hook: runs in the committing thread, after the commit. */
static int on_commit(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct flint_sq_checkpointer *c = arg;

	(void)db, (void)name;
	if (pages < WAKE_PAGES)
		return SQLITE_OK;
	pthread_mutex_lock(&c->lock);
	if (pages < c->woken_at || pages - c->woken_at >= WAKE_STEP) {
		c->woken_at = pages;
		c->due = true;
		pthread_cond_signal(&c->cond);
	}
	pthread_mutex_unlock(&c->lock);
	return SQLITE_OK;
}

static void *run(void *arg)
{
	struct flint_sq_checkpointer *c = arg;

	pthread_setname_np(pthread_self(), "flintd-wal");
	pthread_mutex_lock(&c->lock);
	while (!c->stop) {
		if (!c->due) {
			struct timespec until;

			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += IDLE_S;
			while (!c->due && !c->stop &&
			       pthread_cond_timedwait(&c->cond, &c->lock, &until) != ETIMEDOUT)
				;
		}
		if (c->stop)
			break;
		c->due = false;
		pthread_mutex_unlock(&c->lock);
		/* a busy database or a reader holding an old snapshot only
		 * shortens this round; the next one continues */
		int log = 0, copied = 0;
		struct timespec t0;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		int rc = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log,
						   &copied);
		flint_metrics_store(flint_metrics_global(), "wal_checkpoint",
				    flint_metrics_since_us(&t0));
		if (rc == SQLITE_OK && log > 0 && copied == log) {
			clock_gettime(CLOCK_MONOTONIC, &t0);
			if (sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_RESTART, NULL,
						      NULL) == SQLITE_OK)
				flint_metrics_store(flint_metrics_global(), "wal_restart",
						    flint_metrics_since_us(&t0));
		}
		pthread_mutex_lock(&c->lock);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

static void checkpointer_free(struct flint_sq_checkpointer *c)
{
	sqlite3_close_v2(c->db);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->cond);
	free(c);
}

int flint_sq_checkpointer_start(const char *path, sqlite3 *db,
				struct flint_sq_checkpointer **ret)
{
	struct flint_sq_checkpointer *c = calloc(1, sizeof(*c));

	if (!c)
		return FLINT_ENOMEM;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	/* a connection finds the WAL on its first read; until then it would
	 * not checkpoint */
	if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
		    SQLITE_OK ||
	    sqlite3_busy_timeout(c->db, 10000) != SQLITE_OK ||
	    sqlite3_exec(c->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL) != SQLITE_OK ||
	    /* the RESTART never waits (a PASSIVE one never calls the handler) */
	    sqlite3_busy_timeout(c->db, 0) != SQLITE_OK ||
	    pthread_create(&c->thread, NULL, run, c) != 0) {
		checkpointer_free(c);
		return FLINT_EIO;
	}
	sqlite3_wal_hook(db, on_commit, c); /* replaces the automatic checkpoint */
	*ret = c;
	return 0;
}

void flint_sq_checkpointer_stop(struct flint_sq_checkpointer *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	c->stop = true;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	checkpointer_free(c);
}
