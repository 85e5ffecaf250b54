/* Unit tests for file.c: atomic replacement (content, mode, no temporary file
 * left behind on failure, old readers keep the old file), directory trees. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "error.h"
#include "file.h"

static char tmpdir[] = "/tmp/flint-file-XXXXXX";

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static const char *in_tmp(const char *name)
{
	static char buf[256];

	snprintf(buf, sizeof(buf), "%s/%s", tmpdir, name);
	return buf;
}

/* Whole content of path (NUL-terminated) into buf; its length or -1. */
static long slurp(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return (long)n;
}

static int mode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

/* Entries of dir other than . and .. */
static int entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void test_write_and_replace(void)
{
	char path[256], buf[64];
	bool created = false;
	int old_fd;

	snprintf(path, sizeof(path), "%s", in_tmp("w/key.pem"));
	CHECK_INT(mkdir(in_tmp("w"), 0700), 0);
	CHECK_INT(flint_file_write_atomic(path, "first", 5, 0600, &created), 0);
	CHECK(created);
	CHECK_INT(slurp(path, buf, sizeof(buf)), 5);
	CHECK_STR(buf, "first");
	CHECK_INT(mode_of(path), 0600);

	/* replaced by rename: a reader of the old file keeps the old bytes */
	old_fd = open(path, O_RDONLY);
	CHECK(old_fd >= 0);
	CHECK_INT(flint_file_write_atomic(path, "second!", 7, 0644, NULL), 0);
	CHECK_INT(slurp(path, buf, sizeof(buf)), 7);
	CHECK_STR(buf, "second!");
	CHECK_INT(mode_of(path), 0644);
	if (old_fd >= 0) {
		CHECK_INT(read(old_fd, buf, sizeof(buf)), 5);
		CHECK(memcmp(buf, "first", 5) == 0);
		close(old_fd);
	}
	CHECK_INT(entries(in_tmp("w")), 1);

	/* empty content */
	CHECK_INT(flint_file_write_atomic(path, "", 0, 0600, NULL), 0);
	CHECK_INT(slurp(path, buf, sizeof(buf)), 0);
	CHECK_INT(mode_of(path), 0600);
	CHECK_INT(entries(in_tmp("w")), 1);
}

/* The mode is exactly the one asked for, whatever the umask. */
static void test_mode_ignores_umask(void)
{
	mode_t old = umask(0077);

	CHECK_INT(flint_file_write_atomic(in_tmp("public.pem"), "x", 1, 0644, NULL), 0);
	CHECK_INT(mode_of(in_tmp("public.pem")), 0644);
	umask(0);
	CHECK_INT(flint_file_write_atomic(in_tmp("secret.key"), "x", 1, 0600, NULL), 0);
	CHECK_INT(mode_of(in_tmp("secret.key")), 0600);
	umask(old);
}

static void test_large(void)
{
	size_t len = 3 * 1024 * 1024 + 17;
	char *data = malloc(len), *back = malloc(len + 1);
	long n;

	CHECK(data && back);
	if (!data || !back)
		goto out;
	for (size_t i = 0; i < len; i++)
		data[i] = (char)('a' + i % 26);
	CHECK_INT(flint_file_write_atomic(in_tmp("large"), data, len, 0600, NULL), 0);
	n = slurp(in_tmp("large"), back, len + 1);
	CHECK_INT(n, (long)len);
	CHECK(n == (long)len && memcmp(data, back, len) == 0);
out:
	free(data);
	free(back);
}

static void test_failures(void)
{
	char buf[64];
	bool created = true;

	/* no directory to create the temporary file in */
	errno = 0;
	CHECK_INT(flint_file_write_atomic(in_tmp("missing/f"), "x", 1, 0600, &created), FLINT_EIO);
	CHECK(!created);
	CHECK_INT(errno, ENOENT);

	/* the rename fails (the target is a non-empty directory): the temporary
	 * file is gone and the target untouched */
	CHECK_INT(mkdir(in_tmp("f"), 0700), 0);
	CHECK_INT(mkdir(in_tmp("f/target"), 0700), 0);
	CHECK_INT(flint_file_write_atomic(in_tmp("f/target/inside"), "in", 2, 0600, NULL), 0);
	created = false;
	errno = 0;
	CHECK_INT(flint_file_write_atomic(in_tmp("f/target"), "x", 1, 0600, &created), FLINT_EIO);
	CHECK(created);
	CHECK(errno != 0);
	CHECK_INT(entries(in_tmp("f")), 1);
	CHECK_INT(entries(in_tmp("f/target")), 1);
	CHECK_INT(slurp(in_tmp("f/target/inside"), buf, sizeof(buf)), 2);
}

/* A path without a slash lands in the working directory. */
static void test_relative(void)
{
	char cwd[4096], buf[16];

	CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
	CHECK_INT(mkdir(in_tmp("rel"), 0700), 0);
	CHECK_INT(chdir(in_tmp("rel")), 0);
	CHECK_INT(flint_file_write_atomic("plain", "p", 1, 0600, NULL), 0);
	CHECK_INT(flint_file_sync_dir("plain"), 0);
	CHECK_INT(chdir(cwd), 0);
	CHECK_INT(slurp(in_tmp("rel/plain"), buf, sizeof(buf)), 1);
	CHECK_INT(entries(in_tmp("rel")), 1);
}

static void test_sync_dir(void)
{
	CHECK_INT(flint_file_sync_dir(in_tmp("anything")), 0);
	CHECK_INT(flint_file_sync_dir("/etc"), 0); /* the directory of /etc is / */
	CHECK_INT(flint_file_sync_dir(in_tmp("missing/x")), FLINT_EIO);
}

static void test_mkdirs(void)
{
	char path[256];
	size_t at = 0;
	mode_t old = umask(0);

	snprintf(path, sizeof(path), "%s", in_tmp("m/a/b/c"));
	CHECK_INT(flint_file_mkdirs(path, 0700, NULL), 0);
	CHECK_INT(mode_of(in_tmp("m")), 0700);
	CHECK_INT(mode_of(in_tmp("m/a/b")), 0700);
	CHECK_INT(mode_of(path), 0700);
	/* again: everything exists, fine; a trailing slash too */
	CHECK_INT(flint_file_mkdirs(path, 0700, NULL), 0);
	snprintf(path, sizeof(path), "%s", in_tmp("m/a/b/c/"));
	CHECK_INT(flint_file_mkdirs(path, 0700, NULL), 0);
	/* existing directories keep their mode */
	CHECK_INT(flint_file_mkdirs(in_tmp("m/a/x"), 0755, NULL), 0);
	CHECK_INT(mode_of(in_tmp("m/a")), 0700);
	CHECK_INT(mode_of(in_tmp("m/a/x")), 0755);
	/* a file in the way: the failing prefix is reported */
	CHECK_INT(flint_file_write_atomic(in_tmp("m/file"), "f", 1, 0600, NULL), 0);
	snprintf(path, sizeof(path), "%s", in_tmp("m/file/sub/deeper"));
	errno = 0;
	CHECK_INT(flint_file_mkdirs(path, 0700, &at), FLINT_EIO);
	CHECK_INT(errno, ENOTDIR);
	CHECK_INT(at, strlen(in_tmp("m/file/sub")));
	umask(old);
}

int main(void)
{
	int rc;

	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_write_and_replace);
	RUN(test_mode_ignores_umask);
	RUN(test_large);
	RUN(test_failures);
	RUN(test_relative);
	RUN(test_sync_dir);
	RUN(test_mkdirs);
	rc = CHECK_DONE();
	nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return rc;
}
