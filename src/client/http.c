/* libcurl under the flint client: one easy handle per session (connections
 * reused), TLS verification on, https only, time and size caps, ACME headers. */
#include "http.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "interrupt.h"
#include "output.h"
#include "version.h"

struct flint_http {
	CURL *curl;
	char *ca_bundle;
	long connect_timeout, total_timeout;
	size_t max_body;
};

struct xfer {
	struct flint_http_response *resp;
	size_t cap, alloc;
	bool too_big;
	bool oom;
};

int flint_http_new(const struct flint_http_opts *opts, struct flint_http **ret, char **ret_err)
{
	struct flint_http *h = calloc(1, sizeof(*h));

	if (!h)
		return FLINT_ENOMEM;
	h->curl = curl_easy_init();
	if (!h->curl) {
		free(h);
		flint_set_err(ret_err, "cannot initialise libcurl");
		return FLINT_ENOMEM;
	}
	if (opts && opts->ca_bundle && !(h->ca_bundle = strdup(opts->ca_bundle))) {
		flint_http_free(h);
		return FLINT_ENOMEM;
	}
	h->connect_timeout = opts && opts->connect_timeout > 0 ? opts->connect_timeout
							       : FLINT_HTTP_CONNECT_TIMEOUT;
	h->total_timeout = opts && opts->total_timeout > 0 ? opts->total_timeout
							   : FLINT_HTTP_TOTAL_TIMEOUT;
	h->max_body = opts && opts->max_body > 0 ? opts->max_body : FLINT_HTTP_MAX_BODY;
	*ret = h;
	return 0;
}

void flint_http_free(struct flint_http *h)
{
	if (!h)
		return;
	curl_easy_cleanup(h->curl);
	free(h->ca_bundle);
	free(h);
}

void flint_http_response_free(struct flint_http_response *r)
{
	if (!r)
		return;
	free(r->body);
	free(r->content_type);
	free(r->location);
	free(r->replay_nonce);
	for (size_t i = 0; i < r->n_alternates; i++)
		free(r->alternates[i]);
	free(r);
}

/* rel="a b" or rel=a among the parameters p[0..len): is rel one of them? */
static bool link_has_rel(const char *p, size_t len, const char *rel)
{
	size_t rl = strlen(rel);
	bool quoted = false; /* inside another parameter's quoted value: "rel=" there is text */

	for (size_t i = 0; i + 4 <= len; i++) {
		const char *v, *end;

		if (p[i] == '"')
			quoted = !quoted;
		if (quoted || strncasecmp(p + i, "rel", 3) != 0 ||
		    (i > 0 && p[i - 1] != ';' && p[i - 1] != ' '))
			continue;
		v = p + i + 3;
		while (v < p + len && *v == ' ')
			v++;
		if (v >= p + len || *v != '=')
			continue;
		v++;
		while (v < p + len && *v == ' ')
			v++;
		if (v < p + len && *v == '"') {
			v++;
			end = memchr(v, '"', (size_t)(p + len - v));
			if (!end)
				end = p + len;
		} else {
			/* a token: up to ';', or a stray quote (which no token holds) */
			for (end = v; end < p + len && *end != ';' && *end != '"'; end++)
				;
		}
		/* space-separated relation types */
		while (v < end) {
			const char *w = v;

			while (w < end && *w != ' ' && *w != '"')
				w++;
			if ((size_t)(w - v) == rl && strncasecmp(v, rel, rl) == 0)
				return true;
			v = w;
			while (v < end && (*v == ' ' || *v == '"'))
				v++;
		}
		return false;
	}
	return false;
}

int flint_http_parse_links(const char *value, const char *rel, char **urls, size_t max,
			   size_t *n)
{
	const char *p = value;

	while (p && *p) {
		const char *lt = strchr(p, '<'), *gt, *next;

		if (!lt || !(gt = strchr(lt, '>')))
			break;
		/* the parameters run to the next comma outside quotes */
		next = gt + 1;
		for (bool q = false; *next && (q || *next != ','); next++)
			if (*next == '"')
				q = !q;
		if (link_has_rel(gt + 1, (size_t)(next - gt - 1), rel) && *n < max) {
			if (!(urls[*n] = strndup(lt + 1, (size_t)(gt - lt - 1))))
				return FLINT_ENOMEM;
			(*n)++;
		}
		p = *next ? next + 1 : next;
	}
	return 0;
}

long flint_http_parse_retry_after(const char *v, long long now)
{
	const char *p;
	long long secs = 0;
	time_t t;

	if (!v)
		return -1;
	while (*v == ' ' || *v == '\t')
		v++;
	if (!*v)
		return -1;
	if (isdigit((unsigned char)*v)) {
		for (p = v; isdigit((unsigned char)*p); p++) {
			secs = secs * 10 + (*p - '0');
			if (secs > 86400L * 365)
				secs = 86400L * 365;
		}
		while (*p == ' ' || *p == '\t')
			p++;
		return *p ? -1 : (long)secs;
	}
	t = curl_getdate(v, NULL);
	if (t == (time_t)-1)
		return -1;
	if ((long long)t <= now)
		return 0;
	/* t > now, so the unsigned difference is exact even where t - now overflows */
	if ((unsigned long long)t - (unsigned long long)now > 86400ULL * 365)
		return 86400L * 365;
	return (long)((unsigned long long)t - (unsigned long long)now);
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	struct flint_http_response *r = x->resp;
	size_t len = size * n;

	if (len > x->cap - r->body_len) {
		x->too_big = true;
		return 0;
	}
	if (r->body_len + len + 1 > x->alloc) {
		size_t want = x->alloc ? x->alloc : 4096;
		char *grown;

		while (want < r->body_len + len + 1)
			want *= 2;
		grown = realloc(r->body, want);
		if (!grown) {
			x->oom = true;
			return 0;
		}
		r->body = grown;
		x->alloc = want;
	}
	memcpy(r->body + r->body_len, data, len);
	r->body_len += len;
	r->body[r->body_len] = '\0';
	return len;
}

/* A header value without surrounding whitespace; NULL when out of memory. */
static char *trimmed(const char *v, size_t len)
{
	while (len && (*v == ' ' || *v == '\t')) {
		v++;
		len--;
	}
	while (len && (v[len - 1] == ' ' || v[len - 1] == '\t' || v[len - 1] == '\r' ||
		       v[len - 1] == '\n'))
		len--;
	return strndup(v, len);
}

static bool header_is(const char *line, size_t len, const char *name, const char **ret_value)
{
	size_t n = strlen(name);

	if (len <= n || line[n] != ':' || strncasecmp(line, name, n) != 0)
		return false;
	*ret_value = line + n + 1;
	return true;
}

static void replace(char **field, char *value, struct xfer *x)
{
	if (!value) {
		x->oom = true;
		return;
	}
	free(*field);
	*field = value;
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	struct flint_http_response *r = x->resp;
	size_t len = size * n;
	const char *v;

	if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		/* a new header block (after 100 Continue): forget the previous one */
		free(r->content_type);
		free(r->location);
		free(r->replay_nonce);
		r->content_type = r->location = r->replay_nonce = NULL;
		r->retry_after = -1;
		for (size_t i = 0; i < r->n_alternates; i++)
			free(r->alternates[i]);
		r->n_alternates = 0;
		return len;
	}
	if (header_is(data, len, "Content-Type", &v)) {
		char *ct = trimmed(v, len - (size_t)(v - data));

		if (ct) {
			ct[strcspn(ct, "; \t")] = '\0';
			for (char *p = ct; *p; p++)
				*p = (char)tolower((unsigned char)*p);
		}
		replace(&r->content_type, ct, x);
	} else if (header_is(data, len, "Location", &v)) {
		replace(&r->location, trimmed(v, len - (size_t)(v - data)), x);
	} else if (header_is(data, len, "Replay-Nonce", &v)) {
		replace(&r->replay_nonce, trimmed(v, len - (size_t)(v - data)), x);
	} else if (header_is(data, len, "Link", &v)) {
		char *lv = trimmed(v, len - (size_t)(v - data));

		if (!lv || flint_http_parse_links(lv, "alternate", r->alternates,
						  FLINT_HTTP_MAX_ALTERNATES, &r->n_alternates) < 0)
			x->oom = true;
		free(lv);
	} else if (header_is(data, len, "Retry-After", &v)) {
		char *ra = trimmed(v, len - (size_t)(v - data));

		if (!ra) {
			x->oom = true;
		} else {
			r->retry_after = flint_http_parse_retry_after(ra, (long long)time(NULL));
			free(ra);
		}
	}
	return len;
}

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	(void)arg;
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return flint_interrupted() ? 1 : 0;
}

int flint_http_request(struct flint_http *h, enum flint_http_method method, const char *url,
		       const char *content_type, const char *accept, const char *body,
		       struct flint_http_response **ret, char **ret_err)
{
	struct flint_http_response *resp = NULL;
	struct curl_slist *hdrs = NULL, *grown;
	char errbuf[CURL_ERROR_SIZE] = "";
	struct xfer x = {0};
	char *line = NULL;
	CURLcode cc;
	int r = FLINT_ENOMEM;

	if (!h || !url || !ret)
		return FLINT_EINVAL;
	if (strncasecmp(url, "https://", 8) != 0) {
		flint_set_err(ret_err, "%s: only https URLs are allowed", url);
		return FLINT_EIO;
	}
	resp = calloc(1, sizeof(*resp));
	if (!resp || !(resp->body = calloc(1, 1)))
		goto out;
	resp->retry_after = -1;
	x.resp = resp;
	x.cap = h->max_body;
	x.alloc = 1;

	if (content_type) {
		if (!(line = flint_strdupf("Content-Type: %s", content_type)))
			goto out;
		if (!(grown = curl_slist_append(hdrs, line)))
			goto out;
		hdrs = grown;
		free(line);
		line = NULL;
	}
	if (accept) {
		if (!(line = flint_strdupf("Accept: %s", accept)))
			goto out;
		if (!(grown = curl_slist_append(hdrs, line)))
			goto out;
		hdrs = grown;
	}
	/* no "Expect: 100-continue" round trip on POST */
	if (!(grown = curl_slist_append(hdrs, "Expect:")))
		goto out;
	hdrs = grown;

	curl_easy_reset(h->curl);
	curl_easy_setopt(h->curl, CURLOPT_URL, url);
	curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(h->curl, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	curl_easy_setopt(h->curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h->curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h->curl, CURLOPT_SSL_VERIFYHOST, 2L);
	if (h->ca_bundle)
		curl_easy_setopt(h->curl, CURLOPT_CAINFO, h->ca_bundle);
	curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT, h->connect_timeout);
	curl_easy_setopt(h->curl, CURLOPT_TIMEOUT, h->total_timeout);
	curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h->curl, CURLOPT_USERAGENT, FLINT_USER_AGENT);
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(h->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h->curl, CURLOPT_HEADERDATA, &x);
	curl_easy_setopt(h->curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h->curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)h->max_body);
	switch (method) {
	case FLINT_HTTP_HEAD:
		curl_easy_setopt(h->curl, CURLOPT_NOBODY, 1L);
		break;
	case FLINT_HTTP_POST:
		curl_easy_setopt(h->curl, CURLOPT_POST, 1L);
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body ? body : "");
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)(body ? strlen(body) : 0));
		break;
	case FLINT_HTTP_GET:
		curl_easy_setopt(h->curl, CURLOPT_HTTPGET, 1L);
		break;
	}

	cc = curl_easy_perform(h->curl);
	if (x.oom) {
		r = FLINT_ENOMEM;
		goto out;
	}
	if (x.too_big || cc == CURLE_FILESIZE_EXCEEDED) {
		flint_set_err(ret_err, "%s: response larger than %zu bytes", url, h->max_body);
		r = FLINT_ETOOBIG;
		goto out;
	}
	if (cc != CURLE_OK) {
		if (cc == CURLE_ABORTED_BY_CALLBACK)
			flint_set_err(ret_err, "%s: interrupted", url);
		else
			flint_set_err(ret_err, "%s: %s", url, errbuf[0] ? errbuf : curl_easy_strerror(cc));
		r = FLINT_EIO;
		goto out;
	}
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &resp->status);
	*ret = resp;
	resp = NULL;
	r = 0;
out:
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, NULL);
	curl_slist_free_all(hdrs);
	free(line);
	flint_http_response_free(resp);
	return r;
}
