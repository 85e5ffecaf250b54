/* `flint account register|show|update|deactivate|rollover`: the account
 * verbs (RFC 8555 §7.3.1-7.3.6) over account.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "acme.h"
#include "cmd.h"
#include "error.h"
#include "output.h"
#include "state.h"

static void print_account(const struct flint_acme *a, const struct flint_account *acct,
			  const json_t *doc)
{
	const json_t *contact = json_object_get(doc, "contact");
	const char *status = json_string_value(json_object_get(doc, "status"));
	const char *orders = json_string_value(json_object_get(doc, "orders"));

	printf("server: %s\n", flint_acme_dir(a)->url);
	printf("url: %s\n", acct->url);
	printf("status: %s\n", status ? status : "(none)");
	if (json_array_size(contact) == 0)
		printf("contact: (none)\n");
	for (size_t i = 0; i < json_array_size(contact); i++)
		printf("contact: %s\n", json_string_value(json_array_get(contact, i)));
	printf("terms-of-service-agreed: %s\n",
	       json_is_true(json_object_get(doc, "termsOfServiceAgreed")) ? "yes" : "no");
	if (orders)
		printf("orders: %s\n", orders);
	printf("key: %s %s\n", flint_account_key_type_name(acct->key->type), acct->key->thumbprint);
	printf("key-file: %s\n", acct->key_path);
}

static int account_params(const struct flint_opts *o, struct flint_account_params *p)
{
	memset(p, 0, sizeof(*p));
	p->emails = o->emails;
	p->n_emails = o->n_emails;
	p->agree_tos = o->agree_tos;
	p->eab_kid = o->eab_kid;
	p->eab_hmac_key = o->eab_hmac_key;
	p->eab_alg = o->eab_alg;
	if ((o->eab_kid != NULL) != (o->eab_hmac_key != NULL) || (o->eab_alg && !o->eab_kid)) {
		flint_error("external account binding needs both --eab-kid and --eab-hmac-key");
		return FLINT_EINVAL;
	}
	if (flint_account_key_type(o->key_type ? o->key_type : "es256", &p->key_type,
				   &p->rsa_bits) < 0) {
		flint_error("--key-type %s: account keys are es256, es384, rs256 or eddsa",
			    o->key_type);
		return FLINT_EINVAL;
	}
	return 0;
}

/* show, update, deactivate or rollover on the loaded account. */
static int account_sub(const struct flint_opts *o, const char *sub, struct flint_acme *a,
		       struct flint_account *acct, char **ret_err)
{
	json_t *doc = NULL;
	int r;

	if (!strcmp(sub, "show")) {
		if ((r = flint_account_fetch(a, acct, &doc, ret_err)) == 0 && flint_json()) {
			json_t *out = json_deep_copy(doc);

			if (out)
				json_object_set_new(out, "url", json_string(acct->url));
			flint_json_emit(out);
		} else if (r == 0) {
			print_account(a, acct, doc);
		}
	} else if (!strcmp(sub, "update")) {
		r = flint_account_update_contacts(a, acct, o->emails, o->n_emails, &doc, ret_err);
		if (r == 0)
			flint_progress("account %s updated", acct->url);
	} else if (!strcmp(sub, "deactivate")) {
		if ((r = flint_account_deactivate(a, acct, ret_err)) == 0)
			flint_progress("account %s deactivated", acct->url);
	} else {
		enum flint_key_type type = acct->key->type;
		int bits = type == FLINT_KEY_RSA ? EVP_PKEY_get_bits(acct->key->pkey) : 0;

		/* --key-type was checked before anything was opened */
		if (o->key_type)
			flint_account_key_type(o->key_type, &type, &bits);
		r = flint_account_rollover(a, acct, type, bits, ret_err);
		if (r == 0)
			flint_progress("account %s now uses a new %s key (%s)", acct->url,
				       flint_account_key_type_name(acct->key->type),
				       acct->key->thumbprint);
	}
	json_decref(doc);
	return r;
}

int flint_cmd_account(const struct flint_opts *o, const char *sub)
{
	struct flint_account_params params;
	struct flint_state *st = NULL;
	struct flint_acme *a = NULL;
	struct flint_account *acct = NULL;
	char *err = NULL;
	int r, code = FLINT_EXIT_ERROR;

	if ((!strcmp(sub, "register") || (!strcmp(sub, "rollover") && o->key_type)) &&
	    account_params(o, &params) < 0)
		return FLINT_EXIT_USAGE;
	if (!strcmp(sub, "update") && o->n_emails == 0) {
		flint_error("account update: give the new contact list with --email (repeatable)");
		return FLINT_EXIT_USAGE;
	}
	if (flint_cmd_open_state(o, &st) < 0 || flint_cmd_open_acme(o, NULL, &a) < 0)
		goto out;
	r = flint_account_load(a, st, &acct, &err);
	if (!strcmp(sub, "register") && r == 0) {
		flint_progress("already registered: %s (see `flint account show`; "
			       "`flint account update --email` changes contacts)",
			       acct->url);
		code = FLINT_EXIT_OK;
		goto out;
	}
	if (!strcmp(sub, "register") && r == FLINT_ENOTFOUND) {
		r = flint_account_register(a, st, &params, &acct, &err);
	} else if (r == FLINT_ENOTFOUND) {
		flint_error("no account for %s in %s: run `flint account register` first",
			    flint_acme_dir(a)->url, st->dir);
		goto out;
	} else if (r == 0) {
		r = account_sub(o, sub, a, acct, &err);
	}
	if (r < 0)
		flint_error("account %s: %s", sub, err ? err : flint_strerror(r));
	else
		code = FLINT_EXIT_OK;
out:
	free(err);
	flint_account_free(acct);
	flint_acme_free(a);
	flint_state_free(st);
	return code;
}
