/* Tests the WAL-batching VFS (store/sqlite_walbatch.h): a commit's frames in
 * one write; each commit in the file before its COMMIT returns (a process
 * that exits without closing loses nothing); other connections, through the
 * plain VFS, see every commit at once; transactions that spill pages before
 * committing, roll back, outgrow the buffer or follow a WAL restart. The
 * count of write system calls comes from /proc/self/io (syscw). */
#include <sqlite3.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "store/sqlite_walbatch.h"

static char dir[] = "/tmp/flint-test-walbatch-XXXXXX";
static char db_path[128];

/* write-like system calls of this process so far, -1 if unknown */
static long write_calls(void)
{
	FILE *f = fopen("/proc/self/io", "r");
	char line[128];
	long n = -1;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "syscw: %ld", &n) == 1)
			break;
	if (f)
		fclose(f);
	return n;
}

static void remove_db(void)
{
	char p[160];
	const char *suffixes[] = {"", "-wal", "-shm"};
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", db_path, suffixes[i]);
		unlink(p);
	}
}

/* A connection in WAL mode, through vfs (NULL: the default, plain one). */
static sqlite3 *open_db(const char *vfs)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs);
	CHECK_INT(rc, SQLITE_OK);
	CHECK_INT(sqlite3_exec(db,
			       "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
			       "PRAGMA wal_autocheckpoint = 0;"
			       "CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, v BLOB)",
			       NULL, NULL, NULL),
		  SQLITE_OK);
	return db;
}

static int exec(sqlite3 *db, const char *sql)
{
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		fprintf(stderr, "  %s: %s\n", sql, sqlite3_errmsg(db));
	return rc;
}

static long long scalar(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s = NULL;
	long long v = -1;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static void check_integrity(sqlite3 *db)
{
	sqlite3_stmt *s = NULL;
	CHECK_INT(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL), SQLITE_OK);
	CHECK_INT(sqlite3_step(s), SQLITE_ROW);
	CHECK_STR((const char *)sqlite3_column_text(s, 0), "ok");
	sqlite3_finalize(s);
}

/* inserts n rows of size bytes each in one transaction */
static int insert_rows(sqlite3 *db, int n, int size, bool commit)
{
	char sql[160];
	snprintf(sql, sizeof(sql),
		 "BEGIN; WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c "
		 "WHERE i < %d) INSERT INTO t(v) SELECT randomblob(%d) FROM c; %s",
		 n, size, commit ? "COMMIT" : "");
	return exec(db, sql);
}

/* Writes per commit: one through the batching VFS, two per page without. */
static void test_one_write_per_commit(void)
{
	long before, with_batch, without;

	remove_db();
	sqlite3 *db = open_db(flint_sq_walbatch_vfs());
	CHECK_INT(insert_rows(db, 1, 10, true), SQLITE_OK); /* the WAL's header */
	before = write_calls();
	CHECK(before >= 0);
	CHECK_INT(insert_rows(db, 8, 3000, true), SQLITE_OK); /* 8 leaf pages and more */
	with_batch = write_calls() - before;
	CHECK(with_batch == 1);
	sqlite3_close(db);

	remove_db();
	db = open_db(NULL);
	CHECK_INT(insert_rows(db, 1, 10, true), SQLITE_OK);
	before = write_calls();
	CHECK_INT(insert_rows(db, 8, 3000, true), SQLITE_OK);
	without = write_calls() - before;
	CHECK(without >= 16); /* the plain VFS: header and page apart */
	sqlite3_close(db);
	printf("     writes for one commit of 8 rows: %ld batched, %ld plain\n", with_batch,
	       without);
}

/* A process that commits and exits without closing its connection (a
 * crash): every commit is in the file, in its place, for the recovery of the
 * next opener, also after a WAL restart that followed a rolled-back
 * transaction whose last spilled frames were still gathered. */
static void test_commit_written_before_it_returns(void)
{
	remove_db();
	sqlite3 *db = open_db(NULL);
	sqlite3_close(db);

	pid_t pid = fork();
	if (pid == 0) {
		sqlite3 *child = open_db(flint_sq_walbatch_vfs()), *plain = open_db(NULL);
		for (int i = 0; i < 5; i++)
			if (insert_rows(child, 3, 100, true) != SQLITE_OK)
				_exit(2);
		if (exec(child, "PRAGMA cache_size = 4") != SQLITE_OK ||
		    sqlite3_wal_checkpoint_v2(plain, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL,
					      NULL) != SQLITE_OK ||
		    insert_rows(child, 40, 3000, false) != SQLITE_OK ||
		    exec(child, "ROLLBACK") != SQLITE_OK ||
		    insert_rows(child, 3, 100, true) != SQLITE_OK)
			_exit(3);
		_exit(0); /* no sqlite3_close: nothing flushed on the way out */
	}
	int status = 0;
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	db = open_db(NULL); /* the first opener recovers the WAL from the file */
	CHECK_INT(scalar(db, "SELECT count(*) FROM t"), 18);
	check_integrity(db);
	sqlite3_close(db);
}

/* Another connection through the plain VFS sees each commit at once, and the
 * batching connection sees the other's. */
static void test_other_connection_sees_commits(void)
{
	remove_db();
	sqlite3 *a = open_db(flint_sq_walbatch_vfs()), *b = open_db(NULL);
	for (int i = 1; i <= 40; i++) {
		CHECK_INT(insert_rows(i % 2 ? a : b, 2, 500 + 100 * i, true), SQLITE_OK);
		CHECK_INT(scalar(a, "SELECT count(*) FROM t"), 2 * i);
		CHECK_INT(scalar(b, "SELECT count(*) FROM t"), 2 * i);
	}
	check_integrity(b);
	sqlite3_close(a);
	sqlite3_close(b);
}

/* Every row of t as a through the batching VFS and b through the plain one
 * (reading the WAL from the file) see them: the same ids and bytes. */
static bool same_rows(sqlite3 *a, sqlite3 *b)
{
	sqlite3_stmt *sa = NULL, *sb = NULL;
	bool same = sqlite3_prepare_v2(a, "SELECT id, v FROM t ORDER BY id", -1, &sa, NULL) ==
			SQLITE_OK &&
		    sqlite3_prepare_v2(b, "SELECT id, v FROM t ORDER BY id", -1, &sb, NULL) ==
			SQLITE_OK;
	while (same) {
		int ra = sqlite3_step(sa), rb = sqlite3_step(sb);
		if (ra != rb || (ra != SQLITE_ROW && ra != SQLITE_DONE)) {
			same = false;
			break;
		}
		if (ra == SQLITE_DONE)
			break;
		int na = sqlite3_column_bytes(sa, 1), nb = sqlite3_column_bytes(sb, 1);
		const void *va = sqlite3_column_blob(sa, 1), *vb = sqlite3_column_blob(sb, 1);
		same = sqlite3_column_int64(sa, 0) == sqlite3_column_int64(sb, 0) && na == nb &&
		       (na == 0 || (va && vb && memcmp(va, vb, (size_t)na) == 0));
	}
	sqlite3_finalize(sa);
	sqlite3_finalize(sb);
	return same;
}

/* A commit of each size from 1 to ~45 frames is whole in the file when
 * COMMIT returns, whichever way the frames fall in the buffer: among them
 * one whose commit frame's page no longer fits after its header (16 frames
 * of 4 KiB), which the VFS once kept gathered past the commit. A plain
 * connection reads every row as written, and after a checkpoint copies the
 * pages into the database, the database is whole. */
static void test_commit_of_every_size(void)
{
	remove_db();
	sqlite3 *a = open_db(flint_sq_walbatch_vfs()), *b = open_db(NULL);
	int bad = 0;
	for (int k = 1; k <= 40; k++) {
		CHECK_INT(insert_rows(a, k, 3000, true), SQLITE_OK);
		if (!same_rows(a, b)) {
			if (!bad)
				fprintf(stderr, "  rows differ after a commit of %d rows\n", k);
			bad++;
		}
		CHECK_INT(sqlite3_wal_checkpoint_v2(b, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL),
			  SQLITE_OK);
	}
	CHECK_INT(bad, 0);
	check_integrity(b);
	sqlite3_close(a);
	sqlite3_close(b);
}

static bool copy_file(const char *from, const char *to)
{
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	char buf[65536];
	size_t n;
	bool ok = in && out;
	while (ok && (n = fread(buf, 1, sizeof(buf), in)) > 0)
		ok = fwrite(buf, 1, n, out) == n;
	if (in)
		fclose(in);
	if (out && fclose(out) != 0)
		ok = false;
	return ok;
}

/* A transaction that spills frames into the WAL and then changes pages it
 * spilled: SQLite rewrites those frames in place and, at commit, the frame
 * headers after them with new checksums, the commit frame's last. All of
 * it is in the file when COMMIT returns: a copy of the database and its WAL
 * taken then (what a crash would leave) recovers the whole transaction.
 * (Gathered, the rewritten commit header stayed in memory and the copy
 * recovered none of it.) */
static void test_rewritten_frames_in_file(void)
{
	char copy[160], wal[200], copy_wal[200];
	snprintf(copy, sizeof(copy), "%s/copy.db", dir);
	snprintf(wal, sizeof(wal), "%s-wal", db_path);
	snprintf(copy_wal, sizeof(copy_wal), "%s-wal", copy);
	remove_db();
	sqlite3 *a = open_db(flint_sq_walbatch_vfs());
	CHECK_INT(exec(a, "PRAGMA cache_size = 10"), SQLITE_OK);
	CHECK_INT(exec(a, "BEGIN; WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c "
			  "WHERE i < 2000) INSERT INTO t(v) SELECT randomblob(500) FROM c;"
			  "UPDATE t SET v = randomblob(500) WHERE id < 50; COMMIT"),
		  SQLITE_OK);
	CHECK(copy_file(db_path, copy));
	CHECK(copy_file(wal, copy_wal));
	sqlite3 *b = NULL;
	CHECK_INT(sqlite3_open_v2(copy, &b, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	CHECK_INT(scalar(b, "SELECT count(*) FROM t"), 2000);
	check_integrity(b);
	sqlite3_close(b);
	sqlite3_close(a);
	unlink(copy);
	unlink(copy_wal);
	snprintf(copy_wal, sizeof(copy_wal), "%s-shm", copy);
	unlink(copy_wal);
}

/* Transactions bigger than the buffer and than the page cache (pages spill
 * into the WAL before the commit and are read back), rolled back or
 * committed; then WAL restarts after checkpoints. */
static void test_spills_rollbacks_restarts(void)
{
	remove_db();
	sqlite3 *a = open_db(flint_sq_walbatch_vfs()), *b = open_db(NULL);
	CHECK_INT(exec(a, "PRAGMA cache_size = 4"), SQLITE_OK);
	int rows = 3 * FLINT_SQ_WALBATCH_MAX / 3000;
	CHECK_INT(insert_rows(a, rows, 3000, true), SQLITE_OK);
	CHECK_INT(scalar(b, "SELECT count(*) FROM t"), rows);

	/* spilled, then rolled back: nothing of it is seen */
	CHECK_INT(insert_rows(a, rows, 3000, false), SQLITE_OK);
	CHECK_INT(scalar(a, "SELECT count(*) FROM t"), 2 * rows); /* reads its spilled pages */
	CHECK_INT(exec(a, "ROLLBACK"), SQLITE_OK);
	CHECK_INT(scalar(a, "SELECT count(*) FROM t"), rows);
	CHECK_INT(scalar(b, "SELECT count(*) FROM t"), rows);
	CHECK_INT(insert_rows(a, 5, 100, true), SQLITE_OK);
	CHECK_INT(scalar(b, "SELECT count(*) FROM t"), rows + 5);
	check_integrity(b);

	/* after a complete checkpoint the next writer starts the WAL over */
	for (int i = 0; i < 6; i++) {
		int log = -1, done = -1;
		CHECK_INT(
		    sqlite3_wal_checkpoint_v2(b, NULL, SQLITE_CHECKPOINT_RESTART, &log, &done),
		    SQLITE_OK);
		CHECK_INT(log, done);
		CHECK_INT(insert_rows(a, 4 + i, 2000, true), SQLITE_OK);
		CHECK_INT(exec(b, "UPDATE t SET v = zeroblob(10) WHERE id % 7 = 0"), SQLITE_OK);
	}
	long long total = rows + 5 + 4 * 6 + 15;
	CHECK_INT(scalar(b, "SELECT count(*) FROM t"), total);
	CHECK_INT(scalar(a, "SELECT count(*) FROM t WHERE length(v) = 10"),
		  scalar(b, "SELECT count(*) FROM t WHERE id % 7 = 0"));
	check_integrity(a);

	/* With every page in the database file, a rolled-back transaction's
	 * last spilled frames are still gathered when the next transaction
	 * writes its frames where those began: they go to their own place. */
	for (int i = 0; i < 3; i++) {
		CHECK_INT(
		    sqlite3_wal_checkpoint_v2(b, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL),
		    SQLITE_OK);
		CHECK_INT(insert_rows(a, rows / 2 + 7 * i, 3000, false), SQLITE_OK);
		CHECK_INT(exec(a, "ROLLBACK"), SQLITE_OK);
		CHECK_INT(insert_rows(a, 3, 200, true), SQLITE_OK);
		total += 3;
		CHECK_INT(scalar(b, "SELECT count(*) FROM t"), total);
		check_integrity(b);
	}
	sqlite3_close(a);
	sqlite3_close(b);
}

static void test_registration(void)
{
	CHECK_STR(flint_sq_walbatch_vfs(), FLINT_SQ_WALBATCH_VFS);
	CHECK_STR(flint_sq_walbatch_vfs(), FLINT_SQ_WALBATCH_VFS); /* once */
	CHECK(sqlite3_vfs_find(FLINT_SQ_WALBATCH_VFS) != NULL);
	CHECK(sqlite3_vfs_find(NULL) != sqlite3_vfs_find(FLINT_SQ_WALBATCH_VFS)); /* not default */
	CHECK(flint_sq_walbatch_register("flint-test-x", "no-such-vfs") != SQLITE_OK);
	CHECK(sqlite3_vfs_find("flint-test-x") == NULL);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(db_path, sizeof(db_path), "%s/t.db", dir);
	RUN(test_registration);
	RUN(test_one_write_per_commit);
	RUN(test_commit_written_before_it_returns);
	RUN(test_other_connection_sees_commits);
	RUN(test_commit_of_every_size);
	RUN(test_rewritten_frames_in_file);
	RUN(test_spills_rollbacks_restarts);
	remove_db();
	rmdir(dir);
	return CHECK_DONE();
}
