/* The client's version, as the project() line of CMakeLists.txt says, and the
 * User-Agent it sends (RFC 8555 §6.1 asks clients to send one). */
#ifndef FLINT_CLIENT_VERSION_H
#define FLINT_CLIENT_VERSION_H

#define FLINT_VERSION "0.1.0"
#define FLINT_USER_AGENT "flint/" FLINT_VERSION

#endif
