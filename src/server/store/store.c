/* Backend selection by DSN and the destructors of the stored ACME objects
 * (RFC 8555 §7.1): everything in store.h that does not depend on a backend. */
#include <ctype.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "jwk.h"
#include "store/postgres.h"
#include "store/sqlite.h"
#include "store/store.h"

/* Imported account keys by their stored JWK text (which never changes for a
 * key: a rollover stores another text), shared by every thread: importing
 * and checking a key costs more than the rest of a request's JWS work.
 * Four ways per set, the least recently used one replaced: a direct-mapped
 * cache of the same size lost the keys of about one account in eight to
 * collisions at 128 active accounts. */
#define KEY_CACHE_SETS 1024
#define KEY_CACHE_WAYS 4

struct key_slot {
	char *jwk_json; /* NULL: empty */
	struct flint_jwk *key;
	uint64_t used; /* key_cache.tick when last found or stored; 0 while empty */
};

static struct {
	pthread_mutex_t lock;
	uint64_t tick;
	struct key_slot slot[KEY_CACHE_SETS][KEY_CACHE_WAYS];
} key_cache = {.lock = PTHREAD_MUTEX_INITIALIZER};

static struct key_slot *key_set(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return key_cache.slot[h % KEY_CACHE_SETS];
}

/* Under the lock: the way of set holding text, or NULL. */
static struct key_slot *key_find(struct key_slot *set, const char *text)
{
	for (size_t w = 0; w < KEY_CACHE_WAYS; w++)
		if (set[w].jwk_json && !strcmp(set[w].jwk_json, text))
			return &set[w];
	return NULL;
}

int flint_account_jwk(const struct flint_account *a, struct flint_jwk **ret)
{
	struct flint_jwk *key = NULL, *cached = NULL;
	struct key_slot *set, *slot;
	char *text = NULL;
	json_t *doc;
	int rc = FLINT_ENOTFOUND;

	if (!a->jwk_json)
		return FLINT_EINVAL;
	set = key_set(a->jwk_json);
	pthread_mutex_lock(&key_cache.lock);
	if ((slot = key_find(set, a->jwk_json))) {
		slot->used = ++key_cache.tick;
		rc = flint_jwk_dup(slot->key, ret);
	}
	pthread_mutex_unlock(&key_cache.lock);
	if (rc != FLINT_ENOTFOUND)
		return rc;
	doc = json_loads(a->jwk_json, 0, NULL);
	rc = doc ? flint_jwk_from_json(doc, &key) : FLINT_EINVAL;
	json_decref(doc);
	if (rc < 0)
		return rc;
	/* the cache keeps its own handle; failing to make one only skips caching */
	if (flint_jwk_dup(key, &cached) == 0 && (text = strdup(a->jwk_json))) {
		pthread_mutex_lock(&key_cache.lock);
		/* the way another thread stored it in meanwhile, else the least
		 * recently used (an empty one first: its use is 0) */
		if (!(slot = key_find(set, text))) {
			slot = &set[0];
			for (size_t w = 1; w < KEY_CACHE_WAYS; w++)
				if (set[w].used < slot->used)
					slot = &set[w];
		}
		free(slot->jwk_json);
		flint_jwk_free(slot->key);
		slot->jwk_json = text;
		slot->key = cached;
		slot->used = ++key_cache.tick;
		pthread_mutex_unlock(&key_cache.lock);
		cached = NULL;
	}
	flint_jwk_free(cached);
	*ret = key;
	return 0;
}

void flint_account_jwk_cache_clear(void)
{
	pthread_mutex_lock(&key_cache.lock);
	for (size_t i = 0; i < KEY_CACHE_SETS; i++)
		for (size_t w = 0; w < KEY_CACHE_WAYS; w++) {
			struct key_slot *s = &key_cache.slot[i][w];
			free(s->jwk_json);
			flint_jwk_free(s->key);
			memset(s, 0, sizeof(*s));
		}
	pthread_mutex_unlock(&key_cache.lock);
}

bool flint_store_reads_ahead(const struct flint_store *st)
{
	return st && st->ops->read_ahead;
}

void flint_store_read_ahead_calls(struct flint_store *st, const struct flint_store_read_call *calls,
				  size_t n)
{
	if (flint_store_reads_ahead(st))
		st->ops->read_ahead(st, calls,
				    n < FLINT_STORE_AHEAD_MAX ? n : FLINT_STORE_AHEAD_MAX);
}

void flint_store_read_ahead(struct flint_store *st, enum flint_store_read what, const char *id)
{
	struct flint_store_read_call call = {.what = what, .id = id};

	flint_store_read_ahead_calls(st, &call, what != FLINT_READ_NONE && id ? 1 : 0);
}

int flint_store_authzs_of_order(struct flint_store *st, const char *order_id, char *const *ids,
				size_t n, struct flint_authz **ret)
{
	int rc = 0;

	memset(ret, 0, n * sizeof(*ret));
	if (st->ops->authzs_of_order)
		rc = st->ops->authzs_of_order(st, order_id, ids, n, ret);
	/* what that did not give (an id listed twice gets its own copy), or all */
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (!ret[i])
			rc = st->ops->authz_get(st, ids[i], &ret[i]);
	if (rc < 0)
		for (size_t i = 0; i < n; i++) {
			flint_authz_free(ret[i]);
			ret[i] = NULL;
		}
	return rc;
}

/* A libpq conninfo string begins with a "keyword =" (host=..., dbname=...). */
static bool is_conninfo(const char *dsn)
{
	const char *p = dsn;

	while (islower((unsigned char)*p) || *p == '_')
		p++;
	if (p == dsn)
		return false;
	while (*p == ' ' || *p == '\t')
		p++;
	return *p == '=';
}

const struct flint_store_ops *flint_store_backend(const char *dsn, const char **ret_rest)
{
	const char *p;

	if (!dsn)
		return NULL;
	/* libpq takes the whole DSN: a postgres(ql):// URI or a key=value string. */
	if (strncmp(dsn, "postgresql://", 13) == 0 || strncmp(dsn, "postgres://", 11) == 0 ||
	    is_conninfo(dsn)) {
		if (ret_rest)
			*ret_rest = dsn;
		return &flint_store_postgres;
	}
	/* A leading "scheme:" names the backend; anything else is a file path. */
	for (p = dsn; *p && (isalnum((unsigned char)*p) || *p == '+' || *p == '-'); p++)
		;
	if (*p != ':' || p == dsn || !isalpha((unsigned char)*dsn)) {
		if (ret_rest)
			*ret_rest = dsn;
		return &flint_store_sqlite;
	}
	if ((p - dsn == 6 && strncmp(dsn, "sqlite", 6) == 0) ||
	    (p - dsn == 7 && strncmp(dsn, "sqlite3", 7) == 0)) {
		if (ret_rest)
			*ret_rest = p + 1;
		return &flint_store_sqlite;
	}
	return NULL;
}

int flint_store_open(const char *dsn, struct flint_store **ret)
{
	const struct flint_store_ops *ops;
	const char *rest = NULL;

	if (!dsn || !ret)
		return FLINT_EINVAL;
	ops = flint_store_backend(dsn, &rest);
	if (!ops)
		return FLINT_EUNSUPPORTED;
	return ops->open(rest, ret);
}

bool flint_cert_storable(const struct flint_cert *cert)
{
	return cert && cert->der && cert->der_len && (!cert->n_rate_domains || cert->rate_domains);
}

void flint_account_free(struct flint_account *a)
{
	if (!a)
		return;
	free(a->id);
	free(a->jwk_json);
	free(a->thumbprint);
	free(a->contact_json);
	free(a->status);
	free(a->eab_json);
	free(a);
}

/* strdup that keeps NULL; false when out of memory */
static bool copy_str(const char *s, char **ret)
{
	*ret = s ? strdup(s) : NULL;
	return !s || *ret;
}

int flint_account_dup(const struct flint_account *a, struct flint_account **ret)
{
	struct flint_account *d = calloc(1, sizeof(*d));

	if (!d || !copy_str(a->id, &d->id) || !copy_str(a->jwk_json, &d->jwk_json) ||
	    !copy_str(a->thumbprint, &d->thumbprint) ||
	    !copy_str(a->contact_json, &d->contact_json) || !copy_str(a->status, &d->status) ||
	    !copy_str(a->eab_json, &d->eab_json)) {
		flint_account_free(d);
		return FLINT_ENOMEM;
	}
	d->tos_agreed = a->tos_agreed;
	d->created = a->created;
	*ret = d;
	return 0;
}

int flint_challenge_dup(const struct flint_challenge *c, struct flint_challenge **ret)
{
	struct flint_challenge *d = calloc(1, sizeof(*d));

	if (!d || !copy_str(c->id, &d->id) || !copy_str(c->authz_id, &d->authz_id) ||
	    !copy_str(c->type, &d->type) || !copy_str(c->token, &d->token) ||
	    !copy_str(c->status, &d->status) || !copy_str(c->error_json, &d->error_json)) {
		flint_challenge_free(d);
		return FLINT_ENOMEM;
	}
	d->validated = c->validated;
	*ret = d;
	return 0;
}

int flint_authz_dup_bare(const struct flint_authz *a, struct flint_authz **ret)
{
	struct flint_authz *d = calloc(1, sizeof(*d));

	if (!d || !copy_str(a->id, &d->id) || !copy_str(a->account_id, &d->account_id) ||
	    !copy_str(a->ident_type, &d->ident_type) ||
	    !copy_str(a->ident_value, &d->ident_value) || !copy_str(a->status, &d->status)) {
		flint_authz_free(d);
		return FLINT_ENOMEM;
	}
	d->wildcard = a->wildcard;
	d->expires = a->expires;
	d->created = a->created;
	*ret = d;
	return 0;
}

void flint_eab_key_free(struct flint_eab_key *k)
{
	if (!k)
		return;
	free(k->kid);
	free(k->alg);
	if (k->hmac_key)
		OPENSSL_cleanse(k->hmac_key, k->hmac_key_len);
	free(k->hmac_key);
	free(k->account_id);
	free(k);
}

void flint_eab_key_list_free(struct flint_eab_key **keys, size_t n)
{
	if (!keys)
		return;
	for (size_t i = 0; i < n; i++)
		flint_eab_key_free(keys[i]);
	free(keys);
}

void flint_challenge_clear(struct flint_challenge *c)
{
	if (!c)
		return;
	free(c->id);
	free(c->authz_id);
	free(c->type);
	free(c->token);
	free(c->status);
	free(c->error_json);
	memset(c, 0, sizeof(*c));
}

void flint_challenge_free(struct flint_challenge *c)
{
	flint_challenge_clear(c);
	free(c);
}

void flint_authz_free(struct flint_authz *a)
{
	if (!a)
		return;
	free(a->id);
	free(a->account_id);
	free(a->ident_type);
	free(a->ident_value);
	free(a->status);
	for (size_t i = 0; i < a->n_challenges; i++)
		flint_challenge_clear(&a->challenges[i]);
	free(a->challenges);
	free(a);
}

void flint_order_free(struct flint_order *o)
{
	if (!o)
		return;
	free(o->id);
	free(o->account_id);
	free(o->status);
	free(o->identifiers_json);
	free(o->error_json);
	free(o->cert_id);
	free(o->profile);
	free(o->replaces);
	flint_string_list_free(o->authz_ids, o->n_authz);
	free(o);
}

void flint_cert_free(struct flint_cert *c)
{
	if (!c)
		return;
	free(c->id);
	free(c->serial);
	free(c->account_id);
	free(c->order_id);
	free(c->der);
	free(c->chain_pem);
	free(c->names_json);
	free(c->profile);
	free(c->replaced_by);
	free(c->ari_explanation);
	free(c);
}

void flint_cert_list_free(struct flint_cert **certs, size_t n)
{
	if (!certs)
		return;
	for (size_t i = 0; i < n; i++)
		flint_cert_free(certs[i]);
	free(certs);
}

void flint_string_list_free(char **list, size_t n)
{
	if (!list)
		return;
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

const char *flint_store_dsn_redacted(const char *dsn, char *buf, size_t cap)
{
	const char *scheme = dsn ? strstr(dsn, "://") : NULL, *at, *colon, *pw;
	size_t n;

	if (!buf || cap == 0)
		return "";
	snprintf(buf, cap, "%s", dsn ? dsn : "");
	if (scheme && (at = strchr(scheme + 3, '@')) &&
	    (colon = memchr(scheme + 3, ':', (size_t)(at - scheme - 3)))) {
		/* scheme://user:PASSWORD@rest */
		n = (size_t)(colon + 1 - dsn);
		snprintf(buf, cap, "%.*s***%s", (int)n, dsn, at);
	} else if (dsn && (pw = strstr(dsn, "password=")) && (pw == dsn || pw[-1] == ' ')) {
		/* conninfo: password=VALUE (quoted or up to a space) */
		const char *v = pw + 9, *end;

		if (*v == '\'') {
			for (end = v + 1; *end && *end != '\''; end++)
				if (*end == '\\' && end[1])
					end++;
			if (*end)
				end++;
		} else {
			end = v + strcspn(v, " ");
		}
		snprintf(buf, cap, "%.*s***%s", (int)(v - dsn), dsn, end);
	}
	return buf;
}
