/* libFuzzer driver for the OCSP responder (RFC 6960): any bytes POSTed to
 * /ocsp reach flint_issuer_ocsp. Every input must give a DER OCSPResponse
 * (successful or malformedRequest), never a crash or a leak. */
#include <openssl/ocsp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "issuer.h"

static struct flint_issuer *issuer;

static int lookup(void *ctx, const char *serial_hex, struct flint_ocsp_status *ret)
{
	(void)ctx;
	ret->status = serial_hex[0] == '1' ? V_OCSP_CERTSTATUS_REVOKED : V_OCSP_CERTSTATUS_GOOD;
	ret->revoked_at = 1700000000;
	ret->reason = 1;
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char dir[] = "/tmp/flint-fuzz-ocsp-XXXXXX";
	struct flint_issuer_options opt = {.data_dir = dir, .listen_host = "localhost",
					   .base_url = "https://localhost:14000", .ocsp = true};

	(void)argc;
	(void)argv;
	if (!mkdtemp(dir) || flint_issuer_open(&opt, &issuer) != 0) {
		fprintf(stderr, "cannot create the fuzzing CA in %s\n", dir);
		abort();
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *der = NULL;
	size_t len = 0;
	const unsigned char *p;
	OCSP_RESPONSE *resp;

	if (flint_issuer_ocsp(issuer, data, size, lookup, NULL, &der, &len) != 0)
		abort(); /* every request gets a response */
	p = der;
	resp = d2i_OCSP_RESPONSE(NULL, &p, (long)len);
	if (!resp || p != der + len)
		abort();
	OCSP_RESPONSE_free(resp);
	free(der);
	return 0;
}
