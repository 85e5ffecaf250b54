/* The flint client's order driver (RFC 8555 §7.4 orders, §7.5 authorizations
 * and challenges, §8 key authorizations): a bounded state machine over libflint,
 * reading the server's order and authorization objects (§7.1.3-7.1.5) strictly. */
#include "order.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "csr_build.h"
#include "error.h"
#include "identifier.h"
#include "interrupt.h"
#include "keyauth.h"
#include "output.h"

/* One authorization the run has to prove, and the challenge chosen for it. */
struct work {
	char *display; /* "a.example.com" or "*.example.com" */
	char *authz_url;
	char *chal_url;
	char *ident_type, *ident_value, *token, *keyauth, *txt;
	const struct flint_solver_type *type;
	struct flint_solver *solver; /* borrowed from the running set */
	struct flint_challenge_task task;
	bool presented;
	bool valid; /* proven in this run */
	bool settled; /* left pending (valid, invalid, ...): nothing to deactivate */
};

struct running {
	const struct flint_solver_type *type;
	struct flint_solver *inst;
};

struct run {
	struct flint_acme *a;
	const struct flint_order_params *p;
	long long deadline;
	struct work *work;
	size_t n_work;
	struct running *solvers;
	size_t n_solvers;
	struct work *failed; /* the authorization a failure belongs to */
	json_t *failed_problem; /* its challenge's or authorization's error */
};

static void work_clear(struct work *w)
{
	free(w->display);
	free(w->authz_url);
	free(w->chal_url);
	free(w->ident_type);
	free(w->ident_value);
	free(w->token);
	if (w->keyauth) {
		memset(w->keyauth, 0, strlen(w->keyauth));
		free(w->keyauth);
	}
	free(w->txt);
}

/* ------------------------------------------- objects read from the server */

static const char *const order_statuses[] = {"pending", "ready",   "processing",
					     "valid",	"invalid", NULL};
static const char *const authz_statuses[] = {"pending", "valid",   "invalid", "deactivated",
					     "expired", "revoked", NULL};
static const char *const challenge_statuses[] = {"pending", "processing", "valid", "invalid", NULL};

static bool one_of(const char *const *words, const char *s)
{
	for (; *words; words++)
		if (!strcmp(*words, s))
			return true;
	return false;
}

/* A non-empty string without NUL bytes, or NULL. */
static const char *text_of(const json_t *v)
{
	const char *s = json_string_value(v);

	return s && *s && strlen(s) == json_string_length(v) ? s : NULL;
}

/* The string member name of obj (what names obj in messages) into *ret:
 * absent or null is an error when required, else leaves *ret NULL; a value
 * must be a non-empty string, and one of allowed when that is not NULL. */
static int str_member(const json_t *obj, const char *what, const char *name, bool required,
		      const char *const *allowed, char **ret, char **ret_err)
{
	const json_t *v = json_object_get(obj, name);
	const char *s = text_of(v);

	*ret = NULL;
	if (!v || json_is_null(v)) {
		if (!required)
			return 0;
		flint_set_err(ret_err, "%s lacks %s", what, name);
		return FLINT_EPROTO;
	}
	if (!s) {
		flint_set_err(ret_err, "%s: %s is not a non-empty string", what, name);
		return FLINT_EPROTO;
	}
	if (allowed && !one_of(allowed, s)) {
		flint_set_err(ret_err, "%s: %s is none of those RFC 8555 defines", what, name);
		return FLINT_EPROTO;
	}
	*ret = strdup(s);
	return *ret ? 0 : FLINT_ENOMEM;
}

/* The "error" member of obj: absent or null leaves *ret NULL; else an object. */
static int error_member(const json_t *obj, const char *what, json_t **ret, char **ret_err)
{
	json_t *v = json_object_get(obj, "error");

	*ret = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v)) {
		flint_set_err(ret_err, "%s: error is not a problem document", what);
		return FLINT_EPROTO;
	}
	*ret = json_incref(v);
	return 0;
}

/* The array member name of obj: absent or null is an empty array when not
 * required; at most max entries. */
static int array_member(const json_t *obj, const char *what, const char *name, bool required,
			size_t max, const json_t **ret, char **ret_err)
{
	const json_t *v = json_object_get(obj, name);

	*ret = NULL;
	if ((!v || json_is_null(v)) && !required)
		return 0;
	if (!json_is_array(v)) {
		flint_set_err(ret_err, "%s: %s is not an array", what, name);
		return FLINT_EPROTO;
	}
	if (json_array_size(v) > max) {
		flint_set_err(ret_err, "%s has more than %zu %s", what, max, name);
		return FLINT_ETOOBIG;
	}
	*ret = v;
	return 0;
}

void flint_acme_order_free(struct flint_acme_order *o)
{
	if (!o)
		return;
	free(o->status);
	for (size_t i = 0; i < o->n_authorizations; i++)
		free(o->authorizations[i]);
	free(o->authorizations);
	free(o->finalize);
	free(o->certificate);
	json_decref(o->error);
	free(o);
}

int flint_acme_order_parse(const json_t *obj, struct flint_acme_order **ret, char **ret_err)
{
	static const char what[] = "the order";
	struct flint_acme_order *o = NULL;
	const json_t *authzs = NULL, *ids = NULL;
	size_t n;
	int r = FLINT_EINVAL;

	if (!ret)
		return r;
	r = FLINT_EPROTO;
	if (!json_is_object(obj)) {
		flint_set_err(ret_err, "%s is not a JSON object", what);
		goto out;
	}
	if ((r = array_member(obj, what, "authorizations", true, FLINT_ACME_ORDER_MAX_AUTHZ,
			      &authzs, ret_err)) < 0 ||
	    (r = array_member(obj, what, "identifiers", false, FLINT_ACME_ORDER_MAX_AUTHZ, &ids,
			      ret_err)) < 0)
		goto out;
	n = json_array_size(authzs);
	r = FLINT_ENOMEM;
	if (!(o = calloc(1, sizeof(*o))) ||
	    !(o->authorizations = calloc(n ? n : 1, sizeof(char *))))
		goto out;
	if ((r = str_member(obj, what, "status", true, order_statuses, &o->status, ret_err)) < 0 ||
	    (r = str_member(obj, what, "finalize", true, NULL, &o->finalize, ret_err)) < 0 ||
	    (r = str_member(obj, what, "certificate", false, NULL, &o->certificate, ret_err)) < 0 ||
	    (r = error_member(obj, what, &o->error, ret_err)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const char *url = text_of(json_array_get(authzs, i));

		if (!url) {
			flint_set_err(ret_err, "%s: authorization %zu is not a URL", what, i + 1);
			r = FLINT_EPROTO;
			goto out;
		}
		if (!(o->authorizations[i] = strdup(url))) {
			r = FLINT_ENOMEM;
			goto out;
		}
		o->n_authorizations++;
	}
	*ret = o;
	o = NULL;
	r = 0;
out:
	flint_acme_order_free(o);
	return r;
}

static void challenge_clear(struct flint_acme_challenge *c)
{
	free(c->type);
	free(c->url);
	free(c->status);
	free(c->token);
	json_decref(c->error);
}

void flint_acme_authz_free(struct flint_acme_authz *a)
{
	if (!a)
		return;
	free(a->status);
	free(a->ident_type);
	free(a->ident_value);
	for (size_t i = 0; i < a->n_challenges; i++)
		challenge_clear(&a->challenges[i]);
	free(a->challenges);
	json_decref(a->error);
	free(a);
}

static int challenge_parse(const json_t *obj, size_t i, struct flint_acme_challenge *c,
			   char **ret_err)
{
	char what[64]; /* room for any size_t */
	int r;

	snprintf(what, sizeof(what), "the authorization's challenge %zu", i + 1);
	if (!json_is_object(obj)) {
		flint_set_err(ret_err, "%s is not a JSON object", what);
		return FLINT_EPROTO;
	}
	if ((r = str_member(obj, what, "type", true, NULL, &c->type, ret_err)) < 0 ||
	    (r = str_member(obj, what, "url", true, NULL, &c->url, ret_err)) < 0 ||
	    (r = str_member(obj, what, "status", true, challenge_statuses, &c->status, ret_err)) <
		0 ||
	    (r = str_member(obj, what, "token", false, NULL, &c->token, ret_err)) < 0 ||
	    (r = error_member(obj, what, &c->error, ret_err)) < 0)
		return r;
	return 0;
}

int flint_acme_authz_parse(const json_t *obj, struct flint_acme_authz **ret, char **ret_err)
{
	static const char what[] = "the authorization";
	struct flint_acme_authz *a = NULL;
	const json_t *id, *wildcard, *chals = NULL;
	size_t n;
	int r = FLINT_EINVAL;

	if (!ret)
		return r;
	r = FLINT_EPROTO;
	if (!json_is_object(obj)) {
		flint_set_err(ret_err, "%s is not a JSON object", what);
		goto out;
	}
	id = json_object_get(obj, "identifier");
	if (!json_is_object(id)) {
		flint_set_err(ret_err, "%s lacks identifier", what);
		goto out;
	}
	wildcard = json_object_get(obj, "wildcard");
	if (wildcard && !json_is_boolean(wildcard) && !json_is_null(wildcard)) {
		flint_set_err(ret_err, "%s: wildcard is not a boolean", what);
		goto out;
	}
	if ((r = array_member(obj, what, "challenges", false, FLINT_ACME_AUTHZ_MAX_CHALLENGES,
			      &chals, ret_err)) < 0)
		goto out;
	n = json_array_size(chals);
	r = FLINT_ENOMEM;
	if (!(a = calloc(1, sizeof(*a))) ||
	    !(a->challenges = calloc(n ? n : 1, sizeof(*a->challenges))))
		goto out;
	a->wildcard = json_is_true(wildcard);
	if ((r = str_member(obj, what, "status", true, authz_statuses, &a->status, ret_err)) < 0 ||
	    (r = str_member(id, "the authorization's identifier", "type", true, NULL,
			    &a->ident_type, ret_err)) < 0 ||
	    (r = str_member(id, "the authorization's identifier", "value", true, NULL,
			    &a->ident_value, ret_err)) < 0 ||
	    (r = error_member(obj, what, &a->error, ret_err)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		/* counted first: a half-read challenge is freed with the rest */
		a->n_challenges++;
		if ((r = challenge_parse(json_array_get(chals, i), i, &a->challenges[i], ret_err)) <
		    0)
			goto out;
	}
	*ret = a;
	a = NULL;
	r = 0;
out:
	flint_acme_authz_free(a);
	return r;
}

const struct flint_acme_challenge *flint_acme_authz_challenge(const struct flint_acme_authz *a,
							      const char *type)
{
	for (size_t i = 0; a && type && i < a->n_challenges; i++)
		if (!strcmp(a->challenges[i].type, type) && a->challenges[i].token)
			return &a->challenges[i];
	return NULL;
}

/* ------------------------------------------------------------ the driver */

/* POST-as-GET of an object that must be a JSON object. */
static int fetch(struct run *run, const char *url, struct flint_acme_reply **ret, char **ret_err)
{
	struct flint_acme_reply *reply = NULL;
	int r = flint_acme_post(run->a, url, NULL, NULL, &reply, ret_err);

	if (r < 0)
		return r;
	if (!json_is_object(reply->json)) {
		flint_set_err(ret_err, "%s: the reply is not a JSON object", url);
		flint_acme_reply_free(reply);
		return FLINT_EPROTO;
	}
	*ret = reply;
	return 0;
}

/* Sleeps before the next poll, failing when that would pass the deadline. */
static int poll_wait(struct run *run, int attempt, long retry_after, const char *what,
		     char **ret_err)
{
	long ms = flint_acme_poll_delay(attempt, retry_after);

	if (flint_now_ms() + ms > run->deadline) {
		flint_set_err(ret_err, "%s: still not done after %d s; giving up", what,
			      run->p->timeout > 0 ? run->p->timeout : FLINT_ORDER_TIMEOUT);
		return FLINT_EIO;
	}
	if (flint_sleep_ms(ms) < 0) {
		flint_set_err(ret_err, "%s: interrupted", what);
		return FLINT_EIO;
	}
	return 0;
}

static char *names_list(const struct flint_order_params *p)
{
	char *s = strdup(""), *grown;

	for (size_t i = 0; s && i < p->n_names; i++) {
		grown = flint_strdupf("%s%s%s", s, i ? ", " : "", p->names[i]);
		free(s);
		s = grown;
	}
	return s;
}

/* An object's problem document ("error" member; may be NULL), described on one line. */
static char *problem_text(const json_t *e)
{
	struct flint_problem *p = NULL;
	char *s;

	if (!e || flint_problem_from_json(e, &p) < 0)
		return strdup("the server gave no reason");
	p->status = 0; /* an object's error: no HTTP status of its own to report */
	s = flint_problem_describe(p);
	flint_problem_free(p);
	return s;
}

/* ------------------------------------------------------------ the order */

static int new_order(struct run *run, char **ret_order_url, struct flint_acme_order **ret_order,
		     char **ret_err)
{
	const struct flint_order_params *p = run->p;
	struct flint_acme_reply *reply = NULL;
	struct flint_acme_order *order = NULL;
	json_t *ids = json_array(), *payload = NULL;
	char *body = NULL, *names = NULL, *err = NULL;
	int r = FLINT_ENOMEM;

	if (!ids)
		goto out;
	for (size_t i = 0; i < p->n_names; i++)
		if (json_array_append_new(ids, json_pack("{s:s, s:s}", "type",
							 flint_is_ip_address(p->names[i]) ? "ip"
											  : "dns",
							 "value", p->names[i])) < 0)
			goto out;
	if (!(payload = json_pack("{s:O}", "identifiers", ids)) ||
	    (p->profile && json_object_set_new(payload, "profile", json_string(p->profile)) < 0) ||
	    (p->replaces && json_object_set_new(payload, "replaces", json_string(p->replaces)) < 0) ||
	    !(body = json_dumps(payload, JSON_COMPACT)) || !(names = names_list(p)))
		goto out;
	r = flint_acme_post(run->a, flint_acme_dir(run->a)->new_order, body, NULL, &reply, &err);
	if (r < 0) {
		flint_set_err(ret_err, "%s: newOrder failed: %s", names, err ? err : flint_strerror(r));
		goto out;
	}
	if (!reply->http->location) {
		flint_set_err(ret_err, "%s: the newOrder reply has no Location", names);
		r = FLINT_EPROTO;
		goto out;
	}
	if ((r = flint_acme_order_parse(reply->json, &order, &err)) < 0) {
		flint_set_err(ret_err, "%s: the newOrder reply: %s", names,
			      err ? err : flint_strerror(r));
		goto out;
	}
	if (!(*ret_order_url = strdup(reply->http->location))) {
		r = FLINT_ENOMEM;
		goto out;
	}
	flint_debug("order %s for %s: %s", *ret_order_url, names, order->status);
	*ret_order = order;
	order = NULL;
	r = 0;
out:
	flint_acme_order_free(order);
	json_decref(ids);
	json_decref(payload);
	free(body);
	free(names);
	free(err);
	flint_acme_reply_free(reply);
	return r;
}

static char *offered_types(const struct flint_acme_authz *az)
{
	char *s = strdup(""), *grown;

	for (size_t i = 0; s && i < az->n_challenges; i++) {
		grown = flint_strdupf("%s%s%s", s, *s ? ", " : "", az->challenges[i].type);
		free(s);
		s = grown;
	}
	return s;
}

/* Picks the solver for one pending authorization and fills w. */
static int choose(struct run *run, const struct flint_acme_authz *az, struct work *w,
		  char **ret_err)
{
	const struct flint_solver_config *cfg = run->p->solver_cfg;
	const struct flint_acme_challenge *chal = NULL;
	int r;

	for (size_t i = 0; flint_solver_types[i]; i++) {
		const struct flint_solver_type *t = flint_solver_types[i];

		if (!t->configured(cfg) || !t->applies(w->ident_type, w->task.wildcard))
			continue;
		chal = flint_acme_authz_challenge(az, t->challenge_type);
		if (chal) {
			w->type = t;
			break;
		}
	}
	if (!w->type) {
		char *offered = offered_types(az);

		flint_set_err(ret_err,
			      "%s: no configured solver answers the challenges the server offers "
			      "(%s)%s",
			      w->display, offered ? offered : "?",
			      cfg->dns_account   ? "; --dns-account answers dns-account-01 only"
			      : w->task.wildcard ? "; wildcards need dns-01 (--dns-hook)"
						 : "; use --http01-port, --webroot, "
						   "--tlsalpn01-port or --dns-hook");
		free(offered);
		return FLINT_EUNSUPPORTED;
	}
	if (!flint_token_is_valid(chal->token)) {
		flint_set_err(ret_err, "%s: %s: the server sent an unusable token", w->display,
			      w->type->challenge_type);
		return FLINT_EPROTO;
	}
	if (!(w->chal_url = strdup(chal->url)) || !(w->token = strdup(chal->token)))
		return FLINT_ENOMEM;
	if ((r = flint_keyauth(w->token, flint_acme_key(run->a), &w->keyauth)) < 0 ||
	    (r = flint_keyauth_digest_b64(w->keyauth, &w->txt)) < 0 ||
	    (r = flint_keyauth_digest(w->keyauth, w->task.digest)) < 0) {
		flint_set_err(ret_err, "%s: cannot compute the key authorization: %s", w->display,
			      flint_strerror(r));
		return r;
	}
	w->task.ident_type = w->ident_type;
	w->task.ident_value = w->ident_value;
	w->task.type = w->type->challenge_type;
	w->task.token = w->token;
	w->task.key_authorization = w->keyauth;
	w->task.dns_txt_value = w->txt;
	w->task.account_url = flint_acme_kid(run->a); /* dns-account-01's record name */
	return 0;
}

/* Fetches every authorization; those pending get a work item. */
static int load_authorizations(struct run *run, const char *const *urls, size_t n, char **ret_err)
{
	int r = 0;

	run->work = calloc(n ? n : 1, sizeof(*run->work));
	if (!run->work)
		return FLINT_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct flint_acme_reply *reply = NULL;
		struct flint_acme_authz *az = NULL;
		struct work *w = &run->work[run->n_work];
		char *err = NULL;

		if ((r = fetch(run, urls[i], &reply, ret_err)) < 0)
			return r;
		r = flint_acme_authz_parse(reply->json, &az, &err);
		flint_acme_reply_free(reply);
		if (r < 0) {
			flint_set_err(ret_err, "%s: %s", urls[i], err ? err : flint_strerror(r));
			free(err);
			return r;
		}
		memset(w, 0, sizeof(*w));
		w->task.wildcard = az->wildcard;
		if (!(w->display =
			  flint_strdupf("%s%s", az->wildcard ? "*." : "", az->ident_value)) ||
		    !(w->authz_url = strdup(urls[i])) ||
		    !(w->ident_type = strdup(az->ident_type)) ||
		    !(w->ident_value = strdup(az->ident_value))) {
			run->n_work++;
			flint_acme_authz_free(az);
			return FLINT_ENOMEM;
		}
		run->n_work++;
		if (!strcmp(az->status, "valid")) {
			flint_progress("%s: already authorized", w->display);
			w->type = NULL;
		} else if (!strcmp(az->status, "pending")) {
			r = choose(run, az, w, ret_err);
			if (r < 0)
				run->failed = w;
		} else {
			char *why = problem_text(az->error);

			run->failed = w;
			run->failed_problem = json_incref(az->error);
			flint_set_err(ret_err, "%s: the authorization is %s: %s", w->display,
				      az->status, why ? why : "");
			free(why);
			r = FLINT_EPROTO;
		}
		flint_acme_authz_free(az);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Starts every configured solver before the order exists, so a port that
 * cannot be bound fails the run without leaving a pending order behind. */
static int start_solvers(struct run *run, char **ret_err)
{
	size_t n = 0;
	while (flint_solver_types[n])
		n++;
	run->solvers = calloc(n ? n : 1, sizeof(*run->solvers));
	if (!run->solvers)
		return FLINT_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct flint_solver_type *t = flint_solver_types[i];
		char *err = NULL;
		int r;

		if (!t->configured(run->p->solver_cfg))
			continue;
		r = t->start(run->p->solver_cfg, &run->solvers[run->n_solvers].inst, &err);
		if (r < 0) {
			flint_set_err(ret_err, "%s: cannot start the %s solver: %s",
				      t->challenge_type, t->name, err ? err : flint_strerror(r));
			free(err);
			return r;
		}
		run->solvers[run->n_solvers++].type = t;
		flint_debug("started the %s solver", t->name);
	}
	return 0;
}

/* Hands each piece of work the running instance of its solver type. */
static void bind_solvers(struct run *run)
{
	for (size_t i = 0; i < run->n_work; i++) {
		struct work *w = &run->work[i];
		for (size_t j = 0; w->type && j < run->n_solvers; j++)
			if (run->solvers[j].type == w->type)
				w->solver = run->solvers[j].inst;
	}
}

static int present_all(struct run *run, char **ret_err)
{
	for (size_t i = 0; i < run->n_work; i++) {
		struct work *w = &run->work[i];
		char *err = NULL;
		int r;

		if (!w->type)
			continue;
		if (flint_interrupted()) {
			flint_set_err(ret_err, "%s: interrupted", w->display);
			return FLINT_EIO;
		}
		/* marked first: cleanup must also undo a present that half worked */
		w->presented = true;
		r = w->type->present(w->solver, &w->task, &err);
		if (r < 0) {
			run->failed = w;
			flint_set_err(ret_err, "%s: %s: cannot present the challenge: %s", w->display,
				      w->type->challenge_type, err ? err : flint_strerror(r));
			free(err);
			return r;
		}
		flint_debug("%s: %s presented", w->display, w->type->challenge_type);
	}
	return 0;
}

static void cleanup_all(struct run *run)
{
	for (size_t i = run->n_work; i-- > 0;) {
		struct work *w = &run->work[i];

		if (w->presented) {
			w->type->cleanup(w->solver, &w->task);
			w->presented = false;
		}
	}
	for (size_t j = run->n_solvers; j-- > 0;)
		run->solvers[j].type->stop(run->solvers[j].inst);
	run->n_solvers = 0;
}

static int respond_all(struct run *run, char **ret_err)
{
	for (size_t i = 0; i < run->n_work; i++) {
		struct work *w = &run->work[i];
		struct flint_acme_reply *reply = NULL;
		char *err = NULL;
		int r;

		if (!w->type)
			continue;
		r = flint_acme_post(run->a, w->chal_url, "{}", NULL, &reply, &err);
		flint_acme_reply_free(reply);
		if (r < 0 && flint_interrupted()) {
			flint_set_err(ret_err, "%s: %s: interrupted", w->display,
				      w->type->challenge_type);
			free(err);
			return r;
		}
		if (r < 0) {
			run->failed = w;
			flint_set_err(ret_err, "%s: %s: the server refused the response: %s",
				      w->display, w->type->challenge_type, err ? err : "?");
			free(err);
			return r;
		}
	}
	return 0;
}

/* Polls one authorization until it leaves pending. */
static int wait_authz(struct run *run, struct work *w, char **ret_err)
{
	const char *ctype = w->type->challenge_type;

	for (int attempt = 0;; attempt++) {
		struct flint_acme_reply *reply = NULL;
		struct flint_acme_authz *az = NULL;
		const struct flint_acme_challenge *chal;
		const json_t *problem;
		char *err = NULL, *what, *why;
		long retry_after = -1;
		int r;

		r = fetch(run, w->authz_url, &reply, &err);
		if (r >= 0) {
			retry_after = reply->http->retry_after;
			r = flint_acme_authz_parse(reply->json, &az, &err);
			flint_acme_reply_free(reply);
		}
		if (r < 0) {
			run->failed = w;
			flint_set_err(ret_err, "%s: %s: %s", w->display, ctype, err ? err : "?");
			free(err);
			return r;
		}
		if (!strcmp(az->status, "valid")) {
			w->valid = true;
			flint_progress("%s: %s pending -> valid", w->display, ctype);
			flint_acme_authz_free(az);
			return 0;
		}
		if (strcmp(az->status, "pending") != 0) {
			chal = flint_acme_authz_challenge(az, ctype);
			problem = chal ? chal->error : az->error;
			why = problem_text(problem);
			w->settled = true;
			run->failed = w;
			run->failed_problem = json_incref((json_t *)problem);
			flint_set_err(ret_err, "%s: %s pending -> %s: %s", w->display, ctype,
				      az->status, why ? why : "?");
			free(why);
			flint_acme_authz_free(az);
			return FLINT_EPROTO;
		}
		flint_acme_authz_free(az);
		what = flint_strdupf("%s: %s", w->display, ctype);
		r = poll_wait(run, attempt, retry_after, what ? what : w->display, ret_err);
		free(what);
		if (r < 0)
			return r;
	}
}

/* word is one of the space-separated words of list. */
static bool in_list(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; n && *p;) {
		size_t len = strcspn(p, " ");

		if (len == n && strncmp(p, word, n) == 0)
			return true;
		p += len;
		p += strspn(p, " ");
	}
	return false;
}

/* Polls the order until its status is one of want (space-separated). known,
 * when not NULL, is an order the server has just sent (newOrder's or
 * finalize's reply): when its status is already wanted it becomes *ret
 * (*known is then NULL) and no request is made. */
static int wait_order(struct run *run, const char *order_url, const char *names, const char *want,
		      struct flint_acme_order **known, struct flint_acme_order **ret,
		      char **ret_err)
{
	if (known && *known && in_list(want, (*known)->status)) {
		*ret = *known;
		*known = NULL;
		return 0;
	}
	for (int attempt = 0;; attempt++) {
		struct flint_acme_reply *reply = NULL;
		struct flint_acme_order *o = NULL;
		long retry_after = -1;
		char *err = NULL, *why;
		int r;

		r = fetch(run, order_url, &reply, &err);
		if (r >= 0) {
			retry_after = reply->http->retry_after;
			r = flint_acme_order_parse(reply->json, &o, &err);
			flint_acme_reply_free(reply);
		}
		if (r < 0) {
			flint_set_err(ret_err, "%s: %s", names, err ? err : "?");
			free(err);
			return r;
		}
		if (in_list(want, o->status)) {
			*ret = o;
			return 0;
		}
		if (!strcmp(o->status, "invalid")) {
			why = problem_text(o->error);
			if (!run->failed_problem)
				run->failed_problem = json_incref(o->error);
			flint_set_err(ret_err, "%s: the order is %s: %s", names, o->status,
				      why ? why : "?");
			free(why);
			flint_acme_order_free(o);
			return FLINT_EPROTO;
		}
		flint_acme_order_free(o);
		if ((r = poll_wait(run, attempt, retry_after, names, ret_err)) < 0)
			return r;
	}
}

/* Sends the CSR; *ret_order is the order object of the server's reply. */
static int finalize(struct run *run, const struct flint_acme_order *order, const char *names,
		    struct flint_acme_order **ret_order, char **ret_err)
{
	const struct flint_order_params *p = run->p;
	struct flint_acme_reply *reply = NULL;
	unsigned char *der = NULL;
	size_t der_len = 0;
	char *csr = NULL, *body = NULL, *err = NULL;
	int r;

	if (!p->csr_der &&
	    (r = flint_csr_build(p->cert_key, p->names, p->n_names, &der, &der_len)) < 0) {
		flint_set_err(ret_err, "%s: cannot build the CSR: %s", names, flint_strerror(r));
		return r;
	}
	r = FLINT_ENOMEM;
	if (flint_b64url_encode(p->csr_der ? p->csr_der : der, p->csr_der ? p->csr_len : der_len,
				&csr) < 0 ||
	    !(body = flint_strdupf("{\"csr\":\"%s\"}", csr)))
		goto out;
	r = flint_acme_post(run->a, order->finalize, body, NULL, &reply, &err);
	if (r < 0) {
		flint_set_err(ret_err, "%s: finalize failed: %s", names, err ? err : "?");
		goto out;
	}
	/* the reply is the order (§7.4); when it is not a usable one (*ret_order
	 * stays NULL) the order is polled instead */
	(void)flint_acme_order_parse(reply->json, ret_order, NULL);
	r = 0;
out:
	free(der);
	free(csr);
	free(body);
	free(err);
	flint_acme_reply_free(reply);
	return r;
}

/* POST-as-GET of one chain URL, parsed and checked against the order. */
static int fetch_chain(struct run *run, const char *url, struct flint_acme_reply **ret_reply,
		       struct flint_chain **ret, char **ret_err)
{
	struct flint_acme_reply *reply = NULL;
	struct flint_chain *chain = NULL;
	char *err = NULL;
	int r;

	r = flint_acme_post(run->a, url, NULL, "application/pem-certificate-chain", &reply, &err);
	if (r < 0) {
		flint_set_err(ret_err, "certificate download failed: %s", err ? err : "?");
		goto out;
	}
	r = flint_chain_parse(reply->http->body, reply->http->body_len, &chain, &err);
	if (r < 0) {
		flint_set_err(ret_err, "%s: %s", url, err ? err : flint_strerror(r));
		goto out;
	}
	r = flint_chain_check(chain, run->p->cert_key, run->p->names, run->p->n_names, &err);
	if (r < 0) {
		flint_set_err(ret_err, "refusing the certificate: %s", err ? err : "?");
		goto out;
	}
	*ret = chain;
	chain = NULL;
	if (ret_reply) {
		*ret_reply = reply;
		reply = NULL;
	}
out:
	free(err);
	flint_chain_free(chain);
	flint_acme_reply_free(reply);
	return r;
}

/* The default chain, or with p->preferred_chain the first offered chain
 * (default, then each Link rel="alternate") whose top is issued by or is
 * that CA; the default when none is. */
static int download(struct run *run, const char *cert_url, const char *names,
		    struct flint_chain **ret, char **ret_err)
{
	const char *want = run->p->preferred_chain;
	struct flint_acme_reply *reply = NULL;
	struct flint_chain *chain = NULL;
	char *err = NULL, *offered = NULL;
	int r;

	r = fetch_chain(run, cert_url, want ? &reply : NULL, &chain, &err);
	if (r < 0) {
		flint_set_err(ret_err, "%s: %s", names, err ? err : flint_strerror(r));
		free(err);
		return r;
	}
	if (want && !flint_chain_top_named(chain, want)) {
		bool found = false;

		offered = flint_chain_top_issuer(chain);
		for (size_t i = 0; !found && i < reply->http->n_alternates; i++) {
			struct flint_chain *alt = NULL;
			const char *url = reply->http->alternates[i];

			free(err);
			err = NULL;
			if (fetch_chain(run, url, NULL, &alt, &err) < 0) {
				flint_warn("%s: alternate chain %s: %s", names, url, err ? err : "?");
				continue;
			}
			if (flint_chain_top_named(alt, want)) {
				flint_debug("%s: using the alternate chain %s (issuer %s)", names, url,
					    want);
				flint_chain_free(chain);
				chain = alt;
				found = true;
			} else {
				char *cn = flint_chain_top_issuer(alt), *grown;

				grown = flint_strdupf("%s, %s", offered ? offered : "?", cn ? cn : "?");
				free(offered);
				offered = grown;
				free(cn);
				flint_chain_free(alt);
			}
		}
		if (!found)
			flint_warn("%s: no offered chain is issued by \"%s\" (offered: %s); keeping the "
				   "default chain",
				   names, want, offered ? offered : "?");
	}
	*ret = chain;
	free(err);
	free(offered);
	flint_acme_reply_free(reply);
	return 0;
}

/* After a failure: deactivates (§7.5.2) the authorizations this run tried to
 * prove and that did not become valid, so they do not linger as pending
 * (servers cap those). Best effort. */
static void deactivate_unfinished(struct run *run)
{
	for (size_t i = 0; i < run->n_work; i++) {
		struct work *w = &run->work[i];
		struct flint_acme_reply *reply = NULL;

		if (!w->type || w->valid || w->settled || !w->authz_url || flint_interrupted())
			continue;
		if (flint_acme_post(run->a, w->authz_url, "{\"status\":\"deactivated\"}", NULL,
				    &reply, NULL) == 0)
			flint_debug("%s: authorization deactivated", w->display);
		flint_acme_reply_free(reply);
	}
}

/* The end of every run: challenges cleaned up; on failure the identifier
 * and problem recorded for --json (failed_name: a name that failed before
 * any authorization was loaded) and the unfinished authorizations
 * deactivated; the run's memory released. */
static void run_end(struct run *run, int r, const char *failed_name)
{
	const struct flint_order_params *p = run->p;

	cleanup_all(run);
	if (r < 0 && p->failure) {
		const struct flint_problem *prob = flint_acme_problem(run->a);

		if (run->failed)
			p->failure->identifier = json_pack("{s:s, s:s}", "type", run->failed->ident_type,
							   "value", run->failed->ident_value);
		else if (failed_name)
			p->failure->identifier = json_pack(
			    "{s:s, s:s}", "type", flint_is_ip_address(failed_name) ? "ip" : "dns",
			    "value", failed_name);
		p->failure->problem = run->failed_problem ? json_incref(run->failed_problem)
				      : prob		    ? flint_problem_to_json(prob)
							    : NULL;
	}
	json_decref(run->failed_problem);
	if (r < 0)
		deactivate_unfinished(run);
	for (size_t i = 0; i < run->n_work; i++)
		work_clear(&run->work[i]);
	free(run->work);
	free(run->solvers);
}

int flint_order_issue(struct flint_acme *a, const struct flint_order_params *p,
		      struct flint_chain **ret, char **ret_err)
{
	struct run run = {.a = a, .p = p};
	struct flint_acme_order *order = NULL, *ready = NULL, *finalized = NULL, *done = NULL;
	bool proved = false;
	char *order_url = NULL, *names = NULL;
	long long timeout_ms;
	int r;

	if (!a || !p || !p->names || p->n_names == 0 || !p->cert_key || !p->solver_cfg || !ret)
		return FLINT_EINVAL;
	timeout_ms = (p->timeout > 0 ? p->timeout : FLINT_ORDER_TIMEOUT) * 1000LL;
	if (!(names = names_list(p)))
		return FLINT_ENOMEM;
	/* an unknown profile fails before anything exists on the server */
	if ((r = flint_acme_profile_check(flint_acme_dir(a)->profiles, flint_acme_dir(a)->url,
					  p->profile, ret_err)) < 0)
		goto out;
	if ((r = start_solvers(&run, ret_err)) < 0 ||
	    (r = new_order(&run, &order_url, &order, ret_err)) < 0)
		goto out;
	if ((r = load_authorizations(&run, (const char *const *)order->authorizations,
				     order->n_authorizations, ret_err)) < 0)
		goto out;
	bind_solvers(&run);
	if ((r = present_all(&run, ret_err)) < 0 || (r = respond_all(&run, ret_err)) < 0)
		goto out;
	run.deadline = flint_now_ms() + timeout_ms;
	for (size_t i = 0; i < run.n_work; i++) {
		if (!run.work[i].type)
			continue;
		proved = true;
		if ((r = wait_authz(&run, &run.work[i], ret_err)) < 0)
			goto out;
	}
	cleanup_all(&run);

	/* when nothing had to be proved, newOrder's reply is current */
	run.deadline = flint_now_ms() + timeout_ms;
	if ((r = wait_order(&run, order_url, names, "ready valid processing",
			    proved ? NULL : &order, &ready, ret_err)) < 0)
		goto out;
	if (!strcmp(ready->status, "ready") &&
	    (r = finalize(&run, ready, names, &finalized, ret_err)) < 0)
		goto out;
	if ((r = wait_order(&run, order_url, names, "valid", finalized ? &finalized : &ready, &done,
			    ret_err)) < 0)
		goto out;
	if (!done->certificate) {
		flint_set_err(ret_err, "%s: the valid order has no certificate URL", names);
		r = FLINT_EPROTO;
		goto out;
	}
	r = download(&run, done->certificate, names, ret, ret_err);
out:
	run_end(&run, r, NULL);
	flint_acme_order_free(order);
	flint_acme_order_free(ready);
	flint_acme_order_free(finalized);
	flint_acme_order_free(done);
	free(order_url);
	free(names);
	return r;
}

/* ---------------------------------------------------- pre-authorization */

/* newAuthz (§7.4.1) for one name; *ret_url is the authorization's Location. */
static int new_authz(struct run *run, const char *name, char **ret_url, char **ret_err)
{
	struct flint_acme_reply *reply = NULL;
	char *body = NULL, *err = NULL;
	json_t *payload;
	int r = FLINT_ENOMEM;

	payload = json_pack("{s:{s:s, s:s}}", "identifier", "type",
			    flint_is_ip_address(name) ? "ip" : "dns", "value", name);
	if (!payload || !(body = json_dumps(payload, JSON_COMPACT)))
		goto out;
	r = flint_acme_post(run->a, flint_acme_dir(run->a)->new_authz, body, NULL, &reply, &err);
	if (r < 0) {
		flint_set_err(ret_err, "%s: newAuthz failed: %s", name, err ? err : flint_strerror(r));
		goto out;
	}
	if (!reply->http->location) {
		flint_set_err(ret_err, "%s: the newAuthz reply has no Location", name);
		r = FLINT_EPROTO;
		goto out;
	}
	r = (*ret_url = strdup(reply->http->location)) ? 0 : FLINT_ENOMEM;
	flint_debug("%s: pre-authorization %s", name, reply->http->location);
out:
	json_decref(payload);
	free(body);
	free(err);
	flint_acme_reply_free(reply);
	return r;
}

int flint_order_authorize(struct flint_acme *a, const struct flint_order_params *p,
			  char **ret_err)
{
	struct run run = {.a = a, .p = p};
	char **urls = NULL; /* the authorizations made, n_urls of them */
	size_t n_urls = 0;
	const char *failed_name = NULL;
	long long timeout_ms;
	int r;

	if (!a || !p || !p->names || p->n_names == 0 || !p->solver_cfg)
		return FLINT_EINVAL;
	if (!flint_acme_dir(a)->new_authz) {
		flint_set_err(ret_err, "%s offers no pre-authorization (its directory has no newAuthz)",
			      flint_acme_dir(a)->url);
		return FLINT_EUNSUPPORTED;
	}
	for (size_t i = 0; i < p->n_names; i++) {
		if (!strncmp(p->names[i], "*.", 2)) {
			flint_set_err(ret_err, "%s: a wildcard cannot be pre-authorized (RFC 8555 "
					       "§7.4.1); issue it directly",
				      p->names[i]);
			return FLINT_EINVAL;
		}
	}
	timeout_ms = (p->timeout > 0 ? p->timeout : FLINT_ORDER_TIMEOUT) * 1000LL;
	if (!(urls = calloc(p->n_names, sizeof(*urls)))) {
		r = FLINT_ENOMEM;
		goto out;
	}
	/* solvers first, as for orders: a port that cannot be bound leaves nothing behind */
	if ((r = start_solvers(&run, ret_err)) < 0)
		goto out;
	for (size_t i = 0; i < p->n_names && !failed_name; i++) {
		if ((r = new_authz(&run, p->names[i], &urls[n_urls], ret_err)) < 0)
			failed_name = p->names[i];
		else
			n_urls++;
	}
	/* the ones made before a failure are loaded too, so they get deactivated */
	if (failed_name) {
		const struct flint_problem *prob = flint_acme_problem(a);
		json_t *why = prob ? flint_problem_to_json(prob) : NULL; /* before new requests */
		char *ignored = NULL;

		(void)load_authorizations(&run, (const char *const *)urls, n_urls, &ignored);
		free(ignored);
		run.failed = NULL;
		json_decref(run.failed_problem);
		run.failed_problem = why;
		goto out;
	}
	if ((r = load_authorizations(&run, (const char *const *)urls, n_urls, ret_err)) < 0)
		goto out;
	bind_solvers(&run);
	if ((r = present_all(&run, ret_err)) < 0 || (r = respond_all(&run, ret_err)) < 0)
		goto out;
	run.deadline = flint_now_ms() + timeout_ms;
	for (size_t i = 0; i < run.n_work; i++)
		if (run.work[i].type && (r = wait_authz(&run, &run.work[i], ret_err)) < 0)
			goto out;
out:
	run_end(&run, r, failed_name);
	for (size_t i = 0; i < n_urls; i++)
		free(urls[i]);
	free(urls);
	return r;
}
