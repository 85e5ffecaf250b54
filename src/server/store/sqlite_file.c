/* A SQLite database file shared by this process's connections
 * (sqlite_file.h): a registry of one entry per database path, each with the
 * writer mutex and a checkpointer thread with its own connection that runs
 * PASSIVE checkpoints (which never wait for, nor block, readers and writers)
 * when a commit leaves WAKE_PAGES or more in the WAL, and every IDLE_S
 * seconds in any case. */
#include "store/sqlite_file.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"

#define WAKE_PAGES 4000 /* 16 MB of 4 KiB pages: a page rewritten by many commits is copied once */
#define IDLE_S 5

struct flint_sq_file {
	struct flint_sq_file *next;
	char *path;
	int users;
	sqlite3 *db;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool due, stop;
	pthread_mutex_t write_lock;
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct flint_sq_file *registry;

/* sqlite3_wal_hook: runs in the committing thread, after the commit. */
static int on_commit(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct flint_sq_file *c = arg;

	(void)db, (void)name;
	if (pages >= WAKE_PAGES) {
		pthread_mutex_lock(&c->lock);
		c->due = true;
		pthread_cond_signal(&c->cond);
		pthread_mutex_unlock(&c->lock);
	}
	return SQLITE_OK;
}

static void *run(void *arg)
{
	struct flint_sq_file *c = arg;

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
		sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
		pthread_mutex_lock(&c->lock);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

static void file_free(struct flint_sq_file *c)
{
	sqlite3_close_v2(c->db);
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->write_lock);
	pthread_cond_destroy(&c->cond);
	free(c->path);
	free(c);
}

/* A new checkpointer for path with its connection and thread. */
static int file_new(const char *path, struct flint_sq_file **ret)
{
	struct flint_sq_file *c = calloc(1, sizeof(*c));

	if (!c)
		return FLINT_ENOMEM;
	pthread_mutex_init(&c->lock, NULL);
	pthread_mutex_init(&c->write_lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	if (!(c->path = strdup(path))) {
		file_free(c);
		return FLINT_ENOMEM;
	}
	/* a connection finds the WAL on its first read; until then it would
	 * not checkpoint */
	if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
		    SQLITE_OK ||
	    sqlite3_busy_timeout(c->db, 10000) != SQLITE_OK ||
	    sqlite3_exec(c->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL) != SQLITE_OK ||
	    pthread_create(&c->thread, NULL, run, c) != 0) {
		file_free(c);
		return FLINT_EIO;
	}
	*ret = c;
	return 0;
}

int flint_sq_file_attach(const char *path, sqlite3 *db, struct flint_sq_file **ret)
{
	struct flint_sq_file *c;
	int rc = 0;

	pthread_mutex_lock(&registry_lock);
	for (c = registry; c && strcmp(c->path, path) != 0; c = c->next)
		;
	if (!c && (rc = file_new(path, &c)) == 0) {
		c->next = registry;
		registry = c;
	}
	if (rc == 0) {
		c->users++;
		sqlite3_wal_hook(db, on_commit, c); /* replaces the automatic checkpoint */
		*ret = c;
	}
	pthread_mutex_unlock(&registry_lock);
	return rc;
}

void flint_sq_file_detach(struct flint_sq_file *c)
{
	struct flint_sq_file **p;

	if (!c)
		return;
	pthread_mutex_lock(&registry_lock);
	if (--c->users > 0) {
		pthread_mutex_unlock(&registry_lock);
		return;
	}
	for (p = &registry; *p && *p != c; p = &(*p)->next)
		;
	if (*p)
		*p = c->next;
	pthread_mutex_unlock(&registry_lock);
	pthread_mutex_lock(&c->lock);
	c->stop = true;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	file_free(c);
}

void flint_sq_file_write_lock(struct flint_sq_file *f)
{
	pthread_mutex_lock(&f->write_lock);
}

void flint_sq_file_write_unlock(struct flint_sq_file *f)
{
	pthread_mutex_unlock(&f->write_lock);
}
