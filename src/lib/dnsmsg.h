/* DNS messages on the wire (RFC 1035 §4): QUERY and UPDATE (RFC 2136 §2)
 * building, bounded response parsing, and TSIG signing and verification (RFC 8945 §4). */
#ifndef FLINT_DNSMSG_H
#define FLINT_DNSMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FLINT_DNS_MSG_MAX 65535  /* a message is at most this long (TCP length prefix) */
#define FLINT_DNS_NAME_BUF 1024  /* presentation form of any wire name, with NUL */
#define FLINT_DNS_MAX_RRS 1024   /* a parsed message holds at most this many records */
#define FLINT_DNS_MAX_PTRS 64    /* compression pointers followed per name */

enum flint_dns_type {
	FLINT_DNS_T_A = 1, FLINT_DNS_T_NS = 2, FLINT_DNS_T_CNAME = 5, FLINT_DNS_T_SOA = 6,
	FLINT_DNS_T_TXT = 16, FLINT_DNS_T_AAAA = 28, FLINT_DNS_T_TSIG = 250, FLINT_DNS_T_ANY = 255,
};
enum flint_dns_class { FLINT_DNS_C_IN = 1, FLINT_DNS_C_NONE = 254, FLINT_DNS_C_ANY = 255 };
enum flint_dns_opcode { FLINT_DNS_OP_QUERY = 0, FLINT_DNS_OP_UPDATE = 5 };
/* RCODEs (RFC 1035, RFC 2136 §2.2) and TSIG errors (RFC 8945 §5.3). */
enum flint_dns_rcode {
	FLINT_DNS_R_NOERROR = 0, FLINT_DNS_R_FORMERR = 1, FLINT_DNS_R_SERVFAIL = 2,
	FLINT_DNS_R_NXDOMAIN = 3, FLINT_DNS_R_NOTIMP = 4, FLINT_DNS_R_REFUSED = 5,
	FLINT_DNS_R_YXDOMAIN = 6, FLINT_DNS_R_YXRRSET = 7, FLINT_DNS_R_NXRRSET = 8,
	FLINT_DNS_R_NOTAUTH = 9, FLINT_DNS_R_NOTZONE = 10, FLINT_DNS_R_BADSIG = 16,
	FLINT_DNS_R_BADKEY = 17, FLINT_DNS_R_BADTIME = 18, FLINT_DNS_R_BADTRUNC = 22,
};
/* Header flag bits (second 16-bit word). */
#define FLINT_DNS_F_QR 0x8000
#define FLINT_DNS_F_AA 0x0400
#define FLINT_DNS_F_TC 0x0200
#define FLINT_DNS_F_RD 0x0100

/* "NOERROR", "NOTAUTH", "BADSIG", ... or "RCODE<n>" in a static buffer per call site. */
const char *flint_dns_rcode_name(int rcode);

/* A message being built, growing up to FLINT_DNS_MSG_MAX. Names are written
 * uncompressed (as nsupdate writes UPDATEs). */
struct flint_dns_builder {
	uint8_t *data;
	size_t len, cap;
};
void flint_dns_builder_clear(struct flint_dns_builder *b); /* frees data */

/* A QUERY for (name, type, class IN), with RD set when rd. */
int flint_dns_build_query(uint16_t id, const char *name, uint16_t type, bool rd,
			  struct flint_dns_builder *ret);

/* One change in an UPDATE (RFC 2136 §2.5). */
enum flint_dns_update_op {
	FLINT_DNS_UPD_ADD,          /* add RR (class IN, ttl, rdata) */
	FLINT_DNS_UPD_DELETE_RR,    /* delete this RR (class NONE, ttl 0, rdata) */
	FLINT_DNS_UPD_DELETE_RRSET, /* delete the RRset (class ANY, ttl 0, no rdata) */
};
struct flint_dns_update {
	enum flint_dns_update_op op;
	const char *name;
	uint16_t type;
	uint32_t ttl;
	const uint8_t *rdata;
	size_t rdlen;
};
/* An UPDATE for zone (zone section: zone SOA IN), no prerequisites, these updates. */
int flint_dns_build_update(uint16_t id, const char *zone, const struct flint_dns_update *u,
			   size_t n, struct flint_dns_builder *ret);

/* TXT RDATA holding text as character-strings of up to 255 bytes each. out
 * holds *ret_len <= cap bytes; FLINT_ETOOBIG when cap is short. */
int flint_dns_txt_rdata(const char *text, uint8_t *out, size_t cap, size_t *ret_len);

/* Name in presentation form ("a.example.", "." for the root; trailing dot optional)
 * to uncompressed wire form, lowercased when lower. out has 255 bytes. */
int flint_dns_name_to_wire(const char *name, bool lower, uint8_t out[255], size_t *ret_len);

/* ---- TSIG (RFC 8945) ---- */

enum flint_tsig_alg { FLINT_TSIG_HMAC_SHA256, FLINT_TSIG_HMAC_SHA512 };
/* "hmac-sha256" / "hmac-sha512" (case-insensitive, trailing dot allowed). */
int flint_tsig_alg_parse(const char *name, enum flint_tsig_alg *ret);
const char *flint_tsig_alg_name(enum flint_tsig_alg alg); /* "hmac-sha256." */

struct flint_tsig_key {
	char *name; /* presentation form */
	enum flint_tsig_alg alg;
	uint8_t *secret;
	size_t secret_len;
};
/* From the key name, algorithm name and the standard-base64 secret (RFC 4648 §4). */
int flint_tsig_key_new(const char *name, const char *alg, const char *secret_b64,
		       struct flint_tsig_key **ret);
void flint_tsig_key_free(struct flint_tsig_key *k); /* wipes the secret */

#define FLINT_TSIG_MAC_MAX 64

/* Signs the message in b (RFC 8945 §4.3.1): appends the TSIG RR to the
 * additional section and counts it. ret_mac (FLINT_TSIG_MAC_MAX bytes) gets the
 * request MAC, needed to verify the response. */
int flint_tsig_sign(struct flint_dns_builder *b, const struct flint_tsig_key *k,
		    uint64_t time_signed, uint16_t fudge, uint8_t *ret_mac, size_t *ret_mac_len);

/* ---- parsing ---- */

struct flint_dns_rr {
	char name[FLINT_DNS_NAME_BUF];
	uint16_t type, rclass;
	uint32_t ttl;
	size_t rdoff; /* offset of the RDATA in the message */
	uint16_t rdlen;
	uint8_t section; /* 0 question, 1 answer, 2 authority, 3 additional */
};

struct flint_dns_tsig {
	char alg[FLINT_DNS_NAME_BUF];
	uint64_t time_signed;
	uint16_t fudge, orig_id, error;
	const uint8_t *mac;
	uint16_t mac_len;
	size_t rr_off; /* where the TSIG RR starts: the MAC covers the bytes before */
};

struct flint_dns_msg {
	const uint8_t *data; /* borrowed: the caller keeps it alive */
	size_t len;
	uint16_t id, flags, counts[4];
	int opcode, rcode; /* rcode: the 4 header bits */
	struct flint_dns_rr *rrs; /* every record of every section, questions included */
	size_t n_rrs;
	bool has_tsig;        /* the last additional record is a TSIG */
	struct flint_dns_tsig tsig;
};

/* Parses a whole message with strict bounds: counts must match the data,
 * rdata lengths must stay inside it, names are at most 255 bytes with at most
 * FLINT_DNS_MAX_PTRS backwards compression pointers, and nothing may follow
 * the last record. A TSIG anywhere but last is FLINT_EINVAL. */
int flint_dns_msg_parse(const uint8_t *data, size_t len, struct flint_dns_msg **ret);
void flint_dns_msg_free(struct flint_dns_msg *m);

/* A (possibly compressed) name at off in the message; *ret_next is the offset after it. */
int flint_dns_name_read(const uint8_t *msg, size_t len, size_t off, char out[FLINT_DNS_NAME_BUF],
			size_t *ret_next);
/* The name in an NS or CNAME record's RDATA, or the MNAME of an SOA. */
int flint_dns_rr_name(const struct flint_dns_msg *m, const struct flint_dns_rr *rr,
		      char out[FLINT_DNS_NAME_BUF]);
/* Whether a TXT record holds exactly the single value text (its strings joined). */
bool flint_dns_rr_txt_equals(const struct flint_dns_msg *m, const struct flint_dns_rr *rr,
			     const char *text);
/* Case-insensitive comparison of presentation names, trailing dots ignored. */
bool flint_dns_name_equal(const char *a, const char *b);

/* Verifies the TSIG of a signed message (RFC 8945 §5.2, §5.4): the key's name and
 * algorithm, the MAC (over request_mac first when it is a response, request_mac_len > 0),
 * and the time within fudge of now. FLINT_ENOTFOUND when unsigned, FLINT_EBADKEY
 * for another key, FLINT_EBADSIG when the MAC differs, FLINT_EPROTO on BADTIME. */
int flint_tsig_verify(const struct flint_dns_msg *m, const struct flint_tsig_key *k,
		      const uint8_t *request_mac, size_t request_mac_len, uint64_t now);

#endif
