/* HTTPS for the flint client over libcurl: TLS verified, https only, bounded
 * time and body size, and the response headers ACME uses (RFC 8555 §6-7). */
#ifndef FLINT_CLIENT_HTTP_H
#define FLINT_CLIENT_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#define FLINT_HTTP_MAX_BODY (1024 * 1024)
#define FLINT_HTTP_CONNECT_TIMEOUT 10 /* seconds */
#define FLINT_HTTP_TOTAL_TIMEOUT 60   /* seconds, one whole request */
#define FLINT_HTTP_MAX_ALTERNATES 8   /* Link rel="alternate" URLs kept per response */

struct flint_http_opts {
	const char *ca_bundle; /* PEM roots for the server's TLS; NULL: the system store */
	long connect_timeout;  /* seconds; 0: FLINT_HTTP_CONNECT_TIMEOUT */
	long total_timeout;    /* seconds; 0: FLINT_HTTP_TOTAL_TIMEOUT */
	size_t max_body;       /* bytes; 0: FLINT_HTTP_MAX_BODY */
};

enum flint_http_method { FLINT_HTTP_GET, FLINT_HTTP_HEAD, FLINT_HTTP_POST };

struct flint_http_response {
	long status;
	char *body; /* NUL-terminated (not counted in body_len); never NULL */
	size_t body_len;
	char *content_type; /* media type, lowercased, without parameters; may be NULL */
	char *location;     /* may be NULL */
	char *replay_nonce; /* may be NULL */
	long retry_after;   /* seconds from now; -1 when absent or unparsable */
	char *alternates[FLINT_HTTP_MAX_ALTERNATES]; /* Link: <url>;rel="alternate" (§7.4.2) */
	size_t n_alternates;
};

struct flint_http;

int flint_http_new(const struct flint_http_opts *opts, struct flint_http **ret, char **ret_err);
void flint_http_free(struct flint_http *h);

/* One request. body (for POST) is sent with content_type; accept may be NULL.
 * Any HTTP status is a success here; transport failures (DNS, TCP, TLS,
 * timeout, body over the cap, a non-https URL) return FLINT_EIO with *ret_err
 * naming the URL and the cause. */
int flint_http_request(struct flint_http *h, enum flint_http_method method, const char *url,
		       const char *content_type, const char *accept, const char *body,
		       struct flint_http_response **ret, char **ret_err);

void flint_http_response_free(struct flint_http_response *r);

/* Appends to urls[*n..max) the target of every link in one Link header value
 * (RFC 8288: "<url>; rel=\"a b\", <url2>; rel=x") whose rel names rel: the
 * first rel parameter of a link counts, "rel=" inside another parameter's
 * quoted value does not, and a link without its closing '>' ends the value.
 * FLINT_ENOMEM; links past max are dropped. */
int flint_http_parse_links(const char *value, const char *rel, char **urls, size_t max,
			   size_t *n);

/* Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP-date relative to
 * now (unix seconds). -1 when unparsable; a date in the past is 0. */
long flint_http_parse_retry_after(const char *value, long long now);

#endif
