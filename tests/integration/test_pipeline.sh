#!/usr/bin/env bash
# The delivery pipeline end to end with the real binary: an agent at a 1 s interval monitoring a
# real PostgreSQL pushes to a real server; through a server outage and kill -9 of the agent,
# ingested_batches holds every seq from 1 without a gap and no metric row is stored twice.
. "$(dirname "$0")/server_lib.sh"
start_server pga_pipeline
monitored="postgresql://postgres@127.0.0.1:$PGA_TEST_PG_PORT/postgres"
agent_metrics_port=$(free_port)
enrol_agent "metrics_listen = \"127.0.0.1:$agent_metrics_port\"" <<TOML
[[instance]]
name = "main"
conninfo = "$monitored"
TOML
collector=$COLLECTOR

AGENT_PID=""
trap 'kill -KILL $AGENT_PID 2>/dev/null || true; stop_server; rm -rf "$WORK"' EXIT

start_agent
wait_for_batches 3 && pass "the agent's batches are stored" || fail "no batches arrived: $(tail -5 "$WORK/agent.log")"
expect_eq "pg_stats_database rows arrive for the monitored databases" t \
  "$(sql "$DATABASE_URL" "SELECT count(*) > 0 FROM pganalytics.metrics_pg_stats_database WHERE datname = 'postgres'")"
expect_eq "sysstat rows arrive for the host" t "$(sql "$DATABASE_URL" "SELECT count(*) > 0 FROM pganalytics.metrics_sysstat")"
memtotal=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) * 1024 ))
expect_eq "MemTotal equals /proc/meminfo" "$memtotal" "$(sql "$DATABASE_URL" "SELECT mem_total_bytes FROM pganalytics.metrics_sysstat ORDER BY time DESC LIMIT 1")"

curl -s "http://127.0.0.1:$agent_metrics_port/metrics" >"$WORK/agent-metrics.txt"
if promtool check metrics <"$WORK/agent-metrics.txt" >"$WORK/agent-promtool.out" 2>&1; then pass "the agent's /metrics is promtool-clean"; else fail "agent promtool: $(cat "$WORK/agent-promtool.out")"; fi
expect_contains "the agent counts successful collections" 'pganalytics_agent_collections_total{family="pg_stats_database",outcome="ok"}' "$(cat "$WORK/agent-metrics.txt")"
expect_contains "the agent counts pushes" 'pganalytics_agent_pushes_total{outcome="ok"}' "$(cat "$WORK/agent-metrics.txt")"
expect_contains "the agent reports its spool" 'pganalytics_agent_spool_bytes ' "$(cat "$WORK/agent-metrics.txt")"

# Three kill -9 of the agent while it works.
for round in 1 2 3; do
  sleep 1.5
  kill -KILL "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null || true
  start_agent
done
# A server outage of 5 s: the agent spools and catches up.
before=$(stored_batches)
stop_server
sleep 5
restart_server
wait_for_batches $((before + 8)) && pass "the agent catches up after the outage" || fail "no catch-up after the outage"
kill -TERM "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null || true
# Let the final sealed batch go: restart the agent briefly so its spool drains.
start_agent
sleep 3
kill -TERM "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null || true

max_seq=$(sql "$DATABASE_URL" "SELECT max(seq) FROM pganalytics.ingested_batches WHERE collector_id = '$collector'")
expect_eq "every seq from 1 to the last is stored (no gap)" "$max_seq" "$(stored_batches)"
expect_eq "seqs start at 1" 1 "$(sql "$DATABASE_URL" "SELECT min(seq) FROM pganalytics.ingested_batches WHERE collector_id = '$collector'")"
expect_eq "the server counts no missing seq" 0 "$(sql "$DATABASE_URL" "SELECT missing_seq_count FROM pganalytics.collectors WHERE id = '$collector'")"
expect_eq "no metric row is stored twice" 0 "$(sql "$DATABASE_URL" "
  SELECT count(*) FROM (SELECT time, instance_id, datname FROM pganalytics.metrics_pg_stats_database
                        GROUP BY 1, 2, 3 HAVING count(*) > 1) d")"
expect_eq "no sysstat row is stored twice" 0 "$(sql "$DATABASE_URL" "
  SELECT count(*) FROM (SELECT time, server_id FROM pganalytics.metrics_sysstat GROUP BY 1, 2 HAVING count(*) > 1) d")"
# The read API: a signed-in viewer sees the host granted to it, its instance and non-negative rates.
printf 'reader password 1\n' | "$PGA_BIN" user add reader --role viewer --config "$WORK/server.toml" 2>/dev/null
token=$(curl -s --cacert "$CA" --data '{"username":"reader","password":"reader password 1"}' "$SERVER_URL/api/v1/auth/login" | jq -r .access_token)
get() { curl -s --cacert "$CA" -H "Authorization: Bearer $token" "$SERVER_URL$1"; }
server_id=$(sql "$DATABASE_URL" "SELECT server_id FROM pganalytics.collectors WHERE id = '$collector'")
# A viewer sees only the servers granted to it: none yet, and the host's own routes are a 404.
expect_eq "a viewer without grants lists no server" 0 "$(get /api/v1/servers | jq length)"
expect_eq "a viewer without grants lists no collector" 0 "$(get /api/v1/collectors | jq length)"
expect_eq "a server not granted is a 404" not_found "$(get "/api/v1/servers/$server_id" | jq -r .error.code)"
expect_eq "its series are a 404 too" not_found "$(get "/api/v1/servers/$server_id/metrics?family=sysstat&column=load1" | jq -r .error.code)"
sql "$DATABASE_URL" "INSERT INTO pganalytics.user_servers (user_id, server_id) SELECT id, $server_id FROM pganalytics.users WHERE username = 'reader'" >/dev/null
expect_eq "once granted, the viewer lists that server" "$server_id" "$(get /api/v1/servers | jq -r '.[0].id')"
expect_eq "the monitored host is listed with its instance" main "$(get "/api/v1/servers/$server_id" | jq -r '.instances[0].name')"
expect_eq "the collector shows its last seq" "$max_seq" "$(get "/api/v1/collectors/$collector" | jq -r .last_seq)"
expect_eq "an unknown collector is a 404" not_found "$(get /api/v1/collectors/00000000-0000-4000-8000-000000000000 | jq -r .error.code)"
expect_eq "an unknown server is a 404" not_found "$(get /api/v1/servers/999999 | jq -r .error.code)"
expect_eq "the read API needs a signed-in user" 401 "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CA" "$SERVER_URL/api/v1/servers")"
series=$(get "/api/v1/servers/$server_id/metrics?family=pg_stats_database&column=xact_commit&step=2s&rate=true&from=$(( $(date +%s) - 600 ))")
points=$(jq '[.series[] | select(.labels.datname == "postgres") | .points[]] | length' <<<"$series")
if [ "$points" -gt 3 ]; then pass "xact_commit rates come back ($points points)"; else fail "rates: $series"; fi
expect_eq "every rate is non-negative" 0 "$(jq '[.series[].points[][1] | select(. < 0)] | length' <<<"$series")"
expect_eq "gauges come back too" true "$(get "/api/v1/servers/$server_id/metrics?family=sysstat&column=load1&step=5s" | jq '.series[0].points | length > 0')"
expect_eq "an unknown family is a 400" unknown_family "$(get "/api/v1/servers/$server_id/metrics?family=nope&column=x" | jq -r .error.code)"
curl -s --cacert "$CA" "$SERVER_URL/metrics" >"$WORK/metrics.txt"
if promtool check metrics <"$WORK/metrics.txt" >"$WORK/promtool.out" 2>&1; then pass "/metrics is promtool-clean"; else fail "promtool: $(cat "$WORK/promtool.out")"; fi
expect_contains "/metrics counts pushes" 'route="/api/v1/metrics/push"' "$(cat "$WORK/metrics.txt")"
stored_metric=$(awk '/^pganalytics_server_batches_total\{result="stored"\}/ {print $2}' "$WORK/metrics.txt")
if [ "${stored_metric:-0}" -gt 0 ]; then pass "/metrics counts stored batches ($stored_metric)"; else fail "no stored batches in /metrics"; fi
expect_contains "/metrics counts rows by family" 'pganalytics_server_ingested_rows_total{family="sysstat"}' "$(cat "$WORK/metrics.txt")"

# Sample times have no hole longer than the agent's own downtime plus a few intervals.
gap=$(sql "$DATABASE_URL" "SELECT coalesce(max(extract(epoch FROM time - prev)), 0)::int FROM (
  SELECT time, lag(time) OVER (ORDER BY time) AS prev FROM pganalytics.metrics_sysstat) t")
if [ "$gap" -le 6 ]; then pass "no hole in sample times beyond agent restarts (largest ${gap}s)"; else fail "a ${gap}s hole in sample times"; fi
finish
