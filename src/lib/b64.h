/* base64url without padding (RFC 4648 §5), as RFC 8555 §6.1 requires for
 * every binary field, plus random base64url strings for IDs and tokens. */
#ifndef FLINT_B64_H
#define FLINT_B64_H

#include <stddef.h>
#include <stdint.h>

/* Encodes len bytes; *ret is a malloc'd NUL-terminated string. */
int flint_b64url_encode(const uint8_t *in, size_t len, char **ret);

/* Decodes exactly len characters. Rejects '=' padding, any byte outside the
 * base64url alphabet (including whitespace), a length of 1 mod 4, and
 * non-zero trailing bits. *ret is malloc'd (NUL-terminated for convenience,
 * the terminator not counted in *ret_len). FLINT_EINVAL on bad input. */
int flint_b64url_decode(const char *in, size_t len, uint8_t **ret, size_t *ret_len);

/* A fresh random string of nbytes bytes from the CSPRNG, base64url encoded. */
int flint_random_b64url(size_t nbytes, char **ret);

#endif
