/* acme-load's in-process http-01 responder (RFC 8555 §8.3): one libevent HTTP/1.1
 * server thread serving /.well-known/acme-challenge/TOKEN from a shared token table. */
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/thread.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acme_load.h"
#include "error.h"

#define BUCKETS 8192
#define PREFIX "/.well-known/acme-challenge/"

struct entry {
	struct entry *next;
	char *token, *keyauth;
};

static struct entry *table[BUCKETS];
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct event_base *base;
static struct evhttp *http;
static pthread_t thread;
static bool running;
static atomic_long served;

/* --http01-delay-ms: replies held back on a timer. Only the responder thread
 * touches them (and responder_stop, after joining it). */
struct pending {
	struct pending *prev, *next;
	struct evhttp_request *req; /* NULL once its connection is gone */
	struct event *ev;
};
static struct pending *pendings;
static long delay_ms;

static size_t bucket_of(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h % BUCKETS;
}

int responder_put(const char *token, const char *keyauth)
{
	struct entry *e = calloc(1, sizeof(*e));
	size_t b = bucket_of(token);

	if (!e || !(e->token = strdup(token)) || !(e->keyauth = strdup(keyauth))) {
		if (e) {
			free(e->token);
			free(e);
		}
		return FLINT_ENOMEM;
	}
	pthread_mutex_lock(&table_lock);
	e->next = table[b];
	table[b] = e;
	pthread_mutex_unlock(&table_lock);
	return 0;
}

void responder_del(const char *token)
{
	struct entry **p, *e = NULL;

	pthread_mutex_lock(&table_lock);
	for (p = &table[bucket_of(token)]; *p; p = &(*p)->next) {
		if (!strcmp((*p)->token, token)) {
			e = *p;
			*p = e->next;
			break;
		}
	}
	pthread_mutex_unlock(&table_lock);
	if (e) {
		free(e->token);
		free(e->keyauth);
		free(e);
	}
}

long responder_served(void) { return atomic_load(&served); }

static void pending_free(struct pending *p)
{
	if (p->req)
		evhttp_connection_set_closecb(evhttp_request_get_connection(p->req), NULL, NULL);
	if (p->prev)
		p->prev->next = p->next;
	else
		pendings = p->next;
	if (p->next)
		p->next->prev = p->prev;
	event_free(p->ev);
	free(p);
}

static void send_ok(struct evhttp_request *req)
{
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "application/octet-stream");
	evhttp_send_reply(req, HTTP_OK, "OK", NULL);
	atomic_fetch_add(&served, 1);
}

/* The validator hung up while its reply was held back: libevent frees the request. */
static void on_conn_close(struct evhttp_connection *evcon, void *arg)
{
	struct pending *p = arg;

	(void)evcon;
	p->req = NULL;
	pending_free(p);
}

static void on_delay(evutil_socket_t fd, short what, void *arg)
{
	struct pending *p = arg;
	struct evhttp_request *req = p->req;

	(void)fd;
	(void)what;
	pending_free(p); /* clears the close callback first: the reply may close the connection */
	if (req)
		send_ok(req);
}

/* Holds the reply back delay_ms; 0 when that could not be arranged (reply now). */
static int send_later(struct evhttp_request *req)
{
	struct pending *p = calloc(1, sizeof(*p));
	struct timeval tv = {.tv_sec = delay_ms / 1000, .tv_usec = (delay_ms % 1000) * 1000};

	if (!p || !(p->ev = evtimer_new(base, on_delay, p)) || evtimer_add(p->ev, &tv) < 0) {
		if (p && p->ev)
			event_free(p->ev);
		free(p);
		return -1;
	}
	p->req = req;
	p->next = pendings;
	if (pendings)
		pendings->prev = p;
	pendings = p;
	evhttp_connection_set_closecb(evhttp_request_get_connection(req), on_conn_close, p);
	return 0;
}

static void on_request(struct evhttp_request *req, void *arg)
{
	const char *uri = evhttp_request_get_uri(req);
	struct evbuffer *out = evhttp_request_get_output_buffer(req);
	struct entry *e;
	bool found = false;

	(void)arg;
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET || !uri ||
	    strncmp(uri, PREFIX, strlen(PREFIX)) != 0) {
		evhttp_send_error(req, HTTP_NOTFOUND, NULL);
		return;
	}
	uri += strlen(PREFIX);
	pthread_mutex_lock(&table_lock);
	for (e = table[bucket_of(uri)]; e; e = e->next) {
		if (!strcmp(e->token, uri)) {
			evbuffer_add(out, e->keyauth, strlen(e->keyauth));
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&table_lock);
	if (!found) {
		evhttp_send_error(req, HTTP_NOTFOUND, NULL);
		return;
	}
	if (delay_ms > 0 && send_later(req) == 0)
		return;
	send_ok(req);
}

static void *run(void *arg)
{
	(void)arg;
	event_base_dispatch(base);
	return NULL;
}

/* The listener and its event base (either may be absent). */
static void free_loop(void)
{
	if (http)
		evhttp_free(http);
	if (base)
		event_base_free(base);
	http = NULL;
	base = NULL;
}

int responder_start(const char *addr, int port, long reply_delay_ms)
{
	delay_ms = reply_delay_ms;
	if (evthread_use_pthreads() < 0 || !(base = event_base_new()) || !(http = evhttp_new(base)))
		goto fail;
	evhttp_set_timeout(http, 10);
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_gencb(http, on_request, NULL);
	if (evhttp_bind_socket(http, addr, (ev_uint16_t)port) < 0) {
		fprintf(stderr, "acme-load: cannot listen on %s:%d for http-01\n", addr, port);
		goto fail;
	}
	if (pthread_create(&thread, NULL, run, NULL) != 0)
		goto fail;
	running = true;
	return 0;
fail:
	free_loop();
	return FLINT_EIO;
}

void responder_stop(void)
{
	size_t i;

	if (running) {
		event_base_loopbreak(base);
		pthread_join(thread, NULL);
		running = false;
	}
	while (pendings)
		pending_free(pendings);
	free_loop();
	for (i = 0; i < BUCKETS; i++) {
		while (table[i]) {
			struct entry *e = table[i];

			table[i] = e->next;
			free(e->token);
			free(e->keyauth);
			free(e);
		}
	}
}
