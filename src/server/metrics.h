/* flintd's metrics: lock-free counters, gauges and latency histograms shared by
 * the event loops and the workers, rendered in the Prometheus text format 0.0.4. */
#ifndef FLINTD_METRICS_H
#define FLINTD_METRICS_H

#include <stddef.h>
#include <stdint.h>

enum flint_metrics_counter {
	FLINT_METRIC_ISSUANCES, /* orders that became valid with a certificate */
	FLINT_METRIC_REVOCATIONS,
	FLINT_METRIC_NONCES_ISSUED,
	FLINT_METRIC_NONCES_REDEEMED, /* accepted once: form, MAC, expiry and first use */
	FLINT_METRIC_PARKED,          /* connections accepted at max-handshakes, parked */
	FLINT_METRIC_HANDSHAKE_YIELDS, /* slots given up by connections without a ClientHello */
	FLINT_METRIC_HANDSHAKE_STALLS, /* handshakes that stopped counting after ~1 s */
	FLINT_METRIC_N_COUNTERS,
};

enum flint_metrics_gauge {
	FLINT_METRIC_CONNECTIONS,      /* open API connections, every loop */
	FLINT_METRIC_VALIDATION_QUEUE, /* jobs waiting for a validation worker */
	FLINT_METRIC_HANDSHAKES,       /* TLS handshakes in progress that count, every loop */
	FLINT_METRIC_HANDSHAKES_WAITING, /* parked connections whose bytes came, every loop */
	FLINT_METRIC_N_GAUGES,
};

/* Label sets are bounded: each labelled family keeps at most this many
 * distinct names; later ones are counted under "other". */
#define FLINT_METRICS_NAMES 32

struct flint_metrics;

/* The process's registry (static storage, never freed): what the hooks in
 * http.c, the workers and the handlers record into and /metrics renders. */
struct flint_metrics *flint_metrics_global(void);

/* A separate, zeroed registry (tests). flint_metrics_free(NULL) is a no-op. */
struct flint_metrics *flint_metrics_new(void);
void flint_metrics_free(struct flint_metrics *m);

/* Names passed below are kept by pointer: they must outlive the registry
 * (string literals, rows of static tables). All are safe from any thread. */

void flint_metrics_inc(struct flint_metrics *m, enum flint_metrics_counter c);
void flint_metrics_gauge_add(struct flint_metrics *m, enum flint_metrics_gauge g, int64_t delta);
void flint_metrics_gauge_set(struct flint_metrics *m, enum flint_metrics_gauge g, int64_t v);
/* One HTTP request: its resource (the route name), status and latency. */
void flint_metrics_request(struct flint_metrics *m, const char *resource, int status, uint64_t us);
/* One finished validation of challenge type and its outcome. */
void flint_metrics_validation(struct flint_metrics *m, const char *type, int valid);
/* The latency of one store operation. */
void flint_metrics_store(struct flint_metrics *m, const char *op, uint64_t us);

/* Microseconds since *start (CLOCK_MONOTONIC), for the latency hooks. */
struct timespec;
uint64_t flint_metrics_since_us(const struct timespec *start);

/* The exposition text (Prometheus text format 0.0.4), NUL-terminated, into
 * *ret (caller frees) and *ret_len. FLINT_ENOMEM on failure. */
int flint_metrics_render(struct flint_metrics *m, char **ret, size_t *ret_len);

#endif
