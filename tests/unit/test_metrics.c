/* Unit tests for the metrics registry (metrics.c): the Prometheus text
 * format (HELP/TYPE, label escaping, cumulative buckets) and exact sums under
 * concurrent increments. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "metrics.h"

static char *render(struct flint_metrics *m)
{
	char *text = NULL;
	size_t len = 0;
	CHECK_INT(flint_metrics_render(m, &text, &len), 0);
	CHECK(text && strlen(text) == len);
	return text;
}

/* The value of the sample line "series value", -1 when absent. */
static long long value_of(const char *text, const char *series)
{
	size_t n = strlen(series);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, series, n) && p[n] == ' ')
			return strtoll(p + n + 1, NULL, 10);
	return -1;
}

static size_t count_lines_with(const char *text, const char *needle)
{
	size_t k = 0;
	for (const char *p = text; (p = strstr(p, needle)); p++)
		k++;
	return k;
}

static void test_empty(void)
{
	struct flint_metrics *m = flint_metrics_new();
	char *t = render(m);
	static const char *const families[][2] = {
	    {"flintd_http_requests_total", "counter"},
	    {"flintd_http_request_duration_seconds", "histogram"},
	    {"flintd_validations_total", "counter"},
	    {"flintd_issuances_total", "counter"},
	    {"flintd_revocations_total", "counter"},
	    {"flintd_nonces_issued_total", "counter"},
	    {"flintd_nonces_redeemed_total", "counter"},
	    {"flintd_store_operation_duration_seconds", "histogram"},
	    {"flintd_validation_queue_depth", "gauge"},
	    {"flintd_open_connections", "gauge"},
	    {"flintd_tls_handshakes", "gauge"},
	    {"flintd_tls_handshakes_waiting", "gauge"},
	    {"flintd_connections_parked_total", "counter"},
	    {"flintd_tls_handshake_slots_yielded_total", "counter"},
	    {"flintd_tls_handshakes_stalled_total", "counter"},
	};
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
		char help[128], type[128];
		snprintf(help, sizeof(help), "# HELP %s ", families[i][0]);
		snprintf(type, sizeof(type), "\n# TYPE %s %s\n", families[i][0], families[i][1]);
		CHECK(strstr(t, help) != NULL);
		CHECK(strstr(t, type) != NULL);
	}
	CHECK_INT(value_of(t, "flintd_issuances_total"), 0);
	CHECK_INT(value_of(t, "flintd_open_connections"), 0);
	/* no labelled samples before anything happened */
	CHECK(strstr(t, "{") == NULL);
	CHECK(t[strlen(t) - 1] == '\n');
	free(t);
	flint_metrics_free(m);
}

static void test_counters_gauges(void)
{
	struct flint_metrics *m = flint_metrics_new();
	for (int i = 0; i < 3; i++)
		flint_metrics_inc(m, FLINT_METRIC_ISSUANCES);
	flint_metrics_inc(m, FLINT_METRIC_REVOCATIONS);
	flint_metrics_inc(m, FLINT_METRIC_NONCES_ISSUED);
	flint_metrics_inc(m, FLINT_METRIC_NONCES_ISSUED);
	flint_metrics_gauge_add(m, FLINT_METRIC_CONNECTIONS, 5);
	flint_metrics_gauge_add(m, FLINT_METRIC_CONNECTIONS, -2);
	flint_metrics_gauge_set(m, FLINT_METRIC_VALIDATION_QUEUE, 7);
	flint_metrics_gauge_add(m, FLINT_METRIC_HANDSHAKES, 4);
	flint_metrics_inc(m, FLINT_METRIC_PARKED);
	flint_metrics_inc(m, FLINT_METRIC_HANDSHAKE_STALLS);
	flint_metrics_inc(m, FLINT_METRIC_HANDSHAKE_STALLS);
	flint_metrics_gauge_add(m, FLINT_METRIC_HANDSHAKES_WAITING, 2);
	flint_metrics_validation(m, "http-01", 1);
	flint_metrics_validation(m, "http-01", 1);
	flint_metrics_validation(m, "http-01", 0);
	flint_metrics_validation(m, "dns-01", 0);
	char *t = render(m);
	CHECK_INT(value_of(t, "flintd_issuances_total"), 3);
	CHECK_INT(value_of(t, "flintd_revocations_total"), 1);
	CHECK_INT(value_of(t, "flintd_nonces_issued_total"), 2);
	CHECK_INT(value_of(t, "flintd_nonces_redeemed_total"), 0);
	CHECK_INT(value_of(t, "flintd_open_connections"), 3);
	CHECK_INT(value_of(t, "flintd_validation_queue_depth"), 7);
	CHECK_INT(value_of(t, "flintd_tls_handshakes"), 4);
	CHECK_INT(value_of(t, "flintd_connections_parked_total"), 1);
	CHECK_INT(value_of(t, "flintd_tls_handshakes_stalled_total"), 2);
	CHECK_INT(value_of(t, "flintd_tls_handshake_slots_yielded_total"), 0);
	CHECK_INT(value_of(t, "flintd_tls_handshakes_waiting"), 2);
	CHECK_INT(value_of(t, "flintd_validations_total{type=\"http-01\",outcome=\"valid\"}"), 2);
	CHECK_INT(value_of(t, "flintd_validations_total{type=\"http-01\",outcome=\"invalid\"}"), 1);
	CHECK_INT(value_of(t, "flintd_validations_total{type=\"dns-01\",outcome=\"invalid\"}"), 1);
	CHECK_INT(value_of(t, "flintd_validations_total{type=\"dns-01\",outcome=\"valid\"}"), -1);
	free(t);
	flint_metrics_free(m);
}

static void test_histogram(void)
{
	struct flint_metrics *m = flint_metrics_new();
	flint_metrics_request(m, "newOrder", 201, 400);	    /* le 0.0005 */
	flint_metrics_request(m, "newOrder", 201, 500);	    /* le 0.0005: bounds are inclusive */
	flint_metrics_request(m, "newOrder", 400, 2000);    /* le 0.0025 */
	flint_metrics_request(m, "newOrder", 201, 5000000); /* only +Inf */
	flint_metrics_request(m, "directory", 200, 10);
	char *t = render(m);
	CHECK_INT(value_of(t, "flintd_http_requests_total{resource=\"newOrder\",status=\"201\"}"),
		  3);
	CHECK_INT(value_of(t, "flintd_http_requests_total{resource=\"newOrder\",status=\"400\"}"),
		  1);
	CHECK_INT(value_of(t, "flintd_http_requests_total{resource=\"directory\",status=\"200\"}"),
		  1);
#define B(le) "flintd_http_request_duration_seconds_bucket{resource=\"newOrder\",le=\"" le "\"}"
	CHECK_INT(value_of(t, B("0.0005")), 2);
	CHECK_INT(value_of(t, B("0.001")), 2);
	CHECK_INT(value_of(t, B("0.0025")), 3);
	CHECK_INT(value_of(t, B("0.5")), 3);
	CHECK_INT(value_of(t, B("1")), 3);
	CHECK_INT(value_of(t, B("+Inf")), 4);
#undef B
	CHECK_INT(value_of(t, "flintd_http_request_duration_seconds_count{resource=\"newOrder\"}"),
		  4);
	CHECK(strstr(t,
		     "flintd_http_request_duration_seconds_sum{resource=\"newOrder\"} 5.002900\n"));
	CHECK(strstr(
	    t, "flintd_http_request_duration_seconds_sum{resource=\"directory\"} 0.000010\n"));
	/* every bucket line of a series, in order, never decreasing, +Inf last */
	long long prev = -1;
	size_t n = 0;
	const char *series = "flintd_http_request_duration_seconds_bucket{resource=\"directory\",";
	for (const char *p = t; (p = strstr(p, series)); p++, n++) {
		long long v = strtoll(strchr(p, ' ') + 1, NULL, 10);
		CHECK(v >= prev);
		prev = v;
		if (n == 11)
			CHECK(!strncmp(p + strlen(series), "le=\"+Inf\"}", 10));
	}
	CHECK_INT(n, 12);
	free(t);
	flint_metrics_free(m);
}

static void test_store_ops(void)
{
	struct flint_metrics *m = flint_metrics_new();
	flint_metrics_store(m, "nonce_use", 100);
	flint_metrics_store(m, "nonce_use", 30000);
	char *t = render(m);
	CHECK_INT(value_of(t, "flintd_store_operation_duration_seconds_bucket{op=\"nonce_use\","
			      "le=\"0.01\"}"),
		  1);
	CHECK_INT(value_of(t, "flintd_store_operation_duration_seconds_bucket{op=\"nonce_use\","
			      "le=\"0.05\"}"),
		  2);
	CHECK_INT(value_of(t, "flintd_store_operation_duration_seconds_count{op=\"nonce_use\"}"),
		  2);
	free(t);
	flint_metrics_free(m);
}

static void test_escaping(void)
{
	struct flint_metrics *m = flint_metrics_new();
	flint_metrics_request(m, "a\"b\\c\nd", 200, 1);
	char *t = render(m);
	CHECK(strstr(
	    t, "flintd_http_requests_total{resource=\"a\\\"b\\\\c\\nd\",status=\"200\"} 1\n"));
	/* the raw newline never reaches the output: every line is a sample or a comment */
	for (const char *p = t; *p; p = strchr(p, '\n') + 1)
		CHECK(*p == '#' || !strncmp(p, "flintd_", 7));
	free(t);
	flint_metrics_free(m);
}

/* More distinct names than slots: the excess shares "other", so the
 * exposition stays bounded whatever the callers pass. */
static void test_bounded_labels(void)
{
	static char names[40][8];
	struct flint_metrics *m = flint_metrics_new();
	for (int i = 0; i < 40; i++) {
		snprintf(names[i], sizeof(names[i]), "r%d", i);
		flint_metrics_request(m, names[i], 200, 1);
	}
	char *t = render(m);
	CHECK_INT(count_lines_with(t, "flintd_http_requests_total{"), FLINT_METRICS_NAMES);
	CHECK_INT(value_of(t, "flintd_http_requests_total{resource=\"r0\",status=\"200\"}"), 1);
	CHECK_INT(value_of(t, "flintd_http_requests_total{resource=\"other\",status=\"200\"}"),
		  40 - (FLINT_METRICS_NAMES - 1));
	CHECK_INT(value_of(t, "flintd_http_requests_total{resource=\"r39\",status=\"200\"}"), -1);
	free(t);
	flint_metrics_free(m);
}

#define THREADS 8
#define ROUNDS 20000

struct worker_arg {
	struct flint_metrics *m;
	char own[16];
};

static void *hammer(void *p)
{
	struct worker_arg *a = p;
	for (int i = 0; i < ROUNDS; i++) {
		flint_metrics_request(a->m, "shared", 200, (uint64_t)(i % 3) * 1000);
		flint_metrics_request(a->m, a->own, 404, 1);
		flint_metrics_inc(a->m, FLINT_METRIC_ISSUANCES);
		flint_metrics_validation(a->m, "http-01", i & 1);
		flint_metrics_gauge_add(a->m, FLINT_METRIC_CONNECTIONS, 1);
		flint_metrics_gauge_add(a->m, FLINT_METRIC_CONNECTIONS, -1);
	}
	return NULL;
}

static void test_concurrent(void)
{
	struct flint_metrics *m = flint_metrics_new();
	pthread_t th[THREADS];
	struct worker_arg args[THREADS];
	for (int i = 0; i < THREADS; i++) {
		args[i].m = m;
		snprintf(args[i].own, sizeof(args[i].own), "own%d", i);
		CHECK_INT(pthread_create(&th[i], NULL, hammer, &args[i]), 0);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	char *t = render(m);
	const long long total = (long long)THREADS * ROUNDS;
	CHECK_INT(value_of(t, "flintd_http_requests_total{resource=\"shared\",status=\"200\"}"),
		  total);
	CHECK_INT(value_of(t, "flintd_http_request_duration_seconds_count{resource=\"shared\"}"),
		  total);
	/* i % 3 ms: a third at 0, a third at 1 ms (le 0.001), a third at 2 ms */
	long long per_value = 0;
	for (int i = 0; i < ROUNDS; i++)
		per_value += i % 3 == 0;
	CHECK_INT(value_of(t, "flintd_http_request_duration_seconds_bucket{resource=\"shared\","
			      "le=\"0.0005\"}"),
		  per_value * THREADS);
	for (int i = 0; i < THREADS; i++) {
		char series[96];
		snprintf(series, sizeof(series),
			 "flintd_http_requests_total{resource=\"own%d\",status=\"404\"}", i);
		CHECK_INT(value_of(t, series), ROUNDS);
	}
	/* one slot per name even when threads race to claim it */
	CHECK_INT(count_lines_with(t, "_count{resource=\"shared\"}"), 1);
	CHECK_INT(value_of(t, "flintd_issuances_total"), total);
	CHECK_INT(value_of(t, "flintd_validations_total{type=\"http-01\",outcome=\"valid\"}"),
		  total / 2);
	CHECK_INT(value_of(t, "flintd_validations_total{type=\"http-01\",outcome=\"invalid\"}"),
		  total / 2);
	CHECK_INT(value_of(t, "flintd_open_connections"), 0);
	free(t);
	flint_metrics_free(m);
}

int main(void)
{
	RUN(test_empty);
	RUN(test_counters_gauges);
	RUN(test_histogram);
	RUN(test_store_ops);
	RUN(test_escaping);
	RUN(test_bounded_labels);
	RUN(test_concurrent);
	return CHECK_DONE();
}
