/* Unpredictable bytes for identifiers and nonces, cheaply: each thread draws
 * them from its own buffer of OpenSSL DRBG output, refilled 4 KiB at a time,
 * instead of one RAND_bytes call (a lock and a fork check each) per value.
 * Not for secrets: keys come from RAND_priv_bytes / RAND_bytes directly. */
#ifndef FLINT_RANDOM_H
#define FLINT_RANDOM_H

#include <stddef.h>

/* Fills buf with n random bytes: 0, or FLINT_ECRYPTO when the DRBG fails. A
 * forked child never sees bytes its parent buffered. */
int flint_random_fill(void *buf, size_t n);

#endif
