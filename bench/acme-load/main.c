/* acme-load: drives N concurrent simulated ACME clients (RFC 8555) against a directory
 * URL and reports issuances/s, per-resource latency, errors by type and its own CPU. */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "acme_load.h"
#include "b64.h"
#include "error.h"

const char *const load_res_name[RES__COUNT] = {
    [RES_NONCE] = "newNonce",	 [RES_ACCOUNT] = "newAccount",	 [RES_ORDER] = "newOrder",
    [RES_AUTHZ] = "authz",	 [RES_CHALLENGE] = "challenge",	 [RES_AUTHZ_POLL] = "authzPoll",
    [RES_FINALIZE] = "finalize", [RES_ORDER_POLL] = "orderPoll", [RES_CERT] = "certificate",
    [RES_ISSUANCE] = "issuance",
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

int64_t load_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t load_now_ms(void) { return load_now_us() / 1000; }

/* ------------------------------------------------------------------ stats */

void lat_add(struct lat_vec *l, uint32_t us)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 1024;
		uint32_t *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return; /* a lost sample, not a wrong one */
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = us;
}

void err_add(struct load_stats *s, const char *name, long n)
{
	size_t i;
	struct err_count *e;

	for (i = 0; i < s->n_errs; i++) {
		if (!strcmp(s->errs[i].name, name)) {
			s->errs[i].n += n;
			return;
		}
	}
	if (!(e = realloc(s->errs, (s->n_errs + 1) * sizeof(*e))))
		return;
	s->errs = e;
	if (!(e[s->n_errs].name = strdup(name)))
		return;
	e[s->n_errs++].n = n;
}

void stats_merge(struct load_stats *into, struct load_stats *from)
{
	size_t i;

	for (i = 0; i < RES__COUNT; i++) {
		size_t k;

		for (k = 0; k < from->lat[i].n; k++)
			lat_add(&into->lat[i], from->lat[i].v[k]);
	}
	for (i = 0; i < from->n_errs; i++)
		err_add(into, from->errs[i].name, from->errs[i].n);
	into->issued += from->issued;
	into->failed += from->failed;
	into->unfinished += from->unfinished;
	into->retried_badnonce += from->retried_badnonce;
	into->retried_transport += from->retried_transport;
	for (i = 0; i < LOAD_MAX_TARGETS; i++) {
		into->target_requests[i] += from->target_requests[i];
		into->target_transport_errors[i] += from->target_transport_errors[i];
	}
	into->requests += from->requests;
	into->connections += from->connections;
	into->keygen_ms += from->keygen_ms;
}

void stats_free(struct load_stats *s)
{
	size_t i;

	for (i = 0; i < RES__COUNT; i++)
		free(s->lat[i].v);
	for (i = 0; i < s->n_errs; i++)
		free(s->errs[i].name);
	free(s->errs);
	memset(s, 0, sizeof(*s));
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_err(const void *a, const void *b)
{
	return strcmp(((const struct err_count *)a)->name, ((const struct err_count *)b)->name);
}

/* The q-quantile (nearest rank) in milliseconds of a sorted vector. */
static double quantile_ms(const struct lat_vec *l, double q)
{
	size_t i;

	if (!l->n)
		return 0;
	i = (size_t)(q * (double)l->n + 0.999999);
	if (i < 1)
		i = 1;
	if (i > l->n)
		i = l->n;
	return l->v[i - 1] / 1000.0;
}

/* -------------------------------------------------------------- directory */

static size_t collect(char *data, size_t size, size_t nmemb, void *arg)
{
	struct lat_vec *buf = arg; /* reused as a byte buffer: v is the storage */
	size_t len = size * nmemb;
	char *p;

	if (buf->n + len > 256 * 1024)
		return 0;
	if (!(p = realloc(buf->v, buf->n + len + 1)))
		return 0;
	memcpy(p + buf->n, data, len);
	buf->n += len;
	p[buf->n] = '\0';
	buf->v = (uint32_t *)(void *)p;
	return len;
}

/* GET the directory: from the first target, then (transport errors) the next ones. */
static int fetch_directory(struct load_config *cfg)
{
	CURL *h = curl_easy_init();
	struct lat_vec buf = {0};
	json_t *j = NULL;
	long status = 0, attempt;
	CURLcode cc = CURLE_OK;
	int r = FLINT_EIO;

	if (!h)
		return FLINT_ENOMEM;
	curl_easy_setopt(h, CURLOPT_URL, cfg->dir_url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, cfg->timeout_ms);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &buf);
	if (cfg->ca_bundle)
		curl_easy_setopt(h, CURLOPT_CAINFO, cfg->ca_bundle);
	for (attempt = 0; attempt <= cfg->transport_retries; attempt++) {
		const char *via = "";

		buf.n = 0;
		if (cfg->n_targets) {
			via = cfg->target[attempt % cfg->n_targets];
			curl_easy_setopt(h, CURLOPT_CONNECT_TO,
					 cfg->connect_to[attempt % cfg->n_targets]);
		}
		if ((cc = curl_easy_perform(h)) == CURLE_OK)
			break;
		fprintf(stderr, "acme-load: %s%s%s: %s\n", cfg->dir_url, *via ? " via " : "", via,
			curl_easy_strerror(cc));
	}
	if (cc != CURLE_OK)
		goto out;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200 || !(j = json_loadb((char *)buf.v, buf.n, 0, NULL)) ||
	    !json_is_string(json_object_get(j, "newNonce")) ||
	    !json_is_string(json_object_get(j, "newAccount")) ||
	    !json_is_string(json_object_get(j, "newOrder"))) {
		fprintf(stderr, "acme-load: %s: not an ACME directory (HTTP %ld)\n", cfg->dir_url,
			status);
		goto out;
	}
	cfg->new_nonce = strdup(json_string_value(json_object_get(j, "newNonce")));
	cfg->new_account = strdup(json_string_value(json_object_get(j, "newAccount")));
	cfg->new_order = strdup(json_string_value(json_object_get(j, "newOrder")));
	r = (cfg->new_nonce && cfg->new_account && cfg->new_order) ? 0 : FLINT_ENOMEM;
out:
	json_decref(j);
	free(buf.v);
	curl_easy_cleanup(h);
	return r;
}

/* ----------------------------------------------------------------- report */

/* The report's last line: one JSON object with the counts a script checks. */
static void print_json_line(const struct load_stats *s, double wall_s, bool stalled, long attempts,
			    long errors)
{
	json_t *by_type = json_object(), *j;
	char *line = NULL;
	size_t i;

	for (i = 0; by_type && i < s->n_errs; i++)
		json_object_set_new(by_type, s->errs[i].name, json_integer(s->errs[i].n));
	j = json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:b,s:f,s:f,s:o*}", "report", "acme-load",
		      "attempts", (json_int_t)attempts, "issued", (json_int_t)s->issued, "failed",
		      (json_int_t)s->failed, "unfinished", (json_int_t)s->unfinished, "errors",
		      (json_int_t)errors, "retried_badnonce", (json_int_t)s->retried_badnonce,
		      "retried_transport", (json_int_t)s->retried_transport, "stalled",
		      (int)stalled, "wall_s", wall_s, "issuances_per_s",
		      wall_s > 0 ? (double)s->issued / wall_s : 0.0, "errors_by_type", by_type);
	if (j)
		line = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
	printf("%s\n", line ? line : "{\"report\":\"acme-load\",\"error\":\"out of memory\"}");
	free(line);
	json_decref(j);
}

static double tv_s(struct timeval tv) { return (double)tv.tv_sec + (double)tv.tv_usec / 1e6; }

static void report(const struct load_config *cfg, struct load_stats *s, double wall_s,
		   double user_s, double sys_s, bool stalled, long attempts)
{
	double rate = wall_s > 0 ? (double)s->issued / wall_s : 0;
	long errors = 0;
	size_t i;

	for (i = 0; i < RES__COUNT; i++)
		if (s->lat[i].n)
			qsort(s->lat[i].v, s->lat[i].n, sizeof(uint32_t), cmp_u32);
	if (s->n_errs)
		qsort(s->errs, s->n_errs, sizeof(*s->errs), cmp_err);
	for (i = 0; i < s->n_errs; i++)
		errors += s->errs[i].n;

	printf("directory %s\n", cfg->dir_url);
	printf("clients %d\n", cfg->clients);
	printf("threads %d\n", cfg->threads);
	printf("account_per_order %d\n", cfg->account_per_order ? 1 : 0);
	printf("attempts %ld\n", attempts);
	printf("issuances %ld\n", s->issued);
	printf("failed %ld\n", s->failed);
	printf("unfinished %ld\n", s->unfinished);
	printf("wall_s %.3f\n", wall_s);
	printf("issuances_per_s %.1f\n", rate);
	printf("requests %ld\n", s->requests);
	printf("requests_per_s %.1f\n", wall_s > 0 ? (double)s->requests / wall_s : 0);
	printf("connections %ld\n", s->connections);
	printf("cpu_user_s %.3f\n", user_s);
	printf("cpu_sys_s %.3f\n", sys_s);
	printf("cpu_ms_per_issuance %.3f\n",
	       s->issued ? (user_s + sys_s) * 1000.0 / (double)s->issued : 0);
	printf("keygen_csr_ms %.1f\n", s->keygen_ms);
	printf("http01_served %ld\n", responder_served());
	for (i = 0; i < RES__COUNT; i++) {
		printf("latency_ms.%s.count %zu\n", load_res_name[i], s->lat[i].n);
		printf("latency_ms.%s.p50 %.2f\n", load_res_name[i], quantile_ms(&s->lat[i], 0.50));
		printf("latency_ms.%s.p99 %.2f\n", load_res_name[i], quantile_ms(&s->lat[i], 0.99));
	}
	printf("retried.badNonce %ld\n", s->retried_badnonce);
	printf("retried_transport %ld\n", s->retried_transport);
	for (i = 0; i < (size_t)cfg->n_targets; i++) {
		printf("target.%s.requests %ld\n", cfg->target[i], s->target_requests[i]);
		printf("target.%s.transport_errors %ld\n", cfg->target[i],
		       s->target_transport_errors[i]);
	}
	printf("errors %ld\n", errors);
	for (i = 0; i < s->n_errs; i++)
		printf("errors.%s %ld\n", s->errs[i].name, s->errs[i].n);
	printf("stalled %d\n", stalled ? 1 : 0);

	printf("\n# %ld of %ld issuances in %.2f s: %.1f issuances/s, %d clients on %d threads%s\n",
	       s->issued, attempts, wall_s, rate, cfg->clients, cfg->threads,
	       cfg->account_per_order ? ", a new account per issuance"
				      : ", one account per client");
	printf("# client CPU %.2f s (%.3f ms per issuance; key generation and CSRs %.0f ms)\n",
	       user_s + sys_s, s->issued ? (user_s + sys_s) * 1000.0 / (double)s->issued : 0,
	       s->keygen_ms);
	printf("# %-12s %8s %9s %9s\n", "resource", "count", "p50 ms", "p99 ms");
	for (i = 0; i < RES__COUNT; i++)
		if (s->lat[i].n)
			printf("# %-12s %8zu %9.2f %9.2f\n", load_res_name[i], s->lat[i].n,
			       quantile_ms(&s->lat[i], 0.50), quantile_ms(&s->lat[i], 0.99));
	for (i = 0; i < (size_t)cfg->n_targets; i++)
		printf("# target %-22s %ld requests, %ld transport errors\n", cfg->target[i],
		       s->target_requests[i], s->target_transport_errors[i]);
	if (errors || s->retried_badnonce || s->retried_transport || s->unfinished || stalled) {
		printf("# errors: %ld (%ld failed issuances, %ld unfinished at the end%s), "
		       "badNonce retried %ld, transport errors retried %ld\n",
		       errors, s->failed, s->unfinished, stalled ? ", server stalled" : "",
		       s->retried_badnonce, s->retried_transport);
		for (i = 0; i < s->n_errs; i++)
			printf("#   %-40s %ld\n", s->errs[i].name, s->errs[i].n);
	} else {
		printf("# no errors\n");
	}
	print_json_line(s, wall_s, stalled, attempts, errors);
}

/* ------------------------------------------------------------------- main */

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: acme-load [OPTION...] DIRECTORY-URL\n"
	    "\n"
	    "Drives concurrent ACME clients (newAccount, newOrder, authz, http-01 from an\n"
	    "in-process responder, finalize, order polling, certificate) and reports.\n"
	    "\n"
	    "  -c, --clients N            concurrent simulated clients [16]\n"
	    "  -j, --threads N            worker threads (libcurl multi each) [2]\n"
	    "  -n, --count N              issuances to attempt in total (0: no limit) [100 when no "
	    "-t]\n"
	    "  -t, --seconds S            stop after S seconds (0: no limit)\n"
	    "      --domain-suffix SUF    names are rRUN-T-K.SUF; must resolve to this host for\n"
	    "                             the CA [load.example.com]\n"
	    "      --http01-port N        port of the http-01 responder [5002]\n"
	    "      --http01-addr ADDR     address it listens on [0.0.0.0]\n"
	    "      --http01-delay-ms N    the responder answers each http-01 request N ms late\n"
	    "                             (keeps validations in processing longer) [0]\n"
	    "      --ca-bundle FILE       CA certificates that verify the server's TLS\n"
	    "      --account-per-order    a new account (and key) for every issuance; default:\n"
	    "                             one account per client, made at start and reused\n"
	    "      --timeout-ms N         cap on each request [10000]\n"
	    "      --poll-ms N            authorization and order poll interval when the server\n"
	    "                             sends no Retry-After [50]\n"
	    "      --poll-timeout-ms N    cap on one polling sequence [30000]\n"
	    "      --max-retry-after-ms N Retry-After longer than this is cut to it; 0 ignores\n"
	    "                             Retry-After (polls at --poll-ms) [10000]\n"
	    "      --stall-s S            end the run when no request succeeds for S seconds [20]\n"
	    "      --connect-to HOST:PORT send the requests (directory, newNonce, every POST) to\n"
	    "                             HOST:PORT instead of the URL's host; repeat it (up to\n"
	    "                             16) for a cluster's nodes: each step goes to the next\n"
	    "                             one, round-robin (a HEAD newNonce with its POST). The\n"
	    "                             URL, Host and TLS name stay the directory URL's\n"
	    "                             (libcurl CONNECT_TO ::HOST:PORT)\n"
	    "      --transport-retries N  a request that fails at the transport level (refused,\n"
	    "                             reset, empty reply, TLS, timeout) is sent again to the\n"
	    "                             next target with another nonce, up to N times per step;\n"
	    "                             a resent finalize that finds the order already\n"
	    "                             finalized polls the order [3 with two or more\n"
	    "                             --connect-to, else 0]\n"
	    "      --transport-retry-ms N pause before such a resend (a lone server\n"
	    "                             restarting: with --transport-retries, rides out\n"
	    "                             N x retries ms of downtime) [0]\n"
	    "      --issued-out FILE      append one JSON line per certificate served: name,\n"
	    "                             order, certificate (URLs) and pem (the chain)\n"
	    "  -v, --verbose              print each failure to stderr\n"
	    "  -h, --help                 this text\n"
	    "\n"
	    "Prints 'key value' lines, then a '#' summary, then one JSON line (report, attempts,\n"
	    "issued, failed, unfinished, errors, retried_badnonce, retried_transport, stalled,\n"
	    "wall_s, issuances_per_s, errors_by_type). Exit: 0 every attempt issued and no\n"
	    "errors; 3 some failed, errors or a stall; 1 could not run or issued nothing; 2 "
	    "usage.\n");
}

static int parse_long(const char *s, long min, long *ret)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v < min)
		return -1;
	*ret = v;
	return 0;
}

/* --connect-to HOST:PORT: HOST a name, an IPv4 address or a bracketed IPv6 one. */
static int add_target(struct load_config *cfg, const char *arg)
{
	const char *colon = strrchr(arg, ':');
	char entry[300];
	long port;

	if (!colon || colon == arg || parse_long(colon + 1, 1, &port) < 0 || port > 65535 ||
	    strlen(arg) > 255 || (strchr(arg, ':') != colon && arg[0] != '['))
		return -1;
	snprintf(entry, sizeof(entry), "::%s", arg);
	if (!(cfg->connect_to[cfg->n_targets] = curl_slist_append(NULL, entry)))
		return -1;
	cfg->target[cfg->n_targets++] = arg;
	return 0;
}

static void free_targets(struct load_config *cfg)
{
	int i;

	for (i = 0; i < cfg->n_targets; i++)
		curl_slist_free_all(cfg->connect_to[i]);
	cfg->n_targets = 0;
}

int main(int argc, char **argv)
{
	enum {
		O_SUFFIX = 256,
		O_PORT,
		O_ADDR,
		O_CA,
		O_APO,
		O_TIMEOUT,
		O_POLL,
		O_POLLTO,
		O_MAXRA,
		O_STALL,
		O_CONNECT_TO,
		O_TRETRIES,
		O_TRETRYMS,
		O_ISSUED,
		O_H01DELAY
	};
	static const struct option opts[] = {
	    {"clients", required_argument, NULL, 'c'},
	    {"threads", required_argument, NULL, 'j'},
	    {"count", required_argument, NULL, 'n'},
	    {"seconds", required_argument, NULL, 't'},
	    {"domain-suffix", required_argument, NULL, O_SUFFIX},
	    {"http01-port", required_argument, NULL, O_PORT},
	    {"http01-addr", required_argument, NULL, O_ADDR},
	    {"ca-bundle", required_argument, NULL, O_CA},
	    {"account-per-order", no_argument, NULL, O_APO},
	    {"timeout-ms", required_argument, NULL, O_TIMEOUT},
	    {"poll-ms", required_argument, NULL, O_POLL},
	    {"poll-timeout-ms", required_argument, NULL, O_POLLTO},
	    {"max-retry-after-ms", required_argument, NULL, O_MAXRA},
	    {"stall-s", required_argument, NULL, O_STALL},
	    {"connect-to", required_argument, NULL, O_CONNECT_TO},
	    {"transport-retries", required_argument, NULL, O_TRETRIES},
	    {"transport-retry-ms", required_argument, NULL, O_TRETRYMS},
	    {"issued-out", required_argument, NULL, O_ISSUED},
	    {"http01-delay-ms", required_argument, NULL, O_H01DELAY},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct load_config cfg = {
	    .suffix = "load.example.com",
	    .http01_addr = "0.0.0.0",
	    .http01_port = 5002,
	    .clients = 16,
	    .threads = 2,
	    .count = -1,
	    .timeout_ms = 10000,
	    .poll_ms = 50,
	    .poll_timeout_ms = 30000,
	    .max_retry_after_ms = 10000,
	    .stall_ms = 20000,
	    .transport_retries = -1,
	};
	struct load_run run = {.cfg = &cfg};
	struct load_worker *workers = NULL;
	pthread_t *tids = NULL;
	bool *joined = NULL;
	struct load_stats total = {0};
	struct rusage ru0, ru1;
	struct sigaction sa = {0};
	int o, i, rc = 1, started = 0;
	long v;
	bool stalled = false;
	int64_t t_end;
	unsigned char rnd[3];
	char *rs = NULL;

	while ((o = getopt_long(argc, argv, "c:j:n:t:vh", opts, NULL)) != -1) {
		switch (o) {
		case 'c':
			if (parse_long(optarg, 1, &v) < 0 || v > 100000)
				goto bad;
			cfg.clients = (int)v;
			break;
		case 'j':
			if (parse_long(optarg, 1, &v) < 0 || v > 256)
				goto bad;
			cfg.threads = (int)v;
			break;
		case 'n':
			if (parse_long(optarg, 0, &cfg.count) < 0)
				goto bad;
			break;
		case 't': {
			char *end;

			cfg.seconds = strtod(optarg, &end);
			if (!*optarg || *end || cfg.seconds < 0)
				goto bad;
			break;
		}
		case O_SUFFIX:
			cfg.suffix = optarg;
			break;
		case O_PORT:
			if (parse_long(optarg, 1, &v) < 0 || v > 65535)
				goto bad;
			cfg.http01_port = (int)v;
			break;
		case O_ADDR:
			cfg.http01_addr = optarg;
			break;
		case O_CA:
			cfg.ca_bundle = optarg;
			break;
		case O_APO:
			cfg.account_per_order = true;
			break;
		case O_TIMEOUT:
			if (parse_long(optarg, 1, &cfg.timeout_ms) < 0)
				goto bad;
			break;
		case O_POLL:
			if (parse_long(optarg, 1, &cfg.poll_ms) < 0)
				goto bad;
			break;
		case O_POLLTO:
			if (parse_long(optarg, 1, &cfg.poll_timeout_ms) < 0)
				goto bad;
			break;
		case O_MAXRA:
			if (parse_long(optarg, 0, &cfg.max_retry_after_ms) < 0)
				goto bad;
			break;
		case O_STALL:
			if (parse_long(optarg, 1, &v) < 0)
				goto bad;
			cfg.stall_ms = v * 1000;
			break;
		case O_CONNECT_TO:
			if (cfg.n_targets == LOAD_MAX_TARGETS || add_target(&cfg, optarg) < 0)
				goto bad;
			break;
		case O_H01DELAY:
			if (parse_long(optarg, 0, &cfg.http01_delay_ms) < 0 ||
			    cfg.http01_delay_ms > 600000)
				goto bad;
			break;
		case O_TRETRIES:
			if (parse_long(optarg, 0, &cfg.transport_retries) < 0 ||
			    cfg.transport_retries > 1000)
				goto bad;
			break;
		case O_TRETRYMS:
			if (parse_long(optarg, 0, &cfg.transport_retry_ms) < 0 ||
			    cfg.transport_retry_ms > 60000)
				goto bad;
			break;
		case O_ISSUED:
			cfg.issued_out = optarg;
			break;
		case 'v':
			cfg.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			goto bad;
		}
	}
	if (optind != argc - 1)
		goto bad;
	cfg.dir_url = argv[optind];
	if (cfg.count < 0)
		cfg.count = cfg.seconds > 0 ? 0 : 100;
	if (cfg.threads > cfg.clients)
		cfg.threads = cfg.clients;
	if (cfg.transport_retries < 0)
		cfg.transport_retries = cfg.n_targets >= 2 ? 3 : 0;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "acme-load: curl_global_init failed\n");
		return 1;
	}
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	pthread_mutex_init(&run.issued_lock, NULL);
	if (cfg.issued_out && !(run.issued_out = fopen(cfg.issued_out, "a"))) {
		fprintf(stderr, "acme-load: %s: %s\n", cfg.issued_out, strerror(errno));
		goto out;
	}
	if (fetch_directory(&cfg) < 0)
		goto out;
	if (responder_start(cfg.http01_addr, cfg.http01_port, cfg.http01_delay_ms) < 0)
		goto out;
	if (flint_random_b64url(sizeof(rnd), &rs) < 0) /* only to vary names between runs */
		goto out;
	for (i = 0; rs[i] && i < (int)sizeof(run.run_id) - 1; i++)
		run.run_id[i] = (rs[i] >= 'A' && rs[i] <= 'Z')	 ? (char)(rs[i] + 32)
				: (rs[i] == '_' || rs[i] == '-') ? 'x'
								 : rs[i];

	workers = calloc((size_t)cfg.threads, sizeof(*workers));
	tids = calloc((size_t)cfg.threads, sizeof(*tids));
	joined = calloc((size_t)cfg.threads, sizeof(*joined));
	if (!workers || !tids || !joined)
		goto out;
	getrusage(RUSAGE_SELF, &ru0);
	run.t0_ms = load_now_ms();
	run.deadline_ms = cfg.seconds > 0 ? run.t0_ms + (int64_t)(cfg.seconds * 1000) : 0;
	atomic_store(&run.last_progress_ms, run.t0_ms);
	for (i = 0; i < cfg.threads; i++) {
		workers[i].run = &run;
		workers[i].index = i;
		workers[i].n_clients = cfg.clients / cfg.threads + (i < cfg.clients % cfg.threads);
		if (pthread_create(&tids[i], NULL, load_worker_main, &workers[i]) != 0) {
			atomic_store(&run.stop, true);
			break;
		}
		started++;
	}
	/* The watchdog: signals and stalls end the run; each worker ends itself at the
	 * deadline or when the count is reached. */
	for (;;) {
		int64_t now = load_now_ms();
		bool all = true;

		for (i = 0; i < started; i++) {
			if (!joined[i] && pthread_tryjoin_np(tids[i], NULL) == 0)
				joined[i] = true;
			if (!joined[i])
				all = false;
		}
		if (all)
			break;
		if (interrupted)
			atomic_store(&run.stop, true);
		if (now - atomic_load(&run.last_progress_ms) > cfg.stall_ms &&
		    !atomic_load(&run.stop)) {
			fprintf(stderr, "acme-load: no successful reply for %ld s: stopping\n",
				cfg.stall_ms / 1000);
			stalled = true;
			atomic_store(&run.stop, true);
		}
		usleep(20000);
	}
	t_end = load_now_ms();
	getrusage(RUSAGE_SELF, &ru1);
	for (i = 0; i < started; i++) {
		if (workers[i].fatal)
			fprintf(stderr, "acme-load: worker %d could not start: %s\n", i,
				flint_strerror(workers[i].fatal));
		stats_merge(&total, &workers[i].stats);
		stats_free(&workers[i].stats);
	}
	if (stalled)
		err_add(&total, "stalled", 1);
	report(&cfg, &total, (double)(t_end - run.t0_ms) / 1000.0,
	       tv_s(ru1.ru_utime) - tv_s(ru0.ru_utime), tv_s(ru1.ru_stime) - tv_s(ru0.ru_stime),
	       stalled, total.issued + total.failed + total.unfinished);
	/* in-flight issuances cut by -t are "unfinished", not errors */
	if (started < cfg.threads || !total.issued)
		rc = 1;
	else if (total.failed || total.n_errs || stalled || interrupted)
		rc = 3;
	else
		rc = 0;
out:
	responder_stop();
	if (run.issued_out && fclose(run.issued_out) != 0) {
		fprintf(stderr, "acme-load: %s: %s\n", cfg.issued_out, strerror(errno));
		rc = 1;
	}
	pthread_mutex_destroy(&run.issued_lock);
	stats_free(&total);
	free(workers);
	free(tids);
	free(joined);
	free(rs);
	free(cfg.new_nonce);
	free(cfg.new_account);
	free(cfg.new_order);
	free_targets(&cfg);
	curl_global_cleanup();
	return rc;
bad:
	usage(stderr);
	free_targets(&cfg);
	return 2;
}
