/* Error codes shared by every flint module: 0 is success, failures are negative.
 * Library functions return these; results travel through ret_* parameters. */
#ifndef FLINT_ERROR_H
#define FLINT_ERROR_H

enum {
	FLINT_OK = 0,
	FLINT_ENOMEM = -1,      /* allocation failed */
	FLINT_EINVAL = -2,      /* malformed input */
	FLINT_EUNSUPPORTED = -3, /* well-formed but not supported (alg, key type) */
	FLINT_ECRYPTO = -4,     /* OpenSSL failure */
	FLINT_EBADSIG = -5,     /* signature did not verify */
	FLINT_EIO = -6,         /* storage or network I/O failed */
	FLINT_ENOTFOUND = -7,   /* no such object */
	FLINT_ECONFLICT = -8,   /* unique constraint or state precondition failed */
	FLINT_ETOOBIG = -9,     /* input over its hard cap */
	FLINT_EBADKEY = -10,    /* key refused by policy (size, curve) */
	FLINT_EPROTO = -11,     /* the peer answered with an error or something unexpected */
};

/* A static, human-readable name for an error code. */
const char *flint_strerror(int err);

#endif
