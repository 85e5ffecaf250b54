/* "dns-hook": answers dns-01 (RFC 8555 §8.4), or with --dns-account dns-account-01
 * (draft-ietf-acme-dns-account-label), by running a program that publishes and
 * removes the TXT record, in the convention of lego's "exec" DNS provider.
 *
 * The hook contract:
 *
 *   PROG present FQDN VALUE   publish a TXT record VALUE at FQDN
 *   PROG cleanup FQDN VALUE   remove that record again
 *
 *   FQDN   "_acme-challenge." + the identifier + ".", with the trailing dot; for a
 *          wildcard (*.example.com) the identifier is without "*.", so the same
 *          name may carry two values at once (example.com and *.example.com):
 *          add a record, never replace the set, and remove only VALUE.
 *          For dns-account-01 the name is the account's instead:
 *          "_" + base32(SHA-256(account URL)[0:10]) + "._acme-challenge." +
 *          the identifier + "." (e.g. _ujmmovf2vn55tgye._acme-challenge.example.com.).
 *   VALUE  base64url(SHA-256(key authorization)), 43 characters; it may begin
 *          with "-".
 *
 *   The program is run directly, never through a shell: PROG with no "/" is
 *   looked up in PATH. It runs in its own process group with stdin and stdout
 *   on /dev/null, none of flint's other descriptors, and stderr captured (the
 *   last 4 KiB are kept; on failure its last line is shown).
 *   Its environment is flint's plus:
 *     FLINT_CHALLENGE          dns-01 or dns-account-01
 *     FLINT_IDENTIFIER         the identifier (without "*.")
 *     FLINT_TOKEN              the challenge token
 *     FLINT_KEY_AUTHORIZATION  token "." account key thumbprint
 *
 *   Exit status 0 means done. "present" must exit only once the record is
 *   served by the zone's authoritative servers (wait for propagation in the
 *   hook); any other status, or a death by signal, fails that challenge.
 *   A failing "cleanup" is ignored. Each run is bounded by the timeout
 *   (default 120 s): past it the whole process group is killed (SIGKILL) and
 *   the run fails. Hooks for different identifiers may run concurrently. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "solve/dnsname.h"
#include "solve/serve.h"
#include "interrupt.h"
#include "solve/solver.h"

extern char **environ;

#define HOOK_DEFAULT_TIMEOUT 120 /* seconds */
#define HOOK_STDERR_MAX 4096	 /* bytes of the hook's stderr kept */
#define HOOK_DRAIN_READS 1024	 /* reads after exit, for a child still writing */
#define HOOK_LINE_MAX 200	 /* bytes of its last line in an error message */

struct hook_solver {
	char *prog;
	int timeout_seconds;
};

/* The bounded tail of the hook's stderr. */
struct hook_tail {
	char buf[HOOK_STDERR_MAX];
	size_t len;
};

static struct hook_solver *from(struct flint_solver *s) { return (struct hook_solver *)(void *)s; }

static bool hook_given(const struct flint_solver_config *cfg)
{
	return cfg && cfg->dns_hook && *cfg->dns_hook;
}

static bool hook_configured(const struct flint_solver_config *cfg)
{
	return hook_given(cfg) && !cfg->dns_account;
}

static bool hook_account_configured(const struct flint_solver_config *cfg)
{
	return hook_given(cfg) && cfg->dns_account;
}

static bool hook_applies(const char *ident_type, bool wildcard)
{
	(void)wildcard;
	return ident_type && strcmp(ident_type, "dns") == 0; /* never ip: RFC 8738 §7 */
}

static int hook_start(const struct flint_solver_config *cfg, struct flint_solver **ret,
		      char **ret_err)
{
	struct hook_solver *hs;

	if (!hook_given(cfg) || !ret)
		return flint_solve_errf(ret_err, FLINT_EINVAL, "dns-hook: no program configured");
	hs = calloc(1, sizeof(*hs));
	if (!hs || !(hs->prog = strdup(cfg->dns_hook))) {
		free(hs);
		return flint_solve_errf(ret_err, FLINT_ENOMEM, "dns-hook: out of memory");
	}
	hs->timeout_seconds =
	    cfg->timeout_seconds > 0 ? cfg->timeout_seconds : HOOK_DEFAULT_TIMEOUT;
	*ret = (struct flint_solver *)(void *)hs;
	return 0;
}

static void hook_stop(struct flint_solver *s)
{
	struct hook_solver *hs = from(s);

	if (!hs)
		return;
	free(hs->prog);
	free(hs);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void tail_add(struct hook_tail *t, const char *p, size_t n)
{
	size_t keep;

	if (n > sizeof(t->buf)) {
		p += n - sizeof(t->buf);
		n = sizeof(t->buf);
	}
	keep = sizeof(t->buf) - n; /* room left for older bytes */
	if (t->len > keep) {
		memmove(t->buf, t->buf + t->len - keep, keep);
		t->len = keep;
	}
	memcpy(t->buf + t->len, p, n);
	t->len += n;
}

/* The last non-empty line of the tail into out[HOOK_LINE_MAX + 1]. */
static void tail_last_line(const struct hook_tail *t, char *out)
{
	size_t end = t->len, start;

	while (end > 0 && (t->buf[end - 1] == '\n' || t->buf[end - 1] == '\r' ||
			   t->buf[end - 1] == ' ' || t->buf[end - 1] == '\t'))
		end--;
	start = end;
	while (start > 0 && t->buf[start - 1] != '\n')
		start--;
	if (end - start > HOOK_LINE_MAX)
		end = start + HOOK_LINE_MAX;
	memcpy(out, t->buf + start, end - start);
	out[end - start] = '\0';
	for (char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

/* Reads what is there: 1 after reading, 0 when nothing is there yet, -1 at
 * EOF or on an error. */
static int tail_read(struct hook_tail *t, int fd)
{
	char chunk[1024];
	ssize_t n;

	do
		n = read(fd, chunk, sizeof(chunk));
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (n <= 0)
		return -1;
	tail_add(t, chunk, (size_t)n);
	return 1;
}

/* flint's environment without the variables we set, plus ours: a malloc'd
 * array whose last 4 entries (before NULL) are malloc'd too. */
static char **hook_env(const struct flint_challenge_task *t)
{
	static const char *const ours[] = {
	    "FLINT_CHALLENGE=", "FLINT_IDENTIFIER=", "FLINT_TOKEN=", "FLINT_KEY_AUTHORIZATION="};
	size_t n = 0, k = 0, i, j;
	char **env;

	while (environ && environ[n])
		n++;
	env = calloc(n + 5, sizeof(*env));
	if (!env)
		return NULL;
	for (i = 0; i < n; i++) {
		for (j = 0; j < 4; j++)
			if (strncmp(environ[i], ours[j], strlen(ours[j])) == 0)
				break;
		if (j == 4)
			env[k++] = environ[i];
	}
	if (asprintf(&env[k], "%s%s", ours[0], t->type ? t->type : "dns-01") < 0 ||
	    asprintf(&env[k + 1], "%s%s", ours[1], t->ident_value) < 0 ||
	    asprintf(&env[k + 2], "%s%s", ours[2], t->token ? t->token : "") < 0 ||
	    asprintf(&env[k + 3], "%s%s", ours[3],
		     t->key_authorization ? t->key_authorization : "") < 0) {
		/* asprintf leaves its pointer undefined on failure */
		for (j = 0; j < 4; j++)
			env[k + j] = NULL;
		free(env);
		return NULL;
	}
	return env;
}

static void hook_env_free(char **env)
{
	size_t n = 0;

	if (!env)
		return;
	while (env[n])
		n++;
	for (size_t j = n - 4; j < n; j++)
		free(env[j]);
	free(env);
}

/* Signals set back to their default in the hook: flint may ignore or catch them. */
static const int hook_dfl_signals[] = {SIGPIPE, SIGINT,	 SIGTERM, SIGHUP, SIGQUIT,
				       SIGCHLD, SIGALRM, SIGUSR1, SIGUSR2};

/* Runs PROG ACTION FQDN VALUE to completion or the timeout. */
static int hook_run(const struct hook_solver *hs, const char *action, const char *fqdn,
		    const struct flint_challenge_task *t, char **ret_err)
{
	char *argv[] = {hs->prog, (char *)action, (char *)fqdn, (char *)t->dns_txt_value, NULL};
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, dfl;
	struct hook_tail *tail = NULL;
	char line[HOOK_LINE_MAX + 1];
	char **env = NULL;
	int pipefd[2] = {-1, -1}, status = 0, r;
	bool fa_ok = false, attr_ok = false, timed_out = false, interrupted = false;
	/* SIGINT/SIGTERM stop a present at once (the driver then cleans up);
	 * a cleanup runs to its end or its timeout, since that is the point. */
	bool interruptible = strcmp(action, "present") == 0;
	int64_t deadline, backoff = 1;
	pid_t pid = -1;

	tail = calloc(1, sizeof(*tail));
	env = hook_env(t);
	if (!tail || !env) {
		r = flint_solve_errf(ret_err, FLINT_ENOMEM, "dns hook: out of memory");
		goto out;
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		r = flint_solve_errf(ret_err, FLINT_EIO, "dns hook %s: pipe: %s", hs->prog,
				     strerror(errno));
		goto out;
	}
	/* posix_spawn rather than fork: this process has threads (the listeners) */
	fa_ok = posix_spawn_file_actions_init(&fa) == 0;
	attr_ok = posix_spawnattr_init(&attr) == 0;
	sigemptyset(&none);
	sigemptyset(&dfl);
	for (size_t i = 0; i < sizeof(hook_dfl_signals) / sizeof(hook_dfl_signals[0]); i++)
		sigaddset(&dfl, hook_dfl_signals[i]);
	/* stderr first: the pipe may have landed on 0 or 1 if those were closed */
	if (!fa_ok || !attr_ok || posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2) != 0 ||
	    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0) != 0 ||
	    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0) != 0 ||
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
	    /* nothing else of ours (key files, sockets) leaks into the hook */
	    posix_spawn_file_actions_addclosefrom_np(&fa, 3) != 0 ||
#endif
	    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
						POSIX_SPAWN_SETSIGDEF) != 0 ||
	    posix_spawnattr_setpgroup(&attr, 0) != 0 ||
	    posix_spawnattr_setsigmask(&attr, &none) != 0 ||
	    posix_spawnattr_setsigdefault(&attr, &dfl) != 0) {
		r = flint_solve_errf(ret_err, FLINT_ENOMEM, "dns hook: out of memory");
		goto out;
	}
	r = posix_spawnp(&pid, hs->prog, &fa, &attr, argv, env);
	close(pipefd[1]);
	pipefd[1] = -1;
	if (r != 0) {
		pid = -1;
		r = flint_solve_errf(ret_err, FLINT_EIO, "dns hook %s: cannot run it: %s", hs->prog,
				     strerror(r));
		goto out;
	}
	if (fcntl(pipefd[0], F_SETFL, O_NONBLOCK) < 0) {
		close(pipefd[0]);
		pipefd[0] = -1; /* no capture then, the wait below still holds */
	}
	deadline = now_ms() + (int64_t)hs->timeout_seconds * 1000;
	for (;;) {
		struct pollfd pfd = {.fd = pipefd[0], .events = POLLIN};
		pid_t w = waitpid(pid, &status, WNOHANG);
		int64_t left = deadline - now_ms(), wait_ms;

		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			r = flint_solve_errf(ret_err, FLINT_EIO, "dns hook %s: waitpid: %s",
					     hs->prog, strerror(errno));
			kill(-pid, SIGKILL);
			pid = -1;
			goto out;
		}
		if (left <= 0 || (interruptible && flint_interrupted())) {
			kill(-pid, SIGKILL); /* the hook and whatever it started */
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			if (left <= 0)
				timed_out = true;
			else
				interrupted = true;
			break;
		}
		/* Data or EOF on stderr wakes us at once; an exit with stderr still
		 * held open elsewhere (or already closed) is noticed by backing off. */
		if (pipefd[0] >= 0) {
			wait_ms = left < 100 ? left : 100;
		} else {
			wait_ms = left < backoff ? left : backoff;
			backoff = backoff < 50 ? backoff * 2 : 50;
		}
		if (poll(&pfd, pipefd[0] >= 0 ? 1 : 0, (int)wait_ms) > 0 &&
		    tail_read(tail, pipefd[0]) < 0) {
			close(pipefd[0]);
			pipefd[0] = -1;
		}
	}
	pid = -1;
	/* what the hook wrote just before it exited, bounded: a child it left
	 * behind may still be writing */
	for (int i = 0; pipefd[0] >= 0 && i < HOOK_DRAIN_READS; i++)
		if (tail_read(tail, pipefd[0]) <= 0)
			break;
	tail_last_line(tail, line);
	if (interrupted) {
		r = flint_solve_errf(ret_err, FLINT_EIO, "dns hook %s %s %s: interrupted, killed",
				     hs->prog, action, fqdn);
	} else if (timed_out) {
		r = flint_solve_errf(
		    ret_err, FLINT_EIO, "dns hook %s %s %s: timed out after %d s, killed%s%s",
		    hs->prog, action, fqdn, hs->timeout_seconds, *line ? ": " : "", line);
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		r = 0;
	} else if (WIFEXITED(status)) {
		r = flint_solve_errf(ret_err, FLINT_EIO, "dns hook %s %s %s: exit status %d%s%s",
				     hs->prog, action, fqdn, WEXITSTATUS(status), *line ? ": " : "",
				     line);
	} else {
		r = flint_solve_errf(ret_err, FLINT_EIO,
				     "dns hook %s %s %s: killed by signal %d%s%s", hs->prog, action,
				     fqdn, WIFSIGNALED(status) ? WTERMSIG(status) : 0,
				     *line ? ": " : "", line);
	}
out:
	if (fa_ok)
		posix_spawn_file_actions_destroy(&fa);
	if (attr_ok)
		posix_spawnattr_destroy(&attr);
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	hook_env_free(env);
	free(tail);
	return r;
}

static int hook_present(struct flint_solver *s, const struct flint_challenge_task *t,
			char **ret_err)
{
	struct hook_solver *hs = from(s);
	char *fqdn = NULL;
	int r;

	if (!hs || !t || !t->ident_type || !t->ident_value || !t->dns_txt_value)
		return flint_solve_errf(ret_err, FLINT_EINVAL, "dns-hook: no challenge");
	if (!hook_applies(t->ident_type, t->wildcard))
		return flint_solve_errf(ret_err, FLINT_EUNSUPPORTED,
					"dns-hook: cannot prove %s identifier %.64s", t->ident_type,
					t->ident_value);
	r = flint_solve_dns_name(t, &fqdn);
	if (r < 0)
		return flint_solve_errf(ret_err, r, "dns-hook: no %s record name for %.64s: %s",
					t->type ? t->type : "dns-01", t->ident_value,
					r == FLINT_ETOOBIG ? "longer than 253 octets"
							   : "bad identifier or account URL");
	r = hook_run(hs, "present", fqdn, t, ret_err);
	free(fqdn);
	return r;
}

static void hook_cleanup(struct flint_solver *s, const struct flint_challenge_task *t)
{
	struct hook_solver *hs = from(s);
	char *fqdn = NULL, *err = NULL;

	if (!hs || !t || !t->ident_type || !t->ident_value || !t->dns_txt_value ||
	    !hook_applies(t->ident_type, t->wildcard) || flint_solve_dns_name(t, &fqdn) < 0)
		return;
	hook_run(hs, "cleanup", fqdn, t, &err); /* best effort: the caller cannot act on it */
	free(err);
	free(fqdn);
}

const struct flint_solver_type flint_solver_dns_hook = {
    .name = "dns-hook",
    .challenge_type = "dns-01",
    .configured = hook_configured,
    .applies = hook_applies,
    .start = hook_start,
    .present = hook_present,
    .cleanup = hook_cleanup,
    .stop = hook_stop,
};

const struct flint_solver_type flint_solver_dns_account_hook = {
    .name = "dns-account-hook",
    .challenge_type = "dns-account-01",
    .configured = hook_account_configured,
    .applies = hook_applies,
    .start = hook_start,
    .present = hook_present,
    .cleanup = hook_cleanup,
    .stop = hook_stop,
};
