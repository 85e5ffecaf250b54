/* Key processes: flint keeps each private key (the account key, a
 * certificate key) in a process of its own that never touches the network, in the spirit of OpenBSD's
 * acme-client. The process loads (or makes and saves) the key, then gives
 * up the file system and the network (Landlock where the kernel has it, a
 * seccomp filter that refuses sockets, exec and new processes) and answers
 * one request per message over a socketpair: its public key, a signature of
 * a JWS signing input, or a certificate request for some names. The network side holds a flint_jwk with the public
 * key whose signatures come from the process. */
#ifndef FLINT_CLIENT_KEYPROC_H
#define FLINT_CLIENT_KEYPROC_H

#include <stdbool.h>
#include <sys/types.h>

#include "jwk.h"

struct flint_keyproc;

/* A process holding the private key in key_path (PEM). When key_path does not
 * exist and create is set, the process generates a key of type (rsa_bits for
 * RSA) and saves it there (0600) first. With ret_key, also a handle on the
 * key (as flint_keyproc_jwk). *ret_err says why on failure. */
int flint_keyproc_start(const char *key_path, bool create, enum flint_key_type type, int rsa_bits,
			struct flint_keyproc **ret, struct flint_jwk **ret_key, char **ret_err);
/* A handle on the key as a JWK: the public key, signing through the process;
 * the caller frees it (flint_jwk_free), and uses it only while kp lives. */
int flint_keyproc_jwk(const struct flint_keyproc *kp, struct flint_jwk **ret);
/* A PKCS#10 request for names (1..100, each non-empty) signed with the key,
 * as flint_csr_build makes it; *ret (DER) malloc'd. */
int flint_keyproc_csr(struct flint_keyproc *kp, const char *const *names, size_t n,
		      unsigned char **ret, size_t *ret_len);
/* The process's pid (tests look at its confinement). */
pid_t flint_keyproc_pid(const struct flint_keyproc *kp);
/* Ends the process and frees kp. NULL: nothing. */
void flint_keyproc_free(struct flint_keyproc *kp);

#endif
