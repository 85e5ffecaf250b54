/* Internal to the solvers: the listening sockets and poll loop shared by the
 * standalone http-01 (RFC 8555 §8.3) and tls-alpn-01 (RFC 8737) responders. */
#ifndef FLINT_SOLVE_SERVE_H
#define FLINT_SOLVE_SERVE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* Connections served at once; more wait in the listen backlog. */
#define FLINT_SERVE_MAX_CONNS 64
/* Each connection is closed this long after it was accepted, finished or not. */
#define FLINT_SERVE_CONN_TIMEOUT_MS 5000

/* How a server handles its connections; all run on the server thread. */
struct flint_serve_ops {
	/* A new non-blocking connection: its state, or NULL to close it at once. */
	void *(*open)(void *arg, int fd);
	/* Makes progress on fd; returns POLLIN or POLLOUT to wait for, 0 when done. */
	short (*io)(void *arg, void *conn, int fd);
	/* Frees the state; the loop closes fd afterwards. */
	void (*close)(void *arg, void *conn);
};

struct flint_serve;

/* Listens on bind (a numeric address, "[v6]" allowed) or, when bind is NULL or
 * empty, on [::] dual-stack, falling back to 0.0.0.0 plus a v6-only [::]; then
 * serves from a thread. On failure *ret_err names the address and the cause. */
int flint_serve_start(const char *what, const char *bind, int port,
		      const struct flint_serve_ops *ops, void *arg, struct flint_serve **ret,
		      char **ret_err);
/* Stops the thread, closes listeners and connections; NULL is a no-op. */
void flint_serve_stop(struct flint_serve *s);

/* A token safe to put in a path: 1 to FLINT_SOLVE_TOKEN_MAX base64url characters
 * (RFC 8555 §8.3: clients copying it from a request must check its syntax). */
#define FLINT_SOLVE_TOKEN_MAX 255
bool flint_solve_token_ok(const char *token, size_t len);

/* *ret_err = a malloc'd one-line message (NULL when out of memory); returns err.
 * ret_err may be NULL. */
int flint_solve_errf(char **ret_err, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
