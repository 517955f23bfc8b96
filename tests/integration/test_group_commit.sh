#!/usr/bin/env bash
# Group commit with the real binary: many pushes at once from three collectors (several seqs of
# one collector at once, a duplicate pushed concurrently, a refused batch among them) are stored
# in shared transactions, yet every good batch exactly once, the bad one alone refused, and the
# seq bookkeeping exact.
. "$(dirname "$0")/server_lib.sh"
start_server pga_group_commit
FIXTURE="${PGA_SOURCE_DIR:-$(dirname "$0")/../..}/tests/fixtures/batches/valid.json"
NOW=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
q() { sql "$DATABASE_URL" "$1"; }

# enrol N: a collector with its state in $WORK/agent-N; prints its collector id.
enrol() {
  local state="$WORK/agent-$1"
  printf '[agent]\nstate_dir = "%s"\n[server]\nurl = "%s"\n' "$state" "$SERVER_URL" >"$WORK/agent-$1.toml"
  "$PGA_BIN" register --server "$SERVER_URL" --token "$("$PGA_BIN" token create --config "$WORK/server.toml" 2>/dev/null)" \
    --name "db-$1" --ca-file "$CA" --config "$WORK/agent-$1.toml" >/dev/null
  jq -r .collector_id "$state/credentials.json"
}
declare -A COLLECTOR
for n in 1 2 3; do COLLECTOR[$n]=$(enrol "$n"); done

# prepare N SEQ [JQ-FILTER]: collector N's gzipped batch SEQ, in $WORK/push/N-SEQ[-suffix].gz.
prepare() {
  jq --arg c "${COLLECTOR[$1]}" --argjson seq "$2" --arg now "$NOW" \
    ".collector_id = \$c | .seq = \$seq | .sent_at = \$now | .samples[].at = \$now | ${3:-.}" "$FIXTURE" |
    gzip -c >"$WORK/push/$1-$2${4:-}.gz"
}
mkdir -p "$WORK/push"
for seq in 1 2 3 4 5 6 7 8; do prepare 1 "$seq"; done
prepare 1 2 '.query_texts = [{"instance": "main", "queryid": 42, "query": "SELECT 42"}]'
for seq in 1 2 3 5 6 7; do prepare 2 "$seq"; done
prepare 2 8 '.dropped = [[4, 4]]'                  # seq 4 was dropped by the agent: not missing
prepare 2 3 . -twin                                 # the same batch twice, at once
for seq in 1 2 3 4 5 7 8; do prepare 3 "$seq"; done # seq 6 never comes: missing
prepare 3 5 . -twin
# Valid samples, but a text of an instance this collector never had: refused whole.
prepare 1 9 '.samples[0].instance = "bad-fresh" | .query_texts = [{"instance": "ghost", "queryid": 1, "query": "SELECT 1"}]'

# Every writer is held back on the collectors' rows while all pushes arrive and queue, so the
# queued batches must be stored in groups once the lock goes.
locked="$WORK/locked"
"$PSQL" -X -q -d "$DATABASE_URL" >/dev/null 2>&1 <<SQL &
BEGIN;
SELECT 1 FROM pganalytics.collectors FOR UPDATE;
\! touch $locked
SELECT pg_sleep(3);
COMMIT;
SQL
for _ in $(seq 1 50); do [ -f "$locked" ] && break; sleep 0.1; done

pids=()
for file in "$WORK"/push/*.gz; do
  name=$(basename "$file" .gz)
  n=${name%%-*}
  state="$WORK/agent-$n"
  curl -s --cacert "$CA" --cert "$state/agent.crt" --key "$state/agent.key" \
    -H "Authorization: Bearer $(jq -r .access_token "$state/credentials.json")" \
    -H 'Content-Type: application/json' -H 'Content-Encoding: gzip' --data-binary @"$file" \
    -o "$WORK/push/$name.body" -w '%{http_code}' "$SERVER_URL/api/v1/metrics/push" >"$WORK/push/$name.status" &
  pids+=($!)
done
wait "${pids[@]}"

outcome() { echo "$(cat "$WORK/push/$1.status") $(jq -r '.status // .error.code' "$WORK/push/$1.body")"; }
expect_eq "the refused batch: 400 unknown_instance" "400 unknown_instance" "$(outcome 1-9)"
expect_contains "... naming the instance" ghost "$(jq -r .error.message "$WORK/push/1-9.body")"
expect_eq "every other push answers 200" "" \
  "$(for s in "$WORK"/push/*.status; do [ "$(cat "$s")" = 200 ] || [ "$(basename "$s")" = 1-9.status ] || basename "$s"; done)"
twins() { for b in "$WORK/push/$1.body" "$WORK/push/$1-twin.body"; do jq -r .status "$b"; done | sort | tr '\n' ' '; }
expect_eq "a batch pushed twice at once: stored once, the other answer duplicate" "duplicate stored " "$(twins 2-3)"
expect_eq "... for another collector too" "duplicate stored " "$(twins 3-5)"
expect_eq "22 stored answers in all" 22 "$(cat "$WORK"/push/*.body | jq -r .status | grep -c '^stored$')"

expect_eq "each good batch is recorded once" "1:8:8|2:7:7|3:7:7" \
  "$(q "SELECT string_agg(n || ':' || batches || ':' || seqs, '|' ORDER BY n) FROM (
          SELECT CASE collector_id WHEN '${COLLECTOR[1]}' THEN 1 WHEN '${COLLECTOR[2]}' THEN 2 ELSE 3 END AS n,
                 count(*) AS batches, count(DISTINCT seq) AS seqs
          FROM pganalytics.ingested_batches GROUP BY 1) b")"
expect_eq "nothing of the refused batch is recorded" 0 \
  "$(q "SELECT count(*) FROM pganalytics.ingested_batches WHERE collector_id = '${COLLECTOR[1]}' AND seq = 9")"
expect_eq "rows once per stored batch (3 + 1 each)" "66/22" \
  "$(q "SELECT (SELECT count(*) FROM pganalytics.metrics_pg_stats_database) || '/' ||
               (SELECT count(*) FROM pganalytics.metrics_sysstat)")"
expect_eq "the refused batch's new instance is not in the inventory" 0 \
  "$(q "SELECT count(*) FROM pganalytics.postgresql_instances WHERE name = 'bad-fresh'")"
expect_eq "the good batch's query text is stored, the refused one's not" "42" \
  "$(q "SELECT string_agg(queryid::text, ',') FROM pganalytics.query_texts")"
expect_eq "last_seq and missing_seq_count per collector" "1:8:0|2:8:0|3:8:1" \
  "$(q "SELECT string_agg(n || ':' || last_seq || ':' || missing_seq_count, '|' ORDER BY n) FROM (
          SELECT CASE id WHEN '${COLLECTOR[1]}' THEN 1 WHEN '${COLLECTOR[2]}' THEN 2 ELSE 3 END AS n, last_seq,
                 missing_seq_count FROM pganalytics.collectors) c")"

curl -s --cacert "$CA" "$SERVER_URL/metrics" >"$WORK/metrics.txt"
if promtool check metrics <"$WORK/metrics.txt" >"$WORK/promtool.out" 2>&1; then pass "/metrics is promtool-clean"; else fail "promtool: $(cat "$WORK/promtool.out")"; fi
metric() { awk -v name="$1" '$1 == name {print $2}' "$WORK/metrics.txt"; }
expect_eq "/metrics: stored, duplicate, rejected, overloaded" "22/2/1/0" \
  "$(metric 'pganalytics_server_batches_total{result="stored"}')/$(metric 'pganalytics_server_batches_total{result="duplicate"}')/$(metric 'pganalytics_server_batches_total{result="rejected"}')/$(metric 'pganalytics_server_batches_total{result="overloaded"}')"
grouped=$(metric pganalytics_server_batches_grouped_total)
if [ "${grouped:-0}" -gt 0 ]; then pass "batches were stored in groups ($grouped)"; else fail "no batch was stored in a group"; fi
expect_eq "no batch is in flight afterwards" 0 "$(metric pganalytics_server_batches_in_flight)"

if grep -qi 'internal_error\|unhandled' "$WORK/server.log"; then fail "no internal errors in the server log"; else pass "no internal errors in the server log"; fi
finish
