/* The directory resource (RFC 8555 §7.1.1) with its meta object, and the
 * placeholder terms-of-service page it points to. */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "error.h"

static json_t *caa_identities(const char *list)
{
	json_t *a = json_array();
	const char *p = list ? list : "";
	while (a && *p) {
		size_t n = strcspn(p, ",");
		while (n && p[n - 1] == ' ')
			n--;
		if (n)
			json_array_append_new(a, json_stringn(p, n));
		p += strcspn(p, ",");
		while (*p == ',' || *p == ' ')
			p++;
	}
	return a;
}

/* The directory document for the configuration (it changes with nothing else). */
static json_t *directory_doc(const struct flint_req *r)
{
	const struct flintd_config *cfg = r->d->cfg;
	char *u[5] = {
		flint_url(r, "/acme/new-nonce"), flint_url(r, "/acme/new-account"),
		flint_url(r, "/acme/new-order"), flint_url(r, "/acme/revoke-cert"),
		flint_url(r, "/acme/key-change"),
	};
	json_t *doc = NULL;
	for (int i = 0; i < 5; i++)
		if (!u[i])
			goto out;
	doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s, s:o, s:b}}",
			"newNonce", u[0], "newAccount", u[1], "newOrder", u[2], "revokeCert", u[3],
			"keyChange", u[4], "meta", "termsOfService", cfg->terms_of_service,
			"website", cfg->website, "caaIdentities", caa_identities(cfg->caa_identities),
			"externalAccountRequired", cfg->external_account_required);
	if (doc) {
		/* RFC 9773 renewalInfo; draft-ietf-acme-profiles meta.profiles */
		json_t *profiles = json_object();
		json_t *meta = json_object_get(doc, "meta");

		json_object_set_new(doc, "renewalInfo", flint_url_json(r, "/acme/renewal-info"));
		/* RFC 8555 §7.4.1 pre-authorization */
		json_object_set_new(doc, "newAuthz", flint_url_json(r, "/acme/new-authz"));
		for (size_t i = 0; profiles && i < cfg->n_profiles; i++)
			json_object_set_new(profiles, cfg->profiles[i].name,
					    json_string(cfg->profiles[i].description));
		json_object_set_new(meta, "profiles", profiles);
	}
out:
	for (int i = 0; i < 5; i++)
		free(u[i]);
	return doc;
}

int flint_api_directory_init(struct flintd *d)
{
	struct flint_req r = {.d = d, .base = d->cfg->base_url};
	json_t *doc = directory_doc(&r);
	char *s = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;

	json_decref(doc);
	if (!s)
		return FLINT_ENOMEM;
	free(d->directory_json);
	d->directory_json = s;
	return 0;
}

void flint_api_directory(struct flint_req *r, const char *rest)
{
	(void)rest;
	if (r->d->directory_json)
		flint_reply_body(r, 200, "application/json", r->d->directory_json,
				 strlen(r->d->directory_json));
	else
		flint_reply_json(r, 200, directory_doc(r));
}

void flint_api_new_nonce(struct flint_req *r, const char *rest)
{
	(void)rest;
	/* The nonce itself was added by the router, as on every ACME reply. */
	flint_reply_add_header(r, "Cache-Control", "no-store");
	flint_reply_body(r, r->method == EVHTTP_REQ_HEAD ? 200 : 204, NULL, NULL, 0);
}

void flint_api_terms(struct flint_req *r, const char *rest)
{
	(void)rest;
	static const char text[] =
		"flint test CA terms of service\n\n"
		"This certificate authority is operated for testing. Certificates it issues\n"
		"are trusted only by those who install its root. The operator may revoke any\n"
		"certificate at any time.\n";
	flint_reply_body(r, 200, "text/plain; charset=utf-8", text, sizeof(text) - 1);
}

void flint_api_ca_file(struct flint_req *r, const char *rest)
{
	const struct flint_issuer *is = r->d->issuer;
	if (strcmp(rest, "root.pem") == 0) {
		const char *pem = flint_issuer_root_pem(is);
		flint_reply_body(r, 200, "application/x-pem-file", pem, strlen(pem));
	} else if (strcmp(rest, "intermediate.pem") == 0) {
		const char *pem = flint_issuer_intermediate_pem(is);
		flint_reply_body(r, 200, "application/x-pem-file", pem, strlen(pem));
	} else if (strcmp(rest, "root-alt.pem") == 0 && flint_issuer_alt_root_pem(is)) {
		const char *pem = flint_issuer_alt_root_pem(is);
		flint_reply_body(r, 200, "application/x-pem-file", pem, strlen(pem));
	} else if (strcmp(rest, "intermediate.der") == 0) {
		size_t len = 0;
		const unsigned char *der = flint_issuer_intermediate_der(is, &len);
		flint_reply_body(r, 200, "application/pkix-cert", der, len);
	} else if (strcmp(rest, "crl") == 0) {
		flint_api_crl(r, "");
	} else if (strncmp(rest, "crl/", 4) == 0) {
		flint_api_crl(r, rest + 4);
	} else {
		flint_reply_error_status(r, FLINT_PROB_MALFORMED, 404, "no such resource");
	}
}
