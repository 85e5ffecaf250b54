/* The flint client's certificate files: one directory per certificate, the
 * set it replaces kept in previous/, and renewal.json for `flint renew`. */
#include "certstore.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
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

static void free_solver_strings(struct flint_solver_config *c)
{
	free((char *)c->http01_bind);
	free((char *)c->webroot);
	free((char *)c->tlsalpn01_bind);
	free((char *)c->dns_hook);
	free((char *)c->dns_update_server);
	free((char *)c->dns_update_zone);
	free((char *)c->tsig_key_file);
	c->http01_bind = c->webroot = c->tlsalpn01_bind = c->dns_hook = NULL;
	c->dns_update_server = c->dns_update_zone = c->tsig_key_file = NULL;
}

void flint_renewal_free(struct flint_renewal *rn)
{
	if (!rn)
		return;
	free(rn->server);
	flint_string_array_free(rn->names, rn->n_names);
	free(rn->key_type);
	free_solver_strings(&rn->solver);
	free(rn->deploy_hook);
	free(rn->preferred_chain);
	free(rn->profile);
	flint_ari_state_clear(&rn->ari);
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

	c.tsig_key = NULL; /* a secret: never stored */
	if (dup_opt(cfg->http01_bind, &c.http01_bind) < 0 ||
	    dup_opt(cfg->webroot, &c.webroot) < 0 ||
	    dup_opt(cfg->tlsalpn01_bind, &c.tlsalpn01_bind) < 0 ||
	    dup_opt(cfg->dns_hook, &c.dns_hook) < 0 ||
	    dup_opt(cfg->dns_update_server, &c.dns_update_server) < 0 ||
	    dup_opt(cfg->dns_update_zone, &c.dns_update_zone) < 0 ||
	    dup_opt(cfg->tsig_key_file, &c.tsig_key_file) < 0) {
		free_solver_strings(&c);
		return FLINT_ENOMEM;
	}
	free_solver_strings(&rn->solver);
	rn->solver = c;
	rn->tsig_key_inline = cfg->tsig_key != NULL;
	return 0;
}

/* Readers of one object of renewal.json: a member that is absent is left
 * zero; one of the wrong type is an error naming it. */
struct reader {
	const char *path;
	const char *obj_name; /* "" for the top level */
	char **ret_err;
	int r;
};

static void bad_member(struct reader *rd, const char *name, const char *want)
{
	if (rd->r == 0) {
		flint_set_err(rd->ret_err, "%s: %s%s%s must be %s", rd->path, rd->obj_name,
			      *rd->obj_name ? "." : "", name, want);
		rd->r = FLINT_EINVAL;
	}
}

static void read_str(struct reader *rd, const json_t *obj, const char *name, char **ret)
{
	const json_t *v = json_object_get(obj, name);

	*ret = NULL;
	if (!v || json_is_null(v))
		return;
	if (!json_is_string(v) || strlen(json_string_value(v)) == 0) {
		bad_member(rd, name, "a non-empty string");
		return;
	}
	if (!(*ret = strdup(json_string_value(v))) && rd->r == 0)
		rd->r = FLINT_ENOMEM;
}

static void read_cstr(struct reader *rd, const json_t *obj, const char *name, const char **ret)
{
	char *s = NULL;

	read_str(rd, obj, name, &s);
	*ret = s;
}

static void read_int(struct reader *rd, const json_t *obj, const char *name, int max, int *ret)
{
	const json_t *v = json_object_get(obj, name);

	*ret = 0;
	if (!v)
		return;
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max) {
		char want[48];

		snprintf(want, sizeof(want), "an integer from 0 to %d", max);
		bad_member(rd, name, want);
		return;
	}
	*ret = (int)json_integer_value(v);
}

static void read_time(struct reader *rd, const json_t *obj, const char *name, int64_t *ret)
{
	const json_t *v = json_object_get(obj, name);

	*ret = 0;
	if (!v)
		return;
	if (!json_is_string(v) || flint_time_parse(json_string_value(v), ret) < 0) {
		*ret = 0;
		bad_member(rd, name, "an RFC 3339 time");
	}
}

static void read_bool(struct reader *rd, const json_t *obj, const char *name, bool *ret)
{
	const json_t *v = json_object_get(obj, name);

	*ret = false;
	if (!v)
		return;
	if (!json_is_boolean(v)) {
		bad_member(rd, name, "true or false");
		return;
	}
	*ret = json_is_true(v);
}

/* An optional member that must be an object when present. */
static const json_t *read_obj(struct reader *rd, const json_t *obj, const char *name)
{
	const json_t *v = json_object_get(obj, name);

	if (v && !json_is_object(v)) {
		bad_member(rd, name, "an object");
		return NULL;
	}
	return v;
}

int flint_renewal_load(const char *path, struct flint_renewal **ret, char **ret_err)
{
	struct flint_renewal *rn = NULL;
	struct reader rd = {.path = path, .obj_name = "", .ret_err = ret_err};
	json_error_t jerr;
	json_t *doc = NULL, *names;
	const json_t *sv, *ari;
	char *text = NULL;
	int r;

	if ((r = flint_read_file(path, 256 * 1024, &text, NULL, ret_err)) < 0)
		return r;
	r = FLINT_EINVAL;
	if (!(doc = json_loads(text, 0, &jerr))) {
		flint_set_err(ret_err, "%s: not JSON (line %d: %s); remove it or issue again", path,
			      jerr.line, jerr.text);
		goto out;
	}
	names = json_object_get(doc, "names");
	if (!json_is_object(doc) || !json_is_array(names) || json_array_size(names) == 0 ||
	    json_array_size(names) > 1000 || !json_string_value(json_object_get(doc, "server"))) {
		flint_set_err(ret_err, "%s: not a renewal record (server, names)", path);
		goto out;
	}
	r = FLINT_ENOMEM;
	if (!(rn = calloc(1, sizeof(*rn))) ||
	    !(rn->names = calloc(json_array_size(names), sizeof(*rn->names))))
		goto out;
	for (size_t i = 0; i < json_array_size(names); i++) {
		const char *n = json_string_value(json_array_get(names, i));

		if (!n || !*n) {
			flint_set_err(ret_err, "%s: names must be non-empty strings", path);
			r = FLINT_EINVAL;
			goto out;
		}
		if (!(rn->names[rn->n_names] = strdup(n)))
			goto out;
		rn->n_names++;
	}
	read_str(&rd, doc, "server", &rn->server);
	read_str(&rd, doc, "key_type", &rn->key_type);
	read_str(&rd, doc, "deploy_hook", &rn->deploy_hook);
	read_str(&rd, doc, "preferred_chain", &rn->preferred_chain);
	read_str(&rd, doc, "profile", &rn->profile);
	read_int(&rd, doc, "timeout", 86400, &rn->timeout);
	read_bool(&rd, doc, "revoked", &rn->revoked);
	read_time(&rd, doc, "not_before", &rn->not_before);
	read_time(&rd, doc, "not_after", &rn->not_after);
	sv = read_obj(&rd, doc, "solver");
	ari = read_obj(&rd, doc, "ari");
	rd.obj_name = "solver";
	read_int(&rd, sv, "http01_port", 65535, &rn->solver.http01_port);
	read_int(&rd, sv, "tlsalpn01_port", 65535, &rn->solver.tlsalpn01_port);
	read_int(&rd, sv, "timeout", 86400, &rn->solver.timeout_seconds);
	read_cstr(&rd, sv, "http01_bind", &rn->solver.http01_bind);
	read_cstr(&rd, sv, "webroot", &rn->solver.webroot);
	read_cstr(&rd, sv, "tlsalpn01_bind", &rn->solver.tlsalpn01_bind);
	read_cstr(&rd, sv, "dns_hook", &rn->solver.dns_hook);
	read_cstr(&rd, sv, "dns_update_server", &rn->solver.dns_update_server);
	read_cstr(&rd, sv, "dns_update_zone", &rn->solver.dns_update_zone);
	read_cstr(&rd, sv, "tsig_key_file", &rn->solver.tsig_key_file);
	read_bool(&rd, sv, "tsig_key_inline", &rn->tsig_key_inline);
	read_bool(&rd, sv, "dns_account", &rn->solver.dns_account);
	if (json_object_get(sv, "tsig_key") && rd.r == 0) {
		/* flint never writes it; refuse rather than use a secret left in a 0644 file */
		flint_set_err(ret_err, "%s: solver.tsig_key must not be stored here; use "
				       "tsig_key_file", path);
		rd.r = FLINT_EINVAL;
	}
	rd.obj_name = "ari";
	read_str(&rd, ari, "cert_id", &rn->ari.cert_id);
	read_time(&rd, ari, "window_start", &rn->ari.start);
	read_time(&rd, ari, "window_end", &rn->ari.end);
	read_time(&rd, ari, "renew_at", &rn->ari.chosen);
	read_time(&rd, ari, "next_check", &rn->ari.next_check);
	read_str(&rd, ari, "explanation_url", &rn->ari.explanation_url);
	if ((r = rd.r) < 0)
		goto out;
	*ret = rn;
	rn = NULL;
	r = 0;
out:
	flint_renewal_free(rn);
	json_decref(doc);
	free(text);
	return r;
}

static int set_opt_str(json_t *obj, const char *name, const char *v)
{
	return v ? json_object_set_new(obj, name, json_string(v)) : 0;
}

static int set_opt_time(json_t *obj, const char *name, int64_t t)
{
	char buf[FLINT_TIME_BUF];

	if (!t)
		return 0;
	flint_time_format(t, buf);
	return json_object_set_new(obj, name, json_string(buf));
}

static int set_opt_int(json_t *obj, const char *name, int v)
{
	return v ? json_object_set_new(obj, name, json_integer(v)) : 0;
}

int flint_renewal_save(const char *path, const struct flint_renewal *rn, char **ret_err)
{
	char nb[FLINT_TIME_BUF], na[FLINT_TIME_BUF];
	json_t *doc = NULL, *names = json_array(), *sv = json_object(), *ari = json_object();
	const struct flint_solver_config *c = &rn->solver;
	char *text = NULL;
	int r = FLINT_ENOMEM;

	if (!names || !sv || !ari)
		goto out;
	for (size_t i = 0; i < rn->n_names; i++)
		if (json_array_append_new(names, json_string(rn->names[i])) < 0)
			goto out;
	/* never c->tsig_key: a secret does not go into a 0644 file */
	if (set_opt_int(sv, "http01_port", c->http01_port) < 0 ||
	    set_opt_int(sv, "tlsalpn01_port", c->tlsalpn01_port) < 0 ||
	    set_opt_int(sv, "timeout", c->timeout_seconds) < 0 ||
	    set_opt_str(sv, "http01_bind", c->http01_bind) < 0 ||
	    set_opt_str(sv, "webroot", c->webroot) < 0 ||
	    set_opt_str(sv, "tlsalpn01_bind", c->tlsalpn01_bind) < 0 ||
	    set_opt_str(sv, "dns_hook", c->dns_hook) < 0 ||
	    set_opt_str(sv, "dns_update_server", c->dns_update_server) < 0 ||
	    set_opt_str(sv, "dns_update_zone", c->dns_update_zone) < 0 ||
	    set_opt_str(sv, "tsig_key_file", c->tsig_key_file) < 0 ||
	    ((rn->tsig_key_inline || c->tsig_key) &&
	     json_object_set_new(sv, "tsig_key_inline", json_true()) < 0) ||
	    (c->dns_account && json_object_set_new(sv, "dns_account", json_true()) < 0))
		goto out;
	if (rn->ari.cert_id &&
	    (set_opt_str(ari, "cert_id", rn->ari.cert_id) < 0 ||
	     (rn->ari.end > rn->ari.start &&
	      (set_opt_time(ari, "window_start", rn->ari.start) < 0 ||
	       set_opt_time(ari, "window_end", rn->ari.end) < 0 ||
	       set_opt_time(ari, "renew_at", rn->ari.chosen) < 0)) ||
	     set_opt_time(ari, "next_check", rn->ari.next_check) < 0 ||
	     set_opt_str(ari, "explanation_url", rn->ari.explanation_url) < 0))
		goto out;
	flint_time_format(rn->not_before, nb);
	flint_time_format(rn->not_after, na);
	doc = json_pack("{s:s, s:O, s:s, s:O, s:s, s:s, s:b}", "server", rn->server, "names", names,
			"key_type", rn->key_type ? rn->key_type : "ec256", "solver", sv,
			"not_before", nb, "not_after", na, "revoked", rn->revoked);
	if (!doc || set_opt_str(doc, "deploy_hook", rn->deploy_hook) < 0 ||
	    set_opt_str(doc, "preferred_chain", rn->preferred_chain) < 0 ||
	    set_opt_str(doc, "profile", rn->profile) < 0 ||
	    set_opt_int(doc, "timeout", rn->timeout) < 0 ||
	    (json_object_size(ari) && json_object_set(doc, "ari", ari) < 0))
		goto out;
	if (!(text = json_dumps(doc, JSON_INDENT(2))))
		goto out;
	r = flint_write_file_atomic(path, text, strlen(text), 0644, ret_err);
out:
	json_decref(doc);
	json_decref(names);
	json_decref(sv);
	json_decref(ari);
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

int flint_certstore_save(const char *cert_dir, const struct flint_chain *c, const char *staged_key,
			 const struct flint_renewal *rn, char **ret_err)
{
	char *path = NULL, *probe = NULL;
	int r;

	if ((r = flint_mkdirs(cert_dir, 0700, ret_err)) < 0)
		return r;
	if (!(probe = flint_strdupf("%s/fullchain.pem", cert_dir)))
		return FLINT_ENOMEM;
	if (flint_file_exists(probe) && (r = keep_previous(cert_dir, ret_err)) < 0)
		goto out;
	/* the key first: a reader that sees the new fullchain.pem finds its key */
	r = FLINT_ENOMEM;
	if (!(path = flint_strdupf("%s/key.pem", cert_dir)))
		goto out;
	if ((r = flint_rename(staged_key, path, ret_err)) < 0)
		goto out;
	const struct {
		const char *name;
		const char *data;
		size_t len;
		mode_t mode;
	} files[] = {
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
