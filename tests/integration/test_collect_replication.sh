#!/usr/bin/env bash
# The instance-wide families with the real binary on a real primary and streaming standby under
# pgbench: senders, slots and the WAL receiver, WAL positions equal to the server's own at a quiet
# moment, a blocked session and its waiting lock, an unreachable instance reported down
# (pg_instance up = false) without slowing the others; every family of the registry arrives and
# the agent's peak RSS stays under 30 MB.
. "$(dirname "$0")/server_lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
AGENT_PID="" HOLDER_PID="" WAITER_PID=""
cleanup() {
  local pid
  for pid in $AGENT_PID $HOLDER_PID $WAITER_PID; do kill -KILL "$pid" 2>/dev/null || true; done
  stop_server
  cluster_stop_all
  rm -rf "$WORK"
}
trap cleanup EXIT

cluster_new primary <<CONF
wal_level = replica
max_wal_senders = 4
max_replication_slots = 4
shared_preload_libraries = 'pg_stat_statements'
logging_collector = on
log_directory = 'log'
log_checkpoints = on
CONF
cluster_start primary
sql "$primary_URL" "CREATE EXTENSION pg_stat_statements" >/dev/null
sql "$primary_URL" "SELECT pg_create_physical_replication_slot('standby_slot')" >/dev/null
mkdir -p "$WORK/standby" && chown postgres:postgres "$WORK/standby"
as_postgres "$PGA_TEST_PG_BIN/pg_basebackup" -d "$primary_URL" -D "$WORK/standby/data" -R -S standby_slot -X stream \
  >"$WORK/basebackup.log" 2>&1 || { cat "$WORK/basebackup.log" >&2; fail "pg_basebackup"; finish; }
echo "unix_socket_directories = '$WORK/standby'" | as_postgres tee -a "$WORK/standby/data/postgresql.conf" >/dev/null
cluster_start standby
"$PGA_TEST_PG_BIN/pgbench" -i -q -s 1 "$primary_URL" >"$WORK/pgbench-init.log" 2>&1

start_server pga_collect_replication
enrol_agent <<TOML
[[instance]]
name = "primary"
conninfo = "$primary_URL"
[[instance]]
name = "standby"
conninfo = "$standby_URL"
[[instance]]
name = "down"
conninfo = "postgresql://postgres@127.0.0.1:$(free_port)/postgres"
TOML
start_agent
"$PGA_TEST_PG_BIN/pgbench" -c 2 -T 6 "$primary_URL" >"$WORK/pgbench.log" 2>&1

stored() { sql "$DATABASE_URL" "$1"; }
# rows FAMILY INSTANCE [CONDITION]: how many rows of FAMILY the server holds for INSTANCE.
rows() {
  stored "SELECT count(*) FROM pganalytics.metrics_$1 m JOIN pganalytics.postgresql_instances i ON i.id = m.instance_id
          WHERE i.name = '$2' AND (${3:-true})"
}
# latest FAMILY INSTANCE EXPRESSION CONDITION: EXPRESSION over the newest matching row.
latest() {
  stored "SELECT m.$3 FROM pganalytics.metrics_$1 m JOIN pganalytics.postgresql_instances i ON i.id = m.instance_id
          WHERE i.name = '$2' AND ($4) ORDER BY m.time DESC LIMIT 1"
}
# wait_until CONDITION_COMMAND...: retries for at most 20 s.
wait_until() {
  for _ in $(seq 1 40); do "$@" && return 0; sleep 0.5; done
  return 1
}
has_rows() { [ "$(rows "$@")" -gt 0 ]; }

for family in pg_bgwriter pg_wal replication pg_activity pg_locks; do
  for instance in primary standby; do
    wait_until has_rows "$family" "$instance" && pass "$family rows arrive for the $instance" \
      || fail "no $family rows for the $instance: $(grep -i "$family" "$WORK/agent.log" | tail -3)"
  done
done
wait_until has_rows replication primary "kind = 'sender' AND m.name = 'walreceiver' AND lag_bytes >= 0" \
  && pass "the primary reports its WAL sender to the standby" || fail "no sender row on the primary"
wait_until has_rows replication primary "kind = 'slot' AND m.name = 'standby_slot' AND retained_wal_bytes >= 0 AND active" \
  && pass "the primary reports the standby's slot with the WAL it retains" || fail "no slot row on the primary"
wait_until has_rows replication standby "kind = 'receiver' AND status = 'streaming' AND slot_name = 'standby_slot'" \
  && pass "the standby reports its WAL receiver streaming" || fail "no streaming receiver row on the standby"
expect_eq "the standby has no current WAL position of its own but a replay position" t \
  "$(stored "SELECT bool_and(current_lsn IS NULL AND replay_lsn > 0) FROM pganalytics.metrics_pg_wal m
             JOIN pganalytics.postgresql_instances i ON i.id = m.instance_id WHERE i.name = 'standby'")"
expect_eq "the standby knows it is in recovery" t "$(latest pg_instance standby in_recovery true)"
expect_eq "pg_bgwriter holds PostgreSQL 15's checkpointer counters" t "$(latest pg_bgwriter primary 'checkpoints_timed >= 0' true)"

# A quiet moment: the load is over and a checkpoint done. WAL positions only grow, so when they are
# the same before and after, every agent sample taken in between must hold exactly them.
sql "$primary_URL" "CHECKPOINT" >/dev/null
positions() { sql "$primary_URL" "SELECT (pg_current_wal_lsn() - '0/0')::bigint || ' ' || (restart_lsn - '0/0')::bigint
                                   FROM pg_replication_slots WHERE slot_name = 'standby_slot'"; }
sampled_since() {
  [ -n "$(latest pg_wal primary time "m.time > '$1'")" ] &&
    [ -n "$(latest replication primary time "kind = 'slot' AND m.time > '$1'")" ]
}
quiet=""
for _ in $(seq 1 8); do
  before=$(positions)
  since=$(stored "SELECT now()")
  wait_until sampled_since "$since" || break
  upto=$(stored "SELECT now()")
  if [ "$(positions)" = "$before" ]; then quiet=$before; break; fi
done
between="m.time > '${since:-}' AND m.time < '${upto:-}'"
if [ -n "$quiet" ]; then
  expect_eq "pg_wal current_lsn equals pg_current_wal_lsn() - '0/0'" "${quiet% *}" \
    "$(latest pg_wal primary current_lsn "$between")"
  expect_eq "the slot's restart_lsn equals pg_replication_slots" "${quiet#* }" \
    "$(latest replication primary restart_lsn "kind = 'slot' AND m.name = 'standby_slot' AND $between")"
else
  fail "the primary never became quiet enough to compare WAL positions"
fi

# A session holding a lock and another one waiting for it.
sql "$primary_URL" "CREATE TABLE held (a int)"
PGAPPNAME=pga_holder "$PSQL" -X -q -d "$primary_URL" -c "BEGIN" -c "LOCK TABLE held IN SHARE MODE" \
  -c "SELECT pg_sleep(60)" >/dev/null 2>&1 &
HOLDER_PID=$!
holder_has_lock() { [ "$(sql "$primary_URL" "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
                                                 WHERE a.application_name = 'pga_holder' AND l.mode = 'ShareLock'")" = 1 ]; }
wait_until holder_has_lock || fail "the lock holder did not take its lock"
PGAPPNAME=pga_waiter "$PSQL" -X -q -d "$primary_URL" -c "INSERT INTO held VALUES (1)" >/dev/null 2>&1 &
WAITER_PID=$!
wait_until has_rows pg_activity primary "blocked_sessions >= 1 AND wait_event_type = 'Lock'" \
  && pass "pg_activity counts the blocked session" || fail "no blocked session in pg_activity"
wait_until has_rows pg_locks primary \
  "NOT granted AND mode = 'RowExclusiveLock' AND locktype = 'relation' AND datname = 'postgres'" \
  && pass "pg_locks shows the lock that is not granted" || fail "no waiting lock in pg_locks"
sql "$primary_URL" "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                    WHERE application_name IN ('pga_holder', 'pga_waiter')" >/dev/null
wait "$HOLDER_PID" "$WAITER_PID" 2>/dev/null || true
HOLDER_PID="" WAITER_PID=""

# Every family of the registry arrives: the instance families for the primary, the host ones.
sql "$primary_URL" "CHECKPOINT" >/dev/null  # a checkpoint event for pg_log
for family in pg_instance pg_stats_database pg_stats_table pg_stats_index pg_statements pg_log; do
  wait_until has_rows "$family" primary && pass "$family rows arrive for the primary" \
    || fail "no $family rows for the primary: $(grep -i "$family" "$WORK/agent.log" | tail -3)"
done
host_rows() { [ "$(stored "SELECT count(*) FROM pganalytics.metrics_$1")" -gt 0 ]; }
for family in sysstat disk_io network disk_usage; do
  wait_until host_rows "$family" && pass "$family rows arrive for the host" || fail "no $family rows"
done
expect_eq "the family list above is the registry's" 15 "$(stored "SELECT count(*) FROM information_schema.tables
  WHERE table_schema = 'pganalytics' AND table_name LIKE 'metrics\_%' AND table_name NOT LIKE '%\_1h'
  AND table_name NOT LIKE '%\_p20%'")"

# The unreachable instance: reported down every second while the primary's samples keep coming.
window_start=$(stored "SELECT now()")
sleep 8  # the 5 s window and the time its last batches take to arrive
window="m.time > '$window_start' AND m.time <= '$window_start'::timestamptz + interval '5 s'"
in_window() { rows pg_instance "$1" "$2 AND $window"; }
down_rows=$(in_window down "up = false")
if [ "$down_rows" -ge 3 ]; then pass "the unreachable instance is reported down ($down_rows rows in 5 s)"
else fail "down rows in 5 s: $down_rows"; fi
expect_eq "the unreachable instance has no other figure" 0 "$(rows pg_instance down "up OR m.system_identifier IS NOT NULL")"
primary_rows=$(in_window primary "up")
if [ "$primary_rows" -ge 4 ]; then pass "the primary is sampled about every second meanwhile ($primary_rows rows in 5 s)"
else fail "primary rows in 5 s: $primary_rows"; fi
gap=$(stored "SELECT coalesce(max(extract(epoch FROM time - prev)), 0)::int FROM (
  SELECT m.time, lag(m.time) OVER (ORDER BY m.time) AS prev FROM pganalytics.metrics_pg_bgwriter m
  JOIN pganalytics.postgresql_instances i ON i.id = m.instance_id
  WHERE i.name = 'primary' AND $window) t")
if [ "$gap" -le 3 ]; then pass "no gap in the primary's samples beyond 3 s (largest ${gap}s)"
else fail "a ${gap}s gap in the primary's samples"; fi
peak_kib=$(awk '/^VmHWM:/ {print $2}' "/proc/$AGENT_PID/status")
if [ $((peak_kib * 1024)) -lt 30000000 ]; then pass "the agent's peak RSS stays under 30 MB ($((peak_kib / 1024)) MiB)"
else fail "the agent's peak RSS is $((peak_kib / 1024)) MiB"; fi
finish
