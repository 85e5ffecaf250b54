/* Maps request paths to resource handlers (RFC 8555 §7.1) and enforces the
 * method rules: plain GET only for the directory and newNonce (§6.3). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

enum { M_GET = 1, M_HEAD = 2, M_POST = 4 };

struct route {
	const char *path;
	bool prefix;
	const char *suffix; /* with prefix: the path must end so; rest excludes it */
	int methods;
	bool acme; /* ACME resource: Replay-Nonce and Link rel=index on every reply */
	void (*handle)(struct flint_req *r, const char *rest);
	const char *name; /* the resource in metrics: a bounded label set, unlike paths */
};

static const struct route routes[] = {
	{"/directory", false, NULL, M_GET | M_HEAD, false, flint_api_directory, "directory"},
	{"/acme/new-nonce", false, NULL, M_GET | M_HEAD, true, flint_api_new_nonce, "newNonce"},
	{"/acme/new-account", false, NULL, M_POST, true, flint_api_new_account, "newAccount"},
	{"/acme/new-order", false, NULL, M_POST, true, flint_api_new_order, "newOrder"},
	{"/acme/new-authz", false, NULL, M_POST, true, flint_api_new_authz, "newAuthz"},
	{"/acme/revoke-cert", false, NULL, M_POST, true, flint_api_revoke, "revokeCert"},
	{"/acme/key-change", false, NULL, M_POST, true, flint_api_key_change, "keyChange"},
	{"/acme/acct/", true, NULL, M_POST, true, flint_api_account, "account"},
	{"/acme/order/", true, "/finalize", M_POST, true, flint_api_finalize, "finalize"},
	{"/acme/order/", true, NULL, M_POST, true, flint_api_order, "order"},
	{"/acme/authz/", true, NULL, M_POST, true, flint_api_authz, "authz"},
	{"/acme/chall/", true, NULL, M_POST, true, flint_api_challenge, "challenge"},
	{"/acme/cert/", true, NULL, M_POST, true, flint_api_certificate, "certificate"},
	/* RFC 6960: POST /ocsp, GET /ocsp/<base64 request> */
	{"/ocsp", false, NULL, M_POST, false, flint_api_ocsp, "ocsp"},
	{"/ocsp/", true, NULL, M_GET | M_HEAD | M_POST, false, flint_api_ocsp, "ocsp"},
	/* RFC 9773 §4.1: a plain GET, no JWS, no nonce */
	{"/acme/renewal-info/", true, NULL, M_GET | M_HEAD, false, flint_api_renewal_info,
	 "renewalInfo"},
	{"/ca/", true, NULL, M_GET | M_HEAD, false, flint_api_ca_file, "ca"},
	{"/terms", false, NULL, M_GET | M_HEAD, false, flint_api_terms, "terms"},
	/* observability: plain GETs, no JWS, no nonce */
	{"/metrics", false, NULL, M_GET | M_HEAD, false, flint_api_metrics, "metrics"},
	{"/health", false, NULL, M_GET | M_HEAD, false, flint_api_health, "health"},
};

static int method_bit(enum evhttp_cmd_type m)
{
	switch (m) {
	case EVHTTP_REQ_GET:
		return M_GET;
	case EVHTTP_REQ_HEAD:
		return M_HEAD;
	case EVHTTP_REQ_POST:
		return M_POST;
	default:
		return 0;
	}
}

void flint_api_dispatch(struct flint_req *r)
{
	const struct route *rt = NULL;
	char *rest = NULL;
	size_t plen = strlen(r->path);
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]) && !rt; i++) {
		size_t n = strlen(routes[i].path);
		size_t sn = routes[i].suffix ? strlen(routes[i].suffix) : 0;
		if (!routes[i].prefix) {
			if (strcmp(r->path, routes[i].path) == 0)
				rt = &routes[i];
		} else if (plen >= n + sn && strncmp(r->path, routes[i].path, n) == 0 &&
			   (!sn || strcmp(r->path + plen - sn, routes[i].suffix) == 0)) {
			rt = &routes[i];
			rest = strndup(r->path + n, plen - n - sn);
			if (!rest) {
				flint_reply_error(r, FLINT_PROB_SERVER_INTERNAL, "out of memory");
				return;
			}
		}
	}
	flint_reply_add_header(r, "Access-Control-Allow-Origin", "*");
	/* the plain-HTTP listener serves revocation data and CA files only */
	if (rt && r->plain && rt->handle != flint_api_ca_file && rt->handle != flint_api_ocsp)
		rt = NULL;
	if (!rt) {
		flint_reply_error_status(r, FLINT_PROB_MALFORMED, 404, "no such resource");
		goto out;
	}
	r->route = rt->name;
	if (rt->acme) {
		char *index = flint_url(r, "/directory");
		flint_reply_add_link(r, index, "index");
		free(index);
	}
	/* §6.5: a fresh nonce on every ACME reply, errors included; issuing
	 * one writes nothing (nonce.h), so this costs a MAC, not storage. */
	if (rt->acme || rt->handle == flint_api_directory) {
		if (flint_reply_add_nonce(r) < 0) {
			flint_reply_error(r, FLINT_PROB_SERVER_INTERNAL, "cannot create a nonce");
			goto out;
		}
	}
	if (!(method_bit(r->method) & rt->methods)) {
		flint_reply_add_header(r, "Allow", rt->methods & M_POST ? "POST" : "GET, HEAD");
		flint_reply_error_status(r, FLINT_PROB_MALFORMED, 405, "%s",
					 rt->methods & M_POST
						 ? "this resource accepts only POST (use POST-as-GET to fetch it)"
						 : "method not allowed");
		goto out;
	}
	rt->handle(r, rest ? rest : "");
	/* a read named ahead that the handler never made (it failed first) */
	flint_store_read_ahead(r->store, FLINT_READ_NONE, NULL);
out:
	free(rest);
}
