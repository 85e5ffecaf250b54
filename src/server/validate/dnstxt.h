/* The TXT check dns-01 (RFC 8555 §8.4) and dns-account-01
 * (draft-ietf-acme-dns-account-label) share; implemented in dns01.c. */
#ifndef FLINT_DNSTXT_H
#define FLINT_DNSTXT_H

#include "problem.h"
#include "validate/validator.h"

/* 0 when one TXT record at name (CNAMEs followed) equals
 * base64url(SHA-256(key_authorization)). Otherwise a negative code and
 * *ret_problem: unauthorized "No TXT record found at NAME", incorrectResponse
 * "Incorrect TXT record ... found at NAME" (at most three shown, truncated), or
 * the resolver's dns problem. why, when not NULL, is appended to those details
 * (e.g. which account the name belongs to). */
int flint_dns_txt_check(const struct flint_validator_ctx *ctx, const char *name,
			const char *key_authorization, const char *why,
			struct flint_problem **ret_problem);

#endif
