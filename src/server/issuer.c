/* The CA hierarchy and signing: root/intermediate/serving-certificate files,
 * end-entity issuance (RFC 8555 §7.4.2, RFC 5280 §4 profile), CRLs (RFC 5280 §5). */
#include "issuer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "digest.h"
#include "error.h"
#include "file.h"
#include "jwk.h"
#include "pem.h"
#include "x509util.h"

#define DAY (INT64_C(86400))
#define ROOT_DAYS 3650
#define INTERMEDIATE_DAYS 1825
#define LEAF_DAYS 90
#define SERVER_DAYS 90
#define SERVER_RENEW_DAYS 7
#define BACKDATE 3600
#define CRL_HOURS 24
#define INTER_RSA_BITS 3072 /* the only RSA key: intermediate_key "rsa" */

struct flint_issuer {
	char *root_path, *root_key_path, *inter_path, *inter_key_path;
	char *server_path, *server_key_path;
	char *aia_url, *crldp_url; /* NULL without base_url */
	char *ocsp_url;            /* base_url + "/ocsp" with the OCSP responder, else NULL */
	int crl_shards;            /* 0: one CRL; else certificates name crldp_url/K */
	X509 *root, *inter;
	EVP_PKEY *inter_key;
	char *root_pem, *inter_pem;
	/* optional alternate chain: a second root and the intermediate (same
	 * subject and key) cross-signed by it */
	char *alt_root_path, *alt_root_key_path, *cross_path;
	X509 *alt_root, *cross;
	char *alt_root_pem, *cross_pem;
	unsigned char *inter_der;
	size_t inter_der_len;
	int64_t inter_not_after;
	pthread_mutex_t lock; /* signing with inter_key and last_crl_number */
	int64_t last_crl_number;
	/* the extensions every leaf of one kind shares, made once (from their
	 * configuration strings, that was ~1 % of an issuance's CPU) */
	X509_EXTENSION *leaf_bc, *leaf_ku_ec, *leaf_ku_rsa, *leaf_aki;
	X509_EXTENSION *leaf_eku[3]; /* serverAuth, clientAuth, both */
};

/* ---- files ---- */

static char *path_join(const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);
	char *p = malloc(a + b + 2);

	if (!p)
		return NULL;
	memcpy(p, dir, a);
	p[a] = '/';
	memcpy(p + a + 1, name, b + 1);
	return p;
}

/* mkdir -p with 0700, and path must then be a directory. */
static int mkdir_p(const char *path)
{
	struct stat st;
	int r = flint_file_mkdirs(path, 0700, NULL);

	if (r < 0)
		return r;
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return FLINT_EIO;
	return 0;
}

/* 1 present, 0 absent, <0 error. */
static int file_exists(const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0)
		return 1;
	return errno == ENOENT ? 0 : FLINT_EIO;
}

static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

static int load_cert(const char *path, X509 **ret)
{
	BIO *b = BIO_new_file(path, "r");
	X509 *x;

	if (!b)
		return FLINT_EIO;
	x = PEM_read_bio_X509(b, NULL, no_passphrase, NULL);
	BIO_free(b);
	if (!x)
		return FLINT_ECRYPTO;
	*ret = x;
	return 0;
}

static int load_key(const char *path, EVP_PKEY **ret)
{
	BIO *b = BIO_new_file(path, "r");
	EVP_PKEY *k;

	if (!b)
		return FLINT_EIO;
	k = PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL);
	BIO_free(b);
	if (!k)
		return FLINT_ECRYPTO;
	*ret = k;
	return 0;
}

static int cert_pem(X509 *x, char **ret, size_t *ret_len)
{
	BIO *b = BIO_new(BIO_s_mem());
	int r = FLINT_ECRYPTO;

	if (!b)
		return FLINT_ENOMEM;
	if (PEM_write_bio_X509(b, x) != 1)
		goto out;
	r = flint_bio_string(b, ret, ret_len);
out:
	BIO_free(b);
	return r;
}

static int write_key(const char *path, EVP_PKEY *k)
{
	char *pem = NULL;
	size_t len = 0;
	int r = flint_key_to_pem(k, &pem, &len);

	if (r < 0)
		return r;
	r = flint_file_write_atomic(path, pem, len, 0600, NULL);
	OPENSSL_cleanse(pem, len);
	free(pem);
	return r;
}

/* x in PEM followed by extra_pem (NULL: nothing), NUL-terminated. */
static int chain_pem(X509 *x, const char *extra_pem, char **ret, size_t *ret_len)
{
	char *pem = NULL, *all;
	size_t len, elen = extra_pem ? strlen(extra_pem) : 0;
	int r;

	r = cert_pem(x, &pem, &len);
	if (r < 0)
		return r;
	all = realloc(pem, len + elen + 1);
	if (!all) {
		free(pem);
		return FLINT_ENOMEM;
	}
	memcpy(all + len, elen ? extra_pem : "", elen + 1);
	*ret = all;
	if (ret_len)
		*ret_len = len + elen;
	return 0;
}

static int write_certs(const char *path, X509 *x, const char *extra_pem)
{
	char *pem = NULL;
	size_t len;
	int r;

	r = chain_pem(x, extra_pem, &pem, &len);
	if (r == 0)
		r = flint_file_write_atomic(path, pem, len, 0644, NULL);
	free(pem);
	return r;
}

/* ---- certificate building ---- */

static const EVP_MD *sign_md(const EVP_PKEY *signer)
{
	if (EVP_PKEY_is_a(signer, "EC") && EVP_PKEY_get_bits(signer) >= 384)
		return flint_md(FLINT_MD_SHA384);
	return flint_md(FLINT_MD_SHA256);
}

static int to_asn1_time(int64_t t, ASN1_TIME **ret)
{
	ASN1_TIME *a;

	if (t < 0 || (int64_t)(time_t)t != t)
		return FLINT_EINVAL;
	a = ASN1_TIME_set(NULL, (time_t)t);
	if (!a)
		return FLINT_ECRYPTO;
	*ret = a;
	return 0;
}

/* Positive 128-bit serial: 16 random bytes, top bit clear and the next set so
 * every serial has the same length (126 random bits). */
static int random_serial(ASN1_INTEGER **ret)
{
	unsigned char b[16];
	BIGNUM *bn = NULL;
	ASN1_INTEGER *ai = NULL;
	int r = FLINT_ECRYPTO;

	if (RAND_bytes(b, sizeof(b)) != 1)
		goto out;
	b[0] = (unsigned char)((b[0] & 0x7f) | 0x40);
	bn = BN_bin2bn(b, sizeof(b), NULL);
	if (!bn)
		goto out;
	ai = BN_to_ASN1_INTEGER(bn, NULL);
	if (!ai)
		goto out;
	*ret = ai;
	r = 0;
out:
	BN_free(bn);
	return r;
}

/* Version 3, random serial, names, validity and public key. */
/* spki (or, when NULL, pub) becomes x's public key: spki's algorithm and
 * bits as they are, once it is known to hold pub. */
static int set_pubkey(X509 *x, EVP_PKEY *pub, const X509_PUBKEY *spki)
{
	const unsigned char *bits = NULL;
	X509_ALGOR *alg = NULL;
	int n = 0, r;

	if (!spki)
		return X509_set_pubkey(x, pub) == 1 ? 0 : FLINT_ECRYPTO;
	r = flint_spki_holds(spki, pub);
	if (r != 1) /* unreadable, or not pub */
		return r == FLINT_ENOMEM ? r : FLINT_EINVAL;
	if (X509_PUBKEY_get0_param(NULL, &bits, &n, &alg, spki) != 1)
		return FLINT_EINVAL;
	return flint_spki_set(X509_get_X509_PUBKEY(x), alg, bits, n);
}

static int cert_new(EVP_PKEY *pub, const X509_PUBKEY *spki, const X509_NAME *subject,
		    const X509_NAME *issuer, int64_t nb, int64_t na, X509 **ret)
{
	X509 *x = X509_new();
	ASN1_INTEGER *serial = NULL;
	ASN1_TIME *tb = NULL, *ta = NULL;
	int r;

	if (!x)
		return FLINT_ENOMEM;
	r = random_serial(&serial);
	if (r < 0)
		goto out;
	r = to_asn1_time(nb, &tb);
	if (r < 0)
		goto out;
	r = to_asn1_time(na, &ta);
	if (r < 0)
		goto out;
	r = FLINT_ECRYPTO;
	if (X509_set_version(x, X509_VERSION_3) != 1 || X509_set_serialNumber(x, serial) != 1 ||
	    X509_set_subject_name(x, subject) != 1 || X509_set_issuer_name(x, issuer) != 1 ||
	    X509_set1_notBefore(x, tb) != 1 || X509_set1_notAfter(x, ta) != 1)
		goto out;
	r = set_pubkey(x, pub, spki);
	if (r < 0)
		goto out;
	*ret = x;
	x = NULL;
	r = 0;
out:
	X509_free(x);
	ASN1_INTEGER_free(serial);
	ASN1_TIME_free(tb);
	ASN1_TIME_free(ta);
	return r;
}

/* Fixed-text extensions only; anything carrying configured strings (URLs,
 * names) is built structurally so commas cannot change its meaning. */
static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *e = X509V3_EXT_nconf_nid(NULL, ctx, nid, value);
	int r = FLINT_ECRYPTO;

	if (!e)
		return FLINT_ECRYPTO;
	if (X509_add_ext(x, e, -1) == 1)
		r = 0;
	X509_EXTENSION_free(e);
	return r;
}

static int ca_name(const char *what, X509_NAME **ret)
{
	unsigned char rnd[3];
	char cn[64];
	X509_NAME *n = NULL;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return FLINT_ECRYPTO;
	snprintf(cn, sizeof(cn), "flint %s CA %02x%02x%02x", what, rnd[0], rnd[1], rnd[2]);
	n = X509_NAME_new();
	if (!n)
		return FLINT_ENOMEM;
	if (X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8, (const unsigned char *)"flint", -1,
				       -1, 0) != 1 ||
	    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
				       0) != 1) {
		X509_NAME_free(n);
		return FLINT_ECRYPTO;
	}
	*ret = n;
	return 0;
}

/* A fixed-text extension, for add_ext. */
struct ext {
	int nid;
	const char *value;
};

#define N_EXTS(a) (sizeof(a) / sizeof((a)[0]))

/* An unsigned certificate for pub (cert_new) carrying the extensions exts,
 * issued by issuer or, when that is NULL, by itself. */
static int cert_start(EVP_PKEY *pub, const X509_PUBKEY *spki, const X509_NAME *subject,
		      X509 *issuer, int64_t nb, int64_t na, const struct ext *exts, size_t n,
		      X509 **ret)
{
	X509 *x = NULL;
	X509V3_CTX ctx;
	int r;

	r = cert_new(pub, spki, subject, issuer ? X509_get_subject_name(issuer) : subject, nb, na,
		     &x);
	if (r < 0)
		return r;
	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	for (size_t i = 0; i < n; i++) {
		r = add_ext(x, &ctx, exts[i].nid, exts[i].value);
		if (r < 0) {
			X509_free(x);
			return r;
		}
	}
	*ret = x;
	return 0;
}

/* Signs *x with key and moves it to *ret. */
static int cert_sign(X509 **x, EVP_PKEY *key, X509 **ret)
{
	if (X509_sign(*x, key, sign_md(key)) <= 0)
		return FLINT_ECRYPTO;
	*ret = *x;
	*x = NULL;
	return 0;
}

/* A CA certificate for key with a fresh "flint <what> CA" name, issued by
 * issuer with issuer_key (issuer NULL: self-signed with key). */
static int make_ca(const char *what, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
		   int64_t nb, int64_t na, const struct ext *exts, size_t n, X509 **ret)
{
	X509_NAME *name = NULL;
	X509 *x = NULL;
	int r;

	r = ca_name(what, &name);
	if (r < 0)
		goto out;
	r = cert_start(key, NULL, name, issuer, nb, na, exts, n, &x);
	if (r < 0)
		goto out;
	r = cert_sign(&x, issuer_key, ret);
out:
	X509_free(x);
	X509_NAME_free(name);
	return r;
}

static int make_root(EVP_PKEY *key, X509 **ret)
{
	static const struct ext exts[] = {
		{ NID_basic_constraints, "critical,CA:TRUE" },
		{ NID_key_usage, "critical,keyCertSign,cRLSign" },
		{ NID_subject_key_identifier, "hash" },
	};
	int64_t now = (int64_t)time(NULL);

	return make_ca("root", key, NULL, key, now - BACKDATE, now + ROOT_DAYS * DAY, exts,
		       N_EXTS(exts), ret);
}

static int make_intermediate(EVP_PKEY *key, X509 *root, EVP_PKEY *root_key, X509 **ret)
{
	static const struct ext exts[] = {
		{ NID_basic_constraints, "critical,CA:TRUE,pathlen:0" },
		{ NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature" },
		{ NID_subject_key_identifier, "hash" },
		{ NID_authority_key_identifier, "keyid:always" },
		{ NID_ext_key_usage, "serverAuth,clientAuth" },
	};
	int64_t now = (int64_t)time(NULL), na = now + INTERMEDIATE_DAYS * DAY, root_na;
	int r;

	r = flint_asn1_time_unix(X509_get0_notAfter(root), &root_na);
	if (r < 0)
		return r;
	if (root_na < na)
		na = root_na;
	return make_ca("intermediate", key, root, root_key, now - BACKDATE, na, exts,
		       N_EXTS(exts), ret);
}

/* The intermediate again (same subject, key and extensions) issued by
 * another root: a cross-signed certificate for the alternate chain. */
static int make_cross(X509 *inter, EVP_PKEY *inter_key, X509 *root, EVP_PKEY *root_key,
		      X509 **ret)
{
	static const struct ext exts[] = {
		{ NID_basic_constraints, "critical,CA:TRUE,pathlen:0" },
		{ NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature" },
		{ NID_subject_key_identifier, "hash" },
		{ NID_authority_key_identifier, "keyid:always" },
		{ NID_ext_key_usage, "serverAuth,clientAuth" },
	};
	int64_t na, root_na;
	X509 *x = NULL;
	int r;

	if ((r = flint_asn1_time_unix(X509_get0_notAfter(inter), &na)) < 0 ||
	    (r = flint_asn1_time_unix(X509_get0_notAfter(root), &root_na)) < 0)
		return r;
	if (root_na < na)
		na = root_na;
	r = cert_start(inter_key, NULL, X509_get_subject_name(inter), root,
		       (int64_t)time(NULL) - BACKDATE, na, exts, N_EXTS(exts), &x);
	if (r == 0)
		r = cert_sign(&x, root_key, ret);
	X509_free(x);
	return r;
}

/* Builds the SAN list from ids, dropping duplicates. */
static int build_san(const struct flint_identifier *ids, size_t n, GENERAL_NAMES **ret)
{
	GENERAL_NAMES *names = sk_GENERAL_NAME_new_null();
	GENERAL_NAME *g = NULL;
	int r = FLINT_ENOMEM;

	if (!names)
		goto out;
	for (size_t i = 0; i < n; i++) {
		bool dup = false;

		r = flint_general_name_of(ids[i].type, ids[i].value, &g);
		if (r < 0)
			goto out;
		for (int j = 0; j < sk_GENERAL_NAME_num(names) && !dup; j++)
			dup = GENERAL_NAME_cmp(sk_GENERAL_NAME_value(names, j), g) == 0;
		if (dup) {
			GENERAL_NAME_free(g);
		} else if (!sk_GENERAL_NAME_push(names, g)) {
			r = FLINT_ENOMEM;
			goto out;
		}
		g = NULL;
	}
	if (sk_GENERAL_NAME_num(names) == 0) {
		r = FLINT_EINVAL;
		goto out;
	}
	*ret = names;
	names = NULL;
	r = 0;
out:
	GENERAL_NAME_free(g);
	GENERAL_NAMES_free(names);
	return r;
}

/* One accessDescription (RFC 5280 §4.2.2.1) appended to aia. */
static int add_access(AUTHORITY_INFO_ACCESS *aia, int method, const char *url)
{
	ACCESS_DESCRIPTION *ad = ACCESS_DESCRIPTION_new();
	int r = FLINT_ENOMEM;

	if (!ad)
		goto out;
	GENERAL_NAME_free(ad->location);
	ad->location = NULL;
	r = flint_general_name_ia5(GEN_URI, url, &ad->location);
	if (r < 0)
		goto out;
	ASN1_OBJECT_free(ad->method);
	ad->method = OBJ_nid2obj(method);
	r = FLINT_ENOMEM;
	if (!sk_ACCESS_DESCRIPTION_push(aia, ad))
		goto out;
	ad = NULL;
	r = 0;
out:
	ACCESS_DESCRIPTION_free(ad);
	return r;
}

/* AIA: the OCSP responder (when there is one) and the issuer's certificate. */
static int add_aia(X509 *x, const char *ocsp_url, const char *ca_issuers_url)
{
	AUTHORITY_INFO_ACCESS *aia = AUTHORITY_INFO_ACCESS_new();
	int r = FLINT_ENOMEM;

	if (!aia)
		goto out;
	if (ocsp_url && (r = add_access(aia, NID_ad_OCSP, ocsp_url)) < 0)
		goto out;
	if ((r = add_access(aia, NID_ad_ca_issuers, ca_issuers_url)) < 0)
		goto out;
	r = X509_add1_ext_i2d(x, NID_info_access, aia, 0, X509V3_ADD_REPLACE) == 1 ? 0
										: FLINT_ECRYPTO;
out:
	AUTHORITY_INFO_ACCESS_free(aia);
	return r;
}

static int add_crldp(X509 *x, const char *url)
{
	CRL_DIST_POINTS *dps = sk_DIST_POINT_new_null();
	DIST_POINT *dp = DIST_POINT_new();
	GENERAL_NAME *g = NULL;
	int r = FLINT_ENOMEM;

	if (!dps || !dp)
		goto out;
	dp->distpoint = DIST_POINT_NAME_new();
	if (!dp->distpoint)
		goto out;
	dp->distpoint->type = 0;
	dp->distpoint->name.fullname = GENERAL_NAMES_new();
	if (!dp->distpoint->name.fullname)
		goto out;
	r = flint_general_name_ia5(GEN_URI, url, &g);
	if (r < 0)
		goto out;
	r = FLINT_ENOMEM;
	if (!sk_GENERAL_NAME_push(dp->distpoint->name.fullname, g))
		goto out;
	g = NULL;
	if (!sk_DIST_POINT_push(dps, dp))
		goto out;
	dp = NULL;
	r = X509_add1_ext_i2d(x, NID_crl_distribution_points, dps, 0, X509V3_ADD_REPLACE) == 1
		    ? 0
		    : FLINT_ECRYPTO;
out:
	GENERAL_NAME_free(g);
	DIST_POINT_free(dp);
	CRL_DIST_POINTS_free(dps);
	return r;
}

/* The leaf extensions that depend only on the issuer and the kind of leaf. */
static int make_leaf_exts(struct flint_issuer *is)
{
	static const char *const eku[] = {"serverAuth", "clientAuth", "serverAuth,clientAuth"};
	X509V3_CTX ctx;

	X509V3_set_ctx(&ctx, is->inter, NULL, NULL, NULL, 0);
	if (!(is->leaf_bc = X509V3_EXT_nconf_nid(NULL, NULL, NID_basic_constraints,
						 "critical,CA:FALSE")) ||
	    !(is->leaf_ku_ec = X509V3_EXT_nconf_nid(NULL, NULL, NID_key_usage,
						    "critical,digitalSignature")) ||
	    !(is->leaf_ku_rsa = X509V3_EXT_nconf_nid(NULL, NULL, NID_key_usage,
						     "critical,digitalSignature,keyEncipherment")) ||
	    !(is->leaf_aki = X509V3_EXT_nconf_nid(NULL, &ctx, NID_authority_key_identifier,
						  "keyid:always")))
		return FLINT_ECRYPTO;
	for (size_t i = 0; i < 3; i++)
		if (!(is->leaf_eku[i] = X509V3_EXT_nconf_nid(NULL, NULL, NID_ext_key_usage, eku[i])))
			return FLINT_ECRYPTO;
	return 0;
}

/* RFC 5280 §4.2.1.2 method 1 (what OpenSSL's "hash" makes): the SHA-1 of
 * the subjectPublicKey bits. */
static int add_ski(X509 *x)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	ASN1_OCTET_STRING *ski = ASN1_OCTET_STRING_new();
	int r = FLINT_ECRYPTO;

	if (!ski)
		return FLINT_ENOMEM;
	if (X509_pubkey_digest(x, EVP_sha1(), md, &len) == 1 &&
	    ASN1_OCTET_STRING_set(ski, md, (int)len) == 1 &&
	    X509_add1_ext_i2d(x, NID_subject_key_identifier, ski, 0, X509V3_ADD_APPEND) == 1)
		r = 0;
	ASN1_OCTET_STRING_free(ski);
	return r;
}

/* End-entity certificate per the profile p: an empty subject (SAN critical, RFC 5280
 * §4.2.1.6). Times already validated by the caller. */
static int make_leaf(struct flint_issuer *is, EVP_PKEY *key, const GENERAL_NAMES *san,
		     int64_t nb, int64_t na, const struct flint_leaf_params *p, X509 **ret)
{
	X509_EXTENSION *eku = is->leaf_eku[p->server_auth && p->client_auth ? 2
					   : p->client_auth		 ? 1
									 : 0];
	X509_EXTENSION *ku = EVP_PKEY_is_a(key, "RSA") ? is->leaf_ku_rsa : is->leaf_ku_ec;
	X509_NAME *empty = X509_NAME_new();
	X509 *x = NULL;
	bool locked = false;
	int r = FLINT_ENOMEM;

	if (!empty)
		goto out;
	r = FLINT_EINVAL;
	if (p->common_name && (strlen(p->common_name) == 0 || strlen(p->common_name) > 64))
		goto out;
	r = FLINT_ECRYPTO;
	if (p->common_name &&
	    X509_NAME_add_entry_by_NID(empty, NID_commonName, MBSTRING_UTF8,
				       (const unsigned char *)p->common_name, -1, -1, 0) != 1)
		goto out;
	r = FLINT_ENOMEM;
	if (pthread_mutex_lock(&is->lock) != 0) {
		r = FLINT_EIO;
		goto out;
	}
	locked = true;
	r = cert_start(key, p->subject_spki, empty, is->inter, nb, na, NULL, 0, &x);
	if (r < 0)
		goto out;
	r = FLINT_ECRYPTO;
	/* in the order they always had: basic constraints, key usage, extended
	 * key usage, subject and authority key identifiers, names, ... */
	if (X509_add_ext(x, is->leaf_bc, -1) != 1 || X509_add_ext(x, ku, -1) != 1 ||
	    X509_add_ext(x, eku, -1) != 1 || add_ski(x) < 0 || X509_add_ext(x, is->leaf_aki, -1) != 1)
		goto out;
	/* RFC 5280 §4.2.1.6: critical when the subject is empty */
	if (X509_add1_ext_i2d(x, NID_subject_alt_name, (void *)san, p->common_name ? 0 : 1,
			      X509V3_ADD_REPLACE) != 1)
		goto out;
	if (is->aia_url && (r = add_aia(x, is->ocsp_url, is->aia_url)) < 0)
		goto out;
	if (is->crldp_url) {
		char *hex = NULL, *url = NULL;
		int k = -1;

		if (is->crl_shards && (r = flint_issuer_serial_hex(x, &hex)) == 0)
			k = flint_issuer_crl_shard(is, hex);
		if (k >= 0 && asprintf(&url, "%s/%d", is->crldp_url, k) < 0)
			url = NULL;
		r = is->crl_shards && !url ? FLINT_ENOMEM : add_crldp(x, url ? url : is->crldp_url);
		free(hex);
		free(url);
		if (r < 0)
			goto out;
	}
	r = cert_sign(&x, is->inter_key, ret);
out:
	if (locked)
		pthread_mutex_unlock(&is->lock);
	X509_free(x);
	X509_NAME_free(empty);
	return r;
}

/* ---- serving certificate ---- */

/* listen_host without IPv6 brackets; *ret_ip says whether it is an IP literal. */
static int host_plain(const char *host, char **ret, bool *ret_ip)
{
	size_t len = strlen(host);
	char *h;
	unsigned char buf[16];

	if (len >= 2 && host[0] == '[' && host[len - 1] == ']')
		h = strndup(host + 1, len - 2);
	else
		h = strdup(host);
	if (!h)
		return FLINT_ENOMEM;
	*ret_ip = inet_pton(AF_INET, h, buf) == 1 || inet_pton(AF_INET6, h, buf) == 1;
	*ret = h;
	return 0;
}

/* Is x the certificate of key, validly signed by issuer with issuer_key? */
static bool cert_fits(X509 *x, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key)
{
	return X509_check_private_key(x, key) == 1 &&
	       X509_check_issued(issuer, x) == X509_V_OK && X509_verify(x, issuer_key) == 1;
}

static bool server_cert_ok(struct flint_issuer *is, const char *host, bool host_ip)
{
	X509 *x = NULL;
	EVP_PKEY *k = NULL;
	time_t renew = time(NULL) + (time_t)(SERVER_RENEW_DAYS * DAY);
	bool ok = false;

	if (load_cert(is->server_path, &x) < 0 || load_key(is->server_key_path, &k) < 0)
		goto out;
	if (!cert_fits(x, k, is->inter, is->inter_key))
		goto out;
	if (X509_cmp_time(X509_get0_notAfter(x), &renew) <= 0)
		goto out;
	if (host_ip)
		ok = X509_check_ip_asc(x, host, 0) == 1;
	else
		ok = X509_check_host(x, host, 0,
				     X509_CHECK_FLAG_NEVER_CHECK_SUBJECT |
					     X509_CHECK_FLAG_NO_WILDCARDS,
				     NULL) == 1;
out:
	ERR_clear_error(); /* a stale certificate is not an error */
	X509_free(x);
	EVP_PKEY_free(k);
	return ok;
}

static int ensure_server(struct flint_issuer *is, const char *listen_host)
{
	char *host = NULL;
	bool host_ip = false;
	struct flint_identifier ids[4];
	size_t n = 0;
	GENERAL_NAMES *san = NULL;
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	int64_t now = (int64_t)time(NULL);
	int r;

	r = host_plain(listen_host && listen_host[0] ? listen_host : "localhost", &host, &host_ip);
	if (r < 0)
		goto out;
	if (server_cert_ok(is, host, host_ip))
		goto out;
	ids[n++] = (struct flint_identifier){ host_ip ? "ip" : "dns", host };
	ids[n++] = (struct flint_identifier){ "dns", "localhost" };
	ids[n++] = (struct flint_identifier){ "ip", "127.0.0.1" };
	ids[n++] = (struct flint_identifier){ "ip", "::1" };
	r = build_san(ids, n, &san);
	if (r < 0)
		goto out;
	r = flint_key_generate(FLINT_KEY_P256, 0, &key);
	if (r < 0)
		goto out;
	r = make_leaf(is, key, san, now - BACKDATE, now + SERVER_DAYS * DAY,
		      &(struct flint_leaf_params){.server_auth = true}, &x);
	if (r < 0)
		goto out;
	r = write_key(is->server_key_path, key);
	if (r < 0)
		goto out;
	r = write_certs(is->server_path, x, is->inter_pem);
out:
	free(host);
	GENERAL_NAMES_free(san);
	EVP_PKEY_free(key);
	X509_free(x);
	return r;
}

/* ---- open ---- */

/* Loads a CA key and its certificate. A key file that is absent is generated
 * and stored; its certificate is then stale and, like an absent one, comes
 * back NULL. */
static int load_ca(const char *key_path, const char *cert_path, enum flint_key_type type,
		   EVP_PKEY **ret_key, X509 **ret_cert)
{
	EVP_PKEY *k = NULL;
	X509 *x = NULL;
	int r;

	r = file_exists(key_path);
	if (r < 0)
		goto out;
	if (r == 0) {
		r = flint_key_generate(type, INTER_RSA_BITS, &k);
		if (r < 0)
			goto out;
		r = write_key(key_path, k);
		if (r < 0)
			goto out;
	} else {
		r = load_key(key_path, &k);
		if (r < 0)
			goto out;
		r = file_exists(cert_path);
		if (r == 1)
			r = load_cert(cert_path, &x);
		if (r < 0)
			goto out;
	}
	*ret_key = k;
	*ret_cert = x;
	k = NULL;
	r = 0;
out:
	EVP_PKEY_free(k);
	return r;
}

static int set_paths(struct flint_issuer *is, const struct flint_issuer_options *opt)
{
	const char *d = opt->data_dir;

	is->root_path = path_join(d, "root.pem");
	is->root_key_path = path_join(d, "root.key");
	is->inter_path = path_join(d, "intermediate.pem");
	is->inter_key_path = path_join(d, "intermediate.key");
	is->server_path = path_join(d, "server.pem");
	is->server_key_path = path_join(d, "server.key");
	if (!is->root_path || !is->root_key_path || !is->inter_path || !is->inter_key_path ||
	    !is->server_path || !is->server_key_path)
		return FLINT_ENOMEM;
	if (opt->alternate_chain) {
		is->alt_root_path = path_join(d, "root-alt.pem");
		is->alt_root_key_path = path_join(d, "root-alt.key");
		is->cross_path = path_join(d, "intermediate-cross.pem");
		if (!is->alt_root_path || !is->alt_root_key_path || !is->cross_path)
			return FLINT_ENOMEM;
	}
	is->crl_shards = opt->crl_shards > 1 ? opt->crl_shards : 0;
	/* the URLs relying parties fetch: the plain-HTTP base when there is one */
	const char *pub = opt->public_url && opt->public_url[0] ? opt->public_url : opt->base_url;
	if (pub && pub[0]) {
		size_t len = strlen(pub);

		while (len > 0 && pub[len - 1] == '/')
			len--;
		if (asprintf(&is->aia_url, "%.*s/ca/intermediate.der", (int)len, pub) < 0) {
			is->aia_url = NULL;
			return FLINT_ENOMEM;
		}
		if (asprintf(&is->crldp_url, "%.*s/ca/crl", (int)len, pub) < 0) {
			is->crldp_url = NULL;
			return FLINT_ENOMEM;
		}
		if (opt->ocsp && asprintf(&is->ocsp_url, "%.*s/ocsp", (int)len, pub) < 0) {
			is->ocsp_url = NULL;
			return FLINT_ENOMEM;
		}
	}
	return 0;
}

/* The alternate chain: root-alt (P-384, created once like the root) and
 * the intermediate cross-signed by it, re-made when it no longer fits. */
static int load_alternate(struct flint_issuer *is)
{
	EVP_PKEY *key = NULL;
	int r;

	r = file_exists(is->alt_root_key_path);
	if (r == 0 && (r = file_exists(is->alt_root_path)) == 1)
		r = FLINT_EIO; /* a root without its key: the operator's to sort out */
	if (r < 0)
		goto out;
	if ((r = load_ca(is->alt_root_key_path, is->alt_root_path, FLINT_KEY_P384, &key,
			 &is->alt_root)) < 0)
		goto out;
	if (is->alt_root) {
		r = FLINT_ECRYPTO;
		if (X509_check_private_key(is->alt_root, key) != 1)
			goto out;
	} else if ((r = make_ca("alternate root", key, NULL, key, (int64_t)time(NULL) - BACKDATE,
				(int64_t)time(NULL) + ROOT_DAYS * DAY,
				(const struct ext[]){
					{ NID_basic_constraints, "critical,CA:TRUE" },
					{ NID_key_usage, "critical,keyCertSign,cRLSign" },
					{ NID_subject_key_identifier, "hash" },
				},
				3, &is->alt_root)) < 0 ||
		   (r = write_certs(is->alt_root_path, is->alt_root, NULL)) < 0) {
		goto out;
	}
	if ((r = file_exists(is->cross_path)) == 1 && (r = load_cert(is->cross_path, &is->cross)) < 0)
		goto out;
	if (is->cross && (!cert_fits(is->cross, is->inter_key, is->alt_root, key) ||
			  X509_NAME_cmp(X509_get_subject_name(is->cross),
					X509_get_subject_name(is->inter)) != 0)) {
		ERR_clear_error();
		X509_free(is->cross);
		is->cross = NULL;
	}
	if (!is->cross && ((r = make_cross(is->inter, is->inter_key, is->alt_root, key,
					   &is->cross)) < 0 ||
			   (r = write_certs(is->cross_path, is->cross, NULL)) < 0))
		goto out;
	r = 0;
out:
	EVP_PKEY_free(key);
	return r;
}

static int load_hierarchy(struct flint_issuer *is, const struct flint_issuer_options *opt)
{
	EVP_PKEY *root_key = NULL;
	bool rsa = opt->intermediate_key && strcmp(opt->intermediate_key, "rsa") == 0;
	int r;

	/* Root: a certificate without its key is an operator problem, not
	 * something to paper over by minting a new trust anchor. */
	r = file_exists(is->root_key_path);
	if (r == 0 && (r = file_exists(is->root_path)) == 1)
		r = FLINT_EIO;
	if (r < 0)
		goto out;
	r = load_ca(is->root_key_path, is->root_path, FLINT_KEY_P384, &root_key, &is->root);
	if (r < 0)
		goto out;
	if (is->root) {
		r = FLINT_ECRYPTO;
		if (X509_check_private_key(is->root, root_key) != 1)
			goto out;
	} else {
		r = make_root(root_key, &is->root);
		if (r < 0)
			goto out;
		r = write_certs(is->root_path, is->root, NULL);
		if (r < 0)
			goto out;
	}

	/* Intermediate: an existing key keeps its type whatever the option says;
	 * a key in a token is the token's, with the certificate from the data dir. */
	if (opt->intermediate_token_key) {
		r = FLINT_ECRYPTO;
		if (EVP_PKEY_up_ref(opt->intermediate_token_key) != 1)
			goto out;
		is->inter_key = opt->intermediate_token_key;
		r = file_exists(is->inter_path);
		if (r == 1)
			r = load_cert(is->inter_path, &is->inter);
	} else {
		r = load_ca(is->inter_key_path, is->inter_path, rsa ? FLINT_KEY_RSA : FLINT_KEY_P256,
			    &is->inter_key, &is->inter);
	}
	if (r < 0)
		goto out;
	if (is->inter && !cert_fits(is->inter, is->inter_key, is->root, root_key)) {
		ERR_clear_error(); /* stale: re-issued below */
		X509_free(is->inter);
		is->inter = NULL;
	}
	if (!is->inter) {
		r = make_intermediate(is->inter_key, is->root, root_key, &is->inter);
		if (r < 0)
			goto out;
		r = write_certs(is->inter_path, is->inter, NULL);
		if (r < 0)
			goto out;
	}
	r = flint_asn1_time_unix(X509_get0_notAfter(is->inter), &is->inter_not_after);
	if (r == 0 && opt->alternate_chain)
		r = load_alternate(is);
out:
	EVP_PKEY_free(root_key);
	return r;
}

static int make_blobs(struct flint_issuer *is)
{
	int r;

	r = cert_pem(is->root, &is->root_pem, NULL);
	if (r < 0)
		return r;
	r = cert_pem(is->inter, &is->inter_pem, NULL);
	if (r < 0)
		return r;
	if (is->cross && ((r = cert_pem(is->cross, &is->cross_pem, NULL)) < 0 ||
			  (r = cert_pem(is->alt_root, &is->alt_root_pem, NULL)) < 0))
		return r;
	return flint_der_encode((const ASN1_VALUE *)is->inter, ASN1_ITEM_rptr(X509), &is->inter_der,
				&is->inter_der_len);
}

int flint_issuer_open(const struct flint_issuer_options *opt, struct flint_issuer **ret)
{
	struct flint_issuer *is = NULL;
	char *lock_path = NULL;
	int lock_fd = -1, r;

	if (!opt || !opt->data_dir || !opt->data_dir[0] || !ret)
		return FLINT_EINVAL;
	if (opt->intermediate_key && opt->intermediate_key[0] &&
	    strcmp(opt->intermediate_key, "ecdsa") != 0 && strcmp(opt->intermediate_key, "rsa") != 0)
		return FLINT_EINVAL;
	is = calloc(1, sizeof(*is));
	if (!is)
		return FLINT_ENOMEM;
	if (pthread_mutex_init(&is->lock, NULL) != 0) {
		free(is);
		return FLINT_ENOMEM;
	}
	r = set_paths(is, opt);
	if (r < 0)
		goto out;
	r = mkdir_p(opt->data_dir);
	if (r < 0)
		goto out;
	/* Two flintd processes on one data_dir must not both mint a root. */
	r = FLINT_ENOMEM;
	lock_path = path_join(opt->data_dir, ".issuer.lock");
	if (!lock_path)
		goto out;
	r = FLINT_EIO;
	lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock_fd < 0 || flock(lock_fd, LOCK_EX) < 0)
		goto out;
	r = load_hierarchy(is, opt);
	if (r < 0)
		goto out;
	r = make_blobs(is);
	if (r < 0)
		goto out;
	r = make_leaf_exts(is);
	if (r < 0)
		goto out;
	r = ensure_server(is, opt->listen_host);
	if (r < 0)
		goto out;
	*ret = is;
	is = NULL;
out:
	if (lock_fd >= 0)
		close(lock_fd); /* releases the flock */
	free(lock_path);
	flint_issuer_free(is);
	return r;
}

/* ---- accessors ---- */

const char *flint_issuer_server_chain_path(const struct flint_issuer *is)
{
	return is->server_path;
}

const char *flint_issuer_server_key_path(const struct flint_issuer *is)
{
	return is->server_key_path;
}

const char *flint_issuer_root_path(const struct flint_issuer *is)
{
	return is->root_path;
}

const char *flint_issuer_root_pem(const struct flint_issuer *is)
{
	return is->root_pem;
}

const char *flint_issuer_intermediate_pem(const struct flint_issuer *is)
{
	return is->inter_pem;
}

const unsigned char *flint_issuer_intermediate_der(const struct flint_issuer *is, size_t *ret_len)
{
	if (ret_len)
		*ret_len = is->inter_der_len;
	return is->inter_der;
}

bool flint_issuer_is_keyid(const struct flint_issuer *is, const unsigned char *keyid,
			   size_t len)
{
	const ASN1_OCTET_STRING *ski = is ? X509_get0_subject_key_id(is->inter) : NULL;

	return ski && keyid && (size_t)ASN1_STRING_length(ski) == len &&
	       memcmp(ASN1_STRING_get0_data(ski), keyid, len) == 0;
}

const char *flint_issuer_alt_root_pem(const struct flint_issuer *is)
{
	return is->alt_root_pem;
}

int flint_issuer_alternate_chain(const struct flint_issuer *is, const unsigned char *leaf_der,
				 size_t len, char **ret)
{
	const unsigned char *p = leaf_der;
	X509 *leaf = NULL;
	int r = FLINT_ENOTFOUND;

	if (!is->cross_pem)
		return r;
	r = FLINT_EINVAL;
	if (!leaf_der || !(leaf = d2i_X509(NULL, &p, (long)len)) || p != leaf_der + len)
		goto out;
	r = chain_pem(leaf, is->cross_pem, ret, NULL);
out:
	X509_free(leaf);
	return r;
}

/* ---- issuance ---- */

int flint_issuer_serial_hex(const X509 *x, char **ret)
{
	BIGNUM *bn = NULL;
	char *hex = NULL, *s = NULL;
	int r = FLINT_EINVAL;

	if (!x || !ret)
		return FLINT_EINVAL;
	bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	if (!bn)
		goto out;
	r = FLINT_ECRYPTO;
	hex = BN_bn2hex(bn);
	if (!hex)
		goto out;
	r = FLINT_ENOMEM;
	s = strdup(hex);
	if (!s)
		goto out;
	for (char *p = s; *p; p++)
		if (*p >= 'A' && *p <= 'F')
			*p = (char)(*p - 'A' + 'a');
	*ret = s;
	r = 0;
out:
	OPENSSL_free(hex);
	BN_free(bn);
	return r;
}

int flint_issuer_issue(struct flint_issuer *is, EVP_PKEY *subject_key,
		       const struct flint_identifier *ids, size_t n_ids,
		       const struct flint_leaf_params *p, struct flint_issued **ret)
{
	struct flint_issued *c = NULL;
	GENERAL_NAMES *san = NULL;
	X509 *x = NULL;
	int64_t earliest = (int64_t)time(NULL) - BACKDATE, nb, na;
	int r = FLINT_EINVAL;

	if (!is || !subject_key || !ids || n_ids == 0 || !p || !ret || p->not_before < 0 ||
	    p->not_after < 0 || (!p->server_auth && !p->client_auth))
		goto out;
	nb = p->not_before > earliest ? p->not_before : earliest;
	na = p->not_after ? p->not_after : nb + (p->lifetime > 0 ? p->lifetime : LEAF_DAYS * DAY);
	/* Nothing outlives the intermediate that vouches for it. */
	if (na > is->inter_not_after)
		na = is->inter_not_after;
	if (na <= nb)
		goto out;
	r = build_san(ids, n_ids, &san);
	if (r < 0)
		goto out;
	r = make_leaf(is, subject_key, san, nb, na, p, &x);
	if (r < 0)
		goto out;
	r = FLINT_ENOMEM;
	c = calloc(1, sizeof(*c));
	if (!c)
		goto out;
	c->not_before = nb;
	c->not_after = na;
	r = flint_der_encode((const ASN1_VALUE *)x, ASN1_ITEM_rptr(X509), &c->der, &c->der_len);
	if (r < 0)
		goto out;
	r = flint_issuer_serial_hex(x, &c->serial);
	if (r < 0)
		goto out;
	r = chain_pem(x, is->inter_pem, &c->chain_pem, NULL);
	if (r < 0)
		goto out;
	*ret = c;
	c = NULL;
	r = 0;
out:
	flint_issued_free(c);
	GENERAL_NAMES_free(san);
	X509_free(x);
	return r;
}

/* ---- CRL ---- */

static int serial_from_hex(const char *hex, ASN1_INTEGER **ret)
{
	BIGNUM *bn = NULL;
	ASN1_INTEGER *ai = NULL;
	size_t len = hex ? strlen(hex) : 0;
	int r = FLINT_EINVAL;

	if (len == 0 || len > 64 || strspn(hex, "0123456789abcdefABCDEF") != len)
		goto out;
	r = FLINT_ECRYPTO;
	if (BN_hex2bn(&bn, hex) != (int)len)
		goto out;
	ai = BN_to_ASN1_INTEGER(bn, NULL);
	if (!ai)
		goto out;
	*ret = ai;
	r = 0;
out:
	BN_free(bn);
	return r;
}

static int add_revoked(X509_CRL *crl, const struct flint_revoked_entry *e)
{
	X509_REVOKED *rev = NULL;
	ASN1_INTEGER *serial = NULL;
	ASN1_TIME *when = NULL;
	ASN1_ENUMERATED *reason = NULL;
	int r = FLINT_EINVAL;

	/* RFC 5280 §5.3.1: 7 is unused; 0 (unspecified) is expressed by absence. */
	if (e->reason < 0 || e->reason > 10 || e->reason == 7)
		goto out;
	r = serial_from_hex(e->serial, &serial);
	if (r < 0)
		goto out;
	r = to_asn1_time(e->revoked_at, &when);
	if (r < 0)
		goto out;
	r = FLINT_ECRYPTO;
	rev = X509_REVOKED_new();
	if (!rev || X509_REVOKED_set_serialNumber(rev, serial) != 1 ||
	    X509_REVOKED_set_revocationDate(rev, when) != 1)
		goto out;
	if (e->reason != 0) {
		reason = ASN1_ENUMERATED_new();
		if (!reason || ASN1_ENUMERATED_set(reason, e->reason) != 1 ||
		    X509_REVOKED_add1_ext_i2d(rev, NID_crl_reason, reason, 0, 0) != 1)
			goto out;
	}
	if (X509_CRL_add0_revoked(crl, rev) != 1)
		goto out;
	rev = NULL;
	r = 0;
out:
	X509_REVOKED_free(rev);
	ASN1_INTEGER_free(serial);
	ASN1_TIME_free(when);
	ASN1_ENUMERATED_free(reason);
	return r;
}

int flint_issuer_crl_shards(const struct flint_issuer *is)
{
	return is->crl_shards;
}

int flint_issuer_crl_shard(const struct flint_issuer *is, const char *serial_hex)
{
	size_t n = serial_hex ? strlen(serial_hex) : 0;
	unsigned long last;

	if (!is->crl_shards || n == 0)
		return -1;
	/* the serial's last octet: serials are random, so shards fill evenly */
	last = strtoul(serial_hex + (n >= 2 ? n - 2 : 0), NULL, 16);
	return (int)(last % (unsigned long)is->crl_shards);
}

/* RFC 5280 §5.2.5: a partitioned CRL names its distribution point. */
static int add_idp(X509_CRL *crl, const char *url)
{
	ISSUING_DIST_POINT *idp = ISSUING_DIST_POINT_new();
	GENERAL_NAME *g = NULL;
	int r = FLINT_ENOMEM;

	if (!idp || !(idp->distpoint = DIST_POINT_NAME_new()) ||
	    !(idp->distpoint->name.fullname = sk_GENERAL_NAME_new_null()))
		goto out;
	idp->distpoint->type = 0;
	if ((r = flint_general_name_ia5(GEN_URI, url, &g)) < 0)
		goto out;
	r = FLINT_ENOMEM;
	if (!sk_GENERAL_NAME_push(idp->distpoint->name.fullname, g))
		goto out;
	g = NULL;
	r = X509_CRL_add1_ext_i2d(crl, NID_issuing_distribution_point, idp, 1, 0) == 1 ? 0
										       : FLINT_ECRYPTO;
out:
	GENERAL_NAME_free(g);
	ISSUING_DIST_POINT_free(idp);
	return r;
}

int flint_issuer_crl(struct flint_issuer *is, const struct flint_revoked_entry *entries,
		     size_t n, int shard, unsigned char **ret_der, size_t *ret_len)
{
	X509_CRL *crl = NULL;
	ASN1_TIME *this_update = NULL, *next_update = NULL;
	ASN1_INTEGER *number = NULL;
	X509_EXTENSION *aki = NULL;
	X509V3_CTX ctx;
	int64_t now = (int64_t)time(NULL), num;
	bool locked = false;
	int r = FLINT_EINVAL;

	if (!is || (n && !entries) || !ret_der || !ret_len || shard < -1 ||
	    (shard >= 0 && (shard >= is->crl_shards || !is->crldp_url)))
		goto out;
	r = FLINT_ENOMEM;
	crl = X509_CRL_new();
	if (!crl)
		goto out;
	for (size_t i = 0; i < n; i++) {
		r = add_revoked(crl, &entries[i]);
		if (r < 0)
			goto out;
	}
	r = to_asn1_time(now, &this_update);
	if (r < 0)
		goto out;
	r = to_asn1_time(now + CRL_HOURS * 3600, &next_update);
	if (r < 0)
		goto out;
	r = FLINT_EIO;
	if (pthread_mutex_lock(&is->lock) != 0)
		goto out;
	locked = true;
	/* crlNumber must increase (RFC 5280 §5.2.3): the clock across restarts,
	 * a counter within one second. */
	num = now > is->last_crl_number ? now : is->last_crl_number + 1;
	is->last_crl_number = num;
	r = FLINT_ECRYPTO;
	number = ASN1_INTEGER_new();
	if (!number || ASN1_INTEGER_set_int64(number, num) != 1)
		goto out;
	if (X509_CRL_set_version(crl, X509_CRL_VERSION_2) != 1 ||
	    X509_CRL_set_issuer_name(crl, X509_get_subject_name(is->inter)) != 1 ||
	    X509_CRL_set1_lastUpdate(crl, this_update) != 1 ||
	    X509_CRL_set1_nextUpdate(crl, next_update) != 1 ||
	    X509_CRL_add1_ext_i2d(crl, NID_crl_number, number, 0, 0) != 1)
		goto out;
	X509V3_set_ctx(&ctx, is->inter, NULL, NULL, crl, 0);
	aki = X509V3_EXT_nconf_nid(NULL, &ctx, NID_authority_key_identifier, "keyid:always");
	if (!aki || X509_CRL_add_ext(crl, aki, -1) != 1)
		goto out;
	if (shard >= 0) {
		char *url = NULL;

		r = asprintf(&url, "%s/%d", is->crldp_url, shard) < 0 ? FLINT_ENOMEM
								      : add_idp(crl, url);
		free(url);
		if (r < 0)
			goto out;
		r = FLINT_ECRYPTO;
	}
	X509_CRL_sort(crl);
	if (X509_CRL_sign(crl, is->inter_key, sign_md(is->inter_key)) <= 0)
		goto out;
	pthread_mutex_unlock(&is->lock);
	locked = false;
	r = flint_der_encode((const ASN1_VALUE *)crl, ASN1_ITEM_rptr(X509_CRL), ret_der, ret_len);
out:
	if (locked)
		pthread_mutex_unlock(&is->lock);
	X509_EXTENSION_free(aki);
	ASN1_INTEGER_free(number);
	ASN1_TIME_free(this_update);
	ASN1_TIME_free(next_update);
	X509_CRL_free(crl);
	return r;
}

/* ---- free ---- */

void flint_issued_free(struct flint_issued *c)
{
	if (!c)
		return;
	free(c->der);
	free(c->serial);
	free(c->chain_pem);
	free(c);
}

void flint_issuer_free(struct flint_issuer *is)
{
	if (!is)
		return;
	free(is->root_path);
	free(is->root_key_path);
	free(is->inter_path);
	free(is->inter_key_path);
	free(is->server_path);
	free(is->server_key_path);
	free(is->aia_url);
	free(is->crldp_url);
	free(is->ocsp_url);
	X509_free(is->root);
	X509_free(is->inter);
	EVP_PKEY_free(is->inter_key);
	free(is->root_pem);
	free(is->inter_pem);
	free(is->inter_der);
	free(is->alt_root_path);
	free(is->alt_root_key_path);
	free(is->cross_path);
	X509_free(is->alt_root);
	X509_free(is->cross);
	free(is->alt_root_pem);
	free(is->cross_pem);
	X509_EXTENSION_free(is->leaf_bc);
	X509_EXTENSION_free(is->leaf_ku_ec);
	X509_EXTENSION_free(is->leaf_ku_rsa);
	X509_EXTENSION_free(is->leaf_aki);
	for (size_t i = 0; i < 3; i++)
		X509_EXTENSION_free(is->leaf_eku[i]);
	pthread_mutex_destroy(&is->lock);
	free(is);
}

/* ---- OCSP (RFC 6960) ---- */

#define OCSP_MAX_REQUESTS 8
#define OCSP_VALID_SECONDS 3600

/* A response of the given error status (no body). */
static int ocsp_error(int status, unsigned char **ret_der, size_t *ret_len)
{
	OCSP_RESPONSE *resp = OCSP_response_create(status, NULL);
	int r = resp ? flint_der_encode((const ASN1_VALUE *)resp, ASN1_ITEM_rptr(OCSP_RESPONSE),
					ret_der, ret_len)
		     : FLINT_ENOMEM;

	OCSP_RESPONSE_free(resp);
	return r;
}

/* One single response: the status of the certificate cid names (unknown
 * for a serial never issued); FLINT_ENOTFOUND when cid names another
 * issuer (or a hash OpenSSL does not know). */
static int ocsp_single(struct flint_issuer *is, OCSP_BASICRESP *bs, OCSP_CERTID *cid,
		       flint_ocsp_lookup lookup, void *ctx, ASN1_TIME *this_upd,
		       ASN1_TIME *next_upd)
{
	ASN1_OBJECT *md_oid = NULL;
	ASN1_INTEGER *serial = NULL;
	const EVP_MD *md;
	OCSP_CERTID *ours = NULL;
	struct flint_ocsp_status st = {.status = V_OCSP_CERTSTATUS_UNKNOWN};
	ASN1_TIME *rev = NULL;
	BIGNUM *bn = NULL;
	char *hex = NULL;
	int r = FLINT_ECRYPTO;

	if (OCSP_id_get0_info(NULL, &md_oid, NULL, &serial, cid) != 1)
		goto out;
	md = EVP_get_digestbyobj(md_oid);
	if (!md || !(ours = OCSP_cert_id_new(md, X509_get_subject_name(is->inter),
					     X509_get0_pubkey_bitstr(is->inter), serial)) ||
	    OCSP_id_issuer_cmp(ours, cid) != 0) {
		r = FLINT_ENOTFOUND; /* not this CA's certificate: not ours to answer */
		goto out;
	}
	if (!(bn = ASN1_INTEGER_to_BN(serial, NULL)) || BN_is_negative(bn) ||
	    !(hex = BN_bn2hex(bn)))
		goto out;
	for (char *c = hex; *c; c++)
		if (*c >= 'A' && *c <= 'F')
			*c = (char)(*c - 'A' + 'a');
	if ((r = lookup(ctx, hex, &st)) < 0)
		goto out;
	if (st.status == V_OCSP_CERTSTATUS_REVOKED && (r = to_asn1_time(st.revoked_at, &rev)) < 0)
		goto out;
	r = FLINT_ECRYPTO;
	if (!OCSP_basic_add1_status(bs, cid, st.status,
				    st.status == V_OCSP_CERTSTATUS_REVOKED && st.reason > 0
					    ? st.reason
					    : OCSP_REVOKED_STATUS_NOSTATUS,
				    rev, this_upd, next_upd))
		goto out;
	r = 0;
out:
	OCSP_CERTID_free(ours);
	ASN1_TIME_free(rev);
	BN_free(bn);
	OPENSSL_free(hex);
	return r;
}

int flint_issuer_ocsp(struct flint_issuer *is, const unsigned char *req_der, size_t req_len,
		      flint_ocsp_lookup lookup, void *ctx, unsigned char **ret_der, size_t *ret_len)
{
	const unsigned char *p = req_der;
	OCSP_REQUEST *req = NULL;
	OCSP_BASICRESP *bs = NULL;
	OCSP_RESPONSE *resp = NULL;
	ASN1_TIME *this_upd = NULL, *next_upd = NULL;
	int64_t now = (int64_t)time(NULL);
	bool locked = false;
	int n, r;

	if (!is || !lookup || !ret_der || !ret_len)
		return FLINT_EINVAL;
	if (!req_der || req_len == 0 || req_len > LONG_MAX ||
	    !(req = d2i_OCSP_REQUEST(NULL, &p, (long)req_len)) || p != req_der + req_len ||
	    (n = OCSP_request_onereq_count(req)) <= 0 || n > OCSP_MAX_REQUESTS) {
		ERR_clear_error();
		r = ocsp_error(OCSP_RESPONSE_STATUS_MALFORMEDREQUEST, ret_der, ret_len);
		goto out;
	}
	r = FLINT_ENOMEM;
	if (!(bs = OCSP_BASICRESP_new()) || to_asn1_time(now, &this_upd) < 0 ||
	    to_asn1_time(now + OCSP_VALID_SECONDS, &next_upd) < 0)
		goto out;
	for (int i = 0; i < n; i++) {
		OCSP_CERTID *cid = OCSP_onereq_get0_id(OCSP_request_onereq_get0(req, i));

		r = ocsp_single(is, bs, cid, lookup, ctx, this_upd, next_upd);
		if (r == FLINT_ENOTFOUND) {
			/* RFC 6960 §2.3: not authoritative for that issuer */
			r = ocsp_error(OCSP_RESPONSE_STATUS_UNAUTHORIZED, ret_der, ret_len);
			goto out;
		}
		if (r < 0)
			goto out;
	}
	r = FLINT_ECRYPTO;
	if (OCSP_copy_nonce(bs, req) <= 0)
		goto out;
	if (pthread_mutex_lock(&is->lock) != 0) {
		r = FLINT_EIO;
		goto out;
	}
	locked = true;
	if (OCSP_basic_sign(bs, is->inter, is->inter_key, sign_md(is->inter_key), NULL,
			    OCSP_NOCERTS | OCSP_RESPID_KEY) != 1)
		goto out;
	pthread_mutex_unlock(&is->lock);
	locked = false;
	if (!(resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs)))
		goto out;
	r = flint_der_encode((const ASN1_VALUE *)resp, ASN1_ITEM_rptr(OCSP_RESPONSE), ret_der,
			     ret_len);
out:
	if (locked)
		pthread_mutex_unlock(&is->lock);
	if (r < 0)
		ERR_clear_error();
	OCSP_REQUEST_free(req);
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	ASN1_TIME_free(this_upd);
	ASN1_TIME_free(next_upd);
	return r;
}
