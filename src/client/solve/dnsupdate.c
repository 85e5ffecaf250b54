/* "dns-update": answers dns-01 (RFC 8555 §8.4), or with --dns-account dns-account-01
 * (draft-ietf-acme-dns-account-label: the same value at the account's name,
 * "dns-account-update"), by a TSIG-signed (RFC 8945) DNS UPDATE (RFC 2136) to the
 * zone's primary, then waits until every NS serves the TXT.
 *
 *   present   UPDATE zone: add _acme-challenge.NAME. 60 IN TXT "VALUE" (an add, never
 *             a replace: NAME and *.NAME share the owner name); then polls the TXT
 *             at each of the zone's NS (their addresses asked of the update server,
 *             else the system resolver; an NS at the update server's address is
 *             asked on its port) until all serve it or the timeout (default 120 s).
 *             (dns-account-01: _LABEL._acme-challenge.NAME., see solve/dnsname.h)
 *   cleanup   UPDATE zone: delete that one RR (class NONE), best effort.
 *   zone      --dns-update-zone, else the owner of the SOA the update server
 *             returns for the record's name (RFC 2136 §4: the client finds the zone). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dnsclient.h"
#include "dnsmsg.h"
#include "error.h"
#include "interrupt.h"
#include "output.h"
#include "solve/dnsname.h"
#include "solve/serve.h"
#include "solve/solver.h"
#include "state.h"

#define UPD_DEFAULT_TIMEOUT 120  /* seconds of propagation wait */
#define UPD_EXCHANGE_MS 6000     /* one exchange: UDP tries, then TCP */
#define UPD_TTL 60
#define UPD_FUDGE 300            /* RFC 8945 §10 recommends 300 s */
#define UPD_MAX_NS 16
#define UPD_KEYFILE_MAX 65536

struct upd_server {
	char *host;
	int port;
};

struct upd_solver {
	struct upd_server primary;
	char *display; /* as the user wrote it */
	char *zone;    /* NULL: found per name */
	struct flint_tsig_key *key;
	int timeout_seconds;
};

static struct upd_solver *from(struct flint_solver *s) { return (struct upd_solver *)(void *)s; }

static bool upd_given(const struct flint_solver_config *cfg)
{
	return cfg && cfg->dns_update_server && *cfg->dns_update_server;
}

static bool upd_configured(const struct flint_solver_config *cfg)
{
	return upd_given(cfg) && !cfg->dns_account;
}

static bool upd_account_configured(const struct flint_solver_config *cfg)
{
	return upd_given(cfg) && cfg->dns_account;
}

static bool upd_applies(const char *ident_type, bool wildcard)
{
	(void)wildcard;
	return ident_type && strcmp(ident_type, "dns") == 0; /* never ip: RFC 8738 §7 */
}

static void upd_stop(struct flint_solver *s)
{
	struct upd_solver *u = from(s);

	if (!u)
		return;
	free(u->primary.host);
	free(u->display);
	free(u->zone);
	flint_tsig_key_free(u->key);
	free(u);
}

/* ---------------------------------------------------------------- keys */

/* "NAME:ALG:SECRET", nsupdate -y's "ALG:NAME:SECRET", or "NAME:SECRET" (hmac-sha256). */
static int key_from_string(const char *spec, struct flint_tsig_key **ret, char **ret_err)
{
	char *copy = strdup(spec), *f[3] = {0};
	enum flint_tsig_alg alg;
	int n = 0, r;

	if (!copy)
		return flint_solve_errf(ret_err, FLINT_ENOMEM, "out of memory");
	for (char *p = copy, *tok; n < 3 && (tok = strsep(&p, ":")); n++) {
		f[n] = tok;
		if (n == 1 && p && strchr(p, ':'))
			break; /* more fields than we know */
		if (n == 2 && p)
			f[2] = NULL;
	}
	if (n == 2 && f[1]) { /* NAME:SECRET */
		r = flint_tsig_key_new(f[0], "hmac-sha256", f[1], ret);
	} else if (n == 3 && f[2]) {
		if (flint_tsig_alg_parse(f[0], &alg) == 0) /* nsupdate -y order */
			r = flint_tsig_key_new(f[1], f[0], f[2], ret);
		else
			r = flint_tsig_key_new(f[0], f[1], f[2], ret);
	} else {
		r = FLINT_EINVAL;
	}
	OPENSSL_cleanse(copy, strlen(spec));
	free(copy);
	if (r == FLINT_EUNSUPPORTED)
		return flint_solve_errf(ret_err, r, "--tsig-key: the algorithms are hmac-sha256 and "
						    "hmac-sha512");
	if (r < 0)
		return flint_solve_errf(ret_err, r, "--tsig-key: expected NAME:ALG:SECRET with a "
						    "base64 SECRET");
	return 0;
}

/* The next token of a key file: a word, with { } ; : " and whitespace as
 * separators and comments (#, //) skipped. */
static const char *next_token(const char **pp, size_t *ret_len)
{
	const char *p = *pp, *start;

	for (;;) {
		while (*p && (isspace((unsigned char)*p) || strchr("{};:\"", *p)))
			p++;
		if (*p == '#' || (p[0] == '/' && p[1] == '/')) {
			while (*p && *p != '\n')
				p++;
			continue;
		}
		break;
	}
	if (!*p)
		return NULL;
	start = p;
	while (*p && !isspace((unsigned char)*p) && !strchr("{};:\"", *p))
		p++;
	*pp = p;
	*ret_len = (size_t)(p - start);
	return start;
}

/* The first key of a BIND key file (key "NAME" { algorithm A; secret "S"; };,
 * as tsig-keygen writes and nsupdate -k reads) or a Knot one (key: - id: NAME,
 * algorithm: A, secret: S, as keymgr -t writes). */
static int key_from_file(const char *path, struct flint_tsig_key **ret, char **ret_err)
{
	char *text = NULL, *rerr = NULL, *v[3] = {0}; /* name, algorithm, secret */
	const char *p, *tok, *prev = NULL;
	size_t len = 0, tl, prevlen = 0;
	int r;

	if ((r = flint_read_file(path, UPD_KEYFILE_MAX, &text, &len, &rerr)) < 0) {
		flint_solve_errf(ret_err, r, "--tsig-key-file: %s", rerr ? rerr : flint_strerror(r));
		free(rerr);
		return r;
	}
	p = text;
	while ((tok = next_token(&p, &tl)) && !(v[0] && v[1] && v[2])) {
		int slot = -1;

		if (prev && prevlen == 3 && !strncmp(prev, "key", 3) && strncmp(tok, "-", tl) &&
		    !(tl == 2 && !strncmp(tok, "id", 2)))
			slot = 0;
		else if (prev && prevlen == 2 && !strncmp(prev, "id", 2))
			slot = 0;
		else if (prev && prevlen == 9 && !strncmp(prev, "algorithm", 9))
			slot = 1;
		else if (prev && prevlen == 6 && !strncmp(prev, "secret", 6))
			slot = 2;
		if (slot >= 0 && !v[slot] && !(v[slot] = strndup(tok, tl))) {
			r = FLINT_ENOMEM;
			break;
		}
		prev = tok;
		prevlen = tl;
	}
	if (r >= 0 && !(v[0] && v[1] && v[2]))
		r = FLINT_EINVAL;
	if (r >= 0)
		r = flint_tsig_key_new(v[0], v[1], v[2], ret);
	if (v[2])
		OPENSSL_cleanse(v[2], strlen(v[2]));
	OPENSSL_cleanse(text, len);
	free(text);
	for (int i = 0; i < 3; i++)
		free(v[i]);
	if (r == FLINT_EUNSUPPORTED)
		return flint_solve_errf(ret_err, r, "--tsig-key-file %s: the algorithms are "
						    "hmac-sha256 and hmac-sha512", path);
	if (r < 0)
		return flint_solve_errf(ret_err, r, "--tsig-key-file %s: no key with a name, "
						    "algorithm and base64 secret found", path);
	return 0;
}

static int upd_start(const struct flint_solver_config *cfg, struct flint_solver **ret,
		     char **ret_err)
{
	struct upd_solver *u;
	int r;

	if (!upd_given(cfg) || !ret)
		return flint_solve_errf(ret_err, FLINT_EINVAL, "dns-update: no server configured");
	if (!cfg->tsig_key == !cfg->tsig_key_file)
		return flint_solve_errf(ret_err, FLINT_EINVAL,
					"--dns-update needs one of --tsig-key or --tsig-key-file");
	if (!(u = calloc(1, sizeof(*u))) || !(u->display = strdup(cfg->dns_update_server))) {
		free(u);
		return flint_solve_errf(ret_err, FLINT_ENOMEM, "dns-update: out of memory");
	}
	u->timeout_seconds =
	    cfg->timeout_seconds > 0 ? cfg->timeout_seconds : UPD_DEFAULT_TIMEOUT;
	if ((r = flint_dns_server_parse(cfg->dns_update_server, &u->primary.host,
					&u->primary.port)) < 0) {
		flint_solve_errf(ret_err, r, "--dns-update %s: expected HOST[:PORT]",
				 cfg->dns_update_server);
		goto fail;
	}
	if (cfg->dns_update_zone && *cfg->dns_update_zone) {
		uint8_t w[255];
		size_t wl;

		if (flint_dns_name_to_wire(cfg->dns_update_zone, false, w, &wl) < 0) {
			r = flint_solve_errf(ret_err, FLINT_EINVAL, "--dns-update-zone %s: not a DNS name",
					     cfg->dns_update_zone);
			goto fail;
		}
		if (!(u->zone = strdup(cfg->dns_update_zone))) {
			r = flint_solve_errf(ret_err, FLINT_ENOMEM, "dns-update: out of memory");
			goto fail;
		}
	}
	r = cfg->tsig_key ? key_from_string(cfg->tsig_key, &u->key, ret_err)
			  : key_from_file(cfg->tsig_key_file, &u->key, ret_err);
	if (r < 0)
		goto fail;
	*ret = (struct flint_solver *)(void *)u;
	return 0;
fail:
	upd_stop((struct flint_solver *)(void *)u);
	return r;
}

/* ---------------------------------------------------------------- exchanges */

static uint16_t random_id(void)
{
	uint8_t b[2] = {0};

	RAND_bytes(b, 2);
	return (uint16_t)((b[0] << 8) | b[1]);
}

/* An unsigned QUERY to srv; *ret (with its *ret_buf) is the parsed answer. */
static int query(const struct upd_server *srv, const char *name, uint16_t type,
		 struct flint_dns_msg **ret, uint8_t **ret_buf, char **ret_err)
{
	struct flint_dns_builder b = {0};
	uint8_t *ans = NULL;
	size_t alen = 0;
	int r;

	if ((r = flint_dns_build_query(random_id(), name, type, false, &b)) < 0)
		return flint_solve_errf(ret_err, r, "cannot build a query for %s: %s", name,
					flint_strerror(r));
	r = flint_dns_exchange(srv->host, srv->port, b.data, b.len, UPD_EXCHANGE_MS, &ans, &alen,
			       ret_err);
	flint_dns_builder_clear(&b);
	if (r < 0)
		return r;
	if ((r = flint_dns_msg_parse(ans, alen, ret)) < 0) {
		free(ans);
		return flint_solve_errf(ret_err, FLINT_EPROTO, "malformed DNS answer from %s port %d",
					srv->host, srv->port);
	}
	*ret_buf = ans;
	return 0;
}

static const char *tsig_hint(int err)
{
	switch (err) {
	case FLINT_DNS_R_BADSIG: return " (wrong key?)";
	case FLINT_DNS_R_BADKEY: return " (the server does not know this key name and algorithm)";
	case FLINT_DNS_R_BADTIME: return " (the clocks differ by more than 5 minutes?)";
	default: return "";
	}
}

/* Sends one signed UPDATE for zone and checks the signed answer. */
static int send_update(struct upd_solver *u, const char *zone, const struct flint_dns_update *upd,
		       char **ret_err)
{
	struct flint_dns_builder b = {0};
	struct flint_dns_msg *m = NULL;
	uint8_t mac[FLINT_TSIG_MAC_MAX], *ans = NULL;
	size_t mac_len = 0, alen = 0;
	char *xerr = NULL;
	int r;

	if ((r = flint_dns_build_update(random_id(), zone, upd, 1, &b)) < 0 ||
	    (r = flint_tsig_sign(&b, u->key, (uint64_t)time(NULL), UPD_FUDGE, mac, &mac_len)) < 0) {
		flint_solve_errf(ret_err, r, "cannot build the DNS UPDATE: %s", flint_strerror(r));
		goto out;
	}
	if ((r = flint_dns_exchange(u->primary.host, u->primary.port, b.data, b.len,
				    UPD_EXCHANGE_MS, &ans, &alen, &xerr)) < 0) {
		flint_solve_errf(ret_err, r, "DNS UPDATE to %s: %s", u->display,
				 xerr ? xerr : flint_strerror(r));
		goto out;
	}
	if ((r = flint_dns_msg_parse(ans, alen, &m)) < 0) {
		r = flint_solve_errf(ret_err, FLINT_EPROTO, "DNS UPDATE to %s: malformed answer",
				     u->display);
		goto out;
	}
	/* a TSIG failure comes back unsigned (RFC 8945 §5.3.2): report it as such */
	if (m->rcode == FLINT_DNS_R_NOTAUTH && m->has_tsig && m->tsig.error) {
		r = flint_solve_errf(ret_err, FLINT_EBADSIG, "DNS UPDATE refused by %s: TSIG %s%s",
				     u->display, flint_dns_rcode_name(m->tsig.error),
				     tsig_hint(m->tsig.error));
		goto out;
	}
	if (m->has_tsig) {
		r = flint_tsig_verify(m, u->key, mac, mac_len, (uint64_t)time(NULL));
		if (r < 0) {
			r = flint_solve_errf(ret_err, FLINT_EBADSIG,
					     "DNS UPDATE to %s: the answer's TSIG does not verify (%s)",
					     u->display, flint_strerror(r));
			goto out;
		}
	}
	if (m->rcode != FLINT_DNS_R_NOERROR) {
		const char *hint = m->rcode == FLINT_DNS_R_NOTAUTH
				       ? " (not the primary of the zone, or the key may not update it)"
				   : m->rcode == FLINT_DNS_R_REFUSED
				       ? " (the key may not update this zone?)"
				   : m->rcode == FLINT_DNS_R_NOTZONE ? " (the name is outside the zone)"
								     : "";

		r = flint_solve_errf(ret_err, FLINT_EPROTO, "DNS UPDATE of zone %s refused by %s: %s%s",
				     zone, u->display, flint_dns_rcode_name(m->rcode), hint);
		goto out;
	}
	if (!m->has_tsig) {
		r = flint_solve_errf(ret_err, FLINT_EPROTO,
				     "DNS UPDATE to %s: the answer is not signed", u->display);
		goto out;
	}
	r = 0;
out:
	free(xerr);
	flint_dns_msg_free(m);
	free(ans);
	flint_dns_builder_clear(&b);
	return r;
}

/* The zone of fqdn: the owner of the SOA the primary answers with (answer or authority). */
static int find_zone(struct upd_solver *u, const char *fqdn, char **ret, char **ret_err)
{
	struct flint_dns_msg *m = NULL;
	uint8_t *buf = NULL;
	int r;

	if (u->zone)
		return (*ret = strdup(u->zone)) ? 0
						 : flint_solve_errf(ret_err, FLINT_ENOMEM, "out of memory");
	if ((r = query(&u->primary, fqdn, FLINT_DNS_T_SOA, &m, &buf, ret_err)) < 0)
		return r;
	r = flint_solve_errf(ret_err, FLINT_ENOTFOUND,
			     "%s has no SOA for %s (%s): give the zone with --dns-update-zone",
			     u->display, fqdn, flint_dns_rcode_name(m->rcode));
	for (size_t i = 0; i < m->n_rrs; i++) {
		const struct flint_dns_rr *rr = &m->rrs[i];

		if (rr->type == FLINT_DNS_T_SOA && (rr->section == 1 || rr->section == 2)) {
			free(*ret_err);
			*ret_err = NULL;
			r = (*ret = strdup(rr->name)) ? 0 : FLINT_ENOMEM;
			break;
		}
	}
	flint_dns_msg_free(m);
	free(buf);
	return r;
}

/* ---------------------------------------------------------------- propagation */

struct upd_ns {
	struct upd_server srv[UPD_MAX_NS];
	char *label[UPD_MAX_NS]; /* "ns1.example.test. (127.0.0.1)" */
	size_t n;
};

static void ns_free(struct upd_ns *ns)
{
	for (size_t i = 0; i < ns->n; i++) {
		free(ns->srv[i].host);
		free(ns->label[i]);
	}
	ns->n = 0;
}

static bool same_address(const char *a, const char *b)
{
	unsigned char x[16], y[16];

	if (inet_pton(AF_INET, a, x) == 1 && inet_pton(AF_INET, b, y) == 1)
		return !memcmp(x, y, 4);
	if (inet_pton(AF_INET6, a, x) == 1 && inet_pton(AF_INET6, b, y) == 1)
		return !memcmp(x, y, 16);
	return strcmp(a, b) == 0;
}

static int ns_add(struct upd_ns *ns, const char *name, const char *addr, int port)
{
	if (ns->n == UPD_MAX_NS)
		return 0;
	for (size_t i = 0; i < ns->n; i++)
		if (ns->srv[i].port == port && same_address(ns->srv[i].host, addr))
			return 0;
	ns->srv[ns->n].host = strdup(addr);
	ns->srv[ns->n].port = port;
	ns->label[ns->n] = flint_strdupf("%s (%s port %d)", name, addr, port);
	if (!ns->srv[ns->n].host || !ns->label[ns->n]) {
		free(ns->srv[ns->n].host);
		free(ns->label[ns->n]);
		return FLINT_ENOMEM;
	}
	ns->n++;
	return 0;
}

/* The addresses of one NS name: asked of the primary (it is often authoritative
 * for them), else the system resolver. An address of the primary means the
 * primary itself, on its port (test setups, non-standard ports). */
static int ns_resolve(struct upd_solver *u, const char *name, struct upd_ns *ns)
{
	static const uint16_t types[] = {FLINT_DNS_T_A, FLINT_DNS_T_AAAA};
	size_t before = ns->n;
	int r = 0;

	for (size_t t = 0; t < 2 && r == 0; t++) {
		struct flint_dns_msg *m = NULL;
		uint8_t *buf = NULL;
		char *err = NULL;

		if (query(&u->primary, name, types[t], &m, &buf, &err) < 0) {
			free(err);
			continue;
		}
		for (size_t i = 0; i < m->n_rrs && r == 0; i++) {
			const struct flint_dns_rr *rr = &m->rrs[i];
			char a[INET6_ADDRSTRLEN];

			if (rr->section != 1 || rr->type != types[t] ||
			    !flint_dns_name_equal(rr->name, name) ||
			    rr->rdlen != (types[t] == FLINT_DNS_T_A ? 4 : 16))
				continue;
			inet_ntop(types[t] == FLINT_DNS_T_A ? AF_INET : AF_INET6, m->data + rr->rdoff,
				  a, sizeof(a));
			r = ns_add(ns, name, a,
				   same_address(a, u->primary.host) ? u->primary.port : 53);
		}
		flint_dns_msg_free(m);
		free(buf);
	}
	if (r == 0 && ns->n == before) {
		struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *res = NULL;

		if (getaddrinfo(name, "53", &hints, &res) == 0) {
			for (struct addrinfo *ai = res; ai && r == 0; ai = ai->ai_next) {
				char a[INET6_ADDRSTRLEN];

				if (getnameinfo(ai->ai_addr, ai->ai_addrlen, a, sizeof(a), NULL, 0,
						NI_NUMERICHOST) == 0)
					r = ns_add(ns, name, a,
						   same_address(a, u->primary.host) ? u->primary.port
										    : 53);
			}
			freeaddrinfo(res);
		}
	}
	return r;
}

/* The zone's authoritative servers; just the primary when none can be found. */
static int find_ns(struct upd_solver *u, const char *zone, struct upd_ns *ns, char **ret_err)
{
	struct flint_dns_msg *m = NULL;
	uint8_t *buf = NULL;
	char *err = NULL;
	int r = 0;

	if (query(&u->primary, zone, FLINT_DNS_T_NS, &m, &buf, &err) == 0) {
		for (size_t i = 0; i < m->n_rrs && r == 0; i++) {
			char name[FLINT_DNS_NAME_BUF];

			if (m->rrs[i].section == 1 && m->rrs[i].type == FLINT_DNS_T_NS &&
			    flint_dns_rr_name(m, &m->rrs[i], name) == 0)
				r = ns_resolve(u, name, ns);
		}
	}
	free(err);
	flint_dns_msg_free(m);
	free(buf);
	if (r == 0 && ns->n == 0)
		r = ns_add(ns, u->display, u->primary.host, u->primary.port);
	if (r < 0)
		return flint_solve_errf(ret_err, r, "out of memory");
	return 0;
}

/* Whether srv answers fqdn TXT with value among its records. */
static bool serves(const struct upd_server *srv, const char *fqdn, const char *value)
{
	struct flint_dns_msg *m = NULL;
	uint8_t *buf = NULL;
	char *err = NULL;
	bool found = false;

	if (query(srv, fqdn, FLINT_DNS_T_TXT, &m, &buf, &err) == 0) {
		for (size_t i = 0; i < m->n_rrs && !found; i++)
			found = m->rrs[i].section == 1 && flint_dns_name_equal(m->rrs[i].name, fqdn) &&
				flint_dns_rr_txt_equals(m, &m->rrs[i], value);
	}
	free(err);
	flint_dns_msg_free(m);
	free(buf);
	return found;
}

static int wait_propagation(struct upd_solver *u, const char *zone, const char *fqdn,
			    const char *value, char **ret_err)
{
	struct upd_ns ns = {0};
	bool done[UPD_MAX_NS] = {false};
	long long deadline = flint_now_ms() + (long long)u->timeout_seconds * 1000;
	long delay = 250;
	int r;

	if ((r = find_ns(u, zone, &ns, ret_err)) < 0)
		return r;
	for (;;) {
		size_t left = 0, first = 0;

		for (size_t i = 0; i < ns.n; i++) {
			if (!done[i] && !(done[i] = serves(&ns.srv[i], fqdn, value)) && left++ == 0)
				first = i;
		}
		if (left == 0) {
			r = 0;
			break;
		}
		if (flint_now_ms() + delay > deadline) {
			r = flint_solve_errf(ret_err, FLINT_EIO,
					     "the TXT record %s is not served by %s%s after %d s",
					     fqdn, ns.label[first], left > 1 ? " and others" : "",
					     u->timeout_seconds);
			break;
		}
		if (flint_sleep_ms(delay) < 0) {
			r = flint_solve_errf(ret_err, FLINT_EIO, "interrupted");
			break;
		}
		delay = delay * 2 > 5000 ? 5000 : delay * 2;
	}
	ns_free(&ns);
	return r;
}

/* ---------------------------------------------------------------- the solver */

static int change(struct upd_solver *u, const struct flint_challenge_task *t,
		  enum flint_dns_update_op op, bool wait, char **ret_err)
{
	char *fqdn = NULL, *zone = NULL;
	uint8_t rdata[512];
	size_t rdlen = 0;
	int r;

	if (!t->dns_txt_value || !t->ident_value)
		return flint_solve_errf(ret_err, FLINT_EINVAL, "dns-update: no TXT value");
	if ((r = flint_solve_dns_name(t, &fqdn)) < 0)
		return flint_solve_errf(ret_err, r, "dns-update: no %s record name for %.64s: %s",
					t->type ? t->type : "dns-01", t->ident_value,
					r == FLINT_ENOMEM    ? "out of memory"
					: r == FLINT_ETOOBIG ? "longer than 253 octets"
							     : "bad identifier or account URL");
	if ((r = flint_dns_txt_rdata(t->dns_txt_value, rdata, sizeof(rdata), &rdlen)) < 0) {
		flint_solve_errf(ret_err, r, "dns-update: TXT value too long");
		goto out;
	}
	if ((r = find_zone(u, fqdn, &zone, ret_err)) < 0)
		goto out;
	struct flint_dns_update upd = {
	    .op = op, .name = fqdn, .type = FLINT_DNS_T_TXT, .ttl = UPD_TTL,
	    .rdata = rdata, .rdlen = rdlen,
	};
	if ((r = send_update(u, zone, &upd, ret_err)) < 0)
		goto out;
	if (wait)
		r = wait_propagation(u, zone, fqdn, t->dns_txt_value, ret_err);
out:
	free(zone);
	free(fqdn);
	return r;
}

static int upd_present(struct flint_solver *s, const struct flint_challenge_task *t,
		       char **ret_err)
{
	return change(from(s), t, FLINT_DNS_UPD_ADD, true, ret_err);
}

static void upd_cleanup(struct flint_solver *s, const struct flint_challenge_task *t)
{
	char *err = NULL;

	if (change(from(s), t, FLINT_DNS_UPD_DELETE_RR, false, &err) < 0)
		flint_debug("dns-update cleanup of %s: %s", t->ident_value, err ? err : "failed");
	free(err);
}

const struct flint_solver_type flint_solver_dns_update = {
    .name = "dns-update",
    .challenge_type = "dns-01",
    .configured = upd_configured,
    .applies = upd_applies,
    .start = upd_start,
    .present = upd_present,
    .cleanup = upd_cleanup,
    .stop = upd_stop,
};

const struct flint_solver_type flint_solver_dns_account_update = {
    .name = "dns-account-update",
    .challenge_type = "dns-account-01",
    .configured = upd_account_configured,
    .applies = upd_applies,
    .start = upd_start,
    .present = upd_present,
    .cleanup = upd_cleanup,
    .stop = upd_stop,
};
