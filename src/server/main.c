/* flintd: an ACME (RFC 8555) certificate authority. Loads the configuration,
 * creates or loads the CA, starts the validation workers and the HTTPS API. */
#include <curl/curl.h>
#include <errno.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "admin.h"
#include "api/api.h"
#include "config.h"
#include "error.h"
#include "file.h"
#include "http.h"
#include "issuer.h"
#include "log.h"
#include "pkcs11.h"
#include "privileges.h"
#include "server.h"
#include "store/sqlite.h"
#include "validate/worker.h"

static void *signal_thread(void *arg)
{
	struct flintd_http *h = arg;
	sigset_t set;
	int sig = 0;
	pthread_setname_np(pthread_self(), "flintd-signal");
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigwait(&set, &sig);
	fprintf(stderr, "flintd: signal %d, stopping\n", sig);
	flintd_http_stop(h);
	return NULL;
}

/* Nodes on one SQLite database record used nonces in a ledger file beside
 * it (all of them run on this machine: WAL mode requires it); PostgreSQL's
 * nodes in the store. */
static int nonce_ledger_open(const struct flintd_config *cfg, struct flint_nonce_key *k)
{
	const char *path = NULL;
	char *file = NULL;
	int rc = 0;

	if (flint_store_backend(cfg->database, &path) != &flint_store_sqlite)
		return 0;
	if ((rc = flint_store_sqlite_sidecar(path, "-nonces", &file)) < 0 ||
	    (rc = flint_nonce_ledger_open(file, &k->ledger)) < 0)
		fprintf(stderr, "flintd: cannot open the nonce ledger %s: %s\n",
			file ? file : "in memory",
			rc == FLINT_EINVAL ? "not a ledger of this flintd version (another "
					     "program's file, or another version of flintd "
					     "still running on this database)"
					   : flint_strerror(rc));
	free(file);
	return rc;
}

int main(int argc, char **argv)
{
	struct flintd_config cfg;
	struct flintd d = {.cfg = &cfg, .dispatch = flint_api_dispatch,
			   .run_jobs = flint_jobs_run};
	struct flintd_http *http = NULL;
	struct flintd_listeners bound = {.plain = -1};
	struct flint_store *st = NULL;
	char why[512];
	struct flint_pkcs11 *p11 = NULL;
	EVP_PKEY *token_key = NULL;
	pthread_t sigthr;
	bool sigthr_started = false;
	sigset_t set;
	int rc, exit_code = 1;

	rc = flintd_config_load(argc, argv, &cfg);
	if (rc != 0) {
		flintd_config_clear(&cfg);
		return rc > 0 ? 0 : 2;
	}
	if (cfg.admin) {
		/* the data directory must exist for the default store path */
		if (mkdir(cfg.data_dir, 0700) < 0 && errno != EEXIST) {
			fprintf(stderr, "flintd: cannot create %s: %s\n", cfg.data_dir, strerror(errno));
			exit_code = 1;
		} else {
			exit_code = flintd_admin_run(&cfg);
		}
		flintd_config_clear(&cfg);
		return exit_code;
	}
	flintd_log_set_json(strcmp(cfg.log_format, "json") == 0);
	/* glibc gives each thread that allocates its own arena; with an event
	 * loop per core and the validation workers that is a dozen, whose
	 * fragmentation costs more resident memory than the connections
	 * themselves. A few arenas keep malloc uncontended enough: 2 instead of
	 * 4 saved ~3 MiB at 1 000 clients but cost ~7 % CPU per issuance
	 * (MALLOC_ARENA_MAX in the environment still decides). The optimised
	 * build links mimalloc, whose malloc this does not touch: it applies to
	 * builds without it (-DFLINT_MIMALLOC=OFF, the sanitizer build). */
	if (!getenv("MALLOC_ARENA_MAX"))
		mallopt(M_ARENA_MAX, 4);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL); /* every thread inherits this */
	/* the ports first (below 1024 needs root), then nothing more as root */
	if (flintd_listeners_bind(&cfg, &bound) < 0)
		goto out;
	if ((rc = flintd_drop_privileges(cfg.user, why, sizeof(why))) < 0) {
		fprintf(stderr, "flintd: %s\n", why);
		goto out;
	}
	if (evthread_use_pthreads() != 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "flintd: cannot initialise libevent threads or libcurl\n");
		goto out;
	}
	if (mkdir(cfg.data_dir, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "flintd: cannot create %s: %s\n", cfg.data_dir, strerror(errno));
		goto out;
	}
	if (cfg.intermediate_key_uri &&
	    ((rc = flint_pkcs11_open(cfg.pkcs11_module, cfg.pkcs11_pin_file, &p11, why,
				     sizeof(why))) < 0 ||
	     (rc = flint_pkcs11_private_key(p11, cfg.intermediate_key_uri, &token_key, why,
					    sizeof(why))) < 0)) {
		fprintf(stderr, "flintd: %s\n", why);
		goto out;
	}
	struct flint_issuer_options io = {
		.data_dir = cfg.data_dir, .intermediate_key = cfg.intermediate_key,
		.intermediate_token_key = token_key,
		.listen_host = cfg.listen_host, .base_url = cfg.base_url,
		.alternate_chain = cfg.alternate_chain,
		.ocsp = cfg.ocsp,
		.crl_shards = cfg.crl_shards, .public_url = cfg.public_http_url,
	};
	if ((rc = flint_issuer_open(&io, &d.issuer)) < 0) {
		fprintf(stderr, "flintd: cannot load or create the CA in %s: %s\n", cfg.data_dir,
			flint_strerror(rc));
		goto out;
	}
	/* Open once here so migrations run before any thread uses the store. */
	if ((rc = flint_store_open(cfg.database, &st)) < 0) {
		char shown[512];

		fprintf(stderr, "flintd: cannot open store %s: %s\n",
			flint_store_dsn_redacted(cfg.database, shown, sizeof(shown)), flint_strerror(rc));
		goto out;
	}
	st->ops->nonce_purge(st, flint_now());
	if (cfg.crl_dir && ((rc = flint_file_mkdirs(cfg.crl_dir, 0755, NULL)) < 0 ||
			    (rc = flint_crl_publish(&d, st)) < 0)) {
		fprintf(stderr, "flintd: cannot publish CRLs in %s: %s\n", cfg.crl_dir,
			flint_strerror(rc));
		goto out;
	}
	if ((rc = flint_nonce_key_load(st, &d.nonce_key)) < 0) {
		fprintf(stderr, "flintd: cannot load the nonce key: %s\n", flint_strerror(rc));
		goto out;
	}
	if ((rc = nonce_ledger_open(&cfg, &d.nonce_key)) < 0)
		goto out;
	if ((rc = flint_validation_pool_new(&cfg, &d.pool)) < 0) {
		fprintf(stderr, "flintd: cannot start validation workers: %s\n", flint_strerror(rc));
		goto out;
	}
	/* what this node's previous run left in processing, at once; other
	 * nodes' work once their claims expire (the jobs timer) */
	if ((rc = flint_jobs_take_over(&d, st, true)) < 0) {
		fprintf(stderr, "flintd: cannot resume work left in processing: %s\n",
			flint_strerror(rc));
		goto out;
	}
	flint_store_close(st);
	st = NULL;
	if ((rc = flint_api_directory_init(&d)) < 0 || (rc = flintd_http_new(&d, &bound, &http)) < 0)
		goto out;
	if (pthread_create(&sigthr, NULL, signal_thread, http) != 0)
		goto out;
	sigthr_started = true;

	char root[PATH_MAX];
	if (!realpath(flint_issuer_root_path(d.issuer), root))
		snprintf(root, sizeof(root), "%s", flint_issuer_root_path(d.issuer));
	printf("flintd: directory %s/directory\n", cfg.base_url);
	printf("flintd: root certificate %s (also at %s/ca/root.pem)\n", root, cfg.base_url);
	if (cfg.allow_loopback_targets || cfg.http01_port != 80 || cfg.tlsalpn01_port != 443)
		printf("flintd: TEST SETTINGS ACTIVE (validation ports %d/%d, loopback %s)\n",
		       cfg.http01_port, cfg.tlsalpn01_port,
		       cfg.allow_loopback_targets ? "allowed" : "refused");
	if (cfg.dns_server)
		printf("flintd: validation asks the DNS resolver at %s (trusted to validate DNSSEC)\n",
		       cfg.dns_server);
	else
		printf("flintd: validation asks the resolvers of /etc/resolv.conf through libunbound "
		       "(DNSSEC validated when a root trust anchor is installed)\n");
	fflush(stdout);
	rc = flintd_http_run(http);
	exit_code = rc < 0 ? 1 : 0;
out:
	if (sigthr_started) {
		/* The signal thread may still be stopping the loops: wake it if it
		 * is waiting, and let it finish before the loops are freed. */
		pthread_kill(sigthr, SIGTERM);
		pthread_join(sigthr, NULL);
	}
	flintd_http_free(http);
	flintd_listeners_close(&bound);
	flint_validation_pool_free(d.pool);
	flint_store_close(st);
	flint_nonce_key_clear(&d.nonce_key);
	flint_issuer_free(d.issuer);
	EVP_PKEY_free(token_key);
	flint_pkcs11_free(p11);
	flint_account_jwk_cache_clear();
	free(d.directory_json);
	curl_global_cleanup();
	flintd_config_clear(&cfg);
	libevent_global_shutdown();
	return exit_code;
}
