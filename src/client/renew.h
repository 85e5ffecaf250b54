/* When a certificate is due for renewal: with a third of its lifetime left,
 * or half of it for short-lived certificates (lifetimes of 10 days or less). */
#ifndef FLINT_CLIENT_RENEW_H
#define FLINT_CLIENT_RENEW_H

#include <stdbool.h>
#include <stdint.h>

#define FLINT_RENEW_SHORT_LIFETIME (10 * 86400) /* seconds; at most this is "short" */

/* The unix time at which renewal is due: not_before + 2/3 of the lifetime,
 * or + 1/2 for lifetimes <= FLINT_RENEW_SHORT_LIFETIME. A lifetime <= 0
 * (nonsense dates) is due at not_before. */
int64_t flint_renew_time(int64_t not_before, int64_t not_after);

/* now >= flint_renew_time(): due. */
bool flint_renew_due(int64_t not_before, int64_t not_after, int64_t now);

#endif
