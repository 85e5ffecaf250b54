/* Rate limits: see ratelimit.h. */
#include "ratelimit.h"

#include <errno.h>
#include <jansson.h>
#include <libpsl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "identifier.h"

int flint_rate_parse(const char *spec, struct flint_rate *ret, char **ret_err)
{
	long long count, amount, unit;
	char *end, *rest;

	if (ret_err)
		*ret_err = NULL;
	if (!spec || !ret)
		return FLINT_EINVAL;
	if (!strcmp(spec, "off") || !strcmp(spec, "0")) {
		*ret = (struct flint_rate){0, 0};
		return 0;
	}
	if (spec[0] < '0' || spec[0] > '9')
		goto bad; /* strtoll would skip spaces and take signs */
	errno = 0;
	count = strtoll(spec, &end, 10);
	if (errno || end == spec || *end != '/' || count <= 0 || count > 1000000)
		goto bad;
	rest = end + 1;
	if (rest[0] < '0' || rest[0] > '9')
		goto bad;
	amount = strtoll(rest, &end, 10);
	if (errno || end == rest || amount <= 0 || end[0] == '\0' || end[1] != '\0')
		goto bad;
	switch (end[0]) {
	case 's':
		unit = 1;
		break;
	case 'm':
		unit = 60;
		break;
	case 'h':
		unit = 3600;
		break;
	case 'd':
		unit = 86400;
		break;
	default:
		goto bad;
	}
	if (amount > 366LL * 86400 / unit)
		goto bad;
	*ret = (struct flint_rate){(int)count, amount * unit};
	return 0;
bad:
	if (ret_err && asprintf(ret_err,
				"'%s' is not COUNT/DURATION (e.g. 300/3h, 50/7d; units s m h d; "
				"at most 1000000 per 366 days) or off",
				spec) < 0)
		*ret_err = NULL;
	return FLINT_EINVAL;
}

long flint_rate_retry_after(const struct flint_rate *r, int64_t oldest, int64_t now)
{
	int64_t v = oldest + r->window - now;

	return v < 1 ? 1 : v > r->window ? (long)r->window : (long)v;
}

static const psl_ctx_t *psl;
static pthread_once_t psl_once = PTHREAD_ONCE_INIT;

/* The system's list (Debian's publicsuffix package) when there is one,
 * else the one built into libpsl. Loaded once, read-only after. */
static void psl_load(void)
{
	psl = psl_latest(NULL);
	if (!psl)
		psl = psl_builtin();
}

int flint_registered_domain(const char *name, char **ret)
{
	const char *reg;

	if (!name || !*name || !ret)
		return FLINT_EINVAL;
	pthread_once(&psl_once, psl_load);
	reg = psl ? psl_registrable_domain(psl, name) : NULL;
	*ret = strdup(reg ? reg : name);
	return *ret ? 0 : FLINT_ENOMEM;
}

int flint_rate_domains(const struct flint_identifier *ids, size_t n, char ***ret, size_t *ret_n)
{
	char **v = calloc(n ? n : 1, sizeof(*v));
	size_t k = 0;
	int r = FLINT_ENOMEM;

	if (!v)
		return r;
	for (size_t i = 0; i < n; i++) {
		const char *name = ids[i].value;
		char *d = NULL;
		bool dup = false;

		if (!strcmp(ids[i].type, "dns")) {
			if (!strncmp(name, "*.", 2))
				name += 2;
			if ((r = flint_registered_domain(name, &d)) < 0)
				goto out;
		} else if (!(d = strdup(name))) {
			r = FLINT_ENOMEM;
			goto out;
		}
		for (size_t j = 0; j < k && !dup; j++)
			dup = !strcmp(v[j], d);
		if (dup)
			free(d);
		else
			v[k++] = d;
	}
	*ret = v;
	*ret_n = k;
	v = NULL;
	r = 0;
out:
	for (size_t j = 0; v && j < k; j++)
		free(v[j]);
	free(v);
	return r;
}

/* Whether identifier JSON array a holds the identifier {type, value}. */
static bool json_has(const json_t *a, const json_t *id)
{
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v) {
		if (json_equal(json_object_get(v, "type"), json_object_get(id, "type")) &&
		    json_equal(json_object_get(v, "value"), json_object_get(id, "value")))
			return true;
	}
	return false;
}

bool flint_same_identifiers(const char *a_json, const char *b_json)
{
	json_t *a = json_loads(a_json ? a_json : "", 0, NULL);
	json_t *b = json_loads(b_json ? b_json : "", 0, NULL);
	bool same = json_is_array(a) && json_is_array(b) && json_array_size(a) > 0;
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v) same = same && json_has(b, v);
	json_array_foreach(b, i, v) same = same && json_has(a, v);
	json_decref(a);
	json_decref(b);
	return same;
}
