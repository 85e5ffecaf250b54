/* Unit tests for the client's order driver (order.c): order and
 * authorization objects read from hostile replies, and flint_order_issue
 * against a scripted fake ACME server (acme_fake.h) and fake solvers.
 *
 * The solver table: this file defines flint_solver_types[] itself. The
 * client is a static library, so the linker never pulls solvers.o (which
 * only defines that table) and order.c's lookups find the two fake rows
 * below; no real listener, webroot or hook is involved. */
#include <curl/curl.h>
#include <openssl/x509v3.h>
#include <signal.h>

#include "acme.h"
#include "acme_fake.h"
#include "cert.h"
#include "check.h"
#include "error.h"
#include "keyauth.h"
#include "order.h"
#include "output.h"
#include "problem.h"
#include "solve/solver.h"

/* ------------------------------------------------------ fake solvers */

enum ev_kind { EV_START, EV_PRESENT, EV_CLEANUP, EV_STOP };

struct ev {
	enum ev_kind kind;
	const char *solver;     /* the type's name */
	char *ident;            /* "a.example.com" or "*.example.com" */
	char *chal_type, *token, *keyauth, *txt;
	size_t at_req;          /* fake.n_req when it happened */
};

static struct {
	struct ev ev[64];
	size_t n;
	int fail_present; /* > 0: the n-th present fails */
} sol;

struct flint_solver {
	const char *name;
};

static void ev_add(enum ev_kind kind, const char *solver, const struct flint_challenge_task *t)
{
	struct ev *e;

	if (sol.n >= 64)
		return;
	e = &sol.ev[sol.n++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->solver = solver;
	e->at_req = fake.n_req;
	if (t) {
		e->ident = flint_strdupf("%s%s", t->wildcard ? "*." : "", t->ident_value);
		e->chal_type = strdup(t->type);
		e->token = strdup(t->token);
		e->keyauth = strdup(t->key_authorization);
		e->txt = strdup(t->dns_txt_value);
	}
}

static void sol_reset(void)
{
	for (size_t i = 0; i < sol.n; i++) {
		free(sol.ev[i].ident);
		free(sol.ev[i].chal_type);
		free(sol.ev[i].token);
		free(sol.ev[i].keyauth);
		free(sol.ev[i].txt);
	}
	memset(&sol, 0, sizeof(sol));
}

static size_t sol_count(enum ev_kind kind)
{
	size_t n = 0;

	for (size_t i = 0; i < sol.n; i++)
		n += sol.ev[i].kind == kind;
	return n;
}

static bool fake_configured(const struct flint_solver_config *cfg)
{
	return cfg != NULL;
}

static bool http_applies(const char *ident_type, bool wildcard)
{
	(void)ident_type;
	return !wildcard;
}

static bool dns_applies(const char *ident_type, bool wildcard)
{
	(void)wildcard;
	return !strcmp(ident_type, "dns");
}

static int fake_start_http(const struct flint_solver_config *cfg, struct flint_solver **ret,
			   char **ret_err)
{
	(void)cfg;
	(void)ret_err;
	if (!(*ret = malloc(sizeof(**ret))))
		return FLINT_ENOMEM;
	(*ret)->name = "fake-http";
	ev_add(EV_START, "fake-http", NULL);
	return 0;
}

static int fake_start_dns(const struct flint_solver_config *cfg, struct flint_solver **ret,
			  char **ret_err)
{
	(void)cfg;
	(void)ret_err;
	if (!(*ret = malloc(sizeof(**ret))))
		return FLINT_ENOMEM;
	(*ret)->name = "fake-dns";
	ev_add(EV_START, "fake-dns", NULL);
	return 0;
}

static int fake_present(struct flint_solver *s, const struct flint_challenge_task *t,
			char **ret_err)
{
	ev_add(EV_PRESENT, s->name, t);
	if (sol.fail_present && (int)sol_count(EV_PRESENT) == sol.fail_present) {
		flint_set_err(ret_err, "fake present failure");
		return FLINT_EIO;
	}
	return 0;
}

static void fake_cleanup(struct flint_solver *s, const struct flint_challenge_task *t)
{
	ev_add(EV_CLEANUP, s->name, t);
}

static void fake_stop_solver(struct flint_solver *s)
{
	ev_add(EV_STOP, s ? s->name : "?", NULL);
	free(s);
}

static const struct flint_solver_type fake_http = {
    "fake-http", "http-01", fake_configured, http_applies, fake_start_http,
    fake_present, fake_cleanup, fake_stop_solver,
};
static const struct flint_solver_type fake_dns = {
    "fake-dns", "dns-01", fake_configured, dns_applies, fake_start_dns,
    fake_present, fake_cleanup, fake_stop_solver,
};

/* Replaces the client's table (see the comment at the top). */
const struct flint_solver_type *const flint_solver_types[] = {&fake_http, &fake_dns, NULL};

/* ------------------------------------------------------------ helpers */

#define B "https://127.0.0.1:%PORT%"
#define JSON "application/json"
#define PROB "application/problem+json"
#define TOK_A "tokenAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define TOK_AD "tokenADDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD"
#define TOK_W "tokenWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW"
#define TOK_B "tokenBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
#define ACCT B "/acct/1"

#define NEW_ACCOUNT                                                                          \
	{"POST", "/new-acct", 201, JSON, "Location: " ACCT "\r\n",                          \
	 "{\"status\":\"valid\",\"orders\":\"" B "/acct/1/orders\"}", 0, false, false}
#define NEW_ORDER_1(ids, authzs)                                                             \
	{"POST", "/new-order", 201, JSON,                                                    \
	 "Location: " B "/order/1\r\nLink: <" B "/dir>;rel=\"index\"\r\n",                  \
	 "{\"status\":\"pending\",\"identifiers\":" ids ",\"authorizations\":" authzs        \
	 ",\"finalize\":\"" B "/order/1/finalize\"}",                                        \
	 0, false, false}
#define ORDER_STATUS(st, extra)                                                              \
	"{\"status\":\"" st "\",\"authorizations\":[],\"finalize\":\"" B                     \
	"/order/1/finalize\"" extra "}"
#define AUTHZ(ident, st, extra)                                                              \
	"{\"status\":\"" st "\",\"identifier\":{\"type\":\"dns\",\"value\":\"" ident "\"}" extra "}"
#define CHAL(type, url, token, st)                                                           \
	"{\"type\":\"" type "\",\"url\":\"" B url "\",\"token\":\"" token "\",\"status\":\"" st "\"}"

static char *url_of(const char *path)
{
	return flint_strdupf("https://127.0.0.1:%d%s", fake.port, path);
}

/* A session with a fresh account registered through newAccount (jwk-signed),
 * then signing with its kid. */
static struct flint_acme *session(struct flint_jwk **ret_key)
{
	struct flint_http_opts opts = {.ca_bundle = fake.ca_path};
	struct flint_acme *a = NULL;
	struct flint_acme_reply *reply = NULL;
	char *url = url_of("/dir"), *err = NULL;
	int r;

	*ret_key = NULL;
	r = flint_acme_new(url, &opts, &a, &err);
	free(url);
	CHECK_INT(r, 0);
	if (r < 0) {
		fprintf(stderr, "  session: %s\n", err ? err : "?");
		free(err);
		return NULL;
	}
	flint_jwk_generate(FLINT_KEY_P256, 0, ret_key);
	r = flint_acme_post_with(a, *ret_key, NULL, flint_acme_dir(a)->new_account,
				 "{\"termsOfServiceAgreed\":true}", NULL, &reply, &err);
	CHECK_INT(r, 0);
	CHECK(reply && reply->http->location);
	flint_acme_set_account(a, *ret_key, reply && reply->http->location ? reply->http->location : "?");
	flint_acme_reply_free(reply);
	free(err);
	return a;
}

/* Every POST: a JWS the server parses, for the URL it was sent to, signed
 * with the nonce the server handed out last (newest first out of the pool),
 * jwk for newAccount and the account's kid otherwise. */
static void check_posts(void)
{
	char *acct = url_of("/acct/1");

	for (size_t i = 0; i < fake.n_req; i++) {
		const struct fake_request *q = &fake.req[i];
		char *url;

		if (strcmp(q->method, "POST") != 0)
			continue;
		url = url_of(q->path);
		CHECK(q->jws_ok);
		CHECK(q->protected_hdr != NULL);
		CHECK_STR(q->nonce, q->expected_nonce);
		CHECK_STR(q->url, url);
		CHECK_STR(json_string_value(json_object_get(q->protected_hdr, "url")), url);
		if (!strcmp(q->path, "/new-acct"))
			CHECK(q->kid == NULL && json_object_get(q->protected_hdr, "jwk"));
		else
			CHECK_STR(q->kid, acct);
		free(url);
	}
	free(acct);
}

/* A chain for names certifying key: leaf then the fake CA; PEM, malloc'd. */
static char *make_chain(EVP_PKEY *key, const char *const *names, size_t n)
{
	char *san = strdup(""), *grown, *leaf_pem, *ca_pem, *out;
	X509 *leaf;

	for (size_t i = 0; i < n; i++) {
		grown = flint_strdupf("%s%sDNS:%s", san, i ? "," : "", names[i]);
		free(san);
		san = grown;
	}
	leaf = fake_make_x509(key, names[0], san, fake.ca_key, fake.ca_cert);
	leaf_pem = fake_pem(leaf);
	ca_pem = fake_pem(fake.ca_cert);
	out = flint_strdupf("%s%s", leaf_pem, ca_pem);
	free(san);
	free(leaf_pem);
	free(ca_pem);
	X509_free(leaf);
	return out;
}

/* The dNSName SANs of the CSR in a finalize payload, checked to be exactly
 * names (in any order) and the CSR to be for key. */
static void check_csr(const char *payload, EVP_PKEY *key, const char *const *names, size_t n)
{
	json_t *doc = payload ? json_loads(payload, 0, NULL) : NULL;
	const char *csr = json_string_value(json_object_get(doc, "csr"));
	uint8_t *der = NULL;
	size_t der_len = 0;
	const unsigned char *p;
	X509_REQ *req = NULL;
	STACK_OF(X509_EXTENSION) *exts = NULL;
	GENERAL_NAMES *gens = NULL;
	size_t seen = 0;

	CHECK(csr != NULL);
	CHECK_INT(json_object_size(doc), 1);
	if (!csr || flint_b64url_decode(csr, strlen(csr), &der, &der_len) < 0)
		goto out;
	p = der;
	req = d2i_X509_REQ(NULL, &p, (long)der_len);
	CHECK(req != NULL);
	if (!req)
		goto out;
	CHECK_INT(EVP_PKEY_eq(X509_REQ_get0_pubkey(req), key), 1);
	CHECK_INT(X509_REQ_verify(req, X509_REQ_get0_pubkey(req)), 1);
	exts = X509_REQ_get_extensions(req);
	for (int i = 0; exts && i < sk_X509_EXTENSION_num(exts); i++) {
		X509_EXTENSION *e = sk_X509_EXTENSION_value(exts, i);

		if (OBJ_obj2nid(X509_EXTENSION_get_object(e)) == NID_subject_alt_name)
			gens = X509V3_EXT_d2i(e);
	}
	CHECK(gens != NULL);
	for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		bool found = false;

		CHECK_INT(g->type, GEN_DNS);
		if (g->type != GEN_DNS)
			continue;
		for (size_t j = 0; j < n; j++)
			if ((size_t)ASN1_STRING_length(g->d.dNSName) == strlen(names[j]) &&
			    !memcmp(ASN1_STRING_get0_data(g->d.dNSName), names[j], strlen(names[j])))
				found = true;
		if (!found)
			fprintf(stderr, "  CSR names %.*s, not requested\n",
				ASN1_STRING_length(g->d.dNSName),
				(const char *)ASN1_STRING_get0_data(g->d.dNSName));
		CHECK(found);
		seen++;
	}
	CHECK_INT(seen, n);
out:
	GENERAL_NAMES_free(gens);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(req);
	free(der);
	json_decref(doc);
}

/* Every present has exactly one matching cleanup after it; starts match stops. */
static void check_cleanups(void)
{
	for (size_t i = 0; i < sol.n; i++) {
		size_t matched = 0;

		if (sol.ev[i].kind != EV_PRESENT)
			continue;
		for (size_t j = i + 1; j < sol.n; j++)
			if (sol.ev[j].kind == EV_CLEANUP && sol.ev[j].solver == sol.ev[i].solver &&
			    !strcmp(sol.ev[j].ident, sol.ev[i].ident) &&
			    !strcmp(sol.ev[j].token, sol.ev[i].token) &&
			    !strcmp(sol.ev[j].chal_type, sol.ev[i].chal_type))
				matched++;
		CHECK_INT(matched, 1);
	}
	CHECK_INT(sol_count(EV_CLEANUP), sol_count(EV_PRESENT));
	CHECK_INT(sol_count(EV_STOP), sol_count(EV_START));
}

static const struct ev *sol_find(enum ev_kind kind, const char *ident)
{
	for (size_t i = 0; i < sol.n; i++)
		if (sol.ev[i].kind == kind && sol.ev[i].ident && !strcmp(sol.ev[i].ident, ident))
			return &sol.ev[i];
	return NULL;
}

static size_t req_index(const struct fake_request *q)
{
	return q ? (size_t)(q - fake.req) : (size_t)-1;
}

struct outcome {
	int r;
	char *err;
	struct flint_chain *chain;
	struct flint_order_failure failure;
	long long ms;
};

static void outcome_free(struct outcome *o)
{
	free(o->err);
	flint_chain_free(o->chain);
	json_decref(o->failure.identifier);
	json_decref(o->failure.problem);
}

/* Registers an account and runs flint_order_issue for names. */
static struct outcome issue(const char *const *names, size_t n, EVP_PKEY *cert_key, int timeout)
{
	struct flint_solver_config cfg = {0};
	struct flint_order_params p = {.names = names,
				       .n_names = n,
				       .solver_cfg = &cfg,
				       .cert_key = cert_key,
				       .timeout = timeout};
	struct outcome o = {.r = -1};
	struct flint_jwk *key = NULL;
	struct flint_acme *a = session(&key);
	long long t0;

	p.failure = &o.failure;
	if (!a)
		return o;
	t0 = fake_now_ms();
	o.r = flint_order_issue(a, &p, &o.chain, &o.err);
	o.ms = fake_now_ms() - t0;
	if (o.r < 0)
		fprintf(stderr, "  flint_order_issue: %s\n", o.err ? o.err : "(no message)");
	flint_acme_free(a);
	flint_jwk_free(key);
	return o;
}

/* --------------------------------------------------------------- cases */

/* Two pending authorizations (a name by http-01, a wildcard by dns-01), the
 * first valid on its third poll; ready, finalize, processing with
 * Retry-After: 1, valid, download. */
static void test_happy_path(void)
{
	static const char *const names[] = {"a.example.com", "*.example.com"};
	EVP_PKEY *key = NULL;
	char *chain_pem;

	flint_key_generate(FLINT_KEY_P256, 0, &key);
	chain_pem = make_chain(key, names, 2);
	struct fake_reply s[] = {
	    NEW_ACCOUNT,
	    NEW_ORDER_1("[{\"type\":\"dns\",\"value\":\"a.example.com\"},"
			"{\"type\":\"dns\",\"value\":\"*.example.com\"}]",
			"[\"" B "/authz/1\",\"" B "/authz/2\"]"),
	    {"POST", "/authz/1", 200, JSON, NULL,
	     AUTHZ("a.example.com", "pending",
		   ",\"challenges\":[" CHAL("dns-01", "/chal/1d", TOK_AD, "pending") "," CHAL(
		       "http-01", "/chal/1h", TOK_A, "pending") "]"),
	     0, false, false},
	    {"POST", "/authz/2", 200, JSON, NULL,
	     AUTHZ("example.com", "pending",
		   ",\"wildcard\":true,\"challenges\":[" CHAL("dns-01", "/chal/2d", TOK_W,
							       "pending") "]"),
	     0, false, false},
	    {"POST", "/chal/1h", 200, JSON, "Link: <" B "/authz/1>;rel=\"up\"\r\n",
	     CHAL("http-01", "/chal/1h", TOK_A, "processing"), 0, false, false},
	    {"POST", "/chal/2d", 200, JSON, NULL, CHAL("dns-01", "/chal/2d", TOK_W, "processing"), 0,
	     false, false},
	    {"POST", "/authz/1", 200, JSON, NULL, AUTHZ("a.example.com", "pending", ""), 0, false,
	     false},
	    {"POST", "/authz/1", 200, JSON, NULL, AUTHZ("a.example.com", "pending", ""), 0, false,
	     false},
	    {"POST", "/authz/1", 200, JSON, NULL, AUTHZ("a.example.com", "valid", ""), 0, false,
	     false},
	    {"POST", "/authz/2", 200, JSON, NULL, AUTHZ("example.com", "valid", ",\"wildcard\":true"),
	     0, false, false},
	    {"POST", "/order/1", 200, JSON, NULL, ORDER_STATUS("ready", ""), 0, false, false},
	    {"POST", "/order/1/finalize", 200, JSON, "Location: " B "/order/1\r\nRetry-After: 1\r\n",
	     ORDER_STATUS("processing", ""), 0, false, false},
	    {"POST", "/order/1", 200, JSON, "Retry-After: 1\r\n", ORDER_STATUS("processing", ""), 0,
	     false, false},
	    {"POST", "/order/1", 200, JSON, NULL,
	     ORDER_STATUS("valid", ",\"certificate\":\"" B "/cert/1\""), 0, false, false},
	    {"POST", "/cert/1", 200, "application/pem-certificate-chain",
	     "Link: <" B "/cert/1/1>;rel=\"alternate\"\r\n", chain_pem, 0, false, false},
	};
	const struct fake_request *fin, *p1, *p2, *a1, *a2, *a3, *chal1, *chal2, *ord0, *last_authz;
	const struct ev *pa, *pw, *ca, *cw;
	struct outcome o;

	sol_reset();
	fake_script(s, sizeof(s) / sizeof(s[0]));
	o = issue(names, 2, key, 30);
	CHECK_INT(o.r, 0);
	CHECK(o.err == NULL);
	CHECK_INT(fake_unused(), 0);
	CHECK_INT(fake_count("POST", "/cert/1/1"), 0); /* no preferred chain: no alternate fetched */
	check_posts();

	/* the newOrder payload names the identifiers, the wildcard as "*." */
	{
		const struct fake_request *no = fake_find("POST", "/new-order", 0);
		json_t *doc = no ? json_loads(no->payload, 0, NULL) : NULL;
		json_t *ids = json_object_get(doc, "identifiers");

		CHECK_INT(json_array_size(ids), 2);
		CHECK_STR(json_string_value(json_object_get(json_array_get(ids, 0), "value")),
			  "a.example.com");
		CHECK_STR(json_string_value(json_object_get(json_array_get(ids, 1), "value")),
			  "*.example.com");
		CHECK_STR(json_string_value(json_object_get(json_array_get(ids, 1), "type")), "dns");
		json_decref(doc);
	}

	/* solvers: http-01 for the name (first in the table), dns-01 for the wildcard */
	CHECK_INT(sol_count(EV_START), 2);
	CHECK_INT(sol_count(EV_PRESENT), 2);
	pa = sol_find(EV_PRESENT, "a.example.com");
	pw = sol_find(EV_PRESENT, "*.example.com");
	ca = sol_find(EV_CLEANUP, "a.example.com");
	cw = sol_find(EV_CLEANUP, "*.example.com");
	CHECK(pa && pw && ca && cw);
	check_cleanups();
	chal1 = fake_find("POST", "/chal/1h", 0);
	chal2 = fake_find("POST", "/chal/2d", 0);
	CHECK_INT(fake_count("POST", "/chal/1d"), 0);
	CHECK(chal1 && chal2);
	if (chal1 && chal2) {
		CHECK_STR(chal1->payload, "{}");
		CHECK_STR(chal2->payload, "{}");
	}
	a1 = fake_find("POST", "/authz/1", 1);
	a2 = fake_find("POST", "/authz/1", 2);
	a3 = fake_find("POST", "/authz/1", 3);
	last_authz = fake_find("POST", "/authz/2", 1);
	ord0 = fake_find("POST", "/order/1", 0);
	CHECK(a1 && a2 && a3 && last_authz && ord0);
	if (pa && pw && ca && cw && chal1 && chal2 && a1 && a2 && a3 && last_authz && ord0) {
		char *ka = NULL, *txt = NULL;

		CHECK_STR(pa->solver, "fake-http");
		CHECK_STR(pa->chal_type, "http-01");
		CHECK_STR(pa->token, TOK_A);
		CHECK_STR(pw->solver, "fake-dns");
		CHECK_STR(pw->chal_type, "dns-01");
		CHECK_STR(pw->token, TOK_W);
		/* the key authorizations are the account's (RFC 8555 §8.1, §8.4) */
		CHECK(!strncmp(pw->keyauth, TOK_W ".", strlen(TOK_W) + 1));
		flint_keyauth_digest_b64(pw->keyauth, &txt);
		CHECK_STR(pw->txt, txt);
		CHECK(strlen(pa->keyauth) == strlen(TOK_A) + 1 + 43);
		ka = strdup(pa->keyauth + strlen(TOK_A) + 1);
		CHECK(!strncmp(pw->keyauth + strlen(TOK_W) + 1, ka, 43));
		free(ka);
		free(txt);
		/* presented before responding; cleaned up once valid, before the order poll */
		CHECK(pa->at_req <= req_index(chal1) && pw->at_req <= req_index(chal1));
		CHECK(ca->at_req > req_index(last_authz) && ca->at_req <= req_index(ord0));
		CHECK(cw->at_req > req_index(last_authz) && cw->at_req <= req_index(ord0));
		/* pending polls back off (75 ms, then 150 ms) */
		CHECK(a2->t_ms - a1->t_ms >= 60);
		CHECK(a3->t_ms - a2->t_ms >= 120);
		CHECK(a3->t_ms - a1->t_ms < 5000);
	}

	/* finalize: the CSR names exactly the requested identifiers, for the key */
	fin = fake_find("POST", "/order/1/finalize", 0);
	CHECK(fin != NULL);
	if (fin)
		check_csr(fin->payload, key, names, 2);
	/* processing with Retry-After: 1 is honoured */
	p1 = fake_find("POST", "/order/1", 1);
	p2 = fake_find("POST", "/order/1", 2);
	CHECK(p1 && p2);
	if (p1 && p2) {
		CHECK(p2->t_ms - p1->t_ms >= 900);
		CHECK(p2->t_ms - p1->t_ms < 5000);
	}
	/* the certificate */
	CHECK(o.chain != NULL);
	if (o.chain) {
		CHECK(o.chain->issuers && sk_X509_num(o.chain->issuers) == 1);
		CHECK(o.chain->fullchain_pem && strstr(o.chain->fullchain_pem, "BEGIN CERTIFICATE"));
	}
	CHECK(o.failure.identifier == NULL && o.failure.problem == NULL);
	outcome_free(&o);
	free(chain_pem);
	EVP_PKEY_free(key);
	sol_reset();
}

/* badNonce on newOrder once: retried with the nonce of the error reply. An
 * authorization valid already needs no solver. */
static void test_bad_nonce_new_order(void)
{
	static const char *const names[] = {"b.example.com"};
	EVP_PKEY *key = NULL;
	char *chain_pem;

	flint_key_generate(FLINT_KEY_P256, 0, &key);
	chain_pem = make_chain(key, names, 1);
	struct fake_reply s[] = {
	    NEW_ACCOUNT,
	    {"POST", "/new-order", 400, PROB, NULL,
	     "{\"type\":\"urn:ietf:params:acme:error:badNonce\",\"detail\":\"JWS has an invalid "
	     "anti-replay nonce\"}",
	     0, false, false},
	    NEW_ORDER_1("[{\"type\":\"dns\",\"value\":\"b.example.com\"}]", "[\"" B "/authz/1\"]"),
	    {"POST", "/authz/1", 200, JSON, NULL, AUTHZ("b.example.com", "valid", ""), 0, false, false},
	    {"POST", "/order/1", 200, JSON, NULL, ORDER_STATUS("ready", ""), 0, false, false},
	    {"POST", "/order/1/finalize", 200, JSON, NULL, ORDER_STATUS("processing", ""), 0, false,
	     false},
	    {"POST", "/order/1", 200, JSON, NULL,
	     ORDER_STATUS("valid", ",\"certificate\":\"" B "/cert/1\""), 0, false, false},
	    {"POST", "/cert/1", 200, "application/pem-certificate-chain", NULL, chain_pem, 0, false,
	     false},
	};
	const struct fake_request *first, *second;
	struct outcome o;

	sol_reset();
	fake_script(s, sizeof(s) / sizeof(s[0]));
	o = issue(names, 1, key, 30);
	CHECK_INT(o.r, 0);
	CHECK(o.chain != NULL);
	CHECK_INT(fake_unused(), 0);
	CHECK_INT(fake_count("POST", "/new-order"), 2);
	first = fake_find("POST", "/new-order", 0);
	second = fake_find("POST", "/new-order", 1);
	CHECK(first && second);
	if (first && second) {
		CHECK_STR(second->nonce, first->reply_nonce);
		CHECK(strcmp(first->nonce, second->nonce) != 0);
		CHECK_STR(second->payload, first->payload);
	}
	CHECK_INT(fake_count("HEAD", "/nonce"), 0);
	check_posts();
	CHECK_INT(sol_count(EV_PRESENT), 0);
	check_cleanups();
	outcome_free(&o);
	free(chain_pem);
	EVP_PKEY_free(key);
	sol_reset();
}

/* The first authorization turns invalid with a challenge error: the run
 * fails naming identifier, challenge type and detail; both challenges are
 * cleaned up and the unfinished authorizations deactivated. */
static void test_authz_invalid(void)
{
	static const char *const names[] = {"a.example.com", "b.example.com"};
#define DETAIL "Invalid response from http://a.example.com/.well-known/acme-challenge/x: 404"
	static const struct fake_reply s[] = {
	    NEW_ACCOUNT,
	    NEW_ORDER_1("[{\"type\":\"dns\",\"value\":\"a.example.com\"},"
			"{\"type\":\"dns\",\"value\":\"b.example.com\"}]",
			"[\"" B "/authz/1\",\"" B "/authz/2\"]"),
	    {"POST", "/authz/1", 200, JSON, NULL,
	     AUTHZ("a.example.com", "pending",
		   ",\"challenges\":[" CHAL("http-01", "/chal/1h", TOK_A, "pending") "]"),
	     0, false, false},
	    {"POST", "/authz/2", 200, JSON, NULL,
	     AUTHZ("b.example.com", "pending",
		   ",\"challenges\":[" CHAL("http-01", "/chal/2h", TOK_B, "pending") "]"),
	     0, false, false},
	    {"POST", "/chal/1h", 200, JSON, NULL, CHAL("http-01", "/chal/1h", TOK_A, "processing"), 0,
	     false, false},
	    {"POST", "/chal/2h", 200, JSON, NULL, CHAL("http-01", "/chal/2h", TOK_B, "processing"), 0,
	     false, false},
	    {"POST", "/authz/1", 200, JSON, NULL,
	     AUTHZ("a.example.com", "invalid",
		   ",\"challenges\":[{\"type\":\"http-01\",\"url\":\"" B "/chal/1h\",\"token\":\"" TOK_A
		   "\",\"status\":\"invalid\",\"error\":{\"type\":\"urn:ietf:params:acme:error:"
		   "unauthorized\",\"detail\":\"" DETAIL "\",\"status\":403}}]"),
	     0, false, false},
	    /* deactivation of b (still pending); a is invalid: nothing to deactivate */
	    {"POST", "/authz/2", 200, JSON, NULL, AUTHZ("b.example.com", "deactivated", ""), 0, false,
	     false},
	};
	const struct fake_request *deact;
	struct outcome o;

	sol_reset();
	fake_script(s, sizeof(s) / sizeof(s[0]));
	{
		EVP_PKEY *key = NULL;

		flint_key_generate(FLINT_KEY_P256, 0, &key);
		o = issue(names, 2, key, 30);
		EVP_PKEY_free(key);
	}
	CHECK(o.r < 0);
	CHECK(o.chain == NULL);
	CHECK(o.err && strstr(o.err, "a.example.com"));
	CHECK(o.err && strstr(o.err, "http-01"));
	CHECK(o.err && strstr(o.err, DETAIL));
	CHECK(o.err && strstr(o.err, "unauthorized"));
	CHECK_INT(fake_unused(), 0);
	CHECK_INT(fake_count("POST", "/order/1/finalize"), 0);
	CHECK_INT(fake_count("POST", "/order/1"), 0);
	CHECK_INT(fake_count("POST", "/authz/1"), 2); /* fetch and poll; no deactivation */
	check_posts();
	/* both challenges presented and cleaned up */
	CHECK_INT(sol_count(EV_PRESENT), 2);
	check_cleanups();
	/* b is deactivated */
	deact = fake_find("POST", "/authz/2", 1);
	CHECK(deact != NULL);
	if (deact) {
		json_t *doc = json_loads(deact->payload, 0, NULL);

		CHECK_STR(json_string_value(json_object_get(doc, "status")), "deactivated");
		CHECK_INT(json_object_size(doc), 1);
		json_decref(doc);
	}
	/* the failure, for --json */
	CHECK(o.failure.identifier != NULL);
	CHECK_STR(json_string_value(json_object_get(o.failure.identifier, "value")),
		  "a.example.com");
	CHECK_STR(json_string_value(json_object_get(o.failure.problem, "type")),
		  "urn:ietf:params:acme:error:unauthorized");
	outcome_free(&o);
	sol_reset();
#undef DETAIL
}

/* rateLimited on newOrder: one request, no retry, the detail in the message. */
static void test_rate_limited(void)
{
	static const char *const names[] = {"a.example.com"};
	static const struct fake_reply s[] = {
	    NEW_ACCOUNT,
	    {"POST", "/new-order", 429, PROB, "Retry-After: 3600\r\n",
	     "{\"type\":\"urn:ietf:params:acme:error:rateLimited\",\"detail\":\"too many new orders "
	     "(5) for a.example.com in the last 3h\"}",
	     0, false, false},
	    NEW_ORDER_1("[]", "[]"), /* must not be reached */
	};
	EVP_PKEY *key = NULL;
	struct outcome o;

	sol_reset();
	flint_key_generate(FLINT_KEY_P256, 0, &key);
	fake_script(s, sizeof(s) / sizeof(s[0]));
	o = issue(names, 1, key, 30);
	CHECK(o.r < 0);
	CHECK(o.err && strstr(o.err, "too many new orders (5) for a.example.com in the last 3h"));
	CHECK(o.err && strstr(o.err, "rateLimited"));
	CHECK_INT(fake_count("POST", "/new-order"), 1);
	CHECK(o.ms < 3000);
	CHECK_INT(sol_count(EV_PRESENT), 0);
	check_cleanups();
	check_posts();
	CHECK_STR(json_string_value(json_object_get(o.failure.problem, "type")),
		  "urn:ietf:params:acme:error:rateLimited");
	outcome_free(&o);
	EVP_PKEY_free(key);
	sol_reset();
}

/* An order that stays processing past the timeout (2 s): a timeout error;
 * the polls were Retry-After (1 s) apart. */
static void test_processing_timeout(void)
{
	static const char *const names[] = {"a.example.com"};
#define PROCESSING                                                                            \
	{"POST", "/order/1", 200, JSON, "Retry-After: 1\r\n", ORDER_STATUS("processing", ""), 0,  \
	 false, true}
	static const struct fake_reply s[] = {
	    NEW_ACCOUNT,
	    NEW_ORDER_1("[{\"type\":\"dns\",\"value\":\"a.example.com\"}]", "[\"" B "/authz/1\"]"),
	    {"POST", "/authz/1", 200, JSON, NULL, AUTHZ("a.example.com", "valid", ""), 0, false, false},
	    {"POST", "/order/1", 200, JSON, NULL, ORDER_STATUS("ready", ""), 0, false, false},
	    {"POST", "/order/1/finalize", 200, JSON, NULL, ORDER_STATUS("processing", ""), 0, false,
	     false},
	    PROCESSING, PROCESSING, PROCESSING, PROCESSING, PROCESSING, PROCESSING,
	};
	EVP_PKEY *key = NULL;
	struct outcome o;
	size_t polls;

	sol_reset();
	flint_key_generate(FLINT_KEY_P256, 0, &key);
	fake_script(s, sizeof(s) / sizeof(s[0]));
	o = issue(names, 1, key, 2);
	CHECK(o.r < 0);
	CHECK(o.err && strstr(o.err, "still not done after 2 s"));
	CHECK(o.err && strstr(o.err, "a.example.com"));
	CHECK(o.chain == NULL);
	CHECK_INT(fake_unused(), 0);
	CHECK_INT(fake_count("POST", "/cert/1"), 0);
	polls = fake_count("POST", "/order/1") - 1; /* after finalize */
	CHECK(polls >= 1 && polls <= 3);
	for (size_t i = 2; i <= polls; i++) {
		const struct fake_request *a = fake_find("POST", "/order/1", i - 1);
		const struct fake_request *b = fake_find("POST", "/order/1", i);

		CHECK(a && b && b->t_ms - a->t_ms >= 900 && b->t_ms - a->t_ms < 4000);
	}
	CHECK(o.ms >= 900 && o.ms < 8000);
	check_posts();
	check_cleanups();
	outcome_free(&o);
	EVP_PKEY_free(key);
	sol_reset();
#undef PROCESSING
}

/* A certificate reply over the 1 MiB cap: a clean error, no chain. */
static void test_body_cap(void)
{
	static const char *const names[] = {"a.example.com"};
	static const struct fake_reply s[] = {
	    NEW_ACCOUNT,
	    NEW_ORDER_1("[{\"type\":\"dns\",\"value\":\"a.example.com\"}]", "[\"" B "/authz/1\"]"),
	    {"POST", "/authz/1", 200, JSON, NULL,
	     AUTHZ("a.example.com", "pending",
		   ",\"challenges\":[" CHAL("http-01", "/chal/1h", TOK_A, "pending") "]"),
	     0, false, false},
	    {"POST", "/chal/1h", 200, JSON, NULL, CHAL("http-01", "/chal/1h", TOK_A, "processing"), 0,
	     false, false},
	    {"POST", "/authz/1", 200, JSON, NULL, AUTHZ("a.example.com", "valid", ""), 0, false, false},
	    {"POST", "/order/1", 200, JSON, NULL,
	     ORDER_STATUS("valid", ",\"certificate\":\"" B "/cert/1\""), 0, false, false},
	    {"POST", "/cert/1", 200, "application/pem-certificate-chain", NULL, NULL,
	     FLINT_HTTP_MAX_BODY + 1, false, false},
	};
	EVP_PKEY *key = NULL;
	struct outcome o;

	sol_reset();
	flint_key_generate(FLINT_KEY_P256, 0, &key);
	fake_script(s, sizeof(s) / sizeof(s[0]));
	o = issue(names, 1, key, 30);
	CHECK_INT(o.r, FLINT_ETOOBIG);
	CHECK(o.err && strstr(o.err, "larger than 1048576 bytes"));
	CHECK(o.err && strstr(o.err, "a.example.com"));
	CHECK(o.chain == NULL);
	CHECK_INT(fake_unused(), 0);
	CHECK_INT(fake_count("POST", "/order/1/finalize"), 0); /* already valid: no finalize */
	CHECK_INT(fake_count("POST", "/order/1"), 1);          /* and not polled again */
	CHECK_INT(sol_count(EV_PRESENT), 1);
	check_cleanups();
	check_posts();
	outcome_free(&o);
	EVP_PKEY_free(key);
	sol_reset();
}

/* ------------------------------------------- order and authorization objects */

#define O_REQ "\"authorizations\":[\"https://ca/authz/1\"],\"finalize\":\"https://ca/order/1/fin\""
#define A_ID "\"identifier\":{\"type\":\"dns\",\"value\":\"a.example.com\"}"
#define C_OK                                                                                       \
	"{\"type\":\"http-01\",\"url\":\"https://ca/chal/1\",\"token\":\"" TOK_A                   \
	"\",\"status\":\"pending\"}"

/* body loaded as flint_acme_post loads a reply, then read as an order (or,
 * with is_authz, an authorization): the result, and on failure the part of
 * the message it must carry. */
static int read_object(const char *body, bool is_authz, struct flint_acme_order **ret_o,
		       struct flint_acme_authz **ret_a, const char *err_has)
{
	json_t *doc = json_loads(body, 0, NULL);
	struct flint_acme_order *o = NULL;
	struct flint_acme_authz *a = NULL;
	char *err = NULL;
	int r = is_authz ? flint_acme_authz_parse(doc, &a, &err)
			 : flint_acme_order_parse(doc, &o, &err);

	if (r < 0) {
		CHECK(o == NULL && a == NULL);
		CHECK(err != NULL);
		if (err_has && (!err || !strstr(err, err_has))) {
			fprintf(stderr, "  \"%.70s\": \"%s\" lacks \"%s\"\n", body,
				err ? err : "(null)", err_has);
			CHECK(0);
		}
	} else {
		CHECK(err == NULL);
	}
	free(err);
	json_decref(doc); /* what was read outlives the document */
	if (ret_o)
		*ret_o = o;
	else
		flint_acme_order_free(o);
	if (ret_a)
		*ret_a = a;
	else
		flint_acme_authz_free(a);
	return r;
}

static void test_order_parse(void)
{
	struct flint_acme_order *o = NULL;

	/* Pebble's newOrder reply */
	CHECK_INT(read_object("{\"status\":\"pending\",\"expires\":\"2026-11-30T17:00:00Z\","
			      "\"identifiers\":[{\"type\":\"dns\",\"value\":\"a.example.com\"}],"
			      "\"finalize\":\"https://localhost:14000/finalize-order/x\","
			      "\"authorizations\":[\"https://localhost:14000/authZ/a\","
			      "\"https://localhost:14000/authZ/b\"]}",
			      false, &o, NULL, NULL),
		  0);
	if (o) {
		CHECK_STR(o->status, "pending");
		CHECK_INT(o->n_authorizations, 2);
		CHECK_STR(o->authorizations[1], "https://localhost:14000/authZ/b");
		CHECK_STR(o->finalize, "https://localhost:14000/finalize-order/x");
		CHECK(o->certificate == NULL && o->error == NULL);
	}
	flint_acme_order_free(o);
	CHECK_INT(read_object("{\"status\":\"valid\"," O_REQ
			      ",\"certificate\":\"https://ca/cert/1\"}",
			      false, &o, NULL, NULL),
		  0);
	CHECK_STR(o ? o->certificate : NULL, "https://ca/cert/1");
	flint_acme_order_free(o);
	CHECK_INT(read_object(
		      "{\"status\":\"invalid\",\"authorizations\":[],\"finalize\":\"https://ca/f\","
		      "\"error\":{\"type\":\"urn:ietf:params:acme:error:unauthorized\"}}",
		      false, &o, NULL, NULL),
		  0);
	CHECK(o && o->n_authorizations == 0 && json_is_object(o->error));
	flint_acme_order_free(o);
	/* optional members null: absent; unknown members ignored */
	CHECK_INT(read_object("{\"status\":\"ready\"," O_REQ ",\"certificate\":null,\"error\":null,"
			      "\"identifiers\":null,\"profile\":7,\"x\":{\"y\":[]}}",
			      false, &o, NULL, NULL),
		  0);
	CHECK(o && !o->certificate && !o->error);
	flint_acme_order_free(o);
	/* the same member twice: the last one counts, as in every reply flint reads */
	CHECK_INT(read_object("{\"status\":\"pending\",\"status\":\"valid\"," O_REQ "}", false, &o,
			      NULL, NULL),
		  0);
	CHECK_STR(o ? o->status : NULL, "valid");
	flint_acme_order_free(o);
	flint_acme_order_free(NULL);
}

static void test_order_hostile(void)
{
	static const struct {
		const char *body;
		int want;
		const char *err_has;
	} cases[] = {
	    {"[]", FLINT_EPROTO, "the order is not a JSON object"},
	    {"\"pending\"", FLINT_EPROTO, "not a JSON object"},
	    /* an escaped NUL: jansson refuses the document */
	    {"{\"status\":\"pend\\u0000ing\"," O_REQ "}", FLINT_EPROTO, "not a JSON object"},
	    {"{}", FLINT_EPROTO, "authorizations is not an array"},
	    {"{" O_REQ "}", FLINT_EPROTO, "the order lacks status"},
	    {"{\"status\":null," O_REQ "}", FLINT_EPROTO, "lacks status"},
	    {"{\"status\":\"pending\",\"authorizations\":[\"https://ca/a\"]}", FLINT_EPROTO,
	     "the order lacks finalize"},
	    /* wrong types */
	    {"{\"status\":1," O_REQ "}", FLINT_EPROTO, "status is not a non-empty string"},
	    {"{\"status\":[\"valid\"]," O_REQ "}", FLINT_EPROTO, "status is not"},
	    {"{\"status\":\"\"," O_REQ "}", FLINT_EPROTO, "status is not"},
	    {"{\"status\":\"VALID\"," O_REQ "}", FLINT_EPROTO, "status is none of those"},
	    {"{\"status\":\"valid \"," O_REQ "}", FLINT_EPROTO, "status is none of those"},
	    {"{\"status\":\"deactivated\"," O_REQ "}", FLINT_EPROTO, "none of those"},
	    {"{\"status\":\"pending\",\"authorizations\":\"https://ca/a\",\"finalize\":\"https://"
	     "ca/f\"}",
	     FLINT_EPROTO, "authorizations is not an array"},
	    {"{\"status\":\"pending\",\"authorizations\":{},\"finalize\":\"https://ca/f\"}",
	     FLINT_EPROTO, "authorizations is not an array"},
	    {"{\"status\":\"pending\",\"authorizations\":null,\"finalize\":\"https://ca/f\"}",
	     FLINT_EPROTO, "authorizations is not an array"},
	    {"{\"status\":\"pending\",\"authorizations\":[\"https://ca/a\",5],\"finalize\":\"x\"}",
	     FLINT_EPROTO, "authorization 2 is not a URL"},
	    {"{\"status\":\"pending\",\"authorizations\":[\"\"],\"finalize\":\"x\"}", FLINT_EPROTO,
	     "authorization 1 is not a URL"},
	    {"{\"status\":\"pending\",\"authorizations\":[null],\"finalize\":\"x\"}", FLINT_EPROTO,
	     "authorization 1 is not a URL"},
	    {"{\"status\":\"pending\",\"authorizations\":[[\"https://ca/a\"]],\"finalize\":\"x\"}",
	     FLINT_EPROTO, "authorization 1 is not a URL"},
	    {"{\"status\":\"pending\",\"authorizations\":[],\"finalize\":{\"url\":\"x\"}}",
	     FLINT_EPROTO, "finalize is not a non-empty string"},
	    {"{\"status\":\"pending\",\"authorizations\":[],\"finalize\":\"\"}", FLINT_EPROTO,
	     "finalize is not a non-empty string"},
	    {"{\"status\":\"valid\"," O_REQ ",\"certificate\":true}", FLINT_EPROTO,
	     "certificate is not a non-empty string"},
	    {"{\"status\":\"valid\"," O_REQ ",\"certificate\":\"\"}", FLINT_EPROTO,
	     "certificate is not"},
	    {"{\"status\":\"invalid\"," O_REQ ",\"error\":\"unauthorized\"}", FLINT_EPROTO,
	     "error is not a problem document"},
	    {"{\"status\":\"invalid\"," O_REQ ",\"error\":[]}", FLINT_EPROTO, "error is not"},
	    {"{\"status\":\"pending\"," O_REQ ",\"identifiers\":{}}", FLINT_EPROTO,
	     "identifiers is not an array"},
	    /* a NUL escaped inside a URL: jansson refuses the document */
	    {"{\"status\":\"valid\"," O_REQ ",\"certificate\":\"https://ca/c\\u0000x\"}",
	     FLINT_EPROTO, "not a JSON object"},
	};
	char *big;
	size_t at;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = read_object(cases[i].body, false, NULL, NULL, cases[i].err_has);

		if (r != cases[i].want)
			fprintf(stderr, "  order case %zu: %d\n", i, r);
		CHECK_INT(r, cases[i].want);
	}
	CHECK_INT(flint_acme_order_parse(NULL, NULL, NULL), FLINT_EINVAL);
	/* a huge authorizations array: the cap holds, one more is refused */
	big = malloc(40 * (FLINT_ACME_ORDER_MAX_AUTHZ + 1) + 200);
	at = (size_t)sprintf(
	    big, "{\"status\":\"pending\",\"finalize\":\"https://ca/f\",\"authorizations\":[");
	for (int i = 0; i < FLINT_ACME_ORDER_MAX_AUTHZ; i++)
		at += (size_t)sprintf(big + at, "%s\"https://ca/authz/%d\"", i ? "," : "", i);
	strcpy(big + at, "]}");
	{
		struct flint_acme_order *o = NULL;

		CHECK_INT(read_object(big, false, &o, NULL, NULL), 0);
		CHECK_INT(o ? o->n_authorizations : 0, FLINT_ACME_ORDER_MAX_AUTHZ);
		CHECK_STR(o ? o->authorizations[FLINT_ACME_ORDER_MAX_AUTHZ - 1] : NULL,
			  "https://ca/authz/999");
		flint_acme_order_free(o);
	}
	strcpy(big + at, ",\"https://ca/authz/x\"]}");
	CHECK_INT(read_object(big, false, NULL, NULL, "more than 1000 authorizations"),
		  FLINT_ETOOBIG);
	free(big);
	/* deep nesting inside error: read as an opaque problem document */
	big = malloc(8 * 1100 + 200);
	at = (size_t)sprintf(big, "{\"status\":\"invalid\"," O_REQ ",\"error\":");
	for (int i = 0; i < 1000; i++)
		at += (size_t)sprintf(big + at, "{\"a\":");
	big[at++] = '1';
	for (int i = 0; i < 1001; i++)
		big[at++] = '}';
	big[at] = '\0';
	CHECK_INT(read_object(big, false, NULL, NULL, NULL), 0);
	free(big);
}

static void test_authz_parse(void)
{
	struct flint_acme_authz *a = NULL;

	/* Pebble's pending authorization: three challenges */
	CHECK_INT(
	    read_object("{\"status\":\"pending\"," A_ID ",\"challenges\":[" C_OK ","
			"{\"type\":\"dns-01\",\"url\":\"https://ca/chal/2\",\"token\":\"" TOK_B
			"\",\"status\":\"pending\"},{\"type\":\"tls-alpn-01\",\"url\":"
			"\"https://ca/chal/3\",\"token\":\"" TOK_W "\",\"status\":\"pending\"}],"
			"\"expires\":\"2026-11-30T17:00:00Z\"}",
			true, NULL, &a, NULL),
	    0);
	if (a) {
		CHECK_STR(a->status, "pending");
		CHECK_STR(a->ident_type, "dns");
		CHECK_STR(a->ident_value, "a.example.com");
		CHECK(!a->wildcard && !a->error);
		CHECK_INT(a->n_challenges, 3);
		CHECK_STR(flint_acme_authz_challenge(a, "dns-01")->token, TOK_B);
		CHECK_STR(flint_acme_authz_challenge(a, "tls-alpn-01")->url, "https://ca/chal/3");
		CHECK(flint_acme_authz_challenge(a, "dns-account-01") == NULL);
		CHECK(flint_acme_authz_challenge(a, "") == NULL);
	}
	flint_acme_authz_free(a);
	/* a valid one without challenges; a wildcard; an invalid one with the error */
	CHECK_INT(read_object("{\"status\":\"valid\"," A_ID "}", true, NULL, &a, NULL), 0);
	CHECK(a && a->n_challenges == 0);
	flint_acme_authz_free(a);
	CHECK_INT(read_object("{\"status\":\"pending\",\"wildcard\":true,\"identifier\":{\"type\":"
			      "\"dns\",\"value\":\"example.com\"},\"challenges\":[]}",
			      true, NULL, &a, NULL),
		  0);
	CHECK(a && a->wildcard);
	flint_acme_authz_free(a);
	CHECK_INT(read_object("{\"status\":\"invalid\"," A_ID
			      ",\"challenges\":[{\"type\":\"http-01\","
			      "\"url\":\"https://ca/c\",\"token\":\"t\",\"status\":\"invalid\","
			      "\"error\":{\"type\":\"urn:ietf:params:acme:error:connection\"}}]}",
			      true, NULL, &a, NULL),
		  0);
	CHECK(a && a->n_challenges == 1 && json_is_object(a->challenges[0].error));
	flint_acme_authz_free(a);
	/* a challenge type without a token (e.g. a future one) is kept but never chosen */
	CHECK_INT(
	    read_object("{\"status\":\"pending\"," A_ID ",\"challenges\":[{\"type\":\"http-01\","
			"\"url\":\"https://ca/c\",\"status\":\"pending\"}],\"wildcard\":null}",
			true, NULL, &a, NULL),
	    0);
	CHECK(a && a->n_challenges == 1 && !flint_acme_authz_challenge(a, "http-01"));
	flint_acme_authz_free(a);
	flint_acme_authz_free(NULL);
	CHECK(flint_acme_authz_challenge(NULL, "http-01") == NULL);
}

static void test_authz_hostile(void)
{
	static const struct {
		const char *body;
		int want;
		const char *err_has;
	} cases[] = {
	    {"[]", FLINT_EPROTO, "the authorization is not a JSON object"},
	    {"null", FLINT_EPROTO, "not a JSON object"},
	    {"{\"status\":\"pending\"}", FLINT_EPROTO, "the authorization lacks identifier"},
	    {"{\"status\":\"pending\",\"identifier\":\"dns:a.example.com\"}", FLINT_EPROTO,
	     "lacks identifier"},
	    {"{\"status\":\"pending\",\"identifier\":[\"dns\",\"a\"]}", FLINT_EPROTO,
	     "lacks identifier"},
	    {"{" A_ID "}", FLINT_EPROTO, "the authorization lacks status"},
	    {"{\"status\":\"ready\"," A_ID "}", FLINT_EPROTO, "status is none of those"},
	    {"{\"status\":\"processing\"," A_ID "}", FLINT_EPROTO, "status is none of those"},
	    {"{\"status\":true," A_ID "}", FLINT_EPROTO, "status is not a non-empty string"},
	    {"{\"status\":\"pending\",\"identifier\":{\"type\":\"dns\"}}", FLINT_EPROTO,
	     "the authorization's identifier lacks value"},
	    {"{\"status\":\"pending\",\"identifier\":{\"value\":\"a\"}}", FLINT_EPROTO,
	     "identifier lacks type"},
	    {"{\"status\":\"pending\",\"identifier\":{\"type\":\"dns\",\"value\":\"\"}}",
	     FLINT_EPROTO, "value is not a non-empty string"},
	    {"{\"status\":\"pending\",\"identifier\":{\"type\":\"dns\",\"value\":42}}",
	     FLINT_EPROTO, "value is not a non-empty string"},
	    {"{\"status\":\"pending\",\"identifier\":{\"type\":[],\"value\":\"a\"}}", FLINT_EPROTO,
	     "type is not a non-empty string"},
	    {"{\"status\":\"pending\"," A_ID ",\"wildcard\":\"true\"}", FLINT_EPROTO,
	     "wildcard is not a boolean"},
	    {"{\"status\":\"pending\"," A_ID ",\"wildcard\":1}", FLINT_EPROTO,
	     "wildcard is not a boolean"},
	    {"{\"status\":\"pending\"," A_ID ",\"challenges\":{}}", FLINT_EPROTO,
	     "challenges is not an array"},
	    {"{\"status\":\"pending\"," A_ID ",\"challenges\":\"http-01\"}", FLINT_EPROTO,
	     "challenges is not an array"},
	    {"{\"status\":\"pending\"," A_ID ",\"challenges\":[5]}", FLINT_EPROTO,
	     "challenge 1 is not a JSON object"},
	    {"{\"status\":\"pending\"," A_ID ",\"challenges\":[" C_OK ",[]]}", FLINT_EPROTO,
	     "challenge 2 is not a JSON object"},
	    {"{\"status\":\"pending\"," A_ID ",\"challenges\":[{\"url\":\"https://ca/c\","
	     "\"status\":\"pending\"}]}",
	     FLINT_EPROTO, "challenge 1 lacks type"},
	    {"{\"status\":\"pending\"," A_ID ",\"challenges\":[{\"type\":\"http-01\","
	     "\"status\":\"pending\",\"token\":\"t\"}]}",
	     FLINT_EPROTO, "challenge 1 lacks url"},
	    {"{\"status\":\"pending\"," A_ID ",\"challenges\":[{\"type\":\"http-01\","
	     "\"url\":5,\"status\":\"pending\",\"token\":\"t\"}]}",
	     FLINT_EPROTO, "challenge 1: url is not a non-empty string"},
	    {"{\"status\":\"pending\"," A_ID ",\"challenges\":[{\"type\":\"http-01\","
	     "\"url\":\"https://ca/c\",\"token\":\"t\"}]}",
	     FLINT_EPROTO, "challenge 1 lacks status"},
	    {"{\"status\":\"pending\"," A_ID ",\"challenges\":[{\"type\":\"http-01\","
	     "\"url\":\"https://ca/c\",\"status\":\"ready\"}]}",
	     FLINT_EPROTO, "challenge 1: status is none of those"},
	    {"{\"status\":\"pending\"," A_ID ",\"challenges\":[{\"type\":\"http-01\","
	     "\"url\":\"https://ca/c\",\"status\":\"pending\",\"token\":[\"t\"]}]}",
	     FLINT_EPROTO, "token is not a non-empty string"},
	    {"{\"status\":\"pending\"," A_ID ",\"challenges\":[{\"type\":\"http-01\","
	     "\"url\":\"https://ca/c\",\"status\":\"pending\",\"token\":\"\"}]}",
	     FLINT_EPROTO, "token is not a non-empty string"},
	    {"{\"status\":\"invalid\"," A_ID ",\"challenges\":[{\"type\":\"http-01\","
	     "\"url\":\"https://ca/c\",\"status\":\"invalid\",\"error\":\"refused\"}]}",
	     FLINT_EPROTO, "challenge 1: error is not a problem document"},
	    {"{\"status\":\"invalid\"," A_ID ",\"error\":5}", FLINT_EPROTO,
	     "the authorization: error is not a problem document"},
	    {"{\"status\":\"pending\",\"identifier\":{\"type\":\"dns\",\"value\":\"a\\u0000b\"}}",
	     FLINT_EPROTO, "not a JSON object"},
	};
	char *big;
	size_t at, at_last = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = read_object(cases[i].body, true, NULL, NULL, cases[i].err_has);

		if (r != cases[i].want)
			fprintf(stderr, "  authz case %zu: %d\n", i, r);
		CHECK_INT(r, cases[i].want);
	}
	CHECK_INT(flint_acme_authz_parse(NULL, NULL, NULL), FLINT_EINVAL);
	/* the challenge cap, and one over it */
	big = malloc(sizeof(C_OK) * (FLINT_ACME_AUTHZ_MAX_CHALLENGES + 1) + 200);
	at = (size_t)sprintf(big, "{\"status\":\"pending\"," A_ID ",\"challenges\":[");
	for (int i = 0; i < FLINT_ACME_AUTHZ_MAX_CHALLENGES; i++) {
		if (i == FLINT_ACME_AUTHZ_MAX_CHALLENGES - 1)
			at_last = at;
		at += (size_t)sprintf(big + at, "%s" C_OK, i ? "," : "");
	}
	strcpy(big + at, "]}");
	CHECK_INT(read_object(big, true, NULL, NULL, NULL), 0);
	strcpy(big + at, "," C_OK "]}");
	CHECK_INT(read_object(big, true, NULL, NULL, "more than 32 challenges"), FLINT_ETOOBIG);
	/* a bad challenge after good ones: the good ones are freed with it */
	strcpy(big + at_last, ",{\"type\":1}]}");
	CHECK_INT(read_object(big, true, NULL, NULL, "challenge 32: type is not"), FLINT_EPROTO);
	free(big);
}

/* The driver reads authorizations through the parser: a challenge without a
 * URL fails the run, naming the authorization, before anything is presented. */
static void test_authz_malformed(void)
{
	static const char *const names[] = {"a.example.com"};
	static const struct fake_reply s[] = {
	    NEW_ACCOUNT,
	    NEW_ORDER_1("[{\"type\":\"dns\",\"value\":\"a.example.com\"}]", "[\"" B "/authz/1\"]"),
	    {"POST", "/authz/1", 200, JSON, NULL,
	     AUTHZ("a.example.com", "pending",
		   ",\"challenges\":[{\"type\":\"http-01\",\"url\":[\"" B
		   "/chal/1\"],\"token\":\"" TOK_A "\",\"status\":\"pending\"}]"),
	     0, false, false},
	};
	EVP_PKEY *key = NULL;
	struct outcome o;

	sol_reset();
	fake_script(s, sizeof(s) / sizeof(s[0]));
	flint_key_generate(FLINT_KEY_P256, 0, &key);
	o = issue(names, 1, key, 30);
	EVP_PKEY_free(key);
	CHECK_INT(o.r, FLINT_EPROTO);
	CHECK(o.err && strstr(o.err, "/authz/1: the authorization's challenge 1: url is not a "
				     "non-empty string"));
	CHECK_INT(fake_unused(), 0);
	CHECK_INT(sol_count(EV_PRESENT), 0);
	check_cleanups();
	outcome_free(&o);
	sol_reset();
}

/* An order poll with an unknown status fails the run instead of polling on. */
static void test_order_malformed(void)
{
	static const char *const names[] = {"a.example.com"};
	static const struct fake_reply s[] = {
	    NEW_ACCOUNT,
	    NEW_ORDER_1("[{\"type\":\"dns\",\"value\":\"a.example.com\"}]", "[\"" B "/authz/1\"]"),
	    {"POST", "/authz/1", 200, JSON, NULL, AUTHZ("a.example.com", "valid", ""), 0, false,
	     false},
	    {"POST", "/order/1", 200, JSON, NULL, ORDER_STATUS("almost", ""), 0, false, false},
	};
	EVP_PKEY *key = NULL;
	struct outcome o;

	sol_reset();
	fake_script(s, sizeof(s) / sizeof(s[0]));
	flint_key_generate(FLINT_KEY_P256, 0, &key);
	o = issue(names, 1, key, 30);
	EVP_PKEY_free(key);
	CHECK_INT(o.r, FLINT_EPROTO);
	CHECK(o.err && strstr(o.err, "a.example.com: the order: status is none of those"));
	CHECK_INT(fake_unused(), 0);
	CHECK_INT(fake_count("POST", "/order/1"), 1);
	outcome_free(&o);
	sol_reset();
}

int main(void)
{
	int rc;

	/* the fake server writes to clients that hang up (the body cap test) */
	signal(SIGPIPE, SIG_IGN);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	RUN(test_order_parse);
	RUN(test_order_hostile);
	RUN(test_authz_parse);
	RUN(test_authz_hostile);
	CHECK_INT(fake_start(), 0);
	RUN(test_happy_path);
	RUN(test_bad_nonce_new_order);
	RUN(test_authz_invalid);
	RUN(test_rate_limited);
	RUN(test_processing_timeout);
	RUN(test_body_cap);
	RUN(test_authz_malformed);
	RUN(test_order_malformed);
	fake_stop();
	curl_global_cleanup();
	rc = CHECK_DONE();
	return rc;
}
