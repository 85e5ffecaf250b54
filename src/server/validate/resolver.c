/* DNS lookups for challenge validation (RFC 8555 §8.3, §8.4): queries started
 * ahead, answers bounded in time and size, CNAMEs followed, records parsed; asked
 * of a configured recursive resolver through libflint's stub (resolver_stub.c) or
 * of the system's resolvers through libunbound, DNSSEC validated here
 * (resolver_unbound.c); and the address policy that keeps validation off
 * non-public networks (§10.2). */
#include "resolver.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dnsmsg.h"
#include "error.h"
#include "validate/resolver_backend.h"

#define RR_TYPE_A 1
#define RR_TYPE_TXT 16
#define RR_TYPE_AAAA 28
/* Hard caps on what one answer may make us allocate. */
#define MAX_RECORDS 64
#define DEFAULT_TIMEOUT_MS 10000

#define MAX_PREFETCHED 16

/* A query started ahead of the lookup that will want its answer. */
struct prefetched {
	char *name;
	int type;
	struct flint_dns_pending *p;
};

struct flint_resolver {
	const struct flint_resolver_backend *be; /* resolver_backend.h */
	void *be_ctx;
	int timeout_ms; /* per query, across resends */
	struct prefetched pre[MAX_PREFETCHED];
	size_t n_pre;
};

int flint_resolver_new(const char *forwarder, struct flint_resolver **ret)
{
	struct flint_resolver *r = NULL;
	int err = FLINT_ENOMEM;

	if (!ret)
		return FLINT_EINVAL;
	if (!(r = calloc(1, sizeof(*r))))
		goto out;
	r->timeout_ms = DEFAULT_TIMEOUT_MS;
	r->be = forwarder ? &flint_resolver_stub : &flint_resolver_unbound;
	err = forwarder ? flint_resolver_stub_new(forwarder, &r->be_ctx)
			: flint_resolver_unbound_new(&r->be_ctx);
	if (err < 0)
		goto out;
	*ret = r;
	r = NULL;
out:
	free(r); /* its backend never started */
	return err;
}

static void pending_free(struct flint_dns_pending *p)
{
	if (!p)
		return;
	free(p->why_bogus);
	free(p->packet);
	free(p);
}

/* The records of the queried type that answer name: those at name, or at
 * the end of the CNAME chain that starts there. */
struct answer {
	struct flint_dns_msg *msg;
	uint8_t *packet;
	const struct flint_dns_rr *rr[MAX_RECORDS];
	size_t n;
};

static void answer_free(struct answer *a)
{
	if (!a)
		return;
	flint_dns_msg_free(a->msg);
	free(a->packet);
	free(a);
}

#define MAX_CNAMES 16

static int answer_from(struct flint_dns_pending *p, const char *name, int type,
		       struct answer **ret)
{
	struct answer *a = calloc(1, sizeof(*a));
	char cur[FLINT_DNS_NAME_BUF], target[FLINT_DNS_NAME_BUF];
	int err;

	if (!a)
		return FLINT_ENOMEM;
	a->packet = p->packet;
	p->packet = NULL;
	err = flint_dns_msg_parse(a->packet, p->len, &a->msg);
	if (err < 0)
		goto out;
	if (strlen(name) >= sizeof(cur)) {
		err = FLINT_EINVAL;
		goto out;
	}
	strcpy(cur, name);
	for (int hops = 0; hops < MAX_CNAMES; hops++) {
		bool moved = false;
		for (size_t i = 0; i < a->msg->n_rrs && !moved; i++) {
			const struct flint_dns_rr *rr = &a->msg->rrs[i];
			if (rr->section == 1 && rr->type == FLINT_DNS_T_CNAME && type != FLINT_DNS_T_CNAME &&
			    rr->rclass == FLINT_DNS_C_IN && flint_dns_name_equal(rr->name, cur) &&
			    flint_dns_rr_name(a->msg, rr, target) == 0) {
				strcpy(cur, target);
				moved = true;
			}
		}
		if (!moved)
			break;
	}
	for (size_t i = 0; i < a->msg->n_rrs && a->n < MAX_RECORDS; i++) {
		const struct flint_dns_rr *rr = &a->msg->rrs[i];
		if (rr->section == 1 && rr->type == type && rr->rclass == FLINT_DNS_C_IN &&
		    flint_dns_name_equal(rr->name, cur))
			a->rr[a->n++] = rr;
	}
	*ret = a;
	a = NULL;
	err = 0;
out:
	answer_free(a);
	return err;
}

/* Starts a query on the backend into a new *ret_p. */
static int start(struct flint_resolver *r, const char *name, int type,
		 struct flint_dns_pending **ret_p)
{
	struct flint_dns_pending *p = calloc(1, sizeof(*p));
	int err;

	if (!p)
		return RESOLVE_NOMEM;
	if ((err = r->be->start(r->be_ctx, name, type, p)) != 0) {
		pending_free(p);
		return err;
	}
	*ret_p = p;
	return 0;
}

static int find_prefetched(const struct flint_resolver *r, const char *name, int type)
{
	for (size_t i = 0; i < r->n_pre; i++)
		if (r->pre[i].type == type && strcasecmp(r->pre[i].name, name) == 0)
			return (int)i;
	return -1;
}

void flint_resolver_prefetch(struct flint_resolver *r, const char *name, int type)
{
	struct prefetched *e;

	if (!r || !name || r->n_pre == MAX_PREFETCHED || find_prefetched(r, name, type) >= 0)
		return;
	e = &r->pre[r->n_pre];
	if (!(e->name = strdup(name)))
		return;
	if (start(r, name, type, &e->p) != 0) {
		free(e->name);
		return; /* the lookup itself will start it, and report */
	}
	e->type = type;
	r->n_pre++;
}

void flint_resolver_prefetch_drop(struct flint_resolver *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_pre; i++) {
		r->be->cancel(r->be_ctx, r->pre[i].p);
		pending_free(r->pre[i].p);
		free(r->pre[i].name);
	}
	r->n_pre = 0;
}

size_t flint_resolver_prefetched(const struct flint_resolver *r)
{
	return r ? r->n_pre : 0;
}

/* A query with a deadline: the one prefetched for name and type, or a new
 * one. */
static int resolve_bounded(struct flint_resolver *r, const char *name, int type,
			   struct flint_dns_pending **ret)
{
	struct flint_dns_pending *p = NULL;
	int i = find_prefetched(r, name, type), err;

	if (i >= 0) {
		p = r->pre[i].p;
		free(r->pre[i].name);
		r->pre[i] = r->pre[--r->n_pre];
	} else if ((err = start(r, name, type, &p)) != 0) {
		return err;
	}
	if ((err = r->be->wait(r->be_ctx, p, r->timeout_ms)) != 0) {
		pending_free(p); /* no longer in flight */
		return err;
	}
	*ret = p;
	return 0;
}

static const char *resolve_strerror(const struct flint_resolver *r, int err)
{
	switch (err) {
	case RESOLVE_TIMEOUT: return "query timed out";
	case RESOLVE_REFUSED: return "the DNS server's port is closed";
	case RESOLVE_FAILED: return "the DNS server could not be reached";
	case RESOLVE_BADNAME: return "the name cannot be put in a query";
	case RESOLVE_BUSY: return "too many queries in flight";
	case RESOLVE_NOMEM: return "out of memory";
	default: return r->be->strerror(err);
	}
}

void flint_resolver_free(struct flint_resolver *r)
{
	if (!r)
		return;
	flint_resolver_prefetch_drop(r);
	r->be->free(r->be_ctx);
	free(r);
}

void flint_resolver_set_timeout(struct flint_resolver *r, int seconds)
{
	if (r && seconds > 0)
		r->timeout_ms = seconds * 1000;
}

/* Runs one query; a failure becomes FLINT_EIO and a dns problem. A NULL
 * *ret means "no data" (NXDOMAIN or no record of the type). */
static int query(struct flint_resolver *r, const char *name, int type, const char *tname,
		 struct answer **ret, struct flint_problem **ret_problem)
{
	struct flint_dns_pending *res = NULL;
	struct answer *a = NULL;
	struct flint_problem *p = NULL;
	int lookup_err, err = FLINT_EIO;

	lookup_err = resolve_bounded(r, name, type, &res);
	if (lookup_err != 0) {
		p = flint_problem_new(FLINT_PROB_DNS, "DNS problem: %s looking up %s for %s",
				      resolve_strerror(r, lookup_err), tname, name);
		goto out;
	}
	if (res->sec == 1) {
		p = flint_problem_new(FLINT_PROB_DNS, "DNS problem: DNSSEC validation failed looking up %s for %s: %s",
				      tname, name, res->why_bogus ? res->why_bogus : "bogus");
		goto out;
	}
	if ((res->rcode != 0 && res->rcode != 3 /* NXDOMAIN */) || !res->packet) {
		p = flint_problem_new(FLINT_PROB_DNS, "DNS problem: %s looking up %s for %s",
				      res->rcode == 2 ? "SERVFAIL" : res->rcode == 5 ? "REFUSED" : "server failure",
				      tname, name);
		goto out;
	}
	err = answer_from(res, name, type, &a);
	if (err == FLINT_EINVAL) {
		err = FLINT_EIO;
		p = flint_problem_new(FLINT_PROB_DNS, "DNS problem: malformed answer looking up %s for %s",
				      tname, name);
		goto out;
	}
	if (err < 0)
		goto out;
	if (a->n == 0) {
		answer_free(a);
		a = NULL;
	}
	*ret = a;
	err = 0;
out:
	pending_free(res);
	if (err < 0 && ret_problem) {
		*ret_problem = p;
		p = NULL;
	}
	flint_problem_free(p);
	return err;
}

int flint_dns_txt_rdata_parse(const unsigned char *d, size_t len, char **ret)
{
	char *s;
	size_t i = 0, o = 0;

	s = malloc(len + 1);
	if (!s)
		return FLINT_ENOMEM;
	while (i < len) {
		size_t n = d[i++];
		if (n > len - i) {
			free(s);
			return FLINT_EINVAL;
		}
		if (memchr(d + i, '\0', n)) { /* would truncate: never a valid digest */
			free(s);
			return FLINT_EINVAL;
		}
		memcpy(s + o, d + i, n);
		o += n;
		i += n;
	}
	s[o] = '\0';
	*ret = s;
	return 0;
}

/* The records of one type at name, each parsed by parse into an element of
 * elem_size bytes (malformed ones, FLINT_EINVAL, skipped); clear releases
 * what an element holds. *ret (calloc'd array) and *ret_n on success. */
int flint_resolver_collect(struct flint_resolver *r, const char *name, int type,
			   const char *tname, size_t elem_size,
			   int (*parse)(const unsigned char *d, size_t len, void *elem),
			   void (*clear)(void *elem), void **ret, size_t *ret_n,
			   struct flint_problem **ret_problem)
{
	struct answer *res = NULL;
	unsigned char *v = NULL;
	size_t n = 0, cap;
	int err;

	if (!r || !name || !ret || !ret_n)
		return FLINT_EINVAL;
	err = query(r, name, type, tname, &res, ret_problem);
	if (err < 0)
		return err;
	cap = res ? res->n : 0;
	err = FLINT_ENOMEM;
	if (!(v = calloc(cap ? cap : 1, elem_size)))
		goto out;
	for (size_t i = 0; i < cap; i++) {
		err = parse(res->msg->data + res->rr[i]->rdoff, res->rr[i]->rdlen, v + n * elem_size);
		if (err == FLINT_EINVAL)
			continue; /* a malformed record counts as absent */
		if (err < 0)
			goto out;
		n++;
	}
	*ret = v;
	*ret_n = n;
	v = NULL;
	n = 0;
	err = 0;
out:
	for (size_t i = 0; i < n; i++)
		clear(v + i * elem_size);
	free(v);
	answer_free(res);
	return err;
}

static int parse_txt(const unsigned char *d, size_t len, void *elem)
{
	return flint_dns_txt_rdata_parse(d, len, elem);
}

static void clear_txt(void *elem)
{
	free(*(char **)elem);
}

int flint_resolver_txt(struct flint_resolver *r, const char *name, char ***ret, size_t *ret_n,
		       struct flint_problem **ret_problem)
{
	return flint_resolver_collect(r, name, RR_TYPE_TXT, "TXT", sizeof(char *), parse_txt,
				      clear_txt, (void **)ret, ret_n, ret_problem);
}

static int append_addrs(const struct answer *res, int family, struct sockaddr_storage **v,
			size_t *n)
{
	size_t want = family == AF_INET6 ? 16 : 4;

	for (size_t i = 0; i < res->n && *n < MAX_RECORDS; i++) {
		struct sockaddr_storage *grown, *ss;
		const uint8_t *data = res->msg->data + res->rr[i]->rdoff;

		if (res->rr[i]->rdlen != want)
			continue;
		grown = realloc(*v, (*n + 1) * sizeof(**v));
		if (!grown)
			return FLINT_ENOMEM;
		*v = grown;
		ss = &grown[*n];
		memset(ss, 0, sizeof(*ss));
		if (family == AF_INET6) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
			s6->sin6_family = AF_INET6;
			memcpy(&s6->sin6_addr, data, 16);
		} else {
			struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
			s4->sin_family = AF_INET;
			memcpy(&s4->sin_addr, data, 4);
		}
		(*n)++;
	}
	return 0;
}

int flint_resolver_addrs(struct flint_resolver *r, const char *name,
			 struct sockaddr_storage **ret, size_t *ret_n,
			 struct flint_problem **ret_problem)
{
	static const struct {
		int type, family;
		const char *tname;
	} q[] = {{RR_TYPE_AAAA, AF_INET6, "AAAA"}, {RR_TYPE_A, AF_INET, "A"}};
	struct sockaddr_storage *v = NULL;
	size_t n = 0;
	int err = FLINT_EINVAL;

	if (!r || !name || !ret || !ret_n)
		return FLINT_EINVAL;
	/* both on the wire at once */
	flint_resolver_prefetch(r, name, q[1].type);
	for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
		struct answer *res = NULL;

		err = query(r, name, q[i].type, q[i].tname, &res, ret_problem);
		if (err < 0)
			goto out;
		if (res) {
			err = append_addrs(res, q[i].family, &v, &n);
			answer_free(res);
			if (err < 0)
				goto out;
		}
	}
	if (n == 0) {
		err = FLINT_ENOTFOUND;
		if (ret_problem)
			*ret_problem = flint_problem_new(FLINT_PROB_DNS,
							 "DNS problem: no valid A or AAAA records found for %s",
							 name);
		goto out;
	}
	*ret = v;
	*ret_n = n;
	v = NULL;
	err = 0;
out:
	free(v);
	return err;
}

struct prefix {
	uint8_t addr[16];
	unsigned bits;
	bool loopback; /* permitted when allow_loopback */
};

static const struct prefix v4_denied[] = {
	{{0, 0, 0, 0}, 8, false},        {{10, 0, 0, 0}, 8, false},
	{{100, 64, 0, 0}, 10, false},    {{127, 0, 0, 0}, 8, true},
	{{169, 254, 0, 0}, 16, false},   {{172, 16, 0, 0}, 12, false},
	{{192, 0, 0, 0}, 24, false},     {{192, 0, 2, 0}, 24, false},
	{{192, 168, 0, 0}, 16, false},   {{198, 18, 0, 0}, 15, false},
	{{198, 51, 100, 0}, 24, false},  {{203, 0, 113, 0}, 24, false},
	{{224, 0, 0, 0}, 4, false},      {{240, 0, 0, 0}, 4, false}, /* includes 255.255.255.255 */
};

static const struct prefix v6_denied[] = {
	{{0}, 128, false},                                  /* :: */
	{{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128, true}, /* ::1 */
	{{0}, 8, false},                                    /* reserved, IPv4-compatible */
	{{0x01, 0x00}, 64, false},                          /* 100::/64 discard */
	{{0x20, 0x01, 0x0d, 0xb8}, 32, false},              /* documentation */
	{{0xfc}, 7, false},                                 /* unique local */
	{{0xfe, 0x80}, 10, false},                          /* link-local */
	{{0xfe, 0xc0}, 10, false},                          /* deprecated site-local */
	{{0xff}, 8, false},                                 /* multicast */
};

static bool prefix_match(const uint8_t *a, const struct prefix *p)
{
	unsigned full = p->bits / 8, rest = p->bits % 8;

	if (memcmp(a, p->addr, full) != 0)
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));
		if ((a[full] & mask) != (p->addr[full] & mask))
			return false;
	}
	return true;
}

static bool denied(const uint8_t *a, const struct prefix *table, size_t n, bool allow_loopback)
{
	for (size_t i = 0; i < n; i++)
		if (prefix_match(a, &table[i]))
			return !(table[i].loopback && allow_loopback);
	return false;
}

static bool v4_allowed(const uint8_t *a, bool allow_loopback)
{
	return !denied(a, v4_denied, sizeof(v4_denied) / sizeof(v4_denied[0]), allow_loopback);
}

bool flint_address_allowed(const struct sockaddr_storage *addr, bool allow_loopback)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const uint8_t nat64[12] = {0x00, 0x64, 0xff, 0x9b};
	const uint8_t *a;

	if (!addr)
		return false;
	if (addr->ss_family == AF_INET)
		return v4_allowed((const uint8_t *)&((const struct sockaddr_in *)addr)->sin_addr,
				  allow_loopback);
	if (addr->ss_family != AF_INET6)
		return false;
	a = (const uint8_t *)&((const struct sockaddr_in6 *)addr)->sin6_addr;
	/* An embedded IPv4 address reaches that IPv4 host: same rules. */
	if (memcmp(a, mapped, 12) == 0 || memcmp(a, nat64, 12) == 0)
		return v4_allowed(a + 12, allow_loopback);
	return !denied(a, v6_denied, sizeof(v6_denied) / sizeof(v6_denied[0]), allow_loopback);
}
