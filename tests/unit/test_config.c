/* Tests flintd's configuration: defaults, file + flag precedence, bad input,
 * and that docs/flintd.conf.5.md documents exactly the options the code has. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config.h"

static int load(int argc, char **argv, struct flintd_config *cfg)
{
	/* getopt writes diagnostics for bad flags; keep the test output readable */
	return flintd_config_load(argc, argv, cfg);
}

static void test_defaults(void)
{
	struct flintd_config cfg;
	char *argv[] = {"flintd", NULL};
	CHECK_INT(load(1, argv, &cfg), 0);
	CHECK_STR(cfg.listen_host, "localhost");
	CHECK_INT(cfg.listen_port, 14000);
	CHECK_STR(cfg.base_url, "https://localhost:14000");
	CHECK_STR(cfg.database, "data/flintd.db");
	CHECK_INT(cfg.http01_port, 80);
	CHECK_INT(cfg.tlsalpn01_port, 443);
	CHECK(cfg.dns_server == NULL);
	CHECK(!cfg.allow_loopback_targets);
	CHECK(cfg.require_tos);
	CHECK_STR(cfg.terms_of_service, "https://localhost:14000/terms");
	CHECK_STR(cfg.log_format, "text");
	flintd_config_clear(&cfg);
}

static void test_log_format(void)
{
	struct flintd_config cfg;
	char *json[] = {"flintd", "--log-format", "json", NULL};
	char *bad[] = {"flintd", "--log-format", "xml", NULL};
	CHECK_INT(load(3, json, &cfg), 0);
	CHECK_STR(cfg.log_format, "json");
	flintd_config_clear(&cfg);
	CHECK(load(3, bad, &cfg) < 0);
	flintd_config_clear(&cfg);
}

/* The resolver validation asks is an address: refused at start, not by every
 * validation worker later. */
static void test_dns_server(void)
{
	static const char *good[] = {"127.0.0.1", "127.0.0.1:8053", "[::1]:53", "::1"};
	static const char *bad[] = {"ns.example:53", "127.0.0.1:", "127.0.0.1:70000", "[::1"};
	struct flintd_config cfg;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char *argv[] = {"flintd", "--dns-server", (char *)good[i], NULL};
		CHECK_INT(load(3, argv, &cfg), 0);
		CHECK_STR(cfg.dns_server, good[i]);
		flintd_config_clear(&cfg);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *argv[] = {"flintd", "--dns-server", (char *)bad[i], NULL};
		CHECK(load(3, argv, &cfg) < 0);
		flintd_config_clear(&cfg);
	}
}

static void test_flags(void)
{
	struct flintd_config cfg;
	char *argv[] = {"flintd", "--listen", "[::1]:15000", "--data-dir", "/tmp/x",
			"--http01-port", "5002", "--tlsalpn01-port", "5001", "--dns-server",
			"127.0.0.1:8053", "--allow-loopback-targets", NULL};
	CHECK_INT(load(12, argv, &cfg), 0);
	CHECK_STR(cfg.listen_host, "::1");
	CHECK_INT(cfg.listen_port, 15000);
	CHECK_STR(cfg.base_url, "https://[::1]:15000");
	CHECK_STR(cfg.database, "/tmp/x/flintd.db");
	CHECK_INT(cfg.http01_port, 5002);
	CHECK_INT(cfg.tlsalpn01_port, 5001);
	CHECK_STR(cfg.dns_server, "127.0.0.1:8053");
	CHECK(cfg.allow_loopback_targets);
	flintd_config_clear(&cfg);
}

static void test_file_then_flags(void)
{
	char path[] = "/tmp/flint-test-config-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	FILE *f = fdopen(fd, "w");
	fprintf(f, "# comment\n\nlisten = 127.0.0.1:16000\norders-per-page = 3\n"
		   "require-tos = false\n");
	fclose(f);
	struct flintd_config cfg;
	char *argv[] = {"flintd", "--orders-per-page", "5", "--config", path, NULL};
	CHECK_INT(load(5, argv, &cfg), 0);
	CHECK_INT(cfg.listen_port, 16000);
	CHECK_INT(cfg.orders_per_page, 5); /* the flag wins over the file */
	CHECK(!cfg.require_tos);
	flintd_config_clear(&cfg);

	f = fopen(path, "w");
	fprintf(f, "no-such-setting = 1\n");
	fclose(f);
	char *argv2[] = {"flintd", "--config", path, NULL};
	CHECK(load(3, argv2, &cfg) < 0);
	flintd_config_clear(&cfg);

	f = fopen(path, "w");
	fprintf(f, "listen 127.0.0.1:1\n");
	fclose(f);
	CHECK(load(3, argv2, &cfg) < 0);
	flintd_config_clear(&cfg);
	unlink(path);

	char *argv3[] = {"flintd", "--config", "/nonexistent/flintd.conf", NULL};
	CHECK(load(3, argv3, &cfg) < 0);
	flintd_config_clear(&cfg);
}

static void test_bad_values(void)
{
	static const char *bad[][2] = {
		{"--listen", "nohostport"},  {"--listen", "host:0"},     {"--listen", "host:99999"},
		{"--listen", "[::1:80"},     {"--http01-port", "0"},     {"--http01-port", "x"},
		{"--http01-port", "65536"},  {"--validation-workers", "0"},
		{"--intermediate-key", "dsa"}, {"--require-tos", "maybe"},
		{"--base-url", "http://insecure"}, {"--nonce-lifetime", "5"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct flintd_config cfg;
		char *argv[] = {"flintd", (char *)bad[i][0], (char *)bad[i][1], NULL};
		int rc = load(3, argv, &cfg);
		if (rc >= 0)
			fprintf(stderr, "accepted: %s %s\n", bad[i][0], bad[i][1]);
		CHECK(rc < 0);
		flintd_config_clear(&cfg);
	}
	struct flintd_config cfg;
	char *argv[] = {"flintd", "stray", NULL};
	CHECK(load(2, argv, &cfg) < 0);
	flintd_config_clear(&cfg);
}

/* Every option is in the reference, and the reference names no other. */
static void test_reference_matches_code(void)
{
	const char *path = FLINT_SOURCE_DIR "/docs/flintd.conf.5.md";
	FILE *f = fopen(path, "r");
	CHECK(f != NULL);
	if (!f)
		return;
	static char doc[65536];
	size_t n = fread(doc, 1, sizeof(doc) - 1, f);
	doc[n] = '\0';
	fclose(f);
	size_t documented = 0;
	for (size_t i = 0; flintd_config_key(i); i++) {
		char needle[128];
		snprintf(needle, sizeof(needle), "| `%s` |", flintd_config_key(i));
		if (!strstr(doc, needle))
			fprintf(stderr, "undocumented setting: %s\n", flintd_config_key(i));
		CHECK(strstr(doc, needle) != NULL);
		documented++;
	}
	size_t rows = 0;
	for (const char *p = doc; (p = strstr(p, "\n| `")); p++)
		rows++;
	CHECK_INT(rows, documented);
}

int main(void)
{
	RUN(test_defaults);
	RUN(test_log_format);
	RUN(test_dns_server);
	RUN(test_flags);
	RUN(test_file_then_flags);
	RUN(test_bad_values);
	RUN(test_reference_matches_code);
	return CHECK_DONE();
}
