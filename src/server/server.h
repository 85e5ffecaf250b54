/* flintd's process-wide state and the per-request context every API
 * handler receives; handlers reply through the helpers below, exactly once. */
#ifndef FLINTD_SERVER_H
#define FLINTD_SERVER_H

#include <event2/http.h>
#include <jansson.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "config.h"
#include "issuer.h"
#include "jws.h"
#include "nonce.h"
#include "problem.h"
#include "store/store.h"

struct flint_validation_pool;

struct flint_req;

struct flintd {
	struct flintd_config *cfg;
	/* The API entry point (api/router.c), handed down so the HTTP layer
	 * does not depend on the layer above it. */
	void (*dispatch)(struct flint_req *r);
	/* The cluster's background work (api/jobs.c), run every few seconds by
	 * the HTTP layer on its first loop. */
	void (*run_jobs)(struct flintd *d, struct flint_store *st);
	struct flint_issuer *issuer;
	struct flint_validation_pool *pool;
	SSL_CTX *ssl_ctx;
	/* the serialised directory (api/directory.c), made once at start */
	char *directory_json;
	struct flint_nonce_key nonce_key;
};

/* One event loop, its store handle and connection accounting. */
struct flintd_loop;

struct flint_req {
	struct flintd *d;
	struct flintd_loop *loop;
	struct flint_store *store;
	struct evhttp_request *ev;
	enum evhttp_cmd_type method;
	const char *uri;       /* as received: path and query */
	char *path;            /* decoded path */
	const char *query;     /* NULL when absent */
	const char *base;      /* cfg->base_url: resources are named under it */
	char peer[64];         /* the client's address ("" when unknown) */
	bool plain;            /* came on the plain-HTTP listener (CRLs, CA files, OCSP only) */
	const char *route;     /* the matched route's name (metrics label), set by the router */
	char *body;
	size_t body_len;
	/* set by flint_req_authenticate */
	struct flint_jws *jws;
	struct flint_account *account; /* the kid's account, NULL for jwk requests */
	json_t *payload;       /* parsed JSON payload, NULL for POST-as-GET */
	/* for the log line */
	int status;
	const char *problem_type;
	char *problem_detail; /* of a reply with a 5xx status: what went wrong */
	struct timespec start;
	bool replied;
};

int64_t flint_now(void);

/* URLs for the API resources, relative to r->base. Caller frees. */
char *flint_url(const struct flint_req *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The same URL as a JSON string (new reference; NULL on OOM). */
json_t *flint_url_json(const struct flint_req *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void flint_reply_add_header(struct flint_req *r, const char *name, const char *value);
/* Replies with a JSON document (takes the reference on doc). */
void flint_reply_json(struct flint_req *r, int status, json_t *doc);
void flint_reply_body(struct flint_req *r, int status, const char *content_type,
		      const void *body, size_t len);
/* Replies with an RFC 7807 document; frees p. */
void flint_reply_problem(struct flint_req *r, struct flint_problem *p);
/* Shorthand: a new problem of type with a printf detail. */
void flint_reply_error(struct flint_req *r, enum flint_problem_type type, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Like flint_reply_error with an explicit HTTP status (404, 405, 415 ...). */
void flint_reply_error_status(struct flint_req *r, enum flint_problem_type type, int status,
			      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Adds `Link: <url>;rel="rel"` (RFC 8288); nothing when url is NULL. */
void flint_reply_add_link(struct flint_req *r, const char *url, const char *rel);

/* An authenticated account may not act on this object: 403 unauthorized
 * (401 is kept for requests whose signer cannot be trusted at all). */
void flint_reply_forbidden(struct flint_req *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Adds a fresh Replay-Nonce header (stored so it is valid on every node). */
int flint_reply_add_nonce(struct flint_req *r);

#endif
