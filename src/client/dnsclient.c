/* DNS transport of the client (RFC 1035 §4.2): UDP with bounded retries, TCP with
 * its 2-byte length prefix on truncation (RFC 7766 §5); used by the DNS UPDATE solver. */
#include "dnsclient.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dnsmsg.h"
#include "error.h"
#include "interrupt.h"
#include "output.h"

#define UDP_TRIES 3
#define UDP_MAX 4096 /* we send no EDNS: 512 is the most a server sends, keep margin */

int flint_dns_server_parse(const char *server, char **ret_host, int *ret_port)
{
	const char *colon, *host = server;
	size_t hlen;
	long port = 53;

	if (!server || !*server)
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

		port = strtol(colon + 1, &end, 10);
		if (!colon[1] || *end || port < 1 || port > 65535)
			return FLINT_EINVAL;
	}
	if (hlen == 0 || !(*ret_host = strndup(host, hlen)))
		return hlen == 0 ? FLINT_EINVAL : FLINT_ENOMEM;
	*ret_port = (int)port;
	return 0;
}

/* Waits for fd to become ready for events until deadline; 0, or FLINT_EIO with errno set. */
static int wait_fd(int fd, short events, long long deadline)
{
	for (;;) {
		long long left = deadline - flint_now_ms();
		struct pollfd p = {.fd = fd, .events = events};
		int n;

		if (flint_interrupted()) {
			errno = EINTR;
			return FLINT_EIO;
		}
		if (left <= 0) {
			errno = ETIMEDOUT;
			return FLINT_EIO;
		}
		n = poll(&p, 1, left > 250 ? 250 : (int)left); /* wake up to notice interrupts */
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return FLINT_EIO;
	}
}

static bool matches(const uint8_t *q, const uint8_t *a, size_t alen)
{
	return alen >= 12 && a[0] == q[0] && a[1] == q[1] && (a[2] & 0x80);
}

static int udp_exchange(int fd, const uint8_t *msg, size_t len, long long deadline,
			uint8_t **ret, size_t *ret_len, bool *ret_tc)
{
	uint8_t buf[UDP_MAX];
	long long start = flint_now_ms(), total = deadline - start;

	for (int t = 0; t < UDP_TRIES; t++) {
		long long try_end = start + total * (t + 1) / UDP_TRIES;

		if (send(fd, msg, len, 0) < 0)
			return FLINT_EIO;
		while (wait_fd(fd, POLLIN, try_end) == 0) {
			ssize_t n = recv(fd, buf, sizeof(buf), 0);

			if (n < 0) {
				if (errno == EINTR || errno == EAGAIN)
					continue;
				return FLINT_EIO; /* e.g. ECONNREFUSED from an ICMP error */
			}
			if (!matches(msg, buf, (size_t)n))
				continue; /* a stray or late datagram */
			if (!(*ret = malloc((size_t)n)))
				return FLINT_ENOMEM;
			memcpy(*ret, buf, (size_t)n);
			*ret_len = (size_t)n;
			*ret_tc = (buf[2] & 0x02) != 0;
			return 0;
		}
		if (errno != ETIMEDOUT)
			return FLINT_EIO;
	}
	errno = ETIMEDOUT;
	return FLINT_EIO;
}

static int io_all(int fd, bool out, uint8_t *p, size_t n, long long deadline)
{
	while (n > 0) {
		ssize_t k;

		if (wait_fd(fd, out ? POLLOUT : POLLIN, deadline) < 0)
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

static int tcp_exchange(int fd, const uint8_t *msg, size_t len, long long deadline,
			uint8_t **ret, size_t *ret_len)
{
	uint8_t pfx[2] = {(uint8_t)(len >> 8), (uint8_t)len}, *buf;
	size_t n;
	int r;

	if ((r = io_all(fd, true, pfx, 2, deadline)) < 0 ||
	    (r = io_all(fd, true, (uint8_t *)msg, len, deadline)) < 0)
		return r;
	for (;;) {
		if ((r = io_all(fd, false, pfx, 2, deadline)) < 0)
			return r;
		n = ((size_t)pfx[0] << 8) | pfx[1];
		if (!(buf = malloc(n ? n : 1)))
			return FLINT_ENOMEM;
		if ((r = io_all(fd, false, buf, n, deadline)) < 0) {
			free(buf);
			return r;
		}
		if (matches(msg, buf, n)) {
			*ret = buf;
			*ret_len = n;
			return 0;
		}
		free(buf);
	}
}

static int connect_to(const struct addrinfo *ai, int type, long long deadline)
{
	int fd = socket(ai->ai_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), err = 0;
	socklen_t el = sizeof(err);

	if (fd < 0)
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		if (errno != EINPROGRESS || wait_fd(fd, POLLOUT, deadline) < 0 ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err) {
			if (err)
				errno = err;
			err = errno;
			close(fd);
			errno = err;
			return -1;
		}
	}
	return fd;
}

int flint_dns_exchange(const char *host, int port, const uint8_t *msg, size_t len, int timeout_ms,
		       uint8_t **ret, size_t *ret_len, char **ret_err)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM}, *res = NULL;
	long long deadline = flint_now_ms() + (timeout_ms > 0 ? timeout_ms : 5000);
	char portstr[8];
	bool tc = len > 512;
	uint8_t *ans = NULL;
	size_t alen = 0;
	int fd = -1, r, gai;

	snprintf(portstr, sizeof(portstr), "%d", port);
	if ((gai = getaddrinfo(host, portstr, &hints, &res)) != 0) {
		flint_set_err(ret_err, "cannot resolve %s: %s", host, gai_strerror(gai));
		return FLINT_EIO;
	}
	if (!tc) {
		if ((fd = connect_to(res, SOCK_DGRAM, deadline)) < 0) {
			r = FLINT_EIO;
			goto fail;
		}
		r = udp_exchange(fd, msg, len, deadline, &ans, &alen, &tc);
		close(fd);
		fd = -1;
		if (r < 0)
			goto fail;
		if (!tc)
			goto done;
		free(ans);
		ans = NULL;
	}
	if ((fd = connect_to(res, SOCK_STREAM, deadline)) < 0) {
		r = FLINT_EIO;
		goto fail;
	}
	r = tcp_exchange(fd, msg, len, deadline, &ans, &alen);
	close(fd);
	if (r < 0)
		goto fail;
done:
	freeaddrinfo(res);
	*ret = ans;
	*ret_len = alen;
	return 0;
fail:
	if (r == FLINT_ENOMEM)
		flint_set_err(ret_err, "out of memory");
	else
		flint_set_err(ret_err, "no answer from %s port %d%s: %s", host, port,
			      tc ? " (TCP)" : "", errno == ETIMEDOUT ? "timed out" : strerror(errno));
	freeaddrinfo(res);
	return r;
}
