/* flint: an ACME (RFC 8555) client. Parses the command line, then runs one
 * verb (account, issue, renew, revoke) over the flint_client library. */
#include <curl/curl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "interrupt.h"
#include "output.h"
#include "version.h"

enum verb {
	V_REGISTER = 1 << 0,
	V_SHOW = 1 << 1,
	V_UPDATE = 1 << 2,
	V_DEACTIVATE = 1 << 3,
	V_ROLLOVER = 1 << 4,
	V_ISSUE = 1 << 5,
	V_RENEW = 1 << 6,
	V_REVOKE = 1 << 7,
	V_AUTHORIZE = 1 << 8,
};

#define V_ACCOUNT (V_REGISTER | V_SHOW | V_UPDATE | V_DEACTIVATE | V_ROLLOVER)
#define V_ALL 0x1ff
#define V_CERT (V_ISSUE | V_RENEW)

static const struct verb_info {
	const char *name, *sub;
	enum verb verb;
	const char *usage, *help;
} verbs[] = {
	{"account", "register", V_REGISTER, "account register [--email ADDR]... [--agree-tos] [--key-type TYPE] [--eab-kid KID --eab-hmac-key KEY [--eab-alg ALG]]",
	 "Creates an account with the server (RFC 8555 §7.3) and stores its key and URL.\n"
	 "  --email ADDR      contact address (repeatable)\n"
	 "  --agree-tos       agree to the server's terms of service (required when it has any)\n"
	 "  --key-type TYPE   account key: es256 (default), es384, rs256, eddsa\n"
	 "  --eab-kid KID     external account binding (RFC 8555 §7.3.4): the CA's key id\n"
	 "  --eab-hmac-key KEY  its MAC key, base64url as the CA gives it\n"
	 "  --eab-alg ALG     HS256 (default), HS384 or HS512\n"},
	{"account", "show", V_SHOW, "account show",
	 "Prints the account as the server has it (URL, status, contacts, key);\n"
	 "with --json the server's account object (plus \"url\").\n"},
	{"account", "update", V_UPDATE, "account update --email ADDR...",
	 "Replaces the account's contact addresses with the --email ones.\n"
	 "  --email ADDR      contact address (repeatable, at least one)\n"},
	{"account", "deactivate", V_DEACTIVATE, "account deactivate",
	 "Deactivates the account for good (RFC 8555 §7.3.6); its files move to\n"
	 "deactivated-TIME/ and the next issue registers a new account.\n"},
	{"account", "rollover", V_ROLLOVER, "account rollover [--key-type TYPE]",
	 "Switches the account to a freshly generated key (RFC 8555 §7.3.5).\n"
	 "  --key-type TYPE   es256, es384, rs256, eddsa (default: the current key's type)\n"},
	{"issue", NULL, V_ISSUE, "issue [OPTIONS] NAME...",
	 "Obtains a certificate for the DNS names (\"*.example.com\" for a wildcard) and IP\n"
	 "addresses (RFC 8738; http-01 or tls-alpn-01 only) and stores it in\n"
	 "STATE/certs/FIRST-NAME/. Registers an account first when there is none.\n"
	 "At least one way to answer challenges is needed; per name flint uses the first\n"
	 "of these that the server offers and that can prove the name:\n"
	 "  --http01-port N         answer http-01 on port N (standalone)\n"
	 "  --http01-bind ADDR      address for it (default: all)\n"
	 "  --webroot DIR           answer http-01 by files in DIR/.well-known/acme-challenge/\n"
	 "  --tlsalpn01-port N      answer tls-alpn-01 on port N (standalone)\n"
	 "  --tlsalpn01-bind ADDR   address for it (default: all)\n"
	 "  --dns-hook PROG         answer dns-01 with PROG (see flint(1) for its contract)\n"
	 "  --dns-update SERVER     answer dns-01 by a TSIG-signed DNS UPDATE (RFC 2136) sent to\n"
	 "                          the zone's primary HOST[:PORT], then wait (--timeout, default\n"
	 "                          120 s) until every NS of the zone serves the TXT record\n"
	 "  --tsig-key NAME:ALG:SECRET   its key: ALG hmac-sha256 or hmac-sha512, SECRET base64\n"
	 "  --tsig-key-file FILE    or the key from FILE (as for nsupdate -k, or Knot's keymgr -t)\n"
	 "  --dns-update-zone ZONE  the zone to update (default: found by an SOA query)\n"
	 "  --dns-account           --dns-hook or --dns-update answer dns-account-01\n"
	 "                          (draft-ietf-acme-dns-account-label) instead of dns-01: the same\n"
	 "                          value at _LABEL._acme-challenge.NAME, LABEL from the account URL\n"
	 "Other options:\n"
	 "  --key-type TYPE         certificate key: ec256 (default), ec384, rsa2048, rsa3072, rsa4096\n"
	 "  --email ADDR, --agree-tos, --account-key-type TYPE   for an account created on the way\n"
	 "  --deploy-hook PROG      run after the certificate is stored (also on renewals)\n"
	 "  --timeout SECONDS       bound on validation and on issuance (default 300)\n"
	 "  --preferred-chain CN    pick the offered chain (Link rel=alternate) whose top issuer\n"
	 "                          or root is named CN; the default chain when none is\n"
	 "  --profile NAME          ask for the server's profile NAME (meta.profiles)\n"
	 "  --eab-kid KID, --eab-hmac-key KEY, --eab-alg ALG   external account binding for an\n"
	 "                          account created on the way\n"},
	{"renew", NULL, V_RENEW, "renew [--force] [--deploy-hook PROG] [NAME...]",
	 "Renews the stored certificates (of --server, or all) that are due: at a random time\n"
	 "in the server's renewalInfo window (RFC 9773) when it offers one, else once two\n"
	 "thirds of the lifetime have passed (half for lifetimes of 10 days or less). Names\n"
	 "limit it to those certificates. Silent when nothing is due.\n"
	 "  --force                 renew even when not due (and revoked ones)\n"
	 "  --deploy-hook PROG      run after each renewal (overrides the stored one)\n"
	 "  --key-type TYPE, --timeout SECONDS, and the issue solver options override the\n"
	 "                          settings stored at issue time\n"
	 "  --preferred-chain CN, --profile NAME   as for issue; override the stored ones\n"
	 "  an inline --tsig-key is never stored: pass it again (a --tsig-key-file path is)\n"
	 "Exit status: 0 renewed at least one, 1 an error, 3 nothing was due.\n"},
	{"authorize", NULL, V_AUTHORIZE, "authorize [OPTIONS] NAME...",
	 "Pre-authorizes the DNS names and IP addresses (RFC 8555 §7.4.1: newAuthz) by answering\n"
	 "their challenges now, with the same solver options as issue (--http01-port,\n"
	 "--webroot, --tlsalpn01-port, --dns-hook, --dns-update ...; --timeout). A later issue\n"
	 "for those names then needs no challenge while the authorizations are valid.\n"
	 "Wildcards cannot be pre-authorized. Fails when the server has no newAuthz.\n"
	 "  --email ADDR, --agree-tos, --account-key-type TYPE, --eab-kid KID, --eab-hmac-key\n"
	 "                          KEY, --eab-alg ALG   for an account created on the way\n"},
	{"revoke", NULL, V_REVOKE, "revoke [--reason N] [--with-cert-key] NAME",
	 "Revokes the stored certificate of NAME (RFC 8555 §7.6) with the account key.\n"
	 "  --reason N              RFC 5280 reason code (0-10, not 7)\n"
	 "  --with-cert-key         sign with the certificate's own key instead\n"},
};

#define N_VERBS (sizeof(verbs) / sizeof(verbs[0]))

enum opt_id {
	O_SERVER = 256, O_CA_BUNDLE, O_STATE_DIR, O_VERSION, O_EMAIL, O_AGREE_TOS, O_KEY_TYPE,
	O_ACCOUNT_KEY_TYPE, O_HTTP01_PORT, O_HTTP01_BIND, O_WEBROOT, O_TLSALPN01_PORT,
	O_TLSALPN01_BIND, O_DNS_HOOK, O_DEPLOY_HOOK, O_TIMEOUT, O_FORCE, O_REASON,
	O_WITH_CERT_KEY, O_EAB_KID, O_EAB_HMAC_KEY, O_EAB_ALG, O_PREFERRED_CHAIN, O_PROFILE,
	O_JSON,
	O_DNS_UPDATE, O_TSIG_KEY, O_TSIG_KEY_FILE, O_DNS_UPDATE_ZONE,
	O_DNS_ACCOUNT,
	O__END
};

static const struct option long_opts[] = {
	{"server", required_argument, NULL, O_SERVER},
	{"ca-bundle", required_argument, NULL, O_CA_BUNDLE},
	{"state-dir", required_argument, NULL, O_STATE_DIR},
	{"quiet", no_argument, NULL, 'q'},
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, O_VERSION},
	{"email", required_argument, NULL, O_EMAIL},
	{"agree-tos", no_argument, NULL, O_AGREE_TOS},
	{"key-type", required_argument, NULL, O_KEY_TYPE},
	{"account-key-type", required_argument, NULL, O_ACCOUNT_KEY_TYPE},
	{"http01-port", required_argument, NULL, O_HTTP01_PORT},
	{"http01-bind", required_argument, NULL, O_HTTP01_BIND},
	{"webroot", required_argument, NULL, O_WEBROOT},
	{"tlsalpn01-port", required_argument, NULL, O_TLSALPN01_PORT},
	{"tlsalpn01-bind", required_argument, NULL, O_TLSALPN01_BIND},
	{"dns-hook", required_argument, NULL, O_DNS_HOOK},
	{"dns-update", required_argument, NULL, O_DNS_UPDATE},
	{"tsig-key", required_argument, NULL, O_TSIG_KEY},
	{"tsig-key-file", required_argument, NULL, O_TSIG_KEY_FILE},
	{"dns-update-zone", required_argument, NULL, O_DNS_UPDATE_ZONE},
	{"dns-account", no_argument, NULL, O_DNS_ACCOUNT},
	{"deploy-hook", required_argument, NULL, O_DEPLOY_HOOK},
	{"timeout", required_argument, NULL, O_TIMEOUT},
	{"force", no_argument, NULL, O_FORCE},
	{"reason", required_argument, NULL, O_REASON},
	{"with-cert-key", no_argument, NULL, O_WITH_CERT_KEY},
	{"eab-kid", required_argument, NULL, O_EAB_KID},
	{"eab-hmac-key", required_argument, NULL, O_EAB_HMAC_KEY},
	{"eab-alg", required_argument, NULL, O_EAB_ALG},
	{"preferred-chain", required_argument, NULL, O_PREFERRED_CHAIN},
	{"profile", required_argument, NULL, O_PROFILE},
	{"json", no_argument, NULL, O_JSON},
	{NULL, 0, NULL, 0},
};

/* Which verbs accept each verb-specific option. */
static int opt_verbs(int id)
{
	switch (id) {
	case O_EMAIL: return V_REGISTER | V_UPDATE | V_CERT;
	case O_AGREE_TOS: return V_REGISTER | V_CERT;
	case O_KEY_TYPE: return V_REGISTER | V_ROLLOVER | V_CERT;
	case O_ACCOUNT_KEY_TYPE: return V_CERT;
	case O_EAB_KID: case O_EAB_HMAC_KEY: case O_EAB_ALG: return V_REGISTER | V_CERT;
	case O_PREFERRED_CHAIN: case O_PROFILE: return V_CERT;
	case O_HTTP01_PORT: case O_HTTP01_BIND: case O_WEBROOT: case O_TLSALPN01_PORT:
	case O_TLSALPN01_BIND: case O_DNS_HOOK: case O_DEPLOY_HOOK: case O_TIMEOUT:
	case O_DNS_UPDATE: case O_TSIG_KEY: case O_TSIG_KEY_FILE: case O_DNS_UPDATE_ZONE:
	case O_DNS_ACCOUNT:
		return V_CERT;
	case O_FORCE: return V_RENEW;
	case O_REASON: case O_WITH_CERT_KEY: return V_REVOKE;
	default: return V_ALL;
	}
}

/* authorize takes issue's options but those of the certificate itself. */
static int verbs_of(int id)
{
	bool cert_only = id == O_KEY_TYPE || id == O_DEPLOY_HOOK || id == O_PREFERRED_CHAIN ||
			 id == O_PROFILE;

	return opt_verbs(id) | ((opt_verbs(id) & V_ISSUE) && !cert_only ? V_AUTHORIZE : 0);
}

static const char *opt_name(int id)
{
	for (const struct option *o = long_opts; o->name; o++)
		if (o->val == id)
			return o->name;
	return "?";
}

static void global_help(FILE *f)
{
	fprintf(f,
		"Usage: flint [GLOBAL OPTIONS] VERB [OPTIONS] [ARGUMENTS]\n"
		"\n"
		"flint is an ACME (RFC 8555) client: accounts, certificates, renewal, revocation.\n"
		"\n"
		"Verbs:\n"
		"  account register     create an account (--email, --agree-tos, --key-type, --eab-*)\n"
		"  account show         print the account as the server has it\n"
		"  account update       replace the contact addresses (--email)\n"
		"  account deactivate   deactivate the account for good\n"
		"  account rollover     switch the account to a new key (--key-type)\n"
		"  issue NAME...        obtain a certificate for the names\n"
		"  renew [NAME...]      renew the stored certificates that are due\n"
		"  revoke NAME          revoke the stored certificate of NAME\n"
		"  authorize NAME...    pre-authorize names (newAuthz) so a later issue needs no challenge\n"
		"\n"
		"Global options:\n"
		"  --server URL         the ACME server's directory URL\n"
		"  --ca-bundle FILE     PEM roots trusted for the server's HTTPS (default: the system store)\n"
		"  --state-dir DIR      accounts and certificates (default: /var/lib/flint for root,\n"
		"                       else $XDG_STATE_HOME/flint or ~/.local/state/flint)\n"
		"  -q, --quiet          errors only (for cron)\n"
		"  -v, --verbose        more detail (every request)\n"
		"  -h, --help           this help; `flint VERB --help` for a verb's options\n"
		"  --version            print the version\n"
		"  --json               results as JSON on stdout: issue/renew one object per\n"
		"                       certificate {name, names, serial, not_before, not_after,\n"
		"                       fullchain, key, renewed}, errors {error, identifier, problem},\n"
		"                       account show the account object; same exit statuses\n"
		"\n"
		"Exit status: 0 success (renew: at least one certificate renewed), 1 error,\n"
		"2 bad command line, 3 renew found nothing due.\n"
		"Files: STATE/accounts/HOST/PATH/account.{key,json}, STATE/certs/NAME/{cert,chain,\n"
		"fullchain,key}.pem, renewal.json, previous/. See flint(1).\n");
}

static void verb_help(const char *name, const char *sub)
{
	bool any = false;

	for (size_t i = 0; i < N_VERBS; i++) {
		if (strcmp(verbs[i].name, name) != 0 || (sub && verbs[i].sub && strcmp(verbs[i].sub, sub)))
			continue;
		printf("%sUsage: flint [GLOBAL OPTIONS] %s\n\n%s", any ? "\n" : "", verbs[i].usage,
		       verbs[i].help);
		any = true;
	}
	if (!any)
		global_help(stdout);
}

static int parse_int(const char *s, int lo, int hi, const char *what, int *ret)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v < lo || v > hi) {
		flint_error("--%s %s: expected a number from %d to %d", what, s, lo, hi);
		return -1;
	}
	*ret = (int)v;
	return 0;
}

static int run(int argc, char **argv)
{
	struct flint_opts o = {.reason = -1};
	const struct verb_info *vi = NULL;
	bool seen[O__END - 256] = {false};
	int c, code = FLINT_EXIT_USAGE;
	bool help = false, version = false;
	enum flint_verbosity verbosity = FLINT_NORMAL;
	char **rest;
	size_t n_rest;

	o.emails = calloc((size_t)argc + 1, sizeof(*o.emails));
	if (!o.emails) {
		flint_error("out of memory");
		return FLINT_EXIT_ERROR;
	}
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":qvh", long_opts, NULL)) != -1) {
		if (c >= 256 && c < O__END)
			seen[c - 256] = true;
		switch (c) {
		case 'q': verbosity = FLINT_QUIET; break;
		case 'v': verbosity = FLINT_VERBOSE; break;
		case 'h': help = true; break;
		case O_VERSION: version = true; break;
		case O_SERVER: o.server = optarg; break;
		case O_CA_BUNDLE: o.ca_bundle = optarg; break;
		case O_STATE_DIR: o.state_dir = optarg; break;
		case O_EMAIL: o.emails[o.n_emails++] = optarg; break;
		case O_AGREE_TOS: o.agree_tos = true; break;
		case O_KEY_TYPE: o.key_type = optarg; break;
		case O_ACCOUNT_KEY_TYPE: o.account_key_type = optarg; break;
		case O_HTTP01_PORT:
			if (parse_int(optarg, 1, 65535, "http01-port", &o.solver.http01_port) < 0)
				goto out;
			o.solver_set = true;
			break;
		case O_HTTP01_BIND: o.solver.http01_bind = optarg; o.solver_set = true; break;
		case O_WEBROOT: o.solver.webroot = optarg; o.solver_set = true; break;
		case O_TLSALPN01_PORT:
			if (parse_int(optarg, 1, 65535, "tlsalpn01-port", &o.solver.tlsalpn01_port) < 0)
				goto out;
			o.solver_set = true;
			break;
		case O_TLSALPN01_BIND: o.solver.tlsalpn01_bind = optarg; o.solver_set = true; break;
		case O_DNS_HOOK: o.solver.dns_hook = optarg; o.solver_set = true; break;
		case O_DNS_UPDATE: o.solver.dns_update_server = optarg; o.solver_set = true; break;
		case O_TSIG_KEY: o.solver.tsig_key = optarg; o.solver_set = true; break;
		case O_TSIG_KEY_FILE: o.solver.tsig_key_file = optarg; o.solver_set = true; break;
		case O_DNS_UPDATE_ZONE: o.solver.dns_update_zone = optarg; o.solver_set = true; break;
		case O_DNS_ACCOUNT: o.solver.dns_account = true; o.solver_set = true; break;
		case O_DEPLOY_HOOK: o.deploy_hook = optarg; break;
		case O_TIMEOUT:
			if (parse_int(optarg, 1, 86400, "timeout", &o.timeout) < 0)
				goto out;
			break;
		case O_FORCE: o.force = true; break;
		case O_REASON:
			if (parse_int(optarg, 0, 10, "reason", &o.reason) < 0)
				goto out;
			break;
		case O_WITH_CERT_KEY: o.with_cert_key = true; break;
		case O_EAB_KID: o.eab_kid = optarg; break;
		case O_EAB_HMAC_KEY: o.eab_hmac_key = optarg; break;
		case O_EAB_ALG: o.eab_alg = optarg; break;
		case O_PREFERRED_CHAIN: o.preferred_chain = optarg; break;
		case O_PROFILE: o.profile = optarg; break;
		case O_JSON: o.json = true; break;
		case ':':
			if (optopt >= 256)
				flint_error("--%s needs an argument", opt_name(optopt));
			else
				flint_error("%s needs an argument", argv[optind - 1]);
			goto out;
		default:
			if (optopt > 0 && optopt < 256)
				flint_error("unknown option -%c (see flint --help)", optopt);
			else
				flint_error("unknown option %s (see flint --help)", argv[optind - 1]);
			goto out;
		}
	}
	flint_set_verbosity(verbosity);
	flint_set_json(o.json);
	rest = argv + optind;
	n_rest = (size_t)(argc - optind);
	if (version) {
		printf("flint %s\n", FLINT_VERSION);
		code = FLINT_EXIT_OK;
		goto out;
	}
	if (n_rest == 0) {
		if (help) {
			global_help(stdout);
			code = FLINT_EXIT_OK;
		} else {
			global_help(stderr);
		}
		goto out;
	}
	if (help) {
		verb_help(rest[0], n_rest > 1 ? rest[1] : NULL);
		code = FLINT_EXIT_OK;
		goto out;
	}
	for (size_t i = 0; i < N_VERBS && !vi; i++) {
		if (strcmp(verbs[i].name, rest[0]) != 0)
			continue;
		if (!verbs[i].sub)
			vi = &verbs[i];
		else if (n_rest > 1 && !strcmp(verbs[i].sub, rest[1]))
			vi = &verbs[i];
	}
	if (!vi) {
		if (!strcmp(rest[0], "account"))
			flint_error("account needs one of: register, show, update, deactivate, rollover");
		else
			flint_error("unknown verb %s (see flint --help)", rest[0]);
		goto out;
	}
	for (int id = 256; id < O__END; id++) {
		if (seen[id - 256] && !(verbs_of(id) & vi->verb)) {
			flint_error("--%s does not apply to %s%s%s", opt_name(id), vi->name,
				    vi->sub ? " " : "", vi->sub ? vi->sub : "");
			goto out;
		}
	}
	if (o.solver.dns_account && !o.solver.dns_hook && !o.solver.dns_update_server) {
		flint_error("--dns-account needs --dns-hook or --dns-update (it changes which "
			    "challenge they answer)");
		goto out;
	}
	o.args = rest + (vi->sub ? 2 : 1);
	o.n_args = n_rest - (vi->sub ? 2 : 1);
	if ((vi->verb & V_ACCOUNT) && o.n_args) {
		flint_error("account %s takes no arguments (got %s)", vi->sub, o.args[0]);
		goto out;
	}
	if (vi->verb & V_ACCOUNT)
		code = flint_cmd_account(&o, vi->sub);
	else if (vi->verb == V_ISSUE)
		code = flint_cmd_issue(&o);
	else if (vi->verb == V_RENEW)
		code = flint_cmd_renew(&o);
	else if (vi->verb == V_AUTHORIZE)
		code = flint_cmd_authorize(&o);
	else
		code = flint_cmd_revoke(&o);
out:
	free(o.emails);
	return code;
}

int main(int argc, char **argv)
{
	int code;

	signal(SIGPIPE, SIG_IGN);
	flint_interrupt_install();
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "flint: cannot initialise libcurl\n");
		return FLINT_EXIT_ERROR;
	}
	code = run(argc, argv);
	curl_global_cleanup();
	return code;
}
