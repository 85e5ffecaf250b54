/* Talking DNS to one server by name: libflint's stub transport (UDP, then TCP
 * on truncation, bounded waits and retries) with the client's interrupts and
 * error messages. */
#ifndef FLINT_CLIENT_DNSCLIENT_H
#define FLINT_CLIENT_DNSCLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "dnsstub.h" /* flint_dns_server_parse */

/* Sends msg (whose first two bytes are its ID) to host:port and returns the
 * matching response as *ret (malloc'd, at most 65535 bytes): UDP first, resent
 * within timeout_ms, TCP when the reply has TC set or the message is over 512
 * bytes. *ret_err names the server and the failure. */
int flint_dns_exchange(const char *host, int port, const uint8_t *msg, size_t len, int timeout_ms,
		       uint8_t **ret, size_t *ret_len, char **ret_err);

#endif
