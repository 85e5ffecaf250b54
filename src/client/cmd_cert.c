/* `flint issue`, `flint renew` and `flint revoke`: certificates from order
 * to disk (RFC 8555 §7.4), renewal when due, revocation (§7.6). */
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "account.h"
#include "acme.h"
#include "ari.h"
#include "b64.h"
#include "cert.h"
#include "certstore.h"
#include "cmd.h"
#include "error.h"
#include "hook.h"
#include "keyproc.h"
#include "identifier.h"
#include "interrupt.h"
#include "order.h"
#include "output.h"
#include "renew.h"
#include "state.h"
#include "timefmt.h"

static void fetch_ari(struct flint_acme *a, const char *name, struct flint_ari_state *s,
		      int64_t now);

static const struct {
	const char *name;
	enum flint_key_type type;
	int bits;
} cert_key_types[] = {
	{"ec256", FLINT_KEY_P256, 0},      {"ec384", FLINT_KEY_P384, 0},
	{"rsa2048", FLINT_KEY_RSA, 2048}, {"rsa3072", FLINT_KEY_RSA, 3072},
	{"rsa4096", FLINT_KEY_RSA, 4096},
};

int flint_cert_key_type(const char *name, int *ret_type, int *ret_bits)
{
	for (size_t i = 0; i < sizeof(cert_key_types) / sizeof(cert_key_types[0]); i++) {
		if (name && !strcmp(name, cert_key_types[i].name)) {
			*ret_type = (int)cert_key_types[i].type;
			*ret_bits = cert_key_types[i].bits;
			return 0;
		}
	}
	return FLINT_EINVAL;
}

bool flint_cmd_any_solver(const struct flint_solver_config *cfg)
{
	for (size_t i = 0; flint_solver_types[i]; i++)
		if (flint_solver_types[i]->configured(cfg))
			return true;
	return false;
}

/* Looks like an address rather than a DNS name: has a ':' or only digits and dots. */
static bool ip_like(const char *s)
{
	return strchr(s, ':') || (*s && strspn(s, "0123456789.") == strlen(s));
}

/* Normalises one command-line name (a DNS name, or an IP address for RFC
 * 8738); prints why when it is refused. */
static int normalize_name(const char *in, char **ret)
{
	struct flint_problem *why = NULL;
	int r;

	if (ip_like(in)) {
		r = flint_ip_normalize(in, ret, &why);
		if (r < 0)
			flint_error("%s: not a usable IP address: %s", in,
				    why ? why->detail : flint_strerror(r));
	} else {
		r = flint_dns_name_normalize(in, ret, &why);
		if (r < 0)
			flint_error("%s: not a usable DNS name: %s", in,
				    why ? why->detail : flint_strerror(r));
	}
	flint_problem_free(why);
	return r;
}

int flint_cmd_normalize_names(char *const *in, size_t n, char ***ret, size_t *ret_n)
{
	char **out = calloc(n ? n : 1, sizeof(*out));
	size_t m = 0;

	if (!out)
		return FLINT_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		char *norm = NULL;
		bool dup = false;
		int r = normalize_name(in[i], &norm);

		if (r < 0) {
			flint_string_array_free(out, m);
			return r;
		}
		for (size_t j = 0; j < m; j++)
			dup = dup || !strcmp(out[j], norm);
		if (dup)
			free(norm);
		else
			out[m++] = norm;
	}
	*ret = out;
	*ret_n = m;
	return 0;
}

int flint_cmd_account_for(const struct flint_opts *o, struct flint_acme *a, struct flint_state *st,
			  struct flint_account **ret)
{
	struct flint_account_params p = {
		.emails = o->emails, .n_emails = o->n_emails, .agree_tos = o->agree_tos,
		.eab_kid = o->eab_kid, .eab_hmac_key = o->eab_hmac_key, .eab_alg = o->eab_alg};
	const char *kt = o->account_key_type ? o->account_key_type : "es256";
	char *err = NULL;
	int r;

	if (flint_account_key_type(kt, &p.key_type, &p.rsa_bits) < 0) {
		flint_error("--account-key-type %s: account keys are es256, es384, rs256 or eddsa",
			    kt);
		return FLINT_EINVAL;
	}
	r = flint_account_ensure(a, st, &p, ret, NULL, &err);
	if (r < 0)
		flint_error("account: %s", err ? err : flint_strerror(r));
	free(err);
	return r;
}

struct issue_req {
	char **names;
	size_t n_names;
	const char *key_type; /* ec256 ... */
	const struct flint_solver_config *solver;
	const char *deploy_hook;
	int timeout;
	const char *preferred_chain;
	const char *profile;
	const char *replaces; /* RFC 9773 certID of the certificate replaced; may be NULL */
	bool renewal;         /* for --json's "renewed" */
};

static int run_deploy_hook(const char *hook, const char *name, const char *dir, const char *server,
			   const struct issue_req *q)
{
	char *env[9] = {0}, *names = strdup(""), *err = NULL;
	int r = FLINT_ENOMEM;

	for (size_t i = 0; names && i < q->n_names; i++) {
		char *grown = flint_strdupf("%s%s%s", names, i ? " " : "", q->names[i]);

		free(names);
		names = grown;
	}
	if (!names || !(env[0] = flint_strdupf("FLINT_CERT_NAME=%s", name)) ||
	    !(env[1] = flint_strdupf("FLINT_CERT_DIR=%s", dir)) ||
	    !(env[2] = flint_strdupf("FLINT_FULLCHAIN=%s/fullchain.pem", dir)) ||
	    !(env[3] = flint_strdupf("FLINT_KEY=%s/key.pem", dir)) ||
	    !(env[4] = flint_strdupf("FLINT_CERT=%s/cert.pem", dir)) ||
	    !(env[5] = flint_strdupf("FLINT_CHAIN=%s/chain.pem", dir)) ||
	    !(env[6] = flint_strdupf("FLINT_SERVER=%s", server)) ||
	    !(env[7] = flint_strdupf("FLINT_NAMES=%s", names)))
		goto out;
	flint_debug("running the deploy hook %s", hook);
	r = flint_hook_run(hook, (const char *const *)env, FLINT_HOOK_TIMEOUT, &err);
	if (r < 0)
		flint_error("%s: deploy hook: %s (the certificate is stored)", name,
			    err ? err : flint_strerror(r));
out:
	if (r == FLINT_ENOMEM)
		flint_error("out of memory");
	for (int i = 0; i < 8; i++)
		free(env[i]);
	free(names);
	free(err);
	return r;
}

/* --json: the result object of one certificate. */
static void emit_cert(const char *name, char *const *names, size_t n, const char *dir,
		      X509 *leaf, int64_t not_before, int64_t not_after, bool renewed)
{
	char nb[FLINT_TIME_BUF], na[FLINT_TIME_BUF];
	char *serial = leaf ? flint_cert_serial_hex(leaf) : NULL;
	char *fullchain = flint_strdupf("%s/fullchain.pem", dir);
	char *key = flint_strdupf("%s/key.pem", dir);
	json_t *arr = json_array(), *o;

	if (!flint_json())
		goto out;
	for (size_t i = 0; arr && i < n; i++)
		json_array_append_new(arr, json_string(names[i]));
	flint_time_format(not_before, nb);
	flint_time_format(not_after, na);
	o = json_pack("{s:s, s:O, s:s?, s:s, s:s, s:s?, s:s?, s:b}", "name", name, "names", arr,
		      "serial", serial, "not_before", nb, "not_after", na, "fullchain", fullchain,
		      "key", key, "renewed", renewed);
	flint_json_emit(o);
out:
	json_decref(arr);
	free(serial);
	free(fullchain);
	free(key);
}

/* Orders, stores and deploys one certificate. Prints its own errors. */
static int issue_one(struct flint_acme *a, struct flint_state *st, const struct issue_req *q)
{
	struct flint_order_params op = {0};
	struct flint_order_failure failure = {0};
	struct flint_renewal rn = {0};
	struct flint_chain *chain = NULL;
	struct flint_keyproc *keyproc = NULL;
	struct flint_jwk *key = NULL;
	unsigned char *csr = NULL;
	size_t csr_len = 0;
	char *err = NULL, *dir = NULL, *serial = NULL, *staged = NULL;
	char until[FLINT_TIME_BUF];
	bool hook_failed = false;
	int type, bits, r;

	if (flint_cert_key_type(q->key_type, &type, &bits) < 0) {
		flint_error("--key-type %s: certificate keys are ec256, ec384, rsa2048, rsa3072 "
			    "or rsa4096",
			    q->key_type);
		return FLINT_EINVAL;
	}
	if ((r = flint_state_cert_dir(st, q->names[0], &dir, &err)) < 0 ||
	    (r = flint_mkdirs(dir, 0700, &err)) < 0)
		goto out;
	/* the certificate key is made, written (staged next to key.pem) and used
	 * for the CSR by a key process of its own (keyproc.h) */
	r = FLINT_ENOMEM;
	if (!(staged = flint_strdupf("%s/key.pem.new", dir)))
		goto out;
	unlink(staged); /* what a run that failed before storing left */
	if ((r = flint_keyproc_start(staged, true, (enum flint_key_type)type, bits, &keyproc, &key,
				     &err)) < 0)
		goto out;
	if ((r = flint_keyproc_csr(keyproc, (const char *const *)q->names, q->n_names, &csr,
				   &csr_len)) < 0) {
		flint_set_err(&err, "cannot make the certificate request: %s", flint_strerror(r));
		goto out;
	}
	op.names = (const char *const *)q->names;
	op.n_names = q->n_names;
	op.solver_cfg = q->solver;
	op.cert_key = key->pkey;
	op.csr_der = csr;
	op.csr_len = csr_len;
	op.timeout = q->timeout;
	op.preferred_chain = q->preferred_chain;
	op.profile = q->profile;
	op.replaces = q->replaces;
	op.failure = &failure;
	if ((r = flint_order_issue(a, &op, &chain, &err)) < 0)
		goto out;
	rn.server = (char *)flint_acme_dir(a)->url;
	rn.names = q->names;
	rn.n_names = q->n_names;
	rn.key_type = (char *)q->key_type;
	rn.solver = *q->solver; /* flint_renewal_save leaves tsig_key out */
	rn.tsig_key_inline = q->solver->tsig_key != NULL;
	rn.deploy_hook = (char *)q->deploy_hook;
	rn.preferred_chain = (char *)q->preferred_chain;
	rn.profile = (char *)q->profile;
	rn.timeout = q->timeout;
	rn.not_before = chain->not_before;
	rn.not_after = chain->not_after;
	/* RFC 9773 §4.3.3: ask for the renewal window right after issuance */
	if (flint_acme_dir(a)->renewal_info && flint_ari_cert_id(chain->leaf, &rn.ari.cert_id) == 0)
		fetch_ari(a, q->names[0], &rn.ari, (int64_t)time(NULL));
	if ((r = flint_certstore_save(dir, chain, staged, &rn, &err)) < 0)
		goto out;
	free(staged);
	staged = NULL; /* it is key.pem now */
	serial = flint_cert_serial_hex(chain->leaf);
	flint_time_format(chain->not_after, until);
	flint_progress("%s: certificate %s stored in %s (valid until %s)", q->names[0],
		       serial ? serial : "?", dir, until);
	emit_cert(q->names[0], q->names, q->n_names, dir, chain->leaf, chain->not_before,
		  chain->not_after, q->renewal);
	/* the hook prints its own failure */
	if (q->deploy_hook &&
	    run_deploy_hook(q->deploy_hook, q->names[0], dir, flint_acme_dir(a)->url, q) < 0)
		hook_failed = true;
out:
	if (r < 0) {
		if (!failure.identifier && q->n_names)
			failure.identifier = json_pack(
			    "{s:s, s:s}", "type", flint_is_ip_address(q->names[0]) ? "ip" : "dns",
			    "value", q->names[0]);
		flint_error_ctx(failure.identifier, failure.problem, "%s",
				err ? err : flint_strerror(r));
	} else if (hook_failed)
		r = FLINT_EIO;
	flint_ari_state_clear(&rn.ari);
	if (staged)
		unlink(staged); /* a key nothing was issued for */
	free(staged);
	free(csr);
	free(serial);
	free(err);
	free(dir);
	flint_chain_free(chain);
	flint_jwk_free(key);
	flint_keyproc_free(keyproc);
	return r;
}

struct flint_solver_config flint_cmd_solver_of(const struct flint_opts *o)
{
	struct flint_solver_config cfg = o->solver;

	if (o->timeout > 0 && cfg.timeout_seconds == 0)
		cfg.timeout_seconds = o->timeout;
	return cfg;
}

int flint_cmd_issue(const struct flint_opts *o)
{
	struct flint_solver_config cfg = flint_cmd_solver_of(o);
	struct flint_state *st = NULL;
	struct flint_acme *a = NULL;
	struct flint_account *acct = NULL;
	char **names = NULL;
	size_t n = 0;
	int code = FLINT_EXIT_ERROR, type, bits;

	if (o->n_args == 0) {
		flint_error("issue: name at least one DNS name");
		return FLINT_EXIT_USAGE;
	}
	if (o->key_type && flint_cert_key_type(o->key_type, &type, &bits) < 0) {
		flint_error("--key-type %s: certificate keys are ec256, ec384, rsa2048, rsa3072 "
			    "or rsa4096",
			    o->key_type);
		return FLINT_EXIT_USAGE;
	}
	if ((o->eab_kid != NULL) != (o->eab_hmac_key != NULL) || (o->eab_alg && !o->eab_kid)) {
		flint_error("external account binding needs both --eab-kid and --eab-hmac-key");
		return FLINT_EXIT_USAGE;
	}
	if (!flint_cmd_any_solver(&cfg)) {
		flint_error("issue: choose how to answer challenges: --http01-port, --webroot, "
			    "--tlsalpn01-port, --dns-hook or --dns-update");
		return FLINT_EXIT_USAGE;
	}
	if (flint_cmd_normalize_names(o->args, o->n_args, &names, &n) < 0)
		return FLINT_EXIT_USAGE;
	if (flint_cmd_open_state(o, &st) < 0 || flint_cmd_open_acme(o, NULL, &a) < 0 ||
	    flint_cmd_account_for(o, a, st, &acct) < 0)
		goto out;
	struct issue_req q = {
		.names = names,
		.n_names = n,
		.key_type = o->key_type ? o->key_type : "ec256",
		.solver = &cfg,
		.deploy_hook = o->deploy_hook,
		.timeout = o->timeout,
		.preferred_chain = o->preferred_chain,
		.profile = o->profile,
	};
	if (issue_one(a, st, &q) == 0)
		code = FLINT_EXIT_OK;
out:
	flint_account_free(acct);
	flint_acme_free(a);
	flint_state_free(st);
	flint_string_array_free(names, n);
	return code;
}

/* ---------------------------------------------------------------- renew */

/* The stored certificate (cert.pem), NULL when unreadable. */
static struct flint_chain *stored_chain(const char *dir)
{
	struct flint_chain *c = NULL;
	char *path = flint_strdupf("%s/cert.pem", dir), *pem = NULL;
	size_t len = 0;

	if (path && flint_read_file(path, 1024 * 1024, &pem, &len, NULL) == 0)
		flint_chain_parse(pem, len, &c, NULL);
	free(pem);
	free(path);
	return c;
}

/* --json: a stored certificate that was not renewed. */
static void emit_stored(const char *dir, const char *name, const struct flint_renewal *rn)
{
	struct flint_chain *c = NULL;
	char *path = flint_strdupf("%s/cert.pem", dir), *pem = NULL;
	size_t len = 0;

	if (!flint_json())
		goto out;
	if (path && flint_read_file(path, 1024 * 1024, &pem, &len, NULL) == 0)
		flint_chain_parse(pem, len, &c, NULL);
	emit_cert(name, rn->names, rn->n_names, dir, c ? c->leaf : NULL,
		  c ? c->not_before : rn->not_before, c ? c->not_after : rn->not_after, false);
out:
	flint_chain_free(c);
	free(pem);
	free(path);
}

static bool named(const struct flint_opts *o, const char *name)
{
	for (size_t i = 0; i < o->n_args; i++)
		if (!strcmp(o->args[i], name))
			return true;
	return false;
}

/* One renew run: the session is kept while consecutive certificates share a server. */
struct renew_run {
	const struct flint_opts *o;
	struct flint_state *st;
	struct flint_acme *a;
	struct flint_account *acct;
	int64_t now;
	size_t renewed, failed;
};

/* A session with server (its directory), reusing the current one when it matches. */
static int renew_directory(struct renew_run *rr, const char *server)
{
	if (rr->a && !strcmp(flint_acme_dir(rr->a)->url, server))
		return 0;
	flint_account_free(rr->acct);
	flint_acme_free(rr->a);
	rr->acct = NULL;
	rr->a = NULL;
	return flint_cmd_open_acme(rr->o, server, &rr->a) < 0 ? FLINT_EIO : 0;
}

/* A session and account for server. */
static int renew_session(struct renew_run *rr, const char *server)
{
	if (renew_directory(rr, server) < 0)
		return FLINT_EIO;
	if (rr->acct)
		return 0;
	if (flint_cmd_account_for(rr->o, rr->a, rr->st, &rr->acct) < 0) {
		flint_account_free(rr->acct);
		rr->acct = NULL;
		return FLINT_EIO;
	}
	return 0;
}

/* One renewalInfo GET for s->cert_id into s (the directory offers it);
 * warns on failure, keeping what s knew. */
static void fetch_ari(struct flint_acme *a, const char *name, struct flint_ari_state *s,
		      int64_t now)
{
	const char *base = flint_acme_dir(a)->renewal_info;
	struct flint_acme_reply *reply = NULL;
	char *url = NULL, *err = NULL;
	uint64_t rnd = 0;
	long status = 0, retry_after = -1;
	int r;

	if (!base || !s->cert_id ||
	    !(url = flint_strdupf("%s%s%s", base,
				  *base && base[strlen(base) - 1] == '/' ? "" : "/", s->cert_id)))
		return;
	r = flint_acme_get(a, url, &reply, &err);
	if (r == 0) {
		status = reply->http->status;
		retry_after = reply->http->retry_after;
	}
	if (RAND_bytes((unsigned char *)&rnd, sizeof(rnd)) != 1)
		rnd = (uint64_t)now ^ (uint64_t)(uintptr_t)s;
	free(err);
	err = NULL;
	r = flint_ari_update(s, status, reply ? reply->http->body : NULL,
			     reply ? reply->http->body_len : 0, retry_after, now, rnd, &err);
	if (r < 0)
		flint_warn("%s: %s (%s); %s", name, err ? err : flint_strerror(r), url,
			   s->end > s->start ? "keeping the window it gave before"
					     : "renewing by the certificate's lifetime");
	flint_acme_reply_free(reply);
	free(url);
	free(err);
}

/* RFC 9773: refreshes rn->ari for the stored certificate (certID cert_id)
 * from the server's renewalInfo unless Retry-After says not yet, and writes
 * what changed to renewal.json. Returns whether the server offers
 * renewalInfo (or a window learnt from it is still current). Warns, never fails. */
static bool renew_ari(struct renew_run *rr, const char *name, const char *path,
		      struct flint_renewal *rn, const char *cert_id)
{
	char *err = NULL;

	if (!rn->ari.cert_id || strcmp(rn->ari.cert_id, cert_id) != 0) {
		/* state of another (older) certificate: start afresh */
		flint_ari_state_clear(&rn->ari);
		if (!(rn->ari.cert_id = strdup(cert_id)))
			return false;
	}
	if (!flint_ari_should_fetch(&rn->ari, rr->now)) {
		flint_debug("%s: renewalInfo not asked again before the server's Retry-After", name);
		return rn->ari.end > rn->ari.start;
	}
	/* the directory alone: an account is only needed to renew */
	if (renew_directory(rr, rn->server) < 0)
		return false;
	if (!flint_acme_dir(rr->a)->renewal_info) {
		flint_ari_state_clear(&rn->ari);
		return false;
	}
	fetch_ari(rr->a, name, &rn->ari, rr->now);
	if (flint_renewal_save(path, rn, &err) < 0)
		flint_warn("%s: cannot record renewalInfo in %s: %s", name, path,
			   err ? err : "out of memory");
	free(err);
	return rn->ari.end > rn->ari.start;
}

/* The solver for a renewal: the command line's when it configures one, else
 * the stored one with the command line's TSIG key, key file or zone. */
static int renew_solver(const struct flint_opts *o, const struct flint_renewal *rn,
			const char *name, struct flint_solver_config *ret)
{
	struct flint_solver_config cli = flint_cmd_solver_of(o);

	/* a solver named on the command line replaces the stored one whole */
	if (flint_cmd_any_solver(&cli)) {
		*ret = cli;
		return 0;
	}
	*ret = rn->solver;
	if (cli.tsig_key || cli.tsig_key_file) {
		ret->tsig_key = cli.tsig_key;
		ret->tsig_key_file = cli.tsig_key ? NULL : cli.tsig_key_file;
	}
	if (cli.dns_update_zone)
		ret->dns_update_zone = cli.dns_update_zone;
	if (o->timeout > 0)
		ret->timeout_seconds = o->timeout;
	if (ret->dns_update_server && rn->tsig_key_inline && !ret->tsig_key && !ret->tsig_key_file) {
		flint_error("%s: issued with --tsig-key, which renewal.json does not keep (a secret); "
			    "pass --tsig-key again, or --tsig-key-file",
			    name);
		return FLINT_EINVAL;
	}
	return 0;
}

/* Renews the certificate stored as name when due; counts the outcome. */
static void renew_one(struct renew_run *rr, const char *certs, const char *name)
{
	const struct flint_opts *o = rr->o;
	struct flint_renewal *rn = NULL;
	struct flint_solver_config cfg;
	struct flint_renew_decision d;
	struct flint_chain *chain = NULL;
	char *dir = NULL, *path = NULL, *err = NULL, *cert_id = NULL, when[FLINT_TIME_BUF];
	int64_t nb, na;
	bool ari = false;

	if (!(dir = flint_strdupf("%s/%s", certs, name)) ||
	    !(path = flint_strdupf("%s/renewal.json", dir)) ||
	    flint_renewal_load(path, &rn, &err) < 0) {
		flint_error("%s: %s", name, err ? err : "out of memory");
		rr->failed++;
		goto out;
	}
	if (o->server && strcmp(o->server, rn->server) != 0) {
		flint_debug("%s: belongs to %s, not %s", name, rn->server, o->server);
		goto out;
	}
	chain = stored_chain(dir);
	nb = chain ? chain->not_before : rn->not_before;
	na = chain ? chain->not_after : rn->not_after;
	if (rn->revoked && !o->force && !named(o, name)) {
		flint_debug("%s: revoked; not renewed without --force or naming it", name);
		emit_stored(dir, name, rn);
		goto out;
	}
	/* RFC 9773: the CA's suggestedWindow when it has one for this certificate */
	if (chain && flint_ari_cert_id(chain->leaf, &cert_id) == 0)
		ari = renew_ari(rr, name, path, rn, cert_id);
	else
		flint_debug("%s: no certID (no Authority Key Identifier); lifetime rule", name);
	flint_renew_decide(nb, na, ari ? &rn->ari : NULL, rr->now, &d);
	flint_time_format(d.when, when);
	if (d.due && d.by_ari) {
		char ws[FLINT_TIME_BUF], we[FLINT_TIME_BUF];

		flint_time_format(rn->ari.start, ws);
		flint_time_format(rn->ari.end, we);
		flint_progress("%s: renewing (the CA's renewal window %s .. %s, chosen %s%s%s)", name,
			       ws, we, when, rn->ari.explanation_url ? "; see " : "",
			       rn->ari.explanation_url ? rn->ari.explanation_url : "");
	} else if (d.due) {
		flint_progress("%s: renewing (due since %s)", name, when);
	} else if (o->force) {
		flint_progress("%s: renewing (forced; due at %s)", name, when);
	} else {
		flint_debug("%s: not due until %s%s", name, when,
			    d.by_ari ? " (chosen in the CA's renewalInfo window)" : "");
		emit_stored(dir, name, rn);
		goto out;
	}
	if (renew_solver(o, rn, name, &cfg) < 0 || renew_session(rr, rn->server) < 0) {
		rr->failed++;
		goto out;
	}
	struct issue_req q = {
		.names = rn->names,
		.n_names = rn->n_names,
		.key_type = o->key_type ? o->key_type : (rn->key_type ? rn->key_type : "ec256"),
		.solver = &cfg,
		.deploy_hook = o->deploy_hook ? o->deploy_hook : rn->deploy_hook,
		.timeout = o->timeout ? o->timeout : rn->timeout,
		.preferred_chain = o->preferred_chain ? o->preferred_chain : rn->preferred_chain,
		.profile = o->profile ? o->profile : rn->profile,
		.replaces = d.due && d.by_ari ? cert_id : NULL,
		.renewal = true,
	};
	if (issue_one(rr->a, rr->st, &q) == 0)
		rr->renewed++;
	else
		rr->failed++;
out:
	flint_chain_free(chain);
	flint_renewal_free(rn);
	free(cert_id);
	free(dir);
	free(path);
	free(err);
}

int flint_cmd_renew(const struct flint_opts *o)
{
	struct renew_run rr = {.o = o, .now = (int64_t)time(NULL)};
	char **list = NULL, *certs = NULL, *err = NULL;
	size_t n = 0;
	int type, bits;

	if (o->key_type && flint_cert_key_type(o->key_type, &type, &bits) < 0) {
		flint_error("--key-type %s: certificate keys are ec256, ec384, rsa2048, rsa3072 "
			    "or rsa4096",
			    o->key_type);
		return FLINT_EXIT_USAGE;
	}
	if (flint_cmd_open_state(o, &rr.st) < 0)
		return FLINT_EXIT_ERROR;
	if (!(certs = flint_strdupf("%s/certs", rr.st->dir)) ||
	    flint_certstore_list(certs, &list, &n, &err) < 0) {
		flint_error("%s", err ? err : "out of memory");
		rr.failed++;
		goto out;
	}
	for (size_t i = 0; i < o->n_args; i++) {
		bool found = false;

		for (size_t j = 0; j < n; j++)
			found = found || !strcmp(list[j], o->args[i]);
		if (!found) {
			flint_error("renew: no stored certificate named %s in %s", o->args[i], certs);
			rr.failed++;
		}
	}
	for (size_t i = 0; i < n && !flint_interrupted(); i++)
		if (!o->n_args || named(o, list[i]))
			renew_one(&rr, certs, list[i]);
	if (flint_interrupted()) {
		flint_error("renew: interrupted");
		rr.failed++;
	}
out:
	flint_account_free(rr.acct);
	flint_acme_free(rr.a);
	flint_state_free(rr.st);
	flint_string_array_free(list, n);
	free(certs);
	free(err);
	if (rr.failed)
		return FLINT_EXIT_ERROR;
	return rr.renewed ? FLINT_EXIT_OK : FLINT_EXIT_NOTHING_DUE;
}

/* --------------------------------------------------------------- revoke */

static int mark_revoked(const char *dir)
{
	struct flint_renewal *rn = NULL;
	char *path = flint_strdupf("%s/renewal.json", dir), *err = NULL;
	int r = FLINT_ENOMEM;

	if (!path)
		return r;
	r = flint_renewal_load(path, &rn, &err);
	if (r == 0) {
		rn->revoked = true;
		r = flint_renewal_save(path, rn, &err);
	}
	if (r < 0 && r != FLINT_ENOTFOUND)
		flint_warn("revoked, but cannot record it in %s: %s", path,
			   err ? err : flint_strerror(r));
	flint_renewal_free(rn);
	free(path);
	free(err);
	return r;
}

/* The revokeCert payload: the leaf in DER, base64url, and the reason when given. */
static char *revoke_body(X509 *leaf, int reason)
{
	unsigned char *der = NULL;
	char *b64 = NULL, *body = NULL;
	int len = i2d_X509(leaf, &der);

	if (len > 0 && flint_b64url_encode(der, (size_t)len, &b64) == 0)
		body = reason >= 0
			       ? flint_strdupf("{\"certificate\":\"%s\",\"reason\":%d}", b64, reason)
			       : flint_strdupf("{\"certificate\":\"%s\"}", b64);
	OPENSSL_free(der);
	free(b64);
	return body;
}

/* POSTs revokeCert signed with the certificate's key (jwk, §7.6) or the account (kid). */
static int revoke_post(const struct flint_opts *o, struct flint_acme *a, struct flint_state *st,
		       const char *dir, const char *body, char **ret_err)
{
	const char *url = flint_acme_dir(a)->revoke_cert;
	struct flint_acme_reply *reply = NULL;
	struct flint_account *acct = NULL;
	struct flint_jwk *cert_jwk = NULL;
	struct flint_keyproc *cert_proc = NULL;
	char *path = NULL;
	int r;

	if (!url) {
		flint_set_err(ret_err, "%s: the directory has no revokeCert", flint_acme_dir(a)->url);
		return FLINT_EUNSUPPORTED;
	}
	if (o->with_cert_key) {
		r = FLINT_ENOMEM;
		/* the certificate key signs from a key process, like the account key */
		if (!(path = flint_strdupf("%s/key.pem", dir)) ||
		    (r = flint_keyproc_start(path, false, FLINT_KEY_P256, 0, &cert_proc, &cert_jwk,
					     ret_err)) < 0)
			goto out;
		r = flint_acme_post_with(a, cert_jwk, NULL, url, body, NULL, &reply, ret_err);
		goto out;
	}
	r = flint_account_load(a, st, &acct, ret_err);
	if (r == FLINT_ENOTFOUND)
		flint_set_err(ret_err, "no account for %s in %s; revoke with --with-cert-key instead",
			      flint_acme_dir(a)->url, st->dir);
	if (r == 0)
		r = flint_acme_post(a, url, body, NULL, &reply, ret_err);
out:
	flint_acme_reply_free(reply);
	flint_account_free(acct);
	flint_jwk_free(cert_jwk);
	flint_keyproc_free(cert_proc);
	free(path);
	return r;
}

int flint_cmd_revoke(const struct flint_opts *o)
{
	struct flint_state *st = NULL;
	struct flint_acme *a = NULL;
	struct flint_renewal *rn = NULL;
	struct flint_chain *chain = NULL;
	char *name = NULL, *dir = NULL, *path = NULL, *pem = NULL, *err = NULL, *body = NULL,
	     *serial = NULL;
	bool printed = false; /* the state and session helpers print their own errors */
	size_t len = 0;
	int r;

	if (o->n_args != 1) {
		flint_error("revoke: name exactly one stored certificate");
		return FLINT_EXIT_USAGE;
	}
	if (normalize_name(o->args[0], &name) < 0)
		return FLINT_EXIT_USAGE;
	printed = true;
	if ((r = flint_cmd_open_state(o, &st)) < 0)
		goto out;
	printed = false;
	if ((r = flint_state_cert_dir(st, name, &dir, &err)) < 0)
		goto out;
	r = FLINT_ENOMEM;
	if (!(path = flint_strdupf("%s/cert.pem", dir)))
		goto out;
	r = flint_read_file(path, 1024 * 1024, &pem, &len, &err);
	if (r == FLINT_ENOTFOUND)
		flint_set_err(&err, "no stored certificate (%s)", path);
	if (r < 0 || (r = flint_chain_parse(pem, len, &chain, &err)) < 0)
		goto out;
	if (!o->server) {
		free(path);
		r = FLINT_ENOMEM;
		if (!(path = flint_strdupf("%s/renewal.json", dir)))
			goto out;
		r = flint_renewal_load(path, &rn, &err);
		if (r == FLINT_ENOTFOUND)
			flint_set_err(&err, "%s is missing; pass --server", path);
		if (r < 0)
			goto out;
	}
	printed = true;
	if ((r = flint_cmd_open_acme(o, o->server ? o->server : rn->server, &a)) < 0)
		goto out;
	printed = false;
	r = FLINT_ENOMEM;
	if (!(body = revoke_body(chain->leaf, o->reason)))
		goto out;
	if ((r = revoke_post(o, a, st, dir, body, &err)) < 0)
		goto out;
	serial = flint_cert_serial_hex(chain->leaf);
	flint_progress("%s: certificate %s revoked%s", name, serial ? serial : "?",
		       o->with_cert_key ? " (signed with the certificate key)" : "");
	mark_revoked(dir);
out:
	if (r < 0 && !printed)
		flint_error("%s: revoke: %s", name, err ? err : flint_strerror(r));
	flint_chain_free(chain);
	flint_renewal_free(rn);
	flint_acme_free(a);
	flint_state_free(st);
	free(name);
	free(dir);
	free(path);
	free(pem);
	free(err);
	free(body);
	free(serial);
	return r < 0 ? FLINT_EXIT_ERROR : FLINT_EXIT_OK;
}
