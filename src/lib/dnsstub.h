/* A stub resolver's transport (RFC 1034 §5.3.1): DNS messages to one server
 * from one UDP socket, several in flight, each sent again until its deadline
 * and over TCP when its answer comes back truncated (RFC 1035 §4.2, RFC 7766
 * §5). Responses are matched to their message by ID and question (RFC 5452 §9).
 * Used by flintd's validation (the server recurses, and validates DNSSEC) and
 * by the flint client's DNS UPDATEs (RFC 2136). */
#ifndef FLINT_DNSSTUB_H
#define FLINT_DNSSTUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define FLINT_DNS_STUB_MAX 32 /* messages in flight on one stub */
#define FLINT_DNS_UDP_MAX 512 /* largest message sent over UDP: no EDNS (RFC 1035 §4.2.1) */

/* A server: "HOST", "HOST:PORT", "[V6]:PORT" or a bare IPv6 address; port 53 by
 * default. *ret_host is malloc'd. */
int flint_dns_server_parse(const char *server, char **ret_host, int *ret_port);

/* The same, where HOST must be an IP address (no lookup). */
int flint_dns_server_addr(const char *server, struct sockaddr_storage *ret, socklen_t *ret_len);

struct flint_dns_stub;

int flint_dns_stub_new(const struct sockaddr *server, socklen_t len, struct flint_dns_stub **ret);
/* Closes the socket and forgets every message still in flight. */
void flint_dns_stub_free(struct flint_dns_stub *s);
/* Waits then look at interrupted() at least every 250 ms and give up (EINTR)
 * when it says so. */
void flint_dns_stub_set_interrupt(struct flint_dns_stub *s, bool (*interrupted)(void));

/* Sends a QUERY for (name, type, class IN) with RD set and a fresh random ID;
 * *ret_slot names it for wait and cancel. The UDP socket (a new random source
 * port) is opened by the first message in flight and closed when none is. */
int flint_dns_stub_query(struct flint_dns_stub *s, const char *name, uint16_t type,
			 int *ret_slot);
/* Sends msg as it is (its first two bytes are its ID), e.g. a signed UPDATE.
 * Over TCP from the start when it is longer than FLINT_DNS_UDP_MAX. Unlike a
 * query's, its response may leave out the question (some servers' FORMERR). */
int flint_dns_stub_send(struct flint_dns_stub *s, const uint8_t *msg, size_t len, int *ret_slot);

/* Waits for slot's response until deadline_ms (flint_now_ms's clock, timefmt.h),
 * keeping the responses to other slots that arrive meanwhile, then releases
 * the slot. 0 and *ret (malloc'd, *ret_len bytes); FLINT_EIO with errno
 * ETIMEDOUT, ECONNREFUSED (the server's port is closed), EINTR or another
 * socket error; FLINT_ENOMEM. */
int flint_dns_stub_wait(struct flint_dns_stub *s, int slot, long long deadline_ms, uint8_t **ret,
			size_t *ret_len);
/* Releases a slot whose answer nobody wants. */
void flint_dns_stub_cancel(struct flint_dns_stub *s, int slot);
/* Messages in flight (sent, their slot not yet released). */
size_t flint_dns_stub_pending(const struct flint_dns_stub *s);

/* Whether a (alen bytes, from the network) responds to q (our own message):
 * same ID and opcode, QR set, and q's question, the name compared without
 * regard to case, unless loose and a carries no question at all. */
bool flint_dns_response_matches(const uint8_t *q, size_t qlen, const uint8_t *a, size_t alen,
				bool loose);

#endif
