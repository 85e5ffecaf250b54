/* Validation's DNS through a configured recursive resolver (RFC 8555 §8.4,
 * RFC 8659): libflint's stub behind resolver_backend.h.
 * One UDP socket for all the queries of a lookup (libunbound opens one per
 * query, a dozen system calls each). The server is trusted to recurse and
 * to validate DNSSEC, as Boulder trusts its unbound. */
#include <errno.h>
#include <stdlib.h>

#include "dnsstub.h"
#include "error.h"
#include "timefmt.h"
#include "validate/resolver_backend.h"

int flint_resolver_stub_new(const char *server, void **ret)
{
	struct flint_dns_stub *stub = NULL;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	int err = flint_dns_server_addr(server, &addr, &addr_len);

	if (err == 0)
		err = flint_dns_stub_new((struct sockaddr *)&addr, addr_len, &stub);
	if (err == 0)
		*ret = stub;
	return err;
}

static int stub_start(void *ctx, const char *name, int type, struct flint_dns_pending *p)
{
	int err = flint_dns_stub_query(ctx, name, (uint16_t)type, &p->id);

	return err == 0		      ? 0
	       : err == FLINT_ENOMEM  ? RESOLVE_NOMEM
	       : err == FLINT_EINVAL  ? RESOLVE_BADNAME
	       : err == FLINT_ETOOBIG ? RESOLVE_BUSY
				      : RESOLVE_FAILED;
}

/* The stub releases the query's slot either way. */
static int stub_wait(void *ctx, struct flint_dns_pending *p, int timeout_ms)
{
	long long deadline = flint_now_ms() + timeout_ms;
	int err = flint_dns_stub_wait(ctx, p->id, deadline, &p->packet, &p->len);

	p->id = -1; /* released: never cancelled, whatever takes the slot next */
	if (err < 0)
		return err == FLINT_ENOMEM    ? RESOLVE_NOMEM
		       : errno == ETIMEDOUT    ? RESOLVE_TIMEOUT
		       : errno == ECONNREFUSED ? RESOLVE_REFUSED
					       : RESOLVE_FAILED;
	p->done = true;
	p->rcode = p->packet[3] & 0x0f;
	return 0;
}

static void stub_cancel(void *ctx, struct flint_dns_pending *p)
{
	if (p->id >= 0)
		flint_dns_stub_cancel(ctx, p->id);
	p->id = -1;
}

static const char *stub_strerror(int err)
{
	(void)err;
	return "DNS failure";
}

static void stub_free(void *ctx)
{
	flint_dns_stub_free(ctx);
}

const struct flint_resolver_backend flint_resolver_stub = {
	.start = stub_start,
	.wait = stub_wait,
	.cancel = stub_cancel,
	.strerror = stub_strerror,
	.free = stub_free,
};
