/* The client's state directory: accounts per ACME server, certificates per
 * name, atomic file writes (temp, fsync, rename), keys 0600, one flock. */
#ifndef FLINT_CLIENT_STATE_H
#define FLINT_CLIENT_STATE_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define FLINT_STATE_LOCK_WAIT 300 /* seconds a run waits for another one */

struct flint_state {
	char *dir;
	int lock_fd;
};

/* Creates dir (0700) when missing and takes DIR/lock (flock, exclusive),
 * waiting up to FLINT_STATE_LOCK_WAIT seconds for another run. */
int flint_state_open(const char *dir, struct flint_state **ret, char **ret_err);
/* Releases the lock. NULL is a no-op. */
void flint_state_free(struct flint_state *st);

/* The default state directory: /var/lib/flint for root, else
 * $XDG_STATE_HOME/flint or $HOME/.local/state/flint. malloc'd. */
char *flint_state_default_dir(void);

/* DIR/accounts/<host>[_<port>]/<path>: one account per directory URL. */
int flint_state_account_dir(const struct flint_state *st, const char *dir_url, char **ret,
			    char **ret_err);
/* DIR/certs/<name>; refuses names that are not plain file names. */
int flint_state_cert_dir(const struct flint_state *st, const char *name, char **ret,
			 char **ret_err);

/* flint_file_mkdirs (libflint), saying in *ret_err which directory failed. */
int flint_mkdirs(const char *path, mode_t mode, char **ret_err);
/* flint_file_write_atomic (libflint: temp file in the same directory with
 * mode, write, fsync, rename over path, fsync the directory), saying in
 * *ret_err what failed. */
int flint_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
			    char **ret_err);
/* rename(2), then fsync of the target's directory. */
int flint_rename(const char *from, const char *to, char **ret_err);
/* Reads a whole file of at most max bytes; *ret NUL-terminated. FLINT_ENOTFOUND when absent. */
int flint_read_file(const char *path, size_t max, char **ret, size_t *ret_len, char **ret_err);
bool flint_file_exists(const char *path);

/* Private keys as PKCS#8 PEM, written atomically with mode 0600. */
int flint_key_save(const char *path, EVP_PKEY *key, char **ret_err);
int flint_key_load(const char *path, EVP_PKEY **ret, char **ret_err);

#endif
