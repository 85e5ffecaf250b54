/* Maps request paths to resource handlers (RFC 8555 §7.1) and enforces the
 * method rules: plain GET only for the directory and newNonce (§6.3). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "http.h"

enum { M_GET = 1, M_HEAD = 2, M_POST = 4 };

struct route {
	const char *path;
	bool prefix;
	int methods;
	bool acme; /* ACME resource: Replay-Nonce and Link rel=index on every reply */
	void (*handle)(struct flint_req *r, const char *rest);
};

static const struct route routes[] = {
	{"/directory", false, M_GET | M_HEAD, false, flint_api_directory},
	{"/acme/new-nonce", false, M_GET | M_HEAD, true, flint_api_new_nonce},
	{"/acme/new-account", false, M_POST, true, flint_api_new_account},
	{"/acme/new-order", false, M_POST, true, flint_api_new_order},
	{"/acme/revoke-cert", false, M_POST, true, flint_api_revoke},
	{"/acme/key-change", false, M_POST, true, flint_api_key_change},
	{"/acme/acct/", true, M_POST, true, flint_api_account},
	{"/acme/order/", true, M_POST, true, flint_api_order},
	{"/acme/authz/", true, M_POST, true, flint_api_authz},
	{"/acme/chall/", true, M_POST, true, flint_api_challenge},
	{"/acme/cert/", true, M_POST, true, flint_api_certificate},
	{"/ca/", true, M_GET | M_HEAD, false, flint_api_ca_file},
	{"/terms", false, M_GET | M_HEAD, false, flint_api_terms},
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
	const char *rest = "";
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		size_t n = strlen(routes[i].path);
		if (routes[i].prefix ? strncmp(r->path, routes[i].path, n) == 0
				     : strcmp(r->path, routes[i].path) == 0) {
			rt = &routes[i];
			rest = r->path + (routes[i].prefix ? n : strlen(r->path));
			break;
		}
	}
	flint_reply_add_header(r, "Access-Control-Allow-Origin", "*");
	if (!rt) {
		struct flint_problem *p = flint_problem_new(FLINT_PROB_MALFORMED, "no such resource");
		if (p)
			p->status = 404;
		flint_reply_problem(r, p);
		return;
	}
	if (rt->acme) {
		char *index = flint_url(r, "/directory");
		if (index) {
			char link[512];
			snprintf(link, sizeof(link), "<%s>;rel=\"index\"", index);
			flint_reply_add_header(r, "Link", link);
		}
		free(index);
		if (flint_reply_add_nonce(r) < 0) {
			flint_reply_error(r, FLINT_PROB_SERVER_INTERNAL, "cannot create a nonce");
			return;
		}
	}
	if (!(method_bit(r->method) & rt->methods)) {
		flint_reply_add_header(r, "Allow", rt->methods & M_POST ? "POST" : "GET, HEAD");
		struct flint_problem *p = flint_problem_new(
			FLINT_PROB_MALFORMED, "%s", rt->methods & M_POST
				? "this resource accepts only POST (use POST-as-GET to fetch it)"
				: "method not allowed");
		if (p)
			p->status = 405;
		flint_reply_problem(r, p);
		return;
	}
	rt->handle(r, rest);
}
