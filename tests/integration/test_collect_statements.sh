#!/usr/bin/env bash
# pg_statements end to end with the real binary: the stored calls of a statement equal
# pg_stat_statements', its text is stored once, statements_top_n bounds the rows, and an instance
# without the extension (or the right to read it) gets one warning while its other families arrive.
. "$(dirname "$0")/server_lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
start_server pga_statements
# A cluster of its own: pg_stat_statements is cluster-wide, so the statements of tests running in
# parallel on the shared fixture would compete for the top-N places this test counts on.
cluster_new mon <<<"shared_preload_libraries = 'pg_stat_statements'"
AGENT_PID=""
trap 'kill -KILL $AGENT_PID 2>/dev/null || true; cluster_stop_all; stop_server; rm -rf "$WORK"' EXIT
cluster_start mon
sql "$mon_URL" "CREATE DATABASE app" >/dev/null
sql "$mon_URL" "CREATE DATABASE plain" >/dev/null
sql "$mon_URL" "CREATE DATABASE locked" >/dev/null
# A monitoring role as recommended (pg_monitor), in a database where EXECUTE on the function is revoked.
sql "$mon_URL" "CREATE ROLE watcher LOGIN IN ROLE pg_monitor" >/dev/null
app_url="postgresql://postgres@127.0.0.1:$mon_PORT/app"
plain_url="postgresql://postgres@127.0.0.1:$mon_PORT/plain"
locked_url="postgresql://watcher@127.0.0.1:$mon_PORT/locked"
sql "${locked_url/watcher@/postgres@}" "CREATE EXTENSION pg_stat_statements;
  REVOKE EXECUTE ON FUNCTION pg_stat_statements(boolean) FROM PUBLIC" >/dev/null
sql "$app_url" "CREATE EXTENSION pg_stat_statements" >/dev/null
sql "$app_url" "SELECT pg_stat_statements_reset()" >/dev/null

top_n=5
enrol_agent <<TOML
[[instance]]
name = "main"
conninfo = "$app_url"
statements_top_n = $top_n
[[instance]]
name = "noext"
conninfo = "$plain_url"
statements_top_n = $top_n
[[instance]]
name = "locked"
conninfo = "$locked_url"
TOML
start_agent

stored() { sql "$DATABASE_URL" "$1"; }
instance_rows() { # instance_rows TABLE INSTANCE [CONDITION]: rows of an instance stored in a metric table
  stored "SELECT count(*) FROM pganalytics.$1 m JOIN pganalytics.postgresql_instances i ON i.id = m.instance_id
          WHERE i.name = '$2' ${3:+AND $3}"
}
wait_until() { # wait_until SECONDS COMMAND...: until COMMAND succeeds
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do [ "$SECONDS" -lt "$deadline" ] || return 1; sleep 0.5; done
}
has_rows() { [ "$(instance_rows "$@")" -gt 0 ]; }

wait_until 30 has_rows metrics_pg_statements main ||
  fail "no pg_statements rows arrived: $(tail -5 "$WORK/agent.log")"

# Thirty statements of different shapes (1 to 30 columns), then the marked one K times with
# different literals, heavy enough that it leads the growth of time in whichever cycle sees it.
K=12
{
  for i in $(seq 1 30); do echo "SELECT $(seq -s, 1 "$i");"; done
  for i in $(seq 1 $K); do echo "SELECT /* pga-mark */ count(*) FROM generate_series(1, $((100000 + i)));"; done
} | "$PSQL" -X -q -v ON_ERROR_STOP=1 -d "$app_url" >/dev/null
after_runs=$(stored "SELECT now()")
marked=$(sql "$app_url" "SELECT queryid FROM pg_stat_statements WHERE query LIKE 'SELECT /* pga-mark */%'")
marked_calls=$(sql "$app_url" "SELECT calls FROM pg_stat_statements WHERE queryid = $marked")
expect_eq "pg_stat_statements counts the marked statement's runs" "$K" "$marked_calls"
entries=$(sql "$app_url" "SELECT count(*) FROM pg_stat_statements")
if [ "$entries" -gt $((2 * top_n)) ]; then pass "more entries ($entries) than one cycle may send"
else fail "only $entries entries"; fi

# The agent's own statements grow every cycle, so each cycle stores rows: one stored after the
# runs means a read after them.
wait_until 30 has_rows metrics_pg_statements main "m.time > '$after_runs'" ||
  fail "no pg_statements read after the runs: $(tail -5 "$WORK/agent.log")"
expect_eq "the latest stored row of the marked statement has pg_stat_statements' calls" "$marked_calls" \
  "$(stored "SELECT calls FROM pganalytics.metrics_pg_statements WHERE queryid = $marked ORDER BY time DESC LIMIT 1")"
expect_eq "its total_exec_time equals pg_stat_statements' to the last bit" \
  "$(sql "$app_url" "SELECT total_exec_time FROM pg_stat_statements WHERE queryid = $marked")" \
  "$(stored "SELECT total_exec_time FROM pganalytics.metrics_pg_statements WHERE queryid = $marked ORDER BY time DESC LIMIT 1")"
expect_eq "it is keyed by database and role, as a top-level statement" "app postgres true" \
  "$(stored "SELECT datname || ' ' || usename || ' ' || toplevel FROM pganalytics.metrics_pg_statements
             WHERE queryid = $marked ORDER BY time DESC LIMIT 1")"
expect_eq "its text is stored once" 1 "$(stored "SELECT count(*) FROM pganalytics.query_texts WHERE queryid = $marked")"
expect_eq "the stored text is pg_stat_statements' text" \
  "$(sql "$app_url" "SELECT query FROM pg_stat_statements WHERE queryid = $marked")" \
  "$(stored "SELECT query FROM pganalytics.query_texts WHERE queryid = $marked")"
expect_eq "texts belong to the instance they were read on" main \
  "$(stored "SELECT i.name FROM pganalytics.query_texts t JOIN pganalytics.postgresql_instances i ON i.id = t.instance_id
             WHERE t.queryid = $marked")"
most=$(stored "SELECT max(n) FROM (SELECT count(*) AS n FROM pganalytics.metrics_pg_statements m
               JOIN pganalytics.postgresql_instances i ON i.id = m.instance_id WHERE i.name = 'main' GROUP BY m.time) s")
if [ "$most" -le $((2 * top_n)) ]; then pass "no cycle sent more than 2 x top_n rows (at most $most)"
else fail "a cycle sent $most rows"; fi
expect_eq "every stored row has its statement's text" 0 \
  "$(stored "SELECT count(*) FROM pganalytics.metrics_pg_statements m
             WHERE NOT EXISTS (SELECT 1 FROM pganalytics.query_texts t WHERE t.instance_id = m.instance_id
                               AND t.queryid = m.queryid)")"

# The instance without the extension: one warning saying what to do, and its other families arrive.
wait_until 20 has_rows metrics_pg_stats_database noext "m.time > '$after_runs'" ||
  fail "pg_stats_database of noext stopped arriving"
expect_eq "one warning for the instance without the extension" 1 \
  "$(grep -c ' warn  pg_statements noext: .*CREATE EXTENSION pg_stat_statements.*shared_preload_libraries' \
       "$WORK/agent.log" || true)"
expect_eq "one warning for the role that may not read pg_stat_statements" 1 \
  "$(grep -c ' warn  pg_statements locked: .*may not read pg_stat_statements.*GRANT' "$WORK/agent.log" || true)"
expect_eq "no other warning about pg_statements" 2 "$(grep -c 'warn .*pg_statements' "$WORK/agent.log" || true)"
expect_eq "no pg_statements rows for noext or locked" 0 \
  "$(($(instance_rows metrics_pg_statements noext) + $(instance_rows metrics_pg_statements locked)))"
kill -TERM "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null || true

# Texts pushed on their own, as this agent: a batch is stored whole or not at all.
collector=$COLLECTOR
seq=$(($(stored "SELECT last_seq FROM pganalytics.collectors WHERE id = '$collector'") + 1))
push_texts() { # push_texts TEXTS-JSON: a batch of these texts and no samples; prints the HTTP status
  # printf, not jq: jq may round a 64-bit query id.
  printf '{"collector_id": "%s", "seq": %s, "sent_at": "%s", "agent": {"version": "t", "hostname": "t"}, "samples": [],
           "query_texts": %s}' "$collector" "$seq" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$1" | gzip -c >"$WORK/texts.json.gz"
  curl -s --cacert "$CA" --cert "$AGENT_STATE/agent.crt" --key "$AGENT_STATE/agent.key" \
    -H "Authorization: Bearer $(jq -r .access_token "$AGENT_STATE/credentials.json")" -H 'Content-Type: application/json' \
    -H 'Content-Encoding: gzip' -o "$WORK/answer.json" -w '%{http_code}' --data-binary @"$WORK/texts.json.gz" \
    "$SERVER_URL/api/v1/metrics/push" || true
}
texts_before=$(stored "SELECT count(*) FROM pganalytics.query_texts")
expect_eq "texts naming an instance the server never saw refuse the batch" 400 \
  "$(push_texts '[{"instance": "main", "queryid": 1, "query": "SELECT 1"},
                  {"instance": "ghost", "queryid": 2, "query": "SELECT 2"}]')"
expect_eq "the refusal names the instance" unknown_instance "$(jq -r .error.code "$WORK/answer.json")"
expect_eq "nothing of the refused batch is stored" "$texts_before" \
  "$(stored "SELECT count(*) FROM pganalytics.query_texts")"
expect_eq "texts of an instance earlier batches brought are stored without samples" 200 \
  "$(push_texts "[{\"instance\": \"main\", \"queryid\": 1, \"query\": \"SELECT 1\"},
                  {\"instance\": \"main\", \"queryid\": 1, \"query\": \"SELECT 1 again\"},
                  {\"instance\": \"main\", \"queryid\": $marked, \"query\": \"another text\"}]")"
expect_eq "the refused batch left no record: its seq is stored now, not a duplicate" stored \
  "$(jq -r .status "$WORK/answer.json")"
marked_text=$(sql "$app_url" "SELECT query FROM pg_stat_statements WHERE queryid = $marked")
expect_eq "a query id's first text stays" "SELECT 1|$marked_text" \
  "$(stored "SELECT string_agg(query, '|' ORDER BY queryid = $marked) FROM pganalytics.query_texts
             WHERE queryid IN (1, $marked)")"
finish
