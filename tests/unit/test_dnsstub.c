/* libflint's DNS stub transport against a scripted server on loopback: what
 * it accepts as an answer (ID, QR, opcode, question), answers kept for the
 * message that waits later, resends, TCP on truncation, timeouts and a
 * closed port; and server addresses. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "dnsmsg.h"
#include "dnsstub.h"
#include "error.h"
#include "timefmt.h"

#define PORT 20170        /* the scripted server, UDP and TCP */
#define CLOSED_PORT 20171 /* nothing listens */

static atomic_int stop_server;
static atomic_int late_seen; /* how often "late." was asked */
static atomic_int udp_asked;  /* queries the server received over UDP */

/* The question's first label decides how the server answers. */
static size_t first_label(const uint8_t *q, size_t len, char *out, size_t cap)
{
	size_t n = len > 12 ? q[12] : 0;

	if (n == 0 || n >= cap || 13 + n > len)
		return 0;
	memcpy(out, q + 13, n);
	out[n] = '\0';
	return n;
}

/* The query turned into a response: QR set, one A record 192.0.2.7 for the
 * question's name (a compression pointer to it). */
static size_t answer(const uint8_t *q, size_t len, uint8_t *out)
{
	static const uint8_t rr[] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 7};

	memcpy(out, q, len);
	out[2] |= 0x80;
	out[7] = 1; /* ANCOUNT */
	memcpy(out + len, rr, sizeof(rr));
	return len + sizeof(rr);
}

static void udp_reply(int fd, const struct sockaddr_storage *from, socklen_t fl, const uint8_t *q,
		      size_t len)
{
	uint8_t out[6000];
	char label[64];
	size_t n = answer(q, len, out);

	first_label(q, len, label, sizeof(label));
	if ((q[2] & 0x78) == (FLINT_DNS_OP_UPDATE << 3)) {
		/* a header alone, no zone section echoed */
		uint8_t hdr[12] = {q[0], q[1], 0xa8, 0, 0, 0, 0, 0, 0, 0, 0, 0};
		sendto(fd, hdr, sizeof(hdr), 0, (const struct sockaddr *)from, fl);
		return;
	}
	if (strcmp(label, "silent") == 0)
		return;
	if (strcmp(label, "late") == 0 && atomic_fetch_add(&late_seen, 1) == 0)
		return; /* only the resend is answered */
	if (strcmp(label, "upper") == 0)
		for (size_t i = 12; i < len - 4; i++)
			if (out[i] >= 'a' && out[i] <= 'z')
				out[i] = (uint8_t)(out[i] - 32);
	if (strcmp(label, "decoys") == 0) {
		uint8_t d[6000];
		memcpy(d, out, n);
		d[1] ^= 1; /* another ID */
		sendto(fd, d, n, 0, (const struct sockaddr *)from, fl);
		memcpy(d, q, len); /* the query itself: QR clear */
		sendto(fd, d, len, 0, (const struct sockaddr *)from, fl);
		memcpy(d, out, n);
		d[14] ^= 1; /* another name */
		sendto(fd, d, n, 0, (const struct sockaddr *)from, fl);
		memcpy(d, out, n);
		d[len - 3] ^= 1; /* another type */
		sendto(fd, d, n, 0, (const struct sockaddr *)from, fl);
		memcpy(d, out, 12);
		d[5] = 0; /* no question */
		sendto(fd, d, 12, 0, (const struct sockaddr *)from, fl);
		sendto(fd, d, 5, 0, (const struct sockaddr *)from, fl); /* shorter than a header */
		memset(d + n, 0, 5000);
		memcpy(d, out, n); /* matching, but longer than we read */
		sendto(fd, d, n + 5000, 0, (const struct sockaddr *)from, fl);
	}
	if (strcmp(label, "tc") == 0) {
		out[2] |= 0x02;
		out[7] = 0;
		n = len;
	}
	sendto(fd, out, n, 0, (const struct sockaddr *)from, fl);
}

static void tcp_serve(int c)
{
	uint8_t pfx[2], q[600], out[700];
	size_t len, n;

	if (recv(c, pfx, 2, MSG_WAITALL) != 2)
		return;
	len = (size_t)pfx[0] << 8 | pfx[1];
	if (len > sizeof(q) || recv(c, q, len, MSG_WAITALL) != (ssize_t)len)
		return;
	n = answer(q, len, out);
	/* first a response to something else, then the real one */
	out[1] ^= 1;
	pfx[0] = (uint8_t)(n >> 8);
	pfx[1] = (uint8_t)n;
	send(c, pfx, 2, MSG_NOSIGNAL);
	send(c, out, n, MSG_NOSIGNAL);
	out[1] ^= 1;
	send(c, pfx, 2, MSG_NOSIGNAL);
	send(c, out, n, MSG_NOSIGNAL);
}

static void *server_main(void *arg)
{
	int *fds = arg;

	while (!atomic_load(&stop_server)) {
		struct pollfd p[2] = {{.fd = fds[0], .events = POLLIN}, {.fd = fds[1], .events = POLLIN}};

		if (poll(p, 2, 50) <= 0)
			continue;
		if (p[0].revents & POLLIN) {
			uint8_t q[600];
			struct sockaddr_storage from;
			socklen_t fl = sizeof(from);
			ssize_t n = recvfrom(fds[0], q, sizeof(q), 0, (struct sockaddr *)&from, &fl);
			atomic_fetch_add(&udp_asked, 1);
			if (n >= 12)
				udp_reply(fds[0], &from, fl, q, (size_t)n);
		}
		if (p[1].revents & POLLIN) {
			int c = accept(fds[1], NULL, NULL);
			if (c >= 0) {
				tcp_serve(c);
				close(c);
			}
		}
	}
	return NULL;
}

static struct sockaddr_in loopback(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sa;
}

static struct flint_dns_stub *stub_at(int port)
{
	struct sockaddr_in sa = loopback(port);
	struct flint_dns_stub *s = NULL;

	CHECK_INT(flint_dns_stub_new((struct sockaddr *)&sa, sizeof(sa), &s), 0);
	return s;
}

/* Asks name (type A) and checks the answer: the question echoed, one record. */
static void check_answered(struct flint_dns_stub *s, int slot, const char *name)
{
	uint8_t *ans = NULL;
	size_t len = 0;
	struct flint_dns_msg *m = NULL;

	CHECK_INT(flint_dns_stub_wait(s, slot, flint_now_ms() + 3000, &ans, &len), 0);
	if (!ans)
		return;
	CHECK_INT(flint_dns_msg_parse(ans, len, &m), 0);
	if (m) {
		CHECK_INT(m->counts[0], 1);
		CHECK_INT(m->counts[1], 1);
		CHECK(m->n_rrs == 2 && flint_dns_name_equal(m->rrs[0].name, name));
		CHECK((m->flags & FLINT_DNS_F_TC) == 0);
	}
	flint_dns_msg_free(m);
	free(ans);
}

static int open_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	while (d && (e = readdir(d)))
		n++;
	if (d)
		closedir(d);
	return n;
}

static void test_answers(void)
{
	struct flint_dns_stub *s = stub_at(PORT);
	int a, b, c, d, fds0 = open_fds(), asked0 = atomic_load(&udp_asked);

	if (!s)
		return;
	/* several in flight; waiting for the last keeps the others' answers */
	CHECK_INT(flint_dns_stub_query(s, "ok.a.example", FLINT_DNS_T_A, &a), 0);
	CHECK_INT(flint_dns_stub_query(s, "ok.b.example", FLINT_DNS_T_A, &b), 0);
	CHECK_INT(flint_dns_stub_query(s, "upper.c.example", FLINT_DNS_T_A, &c), 0);
	CHECK_INT(flint_dns_stub_query(s, "decoys.d.example", FLINT_DNS_T_A, &d), 0);
	CHECK_INT(flint_dns_stub_pending(s), 4);
	CHECK_INT(open_fds(), fds0 + 1); /* one socket for all */
	check_answered(s, d, "decoys.d.example");
	check_answered(s, b, "ok.b.example");
	check_answered(s, c, "UPPER.C.EXAMPLE"); /* the name's case does not matter */
	check_answered(s, a, "ok.a.example");
	CHECK_INT(flint_dns_stub_pending(s), 0);
	CHECK_INT(atomic_load(&udp_asked) - asked0, 4); /* each answer kept, none asked twice */
	CHECK_INT(open_fds(), fds0); /* closed once nothing is in flight */
	/* a released slot cannot be waited for again */
	uint8_t *ans = NULL;
	size_t len = 0;
	CHECK_INT(flint_dns_stub_wait(s, a, flint_now_ms() + 100, &ans, &len), FLINT_EINVAL);
	CHECK_INT(flint_dns_stub_wait(s, -1, 0, &ans, &len), FLINT_EINVAL);
	CHECK_INT(flint_dns_stub_wait(s, FLINT_DNS_STUB_MAX, 0, &ans, &len), FLINT_EINVAL);
	flint_dns_stub_free(s);
}

static void test_resend_and_timeout(void)
{
	struct flint_dns_stub *s = stub_at(PORT);
	uint8_t *ans = NULL;
	size_t len = 0;
	int late, silent;
	long long t0;

	if (!s)
		return;
	atomic_store(&late_seen, 0);
	CHECK_INT(flint_dns_stub_query(s, "late.example", FLINT_DNS_T_A, &late), 0);
	CHECK_INT(flint_dns_stub_query(s, "silent.example", FLINT_DNS_T_A, &silent), 0);
	t0 = flint_now_ms();
	check_answered(s, late, "late.example"); /* the resend after a second */
	CHECK(flint_now_ms() - t0 >= 900);
	CHECK(atomic_load(&late_seen) >= 2);
	t0 = flint_now_ms();
	errno = 0;
	CHECK_INT(flint_dns_stub_wait(s, silent, t0 + 600, &ans, &len), FLINT_EIO);
	CHECK_INT(errno, ETIMEDOUT);
	CHECK(flint_now_ms() - t0 >= 590 && flint_now_ms() - t0 < 2000);
	CHECK(ans == NULL);
	CHECK_INT(flint_dns_stub_pending(s), 0);
	flint_dns_stub_free(s);
}

static void test_truncated(void)
{
	struct flint_dns_stub *s = stub_at(PORT);
	int t;

	if (!s)
		return;
	/* TC over UDP: asked again over TCP, where a response to another ID
	 * comes first */
	CHECK_INT(flint_dns_stub_query(s, "tc.example", FLINT_DNS_T_A, &t), 0);
	check_answered(s, t, "tc.example");
	flint_dns_stub_free(s);
}

static void test_update_loose(void)
{
	struct flint_dns_stub *s = stub_at(PORT);
	struct flint_dns_update u = {FLINT_DNS_UPD_DELETE_RRSET, "x.example", FLINT_DNS_T_TXT, 0, NULL, 0};
	struct flint_dns_builder b = {0};
	uint8_t *ans = NULL;
	size_t len = 0;
	int slot;

	if (!s)
		return;
	CHECK_INT(flint_dns_build_update(0x1234, "example", &u, 1, &b), 0);
	CHECK_INT(flint_dns_stub_send(s, b.data, b.len, &slot), 0);
	/* the response carries no zone section: taken by its ID and opcode */
	CHECK_INT(flint_dns_stub_wait(s, slot, flint_now_ms() + 3000, &ans, &len), 0);
	CHECK(len == 12 && ans && ans[0] == 0x12 && ans[1] == 0x34);
	free(ans);
	flint_dns_builder_clear(&b);
	CHECK_INT(flint_dns_stub_send(s, (const uint8_t *)"short", 5, &slot), FLINT_EINVAL);
	flint_dns_stub_free(s);
}

static void test_refused_and_full(void)
{
	struct flint_dns_stub *s = stub_at(CLOSED_PORT);
	uint8_t *ans = NULL;
	size_t len = 0;
	int slot, slots[FLINT_DNS_STUB_MAX];
	long long t0;

	if (!s)
		return;
	t0 = flint_now_ms();
	CHECK_INT(flint_dns_stub_query(s, "ok.example", FLINT_DNS_T_A, &slot), 0);
	errno = 0;
	CHECK_INT(flint_dns_stub_wait(s, slot, t0 + 5000, &ans, &len), FLINT_EIO);
	CHECK_INT(errno, ECONNREFUSED); /* at once, not at the deadline */
	CHECK(flint_now_ms() - t0 < 1000);
	/* two and three in flight: the refusal reaches every one of them (the
	 * second send already reports the first one's ICMP) */
	for (int k = 2; k <= 3; k++) {
		int many[3];
		for (int i = 0; i < k; i++)
			CHECK_INT(flint_dns_stub_query(s, "ok.example", FLINT_DNS_T_A, &many[i]), 0);
		t0 = flint_now_ms();
		for (int i = 0; i < k; i++) {
			errno = 0;
			CHECK_INT(flint_dns_stub_wait(s, many[i], t0 + 5000, &ans, &len), FLINT_EIO);
			CHECK_INT(errno, ECONNREFUSED);
		}
		CHECK(flint_now_ms() - t0 < 1000);
	}
	flint_dns_stub_free(s);

	s = stub_at(PORT);
	if (!s)
		return;
	for (int i = 0; i < FLINT_DNS_STUB_MAX; i++)
		CHECK_INT(flint_dns_stub_query(s, "silent.example", FLINT_DNS_T_A, &slots[i]), 0);
	CHECK_INT(flint_dns_stub_query(s, "ok.example", FLINT_DNS_T_A, &slot), FLINT_ETOOBIG);
	/* every in-flight message has its own ID */
	for (int i = 0; i < FLINT_DNS_STUB_MAX; i++)
		flint_dns_stub_cancel(s, slots[i]);
	CHECK_INT(flint_dns_stub_pending(s), 0);
	flint_dns_stub_cancel(s, slots[0]); /* twice: nothing */
	flint_dns_stub_cancel(NULL, 0);
	/* freed with messages in flight */
	CHECK_INT(flint_dns_stub_query(s, "silent.example", FLINT_DNS_T_A, &slot), 0);
	flint_dns_stub_free(s);
	flint_dns_stub_free(NULL);
	CHECK_INT(flint_dns_stub_new(NULL, 0, &s), FLINT_EINVAL);
}

/* A response against a query for ok.example A (ID 0xabcd), by table. */
static void test_matches(void)
{
	struct flint_dns_builder q = {0};
	uint8_t a[512];
	size_t n;

	CHECK_INT(flint_dns_build_query(0xabcd, "ok.example", FLINT_DNS_T_A, true, &q), 0);
	if (!q.data)
		return;
	n = answer(q.data, q.len, a);
	CHECK(flint_dns_response_matches(q.data, q.len, a, n, false));
	CHECK(flint_dns_response_matches(q.data, q.len, a, q.len, false)); /* question alone */
	CHECK(!flint_dns_response_matches(q.data, q.len, a, q.len - 1, false)); /* cut in the question */
	CHECK(!flint_dns_response_matches(q.data, q.len, a, 11, true));
	CHECK(!flint_dns_response_matches(NULL, 0, a, n, true));
	CHECK(!flint_dns_response_matches(q.data, q.len, NULL, 0, true));
	static const struct {
		size_t off;
		uint8_t flip;
		bool still; /* still a match, loose or not */
	} cases[] = {
		{0, 0x01, false}, {1, 0x80, false}, /* ID */
		{2, 0x80, false},                   /* QR cleared */
		{2, 0x28, false},                   /* opcode */
		{5, 0x03, false},                   /* QDCOUNT 2 */
		{12, 0x01, false},                  /* first label's length */
		{13, 0x02, false},                  /* a letter, not its case */
		{15, 0x01, false},                  /* the second label's length */
		{24, 0x01, false}, {25, 0x01, false}, /* type */
		{27, 0x01, false},                  /* class */
		{2, 0x04, true}, {3, 0x8f, true},   /* AA, RA, RCODE: not the matcher's business */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t b[512];
		memcpy(b, a, n);
		b[cases[i].off] ^= cases[i].flip;
		CHECK(flint_dns_response_matches(q.data, q.len, b, n, false) == cases[i].still);
		CHECK(flint_dns_response_matches(q.data, q.len, b, n, true) == cases[i].still);
	}
	/* no question at all: only when loose */
	uint8_t hdr[12];
	memcpy(hdr, a, 12);
	hdr[5] = 0;
	CHECK(!flint_dns_response_matches(q.data, q.len, hdr, 12, false));
	CHECK(flint_dns_response_matches(q.data, q.len, hdr, 12, true));
	/* a compressed question (a pointer back into the header) is not ours */
	uint8_t ptr[512];
	memcpy(ptr, a, 12);
	ptr[12] = 0xc0;
	ptr[13] = 0;
	memcpy(ptr + 14, q.data + q.len - 4, 4);
	CHECK(!flint_dns_response_matches(q.data, q.len, ptr, 18, false));
	flint_dns_builder_clear(&q);
}

static void test_server_addr(void)
{
	static const struct {
		const char *in;
		int family, port; /* 0: refused */
	} cases[] = {
		{"127.0.0.1", AF_INET, 53},       {"127.0.0.1:5353", AF_INET, 5353},
		{"::1", AF_INET6, 53},            {"[::1]:8053", AF_INET6, 8053},
		{"[2001:db8::1]", AF_INET6, 53},  {"127.0.0.1:", 0, 0},
		{"127.0.0.1:0", 0, 0},            {"127.0.0.1:65536", 0, 0},
		{"127.0.0.1:53x", 0, 0},          {"127.0.0.1:+53", 0, 0},
		{"[::1", 0, 0},                   {"[]:53", 0, 0},
		{"[::1]x", 0, 0},                 {"", 0, 0},
		{"ns.example", 0, 0}, /* a name: the stub looks nothing up */
		{":53", 0, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sockaddr_storage ss;
		socklen_t len = 0;
		int rc = flint_dns_server_addr(cases[i].in, &ss, &len);
		if (!cases[i].family) {
			CHECK_INT(rc, FLINT_EINVAL);
			continue;
		}
		CHECK_INT(rc, 0);
		CHECK_INT(ss.ss_family, cases[i].family);
		CHECK_INT(ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
							: ((struct sockaddr_in6 *)&ss)->sin6_port),
			  cases[i].port);
	}
	char *host = NULL;
	int port = 0;
	CHECK_INT(flint_dns_server_parse("ns1.example.net:5300", &host, &port), 0);
	CHECK_STR(host, "ns1.example.net");
	CHECK_INT(port, 5300);
	free(host);
	CHECK_INT(flint_dns_server_parse(NULL, &host, &port), FLINT_EINVAL);
}

int main(void)
{
	int fds[2];
	struct sockaddr_in sa = loopback(PORT);
	int one = 1;
	pthread_t th;

	fds[0] = socket(AF_INET, SOCK_DGRAM, 0);
	fds[1] = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(fds[1], SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fds[0] < 0 || fds[1] < 0 || bind(fds[0], (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    bind(fds[1], (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fds[1], 8) < 0 ||
	    pthread_create(&th, NULL, server_main, fds) != 0) {
		fprintf(stderr, "cannot start the scripted DNS server on port %d\n", PORT);
		return 1;
	}
	RUN(test_matches);
	RUN(test_server_addr);
	RUN(test_answers);
	RUN(test_resend_and_timeout);
	RUN(test_truncated);
	RUN(test_update_loose);
	RUN(test_refused_and_full);
	atomic_store(&stop_server, 1);
	pthread_join(th, NULL);
	close(fds[0]);
	close(fds[1]);
	return CHECK_DONE();
}
