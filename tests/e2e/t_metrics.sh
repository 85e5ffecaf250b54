#!/bin/bash
# flintd's observability: flintd runs with --log-format json; flint issues one certificate
# (http-01 standalone); then GET /metrics (Prometheus text): one issuance, http-01
# validations valid >= 1, newOrder 201 exactly once, every histogram consistent (buckets
# never decrease, +Inf = _count = the requests counted for that resource), nonces,
# store latency, open connections; /metrics refuses POST; GET /health is 200
# {"status":"ok"}; every log line of flintd's request and state changes is a JSON
# object jq parses, with the newOrder request and the order becoming valid among them;
# a revocation counted; flintd's threads carry their role's name; then flintd again with --caa-reuse 0 (text logs): the issuance on a
# validation worker (finalize_job) is counted too.
# Env: FLINTD, FLINT_BIN (both required), FLINT_SRC. Ports 23100-23199: flintd +0,
# flint's standalone http-01 (= flintd --http01-port) +2, challtestsrv DNS +53 and
# management +55.
TEST_NAME=t_metrics
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$E2E_DIR/client.sh"
need_prog jq

PORT=23100 HTTP01=23102 DNS=23153 CTS=23155
start_challtestsrv "$DNS" "$CTS"
start_flintd "$PORT" "$HTTP01" "$DNS" --log-format json
ACME_URL=$DIR_URL ACME_CA=$ROOT STATE=$T/state

# ---- one certificate
if flint_run register account register --email metrics@example.com --agree-tos &&
	flint_run issue issue --http01-port "$HTTP01" metrics.example.com; then
	if check_cert metrics.example.com metrics.example.com; then
		step_ok issue "serial $(cert_serial metrics.example.com)"
	else
		step_fail issue "$CHECK_ERR"
	fi
else
	step_fail issue "$(flint_why)"
fi

# ---- threads named by role (top -H, /proc/PID/task/TID/comm): the main thread keeps
# the process's name; validation workers, the SQLite checkpointer, the signal thread
pid=$FLINTD_PID  # flintd itself, or the timeout(1) it runs under
[ "$(cat /proc/"$pid"/comm 2>/dev/null)" = flintd ] || pid=$(pgrep -P "$FLINTD_PID" -x flintd | head -n 1)
names=$(cat /proc/"$pid"/task/*/comm 2>/dev/null | sort | uniq -c | awk '{ printf "%s%s=%s", sep, $2, $1; sep = " " }')
if [[ " $names " == *" flintd=1 "* && " $names " == *" flintd-valid"[0-9]*"=1 "* &&
	" $names " == *" flintd-wal=1 "* && " $names " == *" flintd-signal=1 "* ]]; then
	step_ok thread_names "$names"
else
	step_fail thread_names "threads: '$names' (want flintd, flintd-validN, flintd-wal, flintd-signal)"
fi

# ---- /metrics
M=$T/metrics.txt
# value SERIES: the sample's value ("" when absent)
value() { awk -v s="$1" 'substr($0, 1, length(s) + 1) == s " " { print $2; exit }' "$M"; }
expect() {  # step series op want
	local v
	v=$(value "$2")
	if [ -n "$v" ] && awk -v v="$v" -v w="$4" -v op="$3" \
		'BEGIN { exit !((op == "=" && v == w) || (op == ">=" && v >= w)) }'; then
		step_ok "$1" "$2 = $v"
	else
		step_fail "$1" "$2 = '${v}', want $3 $4"
	fi
}
if ! curl -sS --max-time 10 --cacert "$ROOT" -D "$T/metrics.hdr" -o "$M" "$BASE_URL/metrics"; then
	step_fail metrics_get "GET /metrics failed"
elif ! grep -qi '^content-type: text/plain; version=0.0.4' "$T/metrics.hdr"; then
	step_fail metrics_get "Content-Type: $(grep -i '^content-type' "$T/metrics.hdr")"
else
	step_ok metrics_get "$(wc -l <"$M") lines"
fi
expect issuances flintd_issuances_total = 1
expect validations 'flintd_validations_total{type="http-01",outcome="valid"}' ">=" 1
expect new_order_201 'flintd_http_requests_total{resource="newOrder",status="201"}' = 1
expect finalize_200 'flintd_http_requests_total{resource="finalize",status="200"}' = 1
expect revocations flintd_revocations_total = 0
expect nonces_redeemed flintd_nonces_redeemed_total ">=" 5
expect nonces_issued flintd_nonces_issued_total ">=" "$(value flintd_nonces_redeemed_total)"
# With SQLite used nonces go to the shared-memory ledger beside the database,
# not the store (PostgreSQL's nonce_use ops: t_postgres); requests signed with
# a kid read their account
expect store_account_get 'flintd_store_operation_duration_seconds_count{op="account_get"}' ">=" 4
for op in nonce_use nonce_use_account_get; do
	v=$(value "flintd_store_operation_duration_seconds_count{op=\"$op\"}")
	if [ -z "$v" ]; then step_ok "no_store_$op"; else step_fail "no_store_$op" "$op = $v"; fi
done
mode=$(stat -c %a "$DATA/flintd.db-nonces" 2>/dev/null)
if [ "$mode" = 600 ]; then step_ok nonce_ledger_file "mode $mode"; else step_fail nonce_ledger_file "flintd.db-nonces mode '$mode'"; fi
expect store_challenge_finish 'flintd_store_operation_duration_seconds_count{op="challenge_finish"}' ">=" 1
# this very scrape holds a connection open
expect open_connections flintd_open_connections ">=" 1
expect queue_depth flintd_validation_queue_depth = 0

# every family has HELP and TYPE; every sample belongs to a declared family
err=$(awk '
	/^# HELP / { help[$3] = 1; next }
	/^# TYPE / { type[$3] = $4; next }
	/^#/ || /^$/ { next }
	{
		name = $1; sub(/\{.*/, "", name); fam = name
		if (!(fam in type)) { sub(/_(bucket|sum|count)$/, "", fam) }
		if (!(fam in type) || !(fam in help)) print "undeclared sample " $1
		if ($2 !~ /^[0-9]+(\.[0-9]+)?$/) print "bad value in " $0
	}' "$M")
if [ -n "$err" ]; then step_fail exposition "$(echo "$err" | head -n 5 | tr '\n' ';')"; else step_ok exposition; fi

# histograms: buckets cumulative, +Inf = _count, and _count = the requests of that resource
err=$(awk '
	/^flintd_http_requests_total\{/ {
		match($1, /resource="[^"]*"/); r = substr($1, RSTART, RLENGTH); req[r] += $2; next }
	/^flintd_[a-z_]+_bucket\{/ {
		series = $1; sub(/,?le="[^"]*"/, "", series); sub(/_bucket/, "", series)
		if ((series in last) && $2 < last[series]) print "decreasing bucket at " $1
		last[series] = $2; n[series]++
		if ($1 ~ /le="\+Inf"/) inf[series] = $2
		next }
	/^flintd_[a-z_]+_count\{/ {
		series = $1; sub(/_count/, "", series); cnt[series] = $2
		if (series ~ /^flintd_http_request_duration_seconds/) {
			match(series, /resource="[^"]*"/); hist[substr(series, RSTART, RLENGTH)] = $2 } }
	END {
		for (s in cnt) {
			if (!(s in inf)) print "no +Inf bucket for " s
			else if (inf[s] != cnt[s]) print s ": +Inf " inf[s] " != _count " cnt[s]
			if (n[s] != 12) print s ": " n[s] " buckets, want 12"
		}
		for (r in req) if (req[r] != hist[r]) print r ": " req[r] " requests counted, histogram _count " hist[r]
		if (length(cnt) == 0) print "no histogram series"
	}' "$M")
if [ -n "$err" ]; then step_fail histograms "$(echo "$err" | head -n 5 | tr '\n' ';')"; else step_ok histograms; fi

# the directory requests so far (readiness polls, flint): counted under their route name
expect directory_counted 'flintd_http_requests_total{resource="directory",status="200"}' ">=" 1
# a path no route matches is one label, whatever the path
curl -s --max-time 10 --cacert "$ROOT" -o /dev/null "$BASE_URL/no/such/$RANDOM"
curl -sS --max-time 10 --cacert "$ROOT" -o "$M" "$BASE_URL/metrics"
expect unmatched_label 'flintd_http_requests_total{resource="unmatched",status="404"}' = 1
if grep -q 'no/such' "$M"; then step_fail unmatched_path "a raw path reached a label"; else step_ok unmatched_path; fi

code=$(curl -s --max-time 10 --cacert "$ROOT" -o /dev/null -w '%{http_code}' -X POST -d x "$BASE_URL/metrics")
if [ "$code" = 405 ]; then step_ok metrics_post_refused; else step_fail metrics_post_refused "POST /metrics: $code, want 405"; fi

# ---- a revocation is counted
if flint_run revoke revoke metrics.example.com; then
	curl -sS --max-time 10 --cacert "$ROOT" -o "$M" "$BASE_URL/metrics"
	expect revocations_after flintd_revocations_total = 1
	expect revoke_cert_200 'flintd_http_requests_total{resource="revokeCert",status="200"}' = 1
else
	step_fail revoke "$(flint_why)"
fi

# ---- /health
code=$(curl -s --max-time 10 --cacert "$ROOT" -o "$T/health.json" -w '%{http_code}' "$BASE_URL/health")
if [ "$code" = 200 ] && [ "$(jq -r .status "$T/health.json" 2>/dev/null)" = ok ]; then
	step_ok health
else
	step_fail health "GET /health: $code $(head -c 200 "$T/health.json")"
fi

# ---- JSON logs: stop flintd first so every line is complete
stop_flintd
if [ "$FLINTD_RC" = 0 ]; then step_ok flintd_clean_exit; else step_fail flintd_clean_exit "status $FLINTD_RC"; fi
L=$T/flintd.log
bad=$(grep -c -E '^(req|state|validate) ' "$L")
json=$(grep -c '^{' "$L")
if [ "$bad" != 0 ]; then
	step_fail json_logs "$bad text lines in json mode: $(grep -m1 -E '^(req|state|validate) ' "$L")"
elif [ "$json" -lt 10 ]; then
	step_fail json_logs "only $json JSON lines"
elif ! grep '^{' "$L" | jq -e -c . >/dev/null 2>"$T/jq.err"; then
	step_fail json_logs "jq: $(head -n 2 "$T/jq.err")"
else
	step_ok json_logs "$json lines"
fi
n=$(grep '^{' "$L" | jq -c 'select(.event == "req" and .route == "newOrder" and .status == 201
	and .method == "POST" and (.us | type) == "number")' | grep -c .)
if [ "$n" = 1 ]; then step_ok json_request_line; else step_fail json_request_line "$n newOrder 201 lines, want 1"; fi
n=$(grep '^{' "$L" | jq -c 'select(.event == "state" and .order != null and .status == "valid"
	and .cert != null)' | grep -c .)
if [ "$n" = 1 ]; then step_ok json_state_line; else step_fail json_state_line "$n 'order valid' state lines, want 1"; fi
n=$(grep '^{' "$L" | jq -c 'select(.event == "state" and .type == "http-01" and .status == "valid"
	and .identifier == "metrics.example.com")' | grep -c .)
if [ "$n" -ge 1 ]; then step_ok json_validation_line; else step_fail json_validation_line "no challenge valid state line"; fi

# ---- the other issuance path: with caa-reuse 0 every finalize rechecks CAA and issues on a
# validation worker (finalize_job); a new process, so its counters start at 0
start_flintd "$PORT" "$HTTP01" "$DNS" --caa-reuse 0
if flint_run issue_worker issue --http01-port "$HTTP01" worker.example.com &&
	check_cert worker.example.com worker.example.com; then
	step_ok issue_worker
else
	step_fail issue_worker "$(flint_why) $CHECK_ERR"
fi
curl -sS --max-time 10 --cacert "$ROOT" -o "$M" "$BASE_URL/metrics"
expect issuances_worker flintd_issuances_total = 1
if grep -q '^state order=[^ ]* caa=recheck' "$T/flintd.log"; then
	step_ok worker_path
else
	step_fail worker_path "no 'caa=recheck' state line: the issuance did not go through the worker"
fi

finish
