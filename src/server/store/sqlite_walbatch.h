/* A SQLite VFS that writes a transaction's WAL frames in one system call.
 *
 * SQLite writes each WAL frame as two pwrite calls (the 24-byte frame header,
 * then the page), so a commit of n pages costs 2n system calls. This VFS
 * passes every file but the WAL straight to the VFS below it (unix); for the
 * WAL it gathers consecutive writes and hands them over in one pwritev when
 * the frame that commits the transaction is complete, or earlier when the
 * next write is not adjacent, the buffer is full, or SQLite reads, syncs,
 * sizes, truncates or closes the file. A commit's frames are therefore all
 * in the file before its xWrite returns (and before SQLite publishes them to
 * other connections in the WAL index), and a failed write is reported by
 * that xWrite as before. Only appends are gathered: a write below what the
 * handle has written since the WAL's header (a spilled frame rewritten in
 * place, the checksums SQLite rewrites after that at commit) goes out at
 * once. The file's format and locking are unchanged: other processes and the
 * sqlite3 shell read and write the same files.
 *
 * Limit: frames a transaction spills into the WAL before its commit are
 * gathered like any append; if that transaction then rolls back without
 * touching the WAL again, they are written later, over frames another
 * process may have committed there meanwhile. flintd's connection sets
 * cache_spill off, so its transactions never spill; other users should too
 * (or flush at the WAL write lock's release, which needs the database
 * file's xShmLock: not done). */
#ifndef FLINT_STORE_SQLITE_WALBATCH_H
#define FLINT_STORE_SQLITE_WALBATCH_H

#include <sqlite3.h>

#define FLINT_SQ_WALBATCH_VFS "flint-walbatch"
/* Bytes gathered at most before they are written: under 128 KiB, because
 * SQLite's unix VFS keeps only the low 17 bits of a write's length (its
 * own writes are pages of at most 64 KiB). */
#define FLINT_SQ_WALBATCH_MAX (64 * 1024)

/* Registers the VFS (not as the default) over the VFS named below (NULL: the
 * default one), once per process; later calls return the first outcome.
 * Returns the VFS's name for sqlite3_open_v2, or NULL when it cannot be
 * registered (then open without it). */
const char *flint_sq_walbatch_vfs(void);

/* For tests: registers a batching VFS named name over the VFS named below. */
int flint_sq_walbatch_register(const char *name, const char *below);

#endif
