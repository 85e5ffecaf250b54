/* Used nonces as bits of a window over a shared serial counter (RFC 8555
 * §6.5 single use), in a file every flintd process on one SQLite database maps.
 * The file: one page of header, then 2^window_log2 bits, one per serial. */
#include "nonce_ledger.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "random.h"

#define MAGIC "FLNONCE"
#define VERSION 1
#define HEADER_SIZE 4096
#define BOOT_ID_LEN 48
#define BOOT_ID_FILE "/proc/sys/kernel/random/boot_id"

/* At offset 0 of the file; `next` is shared by every process. */
struct ledger_header {
	char magic[8];
	uint32_t version;
	uint32_t window_log2;
	char boot_id[BOOT_ID_LEN]; /* written last: empty until the file is whole */
	_Atomic uint64_t next;	   /* the serial of the next nonce */
};

_Static_assert(sizeof(struct ledger_header) <= HEADER_SIZE, "header fits its page");
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "shared counters need lock-free 64-bit atomics");

struct flint_nonce_ledger {
	void *map;
	size_t map_len;
	struct ledger_header *h;
	_Atomic uint64_t *bits; /* 2^window_log2 bits */
	uint64_t window;
};

static size_t file_size(unsigned window_log2)
{
	return HEADER_SIZE + ((size_t)1 << window_log2) / 8;
}

static int read_boot_id(char *ret, size_t cap)
{
	FILE *f = fopen(BOOT_ID_FILE, "re");
	int rc = FLINT_EIO;

	if (f && fgets(ret, (int)cap, f)) {
		ret[strcspn(ret, "\n")] = '\0';
		rc = ret[0] ? 0 : FLINT_EIO;
	}
	if (f)
		fclose(f);
	return rc;
}

/* A fresh header in the mapping h, the counter at a random point far from
 * any earlier one's, so that no nonce issued before can be in the window. */
static int header_init(struct ledger_header *h, unsigned window_log2)
{
	uint64_t start = 0;

	if (flint_random_fill(&start, sizeof(start)) < 0)
		return FLINT_ECRYPTO;
	memcpy(h->magic, MAGIC, sizeof(h->magic));
	h->version = VERSION;
	h->window_log2 = window_log2;
	atomic_store(&h->next, (start >> 2) | (1ULL << 32)); /* in [2^32, 2^62) */
	return 0;
}

/* Under the file lock: the file at fd is a whole ledger of this boot and
 * shape (0), needs starting over (1), or is something else (FLINT_EINVAL). */
static int file_state(int fd, const char *boot_id, unsigned window_log2)
{
	struct ledger_header h;
	struct stat sb;

	if (fstat(fd, &sb) < 0)
		return FLINT_EIO;
	if (!S_ISREG(sb.st_mode))
		return FLINT_EINVAL;
	if (sb.st_size == 0)
		return 1;
	/* not ours: left alone */
	if ((size_t)sb.st_size < sizeof(h) || pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    memcmp(h.magic, MAGIC, sizeof(h.magic)) != 0)
		return FLINT_EINVAL;
	h.boot_id[BOOT_ID_LEN - 1] = '\0';
	/* Written under another boot (or never finished): no process that used
	 * it is running, and its nonces are refused either way. */
	if (strcmp(h.boot_id, boot_id) != 0)
		return 1;
	if (h.version != VERSION || h.window_log2 != window_log2 ||
	    (size_t)sb.st_size != file_size(window_log2))
		return FLINT_EINVAL;
	return 0;
}

/* Empties the file at fd, writes a new header, then sizes it; the boot
 * identity goes last, so a file left half-made is started over again. The
 * blocks are allocated now: a page first written through the mapping of a
 * sparse file on a full disk would kill the process (SIGBUS). */
static int file_init(int fd, const char *boot_id, unsigned window_log2)
{
	struct ledger_header h;
	char id[BOOT_ID_LEN] = {0};
	int rc;

	memset(&h, 0, sizeof(h));
	if ((rc = header_init(&h, window_log2)) < 0)
		return rc;
	snprintf(id, sizeof(id), "%s", boot_id);
	if (ftruncate(fd, 0) < 0 || pwrite(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    ftruncate(fd, (off_t)file_size(window_log2)) < 0 ||
	    posix_fallocate(fd, 0, (off_t)file_size(window_log2)) != 0 ||
	    pwrite(fd, id, sizeof(id), offsetof(struct ledger_header, boot_id)) !=
		(ssize_t)sizeof(id))
		return FLINT_EIO;
	return 0;
}

int flint_nonce_ledger_open_with(const char *path, const char *boot_id, unsigned window_log2,
				 struct flint_nonce_ledger **ret)
{
	struct flint_nonce_ledger *l = NULL;
	bool locked = false;
	int fd = -1, rc = FLINT_EINVAL;

	if (!ret || !boot_id || strlen(boot_id) >= BOOT_ID_LEN || window_log2 < 6 ||
	    window_log2 > 32)
		return FLINT_EINVAL;
	rc = FLINT_ENOMEM;
	if (!(l = calloc(1, sizeof(*l))))
		goto out;
	l->map_len = file_size(window_log2);
	l->window = 1ULL << window_log2;
	if (!path) {
		rc = FLINT_ENOMEM;
		l->map = mmap(NULL, l->map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			      -1, 0);
		if (l->map == MAP_FAILED)
			goto out;
		if ((rc = header_init(l->map, window_log2)) < 0)
			goto out;
	} else {
		rc = FLINT_EIO;
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0)
			goto out;
		/* processes starting together: one makes the file, the others wait */
		if (flock(fd, LOCK_EX) < 0)
			goto out;
		locked = true;
		rc = file_state(fd, boot_id, window_log2);
		if (rc == 1)
			rc = file_init(fd, boot_id, window_log2);
		if (rc < 0)
			goto out;
		rc = FLINT_EIO;
		l->map = mmap(NULL, l->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (l->map == MAP_FAILED)
			goto out;
	}
	l->h = l->map;
	l->bits = (_Atomic uint64_t *)((char *)l->map + HEADER_SIZE);
	*ret = l;
	l = NULL;
	rc = 0;
out:
	if (locked)
		flock(fd, LOCK_UN);
	if (fd >= 0)
		close(fd);
	if (l && l->map == MAP_FAILED)
		l->map = NULL;
	flint_nonce_ledger_free(l);
	return rc;
}

int flint_nonce_ledger_open(const char *path, struct flint_nonce_ledger **ret)
{
	char boot_id[BOOT_ID_LEN];
	int rc = read_boot_id(boot_id, sizeof(boot_id));

	if (rc < 0)
		return rc;
	return flint_nonce_ledger_open_with(path, boot_id, FLINT_NONCE_LEDGER_WINDOW_LOG2, ret);
}

void flint_nonce_ledger_free(struct flint_nonce_ledger *l)
{
	if (!l)
		return;
	if (l->map)
		munmap(l->map, l->map_len);
	free(l);
}

static uint64_t bit_of(const struct flint_nonce_ledger *l, uint64_t serial, size_t *ret_word)
{
	uint64_t i = serial & (l->window - 1);

	*ret_word = (size_t)(i / 64);
	return 1ULL << (i % 64);
}

uint64_t flint_nonce_ledger_issue(struct flint_nonce_ledger *l)
{
	uint64_t serial = atomic_fetch_add(&l->h->next, 1);
	size_t word;
	uint64_t bit = bit_of(l, serial, &word);

	/* The bit last meant serial - window, which has just left the window
	 * (next moved first: see redeem). */
	atomic_fetch_and(&l->bits[word], ~bit);
	return serial;
}

int flint_nonce_ledger_redeem(struct flint_nonce_ledger *l, uint64_t serial)
{
	uint64_t next = atomic_load(&l->h->next);
	size_t word;
	uint64_t bit = bit_of(l, serial, &word);

	if (serial >= next)
		return FLINT_EINVAL;
	if (next - serial > l->window)
		return FLINT_ENOTFOUND;
	if (atomic_fetch_or(&l->bits[word], bit) & bit)
		return FLINT_ECONFLICT;
	/* If the window moved past serial meanwhile, the bit may have been
	 * cleared for serial + window before we set it: a second redemption
	 * could have found it clear too. Refuse; the worst left is that
	 * serial + window, if issued, is refused as used (a badNonce retry). */
	if (atomic_load(&l->h->next) - serial > l->window)
		return FLINT_ENOTFOUND;
	return 0;
}
