/* Giving up root (privileges.h). */
#include "privileges.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "error.h"

/* The passwd entry of a name or a numeric uid, copied into *pw and buf. */
static int lookup(const char *user, struct passwd *pw, char *buf, size_t len)
{
	struct passwd *found = NULL;
	char *end;
	unsigned long uid;
	int rc;

	rc = getpwnam_r(user, pw, buf, len, &found);
	if (rc == 0 && !found && *user) {
		errno = 0;
		uid = strtoul(user, &end, 10);
		if (!*end && errno == 0 && uid <= (uid_t)-2)
			rc = getpwuid_r((uid_t)uid, pw, buf, len, &found);
	}
	if (rc != 0)
		return FLINT_EIO;
	return found ? 0 : FLINT_ENOTFOUND;
}

int flintd_drop_privileges(const char *user, char *err, size_t err_len)
{
	struct passwd pw;
	char buf[4096];
	int rc;

	if (!user)
		return 0;
	rc = lookup(user, &pw, buf, sizeof(buf));
	if (rc < 0) {
		snprintf(err, err_len, "user %s: %s", user,
			 rc == FLINT_ENOTFOUND ? "no such user" : "cannot read the user database");
		return rc;
	}
	if (geteuid() != 0) {
		if (geteuid() == pw.pw_uid && getuid() == pw.pw_uid)
			return 0; /* started as that user already */
		snprintf(err, err_len, "user %s: only root can become another user", user);
		return FLINT_EINVAL;
	}
	if (pw.pw_uid == 0) {
		snprintf(err, err_len, "user %s: is root; name an unprivileged user", user);
		return FLINT_EINVAL;
	}
	if (initgroups(pw.pw_name, pw.pw_gid) != 0 ||
	    setresgid(pw.pw_gid, pw.pw_gid, pw.pw_gid) != 0 ||
	    setresuid(pw.pw_uid, pw.pw_uid, pw.pw_uid) != 0) {
		snprintf(err, err_len, "cannot become user %s: %s", user, strerror(errno));
		return FLINT_EIO;
	}
	if (setuid(0) == 0 || seteuid(0) == 0) {
		snprintf(err, err_len, "became user %s, but root could be regained", user);
		return FLINT_EIO;
	}
	return 0;
}
