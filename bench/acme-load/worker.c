/* acme-load's worker: one libcurl multi handle driving many simulated ACME clients
 * (RFC 8555 §7.3 newAccount, §7.4 order, authz, http-01, finalize, certificate). */
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "acme_load.h"
#include "b64.h"
#include "csr_build.h"
#include "error.h"
#include "jws.h"
#include "keyauth.h"

#define MAX_BODY (1024 * 1024)
#define NONCE_POOL 256
#define FAIL_BACKOFF_MS 100
#define PROBLEM_PREFIX "urn:ietf:params:acme:error:"

enum step {
	S_ACCOUNT,
	S_ORDER,
	S_AUTHZ,
	S_CHALLENGE,
	S_AUTHZ_POLL,
	S_FINALIZE,
	S_ORDER_POLL,
	S_CERT,
};

static const enum load_res step_res[] = {
    [S_ACCOUNT] = RES_ACCOUNT,	     [S_ORDER] = RES_ORDER,
    [S_AUTHZ] = RES_AUTHZ,	     [S_CHALLENGE] = RES_CHALLENGE,
    [S_AUTHZ_POLL] = RES_AUTHZ_POLL, [S_FINALIZE] = RES_FINALIZE,
    [S_ORDER_POLL] = RES_ORDER_POLL, [S_CERT] = RES_CERT,
};

struct ctx;

struct client {
	struct ctx *ctx;
	CURL *h;
	struct flint_jwk *key;
	char *kid;
	enum step step;
	bool busy, waiting, done, in_nonce, in_issuance, setup, badnonce_retried;
	/* --connect-to: the target of the next request and of the one in flight; the
	 * transport retries of the current step, and whether the step was resent after
	 * a transport error (its first attempt may have taken effect on the server) */
	int target, req_target;
	long transport_tries;
	bool transport_retried;
	int64_t wake_ms, poll_deadline_ms, issuance_t0_us, req_t0_us;
	/* the issuance in progress */
	char *name, *order_url, *authz_url, *finalize_url, *chal_url, *token, *cert_url, *csr_b64;
	/* the request in flight and its reply */
	char *req_body;
	char *resp;
	size_t resp_len, resp_cap;
	bool resp_too_big;
	char *hdr_nonce, *hdr_location;
	long hdr_retry_after; /* seconds, -1 when absent */
};

struct ctx {
	struct load_worker *w;
	const struct load_config *cfg;
	struct load_run *run;
	CURLM *m;
	struct curl_slist *hdr_jose, *hdr_pem, *hdr_plain;
	char *pool[NONCE_POOL];
	size_t n_pool;
	struct client *clients;
	long seq;
};

static void client_next(struct client *c);

/* ------------------------------------------------------------------ nonces */

static void pool_push(struct ctx *x, char *nonce)
{
	if (!nonce)
		return;
	if (x->n_pool == NONCE_POOL) {
		free(x->pool[0]);
		memmove(x->pool, x->pool + 1, (NONCE_POOL - 1) * sizeof(x->pool[0]));
		x->n_pool--;
	}
	x->pool[x->n_pool++] = nonce;
}

static char *pool_take(struct ctx *x) { return x->n_pool ? x->pool[--x->n_pool] : NULL; }

/* ------------------------------------------------------------ curl callbacks */

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct client *c = arg;
	size_t len = size * nmemb;

	if (c->resp_len + len > MAX_BODY) {
		c->resp_too_big = true;
		return 0;
	}
	if (c->resp_len + len + 1 > c->resp_cap) {
		size_t cap = c->resp_cap ? c->resp_cap : 4096;
		char *p;

		while (cap < c->resp_len + len + 1)
			cap *= 2;
		if (!(p = realloc(c->resp, cap)))
			return 0;
		c->resp = p;
		c->resp_cap = cap;
	}
	memcpy(c->resp + c->resp_len, data, len);
	c->resp_len += len;
	c->resp[c->resp_len] = '\0';
	return len;
}

/* The value of header `name` in line, trimmed and copied; NULL when it is another header. */
static char *header_value(const char *line, size_t len, const char *name)
{
	size_t n = strlen(name), e;

	if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
		return NULL;
	line += n + 1;
	len -= n + 1;
	while (len && (*line == ' ' || *line == '\t'))
		line++, len--;
	for (e = len; e && (line[e - 1] == '\r' || line[e - 1] == '\n' || line[e - 1] == ' ');)
		e--;
	return strndup(line, e);
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct client *c = arg;
	size_t len = size * nmemb;
	char *v;

	if (len >= 5 && !strncmp(data, "HTTP/", 5)) { /* a new response (after a 1xx) */
		free(c->hdr_nonce);
		free(c->hdr_location);
		c->hdr_nonce = c->hdr_location = NULL;
		c->hdr_retry_after = -1;
	} else if ((v = header_value(data, len, "Replay-Nonce"))) {
		free(c->hdr_nonce);
		c->hdr_nonce = v;
	} else if ((v = header_value(data, len, "Location"))) {
		free(c->hdr_location);
		c->hdr_location = v;
	} else if ((v = header_value(data, len, "Retry-After"))) {
		char *end;
		long s = strtol(v, &end, 10);

		c->hdr_retry_after = (*v && !*end && s >= 0) ? s : -1;
		free(v);
	}
	return len;
}

/* ---------------------------------------------------------------- requests */

static void reset_reply(struct client *c)
{
	c->resp_len = 0;
	if (c->resp)
		c->resp[0] = '\0';
	c->resp_too_big = false;
	free(c->hdr_nonce);
	free(c->hdr_location);
	c->hdr_nonce = c->hdr_location = NULL;
	c->hdr_retry_after = -1;
}

/* Sends a request: body NULL is a HEAD (newNonce), else a POST of a JWS. */
static int send_request(struct client *c, const char *url, char *body, struct curl_slist *hdrs)
{
	const struct load_config *cfg = c->ctx->cfg;
	CURL *h = c->h;

	curl_easy_reset(h);
	reset_reply(c);
	free(c->req_body);
	c->req_body = body;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PRIVATE, c);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, cfg->timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, cfg->timeout_ms);
	curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "flint-acme-load/1");
	if (cfg->ca_bundle)
		curl_easy_setopt(h, CURLOPT_CAINFO, cfg->ca_bundle);
	if (cfg->n_targets) {
		/* the URL, Host and SNI stay the base URL's; curl keeps the connections
		 * of each target apart (its cache matches the connect-to host and port).
		 * A HEAD newNonce goes where the POST it is for will go: a step and its
		 * retry each land on one target, whatever the number of targets. */
		c->req_target = c->target;
		if (body)
			c->target = (c->target + 1) % cfg->n_targets;
		curl_easy_setopt(h, CURLOPT_CONNECT_TO, cfg->connect_to[c->req_target]);
		c->ctx->w->stats.target_requests[c->req_target]++;
	}
	if (body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	} else {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->ctx->hdr_plain);
	}
	c->req_t0_us = load_now_us();
	if (curl_multi_add_handle(c->ctx->m, h) != CURLM_OK)
		return FLINT_EIO;
	c->busy = true;
	c->ctx->w->stats.requests++;
	return 0;
}

/* The URL, payload and Accept of the current step. */
static const char *step_url(struct client *c)
{
	const struct load_config *cfg = c->ctx->cfg;

	switch (c->step) {
	case S_ACCOUNT:
		return cfg->new_account;
	case S_ORDER:
		return cfg->new_order;
	case S_AUTHZ:
	case S_AUTHZ_POLL:
		return c->authz_url;
	case S_CHALLENGE:
		return c->chal_url;
	case S_FINALIZE:
		return c->finalize_url;
	case S_ORDER_POLL:
		return c->order_url;
	case S_CERT:
		return c->cert_url;
	}
	return NULL;
}

static int make_csr(struct client *c)
{
	EVP_PKEY *k = NULL;
	unsigned char *der = NULL;
	size_t der_len = 0;
	const char *names[1] = {c->name};
	int64_t t0 = load_now_us();
	int r;

	if ((r = flint_key_generate(FLINT_KEY_P256, 0, &k)) < 0 ||
	    (r = flint_csr_build(k, names, 1, &der, &der_len)) < 0 ||
	    (r = flint_b64url_encode(der, der_len, &c->csr_b64)) < 0)
		goto out;
out:
	c->ctx->w->stats.keygen_ms += (double)(load_now_us() - t0) / 1000.0;
	EVP_PKEY_free(k);
	free(der);
	return r;
}

static char *step_payload(struct client *c)
{
	json_t *j = NULL;
	char *s = NULL;

	switch (c->step) {
	case S_ACCOUNT:
		return strdup("{\"termsOfServiceAgreed\":true}");
	case S_ORDER:
		j = json_pack("{s:[{s:s,s:s}]}", "identifiers", "type", "dns", "value", c->name);
		break;
	case S_CHALLENGE:
		return strdup("{}");
	case S_FINALIZE:
		if (!c->csr_b64 && make_csr(c) < 0)
			return NULL;
		j = json_pack("{s:s}", "csr", c->csr_b64);
		break;
	default:
		return strdup(""); /* POST-as-GET */
	}
	if (j)
		s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return s;
}

/* ------------------------------------------------------------- the cycle */

static void clear_issuance(struct client *c)
{
	if (c->token)
		responder_del(c->token);
	free(c->name);
	free(c->order_url);
	free(c->authz_url);
	free(c->finalize_url);
	free(c->chal_url);
	free(c->token);
	free(c->cert_url);
	free(c->csr_b64);
	c->name = c->order_url = c->authz_url = c->finalize_url = c->chal_url = NULL;
	c->token = c->cert_url = c->csr_b64 = NULL;
	c->in_issuance = false;
}

static void wait_ms(struct client *c, long ms)
{
	c->waiting = true;
	c->wake_ms = load_now_ms() + ms;
}

/* Starts the next issuance, or retires the client when the run is complete. */
static void start_issuance(struct client *c)
{
	struct ctx *x = c->ctx;
	const struct load_config *cfg = x->cfg;
	char name[320];

	clear_issuance(c);
	if (atomic_load(&x->run->stop) ||
	    (x->run->deadline_ms && load_now_ms() >= x->run->deadline_ms) ||
	    (cfg->count && atomic_fetch_add(&x->run->claimed, 1) >= cfg->count)) {
		c->done = true;
		return;
	}
	if (!cfg->count)
		atomic_fetch_add(&x->run->claimed, 1);
	snprintf(name, sizeof(name), "r%s-%d-%ld.%s", x->run->run_id, x->w->index, x->seq++,
		 cfg->suffix);
	c->name = strdup(name);
	c->in_issuance = true;
	c->issuance_t0_us = load_now_us();
	if (cfg->account_per_order) {
		int64_t t0 = load_now_us();

		flint_jwk_free(c->key);
		free(c->kid);
		c->key = NULL;
		c->kid = NULL;
		if (flint_jwk_generate(FLINT_KEY_P256, 0, &c->key) < 0) {
			fprintf(stderr, "acme-load: cannot generate an account key\n");
			c->done = true;
			return;
		}
		x->w->stats.keygen_ms += (double)(load_now_us() - t0) / 1000.0;
		c->step = S_ACCOUNT;
	} else {
		c->step = S_ORDER;
	}
}

/* The current issuance failed (err counted by the caller). */
static void fail(struct client *c)
{
	c->transport_tries = 0;
	c->transport_retried = false;
	if (c->setup) { /* the client's own account could not be made: it retires */
		c->done = true;
		return;
	}
	if (c->in_issuance)
		c->ctx->w->stats.failed++;
	clear_issuance(c);
	start_issuance(c);
	if (!c->done)
		wait_ms(c, FAIL_BACKOFF_MS);
}

static void fail_with(struct client *c, const char *what)
{
	if (c->ctx->cfg->verbose)
		fprintf(stderr, "acme-load: %s: %s\n", c->name ? c->name : "account", what);
	err_add(&c->ctx->w->stats, what, 1);
	fail(c);
}

/* Issues the request of the current step (a HEAD newNonce first when none is pooled). */
static void client_next(struct client *c)
{
	struct ctx *x = c->ctx;
	char *nonce, *payload, *body = NULL;
	const char *url = step_url(c);
	int r;

	if (c->done)
		return;
	if (!(nonce = pool_take(x))) {
		c->in_nonce = true;
		if (send_request(c, x->cfg->new_nonce, NULL, NULL) < 0)
			fail_with(c, "internal.curl");
		return;
	}
	c->in_nonce = false;
	if (!(payload = step_payload(c))) {
		free(nonce);
		fail_with(c, "internal.payload");
		return;
	}
	r = flint_jws_sign(c->key, c->step == S_ACCOUNT ? NULL : c->kid, nonce, url,
			   payload[0] ? payload : NULL, &body);
	free(nonce);
	free(payload);
	if (r < 0) {
		fail_with(c, "internal.sign");
		return;
	}
	if (send_request(c, url, body, c->step == S_CERT ? x->hdr_pem : x->hdr_jose) < 0)
		fail_with(c, "internal.curl");
}

static const char *jstr(json_t *j, const char *key)
{
	return json_string_value(json_object_get(j, key));
}

/* The delay before the next poll: Retry-After when given (cut to max_retry_after_ms;
 * that 0 ignores it), never below the fixed interval. */
static long poll_delay(struct client *c)
{
	const struct load_config *cfg = c->ctx->cfg;
	long ms = cfg->poll_ms;

	if (c->hdr_retry_after >= 0 && cfg->max_retry_after_ms > 0) {
		long ra = c->hdr_retry_after > 86400 ? 86400000 : c->hdr_retry_after * 1000;

		ms = ra < cfg->max_retry_after_ms ? ra : cfg->max_retry_after_ms;
		if (ms < cfg->poll_ms)
			ms = cfg->poll_ms;
	}
	return ms;
}

static void poll_again(struct client *c, const char *what)
{
	if (load_now_ms() >= c->poll_deadline_ms) {
		fail_with(c, what);
		return;
	}
	wait_ms(c, poll_delay(c));
}

static void set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = v ? strdup(v) : NULL;
}

/* --issued-out: the certificate just served, as one JSON line. */
static void record_issued(struct client *c)
{
	struct load_run *run = c->ctx->run;
	json_t *j;
	char *line;

	if (!run->issued_out)
		return;
	j = json_pack("{s:s?,s:s?,s:s?,s:s%}", "name", c->name, "order", c->order_url,
		      "certificate", c->cert_url, "pem", c->resp, c->resp_len);
	line = j ? json_dumps(j, JSON_COMPACT) : NULL;
	if (line) {
		pthread_mutex_lock(&run->issued_lock);
		fprintf(run->issued_out, "%s\n", line);
		fflush(run->issued_out);
		pthread_mutex_unlock(&run->issued_lock);
	}
	free(line);
	json_decref(j);
}

/* A 2xx reply to the current step. */
static void on_success(struct client *c, json_t *j)
{
	struct ctx *x = c->ctx;
	const char *st = jstr(j, "status");

	switch (c->step) {
	case S_ACCOUNT:
		if (!c->hdr_location) {
			fail_with(c, "reply.account-no-location");
			return;
		}
		set_str(&c->kid, c->hdr_location);
		if (c->setup) {
			c->setup = false;
			start_issuance(c);
		} else {
			c->step = S_ORDER;
		}
		break;
	case S_ORDER: {
		json_t *az = json_object_get(j, "authorizations");

		if (!c->hdr_location || !json_is_array(az) || json_array_size(az) != 1 ||
		    !json_is_string(json_array_get(az, 0)) || !jstr(j, "finalize")) {
			fail_with(c, "reply.order-malformed");
			return;
		}
		set_str(&c->order_url, c->hdr_location);
		set_str(&c->authz_url, json_string_value(json_array_get(az, 0)));
		set_str(&c->finalize_url, jstr(j, "finalize"));
		c->step = S_AUTHZ;
		break;
	}
	case S_AUTHZ: {
		json_t *chs = json_object_get(j, "challenges"), *ch;
		size_t i;
		char *ka = NULL;
		bool found = false;

		if (st && !strcmp(st, "valid")) {
			c->step = S_FINALIZE;
			break;
		}
		json_array_foreach(chs, i, ch)
		{
			const char *type = jstr(ch, "type");

			if (type && !strcmp(type, "http-01")) {
				found = true;
				break;
			}
		}
		if (!found || !jstr(ch, "token") || !jstr(ch, "url")) {
			fail_with(c, "reply.authz-no-http01");
			return;
		}
		set_str(&c->token, jstr(ch, "token"));
		set_str(&c->chal_url, jstr(ch, "url"));
		if (flint_keyauth(c->token, c->key, &ka) < 0 || responder_put(c->token, ka) < 0) {
			free(ka);
			{
				fail_with(c, "internal.keyauth");
				return;
			}
		}
		free(ka);
		c->step = S_CHALLENGE;
		break;
	}
	case S_CHALLENGE:
		c->step = S_AUTHZ_POLL;
		c->poll_deadline_ms = load_now_ms() + x->cfg->poll_timeout_ms;
		wait_ms(c, poll_delay(c));
		break;
	case S_AUTHZ_POLL:
		if (st && !strcmp(st, "valid")) {
			responder_del(c->token);
			free(c->token);
			c->token = NULL;
			c->step = S_FINALIZE;
		} else if (st && (!strcmp(st, "pending") || !strcmp(st, "processing"))) {
			poll_again(c, "poll-timeout.authz");
		} else {
			json_t *ch, *e;
			size_t i;
			const char *t = NULL;
			char what[160];

			json_array_foreach(json_object_get(j, "challenges"), i, ch)
			{
				if ((e = json_object_get(ch, "error")) && (t = jstr(e, "type")))
					break;
			}
			if (t && !strncmp(t, PROBLEM_PREFIX, strlen(PROBLEM_PREFIX)))
				t += strlen(PROBLEM_PREFIX);
			snprintf(what, sizeof(what), "authz-%s.%s", st ? st : "nostatus",
				 t ? t : "-");
			{
				fail_with(c, what);
				return;
			}
		}
		break;
	case S_FINALIZE:
	case S_ORDER_POLL:
		if (st && !strcmp(st, "valid") && jstr(j, "certificate")) {
			set_str(&c->cert_url, jstr(j, "certificate"));
			c->step = S_CERT;
		} else if (st && (!strcmp(st, "processing") || !strcmp(st, "ready") ||
				  !strcmp(st, "pending") || !strcmp(st, "valid"))) {
			if (c->step == S_FINALIZE) {
				c->step = S_ORDER_POLL;
				c->poll_deadline_ms = load_now_ms() + x->cfg->poll_timeout_ms;
				wait_ms(c, poll_delay(c));
			} else {
				poll_again(c, "poll-timeout.order");
			}
		} else {
			char what[64];

			snprintf(what, sizeof(what), "order-%s", st ? st : "nostatus");
			{
				fail_with(c, what);
				return;
			}
		}
		break;
	case S_CERT:
		if (!c->resp || !strstr(c->resp, "-----BEGIN CERTIFICATE-----")) {
			fail_with(c, "reply.cert-not-pem");
			return;
		}
		x->w->stats.issued++;
		atomic_fetch_add(&x->run->issued, 1);
		record_issued(c);
		lat_add(&x->w->stats.lat[RES_ISSUANCE],
			(uint32_t)(load_now_us() - c->issuance_t0_us));
		c->in_issuance = false;
		start_issuance(c);
		break;
	}
}

/* The error count name of a failed transfer. */
static const char *transport_error(const struct client *c, CURLcode cc)
{
	switch (cc) {
	case CURLE_OPERATION_TIMEDOUT:
		return "transport.timeout";
	case CURLE_COULDNT_CONNECT:
		return "transport.connect";
	case CURLE_WRITE_ERROR:
		return c->resp_too_big ? "transport.body-too-big" : "transport.other";
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
		return "transport.tls";
	case CURLE_GOT_NOTHING:
		return "transport.empty-reply";
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
		return "transport.reset";
	default:
		return "transport.other";
	}
}

/* A finished transfer. */
static void on_done(struct client *c, CURLcode cc)
{
	struct ctx *x = c->ctx;
	struct load_stats *s = &x->w->stats;
	long status = 0;
	json_t *j = NULL;
	int64_t us = load_now_us() - c->req_t0_us;

	c->busy = false;
	if (curl_easy_getinfo(c->h, CURLINFO_NUM_CONNECTS, &status) == CURLE_OK)
		s->connections += status;
	status = 0;
	lat_add(&s->lat[c->in_nonce ? RES_NONCE : step_res[c->step]], (uint32_t)us);
	pool_push(x, c->hdr_nonce);
	c->hdr_nonce = NULL;
	if (cc != CURLE_OK) {
		const char *what = transport_error(c, cc);

		if (x->cfg->n_targets)
			s->target_transport_errors[c->req_target]++;
		if (c->transport_tries < x->cfg->transport_retries && !atomic_load(&x->run->stop)) {
			/* the same step on the next target, with another nonce: the lost
			 * request may have used its nonce up */
			c->transport_tries++;
			c->transport_retried = true;
			s->retried_transport++;
			if (x->cfg->n_targets)
				c->target = (c->req_target + 1) % x->cfg->n_targets;
			if (x->cfg->verbose)
				fprintf(stderr, "acme-load: %s: %s via %s; resent to %s\n",
					c->name ? c->name : "account", what,
					x->cfg->n_targets ? x->cfg->target[c->req_target]
							  : "the URL",
					x->cfg->n_targets ? x->cfg->target[c->target] : "the URL");
			if (x->cfg->transport_retry_ms > 0)
				wait_ms(c, x->cfg->transport_retry_ms);
			else
				client_next(c);
			return;
		}
		fail_with(c, what);
		return;
	}
	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &status);
	if (c->in_nonce) {
		if (status < 200 || status >= 300) {
			fail_with(c, "http.newNonce");
			return;
		}
		atomic_store(&x->run->last_progress_ms, load_now_ms());
		c->in_nonce = false;
		{
			client_next(c);
			return;
		}
	}
	c->transport_tries = 0; /* the step got a reply: a later transport error counts anew */
	if (c->resp_len && c->step != S_CERT)
		j = json_loadb(c->resp, c->resp_len, 0, NULL);
	if (status >= 200 && status < 300) {
		atomic_store(&x->run->last_progress_ms, load_now_ms());
		c->badnonce_retried = false;
		c->transport_retried = false;
		if (c->step != S_CERT && !json_is_object(j)) {
			json_decref(j);
			{
				fail_with(c, "reply.not-json");
				return;
			}
		}
		on_success(c, j);
		json_decref(j);
	} else {
		const char *t = jstr(j, "type");
		char what[160];

		if (t && !strncmp(t, PROBLEM_PREFIX, strlen(PROBLEM_PREFIX)))
			t += strlen(PROBLEM_PREFIX);
		if (t && !strcmp(t, "badNonce") && !c->badnonce_retried) {
			/* once, with the fresh nonce of this reply (now in the pool) */
			c->badnonce_retried = true;
			s->retried_badnonce++;
			json_decref(j);
			{
				client_next(c);
				return;
			}
		}
		c->badnonce_retried = false;
		if (t && !strcmp(t, "orderNotReady") && c->step == S_FINALIZE &&
		    c->transport_retried) {
			/* the lost finalize reached the server, which moved the order on
			 * (processing or valid): follow the order instead */
			c->transport_retried = false;
			c->step = S_ORDER_POLL;
			c->poll_deadline_ms = load_now_ms() + x->cfg->poll_timeout_ms;
			if (x->cfg->verbose)
				fprintf(stderr,
					"acme-load: %s: finalize resent after a transport error "
					"found the order finalized: polling it\n",
					c->name);
			json_decref(j);
			client_next(c);
			return;
		}
		if (t)
			snprintf(what, sizeof(what), "problem.%s", t);
		else
			snprintf(what, sizeof(what), "http.%ld", status);
		json_decref(j);
		{
			fail_with(c, what);
			return;
		}
	}
	if (!c->busy && !c->waiting && !c->done)
		client_next(c);
}

/* ---------------------------------------------------------------- the loop */

static void abort_all(struct ctx *x)
{
	int i;

	for (i = 0; i < x->w->n_clients; i++) {
		struct client *c = &x->clients[i];

		if (c->busy) {
			curl_multi_remove_handle(x->m, c->h);
			c->busy = false;
		}
		if (c->in_issuance)
			x->w->stats.unfinished++;
		clear_issuance(c);
		c->done = true;
	}
}

static void client_free(struct client *c)
{
	clear_issuance(c);
	if (c->h)
		curl_easy_cleanup(c->h);
	flint_jwk_free(c->key);
	free(c->kid);
	free(c->req_body);
	free(c->resp);
	free(c->hdr_nonce);
	free(c->hdr_location);
}

void *load_worker_main(void *arg)
{
	struct load_worker *w = arg;
	struct ctx x = {.w = w, .cfg = w->run->cfg, .run = w->run};
	int i, running;

	x.clients = calloc((size_t)w->n_clients, sizeof(*x.clients));
	x.m = curl_multi_init();
	x.hdr_jose = curl_slist_append(NULL, "Content-Type: application/jose+json");
	x.hdr_jose = curl_slist_append(x.hdr_jose, "Expect:");
	x.hdr_pem = curl_slist_append(NULL, "Content-Type: application/jose+json");
	x.hdr_pem = curl_slist_append(x.hdr_pem, "Accept: application/pem-certificate-chain");
	x.hdr_pem = curl_slist_append(x.hdr_pem, "Expect:");
	x.hdr_plain = curl_slist_append(NULL, "Expect:");
	if (!x.clients || !x.m || !x.hdr_jose || !x.hdr_pem || !x.hdr_plain) {
		w->fatal = FLINT_ENOMEM;
		goto out;
	}
	/* an idle connection per client and target */
	curl_multi_setopt(x.m, CURLMOPT_MAXCONNECTS,
			  ((long)w->n_clients + 4) * (x.cfg->n_targets ? x.cfg->n_targets : 1));
	for (i = 0; i < w->n_clients; i++) {
		struct client *c = &x.clients[i];

		c->ctx = &x;
		c->hdr_retry_after = -1;
		/* spread the clients' first requests over the targets */
		c->target =
		    x.cfg->n_targets ? (w->index + i * x.cfg->threads) % x.cfg->n_targets : 0;
		if (!(c->h = curl_easy_init())) {
			w->fatal = FLINT_ENOMEM;
			goto out;
		}
		if (!x.cfg->account_per_order) {
			int64_t t0 = load_now_us();

			if (flint_jwk_generate(FLINT_KEY_P256, 0, &c->key) < 0) {
				w->fatal = FLINT_ECRYPTO;
				goto out;
			}
			w->stats.keygen_ms += (double)(load_now_us() - t0) / 1000.0;
			c->setup = true;
			c->step = S_ACCOUNT;
		} else {
			start_issuance(c);
		}
	}
	for (i = 0; i < w->n_clients; i++)
		if (!x.clients[i].done)
			client_next(&x.clients[i]);

	for (;;) {
		CURLMsg *msg;
		int q, n_done = 0;
		int64_t now, next;

		if (atomic_load(&x.run->stop) ||
		    (x.run->deadline_ms && load_now_ms() >= x.run->deadline_ms)) {
			abort_all(&x);
			break;
		}
		curl_multi_perform(x.m, &running);
		while ((msg = curl_multi_info_read(x.m, &q))) {
			struct client *c = NULL;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&c);
			curl_multi_remove_handle(x.m, msg->easy_handle);
			on_done(c, msg->data.result);
		}
		now = load_now_ms();
		next = now + 100;
		for (i = 0; i < w->n_clients; i++) {
			struct client *c = &x.clients[i];

			if (c->waiting && c->wake_ms <= now) {
				c->waiting = false;
				client_next(c);
			} else if (c->waiting && c->wake_ms < next) {
				next = c->wake_ms;
			}
			if (c->done)
				n_done++;
		}
		if (n_done == w->n_clients)
			break;
		curl_multi_poll(x.m, NULL, 0, (int)(next > now ? next - now : 0), NULL);
	}
out:
	if (x.clients) {
		for (i = 0; i < w->n_clients; i++) {
			if (x.clients[i].busy)
				curl_multi_remove_handle(x.m, x.clients[i].h);
			client_free(&x.clients[i]);
		}
	}
	free(x.clients);
	if (x.m)
		curl_multi_cleanup(x.m);
	curl_slist_free_all(x.hdr_jose);
	curl_slist_free_all(x.hdr_pem);
	curl_slist_free_all(x.hdr_plain);
	while (x.n_pool)
		free(x.pool[--x.n_pool]);
	return NULL;
}
