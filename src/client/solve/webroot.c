/* "webroot": answers http-01 (RFC 8555 §8.3) through a web server that already
 * serves WEBROOT, by writing WEBROOT/.well-known/acme-challenge/TOKEN. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "solve/serve.h"
#include "solve/solver.h"

/* The directory must exist (a typo should not grow a new tree); .well-known
 * and acme-challenge below it are created 0755, challenge files 0644, whatever
 * the umask, so that the web server's user can read them. */
struct webroot_solver {
	char *root;
};

static struct webroot_solver *from(struct flint_solver *s)
{
	return (struct webroot_solver *)(void *)s;
}

static bool webroot_configured(const struct flint_solver_config *cfg)
{
	return cfg && cfg->webroot && *cfg->webroot;
}

static bool webroot_applies(const char *ident_type, bool wildcard)
{
	return !wildcard && ident_type &&
	       (strcmp(ident_type, "dns") == 0 || strcmp(ident_type, "ip") == 0);
}

static int webroot_start(const struct flint_solver_config *cfg, struct flint_solver **ret,
			 char **ret_err)
{
	struct webroot_solver *ws;
	struct stat st;

	if (!webroot_configured(cfg) || !ret)
		return flint_solve_errf(ret_err, FLINT_EINVAL, "webroot: no directory configured");
	if (stat(cfg->webroot, &st) < 0)
		return flint_solve_errf(ret_err, FLINT_EIO, "webroot %s: %s", cfg->webroot,
					strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return flint_solve_errf(ret_err, FLINT_EINVAL, "webroot %s: not a directory",
					cfg->webroot);
	ws = calloc(1, sizeof(*ws));
	if (!ws || !(ws->root = strdup(cfg->webroot))) {
		free(ws);
		return flint_solve_errf(ret_err, FLINT_ENOMEM, "webroot: out of memory");
	}
	*ret = (struct flint_solver *)(void *)ws;
	return 0;
}

/* mkdir with mode 0755 regardless of the umask; an existing directory is fine. */
static int mkdir_0755(const char *path, char **ret_err)
{
	struct stat st;

	if (mkdir(path, 0755) == 0) {
		if (chmod(path, 0755) < 0)
			return flint_solve_errf(ret_err, FLINT_EIO, "webroot: chmod %s: %s", path,
						strerror(errno));
		return 0;
	}
	if (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	if (errno == EEXIST)
		errno = ENOTDIR;
	return flint_solve_errf(ret_err, FLINT_EIO, "webroot: mkdir %s: %s", path, strerror(errno));
}

static int write_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

static int webroot_present(struct flint_solver *s, const struct flint_challenge_task *t,
			   char **ret_err)
{
	struct webroot_solver *ws = from(s);
	char *wk = NULL, *dir = NULL, *path = NULL, *tmp = NULL;
	bool created = false;
	int fd = -1, r;

	if (!ws || !t || !t->token || !t->key_authorization)
		return flint_solve_errf(ret_err, FLINT_EINVAL, "webroot: no challenge");
	if (t->ident_type && !webroot_applies(t->ident_type, t->wildcard))
		return flint_solve_errf(ret_err, FLINT_EUNSUPPORTED,
					"webroot: cannot prove %s%.64s", t->wildcard ? "*." : "",
					t->ident_value ? t->ident_value : "");
	/* the token becomes a file name: nothing but base64url */
	if (!flint_solve_token_ok(t->token, strlen(t->token)))
		return flint_solve_errf(ret_err, FLINT_EINVAL,
					"webroot: token is not base64url: %.64s", t->token);
	if (asprintf(&wk, "%s/.well-known", ws->root) < 0) {
		wk = NULL;
		goto nomem;
	}
	if (asprintf(&dir, "%s/acme-challenge", wk) < 0) {
		dir = NULL;
		goto nomem;
	}
	if (asprintf(&path, "%s/%s", dir, t->token) < 0) {
		path = NULL;
		goto nomem;
	}
	if (asprintf(&tmp, "%s/.%s.XXXXXX", dir, t->token) < 0) {
		tmp = NULL;
		goto nomem;
	}
	r = mkdir_0755(wk, ret_err);
	if (r < 0)
		goto out;
	r = mkdir_0755(dir, ret_err);
	if (r < 0)
		goto out;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = flint_solve_errf(ret_err, FLINT_EIO, "webroot: cannot create a file in %s: %s",
				     dir, strerror(errno));
		goto out;
	}
	created = true;
	if (write_all(fd, t->key_authorization, strlen(t->key_authorization)) < 0 ||
	    fchmod(fd, 0644) < 0 || fsync(fd) < 0) {
		r = flint_solve_errf(ret_err, FLINT_EIO, "webroot: cannot write %s: %s", tmp,
				     strerror(errno));
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		r = flint_solve_errf(ret_err, FLINT_EIO, "webroot: cannot write %s: %s", tmp,
				     strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		r = flint_solve_errf(ret_err, FLINT_EIO, "webroot: cannot rename to %s: %s", path,
				     strerror(errno));
		goto out;
	}
	created = false;
	r = 0;
	goto out;
nomem:
	r = flint_solve_errf(ret_err, FLINT_ENOMEM, "webroot: out of memory");
out:
	if (fd >= 0)
		close(fd);
	if (created)
		unlink(tmp);
	free(wk);
	free(dir);
	free(path);
	free(tmp);
	return r;
}

static void webroot_cleanup(struct flint_solver *s, const struct flint_challenge_task *t)
{
	struct webroot_solver *ws = from(s);
	char *path = NULL;

	if (!ws || !t || !t->token || !flint_solve_token_ok(t->token, strlen(t->token)))
		return;
	if (asprintf(&path, "%s/.well-known/acme-challenge/%s", ws->root, t->token) < 0)
		return;
	unlink(path);
	free(path);
}

static void webroot_stop(struct flint_solver *s)
{
	struct webroot_solver *ws = from(s);

	if (!ws)
		return;
	free(ws->root);
	free(ws);
}

const struct flint_solver_type flint_solver_webroot = {
    .name = "webroot",
    .challenge_type = "http-01",
    .configured = webroot_configured,
    .applies = webroot_applies,
    .start = webroot_start,
    .present = webroot_present,
    .cleanup = webroot_cleanup,
    .stop = webroot_stop,
};
