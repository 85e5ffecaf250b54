/* The HTTPS front of flintd (RFC 8555 §6.1 requires HTTPS): per-core libevent
 * loops on SO_REUSEPORT sockets, TLS 1.2/1.3, TCP_NODELAY, connection caps,
 * an absolute per-request deadline, and the reply helpers with the log line. */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/bufferevent_struct.h> /* ev_write: see flint_reply_body */
#include <event2/event.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "b64.h"
#include "error.h"
#include "log.h"
#include "metrics.h"

#define MAX_BODY (256 * 1024)
#define MAX_HEADERS (16 * 1024)
#define IP_SLOTS 1024

struct conn_state {
	struct flintd_loop *loop;
	struct bufferevent *bev;
	struct event *deadline;
	struct evbuffer_cb_entry *in_cb, *out_cb;
	bool counted; /* per-address accounting done (on the first request) */
	bool in_check; /* in loop->check: see check_read_ahead */
	bool hs_begun;    /* its ClientHello (or, parked, its first bytes) came: see handshake admission */
	unsigned char hs_looks; /* looks at it while it counted */
	struct event *park;     /* parked: waits for its first bytes */
	unsigned ip_hash;
	struct conn_state *next_check;
	/* on at most one of the loop's admission lists at a time */
	struct conn_list *on;
	struct conn_state *prev_on, *next_on;
};

struct conn_list {
	struct conn_state *head, *tail;
	int n;
};

struct flintd_loop {
	struct flintd_http *h;
	struct event_base *base;
	struct evhttp *http;
	struct evhttp *http_plain; /* public-http-listen (loop 0 only), or NULL */
	evutil_socket_t fd_plain;
	struct flint_store *store;
	struct event *jobs;  /* the cluster's background work, d->run_jobs (loop 0 only) */
	struct event *log_flush; /* writes the loop's held log lines after its pass */
	struct event *read_ahead; /* check_read_ahead, after the pass's callbacks */
	struct conn_state *check; /* connections it looks at */
	/* handshake admission: connections in a handshake that count, those
	 * just accepted to park, parked ones waiting for their first bytes,
	 * and parked ones whose bytes came, in order, waiting for a slot */
	struct conn_list counted, parking, silent, ready;
	struct event *park_now; /* parks the parking list, after the accepts */
	struct event *look;     /* look_at_handshakes, while some wait */
	bool closing;           /* being freed: admit nothing */
	evutil_socket_t fd;
	pthread_t thread;
	int conns;
	unsigned short per_ip[IP_SLOTS]; /* connections per hashed client address */
};

struct flintd_http {
	struct flintd *d;
	struct flintd_loop *loops;
	int n_loops;
};

static int conn_ex_index = -1;

int64_t flint_now(void)
{
	return (int64_t)time(NULL);
}

/* ---- handshake admission. A TLS handshake in progress holds ~30 KiB
 * (OpenSSL's handshake and record buffers, the first zeroed in full) that a
 * finished one gives back, and a thousand clients connecting at once would
 * all be in a handshake together: the heap would grow to that peak and stay
 * there. So at most max-handshakes connections of a loop are in a handshake
 * at a time. Accepting never stops (a full listen backlog would make the
 * kernel drop clients): a connection accepted while the loop is at the cap
 * is parked before OpenSSL reads anything (its bufferevent's events are
 * taken off; ~11 KiB each, as any idle connection), waits for its first
 * bytes, and then for a slot, in order. So silent connections never take a
 * slot once the loop is busy.
 *
 * A connection counts from its accept (or from leaving the queue) until its
 * handshake is done. When some wait and no slot is free, counted ones that
 * have not sent their ClientHello give their slots up at once (they go on,
 * and count again when it comes); and while some wait, the loop looks at
 * the counted ones every 100 ms: one counted for ten looks stops counting.
 * So a silent connection holds no slot anyone waits for, and a stalled
 * handshake one for about a second, not until the deadline. */

#define LOOK_EVERY_US 100000
#define STALLED_LOOKS 10

static void list_add(struct conn_list *list, struct conn_state *cs)
{
	cs->on = list;
	cs->next_on = NULL;
	cs->prev_on = list->tail;
	if (list->tail)
		list->tail->next_on = cs;
	else
		list->head = cs;
	list->tail = cs;
	list->n++;
}

static void list_remove(struct conn_state *cs)
{
	struct conn_list *list = cs->on;
	if (!list)
		return;
	if (cs->prev_on)
		cs->prev_on->next_on = cs->next_on;
	else
		list->head = cs->next_on;
	if (cs->next_on)
		cs->next_on->prev_on = cs->prev_on;
	else
		list->tail = cs->prev_on;
	list->n--;
	cs->on = NULL;
	cs->prev_on = cs->next_on = NULL;
}

static void count_handshake(struct conn_state *cs)
{
	list_add(&cs->loop->counted, cs);
	cs->hs_looks = 0;
	flint_metrics_gauge_add(flint_metrics_global(), FLINT_METRIC_HANDSHAKES, 1);
}

/* Out of any list; a parked connection gets its bufferevent's events back
 * unless it is going away (restore false: its bufferevent is being freed). */
static void leave_lists(struct conn_state *cs, bool restore)
{
	struct conn_list *was = cs->on;
	struct flintd_loop *l = cs->loop;
	list_remove(cs);
	if (was == &l->counted)
		flint_metrics_gauge_add(flint_metrics_global(), FLINT_METRIC_HANDSHAKES, -1);
	else if (was == &l->ready)
		flint_metrics_gauge_add(flint_metrics_global(), FLINT_METRIC_HANDSHAKES_WAITING, -1);
	if (cs->park) {
		event_free(cs->park);
		cs->park = NULL;
	}
	if (restore && was && was != &l->counted && was != &l->parking)
		bufferevent_enable(cs->bev, EV_READ | EV_WRITE); /* the handshake's events */
}

static void unpark(struct conn_state *cs)
{
	leave_lists(cs, true);
}

/* Counted connections that have not sent a ClientHello give their slots to
 * those waiting. */
static void yield_silent_slots(struct flintd_loop *l, int cap)
{
	struct conn_state *cs = l->counted.head, *next;
	for (; cs && l->counted.n + l->ready.n > cap; cs = next) {
		next = cs->next_on;
		if (cs->hs_begun)
			continue;
		unpark(cs); /* stops counting */
		flint_metrics_inc(flint_metrics_global(), FLINT_METRIC_HANDSHAKE_YIELDS);
	}
}

static void admit_waiting(struct flintd_loop *l)
{
	static const struct timeval every = {0, LOOK_EVERY_US};
	int cap = l->h->d->cfg->max_handshakes;
	/* being freed: connections go in event_base_free's finalizers, after
	 * the loop's own events (l->look among them) are gone */
	if (l->closing)
		return;
	if (l->ready.head && l->counted.n >= cap)
		yield_silent_slots(l, cap);
	while (l->ready.head && l->counted.n < cap) {
		struct conn_state *cs = l->ready.head;
		unpark(cs);
		cs->hs_begun = true; /* its bytes came: it does not yield its slot */
		count_handshake(cs);
	}
	if (!l->ready.head)
		evtimer_del(l->look);
	else if (!evtimer_pending(l->look, NULL))
		evtimer_add(l->look, &every);
}

static void handshake_uncount(struct conn_state *cs)
{
	if (cs->on != &cs->loop->counted)
		return;
	unpark(cs);
	admit_waiting(cs->loop);
}

/* Data (or the end) came on a parked connection: it waits for a slot. */
static void parked_readable(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	struct conn_state *cs = arg;
	list_remove(cs);
	list_add(&cs->loop->ready, cs);
	flint_metrics_gauge_add(flint_metrics_global(), FLINT_METRIC_HANDSHAKES_WAITING, 1);
	admit_waiting(cs->loop);
}

/* After the accepts of this pass, before OpenSSL has read anything. */
static void park_accepted(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	struct flintd_loop *l = arg;
	struct conn_state *cs;
	while ((cs = l->parking.head)) {
		struct bufferevent *bev = cs->bev;
		list_remove(cs);
		cs->park = event_new(l->base, bufferevent_getfd(bev), EV_READ, parked_readable, cs);
		if (!cs->park || event_add(cs->park, NULL) != 0) {
			if (cs->park)
				event_free(cs->park);
			cs->park = NULL;
			count_handshake(cs); /* cannot park it: let it in */
			continue;
		}
		event_del(&bev->ev_read);
		event_del(&bev->ev_write);
		list_add(&l->silent, cs);
		flint_metrics_inc(flint_metrics_global(), FLINT_METRIC_PARKED);
	}
}

static void handshake_accepted(struct conn_state *cs)
{
	struct flintd_loop *l = cs->loop;
	if (l->counted.n < l->h->d->cfg->max_handshakes && !l->ready.head) {
		count_handshake(cs);
		return;
	}
	list_add(&l->parking, cs);
	event_active(l->park_now, 0, 0);
}

static void look_at_handshakes(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	struct flintd_loop *l = arg;
	struct conn_state *cs = l->counted.head, *next;
	for (; cs; cs = next) {
		next = cs->next_on;
		if (++cs->hs_looks >= STALLED_LOOKS) {
			unpark(cs); /* stops counting */
			flint_metrics_inc(flint_metrics_global(), FLINT_METRIC_HANDSHAKE_STALLS);
		}
	}
	admit_waiting(l);
}

/* ---- connection accounting: the state hangs off the SSL object, whose
 * ex_data free callback runs exactly when evhttp drops the connection. */

static void conn_state_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
			    void *argp)
{
	(void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
	struct conn_state *cs = ptr;
	if (!cs)
		return;
	/* the SSL goes while the bufferevent is destroyed: its buffers are
	 * still there, and nothing may call back into cs any more */
	if (cs->in_cb)
		evbuffer_remove_cb_entry(bufferevent_get_input(cs->bev), cs->in_cb);
	if (cs->out_cb)
		evbuffer_remove_cb_entry(bufferevent_get_output(cs->bev), cs->out_cb);
	for (struct conn_state **p = &cs->loop->check; cs->in_check && *p; p = &(*p)->next_check)
		if (*p == cs) {
			*p = cs->next_check;
			break;
		}
	if (cs->on == &cs->loop->counted)
		handshake_uncount(cs);
	else
		leave_lists(cs, false); /* the bufferevent is being freed */
	cs->loop->conns--;
	flint_metrics_gauge_add(flint_metrics_global(), FLINT_METRIC_CONNECTIONS, -1);
	if (cs->counted && cs->loop->per_ip[cs->ip_hash])
		cs->loop->per_ip[cs->ip_hash]--;
	if (cs->deadline)
		event_free(cs->deadline);
	free(cs);
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	struct conn_state *cs = arg;
	/* evhttp notices EOF and frees the connection (and with it cs); a
	 * parked one gets its events back for that */
	evutil_socket_t s = bufferevent_getfd(cs->bev);
	if (cs->on && cs->on != &cs->loop->counted)
		unpark(cs);
	if (s >= 0)
		shutdown(s, SHUT_RDWR);
}

static void arm_deadline(struct conn_state *cs)
{
	struct timeval tv = {cs->loop->h->d->cfg->request_deadline, 0};
	evtimer_add(cs->deadline, &tv);
}

static unsigned hash_peer(evutil_socket_t fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	unsigned h = 2166136261u;
	const unsigned char *p = NULL;
	size_t n = 0;
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET) {
			p = (const unsigned char *)&((struct sockaddr_in *)&ss)->sin_addr;
			n = 4;
		} else if (ss.ss_family == AF_INET6) {
			p = (const unsigned char *)&((struct sockaddr_in6 *)&ss)->sin6_addr;
			n = 16;
		}
	}
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h % IP_SLOTS;
}

/* ---- TLS read-ahead. OpenSSL reads each record in two system calls (its
 * header, then the rest) unless it may read ahead: then one read takes all
 * the socket has, and records after the first wait in OpenSSL's buffer.
 * libevent 2.1's TLS bufferevent reads on only while SSL_pending (decrypted
 * bytes) is non-zero, so such a record would wait for the socket to become
 * readable again, which it does not: the request right behind a TLS 1.3
 * client's Finished, a request's second record, a pipelined request. So
 * whenever a connection may have left records there (a handshake done, data
 * read, a reply written: evhttp reads again once a reply is out), the loop
 * looks at it after the callbacks already active in this pass, and if
 * OpenSSL holds data and the connection reads, runs its read callback. */

static void check_read_ahead(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	struct flintd_loop *l = arg;
	struct conn_state *cs = l->check;
	l->check = NULL;
	while (cs) {
		struct conn_state *next = cs->next_check;
		SSL *ssl = bufferevent_openssl_get_ssl(cs->bev);
		cs->in_check = false;
		cs->next_check = NULL;
		if (ssl && SSL_has_pending(ssl) && (bufferevent_get_enabled(cs->bev) & EV_READ))
			event_active(&cs->bev->ev_read, EV_READ, 1); /* queued, not run here */
		cs = next;
	}
}

static void read_ahead_check(struct conn_state *cs)
{
	struct flintd_loop *l = cs->loop;
	if (cs->in_check || !l->read_ahead)
		return;
	cs->in_check = true;
	cs->next_check = l->check;
	l->check = cs;
	event_active(l->read_ahead, 0, 0);
}

static void on_input(struct evbuffer *in, const struct evbuffer_cb_info *info, void *arg)
{
	(void)in;
	if (info->n_added)
		read_ahead_check(arg);
}

/* The per-address cap is applied when the TLS handshake starts, the first
 * moment the socket is known: a refused connection is shut down before any
 * request is read, and one that never starts a handshake meets the deadline. */
static void tls_info_cb(const SSL *ssl, int where, int ret)
{
	(void)ret;
	struct conn_state *cs = SSL_get_ex_data(ssl, conn_ex_index);
	if (cs && (where & SSL_CB_LOOP) && !cs->hs_begun && SSL_get_state(ssl) != TLS_ST_BEFORE) {
		cs->hs_begun = true; /* the ClientHello came: counts again if it stopped */
		if (!cs->on)
			count_handshake(cs);
	}
	if (cs && (where & SSL_CB_HANDSHAKE_DONE)) {
		handshake_uncount(cs);
		read_ahead_check(cs);
	}
	if (!(where & SSL_CB_HANDSHAKE_START) || !cs || cs->counted)
		return;
	struct flintd_loop *loop = cs->loop;
	const struct flintd_config *cfg = loop->h->d->cfg;
	int fd = SSL_get_fd(ssl);
	cs->ip_hash = hash_peer(fd);
	cs->counted = true;
	loop->per_ip[cs->ip_hash]++;
	if (loop->conns > cfg->max_connections ||
	    loop->per_ip[cs->ip_hash] > cfg->max_connections_per_ip) {
		flintd_logf("conn refused cap=%s",
			    loop->conns > cfg->max_connections ? "connection" : "per-address");
		shutdown(fd, SHUT_RDWR);
	}
}

/* evhttp writes a response as two pieces, the status line and headers, and
 * then the body, moved over as a buffer chain of its own; the TLS
 * bufferevent encrypts each chain into a record and writes each record with
 * a system call of its own. Joining a small response into one chain as it is
 * added makes it one record and one write. */
#define COALESCE_MAX 16384

/* A problem document as flintd sends every one (NULL when out of memory). */
static char *problem_text(const struct flint_problem *p)
{
	json_t *doc = flint_problem_to_json(p);
	char *s = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(doc);
	return s;
}

/* Requests evhttp refuses itself (a body over the limit, a malformed request
 * line or header, a method it does not allow) get its HTML error page, and
 * libevent 2.1 calls nothing of flintd's for them. flintd never sends HTML:
 * such a page, once whole in a connection's output, is replaced by an RFC
 * 7807 problem document with the same status, as every other error has. */
static void problem_for_evhttp_page(struct evbuffer *out, const char *base_url)
{
	static const char page_end[] = "</HTML>\n"; /* how evhttp's page ends */
	size_t len = evbuffer_get_length(out);
	char tail[sizeof(page_end) - 1];
	struct evbuffer_ptr at;
	const char *p, *head_end;
	struct flint_problem *prob = NULL;
	char *doc = NULL, *reply = NULL;
	int status, n;

	/* called for every piece added to the output (each header line): only
	 * an output that ends as such a page is looked at further */
	if (len < 16 + sizeof(tail) || evbuffer_ptr_set(out, &at, len - sizeof(tail), EVBUFFER_PTR_SET) != 0 ||
	    evbuffer_copyout_from(out, &at, tail, sizeof(tail)) != (ev_ssize_t)sizeof(tail) ||
	    memcmp(tail, page_end, sizeof(tail)) != 0)
		return;
	p = (const char *)evbuffer_pullup(out, -1);
	if (!p || strncmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ' ||
	    !(head_end = memmem(p, len, "\r\n\r\n", 4)) ||
	    !memmem(p, (size_t)(head_end - p), "\r\nContent-Type: text/html", 25) ||
	    !memmem(head_end, len - (size_t)(head_end - p), "</HTML>", 7))
		return;
	status = atoi(p + 9);
	if (status < 400 || status > 599)
		return;
	enum flint_problem_type type = status >= 500 && status != 501 ? FLINT_PROB_SERVER_INTERNAL
									: FLINT_PROB_MALFORMED;
	if (status == 413)
		prob = flint_problem_new(type, "the request body is over the limit of %d bytes",
					 MAX_BODY);
	else
		prob = flint_problem_new(type, "%s",
					 status == 400 ? "malformed HTTP request"
					 : status == 405 || status == 501 ? "method not allowed"
									  : "the request was refused");
	if (prob)
		prob->status = status;
	doc = problem_text(prob);
	flint_problem_free(prob);
	if (!doc)
		return;
	const char *eol = memchr(p, '\r', (size_t)(head_end - p) + 1);
	n = asprintf(&reply,
		     "%.*s\r\nContent-Type: application/problem+json\r\nContent-Length: %zu\r\n"
		     "Link: <%s/directory>;rel=\"index\"\r\nConnection: close\r\n\r\n%s",
		     (int)(eol - p), p, strlen(doc), base_url, doc);
	free(doc);
	if (n < 0)
		return;
	/* the drain and the add call this callback again: the output is no
	 * longer HTML then */
	evbuffer_drain(out, len);
	evbuffer_add(out, reply, (size_t)n);
	free(reply);
}

static void on_output(struct evbuffer *out, const struct evbuffer_cb_info *info, void *arg)
{
	struct conn_state *cs = arg;
	struct flintd_loop *loop = cs->loop;
	if (info->n_deleted)
		read_ahead_check(cs); /* written: evhttp may read the next request */
	if (info->n_added == 0)
		return;
	size_t len = evbuffer_get_length(out);
	if (len > COALESCE_MAX)
		return;
	if (evbuffer_peek(out, -1, NULL, NULL, 0) > 1)
		(void)evbuffer_pullup(out, -1);
	problem_for_evhttp_page(out, loop->h->d->cfg->base_url);
}

static struct bufferevent *accept_bev(struct event_base *base, void *arg)
{
	struct flintd_loop *loop = arg;
	SSL *ssl = SSL_new(loop->h->d->ssl_ctx);
	struct conn_state *cs = calloc(1, sizeof(*cs));
	if (!ssl || !cs) {
		SSL_free(ssl);
		free(cs);
		return NULL;
	}
	struct bufferevent *bev = bufferevent_openssl_socket_new(
		base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		free(cs);
		return NULL; /* the bufferevent owns ssl only on success */
	}
	cs->loop = loop;
	cs->bev = bev;
	cs->in_cb = evbuffer_add_cb(bufferevent_get_input(bev), on_input, cs);
	cs->out_cb = evbuffer_add_cb(bufferevent_get_output(bev), on_output, cs);
	cs->deadline = evtimer_new(base, deadline_cb, cs);
	loop->conns++;
	flint_metrics_gauge_add(flint_metrics_global(), FLINT_METRIC_CONNECTIONS, 1);
	SSL_set_ex_data(ssl, conn_ex_index, cs);
	handshake_accepted(cs);
	if (cs->deadline)
		arm_deadline(cs); /* the first request must arrive whole within the deadline */
	return bev;
}

static void bind_conn(struct flint_req *r, struct conn_state **ret)
{
	struct evhttp_connection *c = evhttp_request_get_connection(r->ev);
	struct bufferevent *bev = c ? evhttp_connection_get_bufferevent(c) : NULL;
	SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
	*ret = ssl ? SSL_get_ex_data(ssl, conn_ex_index) : NULL;
}

/* ---- replies ---- */

char *flint_url(const struct flint_req *r, const char *fmt, ...)
{
	va_list ap;
	char *rel = NULL, *out = NULL;
	va_start(ap, fmt);
	int n = vasprintf(&rel, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	if (asprintf(&out, "%s%s", r->base, rel) < 0)
		out = NULL;
	free(rel);
	return out;
}

json_t *flint_url_json(const struct flint_req *r, const char *fmt, ...)
{
	va_list ap;
	char *rel = NULL;
	va_start(ap, fmt);
	int n = vasprintf(&rel, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	char *url = flint_url(r, "%s", rel);
	json_t *j = url ? json_string(url) : NULL;
	free(rel);
	free(url);
	return j;
}

void flint_reply_add_header(struct flint_req *r, const char *name, const char *value)
{
	evhttp_add_header(evhttp_request_get_output_headers(r->ev), name, value);
}

int flint_reply_add_nonce(struct flint_req *r)
{
	char nonce[FLINT_NONCE_LEN + 1];
	int rc = flint_nonce_new(&r->d->nonce_key, flint_now() + r->d->cfg->nonce_lifetime, nonce);
	if (rc == 0)
		flint_reply_add_header(r, "Replay-Nonce", nonce);
	return rc;
}

/* Copies s for a log line: control bytes, spaces, '"' and non-ASCII become
 * %XX so a request cannot forge or split lines; long values are cut. */
static void log_escape(const char *s, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	for (; *s && o + 4 < size; s++) {
		unsigned char c = (unsigned char)*s;
		if (c <= 0x20 || c >= 0x7f || c == '"' || c == '%') {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
}

static void log_request(struct flint_req *r, uint64_t us)
{
	static const char *names[] = {"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS"};
	const char *m = "OTHER";
	for (unsigned i = 0; i < 6; i++)
		if (r->method == (enum evhttp_cmd_type)(1 << i))
			m = names[i];
	char path[512], detail[256] = "";
	log_escape(r->path ? r->path : "-", path, sizeof(path));
	if (r->problem_detail) {
		memcpy(detail, " detail=", 8);
		log_escape(r->problem_detail, detail + 8, sizeof(detail) - 8);
	}
	flintd_logf("req method=%s path=%s route=%s account=%s status=%d problem=%s us=%llu%s", m,
		    path, r->route ? r->route : "-", r->account ? r->account->id : "-", r->status,
		    r->problem_type ? r->problem_type : "-", (unsigned long long)us, detail);
}

void flint_reply_body(struct flint_req *r, int status, const char *content_type,
		      const void *body, size_t len)
{
	if (r->replied)
		return;
	struct evbuffer *buf = evbuffer_new();
	/* RFC 9110 §9.3.2: no body for HEAD, ever (libevent sometimes sent it,
	 * and the client then read it as the next response) */
	if (buf && body && len && r->method != EVHTTP_REQ_HEAD)
		evbuffer_add(buf, body, len);
	if (content_type)
		flint_reply_add_header(r, "Content-Type", content_type);
	r->status = status;
	r->replied = true;
	struct evhttp_connection *conn = evhttp_request_get_connection(r->ev);
	struct bufferevent *bev = conn ? evhttp_connection_get_bufferevent(conn) : NULL;
	evhttp_send_reply(r->ev, status, NULL, buf);
	if (buf)
		evbuffer_free(buf);
	/* The TLS bufferevent writes a reply only once epoll reports the socket
	 * writable: write interest switched on and off again (two epoll_ctl)
	 * and a pass of the loop in between, for every reply. Its write
	 * callback run in this pass writes it now; a socket that is not
	 * writable is a spurious wake-up it already handles (it waits). A
	 * connection freed before then takes the activation with it. */
	if (bev)
		event_active(&bev->ev_write, EV_WRITE, 1);
}

void flint_reply_json(struct flint_req *r, int status, json_t *doc)
{
	char *s = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(doc);
	if (!s) {
		flint_reply_error(r, FLINT_PROB_SERVER_INTERNAL, "out of memory");
		return;
	}
	flint_reply_body(r, status, "application/json", s, strlen(s));
	free(s);
}

void flint_reply_problem(struct flint_req *r, struct flint_problem *p)
{
	if (!p) {
		flint_reply_body(r, 500, "text/plain", "out of memory\n", 14);
		return;
	}
	char *s = problem_text(p);
	r->problem_type = flint_problem_type_urn(p->type) + strlen("urn:ietf:params:acme:error:");
	int status = p->status;
	/* the operator's clue to a server-side failure goes in the log line */
	if (status >= 500 && p->detail && !r->problem_detail)
		r->problem_detail = strdup(p->detail);
	flint_problem_free(p);
	if (!s) {
		flint_reply_body(r, 500, "text/plain", "out of memory\n", 14);
		return;
	}
	flint_reply_body(r, status, "application/problem+json", s, strlen(s));
	free(s);
}

static void reply_errorv(struct flint_req *r, enum flint_problem_type type, int status,
			 const char *fmt, va_list ap)
{
	char *detail = NULL;
	if (vasprintf(&detail, fmt, ap) < 0)
		detail = NULL;
	struct flint_problem *p = flint_problem_new(type, "%s", detail ? detail : "error");
	if (p && status)
		p->status = status;
	free(detail);
	flint_reply_problem(r, p);
}

void flint_reply_error(struct flint_req *r, enum flint_problem_type type, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	reply_errorv(r, type, 0, fmt, ap);
	va_end(ap);
}

void flint_reply_error_status(struct flint_req *r, enum flint_problem_type type, int status,
			      const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	reply_errorv(r, type, status, fmt, ap);
	va_end(ap);
}

void flint_reply_add_link(struct flint_req *r, const char *url, const char *rel)
{
	char *link = NULL;
	if (url && asprintf(&link, "<%s>;rel=\"%s\"", url, rel) >= 0) {
		flint_reply_add_header(r, "Link", link);
		free(link);
	}
}

void flint_reply_forbidden(struct flint_req *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	reply_errorv(r, FLINT_PROB_UNAUTHORIZED, 403, fmt, ap);
	va_end(ap);
}

/* ---- request entry ---- */

static void handle_request(struct evhttp_request *ev, struct flintd_loop *loop, bool plain)
{
	struct flint_req r = {.plain = plain};
	struct conn_state *cs = NULL;
	clock_gettime(CLOCK_MONOTONIC, &r.start);
	r.d = loop->h->d;
	r.loop = loop;
	r.store = loop->store;
	r.ev = ev;
	r.method = evhttp_request_get_command(ev);
	r.uri = evhttp_request_get_uri(ev);
	{
		struct evhttp_connection *conn = evhttp_request_get_connection(ev);
		char *addr = NULL;
		ev_uint16_t port = 0;

		if (conn)
			evhttp_connection_get_peer(conn, &addr, &port);
		snprintf(r.peer, sizeof(r.peer), "%s", addr ? addr : "");
	}

	bind_conn(&r, &cs);
	if (cs && cs->deadline)
		arm_deadline(cs); /* the next request must arrive whole within the deadline */

	struct evhttp_uri *u = evhttp_uri_parse(r.uri);
	const char *rawpath = u ? evhttp_uri_get_path(u) : NULL;
	/* Routed undecoded: resource ids never need percent-encoding. */
	r.path = strdup(rawpath && *rawpath ? rawpath : "/");
	r.query = strchr(r.uri, '?');
	/* URLs come from configuration, never from the Host header (cache poisoning). */
	r.base = r.d->cfg->base_url;
	struct evbuffer *in = evhttp_request_get_input_buffer(ev);
	r.body_len = evbuffer_get_length(in);
	r.body = malloc(r.body_len + 1);
	if (!u || !r.path || !r.base || !r.body) {
		flint_reply_body(&r, 400, "text/plain", "bad request\n", 12);
		goto out;
	}
	evbuffer_remove(in, r.body, r.body_len);
	r.body[r.body_len] = '\0';
	r.d->dispatch(&r);
	if (!r.replied)
		flint_reply_error(&r, FLINT_PROB_SERVER_INTERNAL, "no reply");
out:;
	uint64_t us = flint_metrics_since_us(&r.start);
	/* requests no route matched share one label: paths are unbounded */
	flint_metrics_request(flint_metrics_global(), r.route ? r.route : "unmatched", r.status, us);
	log_request(&r, us);
	if (u)
		evhttp_uri_free(u);
	free(r.path);
	free(r.body);
	free(r.problem_detail);
	flint_jws_free(r.jws);
	flint_account_free(r.account);
	json_decref(r.payload);
}

static void request_cb(struct evhttp_request *ev, void *arg)
{
	handle_request(ev, arg, false);
}

/* The plain-HTTP listener (public-http-listen): CRLs, CA files, OCSP only. */
static void request_plain_cb(struct evhttp_request *ev, void *arg)
{
	handle_request(ev, arg, true);
}

/* ---- setup ---- */

static void jobs_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	struct flintd_loop *l = arg;

	l->h->d->run_jobs(l->h->d, l->store);
}

static int listen_on(const char *host, const char *port, const char *what, evutil_socket_t *ret)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE};
	struct addrinfo *ai = NULL;
	int fd = -1, one = 1, rc = FLINT_EIO;
	int gai = getaddrinfo(host, port, &hints, &ai);
	if (gai) {
		fprintf(stderr, "flintd: cannot resolve listen host %s: %s\n", host,
			gai_strerror(gai));
		return FLINT_EINVAL;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
	    /* accepted sockets inherit it: no 40 ms Nagle stalls on small TLS records */
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 1024) < 0) {
		fprintf(stderr, "flintd: cannot listen on %s: %s\n", what, strerror(errno));
		goto out;
	}
	*ret = fd;
	fd = -1;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return rc;
}

/* An event base whose epoll changes are batched: a request that turns read
 * and write interest on and off several times before the loop waits again
 * costs one epoll_ctl per socket, not one per change (every system call is
 * dear on a virtual machine). flintd never dup()s a socket it watches, the
 * one thing the changelist gets wrong. */
static struct event_base *new_loop_base(void)
{
	struct event_config *cfg = event_config_new();
	struct event_base *base = NULL;

	if (cfg && event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST) == 0)
		base = event_base_new_with_config(cfg);
	if (cfg)
		event_config_free(cfg);
	return base;
}

static int listen_socket(const struct flintd_config *cfg, evutil_socket_t *ret)
{
	char port[8];

	snprintf(port, sizeof(port), "%d", cfg->listen_port);
	return listen_on(cfg->listen_host, port, cfg->listen, ret);
}

/* The plain-HTTP listening socket (public-http-listen "HOST:PORT", IPv6 in
 * brackets). */
static int listen_plain_socket(const struct flintd_config *cfg, evutil_socket_t *ret)
{
	const char *spec = cfg->public_http_listen, *colon = strrchr(spec, ':');
	char host[256];
	size_t hl;

	if (!colon || colon == spec || !colon[1] || (size_t)(colon - spec) >= sizeof(host)) {
		fprintf(stderr, "flintd: public-http-listen must be HOST:PORT, got '%s'\n", spec);
		return FLINT_EINVAL;
	}
	hl = (size_t)(colon - spec);
	if (spec[0] == '[' && spec[hl - 1] == ']')
		snprintf(host, sizeof(host), "%.*s", (int)hl - 2, spec + 1);
	else
		snprintf(host, sizeof(host), "%.*s", (int)hl, spec);
	return listen_on(host, colon + 1, spec, ret);
}

int flintd_listeners_bind(const struct flintd_config *cfg, struct flintd_listeners *ret)
{
	int n = cfg->http_threads > 0 ? cfg->http_threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
	int rc = 0;

	if (n < 1)
		n = 1;
	ret->plain = -1;
	ret->n_api = 0;
	if (!(ret->api = calloc((size_t)n, sizeof(*ret->api))))
		return FLINT_ENOMEM;
	for (; ret->n_api < n && rc == 0; ret->n_api++)
		if ((rc = listen_socket(cfg, &ret->api[ret->n_api])) < 0)
			break;
	if (rc == 0 && cfg->public_http_listen)
		rc = listen_plain_socket(cfg, &ret->plain);
	if (rc < 0)
		flintd_listeners_close(ret);
	return rc;
}

void flintd_listeners_close(struct flintd_listeners *l)
{
	for (int i = 0; l->api && i < l->n_api; i++)
		if (l->api[i] >= 0)
			close(l->api[i]);
	if (l->plain >= 0)
		close(l->plain);
	free(l->api);
	l->api = NULL;
	l->n_api = 0;
	l->plain = -1;
}

/* The plain-HTTP listener on loop 0, on the socket bound for it. */
static int listen_plain(struct flintd_loop *l, const struct flintd_config *cfg)
{
	if (!(l->http_plain = evhttp_new(l->base)))
		return FLINT_ENOMEM;
	evhttp_set_gencb(l->http_plain, request_plain_cb, l);
	evhttp_set_max_body_size(l->http_plain, 8192); /* an OCSP request */
	evhttp_set_max_headers_size(l->http_plain, MAX_HEADERS);
	evhttp_set_timeout(l->http_plain, cfg->request_deadline);
	evhttp_set_allowed_methods(l->http_plain, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
							  EVHTTP_REQ_HEAD);
	return evhttp_accept_socket(l->http_plain, l->fd_plain) == 0 ? 0 : FLINT_EIO;
}

static SSL_CTX *make_ssl_ctx(struct flintd *d)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_info_callback(ctx, tls_info_cb);
	/* an idle kept-alive connection gives its record buffers back (~34 KiB
	 * each): thousands of clients keep their connections open between polls */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_read_ahead(ctx, 1); /* see check_read_ahead */
	if (SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20") != 1 ||
	    SSL_CTX_use_certificate_chain_file(ctx, flint_issuer_server_chain_path(d->issuer)) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, flint_issuer_server_key_path(d->issuer),
					SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static void log_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	flintd_log_flush();
}

/* A first held line: the flush runs once the callbacks already active in
 * this pass of the loop have run, so their lines go out in one write. */
static void log_wake(void *arg)
{
	struct flintd_loop *l = arg;
	event_active(l->log_flush, 0, 0);
}

int flintd_http_new(struct flintd *d, struct flintd_listeners *bound, struct flintd_http **ret)
{
	struct flintd_http *h = calloc(1, sizeof(*h));
	int rc = FLINT_ENOMEM;
	if (!h)
		return FLINT_ENOMEM;
	h->d = d;
	if (conn_ex_index < 0)
		conn_ex_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, conn_state_free);
	d->ssl_ctx = make_ssl_ctx(d);
	if (!d->ssl_ctx) {
		fprintf(stderr, "flintd: cannot load the serving certificate: %s\n",
			ERR_reason_error_string(ERR_get_error()));
		rc = FLINT_ECRYPTO;
		goto out;
	}
	/* one loop per bound socket; the loops own the sockets from here on */
	h->n_loops = bound->n_api;
	h->loops = calloc((size_t)h->n_loops, sizeof(*h->loops));
	if (!h->loops)
		goto out;
	for (int i = 0; i < h->n_loops; i++) {
		h->loops[i].fd = bound->api[i];
		bound->api[i] = -1;
		h->loops[i].fd_plain = -1;
	}
	h->loops[0].fd_plain = bound->plain;
	bound->plain = -1;
	for (int i = 0; i < h->n_loops; i++) {
		struct flintd_loop *l = &h->loops[i];
		l->h = h;
		if ((rc = flint_store_open(d->cfg->database, &l->store)) < 0) {
			char shown[512];

			fprintf(stderr, "flintd: cannot open store %s: %s\n",
				flint_store_dsn_redacted(d->cfg->database, shown, sizeof(shown)),
				flint_strerror(rc));
			goto out;
		}
		rc = FLINT_ENOMEM;
		l->base = new_loop_base();
		l->http = l->base ? evhttp_new(l->base) : NULL;
		if (!l->http)
			goto out;
		evhttp_set_bevcb(l->http, accept_bev, l);
		evhttp_set_gencb(l->http, request_cb, l);
		evhttp_set_max_body_size(l->http, MAX_BODY);
		evhttp_set_max_headers_size(l->http, MAX_HEADERS);
		evhttp_set_timeout(l->http, d->cfg->request_deadline * 3);
		evhttp_set_allowed_methods(l->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
							  EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
							  EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS);
		if (evhttp_accept_socket(l->http, l->fd) != 0)
			goto out;
		l->park_now = event_new(l->base, -1, 0, park_accepted, l);
		l->look = evtimer_new(l->base, look_at_handshakes, l);
		if (!l->park_now || !l->look)
			goto out;
		l->log_flush = event_new(l->base, -1, 0, log_flush_cb, l);
		l->read_ahead = event_new(l->base, -1, 0, check_read_ahead, l);
		if (!l->log_flush || !l->read_ahead)
			goto out;
	}
	if (d->cfg->public_http_listen && (rc = listen_plain(&h->loops[0], d->cfg)) < 0)
		goto out;
	rc = FLINT_ENOMEM;
	if (d->run_jobs) {
		/* often enough that expired claims are taken over within about a
		 * quarter of job-lease after they expire */
		int s = d->cfg->job_lease / 4;
		struct timeval every = {s < 1 ? 1 : s > 15 ? 15 : s, 0};

		h->loops[0].jobs = event_new(h->loops[0].base, -1, EV_PERSIST, jobs_cb, &h->loops[0]);
		if (!h->loops[0].jobs || event_add(h->loops[0].jobs, &every) != 0)
			goto out;
	}
	*ret = h;
	h = NULL;
	rc = 0;
out:
	flintd_http_free(h);
	return rc;
}

static void *loop_main(void *arg)
{
	struct flintd_loop *l = arg;
	int i = (int)(l - l->h->loops);
	if (i > 0) { /* loop 0 is the main thread, whose name is the process's */
		char name[16];
		snprintf(name, sizeof(name), "flintd-http%d", i % 1000);
		pthread_setname_np(pthread_self(), name);
	}
	if (flintd_log_hold(log_wake, l) != 0)
		fprintf(stderr, "flintd: out of memory: loop %d writes each log line at once\n", i);
	event_base_dispatch(l->base);
	flintd_log_release();
	return NULL;
}

int flintd_http_run(struct flintd_http *h)
{
	int started = 1, rc = 0;
	for (; started < h->n_loops; started++) {
		if (pthread_create(&h->loops[started].thread, NULL, loop_main,
				   &h->loops[started]) != 0) {
			fprintf(stderr, "flintd: cannot start event loop thread %d\n", started);
			flintd_http_stop(h);
			rc = FLINT_EIO;
			break;
		}
	}
	if (rc == 0)
		loop_main(&h->loops[0]);
	for (int i = 1; i < started; i++)
		pthread_join(h->loops[i].thread, NULL);
	return rc;
}

void flintd_http_stop(struct flintd_http *h)
{
	for (int i = 0; i < h->n_loops; i++)
		event_base_loopexit(h->loops[i].base, NULL); /* also stops a loop not yet running */
}

void flintd_http_free(struct flintd_http *h)
{
	if (!h)
		return;
	for (int i = 0; h->loops && i < h->n_loops; i++) {
		struct flintd_loop *l = &h->loops[i];
		if (l->jobs)
			event_free(l->jobs);
		l->closing = true; /* freeing connections admits nothing */
		if (l->http)
			evhttp_free(l->http); /* closes the accepted socket too */
		else if (l->fd >= 0)
			close(l->fd);
		if (l->http_plain)
			evhttp_free(l->http_plain);
		else if (l->fd_plain >= 0)
			close(l->fd_plain);
		/* libevent frees the connections' bufferevents (and with them their
		 * conn_state) in event_base_free's finalizers, after these are
		 * gone: conn_state_free touches none of them once closing is set */
		if (l->read_ahead)
			event_free(l->read_ahead);
		l->read_ahead = NULL;
		if (l->park_now)
			event_free(l->park_now);
		if (l->look)
			event_free(l->look);
		l->park_now = l->look = NULL;
		if (l->log_flush)
			event_free(l->log_flush);
		if (l->base)
			event_base_free(l->base);
		flint_store_close(l->store);
	}
	free(h->loops);
	if (h->d->ssl_ctx) {
		SSL_CTX_free(h->d->ssl_ctx);
		h->d->ssl_ctx = NULL;
	}
	free(h);
}
