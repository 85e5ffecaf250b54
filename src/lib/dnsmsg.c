/* DNS messages on the wire: QUERY and UPDATE building (RFC 1035 §4.1, RFC 2136 §2),
 * parsing with hard bounds, and TSIG with HMAC-SHA256/512 (RFC 8945 §4, §5). */
#include "dnsmsg.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "digest.h"
#include "error.h"

#define HDR_LEN 12

const char *flint_dns_rcode_name(int rcode)
{
	static const char *const names[] = {
	    [0] = "NOERROR",   [1] = "FORMERR",   [2] = "SERVFAIL", [3] = "NXDOMAIN",
	    [4] = "NOTIMP",    [5] = "REFUSED",   [6] = "YXDOMAIN", [7] = "YXRRSET",
	    [8] = "NXRRSET",   [9] = "NOTAUTH",   [10] = "NOTZONE", [16] = "BADSIG",
	    [17] = "BADKEY",   [18] = "BADTIME",  [19] = "BADMODE", [20] = "BADNAME",
	    [21] = "BADALG",   [22] = "BADTRUNC", [23] = "BADCOOKIE",
	};
	if (rcode >= 0 && (size_t)rcode < sizeof(names) / sizeof(names[0]) && names[rcode])
		return names[rcode];
	return "unknown RCODE";
}

/* ---------------------------------------------------------------- names */

int flint_dns_name_to_wire(const char *name, bool lower, uint8_t out[255], size_t *ret_len)
{
	size_t n = 0, len;

	if (!name)
		return FLINT_EINVAL;
	len = strlen(name);
	if (len > 0 && name[len - 1] == '.')
		len--;
	for (size_t i = 0; i < len;) {
		size_t j = i;

		while (j < len && name[j] != '.')
			j++;
		if (j == i || j - i > 63 || n + 1 + (j - i) + 1 > 255)
			return FLINT_EINVAL; /* empty label, label or name too long */
		out[n++] = (uint8_t)(j - i);
		for (size_t k = i; k < j; k++) {
			unsigned char c = (unsigned char)name[k];

			if (c == '\\' || c < 0x21 || c > 0x7e)
				return FLINT_EINVAL; /* no escapes: we only encode names we are given plainly */
			out[n++] = lower ? (uint8_t)tolower(c) : c;
		}
		i = j + 1;
	}
	out[n++] = 0;
	*ret_len = n;
	return 0;
}

bool flint_dns_name_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la && a[la - 1] == '.')
		la--;
	if (lb && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

/* Appends one label to the presentation buffer, escaping like BIND (\. \\ \DDD). */
static int label_append(char *out, size_t *pos, const uint8_t *lab, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = lab[i];

		if (*pos + 5 >= FLINT_DNS_NAME_BUF)
			return FLINT_ETOOBIG;
		if (c == '.' || c == '\\' || c == '"' || c == '(' || c == ')' || c == ';') {
			out[(*pos)++] = '\\';
			out[(*pos)++] = (char)c;
		} else if (c < 0x21 || c > 0x7e) {
			*pos += (size_t)snprintf(out + *pos, 5, "\\%03u", c);
		} else {
			out[(*pos)++] = (char)c;
		}
	}
	out[(*pos)++] = '.';
	return 0;
}

int flint_dns_name_read(const uint8_t *msg, size_t len, size_t off, char out[FLINT_DNS_NAME_BUF],
			size_t *ret_next)
{
	size_t pos = 0, wire = 0, next = 0, ptrs = 0;
	bool jumped = false;

	for (;;) {
		if (off >= len)
			return FLINT_EINVAL;
		uint8_t l = msg[off];

		if ((l & 0xc0) == 0xc0) {
			if (off + 1 >= len)
				return FLINT_EINVAL;
			size_t target = ((size_t)(l & 0x3f) << 8) | msg[off + 1];

			/* only strictly backwards, and a bounded number: no loops */
			if (target >= off || ++ptrs > FLINT_DNS_MAX_PTRS)
				return FLINT_EINVAL;
			if (!jumped)
				next = off + 2;
			jumped = true;
			off = target;
			continue;
		}
		if (l & 0xc0)
			return FLINT_EINVAL; /* 0x40/0x80: extended label types, obsolete */
		if (l == 0) {
			if (!jumped)
				next = off + 1;
			break;
		}
		if (off + 1 + l > len || (wire += 1u + l) + 1 > 255)
			return FLINT_EINVAL;
		if (label_append(out, &pos, msg + off + 1, l) < 0)
			return FLINT_EINVAL;
		off += 1u + l;
	}
	if (pos == 0)
		out[pos++] = '.';
	out[pos] = '\0';
	if (ret_next)
		*ret_next = next;
	return 0;
}

/* ---------------------------------------------------------------- building */

void flint_dns_builder_clear(struct flint_dns_builder *b)
{
	if (!b)
		return;
	free(b->data);
	memset(b, 0, sizeof(*b));
}

static int put(struct flint_dns_builder *b, const void *p, size_t n)
{
	if (n > FLINT_DNS_MSG_MAX - b->len)
		return FLINT_ETOOBIG;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 512;
		uint8_t *d;

		while (cap < b->len + n)
			cap *= 2;
		if (cap > FLINT_DNS_MSG_MAX)
			cap = FLINT_DNS_MSG_MAX;
		if (!(d = realloc(b->data, cap)))
			return FLINT_ENOMEM;
		b->data = d;
		b->cap = cap;
	}
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

static int put16(struct flint_dns_builder *b, uint16_t v)
{
	uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	return put(b, x, 2);
}

static int put32(struct flint_dns_builder *b, uint32_t v)
{
	uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	return put(b, x, 4);
}

static void set16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }

static uint32_t get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Writes a name uncompressed, as nsupdate does in UPDATEs: the messages we
 * build hold a handful of names, and identical bytes are easier to check. */
static int put_name(struct flint_dns_builder *b, const char *name)
{
	uint8_t w[255];
	size_t wl;
	int r;

	if ((r = flint_dns_name_to_wire(name, false, w, &wl)) < 0)
		return r;
	return put(b, w, wl);
}

static int put_header(struct flint_dns_builder *b, uint16_t id, uint16_t flags, uint16_t qd,
		      uint16_t an, uint16_t ns, uint16_t ar)
{
	int r;

	memset(b, 0, sizeof(*b));
	if ((r = put16(b, id)) < 0 || (r = put16(b, flags)) < 0 || (r = put16(b, qd)) < 0 ||
	    (r = put16(b, an)) < 0 || (r = put16(b, ns)) < 0 || (r = put16(b, ar)) < 0)
		return r;
	return 0;
}

int flint_dns_build_query(uint16_t id, const char *name, uint16_t type, bool rd,
			  struct flint_dns_builder *ret)
{
	struct flint_dns_builder b;
	int r;

	if ((r = put_header(&b, id, rd ? FLINT_DNS_F_RD : 0, 1, 0, 0, 0)) < 0 ||
	    (r = put_name(&b, name)) < 0 || (r = put16(&b, type)) < 0 ||
	    (r = put16(&b, FLINT_DNS_C_IN)) < 0) {
		flint_dns_builder_clear(&b);
		return r;
	}
	*ret = b;
	return 0;
}

int flint_dns_build_update(uint16_t id, const char *zone, const struct flint_dns_update *u,
			   size_t n, struct flint_dns_builder *ret)
{
	struct flint_dns_builder b;
	int r;

	if (n > 0xffff)
		return FLINT_ETOOBIG;
	/* ZOCOUNT 1, PRCOUNT 0, UPCOUNT n, ADCOUNT 0 (RFC 2136 §2.2) */
	if ((r = put_header(&b, id, FLINT_DNS_OP_UPDATE << 11, 1, 0, (uint16_t)n, 0)) < 0 ||
	    (r = put_name(&b, zone)) < 0 || (r = put16(&b, FLINT_DNS_T_SOA)) < 0 ||
	    (r = put16(&b, FLINT_DNS_C_IN)) < 0)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		uint16_t cls = FLINT_DNS_C_IN;
		uint32_t ttl = u[i].ttl;
		size_t rdlen = u[i].rdlen;

		if (u[i].op == FLINT_DNS_UPD_DELETE_RR) {
			cls = FLINT_DNS_C_NONE; /* §2.5.4 */
			ttl = 0;
		} else if (u[i].op == FLINT_DNS_UPD_DELETE_RRSET) {
			cls = FLINT_DNS_C_ANY; /* §2.5.2 */
			ttl = 0;
			rdlen = 0;
		}
		if (rdlen > 0xffff) {
			r = FLINT_ETOOBIG;
			goto fail;
		}
		if ((r = put_name(&b, u[i].name)) < 0 || (r = put16(&b, u[i].type)) < 0 ||
		    (r = put16(&b, cls)) < 0 || (r = put32(&b, ttl)) < 0 ||
		    (r = put16(&b, (uint16_t)rdlen)) < 0 || (r = put(&b, u[i].rdata, rdlen)) < 0)
			goto fail;
	}
	*ret = b;
	return 0;
fail:
	flint_dns_builder_clear(&b);
	return r;
}

int flint_dns_txt_rdata(const char *text, uint8_t *out, size_t cap, size_t *ret_len)
{
	size_t len = strlen(text), n = 0;

	do {
		size_t chunk = len > 255 ? 255 : len;

		if (n + 1 + chunk > cap)
			return FLINT_ETOOBIG;
		out[n++] = (uint8_t)chunk;
		memcpy(out + n, text, chunk);
		n += chunk;
		text += chunk;
		len -= chunk;
	} while (len > 0);
	*ret_len = n;
	return 0;
}

/* ---------------------------------------------------------------- TSIG */

static const struct {
	const char *name; /* canonical, as on the wire */
	enum flint_md md;
	size_t mac_len;
} tsig_algs[] = {
    [FLINT_TSIG_HMAC_SHA256] = {"hmac-sha256.", FLINT_MD_SHA256, 32},
    [FLINT_TSIG_HMAC_SHA512] = {"hmac-sha512.", FLINT_MD_SHA512, 64},
};

int flint_tsig_alg_parse(const char *name, enum flint_tsig_alg *ret)
{
	for (size_t i = 0; name && i < sizeof(tsig_algs) / sizeof(tsig_algs[0]); i++) {
		if (flint_dns_name_equal(name, tsig_algs[i].name)) {
			*ret = (enum flint_tsig_alg)i;
			return 0;
		}
	}
	return FLINT_EUNSUPPORTED;
}

const char *flint_tsig_alg_name(enum flint_tsig_alg alg) { return tsig_algs[alg].name; }

void flint_tsig_key_free(struct flint_tsig_key *k)
{
	if (!k)
		return;
	if (k->secret)
		OPENSSL_cleanse(k->secret, k->secret_len);
	free(k->secret);
	free(k->name);
	free(k);
}

/* Standard base64 with padding (RFC 4648 §4), whitespace not allowed. */
static int b64_std_decode(const char *in, uint8_t **ret, size_t *ret_len)
{
	size_t len = strlen(in), pad = 0;
	uint8_t *out;
	int n;

	if (len == 0 || len % 4 != 0 || len > 4096)
		return FLINT_EINVAL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c == '=') {
			if (i < len - 2 || (i == len - 2 && in[len - 1] != '='))
				return FLINT_EINVAL;
			pad++;
		} else if (!isalnum(c) && c != '+' && c != '/') {
			return FLINT_EINVAL;
		}
	}
	if (!(out = malloc(len / 4 * 3 + 1)))
		return FLINT_ENOMEM;
	n = EVP_DecodeBlock(out, (const unsigned char *)in, (int)len);
	if (n < 0 || (size_t)n < pad) {
		free(out);
		return FLINT_EINVAL;
	}
	*ret = out;
	*ret_len = (size_t)n - pad;
	return 0;
}

int flint_tsig_key_new(const char *name, const char *alg, const char *secret_b64,
		       struct flint_tsig_key **ret)
{
	struct flint_tsig_key *k;
	uint8_t w[255];
	size_t wl;
	int r;

	if (!name || !alg || !secret_b64)
		return FLINT_EINVAL;
	if (flint_dns_name_to_wire(name, true, w, &wl) < 0 || wl < 2)
		return FLINT_EINVAL;
	if (!(k = calloc(1, sizeof(*k))))
		return FLINT_ENOMEM;
	if ((r = flint_tsig_alg_parse(alg, &k->alg)) < 0 ||
	    (r = b64_std_decode(secret_b64, &k->secret, &k->secret_len)) < 0)
		goto fail;
	if (k->secret_len == 0) {
		r = FLINT_EINVAL;
		goto fail;
	}
	if (!(k->name = strdup(name))) {
		r = FLINT_ENOMEM;
		goto fail;
	}
	*ret = k;
	return 0;
fail:
	flint_tsig_key_free(k);
	return r;
}

/* The TSIG variables (RFC 8945 §4.3.3) appended to d. */
static int put_tsig_vars(struct flint_dns_builder *d, const struct flint_tsig_key *k,
			 uint64_t time_signed, uint16_t fudge, uint16_t error)
{
	uint8_t w[255];
	size_t wl;
	int r;

	if ((r = flint_dns_name_to_wire(k->name, true, w, &wl)) < 0 || (r = put(d, w, wl)) < 0 ||
	    (r = put16(d, FLINT_DNS_C_ANY)) < 0 || (r = put32(d, 0)) < 0 ||
	    (r = flint_dns_name_to_wire(tsig_algs[k->alg].name, true, w, &wl)) < 0 ||
	    (r = put(d, w, wl)) < 0 || (r = put16(d, (uint16_t)(time_signed >> 32))) < 0 ||
	    (r = put32(d, (uint32_t)time_signed)) < 0 || (r = put16(d, fudge)) < 0 ||
	    (r = put16(d, error)) < 0 || (r = put16(d, 0)) < 0)
		return r;
	return 0;
}

/* HMAC over [request MAC size + MAC] + msg + the TSIG variables. */
static int tsig_mac(const struct flint_tsig_key *k, const uint8_t *req_mac, size_t req_mac_len,
		    const uint8_t *msg, size_t msg_len, uint64_t time_signed, uint16_t fudge,
		    uint16_t error, uint8_t *out, size_t *out_len)
{
	struct flint_dns_builder d = {0};
	unsigned int len = 0;
	int r;

	if (req_mac_len > 0 &&
	    ((r = put16(&d, (uint16_t)req_mac_len)) < 0 || (r = put(&d, req_mac, req_mac_len)) < 0))
		goto out;
	if ((r = put(&d, msg, msg_len)) < 0 ||
	    (r = put_tsig_vars(&d, k, time_signed, fudge, error)) < 0)
		goto out;
	if (!HMAC(flint_md(tsig_algs[k->alg].md), k->secret, (int)k->secret_len, d.data, d.len,
		  out, &len)) {
		r = FLINT_ECRYPTO;
		goto out;
	}
	*out_len = len;
	r = 0;
out:
	flint_dns_builder_clear(&d);
	return r;
}

int flint_tsig_sign(struct flint_dns_builder *b, const struct flint_tsig_key *k,
		    uint64_t time_signed, uint16_t fudge, uint8_t *ret_mac, size_t *ret_mac_len)
{
	uint8_t mac[EVP_MAX_MD_SIZE], w[255];
	size_t mac_len = 0, wl, rdstart;
	uint16_t id, ar;
	int r;

	if (!b || !k || b->len < HDR_LEN || time_signed >> 48)
		return FLINT_EINVAL;
	id = get16(b->data);
	ar = get16(b->data + 10);
	if (ar == 0xffff)
		return FLINT_ETOOBIG;
	if ((r = tsig_mac(k, NULL, 0, b->data, b->len, time_signed, fudge, 0, mac, &mac_len)) < 0)
		return r;
	/* the TSIG RR (§4.2): names uncompressed and lowercase */
	if ((r = flint_dns_name_to_wire(k->name, true, w, &wl)) < 0 || (r = put(b, w, wl)) < 0 ||
	    (r = put16(b, FLINT_DNS_T_TSIG)) < 0 || (r = put16(b, FLINT_DNS_C_ANY)) < 0 ||
	    (r = put32(b, 0)) < 0 || (r = put16(b, 0)) < 0)
		return r;
	rdstart = b->len;
	if ((r = flint_dns_name_to_wire(tsig_algs[k->alg].name, true, w, &wl)) < 0 ||
	    (r = put(b, w, wl)) < 0 || (r = put16(b, (uint16_t)(time_signed >> 32))) < 0 ||
	    (r = put32(b, (uint32_t)time_signed)) < 0 || (r = put16(b, fudge)) < 0 ||
	    (r = put16(b, (uint16_t)mac_len)) < 0 || (r = put(b, mac, mac_len)) < 0 ||
	    (r = put16(b, id)) < 0 || (r = put16(b, 0)) < 0 || (r = put16(b, 0)) < 0)
		return r;
	set16(b->data + rdstart - 2, (uint16_t)(b->len - rdstart));
	set16(b->data + 10, (uint16_t)(ar + 1));
	if (ret_mac && ret_mac_len) {
		memcpy(ret_mac, mac, mac_len);
		*ret_mac_len = mac_len;
	}
	OPENSSL_cleanse(mac, sizeof(mac));
	return 0;
}

int flint_tsig_verify(const struct flint_dns_msg *m, const struct flint_tsig_key *k,
		      const uint8_t *request_mac, size_t request_mac_len, uint64_t now)
{
	uint8_t mac[EVP_MAX_MD_SIZE], *copy;
	size_t mac_len = 0;
	const struct flint_dns_tsig *t = &m->tsig;
	const struct flint_dns_rr *rr;
	int r;

	if (!m->has_tsig)
		return FLINT_ENOTFOUND;
	rr = &m->rrs[m->n_rrs - 1];
	if (!flint_dns_name_equal(rr->name, k->name) ||
	    !flint_dns_name_equal(t->alg, tsig_algs[k->alg].name))
		return FLINT_EBADKEY;
	/* §5.2.2: a truncated MAC (RFC 8945 §5.2.2.1) is refused: we never ask for one */
	if (t->mac_len != tsig_algs[k->alg].mac_len)
		return FLINT_EBADSIG;
	/* the MAC covers the message as it was before the TSIG: original ID, ARCOUNT - 1 */
	if (!(copy = malloc(t->rr_off)))
		return FLINT_ENOMEM;
	memcpy(copy, m->data, t->rr_off);
	set16(copy, t->orig_id);
	set16(copy + 10, (uint16_t)(m->counts[3] - 1));
	r = tsig_mac(k, request_mac, request_mac_len, copy, t->rr_off, t->time_signed, t->fudge,
		     t->error, mac, &mac_len);
	free(copy);
	if (r < 0)
		return r;
	if (mac_len != t->mac_len || CRYPTO_memcmp(mac, t->mac, mac_len) != 0)
		return FLINT_EBADSIG;
	/* §5.2.3: the time is checked only once the MAC is known good */
	if ((now > t->time_signed ? now - t->time_signed : t->time_signed - now) > t->fudge)
		return FLINT_EPROTO;
	return 0;
}

/* ---------------------------------------------------------------- parsing */

void flint_dns_msg_free(struct flint_dns_msg *m)
{
	if (!m)
		return;
	free(m->rrs);
	free(m);
}

static int parse_tsig(struct flint_dns_msg *m, const struct flint_dns_rr *rr, size_t rr_off)
{
	const uint8_t *p = m->data;
	size_t off = rr->rdoff, end = rr->rdoff + rr->rdlen, next;
	struct flint_dns_tsig *t = &m->tsig;
	uint16_t other;

	if (rr->rclass != FLINT_DNS_C_ANY || rr->ttl != 0)
		return FLINT_EINVAL;
	/* the algorithm name must not be compressed (§4.2): read it within the RDATA only */
	if (flint_dns_name_read(p, end, off, t->alg, &next) < 0)
		return FLINT_EINVAL;
	for (size_t i = off; i < next; i += 1u + p[i])
		if ((p[i] & 0xc0) != 0)
			return FLINT_EINVAL;
	off = next;
	if (end - off < 10)
		return FLINT_EINVAL;
	t->time_signed = ((uint64_t)get16(p + off) << 32) | get32(p + off + 2);
	t->fudge = get16(p + off + 6);
	t->mac_len = get16(p + off + 8);
	off += 10;
	if (end - off < (size_t)t->mac_len + 6)
		return FLINT_EINVAL;
	t->mac = p + off;
	off += t->mac_len;
	t->orig_id = get16(p + off);
	t->error = get16(p + off + 2);
	other = get16(p + off + 4);
	off += 6;
	if (end - off != other)
		return FLINT_EINVAL;
	t->rr_off = rr_off;
	m->has_tsig = true;
	return 0;
}

int flint_dns_msg_parse(const uint8_t *data, size_t len, struct flint_dns_msg **ret)
{
	struct flint_dns_msg *m;
	size_t off = HDR_LEN, total = 0, last_off = 0;
	int r = FLINT_EINVAL;

	if (!data || len < HDR_LEN || len > FLINT_DNS_MSG_MAX)
		return FLINT_EINVAL;
	if (!(m = calloc(1, sizeof(*m))))
		return FLINT_ENOMEM;
	m->data = data;
	m->len = len;
	m->id = get16(data);
	m->flags = get16(data + 2);
	m->opcode = (m->flags >> 11) & 0xf;
	m->rcode = m->flags & 0xf;
	for (int s = 0; s < 4; s++) {
		m->counts[s] = get16(data + 4 + 2 * s);
		total += m->counts[s];
	}
	/* each record needs at least 5 bytes (question) or 11 (RR): counts past the data are lies */
	if (total > FLINT_DNS_MAX_RRS || total * 5 > len - HDR_LEN) {
		r = total > FLINT_DNS_MAX_RRS ? FLINT_ETOOBIG : FLINT_EINVAL;
		goto fail;
	}
	if (total && !(m->rrs = calloc(total, sizeof(*m->rrs)))) {
		r = FLINT_ENOMEM;
		goto fail;
	}
	for (int s = 0; s < 4; s++) {
		for (unsigned i = 0; i < m->counts[s]; i++) {
			struct flint_dns_rr *rr = &m->rrs[m->n_rrs];

			last_off = off;
			if (flint_dns_name_read(data, len, off, rr->name, &off) < 0)
				goto fail;
			rr->section = (uint8_t)s;
			if (len - off < 4)
				goto fail;
			rr->type = get16(data + off);
			rr->rclass = get16(data + off + 2);
			off += 4;
			if (s > 0) {
				if (len - off < 6)
					goto fail;
				rr->ttl = get32(data + off);
				rr->rdlen = get16(data + off + 4);
				off += 6;
				if (len - off < rr->rdlen)
					goto fail;
				rr->rdoff = off;
				off += rr->rdlen;
			}
			m->n_rrs++;
			if (rr->type == FLINT_DNS_T_TSIG) {
				/* only as the very last record of the additional section (§5.1) */
				if (s != 3 || i + 1 != m->counts[s])
					goto fail;
				if (parse_tsig(m, rr, last_off) < 0)
					goto fail;
			}
		}
	}
	if (off != len)
		goto fail; /* trailing garbage */
	*ret = m;
	return 0;
fail:
	flint_dns_msg_free(m);
	return r;
}

int flint_dns_rr_name(const struct flint_dns_msg *m, const struct flint_dns_rr *rr,
		      char out[FLINT_DNS_NAME_BUF])
{
	size_t next;

	if (rr->section == 0 || (rr->type != FLINT_DNS_T_NS && rr->type != FLINT_DNS_T_CNAME &&
				 rr->type != FLINT_DNS_T_SOA))
		return FLINT_EINVAL;
	/* the name may point backwards anywhere, but must start and (uncompressed part) end inside the RDATA */
	if (flint_dns_name_read(m->data, m->len, rr->rdoff, out, &next) < 0 ||
	    next > (size_t)rr->rdoff + rr->rdlen)
		return FLINT_EINVAL;
	return 0;
}

bool flint_dns_rr_txt_equals(const struct flint_dns_msg *m, const struct flint_dns_rr *rr,
			     const char *text)
{
	const uint8_t *p = m->data + rr->rdoff;
	size_t n = rr->rdlen, tl = strlen(text), got = 0;

	if (rr->section == 0 || rr->type != FLINT_DNS_T_TXT || n == 0)
		return false;
	for (size_t i = 0; i < n;) {
		size_t l = p[i];

		if (l > n - i - 1 || got + l > tl || memcmp(p + i + 1, text + got, l) != 0)
			return false;
		got += l;
		i += 1 + l;
	}
	return got == tl;
}
