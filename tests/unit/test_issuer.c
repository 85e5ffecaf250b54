/* Unit tests for the issuer: hierarchy creation and reload, end-entity
 * profile (RFC 5280 §4, RFC 8555 §7.4.2), serving certificate and CRLs (§5). */
#include <ftw.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "error.h"
#include "issuer.h"
#include "x509util.h"

/* Leaf parameters of the tlsserver shape with a validity window. */
#define LP(nb, na)                                                                          \
	(&(struct flint_leaf_params){.not_before = (nb), .not_after = (na), .server_auth = true})

static char tmpdir[] = "/tmp/flint-issuer-XXXXXX";
static char dir[4096];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void rm_rf(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static char *path_in(const char *d, const char *name)
{
	static char buf[4096 + 64];

	if (strlen(d) + strlen(name) + 2 > sizeof(buf))
		abort();
	snprintf(buf, sizeof(buf), "%.4096s/%.62s", d, name);
	return buf;
}

static X509 *read_cert(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x;

	if (!f)
		return NULL;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	return x;
}

static X509 *pem_cert(const char *pem)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);

	BIO_free(b);
	return x;
}

static void fingerprint(X509 *x, unsigned char md[32])
{
	unsigned int len = 32;

	X509_digest(x, EVP_sha256(), md, &len);
}

static bool has_dns(X509 *x, const char *name)
{
	return X509_check_host(x, name, 0, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT, NULL) == 1;
}

static int verify_chain(X509 *leaf, X509 *root, X509 *inter)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	int ok;

	X509_STORE_add_cert(store, root);
	sk_X509_push(untrusted, inter);
	X509_STORE_CTX_init(ctx, store, leaf, untrusted);
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
	ok = X509_verify_cert(ctx);
	if (ok != 1)
		fprintf(stderr, "verify: %s\n",
			X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
	X509_STORE_CTX_free(ctx);
	sk_X509_free(untrusted);
	X509_STORE_free(store);
	return ok;
}

static struct flint_issuer *open_with(const char *d, const char *host, const char *ikey)
{
	struct flint_issuer_options opt = {
		.data_dir = d,
		.intermediate_key = ikey,
		.listen_host = host,
		.base_url = "https://acme.test:14000",
	};
	struct flint_issuer *is = NULL;
	int r = flint_issuer_open(&opt, &is);

	CHECK_INT(r, 0);
	return is;
}

static void test_files(void)
{
	static const char *keys[] = { "root.key", "intermediate.key", "server.key" };
	static const char *certs[] = { "root.pem", "intermediate.pem", "server.pem" };
	struct flint_issuer *is = open_with(dir, "acme.test", NULL);
	struct stat st;

	CHECK(is != NULL);
	CHECK(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700);
	for (size_t i = 0; i < 3; i++) {
		CHECK(stat(path_in(dir, keys[i]), &st) == 0);
		CHECK_INT(st.st_mode & 0777, 0600);
		CHECK(stat(path_in(dir, certs[i]), &st) == 0);
		CHECK_INT(st.st_mode & 0777, 0644);
	}
	if (is) {
		X509 *root = pem_cert(flint_issuer_root_pem(is));
		X509 *inter = pem_cert(flint_issuer_intermediate_pem(is));
		size_t der_len = 0;
		const unsigned char *der = flint_issuer_intermediate_der(is, &der_len);
		X509 *inter2 = d2i_X509(NULL, &der, (long)der_len);
		EVP_PKEY *rk = root ? X509_get0_pubkey(root) : NULL;
		char buf[256];

		CHECK(root && inter && inter2);
		CHECK(inter && inter2 && X509_cmp(inter, inter2) == 0);
		CHECK(rk && EVP_PKEY_is_a(rk, "EC") && EVP_PKEY_get_bits(rk) == 384);
		CHECK(inter && EVP_PKEY_is_a(X509_get0_pubkey(inter), "EC") &&
		      EVP_PKEY_get_bits(X509_get0_pubkey(inter)) == 256);
		CHECK(root && X509_check_ca(root) >= 1 && X509_verify(root, rk) == 1);
		CHECK(inter && X509_verify(inter, rk) == 1);
		CHECK(inter && X509_get_pathlen(inter) == 0);
		CHECK(inter && X509_get_signature_nid(inter) == NID_ecdsa_with_SHA384);
		CHECK(inter && X509_get0_authority_key_id(inter) && X509_get0_subject_key_id(inter));
		CHECK(root && X509_NAME_get_text_by_NID(X509_get_subject_name(root), NID_commonName,
							buf, sizeof(buf)) > 0 &&
		      strncmp(buf, "flint root CA ", 14) == 0 && strlen(buf) == 20);
		CHECK_STR(flint_issuer_root_path(is), path_in(dir, "root.pem"));
		CHECK_STR(flint_issuer_server_key_path(is), path_in(dir, "server.key"));
		X509_free(root);
		X509_free(inter);
		X509_free(inter2);
	}
	flint_issuer_free(is);
}

static void test_reopen_same_root(void)
{
	struct flint_issuer *a = open_with(dir, "acme.test", NULL);
	unsigned char fa[32] = { 0 }, fb[32] = { 1 };
	X509 *ra = a ? pem_cert(flint_issuer_root_pem(a)) : NULL;
	X509 *sa = read_cert(path_in(dir, "server.pem"));
	struct flint_issuer *b;
	X509 *rb, *sb;

	flint_issuer_free(a);
	b = open_with(dir, "acme.test", "rsa"); /* existing ECDSA intermediate kept */
	rb = b ? pem_cert(flint_issuer_root_pem(b)) : NULL;
	sb = read_cert(path_in(dir, "server.pem"));
	CHECK(ra && rb);
	if (ra && rb) {
		fingerprint(ra, fa);
		fingerprint(rb, fb);
	}
	CHECK(memcmp(fa, fb, 32) == 0);
	CHECK(sa && sb && X509_cmp(sa, sb) == 0); /* still valid: not regenerated */
	if (b) {
		X509 *inter = pem_cert(flint_issuer_intermediate_pem(b));

		CHECK(inter && EVP_PKEY_is_a(X509_get0_pubkey(inter), "EC"));
		X509_free(inter);
	}
	X509_free(ra);
	X509_free(rb);
	X509_free(sa);
	X509_free(sb);
	flint_issuer_free(b);
}

static void check_leaf(struct flint_issuer *is, struct flint_issued *c, EVP_PKEY *key,
		       const char *n1, const char *n2)
{
	const unsigned char *p = c->der;
	X509 *x = d2i_X509(NULL, &p, (long)c->der_len);
	X509 *root = pem_cert(flint_issuer_root_pem(is));
	X509 *inter = pem_cert(flint_issuer_intermediate_pem(is));
	GENERAL_NAMES *san = NULL;
	AUTHORITY_INFO_ACCESS *aia = NULL;
	BIGNUM *bn = NULL;
	int64_t now = (int64_t)time(NULL);
	char *hex = NULL;
	int crit = -1;

	CHECK(x && root && inter);
	if (!x || !root || !inter)
		goto out;
	CHECK_INT(verify_chain(x, root, inter), 1);
	CHECK(EVP_PKEY_eq(X509_get0_pubkey(x), key) == 1);
	/* SANs exactly n1, n2; critical since the subject is empty. */
	san = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
	CHECK(san && sk_GENERAL_NAME_num(san) == 2);
	CHECK_INT(crit, 1);
	CHECK(has_dns(x, n1) && has_dns(x, n2));
	CHECK_INT(X509_NAME_entry_count(X509_get_subject_name(x)), 0);
	CHECK(X509_get_extended_key_usage(x) == XKU_SSL_SERVER);
	CHECK(X509_get_key_usage(x) & KU_DIGITAL_SIGNATURE);
	CHECK(!(X509_get_extension_flags(x) & EXFLAG_CA));
	CHECK(X509_get0_authority_key_id(x) && X509_get0_subject_key_id(x));
	/* the key identifiers: SHA-1 of the key's bits (RFC 5280 §4.2.1.2), and
	 * the intermediate's own */
	unsigned char md[EVP_MAX_MD_SIZE];
	const unsigned char *bits = NULL;
	unsigned int md_len = 0;
	int bits_len = 0;
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(x);
	CHECK(X509_PUBKEY_get0_param(NULL, &bits, &bits_len, NULL, X509_get_X509_PUBKEY(x)) == 1);
	CHECK(bits && EVP_Digest(bits, (size_t)bits_len, md, &md_len, EVP_sha1(), NULL) == 1 &&
	      md_len == 20);
	CHECK(ski && ASN1_STRING_length(ski) == 20 && memcmp(ASN1_STRING_get0_data(ski), md, 20) == 0);
	CHECK(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(x), X509_get0_subject_key_id(inter)) == 0);
	/* the extensions in their order, critical where RFC 5280 says */
	static const int order[] = {NID_basic_constraints, NID_key_usage, NID_ext_key_usage,
				    NID_subject_key_identifier, NID_authority_key_identifier,
				    NID_subject_alt_name};
	static const int critical[] = {1, 1, 0, 0, 0, 1};
	CHECK(X509_get_ext_count(x) >= 6);
	for (int i = 0; i < 6 && i < X509_get_ext_count(x); i++) {
		X509_EXTENSION *e = X509_get_ext(x, i);
		CHECK_INT(OBJ_obj2nid(X509_EXTENSION_get_object(e)), order[i]);
		CHECK_INT(X509_EXTENSION_get_critical(e), critical[i]);
	}
	CHECK(EVP_PKEY_is_a(key, "RSA") || !(X509_get_key_usage(x) & KU_KEY_ENCIPHERMENT));
	/* Serial: positive, 128 bits at most, matches the reported hex. */
	bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	CHECK(bn && !BN_is_negative(bn) && !BN_is_zero(bn) && BN_num_bits(bn) <= 128 &&
	      BN_num_bits(bn) > 120);
	CHECK_INT(flint_issuer_serial_hex(x, &hex), 0);
	CHECK_STR(hex, c->serial);
	CHECK(strspn(c->serial, "0123456789abcdef") == strlen(c->serial));
	/* Validity. */
	CHECK(c->not_before >= now - 3600 - 5 && c->not_before <= now + 5);
	CHECK_INT(c->not_after, c->not_before + 90 * 86400);
	{
		struct tm tm;
		CHECK(ASN1_TIME_to_tm(X509_get0_notBefore(x), &tm) == 1);
		CHECK_INT(timegm(&tm), c->not_before);
	}
	/* AIA caIssuers. */
	aia = X509_get_ext_d2i(x, NID_info_access, NULL, NULL);
	CHECK(aia && sk_ACCESS_DESCRIPTION_num(aia) == 1);
	if (aia && sk_ACCESS_DESCRIPTION_num(aia) == 1) {
		ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, 0);

		CHECK(OBJ_obj2nid(ad->method) == NID_ad_ca_issuers);
		CHECK(ad->location->type == GEN_URI);
		CHECK_STR((const char *)ASN1_STRING_get0_data(ad->location->d.uniformResourceIdentifier),
			  "https://acme.test:14000/ca/intermediate.der");
	}
	/* chain_pem: leaf then intermediate. */
	{
		BIO *b = BIO_new_mem_buf(c->chain_pem, -1);
		X509 *c1 = PEM_read_bio_X509(b, NULL, NULL, NULL);
		X509 *c2 = PEM_read_bio_X509(b, NULL, NULL, NULL);

		CHECK(c1 && X509_cmp(c1, x) == 0);
		CHECK(c2 && X509_cmp(c2, inter) == 0);
		CHECK(strncmp(c->chain_pem, "-----BEGIN CERTIFICATE-----\n", 28) == 0);
		X509_free(c1);
		X509_free(c2);
		BIO_free(b);
	}
out:
	free(hex);
	BN_free(bn);
	GENERAL_NAMES_free(san);
	AUTHORITY_INFO_ACCESS_free(aia);
	X509_free(x);
	X509_free(root);
	X509_free(inter);
}

static bool has_eku(X509 *x, int nid)
{
	EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
	bool found = false;

	for (int i = 0; eku && i < sk_ASN1_OBJECT_num(eku); i++)
		found |= OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, i)) == nid;
	EXTENDED_KEY_USAGE_free(eku);
	return found;
}

/* Profiles shape the leaf: a CN with clientAuth (SAN then not critical),
 * clientAuth only, and refusals (no EKU, an empty or over-long CN). */
static void test_issue_profiles(void)
{
	struct flint_issuer *is = open_with(dir, "acme.test", NULL);
	struct flint_identifier ids[] = { { "dns", "a.example.com" }, { "ip", "192.0.2.7" } };
	EVP_PKEY *ec = EVP_EC_gen("P-256");
	struct flint_issued *c = NULL;
	struct flint_leaf_params classic = {.server_auth = true, .client_auth = true,
					    .common_name = "a.example.com"};
	struct flint_leaf_params client = {.client_auth = true};
	struct flint_leaf_params none = {0};
	struct flint_leaf_params long_cn = {.server_auth = true, .common_name =
		"a-name-that-is-far-too-long-for-the-sixty-four-octet-cn.example.com"};
	struct flint_leaf_params empty_cn = {.server_auth = true, .common_name = ""};
	X509 *x = NULL;
	int crit = -1;
	GENERAL_NAMES *san = NULL;
	char cn[80] = "";

	CHECK(is && ec);
	if (!is || !ec)
		goto out;
	CHECK_INT(flint_issuer_issue(is, ec, ids, 2, &classic, &c), 0);
	if (c) {
		const unsigned char *d = c->der;

		x = d2i_X509(NULL, &d, (long)c->der_len);
	}
	CHECK(x != NULL);
	if (x) {
		CHECK(X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn,
						sizeof(cn)) > 0);
		CHECK_STR(cn, "a.example.com");
		CHECK(has_eku(x, NID_server_auth) && has_eku(x, NID_client_auth));
		san = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
		CHECK(san && sk_GENERAL_NAME_num(san) == 2);
		CHECK_INT(crit, 0);
		X509_free(x);
		x = NULL;
	}
	flint_issued_free(c);
	c = NULL;
	CHECK_INT(flint_issuer_issue(is, ec, ids, 1, &client, &c), 0);
	if (c) {
		const unsigned char *d = c->der;

		x = d2i_X509(NULL, &d, (long)c->der_len);
		CHECK(x && has_eku(x, NID_client_auth) && !has_eku(x, NID_server_auth));
		CHECK(x && X509_NAME_entry_count(X509_get_subject_name(x)) == 0);
		X509_free(x);
		x = NULL;
	}
	flint_issued_free(c);
	c = NULL;
	CHECK_INT(flint_issuer_issue(is, ec, ids, 1, &none, &c), FLINT_EINVAL);
	CHECK_INT(flint_issuer_issue(is, ec, ids, 1, &long_cn, &c), FLINT_EINVAL);
	CHECK_INT(flint_issuer_issue(is, ec, ids, 1, &empty_cn, &c), FLINT_EINVAL);
	CHECK_INT(flint_issuer_issue(is, ec, ids, 1, NULL, &c), FLINT_EINVAL);
	CHECK(c == NULL);
out:
	GENERAL_NAMES_free(san);
	flint_issued_free(c);
	EVP_PKEY_free(ec);
	flint_issuer_free(is);
}

/* The alternate chain: a second root cross-signs the intermediate (same
 * subject and key); a leaf verifies to the main root through the default
 * chain and to the second root through the alternate one, and not across;
 * reopening keeps the second root; a CA without it has no alternate. */
static void test_alternate_chain(void)
{
	char d2[600];
	struct flint_issuer_options opt = {.data_dir = d2, .listen_host = "acme.test",
					   .base_url = "https://acme.test:14000",
					   .alternate_chain = true};
	struct flint_issuer *is = NULL, *again = NULL, *plain = NULL;
	struct flint_identifier ids[] = { { "dns", "alt.example.com" } };
	EVP_PKEY *ec = EVP_EC_gen("P-256");
	struct flint_issued *c = NULL;
	char *alt_pem = NULL, *none = NULL;
	X509 *leaf = NULL, *root = NULL, *alt_root = NULL, *inter = NULL, *cross = NULL;
	unsigned char fp1[32], fp2[32];

	snprintf(d2, sizeof(d2), "%s/alt", tmpdir);
	CHECK_INT(flint_issuer_open(&opt, &is), 0);
	if (!is || !ec)
		goto out;
	CHECK(flint_issuer_alt_root_pem(is) != NULL);
	CHECK_INT(flint_issuer_issue(is, ec, ids, 1, LP(0, 0), &c), 0);
	if (!c)
		goto out;
	CHECK_INT(flint_issuer_alternate_chain(is, c->der, c->der_len, &alt_pem), 0);
	CHECK_INT(flint_issuer_alternate_chain(is, c->der, c->der_len - 1, &none), FLINT_EINVAL);
	{
		const unsigned char *p = c->der;
		const char *second = alt_pem ? strstr(alt_pem + 1, "-----BEGIN CERTIFICATE") : NULL;

		leaf = d2i_X509(NULL, &p, (long)c->der_len);
		root = pem_cert(flint_issuer_root_pem(is));
		alt_root = pem_cert(flint_issuer_alt_root_pem(is));
		inter = pem_cert(flint_issuer_intermediate_pem(is));
		cross = second ? pem_cert(second) : NULL;
	}
	CHECK(leaf && root && alt_root && inter && cross);
	if (!leaf || !root || !alt_root || !inter || !cross)
		goto out;
	CHECK(X509_NAME_cmp(X509_get_subject_name(cross), X509_get_subject_name(inter)) == 0);
	CHECK(X509_NAME_cmp(X509_get_issuer_name(cross), X509_get_subject_name(alt_root)) == 0);
	CHECK_INT(verify_chain(leaf, root, inter), 1);
	CHECK_INT(verify_chain(leaf, alt_root, cross), 1);
	ERR_clear_error();
	CHECK(verify_chain(leaf, root, cross) != 1);
	CHECK(verify_chain(leaf, alt_root, inter) != 1);
	ERR_clear_error();
	/* reopening keeps the second root */
	CHECK_INT(flint_issuer_open(&opt, &again), 0);
	if (again) {
		X509 *alt2 = pem_cert(flint_issuer_alt_root_pem(again));

		fingerprint(alt_root, fp1);
		if (alt2)
			fingerprint(alt2, fp2);
		CHECK(alt2 && memcmp(fp1, fp2, 32) == 0);
		X509_free(alt2);
	}
	/* the same data dir without the option: one chain */
	opt.alternate_chain = false;
	CHECK_INT(flint_issuer_open(&opt, &plain), 0);
	if (plain) {
		CHECK(flint_issuer_alt_root_pem(plain) == NULL);
		CHECK_INT(flint_issuer_alternate_chain(plain, c->der, c->der_len, &none),
			  FLINT_ENOTFOUND);
	}
	CHECK(none == NULL);
out:
	X509_free(leaf);
	X509_free(root);
	X509_free(alt_root);
	X509_free(inter);
	X509_free(cross);
	free(alt_pem);
	flint_issued_free(c);
	EVP_PKEY_free(ec);
	flint_issuer_free(is);
	flint_issuer_free(again);
	flint_issuer_free(plain);
}

static int ocsp_lookup_revoked(void *ctx, const char *serial_hex, struct flint_ocsp_status *ret)
{
	const char *want = ctx;

	if (strcmp(serial_hex, want) != 0) {
		ret->status = V_OCSP_CERTSTATUS_UNKNOWN;
		return 0;
	}
	ret->status = V_OCSP_CERTSTATUS_REVOKED;
	ret->revoked_at = 1700000000;
	ret->reason = 4;
	return 0;
}

/* OCSP: a request for an issued certificate (SHA-1 CertID, with a nonce)
 * gets a response signed by the intermediate that verifies to the root,
 * with the status and reason the lookup gave and the nonce echoed; another
 * issuer's CertID is unknown; garbage is malformedRequest. */
static void test_ocsp(void)
{
	struct flint_issuer *is = open_with(dir, "acme.test", NULL);
	struct flint_identifier ids[] = { { "dns", "ocsp.example.com" } };
	EVP_PKEY *ec = EVP_EC_gen("P-256");
	struct flint_issued *c = NULL;
	X509 *leaf = NULL, *root = NULL, *inter = NULL;
	OCSP_REQUEST *req = OCSP_REQUEST_new();
	OCSP_CERTID *id = NULL, *foreign = NULL;
	OCSP_RESPONSE *resp = NULL;
	OCSP_BASICRESP *bs = NULL;
	X509_STORE *store = X509_STORE_new();
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	unsigned char *req_der = NULL, *resp_der = NULL;
	const unsigned char *p;
	size_t resp_len = 0;
	int req_len, status = -1, reason = -1;

	if (!is || !ec || !req || !store || !untrusted)
		goto out;
	CHECK_INT(flint_issuer_issue(is, ec, ids, 1, LP(0, 0), &c), 0);
	if (!c)
		goto out;
	p = c->der;
	leaf = d2i_X509(NULL, &p, (long)c->der_len);
	root = pem_cert(flint_issuer_root_pem(is));
	inter = pem_cert(flint_issuer_intermediate_pem(is));
	if (!leaf || !root || !inter)
		goto out;
	id = OCSP_cert_to_id(NULL, leaf, inter);
	foreign = OCSP_cert_to_id(NULL, leaf, leaf); /* issuer name/key hash of another CA */
	CHECK(id && foreign && OCSP_request_add0_id(req, OCSP_CERTID_dup(id)) &&
	      OCSP_request_add1_nonce(req, NULL, 16));
	req_len = i2d_OCSP_REQUEST(req, &req_der);
	CHECK(req_len > 0);
	CHECK_INT(flint_issuer_ocsp(is, req_der, (size_t)req_len, ocsp_lookup_revoked, c->serial,
				    &resp_der, &resp_len), 0);
	p = resp_der;
	resp = resp_der ? d2i_OCSP_RESPONSE(NULL, &p, (long)resp_len) : NULL;
	CHECK(resp && OCSP_response_status(resp) == OCSP_RESPONSE_STATUS_SUCCESSFUL);
	bs = resp ? OCSP_response_get1_basic(resp) : NULL;
	CHECK(bs != NULL);
	if (!bs)
		goto out;
	X509_STORE_add_cert(store, root);
	sk_X509_push(untrusted, inter);
	CHECK_INT(OCSP_basic_verify(bs, untrusted, store, 0), 1);
	CHECK_INT(OCSP_check_nonce(req, bs), 1);
	CHECK_INT(OCSP_resp_find_status(bs, id, &status, &reason, NULL, NULL, NULL), 1);
	CHECK_INT(status, V_OCSP_CERTSTATUS_REVOKED);
	CHECK_INT(reason, 4);
	OCSP_RESPONSE_free(resp);
	resp = NULL;
	free(resp_der);
	resp_der = NULL;
	/* a serial never issued: unknown */
	CHECK_INT(flint_issuer_ocsp(is, req_der, (size_t)req_len, ocsp_lookup_revoked, "ff",
				    &resp_der, &resp_len), 0);
	p = resp_der;
	resp = resp_der ? d2i_OCSP_RESPONSE(NULL, &p, (long)resp_len) : NULL;
	OCSP_BASICRESP_free(bs);
	bs = resp ? OCSP_response_get1_basic(resp) : NULL;
	CHECK(bs && OCSP_resp_find_status(bs, id, &status, NULL, NULL, NULL, NULL) == 1 &&
	      status == V_OCSP_CERTSTATUS_UNKNOWN);
	OCSP_RESPONSE_free(resp);
	resp = NULL;
	free(resp_der);
	resp_der = NULL;
	OPENSSL_free(req_der);
	req_der = NULL;
	/* another issuer's certificate in the request: unauthorized */
	CHECK(OCSP_request_add0_id(req, OCSP_CERTID_dup(foreign)) != NULL);
	req_len = i2d_OCSP_REQUEST(req, &req_der);
	CHECK_INT(flint_issuer_ocsp(is, req_der, (size_t)req_len, ocsp_lookup_revoked, c->serial,
				    &resp_der, &resp_len), 0);
	p = resp_der;
	resp = resp_der ? d2i_OCSP_RESPONSE(NULL, &p, (long)resp_len) : NULL;
	CHECK(resp && OCSP_response_status(resp) == OCSP_RESPONSE_STATUS_UNAUTHORIZED);
	OCSP_RESPONSE_free(resp);
	resp = NULL;
	free(resp_der);
	resp_der = NULL;
	/* garbage and a truncated request: malformedRequest, still a response */
	CHECK_INT(flint_issuer_ocsp(is, (const unsigned char *)"garbage", 7, ocsp_lookup_revoked,
				    c->serial, &resp_der, &resp_len), 0);
	p = resp_der;
	resp = resp_der ? d2i_OCSP_RESPONSE(NULL, &p, (long)resp_len) : NULL;
	CHECK(resp && OCSP_response_status(resp) == OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
	OCSP_RESPONSE_free(resp);
	resp = NULL;
	free(resp_der);
	resp_der = NULL;
	CHECK_INT(flint_issuer_ocsp(is, req_der, (size_t)req_len - 1, ocsp_lookup_revoked, c->serial,
				    &resp_der, &resp_len), 0);
	p = resp_der;
	resp = resp_der ? d2i_OCSP_RESPONSE(NULL, &p, (long)resp_len) : NULL;
	CHECK(resp && OCSP_response_status(resp) == OCSP_RESPONSE_STATUS_MALFORMEDREQUEST);
out:
	OPENSSL_free(req_der);
	free(resp_der);
	OCSP_RESPONSE_free(resp);
	OCSP_BASICRESP_free(bs);
	OCSP_REQUEST_free(req);
	OCSP_CERTID_free(id);
	OCSP_CERTID_free(foreign);
	X509_STORE_free(store);
	sk_X509_free(untrusted);
	X509_free(leaf);
	X509_free(root);
	X509_free(inter);
	flint_issued_free(c);
	EVP_PKEY_free(ec);
	flint_issuer_free(is);
}

static void test_issue(void)
{
	struct flint_issuer *is = open_with(dir, "acme.test", NULL);
	struct flint_identifier ids[] = { { "dns", "a.example.com" }, { "dns", "*.b.example.org" } };
	EVP_PKEY *ec = EVP_EC_gen("P-256"), *rsa = EVP_RSA_gen(2048);
	struct flint_issued *c1 = NULL, *c2 = NULL, *c3 = NULL;
	int64_t now = (int64_t)time(NULL);

	CHECK(is && ec && rsa);
	if (!is || !ec || !rsa)
		goto out;
	CHECK_INT(flint_issuer_issue(is, ec, ids, 2, LP(0, 0), &c1), 0);
	CHECK_INT(flint_issuer_issue(is, rsa, ids, 2, LP(0, 0), &c2), 0);
	if (c1)
		check_leaf(is, c1, ec, "a.example.com", "x.b.example.org");
	if (c2) {
		const unsigned char *p = c2->der;
		X509 *x = d2i_X509(NULL, &p, (long)c2->der_len);

		check_leaf(is, c2, rsa, "a.example.com", "x.b.example.org");
		CHECK(x && (X509_get_key_usage(x) & KU_KEY_ENCIPHERMENT));
		X509_free(x);
	}
	CHECK(c1 && c2 && strcmp(c1->serial, c2->serial) != 0);
	/* Requested window: a future notBefore is kept, an old one is clamped. */
	CHECK_INT(flint_issuer_issue(is, ec, ids, 1, LP(now + 600, now + 7200), &c3), 0);
	CHECK(c3 && c3->not_before == now + 600 && c3->not_after == now + 7200);
	flint_issued_free(c3);
	c3 = NULL;
	CHECK_INT(flint_issuer_issue(is, ec, ids, 1, LP(now - 86400, 0), &c3), 0);
	CHECK(c3 && c3->not_before >= now - 3600 && c3->not_before <= now - 3600 + 5);
	flint_issued_free(c3);
	c3 = NULL;
	/* without notAfter the lifetime is notAfter - notBefore exactly (90 days by default) */
	CHECK_INT(flint_issuer_issue(is, ec, ids, 1,
				     &(struct flint_leaf_params){.server_auth = true, .lifetime = 576000},
				     &c3), 0);
	CHECK(c3 && c3->not_after - c3->not_before == 576000);
	flint_issued_free(c3);
	c3 = NULL;
	CHECK_INT(flint_issuer_issue(is, ec, ids, 1, LP(0, 0), &c3), 0);
	CHECK(c3 && c3->not_after - c3->not_before == 90 * 86400);
	flint_issued_free(c3);
	c3 = NULL;
	/* Refusals leave *ret alone. */
	CHECK_INT(flint_issuer_issue(is, ec, ids, 1, LP(now + 600, now + 600), &c3), FLINT_EINVAL);
	CHECK_INT(flint_issuer_issue(is, ec, ids, 0, LP(0, 0), &c3), FLINT_EINVAL);
	{
		struct flint_identifier bad[] = { { "email", "a@example.com" } };

		CHECK_INT(flint_issuer_issue(is, ec, bad, 1, LP(0, 0), &c3), FLINT_EUNSUPPORTED);
	}
	CHECK(c3 == NULL);
out:
	flint_issued_free(c1);
	flint_issued_free(c2);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(rsa);
	flint_issuer_free(is);
}

/* A subject key as flint_csr_parse_der hands it on: algorithm, parameters
 * and key bits copied into a fresh X509_PUBKEY that caches no decoded key.
 * With compressed, an EC point in its compressed SEC 1 form. */
static X509_PUBKEY *spki_of_form(EVP_PKEY *key, bool compressed)
{
	EVP_PKEY *copy = compressed ? EVP_PKEY_dup(key) : NULL;
	X509_PUBKEY *pk = NULL, *ret = NULL;
	const unsigned char *bits = NULL;
	X509_ALGOR *alg = NULL;
	int n = 0;

	if (compressed && (!copy || !EVP_PKEY_set_utf8_string_param(
					     copy, "point-format" /* OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT */,
					     "compressed")))
		goto out;
	if (X509_PUBKEY_set(&pk, compressed ? copy : key) != 1 ||
	    X509_PUBKEY_get0_param(NULL, &bits, &n, &alg, pk) != 1 || !(ret = X509_PUBKEY_new()))
		goto out;
	if (flint_spki_set(ret, alg, bits, n) != 0) {
		X509_PUBKEY_free(ret);
		ret = NULL;
	}
out:
	X509_PUBKEY_free(pk);
	EVP_PKEY_free(copy);
	return ret;
}

static X509_PUBKEY *spki_of(EVP_PKEY *key)
{
	return spki_of_form(key, false);
}

static EVP_PKEY *keygen(size_t i)
{
	switch (i) {
	case 0:
		return EVP_EC_gen("P-256");
	case 1:
		return EVP_EC_gen("P-384");
	case 2:
		return EVP_RSA_gen(2048);
	default:
		return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	}
}

/* With the CSR's encoded key, the certificate carries exactly those bytes,
 * for each key type; an encoded key that is not the subject key (of another
 * type, or another key of the same type) is refused. The SPKIs hold no
 * decoded key, as the CSR parser's do, so the check cannot lean on one. */
static void test_issue_spki(void)
{
	struct flint_issuer *is = open_with(dir, "acme.test", NULL);
	struct flint_identifier ids[] = { { "dns", "a.example.com" }, { "dns", "*.b.example.org" } };
	EVP_PKEY *keys[4], *twins[4];
	size_t n_keys = sizeof(keys) / sizeof(keys[0]);

	for (size_t i = 0; i < n_keys; i++) {
		keys[i] = keygen(i);
		twins[i] = keygen(i);
	}
	CHECK(is != NULL);
	for (size_t i = 0; is && i < n_keys; i++) {
		X509_PUBKEY *spki = keys[i] ? spki_of(keys[i]) : NULL;
		X509_PUBKEY *other = spki_of(keys[(i + 1) % n_keys]);
		X509_PUBKEY *twin = twins[i] ? spki_of(twins[i]) : NULL;
		X509_PUBKEY *packed = NULL;
		struct flint_leaf_params lp = { .server_auth = true, .subject_spki = spki };
		struct flint_issued *c = NULL;
		unsigned char *want = NULL, *got = NULL;
		int want_len, got_len = -1;
		X509 *x = NULL;

		CHECK(keys[i] && spki && other && twin);
		if (!keys[i] || !spki || !other || !twin)
			goto next;
		CHECK(X509_PUBKEY_get0(spki) == NULL); /* nothing cached */
		ERR_clear_error();
		CHECK_INT(flint_issuer_issue(is, keys[i], ids, 2, &lp, &c), 0);
		if (!c)
			goto next;
		check_leaf(is, c, keys[i], "a.example.com", "x.b.example.org");
		const unsigned char *p = c->der;
		x = d2i_X509(NULL, &p, (long)c->der_len);
		want_len = i2d_X509_PUBKEY(spki, &want);
		if (x)
			got_len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &got);
		CHECK(want_len > 0 && got_len == want_len && memcmp(want, got, (size_t)want_len) == 0);
		CHECK(x && EVP_PKEY_eq(X509_get0_pubkey(x), keys[i]) == 1);
		flint_issued_free(c);
		c = NULL;
		lp.subject_spki = other;
		CHECK_INT(flint_issuer_issue(is, keys[i], ids, 2, &lp, &c), FLINT_EINVAL);
		CHECK(c == NULL);
		lp.subject_spki = twin;
		CHECK_INT(flint_issuer_issue(is, keys[i], ids, 2, &lp, &c), FLINT_EINVAL);
		CHECK(c == NULL);
		if (EVP_PKEY_get_base_id(keys[i]) == EVP_PKEY_EC) {
			/* a compressed point is the same key; another key's is not */
			const unsigned char *pb = NULL;
			int pn = 0;

			packed = spki_of_form(keys[i], true);
			CHECK(packed && X509_PUBKEY_get0_param(NULL, &pb, &pn, NULL, packed) == 1 &&
			      pn == 1 + (EVP_PKEY_get_bits(keys[i]) + 7) / 8 && (pb[0] | 1) == 0x03);
			lp.subject_spki = packed;
			CHECK_INT(flint_issuer_issue(is, keys[i], ids, 2, &lp, &c), 0);
			flint_issued_free(c);
			c = NULL;
			CHECK_INT(flint_issuer_issue(is, twins[i], ids, 2, &lp, &c), FLINT_EINVAL);
			CHECK(c == NULL);
		}
next:
		OPENSSL_free(want);
		OPENSSL_free(got);
		X509_free(x);
		X509_PUBKEY_free(spki);
		X509_PUBKEY_free(other);
		X509_PUBKEY_free(twin);
		X509_PUBKEY_free(packed);
	}
	for (size_t i = 0; i < n_keys; i++) {
		EVP_PKEY_free(keys[i]);
		EVP_PKEY_free(twins[i]);
	}
	flint_issuer_free(is);
}

static void check_server(const char *d, const char *host, bool ip)
{
	X509 *x = read_cert(path_in(d, "server.pem"));
	int crit = -1;
	EXTENDED_KEY_USAGE *eku = NULL;

	CHECK(x != NULL);
	if (!x)
		return;
	if (ip)
		CHECK_INT(X509_check_ip_asc(x, host, 0), 1);
	else
		CHECK(has_dns(x, host));
	CHECK(has_dns(x, "localhost"));
	CHECK_INT(X509_check_ip_asc(x, "127.0.0.1", 0), 1);
	CHECK_INT(X509_check_ip_asc(x, "::1", 0), 1);
	eku = X509_get_ext_d2i(x, NID_ext_key_usage, &crit, NULL);
	CHECK(eku != NULL);
	CHECK(X509_get_extended_key_usage(x) == XKU_SSL_SERVER);
	EXTENDED_KEY_USAGE_free(eku);
	X509_free(x);
}

static void test_server_cert(void)
{
	char d2[4096];
	struct flint_issuer *is;
	X509 *root1, *root2, *s1, *s2;
	GENERAL_NAMES *san;

	snprintf(d2, sizeof(d2), "%s/srv/nested", tmpdir);
	is = open_with(d2, "127.0.0.1", NULL);
	flint_issuer_free(is);
	check_server(d2, "127.0.0.1", true);
	/* deduplicated: 127.0.0.1 appears once */
	s1 = read_cert(path_in(d2, "server.pem"));
	san = s1 ? X509_get_ext_d2i(s1, NID_subject_alt_name, NULL, NULL) : NULL;
	CHECK(san && sk_GENERAL_NAME_num(san) == 3);
	GENERAL_NAMES_free(san);
	root1 = read_cert(path_in(d2, "root.pem"));

	is = open_with(d2, "ca.internal.test", NULL);
	flint_issuer_free(is);
	check_server(d2, "ca.internal.test", false);
	s2 = read_cert(path_in(d2, "server.pem"));
	root2 = read_cert(path_in(d2, "root.pem"));
	CHECK(s1 && s2 && X509_cmp(s1, s2) != 0);
	CHECK(root1 && root2 && X509_cmp(root1, root2) == 0);
	X509_free(s1);
	X509_free(s2);
	X509_free(root1);
	X509_free(root2);

	is = open_with(d2, "[::1]", NULL);
	flint_issuer_free(is);
	check_server(d2, "::1", true);
}

static void test_intermediate_only_missing(void)
{
	char d3[4096];
	struct flint_issuer *is;
	X509 *root1, *root2, *i1, *i2;

	snprintf(d3, sizeof(d3), "%s/regen", tmpdir);
	flint_issuer_free(open_with(d3, "localhost", NULL));
	root1 = read_cert(path_in(d3, "root.pem"));
	i1 = read_cert(path_in(d3, "intermediate.pem"));
	unlink(path_in(d3, "intermediate.pem"));
	unlink(path_in(d3, "intermediate.key"));
	is = open_with(d3, "localhost", NULL);
	root2 = read_cert(path_in(d3, "root.pem"));
	i2 = read_cert(path_in(d3, "intermediate.pem"));
	CHECK(root1 && root2 && X509_cmp(root1, root2) == 0);
	CHECK(i1 && i2 && X509_cmp(i1, i2) != 0);
	CHECK(root2 && i2 && X509_verify(i2, X509_get0_pubkey(root2)) == 1);
	/* the server certificate was re-issued under the new intermediate */
	{
		X509 *s = read_cert(path_in(d3, "server.pem"));

		CHECK(s && i2 && X509_verify(s, X509_get0_pubkey(i2)) == 1);
		X509_free(s);
	}
	/* root key gone but root cert present: refuse rather than re-mint */
	flint_issuer_free(is);
	unlink(path_in(d3, "root.key"));
	{
		struct flint_issuer_options opt = { .data_dir = d3, .listen_host = "localhost" };

		is = NULL;
		CHECK_INT(flint_issuer_open(&opt, &is), FLINT_EIO);
		CHECK(is == NULL);
	}
	X509_free(root1);
	X509_free(root2);
	X509_free(i1);
	X509_free(i2);
}

static void test_rsa_intermediate(void)
{
	char d4[4096];
	struct flint_issuer *is;
	struct flint_identifier ids[] = { { "dns", "rsa.example.com" } };
	EVP_PKEY *ec = EVP_EC_gen("P-256");
	struct flint_issued *c = NULL;

	snprintf(d4, sizeof(d4), "%s/rsa", tmpdir);
	is = open_with(d4, "localhost", "rsa");
	CHECK(is && ec);
	if (is && ec) {
		X509 *inter = pem_cert(flint_issuer_intermediate_pem(is));
		X509 *root = pem_cert(flint_issuer_root_pem(is));

		CHECK(inter && EVP_PKEY_is_a(X509_get0_pubkey(inter), "RSA") &&
		      EVP_PKEY_get_bits(X509_get0_pubkey(inter)) == 3072);
		CHECK_INT(flint_issuer_issue(is, ec, ids, 1, LP(0, 0), &c), 0);
		if (c && inter && root) {
			const unsigned char *p = c->der;
			X509 *x = d2i_X509(NULL, &p, (long)c->der_len);

			CHECK(x && X509_get_signature_nid(x) == NID_sha256WithRSAEncryption);
			CHECK(x && verify_chain(x, root, inter) == 1);
			X509_free(x);
		}
		X509_free(inter);
		X509_free(root);
	}
	flint_issued_free(c);
	EVP_PKEY_free(ec);
	flint_issuer_free(is);
}

static void test_crl(void)
{
	struct flint_issuer *is = open_with(dir, "acme.test", NULL);
	struct flint_identifier ids[] = { { "dns", "revoked.example.com" } };
	EVP_PKEY *ec = EVP_EC_gen("P-256");
	struct flint_issued *c = NULL;
	unsigned char *der = NULL, *der2 = NULL;
	size_t len = 0, len2 = 0;
	int64_t now = (int64_t)time(NULL);

	CHECK(is && ec);
	if (!is || !ec)
		goto out;
	CHECK_INT(flint_issuer_issue(is, ec, ids, 1, LP(0, 0), &c), 0);
	if (!c)
		goto out;
	{
		struct flint_revoked_entry e[] = {
			{ c->serial, now - 10, 1 /* keyCompromise */ },
			{ "0abc", now - 20, 0 },
		};
		const unsigned char *p;
		X509_CRL *crl, *crl2;
		X509 *inter = pem_cert(flint_issuer_intermediate_pem(is));
		const unsigned char *cp = c->der;
		X509 *leaf = d2i_X509(NULL, &cp, (long)c->der_len);
		X509_REVOKED *rev = NULL;
		int crit = -1;

		CHECK_INT(flint_issuer_crl(is, e, 2, -1, &der, &len), 0);
		CHECK_INT(flint_issuer_crl(is, e, 2, -1, &der2, &len2), 0);
		p = der;
		crl = der ? d2i_X509_CRL(NULL, &p, (long)len) : NULL;
		p = der2;
		crl2 = der2 ? d2i_X509_CRL(NULL, &p, (long)len2) : NULL;
		CHECK(crl && crl2 && inter && leaf);
		if (crl && crl2 && inter && leaf) {
			ASN1_INTEGER *n1 = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
			ASN1_INTEGER *n2 = X509_CRL_get_ext_d2i(crl2, NID_crl_number, NULL, NULL);
			ASN1_ENUMERATED *reason;
			AUTHORITY_KEYID *akid;

			CHECK_INT(X509_CRL_get_version(crl), X509_CRL_VERSION_2);
			CHECK_INT(X509_CRL_verify(crl, X509_get0_pubkey(inter)), 1);
			CHECK_INT(X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(inter)),
				  0);
			CHECK(n1 && n2 && ASN1_INTEGER_cmp(n1, n2) < 0);
			CHECK(n1 && ASN1_INTEGER_get(n1) >= now);
			CHECK_INT(X509_CRL_get0_by_cert(crl, &rev, leaf), 1);
			reason = rev ? X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, &crit, NULL) : NULL;
			CHECK(reason && ASN1_ENUMERATED_get(reason) == 1);
			ASN1_ENUMERATED_free(reason);
			CHECK_INT(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), 2);
			/* reason 0 is expressed by omission */
			{
				ASN1_INTEGER *s = ASN1_INTEGER_new();

				ASN1_INTEGER_set(s, 0xabc);
				rev = NULL;
				CHECK_INT(X509_CRL_get0_by_serial(crl, &rev, s), 1);
				CHECK(rev && X509_REVOKED_get_ext_count(rev) == 0);
				ASN1_INTEGER_free(s);
			}
			akid = X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier, NULL, NULL);
			CHECK(akid && akid->keyid &&
			      ASN1_OCTET_STRING_cmp(akid->keyid, X509_get0_subject_key_id(inter)) == 0);
			AUTHORITY_KEYID_free(akid);
			{
				struct tm tu, tn;
				CHECK(ASN1_TIME_to_tm(X509_CRL_get0_lastUpdate(crl), &tu) == 1);
				CHECK(ASN1_TIME_to_tm(X509_CRL_get0_nextUpdate(crl), &tn) == 1);
				CHECK_INT(timegm(&tn) - timegm(&tu), 86400);
				CHECK(timegm(&tu) >= now && timegm(&tu) <= now + 5);
			}
			ASN1_INTEGER_free(n1);
			ASN1_INTEGER_free(n2);
		}
		X509_CRL_free(crl);
		X509_CRL_free(crl2);
		X509_free(inter);
		X509_free(leaf);
	}
	{
		struct flint_revoked_entry bad[] = { { "xyz", now, 0 } }, bad2[] = { { "01", now, 7 } };
		unsigned char *d = NULL;
		size_t l = 0;

		CHECK_INT(flint_issuer_crl(is, bad, 1, -1, &d, &l), FLINT_EINVAL);
		CHECK_INT(flint_issuer_crl(is, bad2, 1, -1, &d, &l), FLINT_EINVAL);
		CHECK(d == NULL && l == 0);
		CHECK_INT(flint_issuer_crl(is, NULL, 0, -1, &d, &l), 0);
		free(d);
		d = NULL;
		/* not sharded: no shard CRLs, no shard of a serial */
		CHECK_INT(flint_issuer_crl_shards(is), 0);
		CHECK_INT(flint_issuer_crl_shard(is, "0a1b"), -1);
		CHECK_INT(flint_issuer_crl(is, NULL, 0, 0, &d, &l), FLINT_EINVAL);
		CHECK_INT(flint_issuer_crl(is, NULL, 0, -2, &d, &l), FLINT_EINVAL);
		CHECK(d == NULL);
	}
out:
	free(der);
	free(der2);
	flint_issued_free(c);
	EVP_PKEY_free(ec);
	flint_issuer_free(is);
}

struct thread_arg {
	struct flint_issuer *is;
	EVP_PKEY *key;
	int failures;
};

static void *issue_thread(void *p)
{
	struct thread_arg *a = p;
	struct flint_identifier ids[] = { { "dns", "threads.example.com" } };

	for (int i = 0; i < 20; i++) {
		struct flint_issued *c = NULL;

		if (flint_issuer_issue(a->is, a->key, ids, 1, LP(0, 0), &c) != 0)
			a->failures++;
		flint_issued_free(c);
	}
	return NULL;
}

static void test_threads(void)
{
	struct flint_issuer *is = open_with(dir, "acme.test", NULL);
	EVP_PKEY *ec = EVP_EC_gen("P-256");
	pthread_t t[4];
	struct thread_arg a[4];

	CHECK(is && ec);
	if (!is || !ec)
		goto out;
	for (int i = 0; i < 4; i++) {
		a[i] = (struct thread_arg){ is, ec, 0 };
		CHECK_INT(pthread_create(&t[i], NULL, issue_thread, &a[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		CHECK_INT(a[i].failures, 0);
	}
out:
	EVP_PKEY_free(ec);
	flint_issuer_free(is);
}

int main(void)
{
	int rc;

	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(dir, sizeof(dir), "%s/data", tmpdir);
	RUN(test_files);
	RUN(test_reopen_same_root);
	RUN(test_issue);
	RUN(test_issue_spki);
	RUN(test_issue_profiles);
	RUN(test_alternate_chain);
	RUN(test_ocsp);
	RUN(test_server_cert);
	RUN(test_intermediate_only_missing);
	RUN(test_rsa_intermediate);
	RUN(test_crl);
	RUN(test_threads);
	rc = CHECK_DONE();
	rm_rf(tmpdir);
	return rc;
}
