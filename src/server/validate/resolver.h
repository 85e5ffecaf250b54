/* DNS lookups for validation: a configured recursive resolver asked directly
 * (libflint's stub; it is trusted to validate DNSSEC), or the system's
 * resolvers through libunbound (DNSSEC validated here when a root trust anchor
 * is installed); and the address policy for validation targets. */
#ifndef FLINT_RESOLVER_H
#define FLINT_RESOLVER_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include "problem.h"

struct flint_resolver;

/* forwarder "IP", "IP:PORT", "[V6]:PORT" (port 53 by default), or NULL for
 * /etc/resolv.conf's. */
int flint_resolver_new(const char *forwarder, struct flint_resolver **ret);
void flint_resolver_free(struct flint_resolver *r);
/* Bounds each lookup, resends included (default 10 s). */
void flint_resolver_set_timeout(struct flint_resolver *r, int seconds);

/* Starts the query for type records at name now, so that the lookup that
 * wants them later (on this resolver, same name and type) finds the answer
 * there or on its way. Best effort: a query that cannot start is started by
 * that lookup instead, which reports its failure. At most 16 at a time. */
void flint_resolver_prefetch(struct flint_resolver *r, const char *name, int type);
/* Forgets (and cancels) the prefetched queries no lookup took. */
void flint_resolver_prefetch_drop(struct flint_resolver *r);
/* How many prefetched queries wait for their lookup. */
size_t flint_resolver_prefetched(const struct flint_resolver *r);

/* TXT records at name (CNAMEs followed), each record's strings concatenated.
 * NXDOMAIN / no data -> 0 with *ret_n = 0. SERVFAIL, timeout, bogus DNSSEC
 * -> FLINT_EIO and a dns problem. */
int flint_resolver_txt(struct flint_resolver *r, const char *name, char ***ret, size_t *ret_n,
		       struct flint_problem **ret_problem);

/* The records of one RR type at name (CNAMEs followed), each parsed by
 * parse into an element of elem_size bytes (FLINT_EINVAL records skipped);
 * clear releases an element's contents. *ret is a calloc'd array (even when
 * empty). Lookup failures -> FLINT_EIO and a dns problem. */
int flint_resolver_collect(struct flint_resolver *r, const char *name, int type,
			   const char *tname, size_t elem_size,
			   int (*parse)(const unsigned char *d, size_t len, void *elem),
			   void (*clear)(void *elem), void **ret, size_t *ret_n,
			   struct flint_problem **ret_problem);

/* TXT rdata (RFC 1035 §3.3.14): one or more <length><bytes> strings,
 * concatenated into *ret (malloc'd). FLINT_EINVAL for a truncated string or
 * an embedded NUL. Exposed for its unit test and fuzz target. */
int flint_dns_txt_rdata_parse(const unsigned char *d, size_t len, char **ret);

/* A and AAAA addresses of name (IPv6 first). No address at all -> FLINT_ENOTFOUND
 * and a dns problem. */
int flint_resolver_addrs(struct flint_resolver *r, const char *name,
			 struct sockaddr_storage **ret, size_t *ret_n,
			 struct flint_problem **ret_problem);

/* Whether validation may connect to addr: public unicast only, unless
 * allow_loopback, which additionally permits 127.0.0.0/8 and ::1 (never
 * RFC 1918, link-local, multicast, unspecified ...). */
bool flint_address_allowed(const struct sockaddr_storage *addr, bool allow_loopback);

#endif
