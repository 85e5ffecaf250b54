/* Unit tests for dnsmsg.c: an UPDATE captured from nsupdate and Knot's signed
 * answer as TSIG vectors (RFC 8945 has no worked example), and hostile messages. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dnsmsg.h"
#include "error.h"

#define KEY_NAME "flint-test."
#define KEY_SECRET "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=" /* bytes 0..31 */
#define TXT_VALUE "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"

/* Produced once with BIND 9.18 nsupdate, captured by a Python UDP listener:
 *   printf 'server 127.0.0.1 22150\nzone example.test\nupdate add
 *   _acme-challenge.a.example.test. 60 IN TXT "LoqXc...uX0"\nsend\n' |
 *   nsupdate -y hmac-sha256:flint-test.:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=
 * (ID 0xab3c, time signed 0x6b04081c, fudge 300). */
static const uint8_t nsupdate_req[] = {
	0xab, 0x3c, 0x28, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01,
	0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x04, 0x74, 0x65, 0x73,
	0x74, 0x00, 0x00, 0x06, 0x00, 0x01, 0x0f, 0x5f, 0x61, 0x63, 0x6d, 0x65,
	0x2d, 0x63, 0x68, 0x61, 0x6c, 0x6c, 0x65, 0x6e, 0x67, 0x65, 0x01, 0x61,
	0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x04, 0x74, 0x65, 0x73,
	0x74, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x2c,
	0x2b, 0x4c, 0x6f, 0x71, 0x58, 0x63, 0x59, 0x56, 0x38, 0x71, 0x35, 0x4f,
	0x4e, 0x62, 0x4a, 0x51, 0x78, 0x62, 0x6d, 0x52, 0x37, 0x53, 0x43, 0x54,
	0x4e, 0x6f, 0x33, 0x74, 0x69, 0x41, 0x58, 0x44, 0x66, 0x6f, 0x77, 0x79,
	0x6a, 0x78, 0x41, 0x6a, 0x45, 0x75, 0x58, 0x30, 0x0a, 0x66, 0x6c, 0x69,
	0x6e, 0x74, 0x2d, 0x74, 0x65, 0x73, 0x74, 0x00, 0x00, 0xfa, 0x00, 0xff,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x3d, 0x0b, 0x68, 0x6d, 0x61, 0x63, 0x2d,
	0x73, 0x68, 0x61, 0x32, 0x35, 0x36, 0x00, 0x00, 0x00, 0x6b, 0x04, 0x08,
	0x1c, 0x01, 0x2c, 0x00, 0x20, 0x2c, 0x31, 0xec, 0x4e, 0xb7, 0x62, 0xef,
	0x20, 0x15, 0xc0, 0x77, 0x99, 0x31, 0x90, 0x77, 0x9b, 0x06, 0x66, 0x4b,
	0x6d, 0xef, 0x25, 0x53, 0x37, 0x62, 0x61, 0x87, 0xb2, 0xdd, 0x05, 0x1d,
	0xb4, 0xab, 0x3c, 0x00, 0x00, 0x00, 0x00,
};

/* Knot DNS 3.x's answer to that packet (NOERROR, signed with the same key,
 * MAC over the request MAC first). */
static const uint8_t knot_resp[] = {
	0xab, 0x3c, 0xa8, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x04, 0x74, 0x65, 0x73,
	0x74, 0x00, 0x00, 0x06, 0x00, 0x01, 0x0a, 0x66, 0x6c, 0x69, 0x6e, 0x74,
	0x2d, 0x74, 0x65, 0x73, 0x74, 0x00, 0x00, 0xfa, 0x00, 0xff, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x3d, 0x0b, 0x68, 0x6d, 0x61, 0x63, 0x2d, 0x73, 0x68,
	0x61, 0x32, 0x35, 0x36, 0x00, 0x00, 0x00, 0x6b, 0x04, 0x08, 0x2a, 0x01,
	0x2c, 0x00, 0x20, 0x73, 0x55, 0x18, 0x7a, 0x6e, 0x25, 0x49, 0x3b, 0x00,
	0xbc, 0xcd, 0xbe, 0xae, 0x40, 0xd3, 0x6b, 0x55, 0x68, 0x52, 0x5f, 0x59,
	0xbd, 0x2b, 0x3d, 0xe4, 0xb6, 0x2a, 0xe4, 0xe8, 0x3b, 0x56, 0xda, 0xab,
	0x3c, 0x00, 0x00, 0x00, 0x00,
};

static struct flint_tsig_key *test_key(const char *alg)
{
	struct flint_tsig_key *k = NULL;

	CHECK_INT(flint_tsig_key_new(KEY_NAME, alg, KEY_SECRET, &k), 0);
	return k;
}

static void test_parse_nsupdate(void)
{
	struct flint_dns_msg *m = NULL;

	CHECK_INT(flint_dns_msg_parse(nsupdate_req, sizeof(nsupdate_req), &m), 0);
	if (!m)
		return;
	CHECK_INT(m->id, 0xab3c);
	CHECK_INT(m->opcode, FLINT_DNS_OP_UPDATE);
	CHECK_INT(m->counts[0], 1);
	CHECK_INT(m->counts[2], 1);
	CHECK_INT(m->n_rrs, 3);
	CHECK_STR(m->rrs[0].name, "example.test.");
	CHECK_INT(m->rrs[0].type, FLINT_DNS_T_SOA);
	CHECK_STR(m->rrs[1].name, "_acme-challenge.a.example.test.");
	CHECK_INT(m->rrs[1].ttl, 60);
	CHECK(flint_dns_rr_txt_equals(m, &m->rrs[1], TXT_VALUE));
	CHECK(!flint_dns_rr_txt_equals(m, &m->rrs[1], "LoqXc"));
	CHECK(m->has_tsig);
	CHECK_STR(m->tsig.alg, "hmac-sha256.");
	CHECK_INT(m->tsig.time_signed, 0x6b04081c);
	CHECK_INT(m->tsig.fudge, 300);
	CHECK_INT(m->tsig.mac_len, 32);
	CHECK_INT(m->tsig.orig_id, 0xab3c);
	flint_dns_msg_free(m);
}

static void test_verify_nsupdate(void)
{
	struct flint_tsig_key *k = test_key("hmac-sha256"), *other = NULL, *k512 = test_key("hmac-sha512");
	struct flint_dns_msg *m = NULL;

	CHECK_INT(flint_tsig_key_new(KEY_NAME, "hmac-sha256", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh4=",
				     &other), 0);
	CHECK_INT(flint_dns_msg_parse(nsupdate_req, sizeof(nsupdate_req), &m), 0);
	if (m && k && other && k512) {
		CHECK_INT(flint_tsig_verify(m, k, NULL, 0, 0x6b04081c), 0);
		CHECK_INT(flint_tsig_verify(m, k, NULL, 0, 0x6b04081c + 300), 0);
		CHECK_INT(flint_tsig_verify(m, k, NULL, 0, 0x6b04081c + 301), FLINT_EPROTO);
		CHECK_INT(flint_tsig_verify(m, other, NULL, 0, 0x6b04081c), FLINT_EBADSIG);
		CHECK_INT(flint_tsig_verify(m, k512, NULL, 0, 0x6b04081c), FLINT_EBADKEY);
	}
	flint_dns_msg_free(m);
	/* one flipped bit anywhere in the signed part but the ID (the MAC covers the original ID) */
	for (size_t i = 2; i < 0x74; i += 7) {
		uint8_t copy[sizeof(nsupdate_req)];

		memcpy(copy, nsupdate_req, sizeof(copy));
		copy[i] ^= 0x01;
		m = NULL;
		if (flint_dns_msg_parse(copy, sizeof(copy), &m) == 0 && k)
			CHECK(flint_tsig_verify(m, k, NULL, 0, 0x6b04081c) != 0);
		flint_dns_msg_free(m);
	}
	flint_tsig_key_free(k);
	flint_tsig_key_free(k512);
	flint_tsig_key_free(other);
}

static void test_encode_like_nsupdate(void)
{
	struct flint_tsig_key *k = test_key("hmac-sha256");
	struct flint_dns_builder b = {0};
	uint8_t rdata[64], mac[FLINT_TSIG_MAC_MAX];
	size_t rdlen = 0, mac_len = 0;

	CHECK_INT(flint_dns_txt_rdata(TXT_VALUE, rdata, sizeof(rdata), &rdlen), 0);
	struct flint_dns_update u = {.op = FLINT_DNS_UPD_ADD,
				     .name = "_acme-challenge.a.example.test.",
				     .type = FLINT_DNS_T_TXT,
				     .ttl = 60,
				     .rdata = rdata,
				     .rdlen = rdlen};
	CHECK_INT(flint_dns_build_update(0xab3c, "example.test", &u, 1, &b), 0);
	if (k)
		CHECK_INT(flint_tsig_sign(&b, k, 0x6b04081c, 300, mac, &mac_len), 0);
	CHECK_INT(b.len, sizeof(nsupdate_req));
	CHECK(b.len == sizeof(nsupdate_req) && memcmp(b.data, nsupdate_req, b.len) == 0);
	CHECK_INT(mac_len, 32);
	CHECK(memcmp(mac, nsupdate_req + 0xa1, 32) == 0);
	flint_dns_builder_clear(&b);
	flint_tsig_key_free(k);
}

static void test_verify_knot_response(void)
{
	struct flint_tsig_key *k = test_key("hmac-sha256");
	struct flint_dns_msg *m = NULL;
	const uint8_t *req_mac = nsupdate_req + 0xa1;

	CHECK_INT(flint_dns_msg_parse(knot_resp, sizeof(knot_resp), &m), 0);
	if (m && k) {
		CHECK(m->flags & FLINT_DNS_F_QR);
		CHECK_INT(m->rcode, FLINT_DNS_R_NOERROR);
		CHECK(m->has_tsig);
		CHECK_INT(flint_tsig_verify(m, k, req_mac, 32, m->tsig.time_signed), 0);
		CHECK_INT(flint_tsig_verify(m, k, NULL, 0, m->tsig.time_signed), FLINT_EBADSIG);
		CHECK_INT(flint_tsig_verify(m, k, nsupdate_req + 0xa2, 32, m->tsig.time_signed),
			  FLINT_EBADSIG);
	}
	flint_dns_msg_free(m);
	flint_tsig_key_free(k);
}

static void test_sha512_roundtrip(void)
{
	struct flint_tsig_key *k = test_key("HMAC-SHA512.");
	struct flint_dns_builder b = {0};
	struct flint_dns_msg *m = NULL;
	uint8_t mac[FLINT_TSIG_MAC_MAX];
	size_t mac_len = 0;

	struct flint_dns_update u = {.op = FLINT_DNS_UPD_DELETE_RRSET,
				     .name = "_acme-challenge.example.test",
				     .type = FLINT_DNS_T_TXT};
	CHECK_INT(flint_dns_build_update(7, "example.test.", &u, 1, &b), 0);
	if (k)
		CHECK_INT(flint_tsig_sign(&b, k, 1700000000, 300, mac, &mac_len), 0);
	CHECK_INT(mac_len, 64);
	CHECK_INT(flint_dns_msg_parse(b.data, b.len, &m), 0);
	if (m && k) {
		CHECK_INT(m->rrs[1].rclass, FLINT_DNS_C_ANY);
		CHECK_INT(m->rrs[1].rdlen, 0);
		CHECK_STR(m->tsig.alg, "hmac-sha512.");
		CHECK_INT(flint_tsig_verify(m, k, NULL, 0, 1700000100), 0);
	}
	flint_dns_msg_free(m);
	flint_dns_builder_clear(&b);
	flint_tsig_key_free(k);
}

static void test_query_and_delete_rr(void)
{
	struct flint_dns_builder b = {0};
	static const uint8_t want[] = {0x12, 0x34, 0x00, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
				       1, 'a', 4, 't', 'e', 's', 't', 0, 0x00, 0x10, 0x00, 0x01};
	uint8_t rd[2] = {1, 'x'};

	CHECK_INT(flint_dns_build_query(0x1234, "a.test.", FLINT_DNS_T_TXT, false, &b), 0);
	CHECK(b.len == sizeof(want) && memcmp(b.data, want, b.len) == 0);
	flint_dns_builder_clear(&b);
	struct flint_dns_update u = {.op = FLINT_DNS_UPD_DELETE_RR, .name = "a.test",
				     .type = FLINT_DNS_T_TXT, .ttl = 60, .rdata = rd, .rdlen = 2};
	CHECK_INT(flint_dns_build_update(1, "test", &u, 1, &b), 0);
	/* class NONE, TTL 0, the RDATA kept (RFC 2136 §2.5.4) */
	static const uint8_t tail[] = {0x00, 0x10, 0x00, 0xfe, 0, 0, 0, 0, 0, 2, 1, 'x'};
	CHECK(b.len > sizeof(tail) && !memcmp(b.data + b.len - sizeof(tail), tail, sizeof(tail)));
	flint_dns_builder_clear(&b);
	CHECK(flint_dns_build_query(1, "a..test", 1, false, &b) == FLINT_EINVAL);
	CHECK(flint_dns_build_query(1, "a b.test", 1, false, &b) == FLINT_EINVAL);
}

static void test_txt_rdata(void)
{
	char text[301];
	uint8_t out[400];
	size_t n = 0;

	memset(text, 'x', 300);
	text[300] = '\0';
	CHECK_INT(flint_dns_txt_rdata(text, out, sizeof(out), &n), 0);
	CHECK_INT(n, 302);
	CHECK_INT(out[0], 255);
	CHECK_INT(out[256], 45);
	CHECK_INT(flint_dns_txt_rdata(text, out, 100, &n), FLINT_ETOOBIG);
}

static void test_keys(void)
{
	struct flint_tsig_key *k = NULL;
	enum flint_tsig_alg a;

	CHECK_INT(flint_tsig_key_new("k", "hmac-md5", KEY_SECRET, &k), FLINT_EUNSUPPORTED);
	CHECK_INT(flint_tsig_key_new("k", "hmac-sha256", "not base64!", &k), FLINT_EINVAL);
	CHECK_INT(flint_tsig_key_new("k", "hmac-sha256", "QUJD=", &k), FLINT_EINVAL);
	CHECK_INT(flint_tsig_key_new("k", "hmac-sha256", "QQ=A", &k), FLINT_EINVAL);
	CHECK_INT(flint_tsig_key_new(".", "hmac-sha256", KEY_SECRET, &k), FLINT_EINVAL);
	CHECK_INT(flint_tsig_key_new("k", "hmac-sha256", "QUJD", &k), 0);
	CHECK(k && k->secret_len == 3 && !memcmp(k->secret, "ABC", 3));
	flint_tsig_key_free(k);
	CHECK_INT(flint_tsig_key_new("k", "hmac-sha256", "QQ==", &k), 0);
	CHECK(k && k->secret_len == 1);
	flint_tsig_key_free(k);
	CHECK_INT(flint_tsig_alg_parse("hmac-sha512", &a), 0);
	CHECK_INT(a, FLINT_TSIG_HMAC_SHA512);
	flint_tsig_key_free(NULL);
}

/* hostile messages: each must be refused without reading outside the buffer */
static void test_hostile(void)
{
#define HDR(qd, an) 0x00, 0x01, 0x81, 0x80, 0, qd, 0, an, 0, 0, 0, 0
	static const uint8_t self_loop[] = {HDR(1, 0), 0xc0, 12, 0, 1, 0, 1};
	static const uint8_t forward[] = {HDR(1, 0), 0xc0, 14, 0, 1, 0, 1, 0};
	static const uint8_t two_loop[] = {HDR(1, 1), 1, 'a', 0, 0, 1, 0, 1,
					  0xc0, 30, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 20};
	static const uint8_t count_lie[] = {HDR(1, 0xff), 0, 0, 1, 0, 1};
	static const uint8_t trunc_rr[] = {HDR(0, 1), 0, 0, 16, 0, 1, 0, 0};
	static const uint8_t rdlen_past[] = {HDR(0, 1), 0, 0, 16, 0, 1, 0, 0, 0, 60, 0, 9, 3, 'a', 'b'};
	static const uint8_t trailing[] = {HDR(1, 0), 0, 0, 1, 0, 1, 0xff};
	static const uint8_t label_past[] = {HDR(1, 0), 9, 'a', 'b'};
	static const uint8_t ext_label[] = {HDR(1, 0), 0x41, 0, 0, 1, 0, 1};
	static const uint8_t tsig_in_answer[] = {HDR(0, 1), 0, 0, 0xfa, 0, 0xff, 0, 0, 0, 0, 0, 0};
	static const struct {
		const uint8_t *p;
		size_t n;
	} cases[] = {
#define C(x) {x, sizeof(x)}
	    C(self_loop), C(forward), C(two_loop), C(count_lie), C(trunc_rr), C(rdlen_past),
	    C(trailing), C(label_past), C(ext_label), C(tsig_in_answer),
	    {self_loop, 11}, {nsupdate_req, sizeof(nsupdate_req) - 1},
	    {knot_resp, sizeof(knot_resp) - 3},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct flint_dns_msg *m = NULL;

		if (flint_dns_msg_parse(cases[i].p, cases[i].n, &m) == 0) {
			fprintf(stderr, "hostile case %zu parsed\n", i);
			CHECK(0);
		}
		CHECK(m == NULL);
	}
	/* a chain of more pointers than allowed, each strictly backwards */
	uint8_t chain[12 + 2 + 2 * 100 + 4] = {0x00, 0x01, 0x81, 0x80, 0, 1};
	size_t off = 12;
	char name[FLINT_DNS_NAME_BUF];

	chain[off++] = 0; /* root at 12 */
	chain[off++] = 0;
	for (int i = 0; i < 100; i++, off += 2) {
		chain[off] = 0xc0;
		chain[off + 1] = (uint8_t)(off - 2);
	}
	CHECK_INT(flint_dns_name_read(chain, off, off - 2, name, NULL), FLINT_EINVAL);
	CHECK_INT(flint_dns_name_read(chain, off, 20, name, NULL), 0);
	CHECK_STR(name, ".");
	/* a name over 255 bytes through pointers: 5 x 63-byte labels */
	uint8_t big[12 + 64 * 5 + 1] = {0};
	for (int i = 0; i < 5; i++) {
		big[12 + 64 * i] = 63;
		memset(big + 13 + 64 * i, 'a', 63);
	}
	CHECK_INT(flint_dns_name_read(big, sizeof(big), 12, name, NULL), FLINT_EINVAL);
	CHECK_INT(flint_dns_name_read(big, sizeof(big), 12 + 128, name, NULL), 0);
}

int main(void)
{
	RUN(test_parse_nsupdate);
	RUN(test_verify_nsupdate);
	RUN(test_encode_like_nsupdate);
	RUN(test_verify_knot_response);
	RUN(test_sha512_roundtrip);
	RUN(test_query_and_delete_rr);
	RUN(test_txt_rdata);
	RUN(test_keys);
	RUN(test_hostile);
	return CHECK_DONE();
}
