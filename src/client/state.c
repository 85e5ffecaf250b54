/* The flint client's state directory: layout, the run lock, atomic writes
 * (temp + fsync + rename + directory fsync) and PEM keys with mode 0600. */
#include "state.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "file.h"
#include "interrupt.h"
#include "output.h"
#include "pem.h"

char *flint_state_default_dir(void)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

	if (geteuid() == 0)
		return strdup("/var/lib/flint");
	if (xdg && *xdg == '/')
		return flint_strdupf("%s/flint", xdg);
	if (home && *home == '/')
		return flint_strdupf("%s/.local/state/flint", home);
	return strdup("/var/lib/flint");
}

int flint_mkdirs(const char *path, mode_t mode, char **ret_err)
{
	size_t at = 0;
	int r = flint_file_mkdirs(path, mode, &at);

	if (r == FLINT_EIO)
		flint_set_err(ret_err, "cannot create directory %.*s: %s", (int)at, path,
			      strerror(errno));
	return r;
}

int flint_state_open(const char *dir, struct flint_state **ret, char **ret_err)
{
	struct flint_state *st = NULL;
	char *lock = NULL;
	long long deadline;
	bool said = false;
	int r;

	if ((r = flint_mkdirs(dir, 0700, ret_err)) < 0)
		return r;
	r = FLINT_ENOMEM;
	st = calloc(1, sizeof(*st));
	if (!st)
		goto out;
	st->lock_fd = -1;
	if (!(st->dir = strdup(dir)) || !(lock = flint_strdupf("%s/lock", dir)))
		goto out;
	st->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (st->lock_fd < 0) {
		flint_set_err(ret_err, "cannot open %s: %s", lock, strerror(errno));
		r = FLINT_EIO;
		goto out;
	}
	deadline = flint_now_ms() + FLINT_STATE_LOCK_WAIT * 1000LL;
	while (flock(st->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			flint_set_err(ret_err, "cannot lock %s: %s", lock, strerror(errno));
			r = FLINT_EIO;
			goto out;
		}
		if (!said) {
			flint_progress("waiting for another flint run to release %s", lock);
			said = true;
		}
		if (flint_now_ms() > deadline || flint_sleep_ms(200) < 0) {
			flint_set_err(ret_err, "%s is still locked by another flint run", lock);
			r = FLINT_ECONFLICT;
			goto out;
		}
	}
	*ret = st;
	st = NULL;
	r = 0;
out:
	free(lock);
	flint_state_free(st);
	return r;
}

void flint_state_free(struct flint_state *st)
{
	if (!st)
		return;
	if (st->lock_fd >= 0)
		close(st->lock_fd); /* releases the flock */
	free(st->dir);
	free(st);
}

/* Keeps [A-Za-z0-9.-] and maps everything else to '_'; a leading '.' too. */
static void sanitize(char *s)
{
	for (char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-')
			*p = '_';
	if (*s == '.')
		*s = '_';
}

int flint_state_account_dir(const struct flint_state *st, const char *dir_url, char **ret,
			    char **ret_err)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL, *path = NULL, *query = NULL, *hostpart = NULL,
	     *pathpart = NULL, *out = NULL;
	int r = FLINT_ENOMEM;

	if (!u)
		return FLINT_ENOMEM;
	if (curl_url_set(u, CURLUPART_URL, dir_url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		flint_set_err(ret_err, "%s: not a URL", dir_url);
		r = FLINT_EINVAL;
		goto out;
	}
	curl_url_get(u, CURLUPART_PORT, &port, 0);
	curl_url_get(u, CURLUPART_PATH, &path, 0);
	curl_url_get(u, CURLUPART_QUERY, &query, 0);
	for (char *p = host; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	hostpart = port ? flint_strdupf("%s_%s", host, port) : strdup(host);
	pathpart = flint_strdupf("%s%s%s", path && path[0] == '/' ? path + 1 : (path ? path : ""),
				 query ? "?" : "", query ? query : "");
	if (!hostpart || !pathpart)
		goto out;
	sanitize(hostpart);
	sanitize(pathpart);
	out = flint_strdupf("%s/accounts/%s/%s", st->dir, hostpart, *pathpart ? pathpart : "_");
	if (!out)
		goto out;
	*ret = out;
	r = 0;
out:
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_free(query);
	free(hostpart);
	free(pathpart);
	curl_url_cleanup(u);
	return r;
}

int flint_state_cert_dir(const struct flint_state *st, const char *name, char **ret,
			 char **ret_err)
{
	char *out;

	if (!name || !*name || *name == '.' || strchr(name, '/') || strlen(name) > 255) {
		flint_set_err(ret_err, "\"%s\" cannot name a certificate directory",
			      name ? name : "");
		return FLINT_EINVAL;
	}
	out = flint_strdupf("%s/certs/%s", st->dir, name);
	if (!out)
		return FLINT_ENOMEM;
	*ret = out;
	return 0;
}

int flint_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
			    char **ret_err)
{
	bool created = false;
	int r = flint_file_write_atomic(path, data, len, mode, &created);

	if (r == FLINT_EIO)
		flint_set_err(
		    ret_err, created ? "cannot write %s: %s" : "cannot create a file beside %s: %s",
		    path, strerror(errno));
	return r;
}

int flint_rename(const char *from, const char *to, char **ret_err)
{
	if (rename(from, to) < 0) {
		flint_set_err(ret_err, "cannot rename %s to %s: %s", from, to, strerror(errno));
		return FLINT_EIO;
	}
	if (flint_file_sync_dir(to) < 0) {
		flint_set_err(ret_err, "cannot sync the directory of %s: %s", to, strerror(errno));
		return FLINT_EIO;
	}
	return 0;
}

int flint_read_file(const char *path, size_t max, char **ret, size_t *ret_len, char **ret_err)
{
	char *buf = NULL;
	size_t len = 0, alloc = 0;
	int fd, r = FLINT_EIO;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return FLINT_ENOTFOUND;
		flint_set_err(ret_err, "cannot open %s: %s", path, strerror(errno));
		return FLINT_EIO;
	}
	for (;;) {
		ssize_t n;

		if (len + 4096 + 1 > alloc) {
			char *grown = realloc(buf, alloc ? alloc * 2 : 8192);

			if (!grown) {
				r = FLINT_ENOMEM;
				goto out;
			}
			buf = grown;
			alloc = alloc ? alloc * 2 : 8192;
		}
		n = read(fd, buf + len, alloc - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			flint_set_err(ret_err, "cannot read %s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			flint_set_err(ret_err, "%s is larger than %zu bytes", path, max);
			r = FLINT_ETOOBIG;
			goto out;
		}
	}
	buf[len] = '\0';
	*ret = buf;
	if (ret_len)
		*ret_len = len;
	buf = NULL;
	r = 0;
out:
	close(fd);
	free(buf);
	return r;
}

bool flint_file_exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

int flint_key_save(const char *path, EVP_PKEY *key, char **ret_err)
{
	char *pem = NULL;
	size_t len = 0;
	int r;

	if ((r = flint_key_to_pem(key, &pem, &len)) < 0) {
		flint_set_err(ret_err, "cannot encode the key for %s: %s", path, flint_strerror(r));
		return r;
	}
	r = flint_write_file_atomic(path, pem, len, 0600, ret_err);
	OPENSSL_cleanse(pem, len);
	free(pem);
	return r;
}

int flint_key_load(const char *path, EVP_PKEY **ret, char **ret_err)
{
	char *pem = NULL;
	size_t len = 0;
	EVP_PKEY *key = NULL;
	BIO *b = NULL;
	int r;

	if ((r = flint_read_file(path, 64 * 1024, &pem, &len, ret_err)) < 0) {
		if (r == FLINT_ENOTFOUND)
			flint_set_err(ret_err, "%s does not exist", path);
		return r;
	}
	r = FLINT_ENOMEM;
	b = BIO_new_mem_buf(pem, (int)len);
	if (!b)
		goto out;
	key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	if (!key) {
		flint_set_err(ret_err, "%s holds no readable private key", path);
		r = FLINT_EINVAL;
		goto out;
	}
	*ret = key;
	r = 0;
out:
	ERR_clear_error();
	BIO_free(b);
	if (pem) {
		OPENSSL_cleanse(pem, len);
		free(pem);
	}
	return r;
}
