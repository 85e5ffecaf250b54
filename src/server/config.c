/* flintd configuration: defaults, a "key = value" file, then command-line
 * flags, all from one table (what --help prints and the man page lists). */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dnsstub.h"
#include "error.h"

enum opt_kind { OPT_STRING, OPT_INT, OPT_BOOL, OPT_FLAG, OPT_LIST };

struct opt {
	const char *name;
	enum opt_kind kind;
	size_t offset;
	const char *defval;
	long min, max;
	const char *arg;
	const char *help;
};

#define O(f) offsetof(struct flintd_config, f)
static const struct opt opts[] = {
	{"listen", OPT_STRING, O(listen), "localhost:14000", 0, 0, "HOST:PORT",
	 "address the HTTPS API listens on; the serving certificate names HOST"},
	{"data-dir", OPT_STRING, O(data_dir), "data", 0, 0, "DIR",
	 "database, CA keys and DIR/root.pem (the root that verifies the API and issued certificates)"},
	{"database", OPT_STRING, O(database), NULL, 0, 0, "DSN",
	 "store: sqlite:PATH or a path (default DIR/flintd.db)"},
	{"base-url", OPT_STRING, O(base_url), NULL, 0, 0, "URL",
	 "external URL written into certificates (AIA, CRL); default https://LISTEN"},
	{"intermediate-key", OPT_STRING, O(intermediate_key), "ecdsa", 0, 0, "ecdsa|rsa",
	 "key type of the issuing intermediate created on first start (P-256 or RSA-3072)"},
	{"intermediate-key-uri", OPT_STRING, O(intermediate_key_uri), NULL, 0, 0, "URI",
	 "the issuing intermediate's private key in a PKCS#11 token (RFC 7512 pkcs11: URI) instead "
	 "of DIR/intermediate.key; DIR/intermediate.pem is made for it by the root when missing"},
	{"pkcs11-module", OPT_STRING, O(pkcs11_module), NULL, 0, 0, "PATH",
	 "the token's PKCS#11 library (default: p11-kit's proxy, which loads the registered ones)"},
	{"pkcs11-pin-file", OPT_STRING, O(pkcs11_pin_file), NULL, 0, 0, "FILE",
	 "file whose first line is the token's user PIN (mode 0600; never in the URI)"},
	{"crl-shards", OPT_INT, O(crl_shards), "1", 1, 128, "N",
	 "partition the CRL: certificates name BASE/ca/crl/K (K from the serial), each a CRL "
	 "with an Issuing Distribution Point; BASE/ca/crl stays the full CRL"},
	{"crl-dir", OPT_STRING, O(crl_dir), NULL, 0, 0, "DIR",
	 "also write the CRLs (crl.der, crl-K.der) to DIR, for a static web server: at start, "
	 "every crl-interval and after each revocation"},
	{"crl-interval", OPT_INT, O(crl_interval), "3600", 60, 86400, "SECONDS",
	 "how often the CRLs in crl-dir are regenerated"},
	{"public-http-listen", OPT_STRING, O(public_http_listen), NULL, 0, 0, "HOST:PORT",
	 "also serve /ca/* (CRLs, CA certificates) and /ocsp over plain HTTP here, and name "
	 "these URLs in certificates (relying parties fetch them without TLS)"},
	{"public-http-url", OPT_STRING, O(public_http_url), NULL, 0, 0, "URL",
	 "the external URL of public-http-listen (default http://HOST:PORT)"},
	{"ocsp", OPT_FLAG, O(ocsp), "false", 0, 1, NULL,
	 "run an OCSP responder (RFC 6960) at BASE/ocsp and name it in certificates (AIA)"},
	{"alternate-chain", OPT_FLAG, O(alternate_chain), "false", 0, 1, NULL,
	 "also serve a second chain: the intermediate cross-signed by a second root "
	 "(DIR/root-alt.pem), offered as Link rel=\"alternate\""},
	{"terms-of-service", OPT_STRING, O(terms_of_service), NULL, 0, 0, "URL",
	 "meta.termsOfService (default BASE/terms)"},
	{"website", OPT_STRING, O(website), NULL, 0, 0, "URL", "meta.website (default BASE/)"},
	{"caa-identities", OPT_STRING, O(caa_identities), "flint.invalid", 0, 0, "LIST",
	 "comma-separated meta.caaIdentities"},
	{"caa-reuse", OPT_INT, O(caa_reuse), "28800", 0, 31536000, "SECONDS",
	 "a CAA check older than this is made again at finalize (CA/B Forum: 8 hours)"},
	{"require-tos", OPT_BOOL, O(require_tos), "true", 0, 1, "BOOL",
	 "newAccount must carry termsOfServiceAgreed: true"},
	{"external-account-required", OPT_FLAG, O(external_account_required), "false", 0, 1, NULL,
	 "newAccount must carry an externalAccountBinding (RFC 8555 §7.3.4) made with a key from "
	 "'flintd admin eab-add'; sets meta.externalAccountRequired"},
	{"http-threads", OPT_INT, O(http_threads), "0", 0, 64, "N",
	 "event loops serving the API (0: one per core)"},
	{"validation-workers", OPT_INT, O(validation_workers), "8", 1, 256, "N",
	 "threads validating challenges off the request path"},
	{"max-connections", OPT_INT, O(max_connections), "4096", 1, 1000000, "N",
	 "open API connections per event loop"},
	{"max-connections-per-ip", OPT_INT, O(max_connections_per_ip), "256", 1, 1000000, "N",
	 "open API connections per client address per event loop"},
	{"max-handshakes", OPT_INT, O(max_handshakes), "64", 1, 1000000, "N",
	 "TLS handshakes in progress per event loop; connections beyond it wait, parked, for "
	 "their first bytes and then for a slot (bounds the memory of a burst of new "
	 "connections; a handshake stops counting after about a second while others wait)"},
	{"request-deadline", OPT_INT, O(request_deadline), "10", 1, 3600, "SECONDS",
	 "a connection must deliver each whole request within this time"},
	{"node-id", OPT_STRING, O(node_id), NULL, 0, 0, "NAME",
	 "this node's name in a cluster sharing one database: it holds the claims on the "
	 "validations, finalizations and scheduled jobs it runs (default HOSTNAME:PORT of listen)"},
	{"job-lease", OPT_INT, O(job_lease), "60", 2, 3600, "SECONDS",
	 "how long a node's claim on a validation, a finalization or a scheduled job lasts: "
	 "work of a node that stopped or died is taken over by another (or by itself at restart)"},
	{"user", OPT_STRING, O(user), NULL, 0, 0, "USER",
	 "when started as root: bind the ports, then run as USER (its groups too) for everything "
	 "else; the data directory (and crl-dir) must be USER's"},
	{"log-format", OPT_STRING, O(log_format), "text", 0, 0, "text|json",
	 "request and state-change lines on stderr as key=value text or one JSON object per line"},
	{"orders-per-page", OPT_INT, O(orders_per_page), "10", 1, 1000, "N",
	 "orders per page of an account's orders list"},
	{"max-pending-authzs", OPT_INT, O(max_pending_authzs), "300", 1, 1000000, "N",
	 "unexpired pending authorizations one account may hold; newOrder beyond it is rateLimited"},
	{"rate-new-orders", OPT_STRING, O(rate_new_orders_spec), "300/3h", 0, 0, "N/TIME",
	 "new orders per account per window (429 rateLimited beyond; off disables)"},
	{"rate-certs-per-domain", OPT_STRING, O(rate_certs_per_domain_spec), "50/7d", 0, 0, "N/TIME",
	 "certificates per registered domain (public suffix list) or IP address per window; "
	 "renewals with replaces and the same names are exempt"},
	{"rate-failed-validations", OPT_STRING, O(rate_failed_validations_spec), "5/1h", 0, 0,
	 "N/TIME", "failed validations per account and identifier per window, then no new "
		   "authorization for it"},
	{"rate-new-accounts-per-ip", OPT_STRING, O(rate_new_accounts_spec), "10/3h", 0, 0,
	 "N/TIME", "new accounts per client address per window"},
	{"nonce-lifetime", OPT_INT, O(nonce_lifetime), "3600", 10, 86400, "SECONDS",
	 "how long an unused Replay-Nonce stays valid"},
	{"order-lifetime", OPT_INT, O(order_lifetime), "604800", 60, 31536000, "SECONDS",
	 "how long a new order (and its new authorizations) may stay unfinished"},
	{"authz-lifetime", OPT_INT, O(authz_lifetime), "2592000", 60, 31536000, "SECONDS",
	 "how long a valid authorization lasts and is reused"},
	{"profile", OPT_LIST, O(profile_specs), NULL, 0, 0, "SPEC",
	 "a certificate profile (repeatable): NAME; lifetime=90d|160h; eku=serverAuth[,clientAuth]; "
	 "cn=yes|no; identifiers=dns[,ip]; description=TEXT (default: classic, tlsserver, "
	 "shortlived)"},
	{"default-profile", OPT_STRING, O(default_profile), NULL, 0, 0, "NAME",
	 "profile of orders that name none (default: the first profile)"},
	{"http01-port", OPT_INT, O(http01_port), "80", 1, 65535, "N",
	 "TEST ONLY: port http-01 validation connects to (RFC 8555 says 80)"},
	{"tlsalpn01-port", OPT_INT, O(tlsalpn01_port), "443", 1, 65535, "N",
	 "TEST ONLY: port tls-alpn-01 validation connects to (RFC 8737 says 443)"},
	{"dns-server", OPT_STRING, O(dns_server), NULL, 0, 0, "IP:PORT",
	 "the recursive resolver validation asks, trusted to validate DNSSEC (default: the system's resolvers, DNSSEC validated by flintd)"},
	{"allow-loopback-targets", OPT_FLAG, O(allow_loopback_targets), "false", 0, 1, NULL,
	 "TEST ONLY: let validation connect to 127.0.0.0/8 and ::1"},
};
#undef O
#define N_OPTS (sizeof(opts) / sizeof(opts[0]))

const char *flintd_config_key(size_t i)
{
	return i < N_OPTS ? opts[i].name : NULL;
}

static const struct opt *opt_find(const char *name)
{
	for (size_t i = 0; i < N_OPTS; i++)
		if (strcmp(opts[i].name, name) == 0)
			return &opts[i];
	return NULL;
}

static int opt_set(struct flintd_config *cfg, const struct opt *o, const char *val,
		   const char *where)
{
	char *base = (char *)cfg + o->offset;
	switch (o->kind) {
	case OPT_STRING: {
		char **s = (char **)(void *)base;
		char *copy = val ? strdup(val) : NULL;
		if (val && !copy)
			return FLINT_ENOMEM;
		free(*s);
		*s = copy;
		return 0;
	}
	case OPT_INT: {
		char *end;
		errno = 0;
		long v = strtol(val, &end, 10);
		if (errno || end == val || *end || v < o->min || v > o->max) {
			fprintf(stderr, "flintd: %s: %s must be an integer in %ld..%ld, got '%s'\n",
				where, o->name, o->min, o->max, val);
			return FLINT_EINVAL;
		}
		*(int *)(void *)base = (int)v;
		return 0;
	}
	case OPT_LIST: {
		struct flintd_strlist *l = (struct flintd_strlist *)(void *)base;
		char **grown = realloc(l->v, (l->n + 1) * sizeof(*l->v));
		if (!grown)
			return FLINT_ENOMEM;
		l->v = grown;
		if (!(l->v[l->n] = strdup(val)))
			return FLINT_ENOMEM;
		l->n++;
		return 0;
	}
	case OPT_BOOL:
	case OPT_FLAG:
		if (!strcmp(val, "true") || !strcmp(val, "yes") || !strcmp(val, "1")) {
			*(bool *)(void *)base = true;
		} else if (!strcmp(val, "false") || !strcmp(val, "no") || !strcmp(val, "0")) {
			*(bool *)(void *)base = false;
		} else {
			fprintf(stderr, "flintd: %s: %s must be true or false, got '%s'\n", where,
				o->name, val);
			return FLINT_EINVAL;
		}
		return 0;
	}
	return FLINT_EINVAL;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	char *e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static int load_file(struct flintd_config *cfg, const char *path)
{
	char line[4096];
	char where[PATH_MAX + 32];
	int lineno = 0, r = 0;
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "flintd: cannot open config file %s: %s\n", path, strerror(errno));
		return FLINT_EIO;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		snprintf(where, sizeof(where), "%s:%d", path, lineno);
		if (!strchr(line, '\n') && !feof(f)) {
			fprintf(stderr, "flintd: %s: line too long\n", where);
			r = FLINT_EINVAL;
			goto out;
		}
		char *s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		char *eq = strchr(s, '=');
		if (!eq) {
			fprintf(stderr, "flintd: %s: expected 'key = value'\n", where);
			r = FLINT_EINVAL;
			goto out;
		}
		*eq = '\0';
		char *key = trim(s), *val = trim(eq + 1);
		const struct opt *o = opt_find(key);
		if (!o) {
			fprintf(stderr, "flintd: %s: unknown setting '%s'\n", where, key);
			r = FLINT_EINVAL;
			goto out;
		}
		r = opt_set(cfg, o, val, where);
		if (r < 0)
			goto out;
	}
out:
	fclose(f);
	return r;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: flintd [--config FILE] [OPTION...]\n\n"
		     "flintd is an ACME (RFC 8555) certificate authority. Every option below may\n"
		     "also be set in the configuration file as 'name = value' (see flintd.conf(5)).\n\n"
		     "  --config FILE                 read settings from FILE before the flags\n");
	for (size_t i = 0; i < N_OPTS; i++) {
		char left[64];
		snprintf(left, sizeof(left), "--%s%s%s", opts[i].name, opts[i].arg ? " " : "",
			 opts[i].arg ? opts[i].arg : "");
		fprintf(out, "  %-29s %s", left, opts[i].help);
		if (opts[i].defval && opts[i].kind != OPT_FLAG)
			fprintf(out, " [%s]", opts[i].defval);
		if (opts[i].kind == OPT_LIST)
			fprintf(out, " (repeatable)");
		fputc('\n', out);
	}
	fprintf(out, "  --help                        this text\n"
		     "  --version                     print the version\n");
}

static int split_listen(struct flintd_config *cfg)
{
	const char *l = cfg->listen;
	const char *colon;
	char *host = NULL;
	if (l[0] == '[') {
		const char *close = strchr(l, ']');
		if (!close || close[1] != ':')
			goto bad;
		host = strndup(l + 1, (size_t)(close - l - 1));
		colon = close + 1;
	} else {
		colon = strrchr(l, ':');
		if (!colon || colon == l)
			goto bad;
		host = strndup(l, (size_t)(colon - l));
	}
	if (!host)
		return FLINT_ENOMEM;
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end || end == colon + 1 || port < 1 || port > 65535) {
		free(host);
		goto bad;
	}
	free(cfg->listen_host);
	cfg->listen_host = host;
	cfg->listen_port = (int)port;
	return 0;
bad:
	fprintf(stderr, "flintd: --listen must be HOST:PORT (or [V6]:PORT), got '%s'\n", l);
	return FLINT_EINVAL;
}

static int set_default_url(char **field, const char *base, const char *suffix)
{
	if (*field)
		return 0;
	if (asprintf(field, "%s%s", base, suffix) < 0) {
		*field = NULL;
		return FLINT_ENOMEM;
	}
	return 0;
}

/* The rate-* settings, "COUNT/DURATION" or off. */
static int finish_rates(struct flintd_config *cfg)
{
	const struct {
		const char *name;
		const char *spec;
		struct flint_rate *out;
	} rates[] = {
		{"rate-new-orders", cfg->rate_new_orders_spec, &cfg->rate_new_orders},
		{"rate-certs-per-domain", cfg->rate_certs_per_domain_spec, &cfg->rate_certs_per_domain},
		{"rate-failed-validations", cfg->rate_failed_validations_spec,
		 &cfg->rate_failed_validations},
		{"rate-new-accounts-per-ip", cfg->rate_new_accounts_spec, &cfg->rate_new_accounts},
	};

	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		char *err = NULL;
		int r = flint_rate_parse(rates[i].spec, rates[i].out, &err);

		if (r < 0) {
			fprintf(stderr, "flintd: %s: %s\n", rates[i].name, err ? err : flint_strerror(r));
			free(err);
			return r;
		}
	}
	return 0;
}

/* Parses the profile lines (or the shipped set) and picks the default. */
static int finish_profiles(struct flintd_config *cfg)
{
	const char *const *specs = flint_profiles_builtin;
	size_t n = 0;
	int r;

	if (cfg->profile_specs.n)
		specs = (const char *const *)cfg->profile_specs.v;
	else
		while (specs[n])
			n++;
	if (cfg->profile_specs.n)
		n = cfg->profile_specs.n;
	if (!(cfg->profiles = calloc(n, sizeof(*cfg->profiles))))
		return FLINT_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		char *err = NULL;

		if ((r = flint_profile_parse(specs[i], &cfg->profiles[i], &err)) < 0) {
			fprintf(stderr, "flintd: profile '%s': %s\n", specs[i],
				err ? err : flint_strerror(r));
			free(err);
			return r;
		}
		cfg->n_profiles++;
		if (flint_profile_find(cfg->profiles, i, cfg->profiles[i].name)) {
			fprintf(stderr, "flintd: profile %s is defined twice\n", cfg->profiles[i].name);
			return FLINT_EINVAL;
		}
	}
	cfg->default_profile_p = cfg->default_profile
		? flint_profile_find(cfg->profiles, cfg->n_profiles, cfg->default_profile)
		: &cfg->profiles[0];
	if (!cfg->default_profile_p) {
		fprintf(stderr, "flintd: default-profile '%s' is not a defined profile\n",
			cfg->default_profile);
		return FLINT_EINVAL;
	}
	return 0;
}

static int finish(struct flintd_config *cfg)
{
	int r = split_listen(cfg);
	if (r < 0)
		return r;
	if (!cfg->base_url) {
		bool v6 = strchr(cfg->listen_host, ':') != NULL;
		if (asprintf(&cfg->base_url, "https://%s%s%s:%d", v6 ? "[" : "", cfg->listen_host,
			     v6 ? "]" : "", cfg->listen_port) < 0) {
			cfg->base_url = NULL;
			return FLINT_ENOMEM;
		}
	}
	size_t bl = strlen(cfg->base_url);
	if (bl && cfg->base_url[bl - 1] == '/')
		cfg->base_url[bl - 1] = '\0';
	if (strncmp(cfg->base_url, "https://", 8) != 0) {
		fprintf(stderr, "flintd: base-url must start with https://\n");
		return FLINT_EINVAL;
	}
	if (!cfg->node_id) {
		char host[256] = "flintd";

		if (gethostname(host, sizeof(host)) < 0 || !host[0])
			snprintf(host, sizeof(host), "flintd");
		host[sizeof(host) - 1] = '\0';
		if (asprintf(&cfg->node_id, "%s:%d", host, cfg->listen_port) < 0) {
			cfg->node_id = NULL;
			return FLINT_ENOMEM;
		}
	}
	if (!cfg->node_id[0] || strlen(cfg->node_id) > 255) {
		fprintf(stderr, "flintd: node-id must be 1 to 255 characters\n");
		return FLINT_EINVAL;
	}
	if (!cfg->database && asprintf(&cfg->database, "%s/flintd.db", cfg->data_dir) < 0) {
		cfg->database = NULL;
		return FLINT_ENOMEM;
	}
	if (strcmp(cfg->log_format, "text") && strcmp(cfg->log_format, "json")) {
		fprintf(stderr, "flintd: log-format must be text or json\n");
		return FLINT_EINVAL;
	}
	if (cfg->dns_server) {
		struct sockaddr_storage ss;
		socklen_t sl;

		if (flint_dns_server_addr(cfg->dns_server, &ss, &sl) < 0) {
			fprintf(stderr, "flintd: dns-server must be IP, IP:PORT or [IPv6]:PORT, not %s\n",
				cfg->dns_server);
			return FLINT_EINVAL;
		}
	}
	if (strcmp(cfg->intermediate_key, "ecdsa") && strcmp(cfg->intermediate_key, "rsa")) {
		fprintf(stderr, "flintd: intermediate-key must be ecdsa or rsa\n");
		return FLINT_EINVAL;
	}
	if ((r = set_default_url(&cfg->terms_of_service, cfg->base_url, "/terms")) < 0 ||
	    (r = set_default_url(&cfg->website, cfg->base_url, "/")) < 0)
		return r;
	if ((r = finish_rates(cfg)) < 0)
		return r;
	if (cfg->public_http_listen && !cfg->public_http_url &&
	    asprintf(&cfg->public_http_url, "http://%s", cfg->public_http_listen) < 0) {
		cfg->public_http_url = NULL;
		return FLINT_ENOMEM;
	}
	if (cfg->public_http_url && strncmp(cfg->public_http_url, "http://", 7) != 0) {
		fprintf(stderr, "flintd: public-http-url must start with http://\n");
		return FLINT_EINVAL;
	}
	return finish_profiles(cfg);
}

int flintd_config_load(int argc, char **argv, struct flintd_config *ret)
{
	struct option longopts[N_OPTS + 4];
	int r;
	memset(ret, 0, sizeof(*ret));
	for (size_t i = 0; i < N_OPTS; i++) {
		if (opts[i].defval && (r = opt_set(ret, &opts[i], opts[i].defval, "default")) < 0)
			return r;
		longopts[i] = (struct option){opts[i].name,
					      opts[i].kind == OPT_FLAG ? no_argument : required_argument,
					      NULL, 1000 + (int)i};
	}
	longopts[N_OPTS] = (struct option){"config", required_argument, NULL, 'c'};
	longopts[N_OPTS + 1] = (struct option){"help", no_argument, NULL, 'h'};
	longopts[N_OPTS + 2] = (struct option){"version", no_argument, NULL, 'V'};
	longopts[N_OPTS + 3] = (struct option){NULL, 0, NULL, 0};

	/* First pass: the config file, so flags override it. */
	optind = 1;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, "+c:hV", longopts, NULL)) != -1) {
		if (c == 'c' && (r = load_file(ret, optarg)) < 0)
			return r;
		if (c == 'h') {
			usage(stdout);
			return 1;
		}
		if (c == 'V') {
			printf("flintd 0.1.0\n");
			return 1;
		}
	}
	optind = 1;
	opterr = 1;
	while ((c = getopt_long(argc, argv, "+c:hV", longopts, NULL)) != -1) {
		if (c == 'c')
			continue;
		if (c < 1000) {
			fprintf(stderr, "flintd: see 'flintd --help'\n");
			return FLINT_EINVAL;
		}
		const struct opt *o = &opts[c - 1000];
		if ((r = opt_set(ret, o, o->kind == OPT_FLAG ? "true" : optarg, "command line")) < 0)
			return r;
	}
	/* "flintd [OPTIONS] admin COMMAND [ARGS]": an operator command (admin.c) */
	if (optind < argc && strcmp(argv[optind], "admin") != 0) {
		fprintf(stderr, "flintd: unexpected argument '%s' (operator commands: flintd admin help)\n",
			argv[optind]);
		return FLINT_EINVAL;
	}
	if (optind < argc) {
		ret->admin_argc = argc - optind - 1;
		ret->admin_argv = argv + optind + 1;
		ret->admin = true;
	}
	return finish(ret);
}

void flintd_config_clear(struct flintd_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < N_OPTS; i++)
		if (opts[i].kind == OPT_STRING) {
			free(*(char **)(void *)((char *)cfg + opts[i].offset));
		} else if (opts[i].kind == OPT_LIST) {
			struct flintd_strlist *l =
				(struct flintd_strlist *)(void *)((char *)cfg + opts[i].offset);
			for (size_t k = 0; k < l->n; k++)
				free(l->v[k]);
			free(l->v);
		}
	free(cfg->listen_host);
	for (size_t i = 0; i < cfg->n_profiles; i++)
		flint_profile_clear(&cfg->profiles[i]);
	free(cfg->profiles);
	memset(cfg, 0, sizeof(*cfg));
}
