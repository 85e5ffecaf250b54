/* DNS messages to one server over UDP, several in flight from one socket, and
 * over TCP on truncation (RFC 1035 §4.2, RFC 7766 §5; RFC 5452 §9 matching). */
#include "dnsstub.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dnsmsg.h"
#include "error.h"
#include "random.h"
#include "timefmt.h"

#define RESEND_FIRST_MS 1000 /* then doubling, until the deadline */
#define UDP_RECV_MAX 4096    /* servers should send at most 512 without EDNS; tolerate more */
#define INTERRUPT_POLL_MS 250
#define DRAIN_MAX 64 /* datagrams read per look at the socket: then the deadline */

struct stub_slot {
	bool used;
	bool loose;     /* the response may leave out the question */
	bool answered;  /* ans holds the response */
	int err;        /* errno of a failure common to the socket, or 0 */
	uint8_t *msg;   /* what was sent, for resending and for TCP */
	size_t len;
	uint8_t *ans;
	size_t ans_len;
	long long resend_at;
	long long resend_gap;
};

struct flint_dns_stub {
	struct sockaddr_storage server;
	socklen_t server_len;
	int fd; /* the UDP socket, -1 while nothing is in flight */
	bool (*interrupted)(void);
	struct stub_slot slot[FLINT_DNS_STUB_MAX];
};

int flint_dns_server_parse(const char *server, char **ret_host, int *ret_port)
{
	const char *colon, *host = server;
	size_t hlen;
	long port = 53;

	if (!server || !*server || !ret_host || !ret_port)
		return FLINT_EINVAL;
	if (server[0] == '[') {
		const char *close = strchr(server, ']');

		if (!close || close == server + 1)
			return FLINT_EINVAL;
		host = server + 1;
		hlen = (size_t)(close - host);
		colon = close[1] == ':' ? close + 1 : NULL;
		if (!colon && close[1])
			return FLINT_EINVAL;
	} else {
		colon = strchr(server, ':');
		if (colon && strchr(colon + 1, ':'))
			colon = NULL; /* a bare IPv6 address */
		hlen = colon ? (size_t)(colon - server) : strlen(server);
	}
	if (colon) {
		char *end;

		if (colon[1] < '0' || colon[1] > '9')
			return FLINT_EINVAL;
		port = strtol(colon + 1, &end, 10);
		if (*end || port < 1 || port > 65535)
			return FLINT_EINVAL;
	}
	if (hlen == 0 || !(*ret_host = strndup(host, hlen)))
		return hlen == 0 ? FLINT_EINVAL : FLINT_ENOMEM;
	*ret_port = (int)port;
	return 0;
}

int flint_dns_server_addr(const char *server, struct sockaddr_storage *ret, socklen_t *ret_len)
{
	struct sockaddr_storage ss;
	char *host = NULL;
	int port, err;

	if (!ret || !ret_len)
		return FLINT_EINVAL;
	err = flint_dns_server_parse(server, &host, &port);
	if (err < 0)
		return err;
	memset(&ss, 0, sizeof(ss));
	err = FLINT_EINVAL;
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*ret_len = sizeof(*s4);
	} else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*ret_len = sizeof(*s6);
	} else {
		goto out;
	}
	*ret = ss;
	err = 0;
out:
	free(host);
	return err;
}

/* Length of the question (name and type and class) at offset 12 of a
 * message we built (names uncompressed), or 0 when it has none. */
static size_t question_len(const uint8_t *q, size_t qlen)
{
	size_t off = 12;

	if (qlen < 12 || (q[4] << 8 | q[5]) != 1)
		return 0;
	while (off < qlen && q[off] != 0) {
		if (q[off] & 0xc0)
			return 0;
		off += 1 + q[off];
	}
	if (off + 5 > qlen)
		return 0;
	return off + 5 - 12;
}

static uint8_t fold(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

bool flint_dns_response_matches(const uint8_t *q, size_t qlen, const uint8_t *a, size_t alen,
				bool loose)
{
	size_t ql, name_len;

	if (!q || !a || qlen < 12 || alen < 12)
		return false;
	if (a[0] != q[0] || a[1] != q[1] || !(a[2] & 0x80) || ((a[2] ^ q[2]) & 0x78))
		return false; /* ID, QR, opcode */
	if (loose && a[4] == 0 && a[5] == 0)
		return true;
	ql = question_len(q, qlen);
	if (ql == 0 || a[4] != 0 || a[5] != 1 || alen < 12 + ql)
		return false;
	name_len = ql - 4;
	for (size_t i = 0; i < name_len; i++)
		if (fold(a[12 + i]) != fold(q[12 + i]))
			return false; /* length octets are < 64: folding never touches them */
	return memcmp(a + 12 + name_len, q + 12 + name_len, 4) == 0;
}

int flint_dns_stub_new(const struct sockaddr *server, socklen_t len, struct flint_dns_stub **ret)
{
	struct flint_dns_stub *s;

	if (!server || !ret || len == 0 || len > sizeof(s->server) ||
	    (server->sa_family != AF_INET && server->sa_family != AF_INET6))
		return FLINT_EINVAL;
	if (!(s = calloc(1, sizeof(*s))))
		return FLINT_ENOMEM;
	memcpy(&s->server, server, len);
	s->server_len = len;
	s->fd = -1;
	*ret = s;
	return 0;
}

static void slot_clear(struct stub_slot *sl)
{
	free(sl->msg);
	free(sl->ans);
	memset(sl, 0, sizeof(*sl));
}

size_t flint_dns_stub_pending(const struct flint_dns_stub *s)
{
	size_t n = 0;

	for (size_t i = 0; s && i < FLINT_DNS_STUB_MAX; i++)
		n += s->slot[i].used;
	return n;
}

/* The socket lives while something is in flight: each batch of messages
 * leaves from a new random port. */
static void close_when_idle(struct flint_dns_stub *s)
{
	if (s->fd >= 0 && flint_dns_stub_pending(s) == 0) {
		close(s->fd);
		s->fd = -1;
	}
}

void flint_dns_stub_free(struct flint_dns_stub *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < FLINT_DNS_STUB_MAX; i++)
		slot_clear(&s->slot[i]);
	if (s->fd >= 0)
		close(s->fd);
	free(s);
}

void flint_dns_stub_set_interrupt(struct flint_dns_stub *s, bool (*interrupted)(void))
{
	if (s)
		s->interrupted = interrupted;
}

static int open_udp(struct flint_dns_stub *s)
{
	int fd;

	if (s->fd >= 0)
		return 0;
	fd = socket(s->server.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return FLINT_EIO;
	/* connected: the kernel drops datagrams from anyone but the server and
	 * reports its closed port (ECONNREFUSED) */
	if (connect(fd, (const struct sockaddr *)&s->server, s->server_len) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return FLINT_EIO;
	}
	s->fd = fd;
	return 0;
}

static bool id_in_use(const struct flint_dns_stub *s, const uint8_t *id)
{
	for (size_t i = 0; i < FLINT_DNS_STUB_MAX; i++)
		if (s->slot[i].used && s->slot[i].msg[0] == id[0] && s->slot[i].msg[1] == id[1])
			return true;
	return false;
}

/* A socket error (an ICMP port unreachable, mostly) fails every message
 * waiting on that socket. */
static void fail_waiting(struct flint_dns_stub *s, int e)
{
	for (size_t i = 0; i < FLINT_DNS_STUB_MAX; i++)
		if (s->slot[i].used && !s->slot[i].answered && s->slot[i].len <= FLINT_DNS_UDP_MAX)
			s->slot[i].err = e;
}

/* A datagram out; a refusal the socket reports (ECONNREFUSED from an earlier
 * ICMP port unreachable comes back from send as well as from recv) fails
 * every message waiting on it. */
static void send_udp(struct flint_dns_stub *s, const struct stub_slot *sl)
{
	if (send(s->fd, sl->msg, sl->len, MSG_NOSIGNAL) < 0 && errno != EAGAIN &&
	    errno != EWOULDBLOCK && errno != EINTR && errno != ENOBUFS)
		fail_waiting(s, errno);
}

/* Takes msg (malloc'd) into a free slot and sends it (over UDP when it fits). */
static int enqueue(struct flint_dns_stub *s, uint8_t *msg, size_t len, bool loose, int *ret_slot)
{
	struct stub_slot *sl = NULL;
	int i, err;

	for (i = 0; i < FLINT_DNS_STUB_MAX && !sl; i++)
		if (!s->slot[i].used)
			sl = &s->slot[i];
	if (!sl) {
		free(msg);
		return FLINT_ETOOBIG;
	}
	i--;
	if (len <= FLINT_DNS_UDP_MAX && (err = open_udp(s)) < 0) {
		free(msg);
		return err;
	}
	sl->used = true;
	sl->loose = loose;
	sl->msg = msg;
	sl->len = len;
	sl->resend_gap = RESEND_FIRST_MS;
	sl->resend_at = flint_now_ms() + RESEND_FIRST_MS;
	if (len <= FLINT_DNS_UDP_MAX)
		send_udp(s, sl); /* lost: the resend tells; refused: the wait */
	*ret_slot = i;
	return 0;
}

int flint_dns_stub_send(struct flint_dns_stub *s, const uint8_t *msg, size_t len, int *ret_slot)
{
	uint8_t *copy;

	if (!s || !msg || len < 12 || len > FLINT_DNS_MSG_MAX || !ret_slot)
		return FLINT_EINVAL;
	if (!(copy = malloc(len)))
		return FLINT_ENOMEM;
	memcpy(copy, msg, len);
	return enqueue(s, copy, len, true, ret_slot);
}

int flint_dns_stub_query(struct flint_dns_stub *s, const char *name, uint16_t type,
			 int *ret_slot)
{
	struct flint_dns_builder b = {0};
	uint8_t id[2];
	int err;

	if (!s || !name || !ret_slot)
		return FLINT_EINVAL;
	do {
		if (flint_random_fill(id, sizeof(id)) < 0)
			return FLINT_ECRYPTO;
	} while (id_in_use(s, id));
	err = flint_dns_build_query((uint16_t)(id[0] << 8 | id[1]), name, type, true, &b);
	if (err < 0)
		return err;
	return enqueue(s, b.data, b.len, false, ret_slot);
}

/* Reads the datagrams waiting, handing each to the slot it answers, until
 * want's has come or none is left. */
static int drain(struct flint_dns_stub *s, const struct stub_slot *want)
{
	uint8_t buf[UDP_RECV_MAX];

	for (int k = 0; k < DRAIN_MAX && !want->answered; k++) {
		ssize_t n = recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return FLINT_EIO; /* ECONNREFUSED, ... */
		}
		if ((size_t)n > sizeof(buf))
			continue; /* cut short: not a message we can use */
		for (size_t i = 0; i < FLINT_DNS_STUB_MAX; i++) {
			struct stub_slot *sl = &s->slot[i];

			if (!sl->used || sl->answered || sl->err ||
			    !flint_dns_response_matches(sl->msg, sl->len, buf, (size_t)n, sl->loose))
				continue;
			if (!(sl->ans = malloc((size_t)n)))
				return FLINT_ENOMEM;
			memcpy(sl->ans, buf, (size_t)n);
			sl->ans_len = (size_t)n;
			sl->answered = true;
			break;
		}
		/* anything else: a late duplicate, or a forgery that missed */
	}
	return 0;
}

static int wait_fd(int fd, short events, long long deadline, bool (*interrupted)(void))
{
	for (;;) {
		long long left = deadline - flint_now_ms();
		struct pollfd p = {.fd = fd, .events = events};
		int n;

		if (interrupted && interrupted()) {
			errno = EINTR;
			return FLINT_EIO;
		}
		if (left <= 0) {
			errno = ETIMEDOUT;
			return FLINT_EIO;
		}
		if (interrupted && left > INTERRUPT_POLL_MS)
			left = INTERRUPT_POLL_MS;
		if (left > INT_MAX)
			left = INT_MAX;
		n = poll(&p, 1, (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return FLINT_EIO;
	}
}

static int io_all(int fd, bool out, uint8_t *p, size_t n, long long deadline,
		  bool (*interrupted)(void))
{
	while (n > 0) {
		ssize_t k;

		if (wait_fd(fd, out ? POLLOUT : POLLIN, deadline, interrupted) < 0)
			return FLINT_EIO;
		k = out ? send(fd, p, n, MSG_NOSIGNAL) : recv(fd, p, n, 0);
		if (k < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (k <= 0) {
			if (k == 0)
				errno = ECONNRESET;
			return FLINT_EIO;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* One message over a new TCP connection (RFC 7766 §5): the first response
 * that matches it. */
static int tcp_exchange(const struct flint_dns_stub *s, const struct stub_slot *sl,
			long long deadline, uint8_t **ret, size_t *ret_len)
{
	uint8_t pfx[2] = {(uint8_t)(sl->len >> 8), (uint8_t)sl->len}, *buf = NULL;
	int fd, err = FLINT_EIO, soerr = 0, e;
	socklen_t el = sizeof(soerr);

	fd = socket(s->server.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return FLINT_EIO;
	if (connect(fd, (const struct sockaddr *)&s->server, s->server_len) < 0) {
		if (errno != EINPROGRESS || wait_fd(fd, POLLOUT, deadline, s->interrupted) < 0)
			goto out;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &el) < 0)
			goto out;
		if (soerr) {
			errno = soerr;
			goto out;
		}
	}
	if (io_all(fd, true, pfx, 2, deadline, s->interrupted) < 0 ||
	    io_all(fd, true, sl->msg, sl->len, deadline, s->interrupted) < 0)
		goto out;
	for (;;) {
		size_t n;

		if (io_all(fd, false, pfx, 2, deadline, s->interrupted) < 0)
			goto out;
		n = (size_t)pfx[0] << 8 | pfx[1];
		if (!(buf = malloc(n ? n : 1))) {
			err = FLINT_ENOMEM;
			goto out;
		}
		if (io_all(fd, false, buf, n, deadline, s->interrupted) < 0)
			goto out;
		if (flint_dns_response_matches(sl->msg, sl->len, buf, n, sl->loose)) {
			*ret = buf;
			*ret_len = n;
			buf = NULL;
			err = 0;
			goto out;
		}
		free(buf);
		buf = NULL;
	}
out:
	e = errno;
	free(buf);
	close(fd);
	errno = e;
	return err;
}

/* Sends again what is due; the earliest next resend, or deadline. */
static long long resend_due(struct flint_dns_stub *s, long long now, long long deadline)
{
	long long next = deadline;

	for (size_t i = 0; i < FLINT_DNS_STUB_MAX; i++) {
		struct stub_slot *sl = &s->slot[i];

		if (!sl->used || sl->answered || sl->err || sl->len > FLINT_DNS_UDP_MAX)
			continue;
		if (sl->resend_at <= now) {
			send_udp(s, sl);
			sl->resend_gap *= 2;
			sl->resend_at = now + sl->resend_gap;
		}
		if (sl->resend_at < next)
			next = sl->resend_at;
	}
	return next;
}

static int wait_udp(struct flint_dns_stub *s, struct stub_slot *sl, long long deadline)
{
	for (;;) {
		long long now, wake;
		int err = drain(s, sl);

		if (err == FLINT_ENOMEM)
			return err;
		if (err < 0)
			fail_waiting(s, errno);
		if (sl->answered)
			return 0;
		if (sl->err) {
			errno = sl->err;
			return FLINT_EIO;
		}
		now = flint_now_ms();
		if (now >= deadline) {
			errno = ETIMEDOUT;
			return FLINT_EIO;
		}
		wake = resend_due(s, now, deadline);
		if (sl->err) /* the resend was refused */
			continue;
		err = wait_fd(s->fd, POLLIN, wake, s->interrupted);
		if (err < 0 && errno != ETIMEDOUT)
			return err;
	}
}

int flint_dns_stub_wait(struct flint_dns_stub *s, int slot, long long deadline_ms, uint8_t **ret,
			size_t *ret_len)
{
	struct stub_slot *sl;
	int err = FLINT_EINVAL;

	if (!s || slot < 0 || slot >= FLINT_DNS_STUB_MAX || !s->slot[slot].used || !ret || !ret_len)
		return FLINT_EINVAL;
	sl = &s->slot[slot];
	if (sl->len <= FLINT_DNS_UDP_MAX) {
		err = wait_udp(s, sl, deadline_ms);
		if (err < 0)
			goto out;
		if (!(sl->ans[2] & 0x02)) { /* not truncated */
			*ret = sl->ans;
			*ret_len = sl->ans_len;
			sl->ans = NULL;
			goto out;
		}
	}
	err = tcp_exchange(s, sl, deadline_ms, ret, ret_len);
out:;
	int e = errno;
	slot_clear(sl);
	close_when_idle(s);
	errno = e;
	return err;
}

void flint_dns_stub_cancel(struct flint_dns_stub *s, int slot)
{
	if (!s || slot < 0 || slot >= FLINT_DNS_STUB_MAX || !s->slot[slot].used)
		return;
	slot_clear(&s->slot[slot]);
	close_when_idle(s);
}
