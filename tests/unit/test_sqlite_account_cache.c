/* Tests the SQLite backend's account cache (store/sqlite_account_cache.h):
 * copies in and out, the generation shared through a file by every mapping
 * and process, a row read before a bump is never served after it, the
 * maximum age, slot collisions, and files that are not generation files. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "error.h"
#include "store/sqlite_account_cache.h"

static char dir[] = "/tmp/flint-test-acache-XXXXXX";
static char gen_path[128];

static struct flint_account account(const char *id, const char *status)
{
	return (struct flint_account){.id = (char *)id,
				      .jwk_json = "{\"kty\":\"EC\"}",
				      .thumbprint = "thumb",
				      .contact_json = "[]",
				      .status = (char *)status,
				      .tos_agreed = true,
				      .created = 77,
				      .eab_json = NULL};
}

static void test_copies(void)
{
	struct flint_sq_account_cache *c = NULL;
	struct flint_account a = account("acct1", "valid"), *got = NULL;

	CHECK_INT(flint_sq_account_cache_open(NULL, &c), 0); /* a private database */
	CHECK_INT(flint_sq_account_cache_get(c, "acct1", 10, &got), FLINT_ENOTFOUND);
	flint_sq_account_cache_put(c, &a, flint_sq_account_cache_generation(c), 10);
	CHECK_INT(flint_sq_account_cache_get(c, "acct1", 10, &got), 0);
	if (got) {
		CHECK(got != &a && got->id != a.id && got->status != a.status);
		CHECK_STR(got->id, "acct1");
		CHECK_STR(got->jwk_json, "{\"kty\":\"EC\"}");
		CHECK_STR(got->thumbprint, "thumb");
		CHECK_STR(got->contact_json, "[]");
		CHECK_STR(got->status, "valid");
		CHECK(got->tos_agreed);
		CHECK_INT(got->created, 77);
		CHECK(got->eab_json == NULL);
		/* the caller owns its copy: changing it changes nothing kept */
		got->status[0] = 'X';
	}
	flint_account_free(got);
	got = NULL;
	CHECK_INT(flint_sq_account_cache_get(c, "acct1", 11, &got), 0);
	if (got)
		CHECK_STR(got->status, "valid");
	flint_account_free(got);
	got = NULL;
	/* an id that is not the one kept, in whatever slot */
	CHECK_INT(flint_sq_account_cache_get(c, "acct2", 11, &got), FLINT_ENOTFOUND);
	CHECK_INT(flint_sq_account_cache_get(c, "acct", 11, &got), FLINT_ENOTFOUND);
	CHECK(got == NULL);

	/* more ids than slots: each served only as itself */
	enum { SLOTS = FLINT_SQ_ACCOUNT_CACHE_SETS * FLINT_SQ_ACCOUNT_CACHE_WAYS };
	static char ids[3 * SLOTS][16];
	for (int i = 0; i < 3 * SLOTS; i++) {
		snprintf(ids[i], sizeof(ids[i]), "id%d", i);
		struct flint_account x = account(ids[i], "valid");
		flint_sq_account_cache_put(c, &x, flint_sq_account_cache_generation(c), 20);
	}
	int served = 0, wrong = 0;
	for (int i = 0; i < 3 * SLOTS; i++) {
		if (flint_sq_account_cache_get(c, ids[i], 20, &got) == 0) {
			served++;
			wrong += strcmp(got->id, ids[i]) != 0;
			flint_account_free(got);
			got = NULL;
		}
	}
	CHECK_INT(wrong, 0);
	CHECK(served > 0 && served <= SLOTS);
	flint_sq_account_cache_free(c);
}

/* The cache's set of an id (FNV-1a, as the cache hashes). */
static size_t set_of(const char *id)
{
	uint32_t h = 2166136261u;
	for (const unsigned char *p = (const unsigned char *)id; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h % FLINT_SQ_ACCOUNT_CACHE_SETS;
}

static bool served(struct flint_sq_account_cache *c, const char *id)
{
	struct flint_account *got = NULL;
	bool ok = flint_sq_account_cache_get(c, id, 30, &got) == 0;
	flint_account_free(got);
	return ok;
}

static void test_ways(void)
{
	struct flint_sq_account_cache *c = NULL;
	char same[FLINT_SQ_ACCOUNT_CACHE_WAYS + 1][16];
	size_t n = 0, set = set_of("first");

	CHECK_INT(flint_sq_account_cache_open(NULL, &c), 0);
	if (!c)
		return;
	/* 128 active accounts (as many as make bench's peak row has): all kept */
	char ids[128][16];
	for (int i = 0; i < 128; i++) {
		snprintf(ids[i], sizeof(ids[i]), "acct-%d", i);
		struct flint_account x = account(ids[i], "valid");
		flint_sq_account_cache_put(c, &x, flint_sq_account_cache_generation(c), 30);
	}
	int kept = 0;
	for (int i = 0; i < 128; i++)
		kept += served(c, ids[i]);
	CHECK_INT(kept, 128);
	/* one set over-full: the least recently used way goes */
	for (int i = 0; n < sizeof(same) / sizeof(same[0]) && i < 1000000; i++) {
		snprintf(same[n], sizeof(same[n]), "s%d", i);
		if (set_of(same[n]) == set)
			n++;
	}
	CHECK_INT(n, FLINT_SQ_ACCOUNT_CACHE_WAYS + 1);
	uint64_t g = flint_sq_account_cache_generation(c);
	for (size_t i = 0; i < FLINT_SQ_ACCOUNT_CACHE_WAYS; i++) {
		struct flint_account x = account(same[i], "valid");
		flint_sq_account_cache_put(c, &x, g, 30);
	}
	CHECK(served(c, same[0])); /* now the most recently used */
	struct flint_account x = account(same[FLINT_SQ_ACCOUNT_CACHE_WAYS], "valid");
	flint_sq_account_cache_put(c, &x, g, 30);
	CHECK(served(c, same[0]));
	CHECK(!served(c, same[1])); /* the least recently used */
	for (size_t i = 2; i <= FLINT_SQ_ACCOUNT_CACHE_WAYS; i++)
		CHECK(served(c, same[i]));
	/* storing an id again replaces its own way, not another */
	struct flint_account y = account(same[2], "deactivated");
	flint_sq_account_cache_put(c, &y, g, 30);
	for (size_t i = 0; i <= FLINT_SQ_ACCOUNT_CACHE_WAYS; i++)
		CHECK(served(c, same[i]) == (i != 1));
	struct flint_account *got = NULL;
	CHECK_INT(flint_sq_account_cache_get(c, same[2], 30, &got), 0);
	if (got)
		CHECK_STR(got->status, "deactivated");
	flint_account_free(got);
	flint_sq_account_cache_free(c);
}

static void test_generation_and_age(void)
{
	struct flint_sq_account_cache *c = NULL;
	struct flint_account a = account("acct1", "valid"), *got = NULL;

	CHECK_INT(flint_sq_account_cache_open(NULL, &c), 0);
	uint64_t g = flint_sq_account_cache_generation(c);
	flint_sq_account_cache_put(c, &a, g, 100);
	CHECK_INT(flint_sq_account_cache_get(c, "acct1", 100 + FLINT_SQ_ACCOUNT_CACHE_MAX_AGE_S - 1,
					     &got),
		  0);
	flint_account_free(got);
	got = NULL;
	CHECK_INT(
	    flint_sq_account_cache_get(c, "acct1", 100 + FLINT_SQ_ACCOUNT_CACHE_MAX_AGE_S, &got),
	    FLINT_ENOTFOUND);
	CHECK_INT(flint_sq_account_cache_get(c, "acct1", 99, &got),
		  FLINT_ENOTFOUND); /* clock back */

	flint_sq_account_cache_put(c, &a, g, 200);
	flint_sq_account_cache_bump(c);
	CHECK(flint_sq_account_cache_generation(c) != g);
	CHECK_INT(flint_sq_account_cache_get(c, "acct1", 200, &got), FLINT_ENOTFOUND);
	/* a row read before the bump (generation taken then) is stale at once */
	flint_sq_account_cache_put(c, &a, g, 200);
	CHECK_INT(flint_sq_account_cache_get(c, "acct1", 200, &got), FLINT_ENOTFOUND);
	flint_sq_account_cache_put(c, &a, flint_sq_account_cache_generation(c), 200);
	CHECK_INT(flint_sq_account_cache_get(c, "acct1", 200, &got), 0);
	flint_account_free(got);
	CHECK(got != NULL);
	flint_sq_account_cache_free(c);
	flint_sq_account_cache_free(NULL);
}

/* Two mappings of one file, and another process, share the generation. */
static void test_shared_file(void)
{
	struct flint_sq_account_cache *c1 = NULL, *c2 = NULL;
	struct flint_account a = account("acct1", "valid"), *got = NULL;
	struct stat sb;

	CHECK_INT(flint_sq_account_cache_open(gen_path, &c1), 0);
	CHECK_INT(flint_sq_account_cache_open(gen_path, &c2), 0);
	if (!c1 || !c2)
		goto out;
	CHECK(stat(gen_path, &sb) == 0 && (sb.st_mode & 0777) == 0600);
	flint_sq_account_cache_put(c1, &a, flint_sq_account_cache_generation(c1), 5);
	CHECK_INT(flint_sq_account_cache_get(c1, "acct1", 5, &got), 0);
	flint_account_free(got);
	got = NULL;
	flint_sq_account_cache_bump(c2);
	CHECK_INT(flint_sq_account_cache_get(c1, "acct1", 5, &got), FLINT_ENOTFOUND);

	flint_sq_account_cache_put(c1, &a, flint_sq_account_cache_generation(c1), 5);
	pid_t pid = fork();
	if (pid == 0) {
		struct flint_sq_account_cache *child = NULL;
		if (flint_sq_account_cache_open(gen_path, &child) != 0)
			_exit(2);
		flint_sq_account_cache_bump(child);
		_exit(0);
	}
	int status = 0;
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	      WEXITSTATUS(status) == 0);
	CHECK_INT(flint_sq_account_cache_get(c1, "acct1", 5, &got), FLINT_ENOTFOUND);
out:
	flint_sq_account_cache_free(c1);
	flint_sq_account_cache_free(c2);
}

static void write_file(const char *path, const char *content, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0 && write(fd, content, n) == (ssize_t)n);
	if (fd >= 0)
		close(fd);
}

static void test_foreign_files(void)
{
	struct flint_sq_account_cache *c = NULL;
	char path[160], buf[64] = {0};

	/* a file of something else is refused and left as it is */
	snprintf(path, sizeof(path), "%s/other", dir);
	write_file(path, "not a generation file at all\n", 29);
	CHECK_INT(flint_sq_account_cache_open(path, &c), FLINT_EINVAL);
	int fd = open(path, O_RDONLY);
	CHECK(fd >= 0 && read(fd, buf, sizeof(buf)) == 29);
	if (fd >= 0)
		close(fd);
	CHECK(memcmp(buf, "not a generation file at all\n", 29) == 0);
	/* the right magic but cut short */
	struct flint_sq_account_cache *ok = NULL;
	CHECK_INT(flint_sq_account_cache_open(gen_path, &ok), 0);
	flint_sq_account_cache_free(ok);
	CHECK(fd >= 0 && (fd = open(gen_path, O_RDONLY)) >= 0 && read(fd, buf, 28) == 28);
	if (fd >= 0)
		close(fd);
	write_file(path, buf, 28);
	CHECK_INT(flint_sq_account_cache_open(path, &c), FLINT_EINVAL);
	/* an empty file (a creator that stopped early) is made one */
	write_file(path, "", 0);
	CHECK_INT(flint_sq_account_cache_open(path, &c), 0);
	flint_sq_account_cache_free(c);
	c = NULL;
	/* a directory, a path that cannot be made */
	CHECK_INT(flint_sq_account_cache_open(dir, &c), FLINT_EIO);
	snprintf(path, sizeof(path), "%s/no/such/dir", dir);
	CHECK_INT(flint_sq_account_cache_open(path, &c), FLINT_EIO);
	CHECK(c == NULL);
	snprintf(path, sizeof(path), "%s/other", dir);
	unlink(path);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(gen_path, sizeof(gen_path), "%s/flintd.db-gen", dir);
	RUN(test_copies);
	RUN(test_ways);
	RUN(test_generation_and_age);
	RUN(test_shared_file);
	RUN(test_foreign_files);
	unlink(gen_path);
	rmdir(dir);
	return CHECK_DONE();
}
