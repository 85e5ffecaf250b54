/* The account cache of the SQLite backend (sqlite_account_cache.h). */
#include "store/sqlite_account_cache.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"

/* The generation file: a magic line, then the counter in a cache line of
 * its own. */
#define GEN_MAGIC "flintd account generation 1\n"
#define GEN_FILE_SIZE 4096
#define GEN_OFFSET 64

struct slot {
	struct flint_account *account; /* NULL: empty */
	uint64_t generation;
	int64_t stored;
	uint64_t used; /* the cache's tick when last found or stored; 0 while empty */
};

struct flint_sq_account_cache {
	_Atomic uint64_t *generation; /* in the mapping, or in local */
	void *map;		      /* GEN_FILE_SIZE bytes, or NULL */
	_Atomic uint64_t local;
	pthread_mutex_t lock; /* the slots and tick */
	uint64_t tick;
	struct slot slots[FLINT_SQ_ACCOUNT_CACHE_SETS][FLINT_SQ_ACCOUNT_CACHE_WAYS];
};

/* Under the file lock: makes an empty file a generation file, or checks
 * that it is one. */
static int file_prepare(int fd)
{
	struct stat sb;
	char magic[sizeof(GEN_MAGIC) - 1];

	if (fstat(fd, &sb) < 0)
		return FLINT_EIO;
	if (sb.st_size == 0) {
		/* allocated now: a page first written through the mapping on a
		 * full disk would be a SIGBUS */
		if (posix_fallocate(fd, 0, GEN_FILE_SIZE) != 0 ||
		    pwrite(fd, GEN_MAGIC, sizeof(magic), 0) != (ssize_t)sizeof(magic))
			return FLINT_EIO;
		return 0;
	}
	if (sb.st_size != GEN_FILE_SIZE ||
	    pread(fd, magic, sizeof(magic), 0) != (ssize_t)sizeof(magic) ||
	    memcmp(magic, GEN_MAGIC, sizeof(magic)) != 0)
		return FLINT_EINVAL;
	return 0;
}

static int map_file(const char *path, void **ret)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	int rc = FLINT_EIO;
	void *map = MAP_FAILED;

	if (fd < 0)
		return FLINT_EIO;
	if (flock(fd, LOCK_EX) < 0)
		goto out;
	rc = file_prepare(fd);
	if (rc == 0) {
		map = mmap(NULL, GEN_FILE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		rc = map == MAP_FAILED ? FLINT_EIO : 0;
	}
	flock(fd, LOCK_UN);
	if (rc == 0)
		*ret = map;
out:
	close(fd); /* the mapping stays */
	return rc;
}

int flint_sq_account_cache_open(const char *gen_path, struct flint_sq_account_cache **ret)
{
	struct flint_sq_account_cache *c = calloc(1, sizeof(*c));
	int rc;

	if (!c)
		return FLINT_ENOMEM;
	pthread_mutex_init(&c->lock, NULL);
	c->generation = &c->local;
	if (gen_path) {
		if ((rc = map_file(gen_path, &c->map)) < 0) {
			flint_sq_account_cache_free(c);
			return rc;
		}
		c->generation = (_Atomic uint64_t *)((char *)c->map + GEN_OFFSET);
	}
	*ret = c;
	return 0;
}

void flint_sq_account_cache_free(struct flint_sq_account_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < FLINT_SQ_ACCOUNT_CACHE_SETS; i++)
		for (size_t w = 0; w < FLINT_SQ_ACCOUNT_CACHE_WAYS; w++)
			flint_account_free(c->slots[i][w].account);
	if (c->map)
		munmap(c->map, GEN_FILE_SIZE);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

uint64_t flint_sq_account_cache_generation(struct flint_sq_account_cache *c)
{
	return atomic_load(c->generation);
}

void flint_sq_account_cache_bump(struct flint_sq_account_cache *c)
{
	atomic_fetch_add(c->generation, 1);
}

static struct slot *set_of(struct flint_sq_account_cache *c, const char *id)
{
	uint32_t h = 2166136261u;
	for (const unsigned char *p = (const unsigned char *)id; *p; p++)
		h = (h ^ *p) * 16777619u;
	return c->slots[h % FLINT_SQ_ACCOUNT_CACHE_SETS];
}

/* Under the lock: the way holding id, or NULL. */
static struct slot *find(struct slot *set, const char *id)
{
	for (size_t w = 0; w < FLINT_SQ_ACCOUNT_CACHE_WAYS; w++)
		if (set[w].account && strcmp(set[w].account->id, id) == 0)
			return &set[w];
	return NULL;
}

int flint_sq_account_cache_get(struct flint_sq_account_cache *c, const char *id, int64_t now,
			       struct flint_account **ret)
{
	uint64_t generation = flint_sq_account_cache_generation(c);
	int rc = FLINT_ENOTFOUND;

	pthread_mutex_lock(&c->lock);
	struct slot *s = find(set_of(c, id), id);
	if (s && s->generation == generation && now >= s->stored &&
	    now - s->stored < FLINT_SQ_ACCOUNT_CACHE_MAX_AGE_S) {
		s->used = ++c->tick;
		rc = flint_account_dup(s->account, ret);
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

void flint_sq_account_cache_put(struct flint_sq_account_cache *c, const struct flint_account *a,
				uint64_t generation, int64_t now)
{
	struct flint_account *copy = NULL;

	if (!a->id || flint_account_dup(a, &copy) < 0)
		return;
	pthread_mutex_lock(&c->lock);
	struct slot *set = set_of(c, a->id), *s = find(set, a->id);
	if (!s) { /* the least recently used way (an empty one first: its use is 0) */
		s = &set[0];
		for (size_t w = 1; w < FLINT_SQ_ACCOUNT_CACHE_WAYS; w++)
			if (set[w].used < s->used)
				s = &set[w];
	}
	flint_account_free(s->account);
	s->account = copy;
	s->generation = generation;
	s->stored = now;
	s->used = ++c->tick;
	pthread_mutex_unlock(&c->lock);
}
