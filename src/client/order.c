/* The flint client's order driver (RFC 8555 §7.4 orders, §7.5 authorizations
 * and challenges, §8 key authorizations): a bounded state machine over libflint. */
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

static const char *str(const json_t *obj, const char *name)
{
	return json_string_value(json_object_get(obj, name));
}

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

/* The problem of an object ("error" member), described on one line. */
static char *error_of(const json_t *obj)
{
	struct flint_problem *p = NULL;
	json_t *e = json_object_get(obj, "error");
	char *s;

	if (!e || flint_problem_from_json(e, &p) < 0)
		return strdup("the server gave no reason");
	p->status = 0; /* an object's error: no HTTP status of its own to report */
	s = flint_problem_describe(p);
	flint_problem_free(p);
	return s;
}

/* ------------------------------------------------------------ the order */

static int new_order(struct run *run, char **ret_order_url, json_t **ret_order, char **ret_err)
{
	const struct flint_order_params *p = run->p;
	struct flint_acme_reply *reply = NULL;
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
	if (!json_is_object(reply->json) || !reply->http->location ||
	    !json_is_array(json_object_get(reply->json, "authorizations")) ||
	    !str(reply->json, "finalize")) {
		flint_set_err(ret_err, "%s: the newOrder reply lacks Location, authorizations or finalize",
			      names);
		r = FLINT_EPROTO;
		goto out;
	}
	if (!(*ret_order_url = strdup(reply->http->location))) {
		r = FLINT_ENOMEM;
		goto out;
	}
	*ret_order = json_incref(reply->json);
	flint_debug("order %s for %s: %s", *ret_order_url, names, str(reply->json, "status"));
	r = 0;
out:
	json_decref(ids);
	json_decref(payload);
	free(body);
	free(names);
	free(err);
	flint_acme_reply_free(reply);
	return r;
}

/* The challenge of type in authz, or NULL. */
static const json_t *challenge_of(const json_t *authz, const char *type)
{
	const json_t *chals = json_object_get(authz, "challenges");

	for (size_t i = 0; i < json_array_size(chals); i++) {
		const json_t *c = json_array_get(chals, i);
		const char *t = str(c, "type");

		if (t && !strcmp(t, type) && str(c, "url") && str(c, "token"))
			return c;
	}
	return NULL;
}

static char *offered_types(const json_t *authz)
{
	const json_t *chals = json_object_get(authz, "challenges");
	char *s = strdup(""), *grown;

	for (size_t i = 0; s && i < json_array_size(chals); i++) {
		const char *t = str(json_array_get(chals, i), "type");

		grown = flint_strdupf("%s%s%s", s, *s ? ", " : "", t ? t : "?");
		free(s);
		s = grown;
	}
	return s;
}

/* Picks the solver for one pending authorization and fills w. */
static int choose(struct run *run, const json_t *authz, struct work *w, char **ret_err)
{
	const struct flint_solver_config *cfg = run->p->solver_cfg;
	const json_t *chal = NULL;
	int r;

	for (size_t i = 0; flint_solver_types[i]; i++) {
		const struct flint_solver_type *t = flint_solver_types[i];

		if (!t->configured(cfg) || !t->applies(w->ident_type, w->task.wildcard))
			continue;
		chal = challenge_of(authz, t->challenge_type);
		if (chal) {
			w->type = t;
			break;
		}
	}
	if (!w->type) {
		char *offered = offered_types(authz);

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
	if (!flint_token_is_valid(str(chal, "token"))) {
		flint_set_err(ret_err, "%s: %s: the server sent an unusable token", w->display,
			      w->type->challenge_type);
		return FLINT_EPROTO;
	}
	if (!(w->chal_url = strdup(str(chal, "url"))) || !(w->token = strdup(str(chal, "token"))))
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
static int load_authorizations(struct run *run, const json_t *order, char **ret_err)
{
	const json_t *urls = json_object_get(order, "authorizations");
	size_t n = json_array_size(urls);
	int r = 0;

	run->work = calloc(n ? n : 1, sizeof(*run->work));
	if (!run->work)
		return FLINT_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct flint_acme_reply *reply = NULL;
		const char *url = json_string_value(json_array_get(urls, i));
		const json_t *id;
		const char *status, *itype, *ivalue;
		struct work *w = &run->work[run->n_work];

		if (!url) {
			flint_set_err(ret_err, "the order lists an authorization that is not a URL");
			return FLINT_EPROTO;
		}
		if ((r = fetch(run, url, &reply, ret_err)) < 0)
			return r;
		id = json_object_get(reply->json, "identifier");
		status = str(reply->json, "status");
		itype = str(id, "type");
		ivalue = str(id, "value");
		if (!status || !itype || !ivalue) {
			flint_set_err(ret_err, "%s: the authorization lacks status or identifier", url);
			flint_acme_reply_free(reply);
			return FLINT_EPROTO;
		}
		memset(w, 0, sizeof(*w));
		w->task.wildcard = json_is_true(json_object_get(reply->json, "wildcard"));
		if (!(w->display = flint_strdupf("%s%s", w->task.wildcard ? "*." : "", ivalue)) ||
		    !(w->authz_url = strdup(url)) || !(w->ident_type = strdup(itype)) ||
		    !(w->ident_value = strdup(ivalue))) {
			run->n_work++;
			flint_acme_reply_free(reply);
			return FLINT_ENOMEM;
		}
		run->n_work++;
		if (!strcmp(status, "valid")) {
			flint_progress("%s: already authorized", w->display);
			w->type = NULL;
		} else if (!strcmp(status, "pending")) {
			r = choose(run, reply->json, w, ret_err);
			if (r < 0)
				run->failed = w;
		} else {
			run->failed = w;
			run->failed_problem = json_incref(json_object_get(reply->json, "error"));
			char *why = error_of(reply->json);

			flint_set_err(ret_err, "%s: the authorization is %s: %s", w->display, status,
				      why ? why : "");
			free(why);
			r = FLINT_EPROTO;
		}
		flint_acme_reply_free(reply);
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
		const char *status;
		char *err = NULL, *what;
		long retry_after;
		int r;

		r = fetch(run, w->authz_url, &reply, &err);
		if (r < 0) {
			run->failed = w;
			flint_set_err(ret_err, "%s: %s: %s", w->display, ctype, err ? err : "?");
			free(err);
			return r;
		}
		status = str(reply->json, "status");
		retry_after = reply->http->retry_after;
		if (status && !strcmp(status, "valid")) {
			w->valid = true;
			flint_progress("%s: %s pending -> valid", w->display, ctype);
			flint_acme_reply_free(reply);
			return 0;
		}
		if (!status || strcmp(status, "pending") != 0) {
			const json_t *chal = challenge_of(reply->json, ctype);

			w->settled = status != NULL;
			char *why = chal ? error_of(chal) : error_of(reply->json);

			run->failed = w;
			run->failed_problem =
			    json_incref(json_object_get(chal ? chal : reply->json, "error"));
			flint_set_err(ret_err, "%s: %s pending -> %s: %s", w->display, ctype,
				      status ? status : "(no status)", why ? why : "?");
			free(why);
			flint_acme_reply_free(reply);
			return FLINT_EPROTO;
		}
		flint_acme_reply_free(reply);
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
 * when not NULL, is an order object the server has just sent (newOrder's or
 * finalize's reply): when its status is already wanted no request is made. */
static int wait_order(struct run *run, const char *order_url, const char *names, const char *want,
		      const json_t *known, json_t **ret, char **ret_err)
{
	const char *known_status = known ? str(known, "status") : NULL;

	if (known_status && in_list(want, known_status)) {
		*ret = json_incref((json_t *)known);
		return 0;
	}
	for (int attempt = 0;; attempt++) {
		struct flint_acme_reply *reply = NULL;
		const char *status;
		long retry_after;
		char *err = NULL;
		int r;

		r = fetch(run, order_url, &reply, &err);
		if (r < 0) {
			flint_set_err(ret_err, "%s: %s", names, err ? err : "?");
			free(err);
			return r;
		}
		status = str(reply->json, "status");
		retry_after = reply->http->retry_after;
		if (status && in_list(want, status)) {
			*ret = json_incref(reply->json);
			flint_acme_reply_free(reply);
			return 0;
		}
		if (!status || !strcmp(status, "invalid")) {
			char *why = error_of(reply->json);

			if (!run->failed_problem)
				run->failed_problem =
				    json_incref(json_object_get(reply->json, "error"));

			flint_set_err(ret_err, "%s: the order is %s: %s", names,
				      status ? status : "without status", why ? why : "?");
			free(why);
			flint_acme_reply_free(reply);
			return FLINT_EPROTO;
		}
		flint_acme_reply_free(reply);
		if ((r = poll_wait(run, attempt, retry_after, names, ret_err)) < 0)
			return r;
	}
}

/* Sends the CSR; *ret_order is the order object of the server's reply. */
static int finalize(struct run *run, const json_t *order, const char *names, json_t **ret_order,
		    char **ret_err)
{
	const struct flint_order_params *p = run->p;
	struct flint_acme_reply *reply = NULL;
	unsigned char *der = NULL;
	size_t der_len = 0;
	char *csr = NULL, *body = NULL, *err = NULL;
	int r;

	if ((r = flint_csr_build(p->cert_key, p->names, p->n_names, &der, &der_len)) < 0) {
		flint_set_err(ret_err, "%s: cannot build the CSR: %s", names, flint_strerror(r));
		return r;
	}
	r = FLINT_ENOMEM;
	if (flint_b64url_encode(der, der_len, &csr) < 0 ||
	    !(body = flint_strdupf("{\"csr\":\"%s\"}", csr)))
		goto out;
	r = flint_acme_post(run->a, str(order, "finalize"), body, NULL, &reply, &err);
	if (r < 0) {
		flint_set_err(ret_err, "%s: finalize failed: %s", names, err ? err : "?");
		goto out;
	}
	*ret_order = json_incref(reply->json);
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
	json_t *order = NULL, *ready = NULL, *finalized = NULL, *done = NULL;
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
	if ((r = load_authorizations(&run, order, ret_err)) < 0)
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
	if ((r = wait_order(&run, order_url, names, "ready valid processing", proved ? NULL : order,
			    &ready, ret_err)) < 0)
		goto out;
	if (!strcmp(str(ready, "status"), "ready") &&
	    (r = finalize(&run, ready, names, &finalized, ret_err)) < 0)
		goto out;
	if ((r = wait_order(&run, order_url, names, "valid", finalized ? finalized : ready, &done,
			    ret_err)) < 0)
		goto out;
	if (!str(done, "certificate")) {
		flint_set_err(ret_err, "%s: the valid order has no certificate URL", names);
		r = FLINT_EPROTO;
		goto out;
	}
	r = download(&run, str(done, "certificate"), names, ret, ret_err);
out:
	run_end(&run, r, NULL);
	json_decref(order);
	json_decref(ready);
	json_decref(finalized);
	json_decref(done);
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
	json_t *authzs = NULL, *urls = NULL;
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
	if (!(urls = json_array()) || !(authzs = json_pack("{s:O}", "authorizations", urls))) {
		r = FLINT_ENOMEM;
		goto out;
	}
	/* solvers first, as for orders: a port that cannot be bound leaves nothing behind */
	if ((r = start_solvers(&run, ret_err)) < 0)
		goto out;
	for (size_t i = 0; i < p->n_names && !failed_name; i++) {
		char *url = NULL;

		if ((r = new_authz(&run, p->names[i], &url, ret_err)) < 0 ||
		    (r = json_array_append_new(urls, json_string(url)) < 0 ? FLINT_ENOMEM : 0) < 0)
			failed_name = p->names[i];
		free(url);
	}
	/* the ones made before a failure are loaded too, so they get deactivated */
	if (failed_name) {
		const struct flint_problem *prob = flint_acme_problem(a);
		json_t *why = prob ? flint_problem_to_json(prob) : NULL; /* before new requests */
		char *ignored = NULL;

		(void)load_authorizations(&run, authzs, &ignored);
		free(ignored);
		run.failed = NULL;
		json_decref(run.failed_problem);
		run.failed_problem = why;
		goto out;
	}
	if ((r = load_authorizations(&run, authzs, ret_err)) < 0)
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
	json_decref(urls);
	json_decref(authzs);
	return r;
}
