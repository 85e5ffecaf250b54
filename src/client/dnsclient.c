/* DNS transport of the client: a server named by host and port, through
 * libflint's stub (RFC 1035 §4.2, RFC 7766 §5); used by the DNS UPDATE solver. */
#include "dnsclient.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "interrupt.h"
#include "output.h"

int flint_dns_exchange(const char *host, int port, const uint8_t *msg, size_t len, int timeout_ms,
		       uint8_t **ret, size_t *ret_len, char **ret_err)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM}, *res = NULL;
	long long deadline = flint_now_ms() + (timeout_ms > 0 ? timeout_ms : 5000);
	struct flint_dns_stub *stub = NULL;
	char portstr[8];
	int slot, r, gai;

	snprintf(portstr, sizeof(portstr), "%d", port);
	if ((gai = getaddrinfo(host, portstr, &hints, &res)) != 0) {
		flint_set_err(ret_err, "cannot resolve %s: %s", host, gai_strerror(gai));
		return FLINT_EIO;
	}
	r = flint_dns_stub_new(res->ai_addr, res->ai_addrlen, &stub);
	if (r < 0)
		goto out;
	flint_dns_stub_set_interrupt(stub, flint_interrupted);
	r = flint_dns_stub_send(stub, msg, len, &slot);
	if (r < 0)
		goto out;
	r = flint_dns_stub_wait(stub, slot, deadline, ret, ret_len);
out:
	if (r == FLINT_ENOMEM)
		flint_set_err(ret_err, "out of memory");
	else if (r == FLINT_EIO)
		flint_set_err(ret_err, "no answer from %s port %d: %s", host, port,
			      errno == ETIMEDOUT ? "timed out" : strerror(errno));
	else if (r < 0)
		flint_set_err(ret_err, "cannot ask %s port %d: %s", host, port, flint_strerror(r));
	flint_dns_stub_free(stub);
	freeaddrinfo(res);
	return r;
}
