/* The HTTPS front of flintd: one libevent loop per thread on SO_REUSEPORT
 * sockets, TLS via bufferevent_openssl, connection caps and request deadlines. */
#ifndef FLINTD_HTTP_H
#define FLINTD_HTTP_H

#include "server.h"

struct flintd_http;

/* Binds the listening sockets (so errors show before start) and builds the TLS context. */
int flintd_http_new(struct flintd *d, struct flintd_http **ret);
/* Runs the loops until flintd_http_stop is called (from a signal handler thread). */
int flintd_http_run(struct flintd_http *h);
void flintd_http_stop(struct flintd_http *h);
void flintd_http_free(struct flintd_http *h);

#endif
