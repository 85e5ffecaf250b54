/* Unit tests for the key processes (keyproc.c): the private key lives in a
 * child that made or loaded it; this process holds only the public half;
 * signatures made through the child verify; the child runs under a seccomp
 * filter with no_new_privs; bad keys and oversized requests fail cleanly; the
 * child is gone after flint_keyproc_free. */
#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "csr.h"
#include "error.h"
#include "jws.h"
#include "keyproc.h"
#include "output.h"

static char tmpdir[] = "/tmp/flint-keyproc-XXXXXX";
static char key_path[256];

/* The value of a "Name:\tvalue" line of /proc/PID/status, or "". */
static void proc_status(pid_t pid, const char *name, char *out, size_t len)
{
	char path[64], line[256];
	size_t n = strlen(name);
	FILE *f;

	out[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (!(f = fopen(path, "r")))
		return;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, name, n) == 0 && line[n] == ':') {
			snprintf(out, len, "%s", line + n + 1 + strspn(line + n + 1, " \t"));
			out[strcspn(out, "\n")] = '\0';
			break;
		}
	fclose(f);
}

static bool verifies(const struct flint_jwk *key, const char *input, const unsigned char *sig,
		     size_t sig_len)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	bool ok = md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key->pkey) == 1 &&
		  EVP_DigestVerify(md, sig, sig_len, (const unsigned char *)input, strlen(input)) == 1;

	EVP_MD_CTX_free(md);
	return ok;
}

static void test_create_sign_confined(void)
{
	struct flint_keyproc *kp = NULL;
	struct flint_jwk *jwk = NULL;
	unsigned char *sig = NULL;
	size_t sig_len = 0;
	BIGNUM *priv = NULL;
	char *err = NULL, *jws = NULL, value[64];
	struct stat sb;
	pid_t pid;

	CHECK_INT(flint_keyproc_start(key_path, true, FLINT_KEY_P256, 0, &kp, NULL, &err), 0);
	if (!kp) {
		fprintf(stderr, "%s\n", err ? err : "?");
		free(err);
		return;
	}
	pid = flint_keyproc_pid(kp);
	/* the child made the key and saved it, 0600 */
	CHECK_INT(stat(key_path, &sb), 0);
	CHECK_INT(sb.st_mode & 0777, 0600);
	CHECK_INT(flint_keyproc_jwk(kp, &jwk), 0);
	CHECK(jwk && jwk->sign != NULL);
	/* this side has the public key only */
	CHECK(jwk && !EVP_PKEY_get_bn_param(jwk->pkey, OSSL_PKEY_PARAM_PRIV_KEY, &priv));
	BN_free(priv);
	/* a signature through the child verifies with the public key */
	if (jwk) {
		CHECK_INT(jwk->sign(jwk->sign_ctx, (const unsigned char *)"abc.def", 7, &sig,
				    &sig_len),
			  0);
		CHECK(sig && verifies(jwk, "abc.def", sig, sig_len));
		CHECK(sig && !verifies(jwk, "abc.deg", sig, sig_len));
		/* and a whole JWS */
		CHECK_INT(flint_jws_sign(jwk, "https://ca.example/acct/1", "nonce",
					 "https://ca.example/new-order", "{}", &jws),
			  0);
		CHECK(jws && strstr(jws, "\"signature\""));
	}
	/* the child: seccomp filter, no_new_privs */
	proc_status(pid, "Seccomp", value, sizeof(value));
	CHECK_STR(value, "2");
	proc_status(pid, "NoNewPrivs", value, sizeof(value));
	CHECK_STR(value, "1");
	/* a request over the limit is refused, the child stays usable */
	if (jwk) {
		size_t big = 128 * 1024;
		unsigned char *in = calloc(1, big), *sig2 = NULL;
		size_t l2 = 0;

		CHECK(in != NULL);
		if (in)
			CHECK_INT(jwk->sign(jwk->sign_ctx, in, big, &sig2, &l2), FLINT_ETOOBIG);
		free(in);
		free(sig2);
		sig2 = NULL;
		CHECK_INT(jwk->sign(jwk->sign_ctx, (const unsigned char *)"x", 1, &sig2, &l2), 0);
		free(sig2);
	}
	free(sig);
	free(jws);
	flint_jwk_free(jwk);
	flint_keyproc_free(kp);
	/* reaped: gone */
	CHECK(kill(pid, 0) < 0 && errno == ESRCH);
	free(err);
}

static void test_load_existing(void)
{
	struct flint_keyproc *a = NULL, *b = NULL;
	struct flint_jwk *ja = NULL, *jb = NULL;
	char *err = NULL;

	/* the key made above, loaded twice: the same key */
	CHECK_INT(flint_keyproc_start(key_path, false, FLINT_KEY_P256, 0, &a, NULL, &err), 0);
	CHECK_INT(flint_keyproc_start(key_path, true, FLINT_KEY_RSA, 2048, &b, NULL, &err), 0);
	if (a && b) {
		CHECK_INT(flint_keyproc_jwk(a, &ja), 0);
		CHECK_INT(flint_keyproc_jwk(b, &jb), 0);
		CHECK(ja && jb && flint_jwk_equal(ja, jb));
		CHECK(ja && ja->type == FLINT_KEY_P256); /* an existing key keeps its type */
	}
	flint_jwk_free(ja);
	flint_jwk_free(jb);
	flint_keyproc_free(a);
	flint_keyproc_free(b);
	free(err);
}

/* A certificate key's process: it makes the key and the CSR for the names;
 * the CSR is signed by that key and names exactly them. */
static void test_csr(void)
{
	struct flint_keyproc *kp = NULL;
	struct flint_jwk *jwk = NULL;
	struct flint_csr *csr = NULL;
	struct flint_problem *prob = NULL;
	const char *names[] = {"a.example.com", "b.example.com"};
	const char *many[101];
	unsigned char *der = NULL;
	size_t len = 0;
	char *err = NULL, path[300];
	X509_REQ *req = NULL;
	const unsigned char *p;

	snprintf(path, sizeof(path), "%s/cert.key", tmpdir);
	CHECK_INT(flint_keyproc_start(path, true, FLINT_KEY_P384, 0, &kp, NULL, &err), 0);
	if (!kp) {
		free(err);
		return;
	}
	CHECK_INT(flint_keyproc_jwk(kp, &jwk), 0);
	CHECK_INT(flint_keyproc_csr(kp, names, 2, &der, &len), 0);
	p = der;
	CHECK(der && (req = d2i_X509_REQ(NULL, &p, (long)len)) != NULL);
	CHECK(req && jwk && X509_REQ_verify(req, jwk->pkey) == 1);
	CHECK(der && flint_csr_parse_der(der, len, &csr, &prob) == 0);
	CHECK(csr && csr->n_ids == 2);
	for (size_t i = 0; i < 101; i++)
		many[i] = "x.example.com";
	free(der);
	der = NULL;
	CHECK_INT(flint_keyproc_csr(kp, many, 101, &der, &len), FLINT_EINVAL);
	CHECK_INT(flint_keyproc_csr(kp, many, 0, &der, &len), FLINT_EINVAL);
	/* the process still answers */
	CHECK_INT(flint_keyproc_csr(kp, names, 1, &der, &len), 0);
	free(der);
	der = NULL;
	/* 100 names of ~200 octets: a CSR over 16 KiB comes back whole */
	{
		static char longs[100][220];
		const char *lp[100];

		for (int i = 0; i < 100; i++) {
			snprintf(longs[i], sizeof(longs[i]), "n%03d%.57s.%.60s.%.60s.example.com", i,
				 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
				 "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
				 "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc");
			lp[i] = longs[i];
		}
		CHECK_INT(flint_keyproc_csr(kp, lp, 100, &der, &len), 0);
		CHECK(len > 16 * 1024);
		free(der);
	}
	X509_REQ_free(req);
	flint_csr_free(csr);
	flint_problem_free(prob);
	flint_jwk_free(jwk);
	flint_keyproc_free(kp);
	free(err);
}

static void test_bad_keys(void)
{
	struct flint_keyproc *kp = NULL;
	char *err = NULL, path[300];
	FILE *f;

	snprintf(path, sizeof(path), "%s/missing.key", tmpdir);
	CHECK(flint_keyproc_start(path, false, FLINT_KEY_P256, 0, &kp, NULL, &err) < 0);
	CHECK(kp == NULL);
	CHECK(err && strstr(err, "missing.key"));
	free(err);
	err = NULL;
	snprintf(path, sizeof(path), "%s/garbage.key", tmpdir);
	f = fopen(path, "w");
	if (f) {
		fputs("-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----\n", f);
		fclose(f);
	}
	CHECK(flint_keyproc_start(path, false, FLINT_KEY_P256, 0, &kp, NULL, &err) < 0);
	CHECK(kp == NULL);
	CHECK(err && strstr(err, "garbage.key"));
	free(err);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(key_path, sizeof(key_path), "%s/account.key", tmpdir);
	RUN(test_create_sign_confined);
	RUN(test_load_existing);
	RUN(test_csr);
	RUN(test_bad_keys);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return CHECK_DONE();
}
