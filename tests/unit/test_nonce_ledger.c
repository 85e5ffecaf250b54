/* Tests the shared-memory ledger of used nonces (RFC 8555 §6.5 single use for
 * the nodes of one SQLite database): once only, across handles and processes
 * racing for the same serials; the window; a reboot starts it over; files
 * that are not a ledger are refused. */
#include <fcntl.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "error.h"
#include "nonce.h"
#include "nonce_ledger.h"

static char dir[] = "/tmp/flint-test-ledger-XXXXXX";

static void path_of(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "%s/%s", dir, name);
}

static void test_once_and_window(void)
{
	struct flint_nonce_ledger *l = NULL;
	uint64_t s1, s2, s;

	CHECK_INT(flint_nonce_ledger_open_with(NULL, "boot", 6, &l), 0); /* 64 serials */
	if (!l)
		return;
	s1 = flint_nonce_ledger_issue(l);
	s2 = flint_nonce_ledger_issue(l);
	CHECK(s2 == s1 + 1);
	CHECK(s1 >= (1ULL << 32)); /* a random start, far from 0 */
	CHECK_INT(flint_nonce_ledger_redeem(l, s2), 0);
	CHECK_INT(flint_nonce_ledger_redeem(l, s2), FLINT_ECONFLICT);
	CHECK_INT(flint_nonce_ledger_redeem(l, s1), 0);
	CHECK_INT(flint_nonce_ledger_redeem(l, s1), FLINT_ECONFLICT);
	/* never issued: the next serial, one far ahead, one far behind */
	CHECK_INT(flint_nonce_ledger_redeem(l, s2 + 1), FLINT_EINVAL);
	CHECK_INT(flint_nonce_ledger_redeem(l, UINT64_MAX), FLINT_EINVAL);
	CHECK_INT(flint_nonce_ledger_redeem(l, 0), FLINT_ENOTFOUND);

	/* 62 more fill the window; s1 is still in it, then one more pushes it out */
	for (int i = 0; i < 62; i++)
		s = flint_nonce_ledger_issue(l);
	CHECK_INT(flint_nonce_ledger_redeem(l, s1), FLINT_ECONFLICT);
	s = flint_nonce_ledger_issue(l); /* s1 + 64: s1's bit, cleared for it */
	CHECK(s == s1 + 64);
	CHECK_INT(flint_nonce_ledger_redeem(l, s1), FLINT_ENOTFOUND);
	CHECK_INT(flint_nonce_ledger_redeem(l, s), 0); /* not taken for s1's use */
	CHECK_INT(flint_nonce_ledger_redeem(l, s), FLINT_ECONFLICT);
	CHECK_INT(flint_nonce_ledger_redeem(l, s2), FLINT_ECONFLICT);
	flint_nonce_ledger_free(l);
	flint_nonce_ledger_free(NULL);
}

static void test_shared_file(void)
{
	char p[128];
	struct flint_nonce_ledger *a = NULL, *b = NULL;
	struct stat sb;
	uint64_t s, t;

	path_of(p, sizeof(p), "shared-nonces");
	CHECK_INT(flint_nonce_ledger_open_with(p, "boot-1", 10, &a), 0);
	CHECK_INT(flint_nonce_ledger_open_with(p, "boot-1", 10, &b), 0);
	if (!a || !b)
		goto out;
	CHECK_INT(stat(p, &sb), 0);
	CHECK_INT(sb.st_mode & 0777, 0600);
	s = flint_nonce_ledger_issue(a);
	t = flint_nonce_ledger_issue(b); /* one counter */
	CHECK(t == s + 1);
	CHECK_INT(flint_nonce_ledger_redeem(b, s), 0);
	CHECK_INT(flint_nonce_ledger_redeem(a, s), FLINT_ECONFLICT);
	CHECK_INT(flint_nonce_ledger_redeem(a, t), 0);
	CHECK_INT(flint_nonce_ledger_redeem(b, t), FLINT_ECONFLICT);
	flint_nonce_ledger_free(b);
	b = NULL;

	/* a reboot: the file starts over; nothing issued before is accepted */
	CHECK_INT(flint_nonce_ledger_open_with(p, "boot-2", 10, &b), 0);
	if (b) {
		uint64_t u = flint_nonce_ledger_issue(b);

		CHECK(u != t + 1);
		CHECK(flint_nonce_ledger_redeem(b, s + 2) < 0);
		CHECK(flint_nonce_ledger_redeem(b, t + 1) < 0);
		CHECK_INT(flint_nonce_ledger_redeem(b, u), 0);
	}
out:
	flint_nonce_ledger_free(a);
	flint_nonce_ledger_free(b);
}

static void write_file(const char *p, const void *data, size_t len)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	CHECK(fd >= 0);
	if (fd >= 0) {
		CHECK(write(fd, data, len) == (ssize_t)len);
		close(fd);
	}
}

static void test_hostile_files(void)
{
	char p[128], q[128];
	struct flint_nonce_ledger *l = NULL;
	static char junk[8192];

	/* this boot's ledger of another shape: refused, left as it is */
	path_of(p, sizeof(p), "shape-nonces");
	CHECK_INT(flint_nonce_ledger_open_with(p, "boot-1", 10, &l), 0);
	flint_nonce_ledger_free(l);
	l = NULL;
	CHECK_INT(flint_nonce_ledger_open_with(p, "boot-1", 12, &l), FLINT_EINVAL);
	CHECK(l == NULL);
	CHECK_INT(flint_nonce_ledger_open_with(p, "boot-1", 10, &l), 0);
	flint_nonce_ledger_free(l);
	l = NULL;

	/* the same, cut short (it would fault when mapped) */
	CHECK_INT(truncate(p, 4096 + 16), 0);
	CHECK_INT(flint_nonce_ledger_open_with(p, "boot-1", 10, &l), FLINT_EINVAL);
	CHECK(l == NULL);

	/* a header of this boot with a wrong magic */
	{
		int fd = open(p, O_RDWR);
		CHECK(fd >= 0);
		if (fd >= 0) {
			CHECK(ftruncate(fd, 4096 + 128) == 0);
			CHECK(pwrite(fd, "NOTLEDGR", 8, 0) == 8);
			close(fd);
		}
		CHECK_INT(flint_nonce_ledger_open_with(p, "boot-1", 10, &l), FLINT_EINVAL);
	}

	/* some other file: left alone */
	path_of(q, sizeof(q), "junk-nonces");
	memset(junk, 0xa5, sizeof(junk));
	write_file(q, junk, 7);
	CHECK_INT(flint_nonce_ledger_open_with(q, "boot-1", 10, &l), FLINT_EINVAL);
	write_file(q, junk, sizeof(junk));
	CHECK_INT(flint_nonce_ledger_open_with(q, "boot-1", 10, &l), FLINT_EINVAL);
	CHECK(l == NULL);

	/* a ledger left half-made (header written, no boot identity yet), as
	 * after a crash while starting one: made anew */
	{
		int fd = open(p, O_RDWR);
		static const char nobody[48];

		CHECK(fd >= 0);
		if (fd >= 0) {
			CHECK(pwrite(fd, "FLNONCE", 8, 0) == 8);
			CHECK(pwrite(fd, nobody, sizeof(nobody), 16) == (ssize_t)sizeof(nobody));
			close(fd);
		}
		CHECK_INT(flint_nonce_ledger_open_with(p, "boot-1", 10, &l), 0);
		if (l) {
			uint64_t s = flint_nonce_ledger_issue(l);
			CHECK_INT(flint_nonce_ledger_redeem(l, s), 0);
		}
		flint_nonce_ledger_free(l);
		l = NULL;
	}

	/* not a regular file; a symbolic link is not followed */
	CHECK(flint_nonce_ledger_open_with(dir, "boot-1", 10, &l) < 0);
	path_of(q, sizeof(q), "link-nonces");
	CHECK_INT(symlink(p, q), 0);
	CHECK(flint_nonce_ledger_open_with(q, "boot-1", 10, &l) < 0);
	CHECK(l == NULL);

	/* arguments */
	CHECK_INT(flint_nonce_ledger_open_with(NULL, "boot", 5, &l), FLINT_EINVAL);
	CHECK_INT(flint_nonce_ledger_open_with(NULL, "boot", 33, &l), FLINT_EINVAL);
	CHECK_INT(flint_nonce_ledger_open_with(NULL, NULL, 10, &l), FLINT_EINVAL);
	memset(junk, 'b', 100);
	junk[100] = '\0';
	CHECK_INT(flint_nonce_ledger_open_with(NULL, junk, 10, &l), FLINT_EINVAL);
	CHECK(l == NULL);

	/* this machine's own boot identity */
	path_of(q, sizeof(q), "real-nonces");
	CHECK_INT(flint_nonce_ledger_open(q, &l), 0);
	flint_nonce_ledger_free(l);
}

/* Processes racing: RACERS processes, each with its own mapping of the
 * file, try to redeem every one of SERIALS serials in the same order, meeting
 * at a barrier before each so that they collide on it; each serial must be
 * accepted exactly once in all. */
#define SERIALS 3000
#define RACERS 3

struct gate {
	_Atomic unsigned arrived; /* racers at the barrier of the current round */
	_Atomic unsigned round;
};

static void barrier(struct gate *g, unsigned *round)
{
	unsigned r = (*round)++;

	if (atomic_fetch_add(&g->arrived, 1) == RACERS - 1) {
		atomic_store(&g->arrived, 0);
		atomic_store(&g->round, r + 1);
		return;
	}
	for (unsigned spins = 0; atomic_load(&g->round) == r; spins++)
		if (spins > 1000)
			sched_yield(); /* fewer cores than racers */
}

static int race(const char *path, const uint64_t *serials, struct gate *g, int *ret_won)
{
	struct flint_nonce_ledger *own = NULL;
	unsigned round = 0;
	int won = 0, rc = flint_nonce_ledger_open_with(path, "boot-1", 16, &own);

	barrier(g, &round);
	for (int i = 0; rc == 0 && i < SERIALS; i++) {
		barrier(g, &round);
		rc = flint_nonce_ledger_redeem(own, serials[i]);
		if (rc == 0)
			won++;
		else if (rc == FLINT_ECONFLICT)
			rc = 0;
	}
	flint_nonce_ledger_free(own);
	*ret_won = won;
	return rc;
}

static void test_processes_race(void)
{
	char p[128];
	struct flint_nonce_ledger *l = NULL;
	static uint64_t serials[SERIALS];
	int fds[2], total = 0;
	pid_t pids[RACERS];
	struct gate *g =
	    mmap(NULL, sizeof(*g), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	CHECK(g != MAP_FAILED);
	if (g == MAP_FAILED)
		return;
	atomic_store(&g->arrived, 0);
	atomic_store(&g->round, 0);
	path_of(p, sizeof(p), "race-nonces");
	CHECK_INT(flint_nonce_ledger_open_with(p, "boot-1", 16, &l), 0);
	if (!l)
		return;
	for (int i = 0; i < SERIALS; i++)
		serials[i] = flint_nonce_ledger_issue(l);
	CHECK_INT(pipe(fds), 0);
	for (int k = 0; k < RACERS; k++) {
		pids[k] = fork();
		if (pids[k] == 0) {
			int won = 0;

			if (race(p, serials, g, &won) < 0)
				_exit(2);
			_exit(write(fds[1], &won, sizeof(won)) == sizeof(won) ? 0 : 3);
		}
	}
	close(fds[1]);
	for (int k = 0; k < RACERS; k++) {
		int status = 0, won = 0;

		if (read(fds[0], &won, sizeof(won)) == sizeof(won))
			total += won;
		CHECK(waitpid(pids[k], &status, 0) == pids[k]);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	close(fds[0]);
	CHECK_INT(total, SERIALS);
	for (int i = 0; i < SERIALS; i++)
		CHECK_INT(flint_nonce_ledger_redeem(l, serials[i]), FLINT_ECONFLICT);
	flint_nonce_ledger_free(l);
	munmap(g, sizeof(*g));
}

/* Nonces with a ledger: the serial travels in the MAC'd nonce; the account is
 * still read; a nonce of this key made without the ledger is not in it. */
static void test_nonce_with_ledger(void)
{
	char db[128];
	struct flint_store *st = NULL;
	struct flint_nonce_key k = {0}, bare = {0};
	struct flint_account *a = NULL;
	char n[FLINT_NONCE_LEN + 1], m[FLINT_NONCE_LEN + 1], r[FLINT_NONCE_LEN + 1];

	path_of(db, sizeof(db), "n.db");
	CHECK_INT(flint_store_open(db, &st), 0);
	if (!st)
		return;
	CHECK_INT(flint_nonce_key_load(st, &k), 0);
	bare = k;
	bare.mac_inner = bare.mac_outer = NULL;
	CHECK_INT(flint_nonce_ledger_open_with(NULL, "boot", 10, &k.ledger), 0);
	CHECK_INT(flint_nonce_new(&k, 100, n), 0);
	CHECK_INT(flint_nonce_new(&k, 100, m), 0);
	CHECK_INT(flint_nonce_new(&bare, 100, r), 0);
	CHECK(strcmp(n, m) != 0);
	CHECK_INT(flint_nonce_redeem(&k, st, n, 10, "nobody", &a), 0);
	CHECK(a == NULL);
	CHECK_INT(flint_nonce_redeem(&k, st, n, 10, "nobody", &a), FLINT_ECONFLICT);
	CHECK_INT(flint_nonce_redeem(&k, st, n, 10, NULL, NULL), FLINT_ECONFLICT);
	CHECK_INT(flint_nonce_redeem(&k, st, m, 100, NULL, NULL), FLINT_ENOTFOUND); /* expired */
	CHECK_INT(flint_nonce_redeem(&k, st, m, 10, NULL, NULL), 0);
	CHECK(flint_nonce_redeem(&k, st, r, 10, NULL, NULL) < 0); /* random serial */
	/* the store recorded nothing: without the ledger the same nonce is new to it */
	CHECK_INT(flint_nonce_redeem(&bare, st, n, 10, NULL, NULL), 0);
	flint_nonce_key_clear(&k);
	CHECK(k.ledger == NULL);
	flint_store_close(st);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	RUN(test_once_and_window);
	RUN(test_shared_file);
	RUN(test_hostile_files);
	RUN(test_processes_race);
	RUN(test_nonce_with_ledger);
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK_INT(system(cmd), 0);
	return CHECK_DONE();
}
