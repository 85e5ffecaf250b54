/* ACME accounts (RFC 8555 §7.3): newAccount, fetch, contact update,
 * deactivation (§7.3.6) and keyChange (§7.3.5), stored per directory URL. */
#include "account.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "b64.h"
#include "error.h"
#include "jws.h"
#include "output.h"
#include "timefmt.h"

static const struct {
	const char *name;
	enum flint_key_type type;
	int bits;
} account_key_types[] = {
	{"es256", FLINT_KEY_P256, 0},
	{"es384", FLINT_KEY_P384, 0},
	{"rs256", FLINT_KEY_RSA, 2048},
	{"eddsa", FLINT_KEY_ED25519, 0},
};

int flint_account_key_type(const char *name, enum flint_key_type *ret_type, int *ret_bits)
{
	for (size_t i = 0; i < sizeof(account_key_types) / sizeof(account_key_types[0]); i++) {
		if (name && strcmp(name, account_key_types[i].name) == 0) {
			*ret_type = account_key_types[i].type;
			*ret_bits = account_key_types[i].bits;
			return 0;
		}
	}
	return FLINT_EINVAL;
}

const char *flint_account_key_type_name(enum flint_key_type type)
{
	for (size_t i = 0; i < sizeof(account_key_types) / sizeof(account_key_types[0]); i++)
		if (account_key_types[i].type == type)
			return account_key_types[i].name;
	return type == FLINT_KEY_P521 ? "es512" : "unknown";
}

void flint_account_free(struct flint_account *acct)
{
	if (!acct)
		return;
	free(acct->dir);
	free(acct->key_path);
	free(acct->json_path);
	flint_jwk_free(acct->key);
	flint_keyproc_free(acct->keyproc);
	free(acct->url);
	free(acct);
}

/* An account with its paths set, nothing loaded. */
static int account_paths(struct flint_acme *a, const struct flint_state *st,
			 struct flint_account **ret, char **ret_err)
{
	struct flint_account *acct = calloc(1, sizeof(*acct));
	int r;

	if (!acct)
		return FLINT_ENOMEM;
	if ((r = flint_state_account_dir(st, flint_acme_dir(a)->url, &acct->dir, ret_err)) < 0)
		goto out;
	r = FLINT_ENOMEM;
	if (!(acct->key_path = flint_strdupf("%s/account.key", acct->dir)) ||
	    !(acct->json_path = flint_strdupf("%s/account.json", acct->dir)))
		goto out;
	*ret = acct;
	acct = NULL;
	r = 0;
out:
	flint_account_free(acct);
	return r;
}

/* The account key in a key process of its own (keyproc.h). */
static int load_key(struct flint_account *acct, char **ret_err)
{
	return flint_keyproc_start(acct->key_path, false, FLINT_KEY_P256, 0, &acct->keyproc,
				   &acct->key, ret_err);
}

int flint_account_load(struct flint_acme *a, const struct flint_state *st,
		       struct flint_account **ret, char **ret_err)
{
	struct flint_account *acct = NULL;
	json_t *doc = NULL;
	char *text = NULL;
	const char *url;
	int r;

	if ((r = account_paths(a, st, &acct, ret_err)) < 0)
		return r;
	r = flint_read_file(acct->json_path, 64 * 1024, &text, NULL, ret_err);
	if (r < 0)
		goto out;
	doc = json_loads(text, 0, NULL);
	url = json_string_value(json_object_get(doc, "url"));
	if (!url) {
		flint_set_err(ret_err, "%s: no account URL in it", acct->json_path);
		r = FLINT_EINVAL;
		goto out;
	}
	r = FLINT_ENOMEM;
	if (!(acct->url = strdup(url)))
		goto out;
	if ((r = load_key(acct, ret_err)) < 0)
		goto out;
	if ((r = flint_acme_set_account(a, acct->key, acct->url)) < 0)
		goto out;
	*ret = acct;
	acct = NULL;
	r = 0;
out:
	json_decref(doc);
	free(text);
	flint_account_free(acct);
	return r;
}

static json_t *contacts_json(const char *const *emails, size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < n; i++) {
		char *c = strncmp(emails[i], "mailto:", 7) == 0 ? strdup(emails[i])
							       : flint_strdupf("mailto:%s", emails[i]);

		if (!c || json_array_append_new(arr, json_string(c)) < 0) {
			free(c);
			json_decref(arr);
			return NULL;
		}
		free(c);
	}
	return arr;
}

static int save_json(const char *path, json_t *doc, char **ret_err)
{
	char *s = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
	int r;

	if (!s)
		return FLINT_ENOMEM;
	r = flint_write_file_atomic(path, s, strlen(s), 0600, ret_err);
	free(s);
	return r;
}

static int save_account_json(const struct flint_account *acct, struct flint_acme *a,
			     json_t *contact, char **ret_err)
{
	char now[FLINT_TIME_BUF];
	json_t *doc;
	int r;

	flint_time_format((int64_t)time(NULL), now);
	doc = json_pack("{s:s, s:s, s:O, s:s, s:s}", "url", acct->url, "directory",
			flint_acme_dir(a)->url, "contact", contact, "created", now, "key_type",
			flint_account_key_type_name(acct->key->type));
	if (!doc)
		return FLINT_ENOMEM;
	r = save_json(acct->json_path, doc, ret_err);
	json_decref(doc);
	return r;
}

/* Sets one member of the local account.json (the server is the authority). */
static int update_local(const struct flint_account *acct, const char *name, json_t *value,
			char **ret_err)
{
	json_t *doc = NULL;
	char *text = NULL;
	int r;

	if ((r = flint_read_file(acct->json_path, 64 * 1024, &text, NULL, ret_err)) < 0)
		return r;
	doc = json_loads(text, 0, NULL);
	free(text);
	if (!json_is_object(doc) || json_object_set(doc, name, value) < 0) {
		json_decref(doc);
		flint_set_err(ret_err, "%s: cannot update %s", acct->json_path, name);
		return FLINT_EINVAL;
	}
	r = save_json(acct->json_path, doc, ret_err);
	json_decref(doc);
	return r;
}

int flint_account_eab(const char *kid, const char *hmac_key_b64, const char *alg, const char *url,
		      const json_t *jwk, json_t **ret, char **ret_err)
{
	uint8_t *key = NULL;
	size_t key_len = 0, n;
	char *payload = NULL, *jws = NULL;
	json_t *doc = NULL;
	int r;

	if (!alg)
		alg = "HS256";
	if (strcmp(alg, "HS256") && strcmp(alg, "HS384") && strcmp(alg, "HS512")) {
		flint_set_err(ret_err, "--eab-alg %s: use HS256, HS384 or HS512", alg);
		return FLINT_EINVAL;
	}
	if (!kid || !*kid || !hmac_key_b64) {
		flint_set_err(ret_err, "external account binding needs both --eab-kid and "
				       "--eab-hmac-key");
		return FLINT_EINVAL;
	}
	n = strlen(hmac_key_b64);
	while (n > 0 && hmac_key_b64[n - 1] == '=') /* some CAs hand out padded keys */
		n--;
	if (flint_b64url_decode(hmac_key_b64, n, &key, &key_len) < 0 || key_len == 0) {
		flint_set_err(ret_err, "--eab-hmac-key: not base64url (RFC 4648 §5)");
		free(key);
		return FLINT_EINVAL;
	}
	r = FLINT_ENOMEM;
	if (!(payload = json_dumps(jwk, JSON_COMPACT | JSON_SORT_KEYS)))
		goto out;
	if ((r = flint_jws_sign_hmac(alg, kid, url, key, key_len, payload, &jws)) < 0) {
		flint_set_err(ret_err, "cannot MAC the external account binding: %s",
			      flint_strerror(r));
		goto out;
	}
	r = FLINT_ENOMEM;
	if (!(doc = json_loads(jws, 0, NULL)))
		goto out;
	*ret = doc;
	r = 0;
out:
	if (key) {
		memset(key, 0, key_len);
		free(key);
	}
	free(payload);
	free(jws);
	return r;
}

int flint_account_register(struct flint_acme *a, const struct flint_state *st,
			   const struct flint_account_params *p, struct flint_account **ret,
			   char **ret_err)
{
	const struct flint_acme_directory *dir = flint_acme_dir(a);
	struct flint_acme_reply *reply = NULL;
	struct flint_account *acct = NULL;
	json_t *payload = NULL, *contact = NULL;
	char *body = NULL;
	int r;

	if (dir->terms_of_service && !p->agree_tos) {
		flint_set_err(ret_err,
			      "%s: the server's terms of service (%s) must be agreed to: "
			      "read them, then pass --agree-tos",
			      dir->url, dir->terms_of_service);
		return FLINT_EINVAL;
	}
	if (dir->eab_required && !p->eab_kid) {
		flint_set_err(ret_err,
			      "%s: the server requires external account binding (RFC 8555 §7.3.4): "
			      "pass --eab-kid and --eab-hmac-key as your CA gave them",
			      dir->url);
		return FLINT_EINVAL;
	}
	if (p->eab_kid && !p->eab_hmac_key) {
		flint_set_err(ret_err, "--eab-kid needs --eab-hmac-key");
		return FLINT_EINVAL;
	}
	if ((r = account_paths(a, st, &acct, ret_err)) < 0)
		return r;
	if ((r = flint_mkdirs(acct->dir, 0700, ret_err)) < 0)
		goto out;
	/* a registration that stopped between key and URL: same key, same account */
	if (flint_file_exists(acct->key_path))
		flint_debug("reusing the account key %s", acct->key_path);
	if ((r = flint_keyproc_start(acct->key_path, true, p->key_type, p->rsa_bits,
				     &acct->keyproc, &acct->key, ret_err)) < 0)
		goto out;
	r = FLINT_ENOMEM;
	contact = contacts_json(p->emails, p->n_emails);
	payload = json_object();
	if (!contact || !payload || json_object_set(payload, "contact", contact) < 0)
		goto out;
	if (dir->terms_of_service && p->agree_tos &&
	    json_object_set_new(payload, "termsOfServiceAgreed", json_true()) < 0)
		goto out;
	if (p->eab_kid) {
		json_t *eab = NULL;

		if ((r = flint_account_eab(p->eab_kid, p->eab_hmac_key, p->eab_alg,
					   dir->new_account, acct->key->public_json, &eab,
					   ret_err)) < 0)
			goto out;
		r = FLINT_ENOMEM;
		if (json_object_set_new(payload, "externalAccountBinding", eab) < 0)
			goto out;
	}
	if (!(body = json_dumps(payload, JSON_COMPACT)))
		goto out;
	r = flint_acme_post_with(a, acct->key, NULL, dir->new_account, body, NULL, &reply, ret_err);
	if (r < 0)
		goto out;
	if (!reply->http->location) {
		flint_set_err(ret_err, "%s: newAccount reply without a Location", dir->new_account);
		r = FLINT_EPROTO;
		goto out;
	}
	r = FLINT_ENOMEM;
	if (!(acct->url = strdup(reply->http->location)))
		goto out;
	if ((r = save_account_json(acct, a, contact, ret_err)) < 0)
		goto out;
	if ((r = flint_acme_set_account(a, acct->key, acct->url)) < 0)
		goto out;
	flint_progress("%s account %s", reply->http->status == 201 ? "registered" : "found existing",
		       acct->url);
	*ret = acct;
	acct = NULL;
	r = 0;
out:
	free(body);
	json_decref(payload);
	json_decref(contact);
	flint_acme_reply_free(reply);
	flint_account_free(acct);
	return r;
}

int flint_account_ensure(struct flint_acme *a, const struct flint_state *st,
			 const struct flint_account_params *p, struct flint_account **ret,
			 bool *ret_created, char **ret_err)
{
	int r = flint_account_load(a, st, ret, ret_err);

	if (r == 0) {
		if (ret_created)
			*ret_created = false;
		return 0;
	}
	if (r != FLINT_ENOTFOUND)
		return r;
	r = flint_account_register(a, st, p, ret, ret_err);
	if (r == 0 && ret_created)
		*ret_created = true;
	return r;
}

static int post_account(struct flint_acme *a, struct flint_account *acct, const char *payload,
			json_t **ret, char **ret_err)
{
	struct flint_acme_reply *reply = NULL;
	int r;

	r = flint_acme_post(a, acct->url, payload, NULL, &reply, ret_err);
	if (r < 0)
		return r;
	if (!json_is_object(reply->json)) {
		flint_set_err(ret_err, "%s: the account reply is not a JSON object", acct->url);
		flint_acme_reply_free(reply);
		return FLINT_EPROTO;
	}
	if (ret)
		*ret = json_incref(reply->json);
	flint_acme_reply_free(reply);
	return 0;
}

int flint_account_fetch(struct flint_acme *a, struct flint_account *acct, json_t **ret,
			char **ret_err)
{
	return post_account(a, acct, NULL, ret, ret_err);
}

int flint_account_update_contacts(struct flint_acme *a, struct flint_account *acct,
				  const char *const *emails, size_t n_emails, json_t **ret,
				  char **ret_err)
{
	json_t *contact = contacts_json(emails, n_emails), *payload = NULL, *doc = NULL;
	char *body = NULL;
	int r = FLINT_ENOMEM;

	if (!contact || !(payload = json_pack("{s:O}", "contact", contact)) ||
	    !(body = json_dumps(payload, JSON_COMPACT)))
		goto out;
	if ((r = post_account(a, acct, body, &doc, ret_err)) < 0)
		goto out;
	/* keep the local record's contact list in step; the server is the authority */
	if ((r = update_local(acct, "contact", contact, ret_err)) < 0)
		goto out;
	if (ret) {
		*ret = doc;
		doc = NULL;
	}
	r = 0;
out:
	json_decref(contact);
	json_decref(payload);
	json_decref(doc);
	free(body);
	return r;
}

int flint_account_deactivate(struct flint_acme *a, struct flint_account *acct, char **ret_err)
{
	char stamp[FLINT_TIME_BUF];
	char *aside = NULL, *key_to = NULL, *json_to = NULL;
	int r;

	r = post_account(a, acct, "{\"status\":\"deactivated\"}", NULL, ret_err);
	if (r < 0)
		return r;
	/* the key authorizes nothing any more: move it aside so the next issue
	 * registers a fresh account instead of failing on this one */
	flint_time_format((int64_t)time(NULL), stamp);
	r = FLINT_ENOMEM;
	if (!(aside = flint_strdupf("%s/deactivated-%s", acct->dir, stamp)) ||
	    !(key_to = flint_strdupf("%s/account.key", aside)) ||
	    !(json_to = flint_strdupf("%s/account.json", aside)))
		goto out;
	if ((r = flint_mkdirs(aside, 0700, ret_err)) < 0)
		goto out;
	if ((r = flint_rename(acct->json_path, json_to, ret_err)) < 0 ||
	    (r = flint_rename(acct->key_path, key_to, ret_err)) < 0)
		goto out;
	r = 0;
out:
	free(aside);
	free(key_to);
	free(json_to);
	return r;
}

int flint_account_rollover(struct flint_acme *a, struct flint_account *acct,
			   enum flint_key_type type, int rsa_bits, char **ret_err)
{
	const struct flint_acme_directory *dir = flint_acme_dir(a);
	struct flint_acme_reply *reply = NULL;
	struct flint_jwk *new_key = NULL;
	struct flint_keyproc *new_proc = NULL;
	json_t *inner_payload = NULL, *kt = NULL;
	char *inner_s = NULL, *inner = NULL, *new_path = NULL;
	int r;

	if (!dir->key_change) {
		flint_set_err(ret_err, "%s: the directory has no keyChange", dir->url);
		return FLINT_EUNSUPPORTED;
	}
	/* the new key is made in a key process of its own and saved before the
	 * server knows it: a crash after the server switched can still be
	 * recovered from account.key.new */
	if (!(new_path = flint_strdupf("%s.new", acct->key_path)))
		return FLINT_ENOMEM;
	unlink(new_path); /* what an attempt that failed before the server answered left */
	if ((r = flint_keyproc_start(new_path, true, type, rsa_bits, &new_proc, &new_key,
				     ret_err)) < 0)
		goto out;
	r = FLINT_ENOMEM;
	inner_payload = json_pack("{s:s, s:O}", "account", acct->url, "oldKey",
				  acct->key->public_json);
	if (!inner_payload || !(inner_s = json_dumps(inner_payload, JSON_COMPACT | JSON_SORT_KEYS)))
		goto out;
	/* §7.3.5: the inner JWS is signed by the new key, carries its jwk, no nonce */
	if ((r = flint_jws_sign(new_key, NULL, NULL, dir->key_change, inner_s, &inner)) < 0) {
		flint_set_err(ret_err, "cannot sign the keyChange request: %s", flint_strerror(r));
		unlink(new_path);
		goto out;
	}
	r = flint_acme_post(a, dir->key_change, inner, NULL, &reply, ret_err);
	if (r < 0) {
		unlink(new_path);
		goto out;
	}
	if ((r = flint_rename(new_path, acct->key_path, ret_err)) < 0) {
		if (ret_err) {
			free(*ret_err);
			*ret_err = flint_strdupf("the server switched to the new key, but "
						 "replacing %s with %s failed; move it by hand",
						 acct->key_path, new_path);
		}
		goto out;
	}
	flint_jwk_free(acct->key);
	flint_keyproc_free(acct->keyproc);
	acct->key = new_key;
	acct->keyproc = new_proc;
	new_key = NULL;
	new_proc = NULL;
	if ((r = flint_acme_set_account(a, acct->key, acct->url)) < 0)
		goto out;
	kt = json_string(flint_account_key_type_name(acct->key->type));
	if (!kt || update_local(acct, "key_type", kt, NULL) < 0)
		flint_warn("%s: could not record the new key type", acct->json_path);
	r = 0;
out:
	flint_acme_reply_free(reply);
	flint_jwk_free(new_key);
	flint_keyproc_free(new_proc);
	json_decref(inner_payload);
	json_decref(kt);
	free(inner_s);
	free(inner);
	free(new_path);
	return r;
}
