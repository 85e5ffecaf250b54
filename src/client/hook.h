/* Hooks the flint client runs after issuing or renewing a certificate:
 * /bin/sh -c PROG with FLINT_* variables, bounded in time. */
#ifndef FLINT_CLIENT_HOOK_H
#define FLINT_CLIENT_HOOK_H

#define FLINT_HOOK_TIMEOUT 300 /* seconds */

/* Runs prog with /bin/sh -c, stdin from /dev/null, stdout/stderr inherited,
 * env ("NAME=value", NULL-terminated) added to flint's environment, in its
 * own process group (killed after timeout seconds or when flint is
 * interrupted). 0 when it exits 0; FLINT_EIO with *ret_err otherwise. */
int flint_hook_run(const char *prog, const char *const *env, int timeout, char **ret_err);

#endif
