/* Key processes (keyproc.h). The protocol, over a SOCK_SEQPACKET socketpair
 * (one message each way per request): a request is one opcode byte and its
 * argument, a reply one status byte (0: done) and its result.
 *   OP_PUBLIC  -> the public key, DER SubjectPublicKeyInfo
 *   OP_SIGN    signing input -> the signature (flint_jws_sign_input)
 *   OP_CSR     names, each NUL-terminated -> a PKCS#10 request for them (DER)
 * The process exits when the socket closes. */
#include "keyproc.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <openssl/x509.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "csr_build.h"
#include "jws.h"
#include "output.h"
#include "state.h"

enum { OP_PUBLIC = 1, OP_SIGN = 2, OP_CSR = 3 };

#define MSG_MAX (64 * 1024) /* a signing input: a JWS header and payload, base64url */
#define CHILD_FD 3
#define REPLY_MAX (64 * 1024) /* a signature, a public key, a CSR for 100 long names */
#define CSR_NAMES_MAX 100

struct flint_keyproc {
	pid_t pid;
	int fd; /* our end of the socketpair */
	struct flint_jwk *jwk;
};

/* ---- the key process ---- */

/* Landlock (ABI 1+): no file system access at all; ABI 4+: no TCP bind or
 * connect either. Linux headers older than the running kernel may lack the
 * network rights: they are spelled out. 0 when applied or unavailable. */
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0)
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)
struct flint_landlock_ruleset_attr {
	__u64 handled_access_fs;
	__u64 handled_access_net;
};
#else
#define flint_landlock_ruleset_attr landlock_ruleset_attr
#endif

static int confine_landlock(void)
{
	struct flint_landlock_ruleset_attr attr = {0};
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	size_t size = sizeof(attr);
	int fd, rc;

	if (abi < 1)
		return 0; /* not in this kernel: seccomp alone */
	attr.handled_access_fs = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; /* ABI 1: bits 0..12 */
	if (abi >= 2)
		attr.handled_access_fs |= 1ULL << 13; /* REFER */
	if (abi >= 3)
		attr.handled_access_fs |= 1ULL << 14; /* TRUNCATE */
	if (abi >= 4)
		attr.handled_access_net = LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP;
	else
		size = offsetof(struct flint_landlock_ruleset_attr, handled_access_net);
	fd = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (fd < 0)
		return -1;
	rc = (int)syscall(SYS_landlock_restrict_self, fd, 0);
	close(fd);
	return rc;
}

/* seccomp: sockets, exec, new processes and tracing fail with EPERM (the
 * key process only talks over the socket it was born with). */
#if defined(__x86_64__)
#define SECCOMP_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SECCOMP_ARCH AUDIT_ARCH_AARCH64
#endif

static int confine_seccomp(void)
{
#ifdef SECCOMP_ARCH
#define DENY(nr) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), \
		 BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM)
	struct sock_filter prog[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SECCOMP_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		DENY(__NR_socket),
		DENY(__NR_socketpair),
		DENY(__NR_connect),
		DENY(__NR_bind),
		DENY(__NR_listen),
		DENY(__NR_accept),
		DENY(__NR_accept4),
		DENY(__NR_execve),
		DENY(__NR_execveat),
		DENY(__NR_clone),
		DENY(__NR_clone3),
		DENY(__NR_ptrace),
		DENY(__NR_openat),
#ifdef __NR_open
		DENY(__NR_open),
		DENY(__NR_creat),
		DENY(__NR_fork),
		DENY(__NR_vfork),
#endif
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
#undef DENY
	struct sock_fprog fprog = {.len = sizeof(prog) / sizeof(prog[0]), .filter = prog};

	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog);
#else
	return 0; /* no filter for this architecture: Landlock alone */
#endif
}

static int reply(const void *data, size_t len, int status)
{
	static unsigned char msg[1 + REPLY_MAX];

	if (len > sizeof(msg) - 1) { /* cannot happen with today's requests: say so, not die */
		len = 0;
		status = 1;
	}
	msg[0] = (unsigned char)status;
	if (len)
		memcpy(msg + 1, data, len);
	return send(CHILD_FD, msg, 1 + len, MSG_NOSIGNAL) == (ssize_t)(1 + len) ? 0 : -1;
}

/* OP_CSR: names is n bytes of NUL-terminated names (the last byte a NUL). */
static int csr_reply(const struct flint_jwk *key, const char *names, size_t n)
{
	const char *list[CSR_NAMES_MAX];
	unsigned char *der = NULL;
	size_t count = 0, der_len = 0;
	int rc;

	for (const char *p = names; p < names + n; p += strlen(p) + 1) {
		if (count == CSR_NAMES_MAX || !*p)
			return reply(NULL, 0, 1);
		list[count++] = p;
	}
	if (flint_csr_build(key->pkey, list, count, &der, &der_len) < 0)
		return reply(NULL, 0, 1);
	rc = reply(der, der_len, 0);
	free(der);
	return rc;
}

static void serve(const struct flint_jwk *key, const unsigned char *pub, size_t pub_len)
{
	static unsigned char msg[MSG_MAX + 1];
	unsigned char *sig;
	size_t sig_len;
	ssize_t n;

	for (;;) {
		n = recv(CHILD_FD, msg, sizeof(msg), MSG_TRUNC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* the network side is gone */
		if (n > (ssize_t)sizeof(msg)) {
			if (reply(NULL, 0, 1) < 0)
				return;
			continue;
		}
		if (msg[0] == OP_PUBLIC && n == 1) {
			if (reply(pub, pub_len, 0) < 0)
				return;
		} else if (msg[0] == OP_SIGN) {
			sig = NULL;
			if (flint_jws_sign_input(key, msg + 1, (size_t)n - 1, &sig, &sig_len) < 0) {
				if (reply(NULL, 0, 1) < 0)
					return;
				continue;
			}
			int rc = reply(sig, sig_len, 0);
			free(sig);
			if (rc < 0)
				return;
		} else if (msg[0] == OP_CSR && n > 1 && msg[n - 1] == '\0') {
			if (csr_reply(key, (const char *)msg + 1, (size_t)n - 1) < 0)
				return;
		} else if (reply(NULL, 0, 1) < 0) {
			return;
		}
	}
}

/* Loads or makes the key; on failure why (len bytes) says what went wrong. */
static int child_key(const char *path, bool create, enum flint_key_type type, int bits,
		     struct flint_jwk **ret, char *why, size_t len)
{
	EVP_PKEY *pkey = NULL;
	char *err = NULL;
	int r;

	if (create && access(path, F_OK) != 0) {
		if ((r = flint_jwk_generate(type, bits, ret)) < 0) {
			snprintf(why, len, "cannot generate a key: %s", flint_strerror(r));
			return r;
		}
		if ((r = flint_key_save(path, (*ret)->pkey, &err)) < 0) {
			snprintf(why, len, "%s", err ? err : "cannot save the key");
			free(err);
		}
		return r;
	}
	if ((r = flint_key_load(path, &pkey, &err)) < 0) {
		snprintf(why, len, "%s", err ? err : "cannot load the key");
		free(err);
		return r;
	}
	r = flint_jwk_from_pkey(pkey, ret);
	EVP_PKEY_free(pkey);
	if (r < 0)
		snprintf(why, len, "%s: not a key flint can use: %s", path,
			 flint_strerror(r));
	return r;
}

/* Answers the first request with why (status 1), for the network side to
 * show, and ends the process. */
__attribute__((noreturn)) static void child_fail(const char *why)
{
	unsigned char msg[MSG_MAX + 1];

	if (recv(CHILD_FD, msg, sizeof(msg), MSG_TRUNC) > 0)
		reply(why, strlen(why), 1);
	_exit(1);
}

static void child_main(int fd, const char *path, bool create, enum flint_key_type type, int bits)
{
	struct flint_jwk *key = NULL;
	unsigned char *pub = NULL, *sig = NULL;
	size_t sig_len;
	int pub_len, null_fd;
	char why[512] = "";

	/* only the socket (as fd 3) and stderr stay open */
	if (fd != CHILD_FD && (dup2(fd, CHILD_FD) < 0 || close(fd) < 0))
		_exit(1);
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(null_fd, 1) < 0)
		_exit(1);
	close_range(CHILD_FD + 1, ~0U, 0);
	if (child_key(path, create, type, bits, &key, why, sizeof(why)) < 0)
		child_fail(why);
	pub_len = i2d_PUBKEY(key->pkey, &pub);
	/* a first signature seeds OpenSSL's random generator while it can still
	 * read what it needs */
	if (pub_len <= 0 || flint_jws_sign_input(key, (const unsigned char *)"seed", 4, &sig,
						   &sig_len) < 0)
		child_fail("the key process cannot sign with its key");
	free(sig);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || confine_landlock() != 0 ||
	    confine_seccomp() != 0) {
		snprintf(why, sizeof(why), "cannot confine the key process: %s", strerror(errno));
		child_fail(why);
	}
	serve(key, pub, (size_t)pub_len);
	OPENSSL_free(pub);
	flint_jwk_free(key);
	_exit(0);
}

/* ---- the network side ---- */

/* One request and its reply; *ret (malloc'd) the reply's result. */
static int call(struct flint_keyproc *kp, int op, const unsigned char *arg, size_t len,
		unsigned char **ret, size_t *ret_len)
{
	unsigned char *msg = NULL, *in = NULL;
	ssize_t n;
	int r = FLINT_EIO;

	if (len > MSG_MAX)
		return FLINT_ETOOBIG;
	if (!(msg = malloc(1 + len)))
		return FLINT_ENOMEM;
	msg[0] = (unsigned char)op;
	if (len)
		memcpy(msg + 1, arg, len);
	if (send(kp->fd, msg, 1 + len, MSG_NOSIGNAL) != (ssize_t)(1 + len))
		goto out;
	r = FLINT_ENOMEM;
	if (!(in = malloc(1 + REPLY_MAX)))
		goto out;
	r = FLINT_EIO;
	do
		n = recv(kp->fd, in, 1 + REPLY_MAX, 0);
	while (n < 0 && errno == EINTR);
	if (n < 1)
		goto out; /* the key process died */
	r = FLINT_ENOMEM;
	if (!(*ret = malloc((size_t)n))) /* room for a NUL after a message */
		goto out;
	memcpy(*ret, in + 1, (size_t)n - 1);
	(*ret)[n - 1] = '\0';
	*ret_len = (size_t)n - 1;
	r = in[0] == 0 ? 0 : FLINT_EPROTO; /* EPROTO: *ret says why */
out:
	free(in);
	free(msg);
	return r;
}

/* call() for a result: a refusal (the process's message) is FLINT_ECRYPTO. */
static int call_for_result(struct flint_keyproc *kp, int op, const unsigned char *arg, size_t len,
			   unsigned char **ret, size_t *ret_len)
{
	int r = call(kp, op, arg, len, ret, ret_len);

	if (r == FLINT_EPROTO) {
		free(*ret);
		*ret = NULL;
		r = FLINT_ECRYPTO;
	}
	return r;
}

static int sign_in_process(void *ctx, const unsigned char *in, size_t len, unsigned char **ret,
			   size_t *ret_len)
{
	return call_for_result(ctx, OP_SIGN, in, len, ret, ret_len);
}

int flint_keyproc_start(const char *key_path, bool create, enum flint_key_type type, int rsa_bits,
			struct flint_keyproc **ret, struct flint_jwk **ret_key, char **ret_err)
{
	struct flint_keyproc *kp = calloc(1, sizeof(*kp));
	unsigned char *der = NULL;
	const unsigned char *p;
	EVP_PKEY *pub = NULL;
	size_t der_len = 0;
	int sv[2] = {-1, -1}, r = FLINT_ENOMEM;

	if (!kp)
		return FLINT_ENOMEM;
	kp->fd = -1;
	kp->pid = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		flint_set_err(ret_err, "cannot start the key process: %s", strerror(errno));
		r = FLINT_EIO;
		goto out;
	}
	fflush(NULL); /* nothing buffered is written twice */
	kp->pid = fork();
	if (kp->pid < 0) {
		flint_set_err(ret_err, "cannot start the key process: %s", strerror(errno));
		r = FLINT_EIO;
		goto out;
	}
	if (kp->pid == 0) {
		close(sv[0]);
		child_main(sv[1], key_path, create, type, rsa_bits);
	}
	close(sv[1]);
	sv[1] = -1;
	kp->fd = sv[0];
	sv[0] = -1;
	if ((r = call(kp, OP_PUBLIC, NULL, 0, &der, &der_len)) < 0) {
		if (r == FLINT_EPROTO && der && der[0])
			flint_set_err(ret_err, "%s", (const char *)der);
		else
			flint_set_err(ret_err, "%s: the key process ended without an answer", key_path);
		goto out;
	}
	p = der;
	r = FLINT_ECRYPTO;
	if (!(pub = d2i_PUBKEY(NULL, &p, (long)der_len)) || p != der + der_len)
		goto out;
	if ((r = flint_jwk_from_pkey(pub, &kp->jwk)) < 0) {
		flint_set_err(ret_err, "%s: not a key flint can use: %s", key_path,
			      flint_strerror(r));
		goto out;
	}
	kp->jwk->sign = sign_in_process;
	kp->jwk->sign_ctx = kp;
	if (ret_key && (r = flint_keyproc_jwk(kp, ret_key)) < 0)
		goto out;
	*ret = kp;
	kp = NULL;
	r = 0;
out:
	EVP_PKEY_free(pub);
	free(der);
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	flint_keyproc_free(kp);
	return r;
}

int flint_keyproc_csr(struct flint_keyproc *kp, const char *const *names, size_t n,
		      unsigned char **ret, size_t *ret_len)
{
	unsigned char *arg = NULL, *p;
	size_t len = 0;
	int r;

	if (!kp || !names || n == 0 || n > CSR_NAMES_MAX || !ret || !ret_len)
		return FLINT_EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!names[i] || !names[i][0])
			return FLINT_EINVAL;
		len += strlen(names[i]) + 1;
	}
	if (!(arg = malloc(len)))
		return FLINT_ENOMEM;
	p = arg;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(names[i]) + 1;

		memcpy(p, names[i], l);
		p += l;
	}
	r = call_for_result(kp, OP_CSR, arg, len, ret, ret_len);
	free(arg);
	return r;
}

int flint_keyproc_jwk(const struct flint_keyproc *kp, struct flint_jwk **ret)
{
	return flint_jwk_dup(kp->jwk, ret);
}

pid_t flint_keyproc_pid(const struct flint_keyproc *kp)
{
	return kp->pid;
}

void flint_keyproc_free(struct flint_keyproc *kp)
{
	if (!kp)
		return;
	if (kp->fd >= 0)
		close(kp->fd); /* the process sees the end and exits */
	if (kp->pid > 0)
		while (waitpid(kp->pid, NULL, 0) < 0 && errno == EINTR)
			;
	flint_jwk_free(kp->jwk);
	free(kp);
}
