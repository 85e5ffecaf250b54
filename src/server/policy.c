/* CA policy: derived statuses (RFC 8555 §7.1.6), contact rules (§7.3),
 * identifier rules (§7.4) and revocation reasons (§7.6, RFC 5280 §5.3.1). */
#include "policy.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"

const char *flint_policy_authz_status(const struct flint_authz *a, int64_t now)
{
	if ((!strcmp(a->status, "pending") || !strcmp(a->status, "valid")) && a->expires <= now)
		return "expired";
	return a->status;
}

bool flint_policy_order_status_needs_authzs(const struct flint_order *o, int64_t now)
{
	return strcmp(o->status, "processing") != 0 && strcmp(o->status, "valid") != 0 &&
	       strcmp(o->status, "invalid") != 0 && o->expires > now;
}

const char *flint_policy_order_status(const struct flint_order *o,
				      struct flint_authz *const *authzs, size_t n, int64_t now)
{
	if (!strcmp(o->status, "processing") || !strcmp(o->status, "valid") ||
	    !strcmp(o->status, "invalid"))
		return o->status;
	if (o->expires <= now)
		return "invalid";
	bool all_valid = true;
	for (size_t i = 0; i < n; i++) {
		const char *s = flint_policy_authz_status(authzs[i], now);
		if (!strcmp(s, "valid"))
			continue;
		if (strcmp(s, "pending") != 0)
			return "invalid";
		all_valid = false;
	}
	return all_valid ? "ready" : "pending";
}

static bool email_ok(const char *addr)
{
	const char *at = strrchr(addr, '@');
	if (!at || at == addr || strlen(addr) > 254 || at - addr > 64)
		return false;
	/* dot-atom local part (RFC 5322 §3.4.1), no quoting */
	static const char atext[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "0123456789!#$%&'*+-/=^_`{|}~.";
	for (const char *p = addr; p < at; p++)
		if (!strchr(atext, *p))
			return false;
	if (addr[0] == '.' || at[-1] == '.' || strstr(addr, ".."))
		return false;
	char *domain = NULL;
	int rc = flint_dns_name_normalize(at + 1, &domain, NULL);
	bool ok = rc == 0 && domain[0] != '*';
	free(domain);
	return ok;
}

int flint_policy_check_contacts(const json_t *contact, struct flint_problem **ret_problem)
{
	size_t i;
	json_t *v;
	if (!json_is_array(contact)) {
		*ret_problem = flint_problem_new(FLINT_PROB_MALFORMED, "contact must be an array");
		return FLINT_EINVAL;
	}
	if (json_array_size(contact) > FLINT_MAX_CONTACTS) {
		*ret_problem = flint_problem_new(FLINT_PROB_INVALID_CONTACT,
						 "at most %d contacts", FLINT_MAX_CONTACTS);
		return FLINT_EINVAL;
	}
	json_array_foreach(contact, i, v) {
		const char *s = json_string_value(v);
		if (!s) {
			*ret_problem = flint_problem_new(FLINT_PROB_MALFORMED,
							 "contact entries must be strings");
			return FLINT_EINVAL;
		}
		if (strncmp(s, "mailto:", 7) != 0) {
			*ret_problem = flint_problem_new(FLINT_PROB_UNSUPPORTED_CONTACT,
							 "only mailto: contacts are supported, not \"%.100s\"", s);
			return FLINT_EINVAL;
		}
		if (strpbrk(s + 7, "?,; \t<>\"") || !email_ok(s + 7)) {
			*ret_problem = flint_problem_new(FLINT_PROB_INVALID_CONTACT,
							 "\"%.100s\" is not a valid e-mail address", s);
			return FLINT_EINVAL;
		}
	}
	return 0;
}

int flint_policy_order_identifiers(const json_t *identifiers, struct flint_identifier **ret,
				   size_t *ret_n, struct flint_problem **ret_problem)
{
	struct flint_identifier *ids = NULL;
	struct flint_problem *all = NULL;
	size_t n = 0, i;
	json_t *v;
	int rc = FLINT_EINVAL;
	if (!json_is_array(identifiers) || json_array_size(identifiers) == 0) {
		*ret_problem = flint_problem_new(FLINT_PROB_MALFORMED,
						 "identifiers must be a non-empty array");
		return FLINT_EINVAL;
	}
	if (json_array_size(identifiers) > FLINT_MAX_ORDER_IDENTIFIERS) {
		*ret_problem = flint_problem_new(FLINT_PROB_REJECTED_IDENTIFIER,
						 "at most %d identifiers per order",
						 FLINT_MAX_ORDER_IDENTIFIERS);
		return FLINT_EINVAL;
	}
	ids = calloc(json_array_size(identifiers), sizeof(*ids));
	if (!ids)
		return FLINT_ENOMEM;
	json_array_foreach(identifiers, i, v) {
		struct flint_identifier id = {0};
		struct flint_problem *p = NULL;
		if (flint_identifier_from_json(v, &id, &p) < 0) {
			const json_t *t = json_object_get(v, "type"), *val = json_object_get(v, "value");
			if (!all) {
				all = p;
				p = NULL;
				if (!all) {
					rc = FLINT_ENOMEM;
					goto out;
				}
				/* the first failure is also the first subproblem */
				flint_problem_add_sub(all, all->type, json_string_value(t),
						      json_string_value(val), "%s", all->detail);
			} else {
				flint_problem_add_sub(all, p ? p->type : FLINT_PROB_MALFORMED,
						      json_string_value(t), json_string_value(val),
						      "%s", p ? p->detail : "invalid identifier");
			}
			flint_problem_free(p);
			continue;
		}
		bool dup = false;
		for (size_t k = 0; k < n; k++)
			if (!strcmp(ids[k].type, id.type) && !strcmp(ids[k].value, id.value))
				dup = true;
		if (dup)
			flint_identifier_clear(&id);
		else
			ids[n++] = id;
	}
	if (all) {
		if (all->n_sub > 1) {
			free(all->detail);
			all->detail = strdup("several identifiers were refused; see subproblems");
			enum flint_problem_type t = all->sub[0].type;
			for (size_t k = 1; k < all->n_sub; k++)
				if (all->sub[k].type != t)
					all->type = FLINT_PROB_COMPOUND;
		}
		*ret_problem = all;
		all = NULL;
		goto out;
	}
	*ret = ids;
	*ret_n = n;
	ids = NULL;
	n = 0;
	rc = 0;
out:
	for (size_t k = 0; k < n; k++)
		flint_identifier_clear(&ids[k]);
	free(ids);
	flint_problem_free(all);
	return rc;
}

bool flint_policy_revocation_reason_ok(int reason)
{
	/* 7 is unassigned; certificateHold (6) cannot be undone here and
	 * removeFromCRL (8) belongs to delta CRLs only. */
	return reason >= 0 && reason <= 10 && reason != 6 && reason != 7 && reason != 8;
}
