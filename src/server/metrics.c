/* flintd's metrics registry: C11 atomics (relaxed: each value is a sum, read
 * whole at scrape) and the Prometheus text exposition format 0.0.4. */
#include "metrics.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"

#define STATUS_MAX 600 /* HTTP statuses 100..599; anything else counts as 0 */
#define N_BUCKETS 11
#define OTHER (FLINT_METRICS_NAMES - 1)

/* upper bounds (le, inclusive) in microseconds and as rendered */
static const uint64_t bucket_us[N_BUCKETS] = {500,   1000,   2500,   5000,   10000,  25000,
					      50000, 100000, 250000, 500000, 1000000};
static const char *const bucket_le[N_BUCKETS] = {
    "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1"};

struct histogram {
	_Atomic uint64_t bucket[N_BUCKETS + 1]; /* per bucket, not cumulative; last: +Inf */
	_Atomic uint64_t sum_us;
};

/* A bounded label set: slots claimed by compare-and-set, never released. */
struct names {
	_Atomic(const char *) v[FLINT_METRICS_NAMES];
};

struct flint_metrics {
	_Atomic uint64_t counters[FLINT_METRIC_N_COUNTERS];
	_Atomic int64_t gauges[FLINT_METRIC_N_GAUGES];
	struct names resources;
	_Atomic uint64_t requests[FLINT_METRICS_NAMES][STATUS_MAX];
	struct histogram request_latency[FLINT_METRICS_NAMES];
	struct names types;
	_Atomic uint64_t validations[FLINT_METRICS_NAMES][2]; /* [invalid, valid] */
	struct names ops;
	struct histogram store_latency[FLINT_METRICS_NAMES];
};

static struct flint_metrics global; /* static storage: every atomic starts at 0 */

struct flint_metrics *flint_metrics_global(void) { return &global; }

struct flint_metrics *flint_metrics_new(void) { return calloc(1, sizeof(struct flint_metrics)); }

void flint_metrics_free(struct flint_metrics *m)
{
	if (m != &global)
		free(m);
}

static size_t name_slot(struct names *n, const char *name)
{
	if (!name)
		return OTHER;
	for (size_t i = 0; i < OTHER; i++) {
		const char *cur = atomic_load_explicit(&n->v[i], memory_order_acquire);
		if (!cur) {
			const char *expect = NULL;
			if (atomic_compare_exchange_strong_explicit(&n->v[i], &expect, name,
								    memory_order_acq_rel,
								    memory_order_acquire))
				return i;
			cur = expect; /* another thread took the slot: maybe for this name */
		}
		if (cur == name || strcmp(cur, name) == 0)
			return i;
	}
	return OTHER;
}

static void observe(struct histogram *h, uint64_t us)
{
	size_t i = 0;
	while (i < N_BUCKETS && us > bucket_us[i])
		i++;
	atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum_us, us, memory_order_relaxed);
}

void flint_metrics_inc(struct flint_metrics *m, enum flint_metrics_counter c)
{
	if (c < FLINT_METRIC_N_COUNTERS)
		atomic_fetch_add_explicit(&m->counters[c], 1, memory_order_relaxed);
}

void flint_metrics_gauge_add(struct flint_metrics *m, enum flint_metrics_gauge g, int64_t delta)
{
	if (g < FLINT_METRIC_N_GAUGES)
		atomic_fetch_add_explicit(&m->gauges[g], delta, memory_order_relaxed);
}

void flint_metrics_gauge_set(struct flint_metrics *m, enum flint_metrics_gauge g, int64_t v)
{
	if (g < FLINT_METRIC_N_GAUGES)
		atomic_store_explicit(&m->gauges[g], v, memory_order_relaxed);
}

void flint_metrics_request(struct flint_metrics *m, const char *resource, int status, uint64_t us)
{
	size_t i = name_slot(&m->resources, resource);
	size_t s = status >= 100 && status < STATUS_MAX ? (size_t)status : 0;
	atomic_fetch_add_explicit(&m->requests[i][s], 1, memory_order_relaxed);
	observe(&m->request_latency[i], us);
}

void flint_metrics_validation(struct flint_metrics *m, const char *type, int valid)
{
	size_t i = name_slot(&m->types, type);
	atomic_fetch_add_explicit(&m->validations[i][valid ? 1 : 0], 1, memory_order_relaxed);
}

void flint_metrics_store(struct flint_metrics *m, const char *op, uint64_t us)
{
	observe(&m->store_latency[name_slot(&m->ops, op)], us);
}

uint64_t flint_metrics_since_us(const struct timespec *start)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	int64_t us =
	    (int64_t)(now.tv_sec - start->tv_sec) * 1000000 + (now.tv_nsec - start->tv_nsec) / 1000;
	return us > 0 ? (uint64_t)us : 0;
}

/* ---- rendering ---- */

/* A label value: backslash, double quote and newline escaped (the format's
 * only escapes). */
static void put_label(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '"')
			fputs("\\\"", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void header(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static const char *slot_name(struct names *n, size_t i)
{
	return i == OTHER ? "other" : atomic_load_explicit(&n->v[i], memory_order_acquire);
}

/* One histogram series per used name: cumulative buckets from one read of
 * each, so _count always equals the +Inf bucket. */
static void render_histograms(FILE *f, const char *metric, const char *label, struct names *n,
			      struct histogram *h)
{
	for (size_t i = 0; i < FLINT_METRICS_NAMES; i++) {
		const char *name = slot_name(n, i);
		uint64_t b[N_BUCKETS + 1], cum = 0;
		for (size_t k = 0; k <= N_BUCKETS; k++) {
			b[k] = atomic_load_explicit(&h[i].bucket[k], memory_order_relaxed);
			cum += b[k];
		}
		if (!name || (i == OTHER && cum == 0))
			continue;
		uint64_t sum = atomic_load_explicit(&h[i].sum_us, memory_order_relaxed);
		cum = 0;
		for (size_t k = 0; k <= N_BUCKETS; k++) {
			cum += b[k];
			fprintf(f, "%s_bucket{%s=\"", metric, label);
			put_label(f, name);
			fprintf(f, "\",le=\"%s\"} %llu\n", k < N_BUCKETS ? bucket_le[k] : "+Inf",
				(unsigned long long)cum);
		}
		fprintf(f, "%s_sum{%s=\"", metric, label);
		put_label(f, name);
		fprintf(f, "\"} %llu.%06llu\n", (unsigned long long)(sum / 1000000),
			(unsigned long long)(sum % 1000000));
		fprintf(f, "%s_count{%s=\"", metric, label);
		put_label(f, name);
		fprintf(f, "\"} %llu\n", (unsigned long long)cum);
	}
}

static void render_counter(FILE *f, struct flint_metrics *m, const char *name,
			   enum flint_metrics_counter c, const char *help)
{
	header(f, name, "counter", help);
	fprintf(f, "%s %llu\n", name,
		(unsigned long long)atomic_load_explicit(&m->counters[c], memory_order_relaxed));
}

static void render_gauge(FILE *f, struct flint_metrics *m, const char *name,
			 enum flint_metrics_gauge g, const char *help)
{
	header(f, name, "gauge", help);
	fprintf(f, "%s %lld\n", name,
		(long long)atomic_load_explicit(&m->gauges[g], memory_order_relaxed));
}

int flint_metrics_render(struct flint_metrics *m, char **ret, size_t *ret_len)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return FLINT_ENOMEM;

	header(f, "flintd_http_requests_total", "counter",
	       "HTTP requests by resource (route) and status.");
	for (size_t i = 0; i < FLINT_METRICS_NAMES; i++) {
		const char *name = slot_name(&m->resources, i);
		for (size_t s = 0; name && s < STATUS_MAX; s++) {
			uint64_t v = atomic_load_explicit(&m->requests[i][s], memory_order_relaxed);
			if (!v)
				continue;
			fputs("flintd_http_requests_total{resource=\"", f);
			put_label(f, name);
			fprintf(f, "\",status=\"%zu\"} %llu\n", s, (unsigned long long)v);
		}
	}
	header(f, "flintd_http_request_duration_seconds", "histogram",
	       "Time from a request's arrival to its reply, by resource.");
	render_histograms(f, "flintd_http_request_duration_seconds", "resource", &m->resources,
			  m->request_latency);

	header(f, "flintd_validations_total", "counter",
	       "Finished challenge validations by type and outcome.");
	for (size_t i = 0; i < FLINT_METRICS_NAMES; i++) {
		const char *name = slot_name(&m->types, i);
		for (int o = 1; name && o >= 0; o--) {
			uint64_t v =
			    atomic_load_explicit(&m->validations[i][o], memory_order_relaxed);
			if (!v)
				continue;
			fputs("flintd_validations_total{type=\"", f);
			put_label(f, name);
			fprintf(f, "\",outcome=\"%s\"} %llu\n", o ? "valid" : "invalid",
				(unsigned long long)v);
		}
	}
	render_counter(f, m, "flintd_issuances_total", FLINT_METRIC_ISSUANCES,
		       "Certificates issued (orders that became valid).");
	render_counter(f, m, "flintd_revocations_total", FLINT_METRIC_REVOCATIONS,
		       "Certificates revoked through revokeCert.");
	render_counter(f, m, "flintd_nonces_issued_total", FLINT_METRIC_NONCES_ISSUED,
		       "Replay-Nonces issued.");
	render_counter(f, m, "flintd_nonces_redeemed_total", FLINT_METRIC_NONCES_REDEEMED,
		       "Replay-Nonces accepted (each once).");
	header(f, "flintd_store_operation_duration_seconds", "histogram",
	       "Latency of store operations, by operation.");
	render_histograms(f, "flintd_store_operation_duration_seconds", "op", &m->ops,
			  m->store_latency);
	render_gauge(f, m, "flintd_validation_queue_depth", FLINT_METRIC_VALIDATION_QUEUE,
		     "Jobs waiting for a validation worker.");
	render_gauge(f, m, "flintd_open_connections", FLINT_METRIC_CONNECTIONS,
		     "Open API connections over every event loop.");
	render_gauge(f, m, "flintd_tls_handshakes", FLINT_METRIC_HANDSHAKES,
		     "TLS handshakes in progress over every event loop (those that count "
		     "against max-handshakes).");
	render_gauge(f, m, "flintd_tls_handshakes_waiting", FLINT_METRIC_HANDSHAKES_WAITING,
		     "Connections whose ClientHello came, waiting for a handshake slot.");
	render_counter(f, m, "flintd_connections_parked_total", FLINT_METRIC_PARKED,
		       "Connections accepted while their event loop had max-handshakes "
		       "handshakes in progress, parked until a slot was free.");
	render_counter(f, m, "flintd_tls_handshake_slots_yielded_total", FLINT_METRIC_HANDSHAKE_YIELDS,
		       "Handshake slots given up, to connections waiting for one, by connections "
		       "that had sent no ClientHello.");
	render_counter(f, m, "flintd_tls_handshakes_stalled_total", FLINT_METRIC_HANDSHAKE_STALLS,
		       "Handshakes that stopped counting after about a second while connections "
		       "waited for a slot.");

	if (fclose(f) != 0 || !buf) {
		free(buf);
		return FLINT_ENOMEM;
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}
