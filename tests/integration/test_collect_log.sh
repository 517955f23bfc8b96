#!/usr/bin/env bash
# pg_log end to end with the real binary. Two clusters the test owns log checkpoints, errors,
# statement durations, temp files and lock waits (one to stderr only, one to stderr and csvlog);
# the agent follows them across a rotation while it runs, a kill -9 and two rotations while it is
# down. What the server stores equals, exactly, what the raw log says and what pgBadger reads in it.
. "$(dirname "$0")/server_lib.sh"
. "$(dirname "$0")/cluster_lib.sh"
AGENT_PID="" HOLDER_PID=""
cleanup() {
  local pid
  for pid in $AGENT_PID $HOLDER_PID; do kill -KILL "$pid" 2>/dev/null || true; done
  stop_server
  cluster_stop_all
  rm -rf "$WORK"
}
trap cleanup EXIT

PREFIX='%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h '
for cluster in text csv; do
  destination=stderr
  [ "$cluster" = csv ] && destination=stderr,csvlog
  cluster_new "$cluster" <<CONF
logging_collector = on
log_destination = '$destination'
log_directory = 'log'
log_filename = 'postgresql-%Y-%m-%d_%H%M%S.log'
log_line_prefix = '$PREFIX'
log_checkpoints = on
log_min_duration_statement = 0
log_temp_files = 0
log_lock_waits = on
deadlock_timeout = '100ms'
log_autovacuum_min_duration = 0
autovacuum = off  # its runs would land at random moments of the compared log
CONF
  cluster_start "$cluster"
done
# The agent's role: pg_monitor (which lets it see data_directory), its own statements not logged.
for url in "$text_URL" "$csv_URL"; do
  sql "$url" "CREATE ROLE pga_agent LOGIN; GRANT pg_monitor TO pga_agent;
              ALTER ROLE pga_agent SET log_min_duration_statement = -1" >/dev/null
done
agent_url() { echo "postgresql://pga_agent@127.0.0.1:$1/postgres"; }

start_server pga_collect_log
enrol_agent <<TOML
[[instance]]
name = "text"
conninfo = "$(agent_url "$text_PORT")"
[[instance]]
name = "csv"
conninfo = "$(agent_url "$csv_PORT")"
[[instance]]
name = "csvdir"
conninfo = "$(agent_url "$csv_PORT")"
log_path = "$csv_DIR/data/log"
[[instance]]
name = "nolog"
conninfo = "postgresql://postgres@127.0.0.1:$PGA_TEST_PG_PORT/postgres"
TOML
# wait_until WHAT SECONDS COMMAND...: polls COMMAND every 0.2 s.
wait_until() {
  local what=$1 tries=$(($2 * 5)); shift 2
  for _ in $(seq 1 "$tries"); do "$@" && return 0; sleep 0.2; done
  fail "$what (timed out)"
}
reading() { [ "$(grep -c "pg_log [a-z]*: reading " "$WORK/$1")" -ge "$2" ]; }

# --- the workload, run on both clusters ---------------------------------------------------------
each() { local c; for c in text csv; do "$@" "$(eval echo "\$${c}_URL")"; done; }
checkpoint() { sql "$1" "CHECKPOINT" >/dev/null; }
errors() { # division by zero (22012) twice, undefined table (42P01), syntax error (42601)
  local q
  for q in "SELECT 1/0" "SELECT 1/0" "SELECT * FROM missing_table" "SELEC 1"; do sql "$1" "$q" >/dev/null 2>&1 || true; done
}
temp_file() { sql "$1" "SET work_mem = '64kB'; SELECT count(*) FROM (SELECT g FROM generate_series(1, 100000) g ORDER BY g DESC) s" >/dev/null; }
lock_wait() { # a second session waits about 1 s for a row the first one holds
  sql "$1" "CREATE TABLE IF NOT EXISTS lock_target (id int); TRUNCATE lock_target; INSERT INTO lock_target VALUES (1)" >/dev/null
  "$PSQL" -X -q -d "$1" -c "BEGIN" -c "UPDATE lock_target SET id = 2" -c "SELECT pg_sleep(1)" -c "COMMIT" >/dev/null &
  HOLDER_PID=$!
  holding() { [ "$(sql "$1" "SELECT count(*) FROM pg_locks WHERE relation = 'lock_target'::regclass AND granted")" = 1 ]; }
  wait_until "the lock holder started" 10 holding "$1"
  sql "$1" "UPDATE lock_target SET id = 3" >/dev/null
  wait "$HOLDER_PID"
  HOLDER_PID=""
}
marked() { sql "$1" "SELECT pg_sleep(0.2) /* marked */" >/dev/null; }
rotate() { sql "$1" "SELECT pg_rotate_logfile()" >/dev/null; }
new_log_files() { # new_log_files N: both clusters write their Nth stderr file
  [ "$(ls "$text_DIR"/data/log/*.log | wc -l)" -ge "$1" ] && [ "$(ls "$csv_DIR"/data/log/*.log | wc -l)" -ge "$1" ]
}

start_agent agent1.log
wait_until "the agent follows all three logs" 30 reading agent1.log 3
for url in "$text_URL" "$csv_URL"; do sql "$url" "SELECT 1 /* pga_start_marker */" >/dev/null; done
each checkpoint; each checkpoint; each errors; each temp_file

stored() { sql "$DATABASE_URL" "$1"; }
# events INSTANCE CONDITION: the log events the server holds for INSTANCE that meet CONDITION,
# the agent's own lines (its sessions' errors) left out as they are from the raw log.
events() {
  stored "SELECT coalesce(sum(occurrences), 0) FROM pganalytics.metrics_pg_log l
            JOIN pganalytics.postgresql_instances i ON i.id = l.instance_id
           WHERE i.name = '$1' AND l.application_name IS DISTINCT FROM 'pganalytics-agent' AND ($2)"
}
shipped() { local i; for i in text csv csvdir; do [ "$(events "$i" "$1")" -ge "$2" ] || return 1; done; }
wait_until "the first checkpoints arrive" 30 shipped "event = 'checkpoint'" 2

# A rotation while the agent runs; once it reads the new files (and saved that), a kill -9.
sleep 1.1  # log_filename has seconds: a rotation within the same second would reopen the same file
each rotate
wait_until "both clusters rotated" 10 new_log_files 2
wait_until "the agent follows the rotated logs" 20 reading agent1.log 6
sleep 1.5
each lock_wait; each marked; each checkpoint; each errors
kill -KILL "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null || true
# While it is down: more events and two rotations, so one whole file is written and closed unseen.
each errors; each temp_file; each checkpoint
sleep 1.1
each rotate
wait_until "both clusters rotated again" 10 new_log_files 3
each errors; each checkpoint
sleep 1.1
each rotate
wait_until "both clusters rotated a third time" 10 new_log_files 4
each errors
start_agent agent2.log
for url in "$text_URL" "$csv_URL"; do sql "$url" "SELECT 1 /* pga_end_marker */" >/dev/null; done
wait_until "the agent ships everything up to the end marker" 40 shipped "message LIKE '%pga_end_marker%'" 1
sleep 2  # a bound on anything shipped late, so a count too high shows

# --- the raw log: every stderr file of a cluster, from the start marker, without the agent's lines
for cluster in text csv; do
  dir=$(eval echo "\$${cluster}_DIR")
  cat $(ls "$dir"/data/log/*.log | sort) | awk '/pga_start_marker/ { on = 1 } on' | grep -v 'app=pganalytics-agent' \
    >"$WORK/$cluster.raw.log"
done
raw() { grep -cE "$2" "$WORK/$1.raw.log" || true; }
raw_sum() { # raw_sum CLUSTER PATTERN FIELD_SEPARATOR: the sum of the number after the separator
  awk -F"$3" -v p="$2" '$0 ~ p { split($2, n, " "); s += n[1] } END { printf "%.3f", s }' "$WORK/$1.raw.log"
}
rounded() { stored "SELECT round(coalesce(sum($3 * occurrences), 0)::numeric, 3) FROM pganalytics.metrics_pg_log l
  JOIN pganalytics.postgresql_instances i ON i.id = l.instance_id
  WHERE i.name = '$1' AND l.application_name IS DISTINCT FROM 'pganalytics-agent' AND ($2)"; }

for instance in text csv csvdir; do
  cluster=$instance
  [ "$instance" = csvdir ] && cluster=csv
  expect_eq "$instance: checkpoints as in the raw log" "$(raw $cluster ' LOG:  checkpoint complete: ')" \
    "$(events $instance "event = 'checkpoint'")"
  expect_eq "$instance: ERROR entries as in the raw log" "$(raw $cluster ' ERROR:  ')" \
    "$(events $instance "severity = 'ERROR'")"
  if [ "$instance" = text ]; then  # stderr without %e carries no SQLSTATE: by message
    by_division="message = 'division by zero'"
    by_missing="message LIKE 'relation ? does not exist%'"
    by_syntax="message LIKE 'syntax error at or near ?%'"
  else
    by_division="sqlstate = '22012'" by_missing="sqlstate = '42P01'" by_syntax="sqlstate = '42601'"
  fi
  expect_eq "$instance: division by zero (22012) as in the raw log" "$(raw $cluster ' ERROR:  division by zero')" \
    "$(events $instance "$by_division")"
  expect_eq "$instance: undefined table (42P01) as in the raw log" \
    "$(raw $cluster ' ERROR:  relation "missing_table" does not exist')" "$(events $instance "$by_missing")"
  expect_eq "$instance: syntax errors (42601) as in the raw log" "$(raw $cluster ' ERROR:  syntax error at or near')" \
    "$(events $instance "$by_syntax")"
  expect_eq "$instance: temp files as in the raw log" "$(raw $cluster ' LOG:  temporary file: path ')" \
    "$(events $instance "event = 'temp_file'")"
  expect_eq "$instance: temp file bytes as in the raw log" \
    "$(raw_sum $cluster ' LOG:  temporary file: path ' ', size ' | cut -d. -f1)" \
    "$(rounded $instance "event = 'temp_file'" temp_file_bytes | cut -d. -f1)"
  expect_eq "$instance: lock waits as in the raw log" \
    "$(raw $cluster ' LOG:  process [0-9]+ (still waiting for|acquired) .* after [0-9.]+ ms$')" \
    "$(events $instance "event = 'lock_wait'")"
  expect_eq "$instance: statement durations as in the raw log" "$(raw $cluster ' LOG:  duration: ')" \
    "$(events $instance "event = 'slow_statement'")"
  expect_eq "$instance: their total time as in the raw log" "$(raw_sum $cluster ' LOG:  duration: ' 'duration: ')" \
    "$(rounded $instance "event = 'slow_statement'" duration_ms)"
  marked=$(grep -F '/* marked */' "$WORK/$cluster.raw.log" | grep -o 'duration: [0-9.]*' | cut -d' ' -f2)
  expect_eq "$instance: the marked statement's duration is the log's ($marked ms)" t \
    "$(stored "SELECT bool_and(duration_ms = '$marked'::float8) AND count(*) = 1 FROM pganalytics.metrics_pg_log l
                 JOIN pganalytics.postgresql_instances i ON i.id = l.instance_id
                WHERE i.name = '$instance' AND message LIKE '%/* marked */%'")"
done
# The counts above hold across the rotations and the kill -9; show they are not trivially small.
expect_eq "every checkpoint of the test is there (5 per cluster)" 5 "$(raw text ' LOG:  checkpoint complete: ')"
expect_eq "errors logged before and after the rotations and the kill are there (20 per cluster)" 20 \
  "$(raw csv ' ERROR:  ')"

# --- pgBadger on the same raw log ----------------------------------------------------------------
# Compared where both define a figure alike. Not compared: pgBadger's errors_number, which also
# counts LOG lines it finds notable ("still waiting for", "database system was shut down"), and
# error counts per SQLSTATE, which pgBadger cannot know from stderr without %e.
for cluster in text csv; do
  pgbadger -q -f stderr --prefix "$PREFIX" -x json -o "$WORK/$cluster.pgbadger.json" "$WORK/$cluster.raw.log"
  report="$WORK/$cluster.pgbadger.json"
  badger() { jq -r "$1" "$report"; }
  expect_eq "$cluster: checkpoints as pgBadger counts them" "$(badger '[.checkpoint_info.starting[]] | add')" \
    "$(events $cluster "event = 'checkpoint'")"
  expect_eq "$cluster: buffers written by checkpoints as pgBadger sums them" "$(badger '.checkpoint_info.wbuffer')" \
    "$(rounded $cluster "event = 'checkpoint'" buffers_written | cut -d. -f1)"
  expect_eq "$cluster: checkpoint time as pgBadger sums it (s)" "$(printf '%.3f' "$(badger '.checkpoint_info.total')")" \
    "$(rounded $cluster "event = 'checkpoint'" 'duration_ms / 1000')"
  expect_eq "$cluster: ERROR entries as pgBadger counts them" "$(badger '[.logs_type[].ERROR] | add')" \
    "$(events $cluster "severity = 'ERROR'")"
  expect_eq "$cluster: division by zero as pgBadger counts it" \
    "$(badger '[.error_info[]["ERROR:  division by zero"].count] | add')" "$(events $cluster "message = 'division by zero'")"
  expect_eq "$cluster: temp files as pgBadger counts them" "$(badger '[.tempfile_info[].count] | add')" \
    "$(events $cluster "event = 'temp_file'")"
  expect_eq "$cluster: temp file bytes as pgBadger sums them" "$(badger '[.tempfile_info[].size] | add')" \
    "$(rounded $cluster "event = 'temp_file'" temp_file_bytes | cut -d. -f1)"
  expect_eq "$cluster: statements with a duration as pgBadger counts them" "$(badger '.overall_stat.queries_number')" \
    "$(events $cluster "event = 'slow_statement'")"
  expect_eq "$cluster: their total time as pgBadger sums it" \
    "$(printf '%.3f' "$(badger '[.overall_stat[] | objects | .queries_duration.execute] | add')")" \
    "$(rounded $cluster "event = 'slow_statement'" duration_ms)"
  # pgBadger's lock_info counts acquisitions only; our lock_wait also has each "still waiting".
  expect_eq "$cluster: lock acquisitions after a wait as pgBadger counts them" \
    "$(badger '[.lock_info[][].count] | add')" "$(events $cluster "event = 'lock_wait' AND message LIKE 'process ? acquired %'")"
  expect_eq "$cluster: their waiting time as pgBadger sums it" "$(printf '%.3f' "$(badger '[.lock_info[][].duration] | add')")" \
    "$(rounded $cluster "event = 'lock_wait' AND message LIKE 'process ? acquired %'" duration_ms)"
done

grep -c "pg_log nolog: logging_collector is off" "$WORK/agent1.log" >"$WORK/nolog.count" || true
expect_eq "an instance without logging_collector: one warning that says what to set" 1 "$(cat "$WORK/nolog.count")"
expect_eq "no other pg_log warning" 0 "$(grep -h 'pg_log' "$WORK"/agent*.log | grep -vc 'pg_log nolog\|: reading ' || true)"
kill -TERM "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null || true
finish
