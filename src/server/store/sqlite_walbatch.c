/* The WAL-batching VFS (sqlite_walbatch.h). Only the WAL file gets methods
 * of its own; every other file is opened by the VFS below directly into the
 * sqlite3_file SQLite gave, so it costs nothing. */
#include "store/sqlite_walbatch.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* WAL frame header (SQLite's file format, section 4.1): 24 bytes, the page
 * number then, at offset 4, the database size in pages after a commit for a
 * commit frame and zero for any other frame. The page follows it in a second
 * write. */
#define FRAME_HEADER_SIZE 24

struct wb_vfs {
	sqlite3_vfs base;
	sqlite3_vfs *below;
	char name[64];
};

struct wb_file {
	sqlite3_file base;
	sqlite3_file *real;  /* the WAL as the VFS below opened it; after this */
	unsigned char *buf;  /* gathered writes, FLINT_SQ_WALBATCH_MAX bytes */
	size_t len;	     /* bytes gathered */
	sqlite3_int64 off;   /* where buf[0] goes in the file */
	bool commit_pending; /* the last write was a commit frame's header */
	sqlite3_int64 end;   /* end of what this handle wrote since the WAL's header */
};

#define ROUND8(n) (((n) + 7) & ~(size_t)7)

static sqlite3_file *real_of(sqlite3_file *f) { return ((struct wb_file *)f)->real; }

/* Writes what is gathered in one call of the VFS below (one pwrite). The
 * buffer is empty afterwards whatever the outcome: on failure SQLite rolls
 * the transaction back and writes its frames again. */
static int flush(struct wb_file *p)
{
	if (!p->len)
		return SQLITE_OK;
	int rc = p->real->pMethods->xWrite(p->real, p->buf, (int)p->len, p->off);
	p->len = 0;
	p->commit_pending = false;
	return rc;
}

static int wb_close(sqlite3_file *f)
{
	struct wb_file *p = (struct wb_file *)f;
	int rc = flush(p);
	int rc2 = p->real->pMethods->xClose(p->real);
	sqlite3_free(p->buf);
	p->buf = NULL;
	return rc != SQLITE_OK ? rc : rc2;
}

static int wb_read(sqlite3_file *f, void *buf, int amt, sqlite3_int64 off)
{
	int rc = flush((struct wb_file *)f);
	return rc != SQLITE_OK ? rc : real_of(f)->pMethods->xRead(real_of(f), buf, amt, off);
}

static int wb_write(sqlite3_file *f, const void *data, int amt, sqlite3_int64 off)
{
	struct wb_file *p = (struct wb_file *)f;
	size_t n = (size_t)amt;
	int rc = SQLITE_OK;
	/* Decided before anything is flushed: a flush forgets commit_pending.
	 * (It once did so when the commit frame's page did not fit after its
	 * header; the page then stayed gathered past the commit, SQLite
	 * published the frame, and the checkpointer copied a page that was not
	 * in the file into the database.) */
	bool commit_page = n != FRAME_HEADER_SIZE && p->commit_pending;

	/* Only appends are gathered. A write below what this handle has
	 * written since the WAL's header (offset 0: a new generation) goes out
	 * at once: a frame of the transaction rewritten in place after a spill,
	 * and the frame headers SQLite rewrites after that at commit with new
	 * checksums (walRewriteChecksums) - the last of them the commit frame's,
	 * which no page write follows, so gathered it would stay in memory past
	 * the commit with a stale checksum in the file. */
	if (off == 0)
		p->end = 0;
	if (off < p->end && !(p->len && off == p->off + (sqlite3_int64)p->len)) {
		rc = flush(p);
		return rc != SQLITE_OK ? rc : p->real->pMethods->xWrite(p->real, data, amt, off);
	}
	if (off + (sqlite3_int64)n > p->end)
		p->end = off + (sqlite3_int64)n;

	if (p->len && (off != p->off + (sqlite3_int64)p->len || p->len + n > FLINT_SQ_WALBATCH_MAX))
		rc = flush(p);
	if (rc == SQLITE_OK && !p->buf && n <= FLINT_SQ_WALBATCH_MAX)
		p->buf = sqlite3_malloc(FLINT_SQ_WALBATCH_MAX); /* NULL: written as they come */
	if (rc != SQLITE_OK)
		return rc;
	if (!p->buf || n > FLINT_SQ_WALBATCH_MAX)
		return p->real->pMethods->xWrite(p->real, data, amt, off);
	if (!p->len)
		p->off = off;
	memcpy(p->buf + p->len, data, n);
	p->len += n;
	if (n == FRAME_HEADER_SIZE) {
		const unsigned char *h = data;
		p->commit_pending = (h[4] | h[5] | h[6] | h[7]) != 0;
	} else if (commit_page) {
		/* the commit frame's page: the transaction is complete, and SQLite
		 * publishes it in the WAL index once this returns */
		rc = flush(p);
	}
	return rc;
}

static int wb_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	int rc = flush((struct wb_file *)f);
	return rc != SQLITE_OK ? rc : real_of(f)->pMethods->xTruncate(real_of(f), size);
}

static int wb_sync(sqlite3_file *f, int flags)
{
	int rc = flush((struct wb_file *)f);
	return rc != SQLITE_OK ? rc : real_of(f)->pMethods->xSync(real_of(f), flags);
}

static int wb_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
	int rc = flush((struct wb_file *)f);
	return rc != SQLITE_OK ? rc : real_of(f)->pMethods->xFileSize(real_of(f), size);
}

static int wb_lock(sqlite3_file *f, int level)
{
	return real_of(f)->pMethods->xLock(real_of(f), level);
}

static int wb_unlock(sqlite3_file *f, int level)
{
	return real_of(f)->pMethods->xUnlock(real_of(f), level);
}

static int wb_check_reserved_lock(sqlite3_file *f, int *out)
{
	return real_of(f)->pMethods->xCheckReservedLock(real_of(f), out);
}

static int wb_file_control(sqlite3_file *f, int op, void *arg)
{
	int rc = flush((struct wb_file *)f);
	return rc != SQLITE_OK ? rc : real_of(f)->pMethods->xFileControl(real_of(f), op, arg);
}

static int wb_sector_size(sqlite3_file *f) { return real_of(f)->pMethods->xSectorSize(real_of(f)); }

static int wb_device_characteristics(sqlite3_file *f)
{
	return real_of(f)->pMethods->xDeviceCharacteristics(real_of(f));
}

static int wb_shm_map(sqlite3_file *f, int page, int size, int extend, void volatile **out)
{
	return real_of(f)->pMethods->xShmMap(real_of(f), page, size, extend, out);
}

static int wb_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
	return real_of(f)->pMethods->xShmLock(real_of(f), offset, n, flags);
}

static void wb_shm_barrier(sqlite3_file *f) { real_of(f)->pMethods->xShmBarrier(real_of(f)); }

static int wb_shm_unmap(sqlite3_file *f, int delete_flag)
{
	return real_of(f)->pMethods->xShmUnmap(real_of(f), delete_flag);
}

static int wb_fetch(sqlite3_file *f, sqlite3_int64 off, int amt, void **out)
{
	int rc = flush((struct wb_file *)f);
	return rc != SQLITE_OK ? rc : real_of(f)->pMethods->xFetch(real_of(f), off, amt, out);
}

static int wb_unfetch(sqlite3_file *f, sqlite3_int64 off, void *page)
{
	return real_of(f)->pMethods->xUnfetch(real_of(f), off, page);
}

#define WB_IO_V1                                                                                   \
	.xClose = wb_close, .xRead = wb_read, .xWrite = wb_write, .xTruncate = wb_truncate,        \
	.xSync = wb_sync, .xFileSize = wb_file_size, .xLock = wb_lock, .xUnlock = wb_unlock,       \
	.xCheckReservedLock = wb_check_reserved_lock, .xFileControl = wb_file_control,             \
	.xSectorSize = wb_sector_size, .xDeviceCharacteristics = wb_device_characteristics
#define WB_IO_V2                                                                                   \
	WB_IO_V1, .xShmMap = wb_shm_map, .xShmLock = wb_shm_lock, .xShmBarrier = wb_shm_barrier,   \
		  .xShmUnmap = wb_shm_unmap

/* the version of the methods below: SQLite calls only what it declares */
static const sqlite3_io_methods wb_io_v1 = {.iVersion = 1, WB_IO_V1};
static const sqlite3_io_methods wb_io_v2 = {.iVersion = 2, WB_IO_V2};
static const sqlite3_io_methods wb_io_v3 = {
    .iVersion = 3, WB_IO_V2, .xFetch = wb_fetch, .xUnfetch = wb_unfetch};

static sqlite3_vfs *below_of(sqlite3_vfs *v) { return ((struct wb_vfs *)v)->below; }

static int wb_open(sqlite3_vfs *v, sqlite3_filename name, sqlite3_file *f, int flags,
		   int *out_flags)
{
	sqlite3_vfs *below = below_of(v);
	if (!(flags & SQLITE_OPEN_WAL))
		return below->xOpen(below, name, f, flags, out_flags);
	struct wb_file *p = (struct wb_file *)f;
	memset(p, 0, sizeof(*p));
	p->real = (sqlite3_file *)((char *)f + ROUND8(sizeof(*p)));
	int rc = below->xOpen(below, name, p->real, flags, out_flags);
	if (rc != SQLITE_OK || !p->real->pMethods) {
		/* SQLite calls xClose only when pMethods is set */
		if (p->real->pMethods)
			p->real->pMethods->xClose(p->real);
		p->base.pMethods = NULL;
		return rc != SQLITE_OK ? rc : SQLITE_CANTOPEN;
	}
	switch (p->real->pMethods->iVersion) {
	case 1:
		p->base.pMethods = &wb_io_v1;
		break;
	case 2:
		p->base.pMethods = &wb_io_v2;
		break;
	default:
		p->base.pMethods = &wb_io_v3;
		break;
	}
	return SQLITE_OK;
}

static int wb_delete(sqlite3_vfs *v, const char *name, int sync_dir)
{
	return below_of(v)->xDelete(below_of(v), name, sync_dir);
}

static int wb_access(sqlite3_vfs *v, const char *name, int flags, int *out)
{
	return below_of(v)->xAccess(below_of(v), name, flags, out);
}

static int wb_full_pathname(sqlite3_vfs *v, const char *name, int n, char *out)
{
	return below_of(v)->xFullPathname(below_of(v), name, n, out);
}

static void *wb_dl_open(sqlite3_vfs *v, const char *name)
{
	return below_of(v)->xDlOpen(below_of(v), name);
}

static void wb_dl_error(sqlite3_vfs *v, int n, char *out)
{
	below_of(v)->xDlError(below_of(v), n, out);
}

static void (*wb_dl_sym(sqlite3_vfs *v, void *h, const char *sym))(void)
{
	return below_of(v)->xDlSym(below_of(v), h, sym);
}

static void wb_dl_close(sqlite3_vfs *v, void *h) { below_of(v)->xDlClose(below_of(v), h); }

static int wb_randomness(sqlite3_vfs *v, int n, char *out)
{
	return below_of(v)->xRandomness(below_of(v), n, out);
}

static int wb_sleep(sqlite3_vfs *v, int us) { return below_of(v)->xSleep(below_of(v), us); }

static int wb_current_time(sqlite3_vfs *v, double *out)
{
	return below_of(v)->xCurrentTime(below_of(v), out);
}

static int wb_get_last_error(sqlite3_vfs *v, int n, char *out)
{
	return below_of(v)->xGetLastError(below_of(v), n, out);
}

static int wb_current_time_int64(sqlite3_vfs *v, sqlite3_int64 *out)
{
	return below_of(v)->xCurrentTimeInt64(below_of(v), out);
}

static int wb_set_system_call(sqlite3_vfs *v, const char *name, sqlite3_syscall_ptr fn)
{
	return below_of(v)->xSetSystemCall(below_of(v), name, fn);
}

static sqlite3_syscall_ptr wb_get_system_call(sqlite3_vfs *v, const char *name)
{
	return below_of(v)->xGetSystemCall(below_of(v), name);
}

static const char *wb_next_system_call(sqlite3_vfs *v, const char *name)
{
	return below_of(v)->xNextSystemCall(below_of(v), name);
}

int flint_sq_walbatch_register(const char *name, const char *below_name)
{
	sqlite3_vfs *below = sqlite3_vfs_find(below_name);
	struct wb_vfs *v;
	if (!below || strlen(name) >= sizeof(v->name))
		return SQLITE_ERROR;
	if (sqlite3_vfs_find(name))
		return SQLITE_OK; /* registered before */
	/* registered VFSes live as long as the process: this is never freed */
	v = calloc(1, sizeof(*v));
	if (!v)
		return SQLITE_NOMEM;
	strcpy(v->name, name);
	v->below = below;
	v->base.iVersion = below->iVersion < 3 ? below->iVersion : 3;
	v->base.szOsFile = (int)(ROUND8(sizeof(struct wb_file)) + (size_t)below->szOsFile);
	v->base.mxPathname = below->mxPathname;
	v->base.zName = v->name;
	v->base.xOpen = wb_open;
	v->base.xDelete = wb_delete;
	v->base.xAccess = wb_access;
	v->base.xFullPathname = wb_full_pathname;
	v->base.xDlOpen = below->xDlOpen ? wb_dl_open : NULL;
	v->base.xDlError = below->xDlError ? wb_dl_error : NULL;
	v->base.xDlSym = below->xDlSym ? wb_dl_sym : NULL;
	v->base.xDlClose = below->xDlClose ? wb_dl_close : NULL;
	v->base.xRandomness = wb_randomness;
	v->base.xSleep = wb_sleep;
	v->base.xCurrentTime = wb_current_time;
	v->base.xGetLastError = below->xGetLastError ? wb_get_last_error : NULL;
	if (v->base.iVersion >= 2)
		v->base.xCurrentTimeInt64 = wb_current_time_int64;
	if (v->base.iVersion >= 3) {
		v->base.xSetSystemCall = wb_set_system_call;
		v->base.xGetSystemCall = wb_get_system_call;
		v->base.xNextSystemCall = wb_next_system_call;
	}
	int rc = sqlite3_vfs_register(&v->base, 0);
	if (rc != SQLITE_OK)
		free(v);
	return rc;
}

static pthread_once_t registered = PTHREAD_ONCE_INIT;
static bool registered_ok;

static void register_once(void)
{
	registered_ok = flint_sq_walbatch_register(FLINT_SQ_WALBATCH_VFS, NULL) == SQLITE_OK;
}

const char *flint_sq_walbatch_vfs(void)
{
	pthread_once(&registered, register_once);
	return registered_ok ? FLINT_SQ_WALBATCH_VFS : NULL;
}
