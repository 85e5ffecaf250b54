/* Names for the negative error codes every libflint function returns.
 * Not protocol-bound; used by callers when they log a failure once. */
#include "error.h"

const char *flint_strerror(int err)
{
	switch (err) {
	case FLINT_OK: return "success";
	case FLINT_ENOMEM: return "out of memory";
	case FLINT_EINVAL: return "malformed input";
	case FLINT_EUNSUPPORTED: return "not supported";
	case FLINT_ECRYPTO: return "cryptographic library failure";
	case FLINT_EBADSIG: return "signature did not verify";
	case FLINT_EIO: return "I/O failure";
	case FLINT_ENOTFOUND: return "not found";
	case FLINT_ECONFLICT: return "conflict";
	case FLINT_ETOOBIG: return "input too large";
	case FLINT_EBADKEY: return "key refused by policy";
	case FLINT_EPROTO: return "protocol error";
	}
	return "unknown error";
}
