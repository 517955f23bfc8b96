#!/usr/bin/env bash
# The collectors' lifecycle with a real agent (issue 14.6): an admin disables it, the agent is
# refused at its next request and stops pushing while its spool keeps every batch (nothing
# quarantined, its refresh token intact); enabled again, it delivers them all with no gap.
# Rename; delete keeping the data (the server and its samples stay readable, the agent is
# refused) or with it (everything of that server goes).
. "$(dirname "$0")/auth_lib.sh"
AGENT_PID=""
trap 'kill -KILL $AGENT_PID 2>/dev/null || true; stop_server; rm -rf "$WORK"' EXIT
start_server pga_lifecycle
add_user root admin
ADMIN=$(sign_in root)
enrol_agent </dev/null
start_agent
wait_for_batches 2 && pass "the agent pushes" || fail "no batches: $(tail -5 "$WORK/agent.log")"

# --- disable: refused at once, the spool keeps the batches
expect_eq "an admin disables the collector" 200 "$(as "$ADMIN" POST "/api/v1/collectors/$COLLECTOR/disable")"
expect_eq "the collector shows disabled" disabled "$(as "$ADMIN" GET "/api/v1/collectors/$COLLECTOR" >/dev/null; field .status)"
# pushes_refused: how many pushes the server refused 403 so far (its own metrics).
pushes_refused() {
  curl -s --cacert "$CA" "$SERVER_URL/metrics" |
    awk '/^pganalytics_server_http_requests_total\{route="\/api\/v1\/metrics\/push",method="POST",status="403"\}/ {print $2}'
}
for _ in $(seq 1 100); do [ "$(pushes_refused)" = 1 ] && break; sleep 0.1; done
expect_eq "the agent's next push is refused" 1 "$(pushes_refused)"
stored=$(stored_batches)
# Told to come back in 10 s (Retry-After), the agent tries again once meanwhile sealed batches wait.
for _ in $(seq 1 300); do [ "$(pushes_refused)" -ge 2 ] && break; sleep 0.1; done
expect_eq "its retry is refused too" 2 "$(pushes_refused)"
after=$(stored_batches)
expect_eq "nothing more is stored while disabled" "$stored" "$after"
expect_contains "the agent says why it waits" "disabled" "$(cat "$WORK/agent.log")"
expect_eq "nothing was quarantined" 0 "$(find "$AGENT_STATE/rejected" -type f 2>/dev/null | wc -l)"
expect_eq "its session was not revoked" 0 \
  "$(q "SELECT count(*) FROM pganalytics.sessions WHERE collector_id = '$COLLECTOR' AND revoked_at IS NOT NULL")"

# --- enable: everything held back arrives, no gap
expect_eq "an admin enables it" 200 "$(as "$ADMIN" POST "/api/v1/collectors/$COLLECTOR/enable")"
held=$(( $(q "SELECT (extract(epoch FROM now() - max(received_at)))::int FROM pganalytics.ingested_batches WHERE collector_id = '$COLLECTOR'") ))
wait_for_batches $((after + held)) && pass "the $held or so batches held back arrive after enabling" || fail "the held batches did not arrive"
expect_eq "no seq is missing" 0 "$(q "SELECT missing_seq_count FROM pganalytics.collectors WHERE id = '$COLLECTOR'")"
expect_eq "the stored seqs are contiguous" t \
  "$(q "SELECT max(seq) = count(*) FROM pganalytics.ingested_batches WHERE collector_id = '$COLLECTOR'")"
expect_eq "disable and enable are audited" "collector.disable,collector.enable" \
  "$(q "SELECT string_agg(action, ',' ORDER BY id) FROM pganalytics.audit_log WHERE action IN ('collector.disable', 'collector.enable')")"

# --- rename
expect_eq "an admin renames it" 200 "$(as "$ADMIN" PATCH "/api/v1/collectors/$COLLECTOR" --data '{"name":"db-renamed"}')"
SERVER=$(server_of "$COLLECTOR")
expect_eq "the collector and its server carry the name" "db-renamed/db-renamed" \
  "$(as "$ADMIN" GET "/api/v1/collectors/$COLLECTOR" >/dev/null; field -r .name)/$(as "$ADMIN" GET "/api/v1/servers/$SERVER" >/dev/null; field -r .name)"
expect_eq "an empty name is refused" 400 "$(as "$ADMIN" PATCH "/api/v1/collectors/$COLLECTOR" --data '{"name":""}')"

# --- delete keeping the data
expect_eq "keep_data must be true or false" 400 "$(as "$ADMIN" DELETE "/api/v1/collectors/$COLLECTOR?keep_data=maybe")"
samples=$(q "SELECT count(*) FROM pganalytics.metrics_sysstat WHERE server_id = $SERVER")
expect_eq "an admin deletes it, keeping the data" 204 "$(as "$ADMIN" DELETE "/api/v1/collectors/$COLLECTOR?keep_data=true")"
expect_eq "it is gone from the collectors" 404 "$(as "$ADMIN" GET "/api/v1/collectors/$COLLECTOR")"
expect_eq "its server stays readable" 200 "$(as "$ADMIN" GET "/api/v1/servers/$SERVER")"
expect_eq "with every sample" "$samples" "$(q "SELECT count(*) FROM pganalytics.metrics_sysstat WHERE server_id = $SERVER")"
expect_eq "its sessions are revoked" 0 \
  "$(q "SELECT count(*) FROM pganalytics.sessions WHERE collector_id = '$COLLECTOR' AND revoked_at IS NULL")"
expect_eq "the agent's next push is refused" 403 "$(BODY=/dev/null curl -s --cacert "$CA" --cert "$AGENT_STATE/agent.crt" \
  --key "$AGENT_STATE/agent.key" -H "Authorization: Bearer $(jq -r .access_token "$AGENT_STATE/credentials.json")" \
  -o /dev/null -w '%{http_code}' "$SERVER_URL/api/v1/config/$COLLECTOR")"
kill "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null || true
AGENT_PID=""

# --- delete with the data
OTHER=$(enrol_collector other)
OTHER_SERVER=$(server_of "$OTHER")
expect_eq "the other collector pushes" 200 "$(push_fixture other 1)"
INSTANCES=$(q "SELECT string_agg(id::text, ',') FROM pganalytics.postgresql_instances WHERE server_id = $OTHER_SERVER")
expect_eq "its samples are stored" t "$(q "SELECT count(*) > 0 FROM pganalytics.metrics_sysstat WHERE server_id = $OTHER_SERVER")"
expect_eq "an admin deletes it with its data" 204 "$(as "$ADMIN" DELETE "/api/v1/collectors/$OTHER?keep_data=false")"
expect_eq "its server is gone" 404 "$(as "$ADMIN" GET "/api/v1/servers/$OTHER_SERVER")"
expect_eq "and every row of it" "0/0/0/0" "$(q "SELECT (SELECT count(*) FROM pganalytics.metrics_sysstat WHERE server_id = $OTHER_SERVER) || '/' ||
  (SELECT count(*) FROM pganalytics.metrics_pg_stats_database WHERE instance_id IN ($INSTANCES)) || '/' ||
  (SELECT count(*) FROM pganalytics.postgresql_instances WHERE server_id = $OTHER_SERVER) || '/' ||
  (SELECT count(*) FROM pganalytics.ingested_batches WHERE collector_id = '$OTHER')")"
expect_eq "the first server's data is untouched" "$samples" "$(q "SELECT count(*) FROM pganalytics.metrics_sysstat WHERE server_id = $SERVER")"
expect_eq "a deleted collector cannot be deleted again" 404 "$(as "$ADMIN" DELETE "/api/v1/collectors/$COLLECTOR")"
expect_eq "deletions are audited" 2 "$(q "SELECT count(*) FROM pganalytics.audit_log WHERE action = 'collector.delete'")"
finish
