/* Message digests fetched once (OpenSSL 3 "explicit fetching"): JWS (RFC 7518
 * §3.4), thumbprints (RFC 7638) and key authorization digests use them. */
#include "digest.h"

#include <pthread.h>

static EVP_MD *mds[3];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void fetch_all(void)
{
	static const char *const names[3] = {"SHA2-256", "SHA2-384", "SHA2-512"};
	for (int i = 0; i < 3; i++)
		mds[i] = EVP_MD_fetch(NULL, names[i], NULL);
}

const EVP_MD *flint_md(enum flint_md which)
{
	pthread_once(&once, fetch_all);
	if (mds[which])
		return mds[which];
	/* fall back to the implicit-fetch objects */
	return which == FLINT_MD_SHA256 ? EVP_sha256()
	       : which == FLINT_MD_SHA384 ? EVP_sha384()
					  : EVP_sha512();
}
