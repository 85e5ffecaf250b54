/* The SQLite store backend: one sqlite3 connection per handle, one handle per
 * thread; WAL lets handles in many threads (and processes) share one file. */
#ifndef FLINT_STORE_SQLITE_H
#define FLINT_STORE_SQLITE_H

#include "store/store.h"

extern const struct flint_store_ops flint_store_sqlite;

/* The account generation file beside the database (sqlite_account_cache.h). */
#define FLINT_STORE_SQLITE_GEN_SUFFIX "-gen"

/* The path of a file that goes with the database at path (path + suffix,
 * malloc'd) into *ret: NULL for an in-memory database, which nothing shares. */
int flint_store_sqlite_sidecar(const char *path, const char *suffix, char **ret);

#endif
