/* The HTTPS front of flintd: one libevent loop per thread on SO_REUSEPORT
 * sockets, TLS via bufferevent_openssl, connection caps and request deadlines. */
#ifndef FLINTD_HTTP_H
#define FLINTD_HTTP_H

#include <event2/util.h>

#include "server.h"

struct flintd_http;

/* The listening sockets: one per event loop (SO_REUSEPORT) on listen, and
 * public-http-listen's when set (else plain < 0). Bound first of all, so that
 * flintd can give up root right after (privileges.h). */
struct flintd_listeners {
	evutil_socket_t *api;
	int n_api;
	evutil_socket_t plain;
};
int flintd_listeners_bind(const struct flintd_config *cfg, struct flintd_listeners *ret);
/* Closes what is still bound (what flintd_http_new did not take). */
void flintd_listeners_close(struct flintd_listeners *l);

/* The loops on bound's sockets (which it takes over) and the TLS context. */
int flintd_http_new(struct flintd *d, struct flintd_listeners *bound, struct flintd_http **ret);
/* Runs the loops until flintd_http_stop is called (from a signal handler thread). */
int flintd_http_run(struct flintd_http *h);
void flintd_http_stop(struct flintd_http *h);
void flintd_http_free(struct flintd_http *h);

#endif
