/* acme-load: the project's ACME load generator (RFC 8555 §7.3-7.4.2, http-01 §8.3).
 * Shared configuration, statistics and the pieces main.c, worker.c and responder.c export. */
#ifndef ACME_LOAD_H
#define ACME_LOAD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jwk.h"

/* The resources whose latency is reported, in report order. */
enum load_res {
	RES_NONCE,
	RES_ACCOUNT,
	RES_ORDER,
	RES_AUTHZ,
	RES_CHALLENGE,
	RES_AUTHZ_POLL,
	RES_FINALIZE,
	RES_ORDER_POLL,
	RES_CERT,
	RES_ISSUANCE, /* one whole issuance, not a request */
	RES__COUNT
};

extern const char *const load_res_name[RES__COUNT];

#define LOAD_MAX_TARGETS 16

struct curl_slist;

struct load_config {
	const char *dir_url;
	const char *ca_bundle; /* NULL: the system's trust store */
	const char *suffix;    /* names are <run>-<n>.<suffix> */
	const char *http01_addr;
	int http01_port;
	long http01_delay_ms; /* the responder holds each reply back this long */
	int clients;
	int threads;
	long count;		 /* 0: no count limit */
	double seconds;		 /* 0: no time limit */
	long timeout_ms;	 /* every request */
	long poll_ms;		 /* authorization and order polling */
	long poll_timeout_ms;	 /* one polling sequence */
	long max_retry_after_ms; /* Retry-After above this is cut to it */
	long stall_ms;		 /* no successful reply for this long ends the run */
	bool account_per_order;
	bool verbose;
	/* --connect-to: requests go round-robin to these HOST:PORTs, the URLs unchanged */
	const char *target[LOAD_MAX_TARGETS];
	struct curl_slist *connect_to[LOAD_MAX_TARGETS]; /* "::HOST:PORT", for CURLOPT_CONNECT_TO */
	int n_targets;
	long transport_retries; /* a step failed at the transport level is sent again, this often */
	long transport_retry_ms; /* ... after this pause (a single server restarting) */
	const char *issued_out;	 /* --issued-out: a JSON line per certificate served */
	/* from the directory */
	char *new_nonce, *new_account, *new_order;
};

/* A growable array of latencies (microseconds). */
struct lat_vec {
	uint32_t *v;
	size_t n, cap;
};

/* A problem type (or "transport.*", "http.NNN", ...) and how often it was seen. */
struct err_count {
	char *name;
	long n;
};

struct load_stats {
	struct lat_vec lat[RES__COUNT];
	struct err_count *errs;
	size_t n_errs;
	long issued, failed, unfinished, retried_badnonce, retried_transport, requests;
	long target_requests[LOAD_MAX_TARGETS], target_transport_errors[LOAD_MAX_TARGETS];
	long connections; /* new connections (TCP+TLS) made */
	double keygen_ms; /* wall time spent making certificate keys and CSRs */
};

/* Shared run state. */
struct load_run {
	const struct load_config *cfg;
	atomic_long claimed; /* issuances started (<= cfg->count when set) */
	atomic_long issued;
	atomic_bool stop; /* the time limit, a stall or a signal: abort everything */
	atomic_llong last_progress_ms;
	char run_id[16];
	int64_t t0_ms, deadline_ms; /* deadline 0: none */
	FILE *issued_out;	    /* NULL: not asked for */
	pthread_mutex_t issued_lock;
};

int64_t load_now_ms(void);
int64_t load_now_us(void);

void lat_add(struct lat_vec *l, uint32_t us);
void err_add(struct load_stats *s, const char *name, long n);
void stats_merge(struct load_stats *into, struct load_stats *from);
void stats_free(struct load_stats *s);

/* One worker thread: runs its share of clients until the run ends. */
struct load_worker {
	struct load_run *run;
	int index, n_clients;
	struct load_stats stats;
	int fatal; /* set when the worker could not start */
};
void *load_worker_main(void *arg);

/* The http-01 responder: a token table and an HTTP/1.1 server thread. */
int responder_start(const char *addr, int port, long reply_delay_ms);
void responder_stop(void);
int responder_put(const char *token, const char *keyauth);
void responder_del(const char *token);
long responder_served(void);

#endif
