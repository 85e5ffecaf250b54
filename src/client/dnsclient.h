/* Talking DNS to one server: a message over UDP, again over TCP when the answer
 * is truncated (RFC 1035 §4.2, RFC 7766 §5), with bounded waits and retries. */
#ifndef FLINT_CLIENT_DNSCLIENT_H
#define FLINT_CLIENT_DNSCLIENT_H

#include <stddef.h>
#include <stdint.h>

/* A server: "HOST", "HOST:PORT", "[V6]:PORT" or a bare IPv6 address; port 53 by
 * default. *ret_host is malloc'd. */
int flint_dns_server_parse(const char *server, char **ret_host, int *ret_port);

/* Sends msg (whose first two bytes are its ID) to host:port and returns the
 * matching response (same ID, QR set) as *ret (malloc'd, at most 65535 bytes).
 * UDP first (3 tries within timeout_ms), TCP when the reply has TC set or the
 * message is over 512 bytes. *ret_err names the server and the failure. */
int flint_dns_exchange(const char *host, int port, const uint8_t *msg, size_t len, int timeout_ms,
		       uint8_t **ret, size_t *ret_len, char **ret_err);

#endif
