/* Validation's DNS through the system's resolvers (RFC 8555 §8.4, RFC 8659),
 * DNSSEC validated here (RFC 4035): libunbound behind resolver_backend.h.
 * libunbound runs in event mode, on an event base of the resolver's own, in
 * the calling thread while it waits for an answer. Its asynchronous mode
 * instead hands every query to a resolver thread and the answer back
 * through pipes, about three times the CPU per query (and a synchronous
 * ub_resolve builds a whole new worker for every query). DNSSEC is
 * validated here when the root trust anchor is installed. */
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <unbound-event.h>
#include <unbound.h>
#include <unistd.h>

#include "error.h"
#include "validate/resolver_backend.h"

#define ROOT_KEY_FILE "/usr/share/dns/root.key"
#define RR_CLASS_IN 1

struct unbound_ctx {
	struct event_base *base;
	struct ub_ctx *ub;
	struct event *deadline;
	bool timed_out;
};

static void unbound_free(void *ctx)
{
	struct unbound_ctx *u = ctx;

	if (!u)
		return;
	if (u->ub)
		ub_ctx_delete(u->ub); /* drops queries still running, calling nobody back */
	if (u->deadline)
		event_free(u->deadline);
	if (u->base)
		event_base_free(u->base);
	free(u);
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	struct unbound_ctx *u = arg;
	u->timed_out = true;
}

int flint_resolver_unbound_new(void **ret)
{
	struct unbound_ctx *u = calloc(1, sizeof(*u));
	int err = FLINT_ENOMEM;

	if (!u || !(u->base = event_base_new()) ||
	    !(u->deadline = evtimer_new(u->base, deadline_cb, u)) ||
	    !(u->ub = ub_ctx_create_event(u->base)))
		goto out;
	err = FLINT_EINVAL;
	/* Challenge records are usually just changed by the applicant: never
	 * answer from our own cache; the upstream resolver caches. */
	if (ub_ctx_set_option(u->ub, "cache-max-ttl:", "0") != 0 ||
	    ub_ctx_set_option(u->ub, "cache-max-negative-ttl:", "0") != 0 ||
	    /* Loopback resolvers: systemd-resolved's 127.0.0.53. */
	    ub_ctx_set_option(u->ub, "do-not-query-localhost:", "no") != 0)
		goto out;
	err = FLINT_EIO;
	if (ub_ctx_resolvconf(u->ub, NULL) != 0)
		goto out;
	if (access(ROOT_KEY_FILE, R_OK) == 0 && ub_ctx_add_ta_file(u->ub, ROOT_KEY_FILE) != 0)
		goto out;
	*ret = u;
	u = NULL;
	err = 0;
out:
	unbound_free(u);
	return err;
}

static void query_done(void *arg, int rcode, void *packet, int len, int sec, char *why_bogus,
		       int was_ratelimited)
{
	(void)was_ratelimited;
	struct flint_dns_pending *p = arg;

	p->done = true;
	p->rcode = rcode;
	p->sec = sec;
	if (why_bogus)
		p->why_bogus = strdup(why_bogus);
	if (packet && len > 0 && (p->packet = malloc((size_t)len))) {
		memcpy(p->packet, packet, (size_t)len);
		p->len = (size_t)len;
	}
}

/* p is filled in when unbound calls back, while the base runs (wait). */
static int unbound_start(void *ctx, const char *name, int type, struct flint_dns_pending *p)
{
	struct unbound_ctx *u = ctx;

	return ub_resolve_event(u->ub, name, type, RR_CLASS_IN, p, query_done, &p->id);
}

static void unbound_cancel(void *ctx, struct flint_dns_pending *p)
{
	struct unbound_ctx *u = ctx;

	if (!p->done && p->id >= 0)
		(void)ub_cancel(u->ub, p->id); /* unbound drops it without calling back */
	p->id = -1;
}

/* Runs the base until unbound calls back or the deadline passes (then the
 * query is cancelled). */
static int unbound_wait(void *ctx, struct flint_dns_pending *p, int timeout_ms)
{
	struct unbound_ctx *u = ctx;
	struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};

	u->timed_out = false;
	evtimer_add(u->deadline, &tv);
	while (!p->done && !u->timed_out)
		if (event_base_loop(u->base, EVLOOP_ONCE) < 0)
			break;
	evtimer_del(u->deadline);
	if (!p->done) {
		unbound_cancel(u, p);
		return u->timed_out ? RESOLVE_TIMEOUT : UB_SERVFAIL;
	}
	p->id = -1; /* answered: unbound forgot it */
	return 0;
}

static const char *unbound_strerror(int err)
{
	return ub_strerror(err);
}

const struct flint_resolver_backend flint_resolver_unbound = {
	.start = unbound_start,
	.wait = unbound_wait,
	.cancel = unbound_cancel,
	.strerror = unbound_strerror,
	.free = unbound_free,
};
