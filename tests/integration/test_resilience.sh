#!/usr/bin/env bash
# Nothing lost, nothing stored twice, whatever fails: an agent at 1 s pushes through a 15 s
# server outage, three kill -9 of the server mid-ingestion and a 10 s restart of the storage
# PostgreSQL; an admin's configuration change reaches the running agent within seconds.
. "$(dirname "$0")/server_lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
AGENT_PID=""
trap 'kill -KILL $AGENT_PID 2>/dev/null || true; stop_server; cluster_stop_all; rm -rf "$WORK"' EXIT

cluster_new storage </dev/null
cluster_start storage
start_server_on "$storage_URL"
enrol_agent <<TOML
[[instance]]
name = "main"
conninfo = "postgresql://postgres@127.0.0.1:$PGA_TEST_PG_PORT/postgres"
TOML
collector=$COLLECTOR
start_agent

wait_for_batches 3 && pass "batches arrive" || fail "no batches: $(tail -5 "$WORK/agent.log")"

# A 15 s server outage: the agent spools, then catches up.
before=$(stored_batches)
stop_server
sleep 15
restart_server
wait_for_batches $((before + 16)) && pass "the agent catches up after a 15 s outage" || fail "no catch-up after the outage"

# kill -9 of the server while it ingests, three times.
for round in 1 2 3; do
  sleep 1.3
  kill -KILL "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
  restart_server
done
before=$(stored_batches)
wait_for_batches $((before + 3)) && pass "ingestion goes on after three kill -9 of the server" || fail "stuck after kill -9"

# The storage PostgreSQL goes away for 10 s: the server answers 503 and reconnects by itself.
before=$(stored_batches)
cluster_stop storage
sleep 4
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CA" "$SERVER_URL/api/v1/health")
expect_eq "health reports the storage outage" 503 "$code"
sleep 6
as_postgres "$PGA_TEST_PG_BIN/pg_ctl" -D "$storage_DIR/data" -l "$storage_DIR/pg_ctl.log" -w -t 60 start >/dev/null
wait_for_batches $((before + 12)) && pass "the agent catches up after a 10 s storage outage" || fail "no catch-up after the storage outage: $(tail -5 "$WORK/server.log")"

# An admin changes the configuration: disk_usage every 1 s → off, sysstat every 1 s → every 3 s.
printf 'admin password 1\n' | "$PGA_BIN" user add admin --role admin --config "$WORK/server.toml" 2>/dev/null
printf 'viewer password 1\n' | "$PGA_BIN" user add viewer --role viewer --config "$WORK/server.toml" 2>/dev/null
login() { curl -s --cacert "$CA" --data "{\"username\":\"$1\",\"password\":\"$1 password 1\"}" "$SERVER_URL/api/v1/auth/login" | jq -r .access_token; }
put_config() { # put_config TOKEN BODY: prints the HTTP status, the answer in $WORK/put.json
  curl -s -o "$WORK/put.json" -w '%{http_code}' --cacert "$CA" -X PUT -H "Authorization: Bearer $1" \
    -H 'Content-Type: application/json' --data "$2" "$SERVER_URL/api/v1/collectors/$collector/config"
}
admin=$(login admin)
expect_eq "a viewer may not change a collector's configuration" 403 \
  "$(put_config "$(login viewer)" '{"collectors":{"sysstat":{"interval":"3s"}}}')"
expect_eq "an unknown family is refused" 400 "$(put_config "$admin" '{"collectors":{"nope":{"interval":"3s"}}}')"
expect_eq "an interval under 1 s is refused" 400 "$(put_config "$admin" '{"collectors":{"sysstat":{"interval":"500ms"}}}')"
expect_eq "the admin's change is accepted" 200 \
  "$(put_config "$admin" '{"collectors":{"sysstat":{"interval":"3s"},"disk_usage":{"enabled":false}}}')"
expect_eq "the change bumps config_version" 2 "$(jq -r .config_version "$WORK/put.json")"
changed_at=$(sql "$DATABASE_URL" "SELECT now()")
for _ in $(seq 1 40); do grep -q "applied configuration version 2" "$WORK/agent.log" && break; sleep 0.5; done
expect_contains "the running agent applies it after its next push" "applied configuration version 2" "$(cat "$WORK/agent.log")"
sleep 10
applied_at=$(sql "$DATABASE_URL" "SELECT '$changed_at'::timestamptz + interval '5 s'")
spacing=$(sql "$DATABASE_URL" "SELECT round(min(extract(epoch FROM time - prev))) FROM (
  SELECT time, lag(time) OVER (ORDER BY time) AS prev FROM pganalytics.metrics_sysstat WHERE time > '$applied_at') t")
expect_eq "sysstat now comes every 3 s" 3 "$spacing"
expect_eq "disk_usage stopped" 0 "$(sql "$DATABASE_URL" "SELECT count(*) FROM pganalytics.metrics_disk_usage WHERE time > '$applied_at'")"
expect_eq "pg_stats_database still comes every second" t "$(sql "$DATABASE_URL" "
  SELECT count(DISTINCT time) >= 4 FROM pganalytics.metrics_pg_stats_database WHERE time > '$applied_at'")"
expect_eq "the change is audited" 1 "$(sql "$DATABASE_URL" "SELECT count(*) FROM pganalytics.audit_log WHERE action = 'collector.config' AND actor = 'user:admin'")"

# Drain: stop the agent cleanly and let it send what it sealed.
kill -TERM "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null || true
start_agent
sleep 3
kill -TERM "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null || true

max_seq=$(sql "$DATABASE_URL" "SELECT max(seq) FROM pganalytics.ingested_batches WHERE collector_id = '$collector'")
expect_eq "every seq from 1 to the last is stored (no gap)" "$max_seq" "$(stored_batches)"
expect_eq "the server counts no missing seq" 0 "$(sql "$DATABASE_URL" "SELECT missing_seq_count FROM pganalytics.collectors WHERE id = '$collector'")"
expect_eq "no pg_stats_database row is stored twice" 0 "$(sql "$DATABASE_URL" "
  SELECT count(*) FROM (SELECT time, instance_id, datname FROM pganalytics.metrics_pg_stats_database
                        GROUP BY 1, 2, 3 HAVING count(*) > 1) d")"
expect_eq "no sysstat row is stored twice" 0 "$(sql "$DATABASE_URL" "
  SELECT count(*) FROM (SELECT time, server_id FROM pganalytics.metrics_sysstat GROUP BY 1, 2 HAVING count(*) > 1) d")"
gap=$(sql "$DATABASE_URL" "SELECT coalesce(max(extract(epoch FROM time - prev)), 0)::int FROM (
  SELECT time, lag(time) OVER (ORDER BY time) AS prev FROM pganalytics.metrics_pg_stats_database WHERE datname = 'postgres') t")
if [ "$gap" -le 2 ]; then pass "no hole in sample times through every outage (largest ${gap}s)"; else fail "a ${gap}s hole in sample times"; fi
finish
