/* The http-01 validator (RFC 8555 §8.3; RFC 8738 §5 for ip identifiers): GET
 * http://<name or address>/.well-known/acme-challenge/<token> must return the
 * key authorization. curl_global_init() is flintd main's job, once, at start. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "http01.h"
#include "identifier.h"
#include "keyauth.h"
#include "resolver.h"
#include "validator.h"

/*
 * Every address we connect to is one we resolved ourselves (through the
 * validation resolver) and checked against flint_address_allowed(); curl
 * is pinned to it with CURLOPT_RESOLVE and an opensocket callback re-checks
 * the policy so curl can never reach an address we did not vet. Redirects
 * are followed here, not by curl, so each hop gets the same treatment.
 */

#define BODY_CAP FLINT_HTTP01_BODY_MAX
#define MAX_REDIRECTS 10
#define SHOWN_CHARS 64
#define DEFAULT_TIMEOUT 10

struct body {
	char buf[BODY_CAP];
	size_t len;
	bool too_big;
};

struct hop {
	char *scheme;
	char *host;       /* as in the URL; IPv6 literals in brackets */
	long port;
	bool literal;     /* host is an IP address */
	struct sockaddr_storage literal_addr;
};

static bool http01_applies(const char *ident_type, bool wildcard)
{
	return ident_type && (strcmp(ident_type, "dns") == 0 || strcmp(ident_type, "ip") == 0) &&
	       !wildcard;
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct body *b = ud;
	size_t n = size * nmemb;

	if (n > BODY_CAP - b->len) {
		b->too_big = true;
		return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
	}
	memcpy(b->buf + b->len, ptr, n);
	b->len += n;
	return n;
}

struct sock_policy {
	bool allow_loopback;
};

static curl_socket_t on_opensocket(void *ud, curlsocktype purpose, struct curl_sockaddr *a)
{
	const struct sock_policy *pol = ud;
	struct sockaddr_storage ss;

	if (purpose != CURLSOCKTYPE_IPCXN || a->addrlen > sizeof(ss))
		return CURL_SOCKET_BAD;
	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, &a->addr, a->addrlen);
	if (!flint_address_allowed(&ss, pol->allow_loopback))
		return CURL_SOCKET_BAD;
	return socket(a->family, a->socktype, a->protocol);
}

static bool hostname_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 253 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") == n;
}

/* An IP literal host ("1.2.3.4" or "[::1]") into *ss; false when a name. */
static bool parse_literal(const char *host, struct sockaddr_storage *ss)
{
	char buf[INET6_ADDRSTRLEN + 1];
	size_t n = strlen(host);

	memset(ss, 0, sizeof(*ss));
	if (host[0] == '[' && n >= 2 && host[n - 1] == ']' && n - 2 < sizeof(buf)) {
		memcpy(buf, host + 1, n - 2);
		buf[n - 2] = '\0';
		ss->ss_family = AF_INET6;
		return inet_pton(AF_INET6, buf, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1;
	}
	ss->ss_family = AF_INET;
	return inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1;
}

static void hop_clear(struct hop *h)
{
	curl_free(h->scheme);
	curl_free(h->host);
	memset(h, 0, sizeof(*h));
}

/* Splits url; FLINT_EINVAL when it is not a URL we can judge. */
static int hop_parse(const char *url, struct hop *h)
{
	CURLU *u = curl_url();
	char *port = NULL;
	int err = FLINT_EINVAL;

	memset(h, 0, sizeof(*h));
	if (!u)
		return FLINT_ENOMEM;
	if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &h->scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &h->host, 0) != CURLUE_OK)
		goto out;
	if (strcmp(h->scheme, "http") == 0 || strcmp(h->scheme, "https") == 0) {
		if (curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK)
			goto out;
		h->port = strtol(port, NULL, 10);
	}
	h->literal = parse_literal(h->host, &h->literal_addr);
	if (!h->literal && !hostname_ok(h->host))
		goto out;
	err = 0;
out:
	curl_free(port);
	curl_url_cleanup(u);
	if (err < 0)
		hop_clear(h);
	return err;
}

static bool port_allowed(const struct flint_validation_config *cfg, long port)
{
	return port == 80 || port == 443 || (cfg->http01_port && port == cfg->http01_port) ||
	       (cfg->tlsalpn01_port && port == cfg->tlsalpn01_port);
}

/* One GET of url, pinned to addr (NULL for an IP-literal host). */
static CURLcode fetch(const struct flint_validation_config *cfg, const char *url,
		      const struct hop *h, const char *addr, struct body *b, long *ret_code,
		      char **ret_location)
{
	struct sock_policy pol = {.allow_loopback = cfg->allow_loopback};
	long timeout = cfg->timeout_seconds > 0 ? cfg->timeout_seconds : DEFAULT_TIMEOUT;
	struct curl_slist *resolve = NULL;
	char *entry = NULL, *loc = NULL;
	CURL *c = NULL;
	CURLcode cc = CURLE_OUT_OF_MEMORY;

	b->len = 0;
	b->too_big = false;
	*ret_code = 0;
	*ret_location = NULL;
	c = curl_easy_init();
	if (!c)
		goto out;
	if (addr) {
		if (asprintf(&entry, "%s:%ld:%s", h->host, h->port, addr) < 0) {
			entry = NULL;
			goto out;
		}
		resolve = curl_slist_append(NULL, entry);
		if (!resolve)
			goto out;
	}
	if ((cc = curl_easy_setopt(c, CURLOPT_URL, url)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https")) != CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_PROXY, "")) != CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_USERAGENT, "flintd-validator")) != CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, timeout)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout)) != CURLE_OK ||
	    /* RFC 8555 §8.3: the server SHOULD NOT check the certificate on https redirects. */
	    (cc = curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_WRITEDATA, b)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, on_opensocket)) != CURLE_OK ||
	    (cc = curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &pol)) != CURLE_OK ||
	    (resolve && (cc = curl_easy_setopt(c, CURLOPT_RESOLVE, resolve)) != CURLE_OK))
		goto out;
	cc = curl_easy_perform(c);
	if (cc != CURLE_OK)
		goto out;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, ret_code);
	if (curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK && loc) {
		*ret_location = strdup(loc);
		if (!*ret_location)
			cc = CURLE_OUT_OF_MEMORY;
	}
out:
	curl_easy_cleanup(c);
	curl_slist_free_all(resolve);
	free(entry);
	return cc;
}

/* Printable prefix of s[0..n) for a problem detail. */
static void shown(char *out, size_t cap, const char *s, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o < SHOWN_CHARS && o + 4 < cap; i++)
		out[o++] = (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\') ? s[i] : '?';
	if (n > SHOWN_CHARS && o + 4 < cap) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

int flint_http01_check_body(const char *body, size_t len, const char *key_authorization,
			    struct flint_problem **ret_problem)
{
	const char *s = body ? body : "", *e = s + (body ? len : 0);
	size_t want = strlen(key_authorization);
	char got[SHOWN_CHARS + 4];
	int err = 0;

	*ret_problem = NULL;
	if (len > FLINT_HTTP01_BODY_MAX) {
		err = FLINT_ETOOBIG;
		*ret_problem = flint_problem_new(FLINT_PROB_UNAUTHORIZED,
						 "Invalid response: response body too large");
		goto out;
	}
	while (s < e && is_space(*s))
		s++;
	while (e > s && is_space(e[-1]))
		e--;
	if ((size_t)(e - s) == want && memcmp(s, key_authorization, want) == 0)
		goto out;
	shown(got, sizeof(got), s, (size_t)(e - s));
	err = FLINT_ENOTFOUND;
	*ret_problem = flint_problem_new(FLINT_PROB_INCORRECT_RESPONSE,
					 "The key authorization file from the server did not match "
					 "this challenge: expected \"%s\", got \"%s\"",
					 key_authorization, got);
out:
	if (err < 0 && !*ret_problem)
		err = FLINT_ENOMEM;
	return err;
}

static bool is_redirect(long code)
{
	return code == 301 || code == 302 || code == 303 || code == 307 || code == 308;
}

static int http01_validate(const struct flint_validator_ctx *ctx, const struct flint_validation *v,
			   struct flint_problem **ret_problem)
{
	const struct flint_validation_config *cfg;
	struct flint_problem *p = NULL;
	struct sockaddr_storage *addrs = NULL;
	size_t n_addrs = 0;
	struct body *b = NULL;
	struct hop h = {0};
	char *url = NULL, *next = NULL;
	bool is_ip, is_v6;
	int err = FLINT_EINVAL;

	if (!ctx || !ctx->cfg || !ctx->resolver || !v || !v->ident_value || !v->token ||
	    !v->key_authorization) {
		p = flint_problem_new(FLINT_PROB_SERVER_INTERNAL, "http-01 validation misconfigured");
		goto out;
	}
	cfg = ctx->cfg;
	/* RFC 8738 §5: an ip identifier is fetched from the address itself, the
	 * literal (IPv6 in brackets) as URL host and so as Host header. A dns
	 * identifier that is an address would skip the resolver: refused. */
	is_ip = v->ident_type && strcmp(v->ident_type, "ip") == 0;
	is_v6 = is_ip && strchr(v->ident_value, ':') != NULL;
	if ((is_ip ? !flint_is_ip_address(v->ident_value)
		   : !hostname_ok(v->ident_value) || flint_is_ip_address(v->ident_value)) ||
	    !flint_token_is_valid(v->token)) {
		p = flint_problem_new(FLINT_PROB_MALFORMED, "Invalid identifier or token for http-01");
		goto out;
	}
	err = FLINT_ENOMEM;
	b = malloc(sizeof(*b));
	if (!b)
		goto out;
	if (asprintf(&url, "http://%s%s%s:%u/.well-known/acme-challenge/%s", is_v6 ? "[" : "",
		     v->ident_value, is_v6 ? "]" : "", cfg->http01_port ? cfg->http01_port : 80,
		     v->token) < 0) {
		url = NULL;
		goto out;
	}
	for (int hops = 0;; hops++) {
		char addr[INET6_ADDRSTRLEN + 2];
		long code = 0;
		CURLcode cc = CURLE_COULDNT_CONNECT;
		size_t n_try;

		hop_clear(&h);
		free(addrs);
		addrs = NULL;
		n_addrs = 0;
		err = hop_parse(url, &h);
		if (err == FLINT_ENOMEM)
			goto out;
		err = FLINT_EIO;
		if (!h.scheme) { /* not a URL we can judge */
			p = flint_problem_new(FLINT_PROB_CONNECTION, "Invalid redirect URL %s", url);
			goto out;
		}
		if (strcmp(h.scheme, "http") != 0 && strcmp(h.scheme, "https") != 0) {
			p = flint_problem_new(FLINT_PROB_CONNECTION,
					      "Invalid redirect to %s: only http and https are allowed", url);
			goto out;
		}
		if (hops > 0 && !port_allowed(cfg, h.port)) {
			p = flint_problem_new(FLINT_PROB_CONNECTION,
					      "Invalid redirect to %s: port %ld is not allowed", url, h.port);
			goto out;
		}
		if (h.literal) {
			if (!flint_address_allowed(&h.literal_addr, cfg->allow_loopback)) {
				p = flint_problem_new(FLINT_PROB_CONNECTION,
						      "Refusing to connect to %s: non-public address", h.host);
				goto out;
			}
		} else {
			size_t kept = 0;

			err = flint_resolver_addrs(ctx->resolver, h.host, &addrs, &n_addrs, &p);
			if (err < 0)
				goto out;
			for (size_t i = 0; i < n_addrs; i++)
				if (flint_address_allowed(&addrs[i], cfg->allow_loopback))
					addrs[kept++] = addrs[i];
			n_addrs = kept;
			err = FLINT_EIO;
			if (n_addrs == 0) {
				p = flint_problem_new(FLINT_PROB_DNS,
						      "%s resolves only to non-public addresses", h.host);
				goto out;
			}
		}
		/* Try each vetted address in order, falling back on connect failure. */
		n_try = h.literal ? 1 : n_addrs;
		for (size_t i = 0; i < n_try; i++) {
			const char *pin = NULL;

			if (!h.literal) {
				const struct sockaddr_storage *ss = &addrs[i];
				char ip[INET6_ADDRSTRLEN];

				if (ss->ss_family == AF_INET6)
					inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, ip,
						  sizeof(ip));
				else
					inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, ip,
						  sizeof(ip));
				snprintf(addr, sizeof(addr), ss->ss_family == AF_INET6 ? "[%s]" : "%s", ip);
				pin = addr;
			}
			free(next);
			next = NULL;
			cc = fetch(cfg, url, &h, pin, b, &code, &next);
			if (cc != CURLE_COULDNT_CONNECT)
				break;
		}
		switch (cc) {
		case CURLE_OK:
			break;
		case CURLE_OUT_OF_MEMORY:
			err = FLINT_ENOMEM;
			goto out;
		case CURLE_WRITE_ERROR:
			if (b->too_big) {
				err = FLINT_ETOOBIG;
				p = flint_problem_new(FLINT_PROB_UNAUTHORIZED,
						      "Invalid response from %s: response body too large", url);
				goto out;
			}
			p = flint_problem_new(FLINT_PROB_CONNECTION, "Error fetching %s: %s", url,
					      curl_easy_strerror(cc));
			goto out;
		case CURLE_COULDNT_CONNECT:
			p = flint_problem_new(FLINT_PROB_CONNECTION, "Connection refused fetching %s", url);
			goto out;
		case CURLE_OPERATION_TIMEDOUT:
			p = flint_problem_new(FLINT_PROB_CONNECTION, "Timeout fetching %s", url);
			goto out;
		case CURLE_SSL_CONNECT_ERROR:
		case CURLE_PEER_FAILED_VERIFICATION:
		case CURLE_SSL_CIPHER:
		case CURLE_SSL_CERTPROBLEM:
			p = flint_problem_new(FLINT_PROB_TLS, "TLS error fetching %s: %s", url,
					      curl_easy_strerror(cc));
			goto out;
		default:
			p = flint_problem_new(FLINT_PROB_CONNECTION, "Error fetching %s: %s", url,
					      curl_easy_strerror(cc));
			goto out;
		}
		if (is_redirect(code)) {
			if (!next) {
				err = FLINT_ENOTFOUND;
				p = flint_problem_new(FLINT_PROB_UNAUTHORIZED,
						      "Invalid response from %s: HTTP %ld without Location",
						      url, code);
				goto out;
			}
			if (hops == MAX_REDIRECTS) {
				p = flint_problem_new(FLINT_PROB_CONNECTION,
						      "Too many redirects (more than %d) fetching %s",
						      MAX_REDIRECTS, v->ident_value);
				goto out;
			}
			free(url);
			url = next;
			next = NULL;
			continue;
		}
		err = FLINT_ENOTFOUND;
		if (code != 200) {
			p = flint_problem_new(FLINT_PROB_UNAUTHORIZED, "Invalid response from %s: HTTP %ld",
					      url, code);
			goto out;
		}
		break;
	}
	err = flint_http01_check_body(b->buf, b->len, v->key_authorization, &p);
out:
	if (err < 0 && ret_problem) {
		if (!p && err == FLINT_ENOMEM)
			p = flint_problem_new(FLINT_PROB_SERVER_INTERNAL, "out of memory");
		*ret_problem = p;
		p = NULL;
	}
	flint_problem_free(p);
	hop_clear(&h);
	free(addrs);
	free(next);
	free(url);
	free(b);
	return err;
}

const struct flint_validator flint_validator_http01 = {
	.type = "http-01",
	.applies = http01_applies,
	.validate = http01_validate,
};
