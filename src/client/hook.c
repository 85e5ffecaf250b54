/* Running the deploy hook: fork, its own process group, /bin/sh -c, a
 * deadline after which the whole group is killed. */
#include "hook.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "interrupt.h"
#include "output.h"

int flint_hook_run(const char *prog, const char *const *env, int timeout, char **ret_err)
{
	long long deadline = flint_now_ms() + (timeout > 0 ? timeout : FLINT_HOOK_TIMEOUT) * 1000LL;
	int status = 0;
	pid_t pid, w;

	pid = fork();
	if (pid < 0) {
		flint_set_err(ret_err, "cannot run %s: %s", prog, strerror(errno));
		return FLINT_EIO;
	}
	if (pid == 0) {
		int fd = open("/dev/null", O_RDONLY);
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_DFL;
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGPIPE, &sa, NULL);
		setpgid(0, 0);
		if (fd >= 0) {
			dup2(fd, 0);
			if (fd > 2)
				close(fd);
		}
		for (size_t i = 0; env && env[i]; i++)
			putenv((char *)env[i]);
		execl("/bin/sh", "sh", "-c", prog, (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid); /* also here: no race with the kill below */
	for (;;) {
		w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			flint_set_err(ret_err, "%s: waitpid: %s", prog, strerror(errno));
			return FLINT_EIO;
		}
		if (flint_now_ms() > deadline || flint_interrupted()) {
			kill(-pid, SIGKILL);
			waitpid(pid, &status, 0);
			flint_set_err(ret_err, "%s: %s; killed", prog,
				      flint_interrupted() ? "interrupted" : "took too long");
			return FLINT_EIO;
		}
		/* flint_sleep_ms stops at once when interrupted */
		(void)flint_sleep_ms(50);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		flint_set_err(ret_err, "%s exited with status %d", prog, WEXITSTATUS(status));
	else
		flint_set_err(ret_err, "%s was killed by signal %d", prog,
			      WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	return FLINT_EIO;
}
