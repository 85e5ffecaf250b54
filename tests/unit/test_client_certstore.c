/* Unit tests for renewal.json (certstore.c): every option renew needs
 * survives a save/load round trip, no TSIG secret is written, and corrupt or
 * hostile files fail with an error naming the file and the member. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "certstore.h"
#include "check.h"
#include "error.h"
#include "state.h"
#include "output.h"

static char tmpdir[] = "/tmp/flint-certstore-XXXXXX";

static char *tmp_path(const char *name)
{
	return flint_strdupf("%s/%s", tmpdir, name);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static char *read_text(const char *path)
{
	char *t = NULL;

	CHECK_INT(flint_read_file(path, 1 << 20, &t, NULL, NULL), 0);
	return t;
}

static void test_round_trip(void)
{
	char *names[] = {"a.test", "*.a.test"};
	struct flint_solver_config cfg = {
		.dns_update_server = "192.0.2.53:5353",
		.dns_update_zone = "a.test",
		.tsig_key_file = "/etc/flint/tsig.key",
		.tsig_key = "k:hmac-sha256:c2VjcmV0LXNlY3JldA==",
		.timeout_seconds = 90,
		.dns_account = true,
	};
	struct flint_renewal rn = {
		.server = "https://ca.test/dir",
		.names = names,
		.n_names = 2,
		.key_type = "rsa3072",
		.deploy_hook = "/usr/local/bin/reload",
		.preferred_chain = "Root X2",
		.profile = "shortlived",
		.timeout = 200,
		.not_before = 1700000000,
		.not_after = 1700000000 + 90 * 86400,
		.solver = cfg,
		.ari = {.cert_id = "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE",
			.start = 1704000000,
			.end = 1704086400,
			.chosen = 1704043200,
			.next_check = 1703990000,
			.explanation_url = "https://ca.test/why"},
	};
	struct flint_renewal *got = NULL;
	char *path = tmp_path("renewal.json"), *text, *err = NULL;

	CHECK_INT(flint_renewal_save(path, &rn, &err), 0);
	text = read_text(path);
	CHECK(text && !strstr(text, "c2VjcmV0")); /* the secret never reaches the file */
	CHECK(text && strstr(text, "\"tsig_key_inline\": true"));
	free(text);
	CHECK_INT(flint_renewal_load(path, &got, &err), 0);
	if (got) {
		CHECK_STR(got->server, rn.server);
		CHECK_INT(got->n_names, 2);
		CHECK_STR(got->names[1], "*.a.test");
		CHECK_STR(got->key_type, "rsa3072");
		CHECK_STR(got->deploy_hook, rn.deploy_hook);
		CHECK_STR(got->preferred_chain, "Root X2");
		CHECK_STR(got->profile, "shortlived");
		CHECK_INT(got->timeout, 200);
		CHECK_INT(got->not_before, rn.not_before);
		CHECK_INT(got->not_after, rn.not_after);
		CHECK_STR(got->solver.dns_update_server, cfg.dns_update_server);
		CHECK_STR(got->solver.dns_update_zone, "a.test");
		CHECK_STR(got->solver.tsig_key_file, cfg.tsig_key_file);
		CHECK(got->solver.tsig_key == NULL);
		CHECK(got->tsig_key_inline);
		CHECK_INT(got->solver.timeout_seconds, 90);
		CHECK(got->solver.dns_account);
		CHECK_STR(got->ari.cert_id, rn.ari.cert_id);
		CHECK_INT(got->ari.start, rn.ari.start);
		CHECK_INT(got->ari.end, rn.ari.end);
		CHECK_INT(got->ari.chosen, rn.ari.chosen);
		CHECK_INT(got->ari.next_check, rn.ari.next_check);
		CHECK_STR(got->ari.explanation_url, rn.ari.explanation_url);
		CHECK(!got->revoked);
		/* set_solver copies and drops the secret; a second save stays secret-free */
		CHECK_INT(flint_renewal_set_solver(got, &cfg), 0);
		CHECK(got->solver.tsig_key == NULL && got->tsig_key_inline);
		got->revoked = true;
		CHECK_INT(flint_renewal_save(path, got, &err), 0);
	}
	flint_renewal_free(got);
	got = NULL;
	CHECK_INT(flint_renewal_load(path, &got, &err), 0);
	CHECK(got && got->revoked && got->solver.tsig_key_file);
	flint_renewal_free(got);
	CHECK(err == NULL);
	free(err);
	free(path);
}

/* An old-style record (before these options): loads, the new fields empty. */
static void test_minimal(void)
{
	struct flint_renewal *got = NULL;
	char *path = tmp_path("min.json"), *err = NULL;

	write_text(path, "{\"server\":\"https://ca.test/dir\",\"names\":[\"a.test\"],"
			 "\"solver\":{\"http01_port\":80},\"not_before\":\"2024-01-01T00:00:00Z\","
			 "\"not_after\":\"2024-04-01T00:00:00Z\",\"revoked\":false}");
	CHECK_INT(flint_renewal_load(path, &got, &err), 0);
	if (got) {
		CHECK_INT(got->solver.http01_port, 80);
		CHECK(!got->preferred_chain && !got->profile && !got->key_type);
		CHECK(!got->solver.dns_update_server && !got->tsig_key_inline);
		CHECK(!got->ari.cert_id && got->ari.end == 0);
	}
	flint_renewal_free(got);
	free(err);
	free(path);
}

static const struct {
	const char *what, *text, *err_has;
} hostile[] = {
	{"not JSON", "{\"server\":", "not JSON"},
	{"binary junk", "\x01\x02\xff\xfe", "not JSON"},
	{"empty", "", "not JSON"},
	{"an array", "[1,2]", "not a renewal record"},
	{"no names", "{\"server\":\"https://x/\"}", "not a renewal record"},
	{"empty names", "{\"server\":\"https://x/\",\"names\":[]}", "not a renewal record"},
	{"server a number", "{\"server\":5,\"names\":[\"a\"]}", "not a renewal record"},
	{"name a number", "{\"server\":\"https://x/\",\"names\":[7]}", "names must be"},
	{"name empty", "{\"server\":\"https://x/\",\"names\":[\"\"]}", "names must be"},
	{"key_type an object", "{\"server\":\"https://x/\",\"names\":[\"a\"],\"key_type\":{}}",
	 "key_type must be a non-empty string"},
	{"solver a string", "{\"server\":\"https://x/\",\"names\":[\"a\"],\"solver\":\"x\"}",
	 "solver must be an object"},
	{"port too large",
	 "{\"server\":\"https://x/\",\"names\":[\"a\"],\"solver\":{\"http01_port\":70000}}",
	 "solver.http01_port must be an integer from 0 to 65535"},
	{"port negative",
	 "{\"server\":\"https://x/\",\"names\":[\"a\"],\"solver\":{\"http01_port\":-1}}",
	 "solver.http01_port"},
	{"timeout a string", "{\"server\":\"https://x/\",\"names\":[\"a\"],\"timeout\":\"9\"}",
	 "timeout must be"},
	{"bad time", "{\"server\":\"https://x/\",\"names\":[\"a\"],\"not_after\":\"tomorrow\"}",
	 "not_after must be an RFC 3339 time"},
	{"revoked a string", "{\"server\":\"https://x/\",\"names\":[\"a\"],\"revoked\":\"yes\"}",
	 "revoked must be true or false"},
	{"a stored TSIG secret",
	 "{\"server\":\"https://x/\",\"names\":[\"a\"],\"solver\":{\"tsig_key\":\"k:hmac-sha256:AA==\"}}",
	 "tsig_key must not be stored"},
	{"ari a list", "{\"server\":\"https://x/\",\"names\":[\"a\"],\"ari\":[]}",
	 "ari must be an object"},
	{"ari bad time",
	 "{\"server\":\"https://x/\",\"names\":[\"a\"],\"ari\":{\"cert_id\":\"a.b\",\"renew_at\":1}}",
	 "ari.renew_at must be an RFC 3339 time"},
};

static void test_hostile(void)
{
	char *path = tmp_path("bad.json");

	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		struct flint_renewal *got = NULL;
		char *err = NULL;
		int r;

		write_text(path, hostile[i].text);
		r = flint_renewal_load(path, &got, &err);
		if (r != FLINT_EINVAL || !err || !strstr(err, hostile[i].err_has) ||
		    !strstr(err, path))
			fprintf(stderr, "case: %s: r=%d err=%s\n", hostile[i].what, r,
				err ? err : "(null)");
		CHECK_INT(r, FLINT_EINVAL);
		CHECK(got == NULL);
		CHECK(err && strstr(err, hostile[i].err_has) && strstr(err, path));
		free(err);
	}
	free(path);
}

static void test_missing(void)
{
	struct flint_renewal *got = NULL;
	char *path = tmp_path("nope.json"), *err = NULL;

	CHECK_INT(flint_renewal_load(path, &got, &err), FLINT_ENOTFOUND);
	free(err);
	free(path);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_round_trip);
	RUN(test_minimal);
	RUN(test_hostile);
	RUN(test_missing);
	{
		const char *files[] = {"renewal.json", "min.json", "bad.json"};

		for (size_t i = 0; i < 3; i++) {
			char *p = tmp_path(files[i]);

			if (p)
				unlink(p);
			free(p);
		}
		rmdir(tmpdir);
	}
	return CHECK_DONE();
}
