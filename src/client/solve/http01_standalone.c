/* "standalone-http": answers http-01 (RFC 8555 §8.3) from a minimal HTTP/1.1
 * server of its own: GET /.well-known/acme-challenge/TOKEN → the key authorization. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "error.h"
#include "solve/serve.h"
#include "solve/solver.h"

#define HTTP_REQ_MAX 8192 /* request line and headers; more gets 431 */
#define CHALLENGE_PREFIX "/.well-known/acme-challenge/"

struct http_token {
	struct http_token *next;
	char *token;
	char *keyauth;
};

struct http_solver {
	struct flint_serve *srv;
	pthread_mutex_t mu; /* guards tokens: present/cleanup vs the server thread */
	struct http_token *tokens;
};

struct http_conn {
	char *out; /* the response, once the request is read */
	size_t outlen, off;
	size_t len;
	char buf[HTTP_REQ_MAX];
};

static struct http_solver *from(struct flint_solver *s) { return (struct http_solver *)(void *)s; }

static bool http_configured(const struct flint_solver_config *cfg)
{
	return cfg && cfg->http01_port > 0;
}

static bool http_applies(const char *ident_type, bool wildcard)
{
	return !wildcard && ident_type &&
	       (strcmp(ident_type, "dns") == 0 || strcmp(ident_type, "ip") == 0);
}

static void *http_open(void *arg, int fd)
{
	(void)arg;
	(void)fd;
	return calloc(1, sizeof(struct http_conn));
}

static void http_close(void *arg, void *conn)
{
	struct http_conn *c = conn;

	(void)arg;
	free(c->out);
	free(c);
}

static char *response(int code, const char *reason, const char *body, bool head)
{
	char *s = NULL;

	if (asprintf(&s,
		     "HTTP/1.1 %d %s\r\n"
		     "Content-Type: application/octet-stream\r\n"
		     "Content-Length: %zu\r\n"
		     "Cache-Control: no-store\r\n"
		     "Connection: close\r\n"
		     "%s"
		     "\r\n"
		     "%s",
		     code, reason, strlen(body), code == 405 ? "Allow: GET, HEAD\r\n" : "",
		     head ? "" : body) < 0)
		return NULL;
	return s;
}

/* The response to the request in c->buf[0..len), which holds a full head. */
static char *answer(struct http_solver *hs, const char *req, size_t len)
{
	const char *eol = memchr(req, '\n', len), *sp1, *sp2, *target, *tok;
	size_t linelen, toklen, tlen;
	bool head;
	char *out;

	linelen = (size_t)(eol - req);
	if (linelen > 0 && req[linelen - 1] == '\r')
		linelen--;
	sp1 = memchr(req, ' ', linelen);
	sp2 = sp1 ? memchr(sp1 + 1, ' ', linelen - (size_t)(sp1 + 1 - req)) : NULL;
	if (!sp1 || !sp2 || linelen - (size_t)(sp2 + 1 - req) < 7 ||
	    strncmp(sp2 + 1, "HTTP/1.", 7) != 0)
		return response(400, "Bad Request", "bad request\n", false);
	head = (size_t)(sp1 - req) == 4 && memcmp(req, "HEAD", 4) == 0;
	if (!head && !((size_t)(sp1 - req) == 3 && memcmp(req, "GET", 3) == 0))
		return response(405, "Method Not Allowed", "method not allowed\n", false);
	target = sp1 + 1;
	tlen = (size_t)(sp2 - target);
	/* absolute-form (RFC 9112 §3.2.2): drop scheme and authority */
	if (tlen > 7 && strncmp(target, "http://", 7) == 0) {
		const char *slash = memchr(target + 7, '/', tlen - 7);

		if (!slash)
			return response(404, "Not Found", "not found\n", head);
		tlen -= (size_t)(slash - target);
		target = slash;
	}
	if (tlen <= strlen(CHALLENGE_PREFIX) ||
	    strncmp(target, CHALLENGE_PREFIX, strlen(CHALLENGE_PREFIX)) != 0)
		return response(404, "Not Found", "not found\n", head);
	tok = target + strlen(CHALLENGE_PREFIX);
	toklen = tlen - strlen(CHALLENGE_PREFIX);
	if (!flint_solve_token_ok(tok, toklen))
		return response(404, "Not Found", "not found\n", head);
	out = NULL;
	pthread_mutex_lock(&hs->mu);
	for (struct http_token *t = hs->tokens; t; t = t->next) {
		if (strlen(t->token) == toklen && memcmp(t->token, tok, toklen) == 0) {
			out = response(200, "OK", t->keyauth, head);
			pthread_mutex_unlock(&hs->mu);
			return out;
		}
	}
	pthread_mutex_unlock(&hs->mu);
	return response(404, "Not Found", "not found\n", head);
}

static short http_io(void *arg, void *conn, int fd)
{
	struct http_solver *hs = arg;
	struct http_conn *c = conn;

	while (!c->out) {
		ssize_t n;

		if (c->len == sizeof(c->buf)) {
			c->out =
			    response(431, "Request Header Fields Too Large", "too large\n", false);
			if (!c->out)
				return 0;
			break;
		}
		n = recv(fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return POLLIN;
		if (n <= 0)
			return 0; /* gone before a full request */
		c->len += (size_t)n;
		if (memmem(c->buf, c->len, "\r\n\r\n", 4) || memmem(c->buf, c->len, "\n\n", 2)) {
			c->out = answer(hs, c->buf, c->len);
			if (!c->out)
				return 0;
		}
	}
	c->outlen = strlen(c->out);
	while (c->off < c->outlen) {
		ssize_t n = send(fd, c->out + c->off, c->outlen - c->off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return POLLOUT;
		if (n <= 0)
			return 0;
		c->off += (size_t)n;
	}
	shutdown(fd, SHUT_WR);
	return 0;
}

static const struct flint_serve_ops http_ops = {
    .open = http_open,
    .io = http_io,
    .close = http_close,
};

static void http_stop(struct flint_solver *s)
{
	struct http_solver *hs = from(s);
	struct http_token *t, *next;

	if (!hs)
		return;
	flint_serve_stop(hs->srv);
	for (t = hs->tokens; t; t = next) {
		next = t->next;
		free(t->token);
		free(t->keyauth);
		free(t);
	}
	pthread_mutex_destroy(&hs->mu);
	free(hs);
}

static int http_start(const struct flint_solver_config *cfg, struct flint_solver **ret,
		      char **ret_err)
{
	struct http_solver *hs;
	int r;

	if (!http_configured(cfg) || !ret)
		return flint_solve_errf(ret_err, FLINT_EINVAL,
					"standalone-http: no port configured");
	hs = calloc(1, sizeof(*hs));
	if (!hs)
		return flint_solve_errf(ret_err, FLINT_ENOMEM, "standalone-http: out of memory");
	pthread_mutex_init(&hs->mu, NULL);
	r = flint_serve_start("standalone-http", cfg->http01_bind, cfg->http01_port, &http_ops, hs,
			      &hs->srv, ret_err);
	if (r < 0) {
		pthread_mutex_destroy(&hs->mu);
		free(hs);
		return r;
	}
	*ret = (struct flint_solver *)(void *)hs;
	return 0;
}

static int http_present(struct flint_solver *s, const struct flint_challenge_task *t,
			char **ret_err)
{
	struct http_solver *hs = from(s);
	struct http_token *e, *old;
	char *keyauth;

	if (!hs || !t || !t->token || !t->key_authorization)
		return flint_solve_errf(ret_err, FLINT_EINVAL, "standalone-http: no challenge");
	if (t->ident_type && !http_applies(t->ident_type, t->wildcard))
		return flint_solve_errf(
		    ret_err, FLINT_EUNSUPPORTED, "standalone-http: cannot prove %s%.64s",
		    t->wildcard ? "*." : "", t->ident_value ? t->ident_value : "");
	if (!flint_solve_token_ok(t->token, strlen(t->token)))
		return flint_solve_errf(ret_err, FLINT_EINVAL,
					"standalone-http: token is not base64url: %.64s", t->token);
	e = calloc(1, sizeof(*e));
	keyauth = strdup(t->key_authorization);
	if (!e || !keyauth || !(e->token = strdup(t->token))) {
		free(e);
		free(keyauth);
		return flint_solve_errf(ret_err, FLINT_ENOMEM, "standalone-http: out of memory");
	}
	pthread_mutex_lock(&hs->mu);
	for (old = hs->tokens; old; old = old->next)
		if (strcmp(old->token, t->token) == 0)
			break;
	if (old) {
		/* presented again: the newest key authorization wins */
		free(old->keyauth);
		old->keyauth = keyauth;
	} else {
		e->keyauth = keyauth;
		e->next = hs->tokens;
		hs->tokens = e;
		e = NULL;
	}
	pthread_mutex_unlock(&hs->mu);
	if (e) {
		free(e->token);
		free(e);
	}
	return 0;
}

static void http_cleanup(struct flint_solver *s, const struct flint_challenge_task *t)
{
	struct http_solver *hs = from(s);
	struct http_token **pp, *e = NULL;

	if (!hs || !t || !t->token)
		return;
	pthread_mutex_lock(&hs->mu);
	for (pp = &hs->tokens; *pp; pp = &(*pp)->next) {
		if (strcmp((*pp)->token, t->token) == 0) {
			e = *pp;
			*pp = e->next;
			break;
		}
	}
	pthread_mutex_unlock(&hs->mu);
	if (e) {
		free(e->token);
		free(e->keyauth);
		free(e);
	}
}

const struct flint_solver_type flint_solver_http01_standalone = {
    .name = "standalone-http",
    .challenge_type = "http-01",
    .configured = http_configured,
    .applies = http_applies,
    .start = http_start,
    .present = http_present,
    .cleanup = http_cleanup,
    .stop = http_stop,
};
