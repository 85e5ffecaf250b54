/* Files as flint and flintd keep them: atomic replacement (a temporary file
 * beside the target, fsync, rename, fsync of the directory) and directory
 * trees. No messages: failures are FLINT_ENOMEM, or FLINT_EIO with errno
 * saying why, for the caller to report. */
#ifndef FLINT_FILE_H
#define FLINT_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Replaces path with data[0..len-1]: a new ".NAME.XXXXXX" beside it (O_EXCL),
 * chmod mode, write, fsync, rename over path, fsync of the directory. Before
 * the rename a failure removes the temporary file and leaves path as it was.
 * *ret_created (when non-NULL) tells whether the temporary file was created:
 * false is a failure to create a file in path's directory at all. */
int flint_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
			    bool *ret_created);

/* fsync(2) of the directory that holds path ("." without a slash). */
int flint_file_sync_dir(const char *path);

/* mkdir -p: creates each missing directory of path with mode; existing ones
 * (EEXIST) are fine. On FLINT_EIO *ret_failed_len (when non-NULL) is the
 * length of the leading part of path that could not be created. */
int flint_file_mkdirs(const char *path, mode_t mode, size_t *ret_failed_len);

#endif
