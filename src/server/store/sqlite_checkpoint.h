/* WAL checkpoints off the request path: a thread with its own connection
 * copies committed pages back into the database file, woken when a commit
 * leaves enough of them in the WAL, instead of the committing request doing
 * it (SQLite's automatic checkpoint, with its fsync, stalls that request).
 * store/sqlite.c starts one beside the connection it shares per file. */
#ifndef FLINT_STORE_SQLITE_CHECKPOINT_H
#define FLINT_STORE_SQLITE_CHECKPOINT_H

#include <sqlite3.h>

struct flint_sq_checkpointer;

/* A checkpointer for path, woken by db's commits (db: an open connection to
 * path in WAL mode, whose automatic checkpoints are off from now on). */
int flint_sq_checkpointer_start(const char *path, sqlite3 *db,
				struct flint_sq_checkpointer **ret);
/* Stops and frees it, after db is closed. NULL: nothing. */
void flint_sq_checkpointer_stop(struct flint_sq_checkpointer *c);

#endif
