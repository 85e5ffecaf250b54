/* The listening sockets and poll loop of the standalone responders (RFC 8555
 * §8.3 http-01, RFC 8737 tls-alpn-01): one thread, non-blocking sockets, a stop pipe. */
#include "solve/serve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "error.h"

struct serve_conn {
	int fd;
	void *state;
	short want;
	int64_t deadline;
};

struct flint_serve {
	int lfd[2];
	int nl;
	int stop[2];
	pthread_t thread;
	bool running;
	const struct flint_serve_ops *ops;
	void *arg;
	struct serve_conn conns[FLINT_SERVE_MAX_CONNS];
	int nconns;
	int64_t accept_pause_until; /* out of descriptors: retry accept later, not in a spin */
};

int flint_solve_errf(char **ret_err, int err, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	if (!ret_err)
		return err;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	/* one line whatever the inputs (hook output, peer names) held */
	for (char *p = s; p && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	*ret_err = s;
	return err;
}

bool flint_solve_token_ok(const char *token, size_t len)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

	if (!token || len == 0 || len > FLINT_SOLVE_TOKEN_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!token[i] || !memchr(alphabet, token[i], sizeof(alphabet) - 1))
			return false;
	return true;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A non-blocking listening socket on sa, or -1 with errno set. v6only < 0 keeps
 * the system default. */
static int listen_on(const struct sockaddr *sa, socklen_t salen, int v6only)
{
	int fd, one = 1, e;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		goto fail;
	if (sa->sa_family == AF_INET6 && v6only >= 0 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only)) < 0)
		goto fail;
	if (bind(fd, sa, salen) < 0 || listen(fd, 128) < 0)
		goto fail;
	return fd;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

static int listen_bind(struct flint_serve *s, const char *what, const char *bind, int port,
		       char **ret_err)
{
	char host[INET6_ADDRSTRLEN + 2];
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
	size_t n = strlen(bind);
	int fd;

	if (n >= sizeof(host))
		return flint_solve_errf(ret_err, FLINT_EINVAL, "%s: bad listen address %.64s", what,
					bind);
	memcpy(host, bind, n + 1);
	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		memmove(host, host + 1, n - 2);
		host[n - 2] = '\0';
	}
	if (inet_pton(AF_INET, host, &sin.sin_addr) == 1) {
		fd = listen_on((struct sockaddr *)&sin, sizeof(sin), -1);
		if (fd < 0)
			return flint_solve_errf(ret_err, FLINT_EIO,
						"%s: cannot listen on %s:%d: %s", what, host, port,
						strerror(errno));
	} else if (inet_pton(AF_INET6, host, &sin6.sin6_addr) == 1) {
		fd = listen_on((struct sockaddr *)&sin6, sizeof(sin6), -1);
		if (fd < 0)
			return flint_solve_errf(ret_err, FLINT_EIO,
						"%s: cannot listen on [%s]:%d: %s", what, host,
						port, strerror(errno));
	} else {
		return flint_solve_errf(ret_err, FLINT_EINVAL,
					"%s: listen address %s is not a numeric IP address", what,
					host);
	}
	s->lfd[s->nl++] = fd;
	return 0;
}

static int listen_any(struct flint_serve *s, const char *what, int port, char **ret_err)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_ANY)};
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6,
				    .sin6_port = htons((uint16_t)port),
				    .sin6_addr = IN6ADDR_ANY_INIT};
	int fd, e6;

	fd = listen_on((struct sockaddr *)&sin6, sizeof(sin6), 0);
	if (fd >= 0) {
		s->lfd[s->nl++] = fd;
		return 0;
	}
	/* no dual-stack socket (IPv6 disabled, or v4-mapped refused): one per family */
	e6 = errno;
	fd = listen_on((struct sockaddr *)&sin, sizeof(sin), -1);
	if (fd < 0)
		return flint_solve_errf(ret_err, FLINT_EIO,
					"%s: cannot listen on [::]:%d (%s) nor 0.0.0.0:%d: %s",
					what, port, strerror(e6), port, strerror(errno));
	s->lfd[s->nl++] = fd;
	fd = listen_on((struct sockaddr *)&sin6, sizeof(sin6), 1);
	if (fd >= 0)
		s->lfd[s->nl++] = fd;
	return 0;
}

static void conn_close(struct flint_serve *s, struct serve_conn *c)
{
	s->ops->close(s->arg, c->state);
	close(c->fd);
	c->fd = -1;
}

static void accept_all(struct flint_serve *s, int lfd)
{
	while (s->nconns < FLINT_SERVE_MAX_CONNS) {
		struct serve_conn *c;
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		void *state;

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM)
				s->accept_pause_until = now_ms() + 100;
			return; /* EAGAIN, or a connection that died in the backlog */
		}
		state = s->ops->open(s->arg, fd);
		if (!state) {
			close(fd);
			continue;
		}
		c = &s->conns[s->nconns++];
		c->fd = fd;
		c->state = state;
		c->want = POLLIN;
		c->deadline = now_ms() + FLINT_SERVE_CONN_TIMEOUT_MS;
	}
}

static void *serve_thread(void *arg)
{
	struct flint_serve *s = arg;
	struct pollfd pfd[1 + 2 + FLINT_SERVE_MAX_CONNS];

	for (;;) {
		int n = 0, nlisten = 0, timeout = -1, i, r;
		int64_t now = now_ms();

		pfd[n++] = (struct pollfd){.fd = s->stop[0], .events = POLLIN};
		if (now < s->accept_pause_until)
			timeout = (int)(s->accept_pause_until - now);
		else if (s->nconns < FLINT_SERVE_MAX_CONNS)
			for (i = 0; i < s->nl; i++, nlisten++)
				pfd[n++] = (struct pollfd){.fd = s->lfd[i], .events = POLLIN};
		for (i = 0; i < s->nconns; i++) {
			int64_t left = s->conns[i].deadline - now;

			pfd[n++] =
			    (struct pollfd){.fd = s->conns[i].fd, .events = s->conns[i].want};
			if (left < 0)
				left = 0;
			if (timeout < 0 || left < timeout)
				timeout = (int)left;
		}
		r = poll(pfd, (nfds_t)n, timeout);
		if (r < 0 && errno != EINTR)
			break; /* cannot happen with valid descriptors; stop() still joins */
		if (r < 0)
			continue;
		if (pfd[0].revents)
			break;
		now = now_ms();
		for (i = 0; i < s->nconns; i++) {
			struct serve_conn *c = &s->conns[i];
			short rev = pfd[1 + nlisten + i].revents;

			/* the deadline holds even for a peer that keeps trickling bytes */
			if (now >= c->deadline)
				conn_close(s, c);
			else if (rev && !(c->want = s->ops->io(s->arg, c->state, c->fd)))
				conn_close(s, c);
		}
		for (i = 0; i < s->nconns;) {
			if (s->conns[i].fd < 0)
				s->conns[i] = s->conns[--s->nconns];
			else
				i++;
		}
		for (i = 0; i < nlisten; i++)
			if (pfd[1 + i].revents & POLLIN)
				accept_all(s, s->lfd[i]);
	}
	for (int i = 0; i < s->nconns; i++)
		conn_close(s, &s->conns[i]);
	s->nconns = 0;
	return NULL;
}

static void serve_free(struct flint_serve *s)
{
	for (int i = 0; i < s->nl; i++)
		close(s->lfd[i]);
	if (s->stop[0] >= 0)
		close(s->stop[0]);
	if (s->stop[1] >= 0)
		close(s->stop[1]);
	free(s);
}

int flint_serve_start(const char *what, const char *bind, int port,
		      const struct flint_serve_ops *ops, void *arg, struct flint_serve **ret,
		      char **ret_err)
{
	struct flint_serve *s;
	sigset_t all, old;
	int r;

	if (port <= 0 || port > 65535)
		return flint_solve_errf(ret_err, FLINT_EINVAL, "%s: bad port %d", what, port);
	s = calloc(1, sizeof(*s));
	if (!s)
		return flint_solve_errf(ret_err, FLINT_ENOMEM, "%s: out of memory", what);
	s->stop[0] = s->stop[1] = -1;
	s->ops = ops;
	s->arg = arg;
	r = bind && *bind ? listen_bind(s, what, bind, port, ret_err)
			  : listen_any(s, what, port, ret_err);
	if (r < 0)
		goto fail;
	if (pipe2(s->stop, O_CLOEXEC) < 0) {
		r = flint_solve_errf(ret_err, FLINT_EIO, "%s: pipe: %s", what, strerror(errno));
		goto fail;
	}
	/* The thread takes no process signals; SIGPIPE from a peer that went away
	 * (OpenSSL writes without MSG_NOSIGNAL) stays pending there, write gets EPIPE. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&s->thread, NULL, serve_thread, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		r = flint_solve_errf(ret_err, FLINT_EIO, "%s: cannot start a thread: %s", what,
				     strerror(r));
		goto fail;
	}
	s->running = true;
	*ret = s;
	return 0;
fail:
	serve_free(s);
	return r;
}

void flint_serve_stop(struct flint_serve *s)
{
	if (!s)
		return;
	if (s->running) {
		ssize_t w;

		do
			w = write(s->stop[1], "x", 1);
		while (w < 0 && errno == EINTR);
		pthread_join(s->thread, NULL);
	}
	serve_free(s);
}
