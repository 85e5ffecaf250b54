/* Giving up root: flintd binds its ports as root (ports below 1024), then
 * runs as an ordinary user for everything else, the CA keys, the database
 * and every byte from the network included. */
#ifndef FLINTD_PRIVILEGES_H
#define FLINTD_PRIVILEGES_H

#include <stddef.h>

/* Becomes user (name or numeric uid) for good: its primary group and
 * supplementary groups, then its uid (real, effective and saved), and checks
 * that root cannot be regained. NULL: nothing to do. Run before any thread
 * starts. On failure err says why (one line): FLINT_ENOTFOUND for an unknown
 * user, FLINT_EINVAL when not root (unless already that user), FLINT_EIO when
 * a set*id call fails or root could be regained. */
int flintd_drop_privileges(const char *user, char *err, size_t err_len);

#endif
