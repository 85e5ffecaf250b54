/* The ACME session of the flint client (RFC 8555 §6.2-6.5, §7.1.1, §7.2):
 * directory, Replay-Nonce pool, signed requests, problem documents, retries. */
#include "acme.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "interrupt.h"
#include "jws.h"
#include "output.h"
#include "timefmt.h"

struct flint_acme {
	struct flint_http *http;
	struct flint_acme_directory dir;
	struct flint_nonce_pool pool;
	const struct flint_jwk *key;
	char *kid;
	struct flint_problem *problem;
};

/* ------------------------------------------------------------------ nonces */

static bool nonce_ok(const char *n)
{
	size_t len = n ? strlen(n) : 0;

	if (len == 0 || len > 512)
		return false;
	for (const char *p = n; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
			return false;
	return true;
}

void flint_nonce_pool_push(struct flint_nonce_pool *pool, const char *nonce)
{
	char *copy;

	if (!pool || !nonce_ok(nonce) || !(copy = strdup(nonce)))
		return;
	if (pool->n == FLINT_ACME_NONCE_POOL) {
		/* full: the oldest is the likeliest to have expired */
		free(pool->nonce[0]);
		memmove(pool->nonce, pool->nonce + 1, (pool->n - 1) * sizeof(pool->nonce[0]));
		pool->n--;
	}
	pool->nonce[pool->n++] = copy;
}

char *flint_nonce_pool_take(struct flint_nonce_pool *pool)
{
	if (!pool || pool->n == 0)
		return NULL;
	return pool->nonce[--pool->n];
}

void flint_nonce_pool_clear(struct flint_nonce_pool *pool)
{
	if (!pool)
		return;
	while (pool->n)
		free(pool->nonce[--pool->n]);
}

/* ------------------------------------------------------------ pure policy */

long flint_acme_retry_delay(long status, const struct flint_problem *p, long retry_after,
			    int attempt)
{
	if (p && p->type == FLINT_PROB_BAD_NONCE)
		return attempt <= FLINT_ACME_BADNONCE_RETRIES ? 0 : -1;
	if (p && p->type == FLINT_PROB_RATE_LIMITED)
		return -1;
	if (status == 503 && attempt <= FLINT_ACME_503_RETRIES) {
		if (retry_after < 0)
			return 1000L * attempt;
		if (retry_after <= FLINT_ACME_503_MAX_WAIT)
			return retry_after * 1000L;
	}
	return -1;
}

long flint_acme_poll_delay(int attempt, long retry_after)
{
	long ms = 75;

	if (retry_after >= 0) {
		if (retry_after > 60)
			return 60000;
		return retry_after == 0 ? 50 : retry_after * 1000L;
	}
	for (int i = 0; i < attempt && ms < 4000; i++)
		ms *= 2;
	return ms > 4000 ? 4000 : ms;
}

char *flint_problem_describe(const struct flint_problem *p)
{
	char *s, *grown;

	if (!p)
		return strdup("(no problem document)");
	s = flint_strdupf("%s: %s", flint_problem_type_urn(p->type),
			  p->detail && *p->detail ? p->detail : "(no detail)");
	if (s && p->status) {
		grown = flint_strdupf("%s (HTTP %d)", s, p->status);
		free(s);
		s = grown;
	}
	for (size_t i = 0; s && i < p->n_sub; i++) {
		const struct flint_subproblem *sp = &p->sub[i];

		grown = flint_strdupf("%s%s%s%s%s: %s: %s", s, i ? "; " : "; subproblems: ",
				      sp->ident_type ? sp->ident_type : "",
				      sp->ident_type ? " " : "",
				      sp->ident_value ? sp->ident_value : "(no identifier)",
				      flint_problem_type_urn(sp->type),
				      sp->detail ? sp->detail : "(no detail)");
		free(s);
		s = grown;
	}
	return s;
}

/* --------------------------------------------------------------- replies */

void flint_acme_reply_free(struct flint_acme_reply *r)
{
	if (!r)
		return;
	flint_http_response_free(r->http);
	json_decref(r->json);
	free(r);
}

static bool is_json_type(const char *ct)
{
	return ct && (!strcmp(ct, "application/json") || !strcmp(ct, "application/problem+json"));
}

static void set_problem(struct flint_acme *a, struct flint_problem *p)
{
	flint_problem_free(a->problem);
	a->problem = p;
}

/* The problem of a failed reply: the server's document, or one made up from the status. */
static struct flint_problem *problem_of(const struct flint_http_response *h)
{
	struct flint_problem *p = NULL;
	json_t *doc = NULL;

	if (h->content_type && !strcmp(h->content_type, "application/problem+json"))
		doc = json_loadb(h->body, h->body_len, 0, NULL);
	if (!doc || flint_problem_from_json(doc, &p) < 0) {
		p = flint_problem_new(h->status == 503 ? FLINT_PROB_SERVER_INTERNAL
						     : FLINT_PROB_MALFORMED,
				      "HTTP %ld without a problem document", h->status);
		if (p)
			p->status = (int)h->status;
	}
	json_decref(doc);
	return p;
}

/* The message for a failed reply: the problem, plus Retry-After when rate limited. */
static char *failure_text(const char *url, const struct flint_problem *p, long retry_after)
{
	char *d = flint_problem_describe(p), *s;
	char when[FLINT_TIME_BUF];

	if (!d)
		return NULL;
	if (retry_after >= 0) {
		flint_time_format((int64_t)time(NULL) + retry_after, when);
		s = flint_strdupf("%s: %s; retry after %ld s (%s)", url, d, retry_after, when);
	} else if (p && p->type == FLINT_PROB_RATE_LIMITED) {
		s = flint_strdupf("%s: %s; the server gave no Retry-After", url, d);
	} else {
		s = flint_strdupf("%s: %s", url, d);
	}
	free(d);
	return s;
}

/* ---------------------------------------------------------------- session */

static int take_nonce(struct flint_acme *a, char **ret, char **ret_err)
{
	struct flint_http_response *h = NULL;
	char *n = flint_nonce_pool_take(&a->pool);
	int r;

	if (n) {
		*ret = n;
		return 0;
	}
	if (!a->dir.new_nonce) {
		flint_set_err(ret_err, "%s: the directory has no newNonce", a->dir.url);
		return FLINT_EPROTO;
	}
	r = flint_http_request(a->http, FLINT_HTTP_HEAD, a->dir.new_nonce, NULL, NULL, NULL, &h,
			       ret_err);
	if (r < 0)
		return r;
	flint_debug("HEAD %s -> %ld", a->dir.new_nonce, h->status);
	if ((h->status != 200 && h->status != 204) || !nonce_ok(h->replay_nonce)) {
		flint_set_err(ret_err, "%s: no usable Replay-Nonce (HTTP %ld)", a->dir.new_nonce,
			      h->status);
		flint_http_response_free(h);
		return FLINT_EPROTO;
	}
	*ret = h->replay_nonce;
	h->replay_nonce = NULL;
	flint_http_response_free(h);
	return 0;
}

/* The URL member name of obj (where names it in messages): absent, null or
 * "" leaves *ret NULL (a server configured without it); anything but a
 * string is refused. */
static int url_member(const json_t *obj, const char *name, const char *where, char **ret,
		      char **ret_err)
{
	const json_t *v = json_object_get(obj, name);
	const char *s = json_string_value(v);

	*ret = NULL;
	if (!v || json_is_null(v))
		return 0;
	/* the length check also refuses a string holding a NUL */
	if (!s || strlen(s) != json_string_length(v)) {
		flint_set_err(ret_err, "%s: the ACME directory's %s is not a URL", where, name);
		return FLINT_EPROTO;
	}
	if (!*s)
		return 0;
	*ret = strdup(s);
	return *ret ? 0 : FLINT_ENOMEM;
}

void flint_acme_directory_clear(struct flint_acme_directory *d)
{
	if (!d)
		return;
	free(d->url);
	free(d->new_nonce);
	free(d->new_account);
	free(d->new_order);
	free(d->revoke_cert);
	free(d->key_change);
	free(d->renewal_info);
	free(d->new_authz);
	free(d->terms_of_service);
	free(d->website);
	json_decref(d->profiles);
	memset(d, 0, sizeof(*d));
}

int flint_acme_directory_parse(const char *url, const char *body, size_t len,
			       struct flint_acme_directory *ret, char **ret_err)
{
	struct flint_acme_directory d = {0};
	const struct {
		const char *name;
		char **field;
	} urls[] = {
	    {"newNonce", &d.new_nonce},	  {"newAccount", &d.new_account},
	    {"newOrder", &d.new_order},	  {"revokeCert", &d.revoke_cert},
	    {"keyChange", &d.key_change}, {"renewalInfo", &d.renewal_info},
	    {"newAuthz", &d.new_authz},
	};
	json_t *doc = NULL, *meta, *eab, *profiles;
	int r = FLINT_EINVAL;

	if (!url || (!body && len) || !ret)
		return r;
	r = FLINT_ENOMEM;
	if (!(d.url = strdup(url)))
		goto out;
	r = FLINT_EPROTO;
	/* a member named twice could mean one thing here and another elsewhere */
	doc = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(doc)) {
		flint_set_err(ret_err, "%s: the ACME directory is not a JSON object", url);
		goto out;
	}
	for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++)
		if ((r = url_member(doc, urls[i].name, url, urls[i].field, ret_err)) < 0)
			goto out;
	r = FLINT_EPROTO;
	meta = json_object_get(doc, "meta");
	if (json_is_null(meta))
		meta = NULL;
	if (meta && !json_is_object(meta)) {
		flint_set_err(ret_err, "%s: the ACME directory's meta is not an object", url);
		goto out;
	}
	eab = json_object_get(meta, "externalAccountRequired");
	profiles = json_object_get(meta, "profiles");
	if (eab && !json_is_boolean(eab) && !json_is_null(eab)) {
		flint_set_err(
		    ret_err,
		    "%s: the ACME directory's meta.externalAccountRequired is not a boolean", url);
		goto out;
	}
	if (profiles && !json_is_object(profiles) && !json_is_null(profiles)) {
		flint_set_err(ret_err, "%s: the ACME directory's meta.profiles is not an object",
			      url);
		goto out;
	}
	if ((r = url_member(meta, "termsOfService", url, &d.terms_of_service, ret_err)) < 0 ||
	    (r = url_member(meta, "website", url, &d.website, ret_err)) < 0)
		goto out;
	d.eab_required = json_is_true(eab);
	if (json_is_object(profiles))
		d.profiles = json_incref(profiles);
	if (!d.new_nonce || !d.new_account || !d.new_order) {
		flint_set_err(ret_err,
			      "%s: the ACME directory lacks newNonce, newAccount or newOrder", url);
		r = FLINT_EPROTO;
		goto out;
	}
	*ret = d;
	memset(&d, 0, sizeof(d));
	r = 0;
out:
	flint_acme_directory_clear(&d);
	json_decref(doc);
	return r;
}

static int fetch_directory(struct flint_acme *a, const char *url, char **ret_err)
{
	struct flint_http_response *h = NULL;
	int r;

	r = flint_http_request(a->http, FLINT_HTTP_GET, url, NULL, "application/json", NULL, &h,
			       ret_err);
	if (r < 0)
		return r;
	flint_debug("GET %s -> %ld", url, h->status);
	flint_nonce_pool_push(&a->pool, h->replay_nonce);
	if (h->status != 200) {
		struct flint_problem *p = problem_of(h);
		char *d = flint_problem_describe(p);

		flint_set_err(ret_err, "%s: cannot fetch the ACME directory: %s", url,
			      d ? d : "out of memory");
		free(d);
		flint_problem_free(p);
		r = FLINT_EPROTO;
		goto out;
	}
	r = flint_acme_directory_parse(url, h->body, h->body_len, &a->dir, ret_err);
out:
	flint_http_response_free(h);
	return r;
}

int flint_acme_new(const char *dir_url, const struct flint_http_opts *opts, struct flint_acme **ret,
		   char **ret_err)
{
	struct flint_acme *a;
	int r;

	if (!dir_url || !ret)
		return FLINT_EINVAL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return FLINT_ENOMEM;
	if ((r = flint_http_new(opts, &a->http, ret_err)) < 0 ||
	    (r = fetch_directory(a, dir_url, ret_err)) < 0) {
		flint_acme_free(a);
		return r;
	}
	*ret = a;
	return 0;
}

void flint_acme_free(struct flint_acme *a)
{
	if (!a)
		return;
	flint_http_free(a->http);
	flint_acme_directory_clear(&a->dir);
	flint_nonce_pool_clear(&a->pool);
	free(a->kid);
	flint_problem_free(a->problem);
	free(a);
}

const struct flint_acme_directory *flint_acme_dir(const struct flint_acme *a)
{
	return &a->dir;
}

int flint_acme_set_account(struct flint_acme *a, const struct flint_jwk *key, const char *kid)
{
	char *copy = NULL;

	if (kid && !(copy = strdup(kid)))
		return FLINT_ENOMEM;
	free(a->kid);
	a->kid = copy;
	a->key = key;
	return 0;
}

const struct flint_jwk *flint_acme_key(const struct flint_acme *a)
{
	return a->key;
}

const char *flint_acme_kid(const struct flint_acme *a)
{
	return a->kid;
}

const struct flint_problem *flint_acme_problem(const struct flint_acme *a)
{
	return a->problem;
}

int flint_acme_post_with(struct flint_acme *a, const struct flint_jwk *key, const char *kid,
			 const char *url, const char *payload, const char *accept,
			 struct flint_acme_reply **ret, char **ret_err)
{
	struct flint_http_response *h = NULL;
	struct flint_acme_reply *reply = NULL;
	struct flint_problem *p = NULL;
	char *nonce = NULL, *body = NULL;
	int r, attempt;

	if (!a || !key || !url || !ret)
		return FLINT_EINVAL;
	set_problem(a, NULL);
	for (attempt = 1;; attempt++) {
		long delay;

		if ((r = take_nonce(a, &nonce, ret_err)) < 0)
			goto out;
		if ((r = flint_jws_sign(key, kid, nonce, url, payload, &body)) < 0) {
			flint_set_err(ret_err, "%s: cannot sign the request: %s", url,
				      flint_strerror(r));
			goto out;
		}
		free(nonce);
		nonce = NULL;
		r = flint_http_request(a->http, FLINT_HTTP_POST, url, "application/jose+json",
				       accept, body, &h, ret_err);
		free(body);
		body = NULL;
		if (r < 0)
			goto out;
		flint_debug("POST %s%s -> %ld", url, payload ? "" : " (POST-as-GET)", h->status);
		flint_nonce_pool_push(&a->pool, h->replay_nonce);
		if (h->status >= 200 && h->status < 300)
			break;
		p = problem_of(h);
		if (!p) {
			r = FLINT_ENOMEM;
			goto out;
		}
		delay = flint_acme_retry_delay(h->status, p, h->retry_after, attempt);
		if (delay < 0) {
			char *msg = failure_text(url, p, h->retry_after);

			flint_set_err(ret_err, "%s", msg ? msg : "out of memory");
			free(msg);
			set_problem(a, p);
			p = NULL;
			r = FLINT_EPROTO;
			goto out;
		}
		flint_debug("%s: %s, retrying in %ld ms", url, flint_problem_type_urn(p->type),
			    delay);
		flint_problem_free(p);
		p = NULL;
		flint_http_response_free(h);
		h = NULL;
		if (flint_sleep_ms(delay) < 0) {
			flint_set_err(ret_err, "%s: interrupted", url);
			r = FLINT_EIO;
			goto out;
		}
	}
	r = FLINT_ENOMEM;
	reply = calloc(1, sizeof(*reply));
	if (!reply)
		goto out;
	if (is_json_type(h->content_type) && h->body_len) {
		reply->json = json_loadb(h->body, h->body_len, 0, NULL);
		if (!reply->json) {
			flint_set_err(ret_err, "%s: the reply is not valid JSON", url);
			r = FLINT_EPROTO;
			goto out;
		}
	}
	reply->http = h;
	h = NULL;
	*ret = reply;
	reply = NULL;
	r = 0;
out:
	flint_acme_reply_free(reply);
	flint_problem_free(p);
	flint_http_response_free(h);
	free(nonce);
	free(body);
	return r;
}

int flint_acme_post(struct flint_acme *a, const char *url, const char *payload, const char *accept,
		    struct flint_acme_reply **ret, char **ret_err)
{
	if (!a || !a->key)
		return FLINT_EINVAL;
	return flint_acme_post_with(a, a->key, a->kid, url, payload, accept, ret, ret_err);
}

int flint_acme_profile_check(const json_t *profiles, const char *dir_url, const char *profile,
			     char **ret_err)
{
	const char *name;
	json_t *desc;
	char *list = NULL;

	if (!profile)
		return 0;
	if (json_object_size(profiles) == 0) {
		flint_set_err(ret_err,
			      "--profile %s: %s offers no certificate profiles (no meta.profiles "
			      "in its directory); leave --profile out",
			      profile, dir_url ? dir_url : "the server");
		return FLINT_EUNSUPPORTED;
	}
	if (json_object_get(profiles, profile))
		return 0;
	json_object_foreach((json_t *)profiles, name, desc) {
		const char *d = json_string_value(desc);
		char *grown = flint_strdupf("%s%s%s%s%s%s", list ? list : "", list ? ", " : "", name,
					    d ? " (" : "", d ? d : "", d ? ")" : "");

		free(list);
		if (!(list = grown))
			return FLINT_ENOMEM;
	}
	flint_set_err(ret_err, "--profile %s: %s has no such profile; it offers: %s", profile,
		      dir_url ? dir_url : "the server", list ? list : "?");
	free(list);
	return FLINT_EUNSUPPORTED;
}

int flint_acme_get(struct flint_acme *a, const char *url, struct flint_acme_reply **ret,
		   char **ret_err)
{
	struct flint_acme_reply *reply;
	struct flint_http_response *h = NULL;
	int r;

	r = flint_http_request(a->http, FLINT_HTTP_GET, url, NULL, "application/json", NULL, &h,
			       ret_err);
	if (r < 0)
		return r;
	flint_debug("GET %s -> %ld", url, h->status);
	if (!(reply = calloc(1, sizeof(*reply)))) {
		flint_http_response_free(h);
		return FLINT_ENOMEM;
	}
	reply->http = h;
	reply->json = json_loadb(h->body, h->body_len, 0, NULL);
	*ret = reply;
	return 0;
}
