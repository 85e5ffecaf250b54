/* The flint client's certificate files: one directory per certificate, the
 * set it replaces kept in previous/, and renewal.json for `flint renew`. */
#include "certstore.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "output.h"
#include "pem.h"
#include "state.h"
#include "timefmt.h"

void flint_string_array_free(char **a, size_t n)
{
	for (size_t i = 0; a && i < n; i++)
		free(a[i]);
	free(a);
}

void flint_renewal_free(struct flint_renewal *rn)
{
	if (!rn)
		return;
	free(rn->server);
	flint_string_array_free(rn->names, rn->n_names);
	free(rn->key_type);
	free((char *)rn->solver.http01_bind);
	free((char *)rn->solver.webroot);
	free((char *)rn->solver.tlsalpn01_bind);
	free((char *)rn->solver.dns_hook);
	free(rn->deploy_hook);
	free(rn);
}

static int dup_opt(const char *in, const char **out)
{
	*out = NULL;
	if (!in)
		return 0;
	*out = strdup(in);
	return *out ? 0 : FLINT_ENOMEM;
}

int flint_renewal_set_solver(struct flint_renewal *rn, const struct flint_solver_config *cfg)
{
	struct flint_solver_config c = *cfg;

	if (dup_opt(cfg->http01_bind, &c.http01_bind) < 0 ||
	    dup_opt(cfg->webroot, &c.webroot) < 0 ||
	    dup_opt(cfg->tlsalpn01_bind, &c.tlsalpn01_bind) < 0 ||
	    dup_opt(cfg->dns_hook, &c.dns_hook) < 0) {
		free((char *)c.http01_bind);
		free((char *)c.webroot);
		free((char *)c.tlsalpn01_bind);
		free((char *)c.dns_hook);
		return FLINT_ENOMEM;
	}
	free((char *)rn->solver.http01_bind);
	free((char *)rn->solver.webroot);
	free((char *)rn->solver.tlsalpn01_bind);
	free((char *)rn->solver.dns_hook);
	rn->solver = c;
	return 0;
}

static int dup_str(const json_t *obj, const char *name, char **ret)
{
	const char *v = json_string_value(json_object_get(obj, name));

	*ret = NULL;
	if (!v)
		return 0;
	*ret = strdup(v);
	return *ret ? 0 : FLINT_ENOMEM;
}

static int get_time(const json_t *obj, const char *name, int64_t *ret)
{
	const char *v = json_string_value(json_object_get(obj, name));

	*ret = 0;
	return v ? flint_time_parse(v, ret) : 0;
}

int flint_renewal_load(const char *path, struct flint_renewal **ret, char **ret_err)
{
	struct flint_renewal *rn = NULL;
	struct flint_solver_config cfg = {0};
	json_t *doc = NULL, *names, *sv;
	char *text = NULL, *s[4] = {NULL, NULL, NULL, NULL};
	int r;

	if ((r = flint_read_file(path, 256 * 1024, &text, NULL, ret_err)) < 0)
		return r;
	r = FLINT_EINVAL;
	doc = json_loads(text, 0, NULL);
	names = json_object_get(doc, "names");
	if (!json_is_object(doc) || !json_is_array(names) || json_array_size(names) == 0 ||
	    !json_string_value(json_object_get(doc, "server"))) {
		flint_set_err(ret_err, "%s: not a renewal record (server, names)", path);
		goto out;
	}
	r = FLINT_ENOMEM;
	rn = calloc(1, sizeof(*rn));
	if (!rn || dup_str(doc, "server", &rn->server) < 0 ||
	    dup_str(doc, "key_type", &rn->key_type) < 0 ||
	    dup_str(doc, "deploy_hook", &rn->deploy_hook) < 0)
		goto out;
	rn->names = calloc(json_array_size(names), sizeof(*rn->names));
	if (!rn->names)
		goto out;
	for (size_t i = 0; i < json_array_size(names); i++) {
		const char *n = json_string_value(json_array_get(names, i));

		if (!n) {
			flint_set_err(ret_err, "%s: names must be strings", path);
			r = FLINT_EINVAL;
			goto out;
		}
		if (!(rn->names[rn->n_names] = strdup(n)))
			goto out;
		rn->n_names++;
	}
	sv = json_object_get(doc, "solver");
	cfg.http01_port = (int)json_integer_value(json_object_get(sv, "http01_port"));
	cfg.tlsalpn01_port = (int)json_integer_value(json_object_get(sv, "tlsalpn01_port"));
	cfg.timeout_seconds = (int)json_integer_value(json_object_get(sv, "timeout"));
	if (dup_str(sv, "http01_bind", &s[0]) < 0 || dup_str(sv, "webroot", &s[1]) < 0 ||
	    dup_str(sv, "tlsalpn01_bind", &s[2]) < 0 || dup_str(sv, "dns_hook", &s[3]) < 0)
		goto out;
	cfg.http01_bind = s[0];
	cfg.webroot = s[1];
	cfg.tlsalpn01_bind = s[2];
	cfg.dns_hook = s[3];
	rn->solver = cfg;
	s[0] = s[1] = s[2] = s[3] = NULL;
	rn->timeout = (int)json_integer_value(json_object_get(doc, "timeout"));
	rn->revoked = json_is_true(json_object_get(doc, "revoked"));
	if (get_time(doc, "not_before", &rn->not_before) < 0 ||
	    get_time(doc, "not_after", &rn->not_after) < 0) {
		flint_set_err(ret_err, "%s: unreadable not_before/not_after", path);
		r = FLINT_EINVAL;
		goto out;
	}
	*ret = rn;
	rn = NULL;
	r = 0;
out:
	for (int i = 0; i < 4; i++)
		free(s[i]);
	flint_renewal_free(rn);
	json_decref(doc);
	free(text);
	return r;
}

static int set_opt_str(json_t *obj, const char *name, const char *v)
{
	return v ? json_object_set_new(obj, name, json_string(v)) : 0;
}

int flint_renewal_save(const char *path, const struct flint_renewal *rn, char **ret_err)
{
	char nb[FLINT_TIME_BUF], na[FLINT_TIME_BUF];
	json_t *doc = NULL, *names = json_array(), *sv = json_object();
	char *text = NULL;
	int r = FLINT_ENOMEM;

	if (!names || !sv)
		goto out;
	for (size_t i = 0; i < rn->n_names; i++)
		if (json_array_append_new(names, json_string(rn->names[i])) < 0)
			goto out;
	if ((rn->solver.http01_port &&
	     json_object_set_new(sv, "http01_port", json_integer(rn->solver.http01_port)) < 0) ||
	    (rn->solver.tlsalpn01_port &&
	     json_object_set_new(sv, "tlsalpn01_port", json_integer(rn->solver.tlsalpn01_port)) < 0) ||
	    (rn->solver.timeout_seconds &&
	     json_object_set_new(sv, "timeout", json_integer(rn->solver.timeout_seconds)) < 0) ||
	    set_opt_str(sv, "http01_bind", rn->solver.http01_bind) < 0 ||
	    set_opt_str(sv, "webroot", rn->solver.webroot) < 0 ||
	    set_opt_str(sv, "tlsalpn01_bind", rn->solver.tlsalpn01_bind) < 0 ||
	    set_opt_str(sv, "dns_hook", rn->solver.dns_hook) < 0)
		goto out;
	flint_time_format(rn->not_before, nb);
	flint_time_format(rn->not_after, na);
	doc = json_pack("{s:s, s:O, s:s, s:O, s:s, s:s, s:b}", "server", rn->server, "names", names,
			"key_type", rn->key_type ? rn->key_type : "ec256", "solver", sv,
			"not_before", nb, "not_after", na, "revoked", rn->revoked);
	if (!doc || set_opt_str(doc, "deploy_hook", rn->deploy_hook) < 0 ||
	    (rn->timeout && json_object_set_new(doc, "timeout", json_integer(rn->timeout)) < 0))
		goto out;
	if (!(text = json_dumps(doc, JSON_INDENT(2))))
		goto out;
	r = flint_write_file_atomic(path, text, strlen(text), 0644, ret_err);
out:
	json_decref(doc);
	json_decref(names);
	json_decref(sv);
	free(text);
	return r;
}

static const struct {
	const char *name;
	mode_t mode;
} cert_files[] = {
	{"cert.pem", 0644}, {"chain.pem", 0644}, {"fullchain.pem", 0644},
	{"key.pem", 0600},  {"renewal.json", 0644},
};

#define N_CERT_FILES (sizeof(cert_files) / sizeof(cert_files[0]))

/* Copies the current set into previous/ (copies, so the live files stay
 * whole until each is replaced). */
static int keep_previous(const char *cert_dir, char **ret_err)
{
	char *prev = flint_strdupf("%s/previous", cert_dir);
	int r = FLINT_ENOMEM;

	if (!prev)
		return FLINT_ENOMEM;
	if ((r = flint_mkdirs(prev, 0700, ret_err)) < 0)
		goto out;
	for (size_t i = 0; i < N_CERT_FILES; i++) {
		char *from = flint_strdupf("%s/%s", cert_dir, cert_files[i].name);
		char *to = flint_strdupf("%s/%s", prev, cert_files[i].name);
		char *data = NULL;
		size_t len = 0;

		r = from && to ? flint_read_file(from, 1024 * 1024, &data, &len, ret_err)
			       : FLINT_ENOMEM;
		if (r == 0)
			r = flint_write_file_atomic(to, data, len, cert_files[i].mode, ret_err);
		else if (r == FLINT_ENOTFOUND)
			r = 0;
		if (data) {
			OPENSSL_cleanse(data, len);
			free(data);
		}
		free(from);
		free(to);
		if (r < 0)
			goto out;
	}
	r = 0;
out:
	free(prev);
	return r;
}

int flint_certstore_save(const char *cert_dir, const struct flint_chain *c, EVP_PKEY *key,
			 const struct flint_renewal *rn, char **ret_err)
{
	char *path = NULL, *key_pem = NULL, *probe = NULL;
	size_t key_len = 0;
	int r;

	if ((r = flint_mkdirs(cert_dir, 0700, ret_err)) < 0)
		return r;
	if (!(probe = flint_strdupf("%s/fullchain.pem", cert_dir)))
		return FLINT_ENOMEM;
	if (flint_file_exists(probe) && (r = keep_previous(cert_dir, ret_err)) < 0)
		goto out;
	if ((r = flint_key_to_pem(key, &key_pem, &key_len)) < 0) {
		flint_set_err(ret_err, "cannot encode the certificate key: %s", flint_strerror(r));
		goto out;
	}
	/* the key first: a reader that sees the new fullchain.pem finds its key */
	const struct {
		const char *name;
		const char *data;
		size_t len;
		mode_t mode;
	} files[] = {
		{"key.pem", key_pem, key_len, 0600},
		{"cert.pem", c->cert_pem, strlen(c->cert_pem), 0644},
		{"chain.pem", c->chain_pem, strlen(c->chain_pem), 0644},
		{"fullchain.pem", c->fullchain_pem, strlen(c->fullchain_pem), 0644},
	};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		free(path);
		if (!(path = flint_strdupf("%s/%s", cert_dir, files[i].name))) {
			r = FLINT_ENOMEM;
			goto out;
		}
		if ((r = flint_write_file_atomic(path, files[i].data, files[i].len, files[i].mode,
						 ret_err)) < 0)
			goto out;
	}
	free(path);
	if (!(path = flint_strdupf("%s/renewal.json", cert_dir))) {
		r = FLINT_ENOMEM;
		goto out;
	}
	r = flint_renewal_save(path, rn, ret_err);
out:
	if (key_pem) {
		OPENSSL_cleanse(key_pem, key_len);
		free(key_pem);
	}
	free(path);
	free(probe);
	return r;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int flint_certstore_list(const char *certs_dir, char ***ret, size_t *ret_n, char **ret_err)
{
	DIR *d = opendir(certs_dir);
	struct dirent *e;
	char **list = NULL;
	size_t n = 0;
	int r = 0;

	if (!d) {
		if (errno == ENOENT) {
			*ret = NULL;
			*ret_n = 0;
			return 0;
		}
		flint_set_err(ret_err, "cannot read %s: %s", certs_dir, strerror(errno));
		return FLINT_EIO;
	}
	while ((e = readdir(d)) != NULL) {
		char *probe, **grown;

		if (e->d_name[0] == '.')
			continue;
		probe = flint_strdupf("%s/%s/renewal.json", certs_dir, e->d_name);
		if (!probe) {
			r = FLINT_ENOMEM;
			break;
		}
		if (!flint_file_exists(probe)) {
			free(probe);
			continue;
		}
		free(probe);
		grown = realloc(list, (n + 1) * sizeof(*list));
		if (!grown || !(grown[n] = strdup(e->d_name))) {
			if (grown)
				list = grown;
			r = FLINT_ENOMEM;
			break;
		}
		list = grown;
		n++;
	}
	closedir(d);
	if (r < 0) {
		flint_string_array_free(list, n);
		return r;
	}
	if (n)
		qsort(list, n, sizeof(*list), cmp_str);
	*ret = list;
	*ret_n = n;
	return 0;
}
