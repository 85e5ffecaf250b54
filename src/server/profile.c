/* Certificate profiles: parsing the configuration lines (profile.h). */
#include "profile.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

const char *const flint_profiles_builtin[] = {
	"classic; lifetime=90d; eku=serverAuth,clientAuth; cn=yes; identifiers=dns,ip; "
	"description=90 days, serverAuth and clientAuth, the first DNS name as subject CN",
	"tlsserver; lifetime=90d; eku=serverAuth; cn=no; identifiers=dns,ip; "
	"description=90 days, serverAuth only, empty subject (names in subjectAltName only)",
	"shortlived; lifetime=160h; eku=serverAuth; cn=no; identifiers=dns,ip; "
	"description=160 hours (under 7 days), serverAuth only, empty subject",
	NULL,
};

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static bool name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > FLINT_PROFILE_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("-_.", name[i]))
			return false;
	return true;
}

static int parse_lifetime(const char *v, int64_t *ret)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno || end == v || n <= 0)
		return FLINT_EINVAL;
	if (!strcmp(end, "d") && n <= 398)
		*ret = n * 86400;
	else if (!strcmp(end, "h") && n <= 398 * 24)
		*ret = n * 3600;
	else
		return FLINT_EINVAL;
	return 0;
}

/* A comma-separated list of words from allowed (NULL-terminated); sets
 * flags[i] for each word. */
static int parse_words(char *v, const char *const *allowed, bool *flags)
{
	bool any = false;

	for (char *save = NULL, *w = strtok_r(v, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		size_t i;

		w = trim(w);
		for (i = 0; allowed[i] && strcmp(allowed[i], w) != 0; i++)
			;
		if (!allowed[i])
			return FLINT_EINVAL;
		flags[i] = true;
		any = true;
	}
	return any ? 0 : FLINT_EINVAL;
}

static void set_err(char **ret_err, const char *fmt, const char *arg)
{
	if (ret_err && asprintf(ret_err, fmt, arg) < 0)
		*ret_err = NULL;
}

int flint_profile_parse(const char *spec, struct flint_profile *ret, char **ret_err)
{
	static const char *const ekus[] = {"serverAuth", "clientAuth", NULL};
	static const char *const idtypes[] = {"dns", "ip", NULL};
	struct flint_profile p = {0};
	bool eku[2] = {false, false}, ids[2] = {false, false};
	bool have_lifetime = false, have_eku = false;
	char *copy = NULL, *cur, *field;
	int r = FLINT_ENOMEM;

	if (ret_err)
		*ret_err = NULL;
	if (!spec || !ret)
		return FLINT_EINVAL;
	if (!(copy = strdup(spec)))
		goto out;
	r = FLINT_EINVAL;
	cur = copy;
	field = strsep(&cur, ";");
	if (!name_ok(trim(field))) {
		set_err(ret_err, "profile name '%s' must be 1-64 letters, digits, '-', '_' or '.'",
			trim(field));
		goto out;
	}
	if (!(p.name = strdup(trim(field)))) {
		r = FLINT_ENOMEM;
		goto out;
	}
	p.common_name = false;
	ids[0] = ids[1] = true; /* every identifier type unless restricted */
	while (cur) {
		char *eq, *key, *val;

		/* the description runs to the end of the line, semicolons included */
		while (isspace((unsigned char)*cur))
			cur++;
		if (!strncmp(cur, "description=", 12)) {
			free(p.description);
			if (!(p.description = strdup(trim(cur + 12)))) {
				r = FLINT_ENOMEM;
				goto out;
			}
			break;
		}
		field = strsep(&cur, ";");
		if (*trim(field) == '\0')
			continue;
		if (!(eq = strchr(field, '='))) {
			set_err(ret_err, "profile field '%s' is not key=value", trim(field));
			goto out;
		}
		*eq = '\0';
		key = trim(field);
		val = trim(eq + 1);
		if (!strcmp(key, "lifetime")) {
			if (parse_lifetime(val, &p.lifetime) < 0) {
				set_err(ret_err, "profile lifetime '%s' must be N d (<= 398) or N h", val);
				goto out;
			}
			have_lifetime = true;
		} else if (!strcmp(key, "eku")) {
			eku[0] = eku[1] = false;
			if (parse_words(val, ekus, eku) < 0) {
				set_err(ret_err, "profile eku '%s' must list serverAuth and/or clientAuth",
					val);
				goto out;
			}
			have_eku = true;
		} else if (!strcmp(key, "cn")) {
			if (strcmp(val, "yes") && strcmp(val, "no")) {
				set_err(ret_err, "profile cn '%s' must be yes or no", val);
				goto out;
			}
			p.common_name = !strcmp(val, "yes");
		} else if (!strcmp(key, "identifiers")) {
			ids[0] = ids[1] = false;
			if (parse_words(val, idtypes, ids) < 0) {
				set_err(ret_err, "profile identifiers '%s' must list dns and/or ip", val);
				goto out;
			}
		} else {
			set_err(ret_err, "unknown profile field '%s'", key);
			goto out;
		}
	}
	if (!have_lifetime || !have_eku) {
		set_err(ret_err, "profile %s needs lifetime= and eku=", p.name);
		goto out;
	}
	p.server_auth = eku[0];
	p.client_auth = eku[1];
	p.allow_dns = ids[0];
	p.allow_ip = ids[1];
	if (!p.description && !(p.description = strdup(p.name))) {
		r = FLINT_ENOMEM;
		goto out;
	}
	*ret = p;
	memset(&p, 0, sizeof(p));
	r = 0;
out:
	flint_profile_clear(&p);
	free(copy);
	return r;
}

const struct flint_profile *flint_profile_find(const struct flint_profile *list, size_t n,
					       const char *name)
{
	for (size_t i = 0; name && i < n; i++)
		if (!strcmp(list[i].name, name))
			return &list[i];
	return NULL;
}

bool flint_profile_allows(const struct flint_profile *p, const char *ident_type)
{
	if (!p || !ident_type)
		return false;
	if (!strcmp(ident_type, "dns"))
		return p->allow_dns;
	if (!strcmp(ident_type, "ip"))
		return p->allow_ip;
	return false;
}

void flint_profile_clear(struct flint_profile *p)
{
	if (!p)
		return;
	free(p->name);
	free(p->description);
	memset(p, 0, sizeof(*p));
}
