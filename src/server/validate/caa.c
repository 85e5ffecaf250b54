/* CAA (RFC 8659, RFC 8657): see caa.h. */
#include "caa.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "resolver.h"

int flint_caa_rdata_parse(const unsigned char *d, size_t len, struct flint_caa_record *ret)
{
	size_t tag_len;
	char *tag = NULL, *value = NULL;

	if (!d || !ret || len < 2)
		return FLINT_EINVAL;
	tag_len = d[1];
	if (tag_len == 0 || tag_len > 15 || 2 + tag_len > len)
		return FLINT_EINVAL;
	for (size_t i = 0; i < tag_len; i++)
		if (!isalnum(d[2 + i]) || d[2 + i] > 127)
			return FLINT_EINVAL;
	if (memchr(d + 2 + tag_len, 0, len - 2 - tag_len))
		return FLINT_EINVAL;
	if (!(tag = strndup((const char *)d + 2, tag_len)) ||
	    !(value = strndup((const char *)d + 2 + tag_len, len - 2 - tag_len))) {
		free(tag);
		return FLINT_ENOMEM;
	}
	for (char *p = tag; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	ret->flags = d[0];
	ret->tag = tag;
	ret->value = value;
	return 0;
}

void flint_caa_record_clear(struct flint_caa_record *r)
{
	if (!r)
		return;
	free(r->tag);
	free(r->value);
	r->tag = r->value = NULL;
}

void flint_caa_records_free(struct flint_caa_record *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		flint_caa_record_clear(&v[i]);
	free(v);
}

static bool known_tag(const char *tag)
{
	return !strcmp(tag, "issue") || !strcmp(tag, "issuewild") || !strcmp(tag, "iodef") ||
	       !strcmp(tag, "issuemail") || !strcmp(tag, "issuevmc") || !strcmp(tag, "contactemail") ||
	       !strcmp(tag, "contactphone");
}

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Whether label is in the comma-separated list (RFC 8657 §4). */
static bool in_methods(const char *list, size_t len, const char *method)
{
	size_t m = strlen(method);

	for (size_t i = 0; i < len;) {
		size_t n = 0;

		while (i + n < len && list[i + n] != ',')
			n++;
		if (n == m && !strncmp(list + i, method, m))
			return true;
		i += n + 1;
	}
	return false;
}

/* One issue/issuewild value: "[domain] *(; name=value)". Returns true when
 * it authorizes the request; otherwise *why says why not (static text). */
static bool value_authorizes(const char *value, const struct flint_caa_request *q,
			     const char **why)
{
	const char *p = skip_ws(value), *end;
	bool ours = false, seen_account = false, seen_methods = false;
	size_t n;

	for (end = p; *end && *end != ';' && *end != ' ' && *end != '\t'; end++)
		;
	n = (size_t)(end - p);
	if (n == 0) {
		*why = "it forbids issuance by any CA";
		return false;
	}
	for (size_t i = 0; i < q->n_identities; i++)
		if (strlen(q->identities[i]) == n && !strncasecmp(q->identities[i], p, n))
			ours = true;
	if (!ours) {
		*why = "it names another CA";
		return false;
	}
	p = skip_ws(end);
	while (*p) {
		const char *name, *val, *eq;
		size_t name_len, val_len;

		if (*p != ';') {
			*why = "it is malformed";
			return false;
		}
		p = skip_ws(p + 1);
		if (!*p)
			break;
		name = p;
		eq = strchr(p, '=');
		if (!eq) {
			*why = "it has a malformed parameter";
			return false;
		}
		name_len = (size_t)(eq - name);
		while (name_len && (name[name_len - 1] == ' ' || name[name_len - 1] == '\t'))
			name_len--;
		val = skip_ws(eq + 1);
		for (val_len = 0; val[val_len] && val[val_len] != ';' && val[val_len] != ' ' &&
				  val[val_len] != '\t';
		     val_len++)
			;
		p = skip_ws(val + val_len);
		if (name_len == 10 && !strncasecmp(name, "accounturi", 10)) {
			if (seen_account) {
				*why = "it repeats accounturi";
				return false;
			}
			seen_account = true;
			if (!q->account_url || strlen(q->account_url) != val_len ||
			    strncmp(q->account_url, val, val_len) != 0) {
				*why = "its accounturi names another account";
				return false;
			}
		} else if (name_len == 17 && !strncasecmp(name, "validationmethods", 17)) {
			if (seen_methods) {
				*why = "it repeats validationmethods";
				return false;
			}
			seen_methods = true;
			if (!q->method || !in_methods(val, val_len, q->method)) {
				*why = "its validationmethods exclude the method used";
				return false;
			}
		}
		/* other parameters do not restrict this CA */
	}
	return true;
}

int flint_caa_evaluate(const struct flint_caa_record *rrs, size_t n,
		       const struct flint_caa_request *q, char **ret_reason)
{
	const char *tag = "issue", *why = NULL, *last_value = NULL;
	bool any_wild = false, any_relevant = false;

	if (!q || (n && !rrs))
		return FLINT_EINVAL;
	for (size_t i = 0; i < n; i++) {
		if ((rrs[i].flags & FLINT_CAA_CRITICAL) && !known_tag(rrs[i].tag)) {
			if (ret_reason && asprintf(ret_reason,
						   "CAA record \"%s\" is marked critical and unknown to "
						   "this CA",
						   rrs[i].tag) < 0)
				*ret_reason = NULL;
			return FLINT_EPROTO;
		}
		any_wild |= !strcmp(rrs[i].tag, "issuewild");
	}
	/* RFC 8659 §4.3: issuewild, when present, governs wildcard names */
	if (q->wildcard && any_wild)
		tag = "issuewild";
	for (size_t i = 0; i < n; i++) {
		if (strcmp(rrs[i].tag, tag) != 0)
			continue;
		any_relevant = true;
		if (value_authorizes(rrs[i].value, q, &why))
			return 0;
		last_value = rrs[i].value;
	}
	if (!any_relevant)
		return 0;
	if (ret_reason && asprintf(ret_reason, "CAA %s \"%s\" does not permit this CA: %s", tag,
				   last_value ? last_value : "", why ? why : "?") < 0)
		*ret_reason = NULL;
	return FLINT_EPROTO;
}

static int parse_caa(const unsigned char *d, size_t len, void *elem)
{
	return flint_caa_rdata_parse(d, len, elem);
}

static void clear_caa(void *elem)
{
	flint_caa_record_clear(elem);
}

int flint_resolver_caa(struct flint_resolver *r, const char *name, struct flint_caa_record **ret,
		       size_t *ret_n, struct flint_problem **ret_problem)
{
	return flint_resolver_collect(r, name, 257 /* CAA */, "CAA",
				      sizeof(struct flint_caa_record), parse_caa, clear_caa,
				      (void **)ret, ret_n, ret_problem);
}

static int caa_climb(struct flint_resolver *r, const char *domain,
		     const struct flint_caa_request *q, struct flint_problem **ret_problem);

void flint_caa_prefetch(struct flint_resolver *r, const char *domain)
{
	for (const char *name = domain; name && *name;) {
		const char *dot = strchr(name, '.');

		flint_resolver_prefetch(r, name, 257 /* CAA */);
		name = dot ? dot + 1 : NULL;
	}
}

int flint_caa_check(struct flint_resolver *r, const char *domain,
		    const struct flint_caa_request *q, struct flint_problem **ret_problem)
{
	if (!r || !domain || !*domain || !q)
		return FLINT_EINVAL;
	/* every level asked at once (each answer is still read in order) */
	flint_caa_prefetch(r, domain);
	int rc = caa_climb(r, domain, q, ret_problem);
	flint_resolver_prefetch_drop(r);
	return rc;
}

/* climb to (not including) the root: a.b.example.com, b.example.com,
 * example.com, com; the first level with CAA records decides */
static int caa_climb(struct flint_resolver *r, const char *domain,
		     const struct flint_caa_request *q, struct flint_problem **ret_problem)
{
	const char *name = domain;
	char *reason = NULL;
	int rc = 0;

	while (name && *name) {
		struct flint_caa_record *rrs = NULL;
		struct flint_problem *p = NULL;
		size_t n = 0;
		const char *dot;

		rc = flint_resolver_caa(r, name, &rrs, &n, &p);
		if (rc < 0) {
			if (ret_problem)
				*ret_problem = flint_problem_new(
					FLINT_PROB_CAA, "CAA lookup for %s failed, so issuance for %s is "
							"not permitted: %s",
					name, domain, p && p->detail ? p->detail : flint_strerror(rc));
			flint_problem_free(p);
			return rc;
		}
		if (n > 0) {
			rc = flint_caa_evaluate(rrs, n, q, &reason);
			flint_caa_records_free(rrs, n);
			if (rc < 0 && ret_problem)
				*ret_problem = flint_problem_new(FLINT_PROB_CAA,
								 "CAA records at %s forbid issuance for "
								 "%s%s: %s",
								 name, q->wildcard ? "*." : "", domain,
								 reason ? reason : "?");
			free(reason);
			return rc;
		}
		free(rrs);
		dot = strchr(name, '.');
		name = dot ? dot + 1 : NULL;
	}
	return 0;
}

int flint_caa_check_for(struct flint_resolver *r, const char *identities, const char *domain,
			bool wildcard, const char *account_url, const char *method,
			struct flint_problem **ret_problem)
{
	const char *ids[16];
	char buf[1024];
	size_t n = 0;
	struct flint_caa_request q = {.wildcard = wildcard, .account_url = account_url,
				      .method = method};

	snprintf(buf, sizeof(buf), "%s", identities ? identities : "");
	for (char *save = NULL, *t = strtok_r(buf, ", ", &save); t && n < 16;
	     t = strtok_r(NULL, ", ", &save))
		ids[n++] = t;
	q.identities = ids;
	q.n_identities = n;
	return flint_caa_check(r, domain, &q, ret_problem);
}
