/* One SQLite database file as this process shares it between its
 * connections (one per event loop and validation worker):
 * - a writer lock: SQLite lets one connection write at a time, and a writer
 *   that finds the file locked polls for it (store/sqlite.c: busy_wait);
 *   inside the process writers queue on this mutex instead, so they neither
 *   poll nor wake in vain (other processes still meet SQLite's own lock);
 * - a checkpointer: WAL checkpoints off the request path, one thread copying
 *   committed pages back into the database, woken when a commit leaves
 *   enough of them in the WAL, instead of the committing request doing it
 *   (SQLite's automatic checkpoint, with its fsync, stalls that request). */
#ifndef FLINT_STORE_SQLITE_FILE_H
#define FLINT_STORE_SQLITE_FILE_H

#include <sqlite3.h>

struct flint_sq_file;

/* Registers db (an open connection to path, in WAL mode) with the shared
 * state of path, made by its first connection. The connection's automatic
 * checkpoints are off from now on. */
int flint_sq_file_attach(const char *path, sqlite3 *db, struct flint_sq_file **ret);
/* After the connection is closed: the last one stops the checkpointer. NULL: nothing. */
void flint_sq_file_detach(struct flint_sq_file *f);

/* Around each write (a writing statement outside a transaction, or a whole
 * write transaction) of a connection attached to f. */
void flint_sq_file_write_lock(struct flint_sq_file *f);
void flint_sq_file_write_unlock(struct flint_sq_file *f);

#endif
