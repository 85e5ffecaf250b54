/* Renewal timing for the flint client: the CA's suggestedWindow (RFC 9773
 * §4.2) when known, else 2/3 of the lifetime (1/2 for 10 days or less). */
#include "renew.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "output.h"
#include "timefmt.h"

int64_t flint_renew_time(int64_t not_before, int64_t not_after)
{
	int64_t life;

	if (not_after <= not_before)
		return not_before;
	life = not_after - not_before;
	if (life <= FLINT_RENEW_SHORT_LIFETIME)
		return not_before + life / 2;
	/* 2/3 without overflowing for far-future notAfter dates */
	return not_before + life / 3 * 2 + (life % 3) * 2 / 3;
}

bool flint_renew_due(int64_t not_before, int64_t not_after, int64_t now)
{
	return now >= flint_renew_time(not_before, not_after);
}

/* ------------------------------------------------ RFC 9773 renewalInfo */

void flint_ari_state_clear(struct flint_ari_state *s)
{
	if (!s)
		return;
	free(s->cert_id);
	free(s->explanation_url);
	memset(s, 0, sizeof(*s));
}

bool flint_ari_should_fetch(const struct flint_ari_state *s, int64_t now)
{
	return !s || now >= s->next_check;
}

static int64_t clamp_retry(long retry_after, int64_t fallback)
{
	if (retry_after < 0)
		return fallback;
	if (retry_after < FLINT_ARI_RETRY_MIN)
		return FLINT_ARI_RETRY_MIN;
	return retry_after > FLINT_ARI_RETRY_MAX ? FLINT_ARI_RETRY_MAX : retry_after;
}

/* suggestedWindow {start, end} and explanationURL of a RenewalInfo object. */
static int parse_renewal_info(const char *body, size_t len, int64_t *ret_start, int64_t *ret_end,
			      char **ret_url, char **ret_err)
{
	json_error_t jerr;
	json_t *doc = json_loadb(body ? body : "", len, 0, &jerr), *win, *url;
	const char *s, *e;
	int64_t start, end;
	int r = FLINT_EINVAL;

	if (!doc) {
		flint_set_err(ret_err, "renewalInfo is not JSON (%s)", jerr.text);
		return r;
	}
	win = json_object_get(doc, "suggestedWindow");
	s = json_string_value(json_object_get(win, "start"));
	e = json_string_value(json_object_get(win, "end"));
	url = json_object_get(doc, "explanationURL");
	if (!s || !e || flint_time_parse(s, &start) < 0 || flint_time_parse(e, &end) < 0) {
		flint_set_err(ret_err, "renewalInfo lacks a suggestedWindow with RFC 3339 start and end");
		goto out;
	}
	if (end <= start) {
		flint_set_err(ret_err, "renewalInfo's suggestedWindow ends before it starts");
		goto out;
	}
	if (url && !json_is_string(url)) {
		flint_set_err(ret_err, "renewalInfo's explanationURL is not a string");
		goto out;
	}
	*ret_url = NULL;
	if (url && !(*ret_url = strdup(json_string_value(url)))) {
		r = FLINT_ENOMEM;
		goto out;
	}
	*ret_start = start;
	*ret_end = end;
	r = 0;
out:
	json_decref(doc);
	return r;
}

int flint_ari_update(struct flint_ari_state *s, long status, const char *body, size_t len,
		     long retry_after, int64_t now, uint64_t rnd, char **ret_err)
{
	int64_t start = 0, end = 0;
	char *url = NULL;
	int r;

	if (status == 0 || status >= 500) {
		s->next_check = now + clamp_retry(retry_after, FLINT_ARI_RETRY_TRANSIENT);
		if (status)
			flint_set_err(ret_err, "renewalInfo: HTTP %ld", status);
		else if (ret_err && !*ret_err)
			flint_set_err(ret_err, "renewalInfo: no reply");
		return FLINT_EPROTO;
	}
	if (status != 200) {
		s->next_check = now + FLINT_ARI_RETRY_ERROR;
		flint_set_err(ret_err, "renewalInfo: HTTP %ld", status);
		return FLINT_EPROTO;
	}
	r = parse_renewal_info(body, len, &start, &end, &url, ret_err);
	if (r < 0) {
		s->start = s->end = s->chosen = 0;
		free(s->explanation_url);
		s->explanation_url = NULL;
		s->next_check = now + FLINT_ARI_RETRY_ERROR;
		return r;
	}
	/* a new window (or a stored choice outside it): pick again, uniformly */
	if (start != s->start || end != s->end || s->chosen < start || s->chosen >= end)
		s->chosen = start + (int64_t)(rnd % (uint64_t)(end - start));
	s->start = start;
	s->end = end;
	free(s->explanation_url);
	s->explanation_url = url;
	s->next_check = now + clamp_retry(retry_after, FLINT_ARI_RETRY_ERROR);
	return 0;
}

void flint_renew_decide(int64_t not_before, int64_t not_after, const struct flint_ari_state *s,
			int64_t now, struct flint_renew_decision *ret)
{
	ret->by_ari = s && s->end > s->start;
	ret->when = ret->by_ari ? s->chosen : flint_renew_time(not_before, not_after);
	ret->due = now >= ret->when || (not_after > not_before && now >= not_after);
}
