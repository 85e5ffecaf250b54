/* The table of challenge solvers (RFC 8555 §8, RFC 8737): adding a way to answer
 * a challenge adds a file and a row. Preference: listeners we own before files
 * in a web server's tree, http-01 before tls-alpn-01, dns-01 or dns-account-01
 * (draft-ietf-acme-dns-account-label) last (it is slow). */
#include "solve/solver.h"

#include <stddef.h>

const struct flint_solver_type *const flint_solver_types[] = {
    &flint_solver_http01_standalone,
    &flint_solver_webroot,
    &flint_solver_tlsalpn01_standalone,
    &flint_solver_dns_hook,
    &flint_solver_dns_update, /* after the hook: when both are given the hook wins */
    /* --dns-account: the same two answering dns-account-01 instead (never both) */
    &flint_solver_dns_account_hook,
    &flint_solver_dns_account_update,
    NULL,
};
