/* Atomic file replacement and directory trees for flint and flintd: the
 * same temp + fsync + rename + directory fsync on both sides (file.h). */
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"

/* Cuts path (a buffer of at least 2 bytes) down to its directory and fsyncs
 * that. errno survives the cleanup. */
static int sync_dir_cut(char *path)
{
	char *slash = strrchr(path, '/');
	int fd, e, r = 0;

	if (slash == path)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		strcpy(path, ".");
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0)
		r = FLINT_EIO;
	e = errno;
	if (fd >= 0)
		close(fd);
	errno = e;
	return r;
}

int flint_file_sync_dir(const char *path)
{
	size_t len = strlen(path);
	char *copy = malloc(len + 2);
	int e, r;

	if (!copy)
		return FLINT_ENOMEM;
	memcpy(copy, path, len + 1);
	r = sync_dir_cut(copy);
	e = errno;
	free(copy);
	errno = e;
	return r;
}

int flint_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
			    bool *ret_created)
{
	static const char suffix[] = ".XXXXXX";
	const char *slash = strrchr(path, '/');
	size_t dlen = slash ? (size_t)(slash - path) + 1 : 0, nlen = strlen(path + dlen);
	/* ".name.XXXXXX" beside the target, so the rename stays in one file system */
	char *tmp = malloc(dlen + 1 + nlen + sizeof(suffix));
	const unsigned char *p = data;
	bool created = false, renamed = false;
	int fd = -1, e, r = FLINT_EIO;

	if (ret_created)
		*ret_created = false;
	if (!tmp)
		return FLINT_ENOMEM;
	memcpy(tmp, path, dlen);
	tmp[dlen] = '.';
	memcpy(tmp + dlen + 1, path + dlen, nlen);
	memcpy(tmp + dlen + 1 + nlen, suffix, sizeof(suffix));
	fd = mkostemp(tmp, O_CLOEXEC); /* O_CREAT | O_EXCL, 0600 */
	if (fd < 0)
		goto out;
	created = true;
	if (ret_created)
		*ret_created = true;
	if (fchmod(fd, mode) < 0)
		goto out;
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto out;
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) < 0)
		goto out;
	r = close(fd);
	fd = -1;
	if (r < 0 || rename(tmp, path) < 0) {
		r = FLINT_EIO;
		goto out;
	}
	renamed = true;
	r = sync_dir_cut(tmp); /* tmp is no longer needed as a name */
out:
	e = errno;
	if (fd >= 0)
		close(fd);
	if (created && !renamed)
		unlink(tmp);
	free(tmp);
	errno = e;
	return r;
}

int flint_file_mkdirs(const char *path, mode_t mode, size_t *ret_failed_len)
{
	char *copy = strdup(path);
	int e, r = 0;

	if (!copy)
		return FLINT_ENOMEM;
	for (char *p = copy + (*copy != '\0');; p++) {
		bool end = *p == '\0';

		if (*p != '/' && !end)
			continue;
		*p = '\0';
		if (mkdir(copy, mode) < 0 && errno != EEXIST) {
			if (ret_failed_len)
				*ret_failed_len = (size_t)(p - copy);
			r = FLINT_EIO;
			break;
		}
		if (end)
			break;
		*p = '/';
	}
	e = errno;
	free(copy);
	errno = e;
	return r;
}
