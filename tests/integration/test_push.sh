#!/usr/bin/env bash
# POST /api/v1/metrics/push with the real binary, a real PostgreSQL and an enrolled agent's
# certificate and token: rows land typed in their tables, a batch is stored exactly once, seq gaps
# and dropped ranges are kept per collector, and a malformed batch stores nothing at all.
. "$(dirname "$0")/server_lib.sh"
start_server pga_push
FIXTURE="${PGA_SOURCE_DIR:-$(dirname "$0")/../..}/tests/fixtures/batches/valid.json"

state="$WORK/agent-state"
printf '[agent]\nstate_dir = "%s"\n[server]\nurl = "%s"\n' "$state" "$SERVER_URL" >"$WORK/agent.toml"
"$PGA_BIN" register --server "$SERVER_URL" --token "$("$PGA_BIN" token create --config "$WORK/server.toml" 2>/dev/null)" \
  --name db-main --ca-file "$CA" --config "$WORK/agent.toml" >/dev/null
COLLECTOR=$(jq -r .collector_id "$state/credentials.json")
ACCESS=$(jq -r .access_token "$state/credentials.json")
SERVER_ID=$(sql "$DATABASE_URL" "SELECT server_id FROM pganalytics.collectors WHERE id = '$COLLECTOR'")
NOW=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)

# batch SEQ [JQ-FILTER]: the fixture for this collector at NOW, edited by the filter, on stdout.
batch() {
  jq --arg c "$COLLECTOR" --argjson seq "$1" --arg now "$NOW" \
    ".collector_id = \$c | .seq = \$seq | .sent_at = \$now | .samples[].at = \$now | ${2:-.}" "$FIXTURE"
}
# post FILE [CURL-ARGS]: posts FILE as the agent; status on stdout, answer in $BODY or $WORK/body.
post() {
  local file=$1; shift
  curl -s --cacert "$CA" --cert "$state/agent.crt" --key "$state/agent.key" -H "Authorization: Bearer $ACCESS" \
    -H 'Content-Type: application/json' -o "${BODY:-$WORK/body}" -w '%{http_code}' --data-binary @"$file" "$@" \
    "$SERVER_URL/api/v1/metrics/push" || true
}
# push SEQ [JQ-FILTER]: a gzipped batch.
push() {
  batch "$@" | gzip -c >"$WORK/batch.gz"
  post "$WORK/batch.gz" -H 'Content-Encoding: gzip'
}
answer() { jq -r "$1" "$WORK/body"; }
q() { sql "$DATABASE_URL" "$1"; }
collector() { q "SELECT $1 FROM pganalytics.collectors WHERE id = '$COLLECTOR'"; }
# Everything a batch could have written, in one line.
footprint() {
  q "SELECT (SELECT count(*) FROM pganalytics.metrics_pg_stats_database) || '/' ||
            (SELECT count(*) FROM pganalytics.metrics_sysstat) || '/' ||
            (SELECT count(*) FROM pganalytics.ingested_batches) || '/' ||
            (SELECT count(*) FROM pganalytics.postgresql_instances) || '/' ||
            (SELECT count(*) FROM pganalytics.databases) || '/' ||
            (SELECT count(*) FROM pganalytics.collector_dropped_ranges) || '/' ||
            (SELECT last_seq || ':' || missing_seq_count FROM pganalytics.collectors WHERE id = '$COLLECTOR')"
}

# --- a batch is stored, typed, with its owners
expect_eq "a valid batch is stored" 200 "$(push 1)"
expect_eq "the answer says stored" "stored/1/1" "$(answer '"\(.status)/\(.seq)/\(.config_version)"')"
main_id=$(q "SELECT id FROM pganalytics.postgresql_instances WHERE server_id = $SERVER_ID AND name = 'main'")
expect_eq "both instances are in the inventory, seen" 2 \
  "$(q "SELECT count(*) FROM pganalytics.postgresql_instances WHERE server_id = $SERVER_ID AND last_seen_at IS NOT NULL")"
expect_eq "the rows of instance main, typed" "app|1200|3|1.5|t" \
  "$(q "SELECT datname, xact_commit, xact_rollback, blk_read_time, stats_reset = '2026-11-24T10:00:00Z'
        FROM pganalytics.metrics_pg_stats_database WHERE instance_id = $main_id AND datname = 'app'")"
expect_eq "text with a tab survives COPY, nulls stay null" 1 \
  "$(q "SELECT count(*) FROM pganalytics.metrics_pg_stats_database WHERE instance_id = $main_id
        AND datname = E'tab\\there' AND xact_commit = 10 AND xact_rollback IS NULL AND stats_reset IS NULL")"
expect_eq "every row carries the sample time" 3 \
  "$(q "SELECT count(*) FROM pganalytics.metrics_pg_stats_database WHERE time = '$NOW'::timestamptz")"
expect_eq "the other instance's row" "app|7|" \
  "$(q "SELECT d.datname, d.xact_commit, d.xact_rollback FROM pganalytics.metrics_pg_stats_database d
        JOIN pganalytics.postgresql_instances i ON i.id = d.instance_id WHERE i.name = 'replica'")"
expect_eq "host rows belong to the collector's server" "$SERVER_ID|12.25|8589934592|0.5|1" \
  "$(q "SELECT server_id, cpu_user, mem_total_bytes, load1, count(*) OVER () FROM pganalytics.metrics_sysstat")"
expect_eq "the databases of pg_stats_database are in the inventory" "main:app,main:tab	here,replica:app" \
  "$(q "SELECT string_agg(i.name || ':' || d.datname, ',' ORDER BY i.name, d.datname) FROM pganalytics.databases d
        JOIN pganalytics.postgresql_instances i ON i.id = d.instance_id")"
expect_eq "the batch is recorded with its row count" "4" \
  "$(q "SELECT row_count FROM pganalytics.ingested_batches WHERE collector_id = '$COLLECTOR' AND seq = 1")"
expect_eq "the collector is seen, at seq 1, nothing missing" "t|1|0|0.1.0-test" \
  "$(collector "last_seen_at IS NOT NULL, last_seq, missing_seq_count, agent_version")"

# --- exactly once
before=$(footprint)
expect_eq "the same batch again answers 200" 200 "$(push 1)"
expect_eq "... duplicate" "duplicate/1" "$(answer '"\(.status)/\(.seq)"')"
expect_eq "a duplicate stores nothing" "$before" "$(footprint)"
batch 2 >"$WORK/b2.json"
pids=()
for i in 1 2 3 4; do BODY="$WORK/parallel.$i" post "$WORK/b2.json" >/dev/null & pids+=($!); done
wait "${pids[@]}"
outcomes=$(for i in 1 2 3 4; do jq -r '.status // .error.code' "$WORK/parallel.$i"; done | sort | uniq -c | tr -s ' ')
expect_eq "four identical pushes at once: one stored, the rest duplicate (or overloaded)" "1 stored" \
  "$(grep -v -e duplicate -e overloaded <<<"$outcomes" | sed 's/^ //')"
expect_eq "... and the batch is stored once" 1 \
  "$(q "SELECT count(*) FROM pganalytics.ingested_batches WHERE collector_id = '$COLLECTOR' AND seq = 2")"
expect_eq "... its rows once" 2 "$(q "SELECT count(*) FROM pganalytics.metrics_sysstat")"

# --- seq gaps and dropped ranges
push 5 >/dev/null
expect_eq "a jump from 2 to 5 leaves 3 and 4 missing" "5|2" "$(collector "last_seq, missing_seq_count")"
push 4 >/dev/null
expect_eq "a late batch fills its gap" "5|1" "$(collector "last_seq, missing_seq_count")"
expect_eq "a batch with dropped ranges is stored" 200 "$(push 9 '.dropped = [[7, 8]]')"
expect_eq "dropped seqs are not missing (3 and 6 are)" "9|2" "$(collector "last_seq, missing_seq_count")"
expect_eq "the dropped range is recorded" "7-8" \
  "$(q "SELECT first_seq || '-' || last_seq FROM pganalytics.collector_dropped_ranges WHERE collector_id = '$COLLECTOR'")"
push 10 '.dropped = [[3, 3], [7, 8]]' >/dev/null
expect_eq "a range reported again counts once" "10|1" "$(collector "last_seq, missing_seq_count")"
expect_eq "the missing count is exact" "$(collector missing_seq_count)" \
  "$(q "SELECT count(*) FROM generate_series(1, 10) s WHERE NOT EXISTS (SELECT 1 FROM pganalytics.ingested_batches b
        WHERE b.collector_id = '$COLLECTOR' AND b.seq = s) AND NOT EXISTS (SELECT 1 FROM pganalytics.collector_dropped_ranges d
        WHERE d.collector_id = '$COLLECTOR' AND s BETWEEN d.first_seq AND d.last_seq)")"

# --- malformed batches: 4xx with a code, nothing stored
before=$(footprint)
# refused WHAT STATUS CODE NEEDLE SEQ FILTER
refused() {
  expect_eq "$1: status" "$2" "$(push "$5" "$6")"
  expect_eq "$1: code" "$3" "$(answer .error.code)"
  expect_contains "$1: the message names it" "$4" "$(answer .error.message)"
}
refused "unknown family" 400 unknown_family pg_nonsense 11 '.samples[0].family = "pg_nonsense"'
refused "unknown column" 400 unknown_column bogus 11 '.samples[2].columns[1] = "bogus"'
refused "wrong type" 400 bad_value xact_commit 11 '.samples[0].rows[1][1] = "10"'
refused "wrong width" 400 bad_row_width "row 0" 11 '.samples[2].rows[0] |= .[0:2]'
refused "another collector" 403 identity_mismatch collector 11 '.collector_id = "00000000-0000-4000-8000-000000000000"'
refused "a clock far ahead" 400 sample_out_of_range "samples[2]" 11 '.samples[2].at = "2999-01-01T00:00:00Z"'
refused "a bad last sample" 400 bad_value cpu_user 11 \
  '.samples[0].instance = "fresh" | .dropped = [[6, 6]] | .samples[2].rows[0][0] = "x"'
printf '{"collector_id": "%s", "seq":' "$COLLECTOR" | gzip -c >"$WORK/bad.gz"
expect_eq "bad JSON is a 400" 400 "$(post "$WORK/bad.gz" -H 'Content-Encoding: gzip')"
expect_eq "... bad_json" bad_json "$(answer .error.code)"
batch 11 >"$WORK/plain.json"
expect_eq "bad gzip is a 400" 400 "$(post "$WORK/plain.json" -H 'Content-Encoding: gzip')"
expect_eq "... bad_gzip" bad_gzip "$(answer .error.code)"
expect_eq "a push without a client certificate is refused" 401 \
  "$(curl -s --cacert "$CA" -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ACCESS" --data-binary @"$WORK/plain.json" \
     "$SERVER_URL/api/v1/metrics/push" || true)"
expect_eq "no malformed batch stored anything" "$before" "$(footprint)"
expect_eq "the good samples before a bad one left no instance behind" 0 \
  "$(q "SELECT count(*) FROM pganalytics.postgresql_instances WHERE name = 'fresh'")"

# --- after refusals the next batch stores; days without partitions get them; expired samples skip
q "UPDATE pganalytics.collectors SET config_version = 5 WHERE id = '$COLLECTOR'" >/dev/null
three_days_ago=$(date -u -d '3 days ago' +%Y-%m-%dT%H:%M:%SZ)
expect_eq "a batch from three days ago is stored (uncompressed this time)" 200 \
  "$(batch 11 ".samples[].at = \"$three_days_ago\"" >"$WORK/old.json"; post "$WORK/old.json")"
expect_eq "the answer carries the current config_version" "stored/5" "$(answer '"\(.status)/\(.config_version)"')"
expect_eq "its day's partition was created" 1 \
  "$(q "SELECT count(*) FROM pganalytics.metrics_sysstat WHERE time = '$three_days_ago'::timestamptz")"
ten_days_ago=$(date -u -d '10 days ago' +%Y-%m-%dT%H:%M:%SZ)
before_sysstat=$(q "SELECT count(*) FROM pganalytics.metrics_sysstat")
expect_eq "samples older than retention are skipped, the batch stored" 200 "$(push 12 ".samples[2].at = \"$ten_days_ago\"")"
expect_eq "... without the expired sample" "$before_sysstat" "$(q "SELECT count(*) FROM pganalytics.metrics_sysstat")"
expect_eq "... and with the others" 3 "$(q "SELECT row_count FROM pganalytics.ingested_batches WHERE seq = 12")"

if grep -qi 'internal_error\|unhandled' "$WORK/server.log"; then fail "no internal errors in the server log"; else pass "no internal errors in the server log"; fi
finish
