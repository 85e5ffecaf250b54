/* libFuzzer driver for DNS responses (RFC 1035 §4.1) as the DNS UPDATE solver
 * receives them: parsing, names in RDATA, TXT matching and TSIG checks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dnsmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct flint_tsig_key *key;
	struct flint_dns_msg *m = NULL;
	char name[FLINT_DNS_NAME_BUF];
	static const uint8_t req_mac[32];

	if (!key && flint_tsig_key_new("flint-test.", "hmac-sha256",
				       "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", &key) < 0)
		abort();
	if (flint_dns_msg_parse(data, size, &m) < 0) {
		if (m)
			abort();
		return 0;
	}
	for (size_t i = 0; i < m->n_rrs; i++) {
		const struct flint_dns_rr *rr = &m->rrs[i];

		if (strlen(rr->name) >= FLINT_DNS_NAME_BUF ||
		    (rr->section && (size_t)rr->rdoff + rr->rdlen > size))
			abort();
		if (flint_dns_rr_name(m, rr, name) == 0 && strlen(name) >= FLINT_DNS_NAME_BUF)
			abort();
		(void)flint_dns_rr_txt_equals(m, rr, "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0");
	}
	(void)flint_tsig_verify(m, key, req_mac, sizeof(req_mac), m->tsig.time_signed);
	flint_dns_msg_free(m);
	return 0;
}
