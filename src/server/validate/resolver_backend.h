/* The backends of validation's DNS (RFC 8555 §8.4): a table of functions
 * and a file each, as the store's backends.
 * A configured recursive resolver asked through libflint's stub
 * (resolver_stub.c), or the system's resolvers through libunbound, which
 * validates DNSSEC here when a root trust anchor is installed
 * (resolver_unbound.c). */
#ifndef FLINT_RESOLVER_BACKEND_H
#define FLINT_RESOLVER_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Failures a backend reports beyond its own codes (all negative). */
#define RESOLVE_TIMEOUT (-1000)
#define RESOLVE_REFUSED (-1001) /* the configured server's port is closed */
#define RESOLVE_FAILED (-1002)  /* another socket error talking to it */
#define RESOLVE_BADNAME (-1003) /* no query can carry the name */
#define RESOLVE_BUSY (-1004)    /* every slot of the stub in flight */
#define RESOLVE_NOMEM (-1005)

/* One query, started by a backend and answered into its fields; packet
 * and why_bogus are malloc'd, and the resolver frees them. */
struct flint_dns_pending {
	bool done;
	int id;        /* the backend's handle while in flight; -1 once not */
	int rcode;     /* the answer's */
	int sec;       /* 0 insecure, 1 bogus, 2 secure */
	char *why_bogus;
	uint8_t *packet; /* the answer message */
	size_t len;
};

struct flint_resolver_backend {
	/* Starts the query for type records at name into p (zeroed): 0, or a
	 * negative code strerror names. */
	int (*start)(void *ctx, const char *name, int type, struct flint_dns_pending *p);
	/* Waits at most timeout_ms for p's answer (p->done then); either way p
	 * is no longer in flight after it. */
	int (*wait)(void *ctx, struct flint_dns_pending *p, int timeout_ms);
	/* Forgets p if it is still in flight (nothing otherwise). */
	void (*cancel)(void *ctx, struct flint_dns_pending *p);
	const char *(*strerror)(int err);
	void (*free)(void *ctx);
};

/* server: "IP", "IP:PORT" or "[V6]:PORT" (flint_dns_server_addr). */
extern const struct flint_resolver_backend flint_resolver_stub;
int flint_resolver_stub_new(const char *server, void **ret);

/* /etc/resolv.conf's resolvers. */
extern const struct flint_resolver_backend flint_resolver_unbound;
int flint_resolver_unbound_new(void **ret);

#endif
