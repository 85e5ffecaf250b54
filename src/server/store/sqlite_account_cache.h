/* Accounts a process read from one SQLite database, kept for the requests
 * that follow: every request signed with a kid reads its account, a read
 * transaction each.
 *
 * An entry is good while the database's account generation is the one it
 * was read at, and for FLINT_SQ_ACCOUNT_CACHE_MAX_AGE_S seconds at most. The
 * generation is a counter in a small file beside the database
 * (flint_store_sqlite_sidecar, "-gen"), mapped by every process that opens
 * it: nodes on one SQLite database run on one machine (WAL mode requires
 * it). store/sqlite.c bumps it after every account update commits, so a
 * process reads the row again after any process changed any account. The age
 * bounds what a process that died between its commit and the bump leaves
 * behind. Read the generation before reading the row (a row read after a
 * concurrent change then carries the older generation and is read again). */
#ifndef FLINT_STORE_SQLITE_ACCOUNT_CACHE_H
#define FLINT_STORE_SQLITE_ACCOUNT_CACHE_H

#include <stdint.h>

#include "store/store.h"

#define FLINT_SQ_ACCOUNT_CACHE_MAX_AGE_S 30
/* Four ways per set, the least recently used one replaced (direct-mapped, one
 * active account in five lost its entry to a collision at 128 of them). */
#define FLINT_SQ_ACCOUNT_CACHE_SETS 1024
#define FLINT_SQ_ACCOUNT_CACHE_WAYS 4

struct flint_sq_account_cache;

/* gen_path: the generation file (created 0600 when missing); NULL for a
 * database private to this process (the counter lives in memory).
 * FLINT_EINVAL when the file at gen_path is not a generation file (it is
 * left as it is); FLINT_EIO when it cannot be made or mapped. */
int flint_sq_account_cache_open(const char *gen_path, struct flint_sq_account_cache **ret);
void flint_sq_account_cache_free(struct flint_sq_account_cache *c);

uint64_t flint_sq_account_cache_generation(struct flint_sq_account_cache *c);
/* After an account update committed: every process reads accounts again. */
void flint_sq_account_cache_bump(struct flint_sq_account_cache *c);

/* A copy of account id if cached at the current generation and stored less
 * than the maximum age before now (seconds, monotonic); FLINT_ENOTFOUND
 * otherwise, FLINT_ENOMEM. */
int flint_sq_account_cache_get(struct flint_sq_account_cache *c, const char *id, int64_t now,
			       struct flint_account **ret);
/* Keeps a copy of a, read at generation (taken before the read), at now.
 * Out of memory only skips keeping it. */
void flint_sq_account_cache_put(struct flint_sq_account_cache *c, const struct flint_account *a,
				uint64_t generation, int64_t now);

#endif
