/* Per-thread buffered DRBG output (random.h). */
#include "random.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <string.h>

#include "error.h"

#define POOL_BYTES 4096

struct pool {
	unsigned char bytes[POOL_BYTES];
	size_t left; /* unused bytes, at the end of bytes */
};

static _Thread_local struct pool pool;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* In a forked child (the thread that forked): forget what the parent buffered. */
static void forget_in_child(void)
{
	OPENSSL_cleanse(&pool, sizeof(pool));
}

static void register_atfork(void)
{
	pthread_atfork(NULL, NULL, forget_in_child);
}

int flint_random_fill(void *buf, size_t n)
{
	unsigned char *out = buf;

	pthread_once(&atfork_once, register_atfork);
	if (n > POOL_BYTES / 4) /* large requests straight from the DRBG */
		return RAND_bytes(out, (int)n) == 1 ? 0 : FLINT_ECRYPTO;
	while (n) {
		size_t take;

		if (!pool.left) {
			if (RAND_bytes(pool.bytes, POOL_BYTES) != 1)
				return FLINT_ECRYPTO;
			pool.left = POOL_BYTES;
		}
		take = n < pool.left ? n : pool.left;
		memcpy(out, pool.bytes + POOL_BYTES - pool.left, take);
		/* bytes handed out are not kept */
		OPENSSL_cleanse(pool.bytes + POOL_BYTES - pool.left, take);
		pool.left -= take;
		out += take;
		n -= take;
	}
	return 0;
}
