#!/usr/bin/env bash
# pg_stats_table and pg_stats_index with the real binary: an agent at 1 s, max_connections = 2 and
# max_objects_per_database = 3, on a cluster of its own with several databases. Every readable
# database arrives, values equal their sources, the cap keeps the biggest objects plus the oldest
# relfrozenxid, a database without CONNECT is skipped with one log line, one refusing connections
# does not stop the others and comes back, and the agent never holds more than 2 connections.
. "$(dirname "$0")/server_lib.sh"
. "$(dirname "$0")/cluster_lib.sh"

AGENT_PID=""
POLL_PID=""
trap 'kill -KILL $AGENT_PID $POLL_PID 2>/dev/null || true; cluster_stop_all; stop_server; rm -rf "$WORK"' EXIT

cluster_new objects <<'CONF'
autovacuum = off
CONF
cluster_start objects || { fail "the monitored cluster did not start"; finish; }
QUOTED_DB='objects "q" o'"'"'db'
in_db() { # in_db DBNAME: psql script from stdin, run in that database as postgres
  "$PSQL" -X -q -v ON_ERROR_STOP=1 -d "host=127.0.0.1 port=$objects_PORT user=postgres dbname='${1//\'/\\\'}'" >/dev/null
}

in_db postgres <<'SQL'
CREATE ROLE objects_agent LOGIN;
GRANT pg_monitor TO objects_agent;
CREATE DATABASE objects_a;
CREATE DATABASE objects_many;
CREATE DATABASE "objects ""q"" o'db";
CREATE DATABASE objects_private;
REVOKE CONNECT ON DATABASE objects_private FROM PUBLIC;
CREATE DATABASE objects_full;
SQL
in_db objects_a <<'SQL'
CREATE TABLE orders (id bigint PRIMARY KEY, customer int NOT NULL, placed date NOT NULL, note text);
CREATE INDEX orders_customer ON orders (customer);
CREATE INDEX orders_placed ON orders (placed);
INSERT INTO orders SELECT g, g % 37, date '2024-01-01' + g % 300, repeat('x', 20) FROM generate_series(1, 400) g;
SQL
# In a session of its own: a backend flushes its insert counts when it exits, and would add them
# again to the n_live_tup an ANALYZE in the same session had already set.
echo "ANALYZE orders;" | in_db objects_a
# t01..t20 created one per transaction, so t01..t10 have the oldest relfrozenxid; t18..t20 are
# the biggest. Each has a primary key: the three biggest indexes are t18_pkey..t20_pkey.
{
  for i in $(seq -w 1 20); do echo "CREATE TABLE t$i (id int PRIMARY KEY, pad text);"; done
  for i in $(seq -w 1 17); do echo "INSERT INTO t$i SELECT g, 'p' FROM generate_series(1, 5) g;"; done
  echo "INSERT INTO t18 SELECT g, repeat('y', 100) FROM generate_series(1, 2000) g;"
  echo "INSERT INTO t19 SELECT g, repeat('y', 100) FROM generate_series(1, 4000) g;"
  echo "INSERT INTO t20 SELECT g, repeat('y', 100) FROM generate_series(1, 8000) g;"
  # The cap ranks by the catalog's page counts, which ANALYZE (or autovacuum) brings up to date.
  echo "ANALYZE;"
} | in_db objects_many
echo "CREATE TABLE things (id int PRIMARY KEY); INSERT INTO things VALUES (1), (2), (3);" | in_db "$QUOTED_DB"
echo "CREATE TABLE secrets (id int PRIMARY KEY); INSERT INTO secrets VALUES (1);" | in_db objects_private
# CONNECT is granted but every connection is refused: a database that fails while the others work.
echo "CREATE TABLE later (id int PRIMARY KEY); ALTER DATABASE objects_full CONNECTION LIMIT 0;" | in_db objects_full

start_server pga_collect_objects
enrol_agent <<TOML
[[instance]]
name = "objects"
conninfo = "postgresql://objects_agent@127.0.0.1:$objects_PORT/postgres"
max_connections = 2
max_objects_per_database = 3
TOML

# Connections of the agent to the monitored cluster, counted every 0.1 s while it runs.
(
  while :; do
    sql "$objects_URL" "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pganalytics-agent'" || true
    sleep 0.1
  done
) >"$WORK/connections.txt" 2>/dev/null &
POLL_PID=$!
start_agent

stored() { sql "$DATABASE_URL" "$1"; }
wait_for() { # wait_for SQL: until the server database answers t (at most 30 s)
  for _ in $(seq 1 60); do [ "$(stored "$1")" = t ] && return 0; sleep 0.5; done
  return 1
}
tables_of() { echo "SELECT count(*) > 0 FROM pganalytics.metrics_pg_stats_table WHERE datname = '${1//\'/\'\'}'"; }
orders_customer_rows="SELECT count(*) > 0 FROM pganalytics.metrics_pg_stats_index WHERE datname = 'objects_a' AND indexrelname = 'orders_customer'"
if wait_for "SELECT ($(tables_of objects_a)) AND ($(tables_of objects_many)) AND ($(tables_of "$QUOTED_DB")) AND ($orders_customer_rows)"; then
  pass "table rows arrive from objects_a, objects_many and the database named [$QUOTED_DB]"
else
  fail "table rows missing: $(stored "SELECT string_agg(DISTINCT datname, ', ') FROM pganalytics.metrics_pg_stats_table"); agent: $(tail -5 "$WORK/agent.log")"
fi
expect_eq "index rows arrive from the database with quotes in its name" t \
  "$(stored "SELECT count(*) > 0 FROM pganalytics.metrics_pg_stats_index WHERE datname = 'objects \"q\" o''db' AND indexrelname = 'things_pkey'")"

# Index scans while the agent runs; then nothing changes and the next samples must match.
first_idx_scan=$(stored "SELECT idx_scan FROM pganalytics.metrics_pg_stats_index
  WHERE datname = 'objects_a' AND indexrelname = 'orders_customer' ORDER BY time DESC LIMIT 1")
{
  echo "SET enable_seqscan = off; SET enable_bitmapscan = off;"
  for c in 1 2 3 4 5 6 7; do echo "SELECT count(*) FROM orders WHERE customer = $c;"; done
} | in_db objects_a
scans_done=$(stored "SELECT now()")
after_scans="time > '$scans_done'::timestamptz + interval '1.5 s'"
wait_for "$orders_customer_rows AND $after_scans" || fail "no index sample after the scans"
wait_for "SELECT count(*) > 0 FROM pganalytics.metrics_pg_stats_table WHERE datname = 'objects_a' AND relname = 'orders' AND $after_scans" ||
  fail "no table sample after the scans"
at_source() { sql "host=127.0.0.1 port=$objects_PORT user=postgres dbname=objects_a" "$1"; }
latest_table() { stored "SELECT $1 FROM pganalytics.metrics_pg_stats_table WHERE datname = 'objects_a' AND relname = 'orders' ORDER BY time DESC LIMIT 1"; }
latest_index() { stored "SELECT $1 FROM pganalytics.metrics_pg_stats_index WHERE datname = 'objects_a' AND indexrelname = '$2' ORDER BY time DESC LIMIT 1"; }

last_idx_scan=$(latest_index idx_scan orders_customer)
expect_eq "idx_scan of orders_customer equals pg_stat_user_indexes" \
  "$(at_source "SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = 'orders_customer'")" "$last_idx_scan"
if [ "${last_idx_scan:-0}" -ge $((${first_idx_scan:-0} + 7)) ]; then pass "the 7 index scans show ($first_idx_scan -> $last_idx_scan)"
else fail "idx_scan went from $first_idx_scan to $last_idx_scan after 7 index scans"; fi
expect_eq "idx_blks_hit of orders_customer equals pg_statio_user_indexes" \
  "$(at_source "SELECT idx_blks_hit FROM pg_statio_user_indexes WHERE indexrelname = 'orders_customer'")" "$(latest_index idx_blks_hit orders_customer)"
expect_eq "n_live_tup of orders equals pg_stat_user_tables after ANALYZE" \
  "$(at_source "SELECT n_live_tup FROM pg_stat_user_tables WHERE relname = 'orders'")" "$(latest_table n_live_tup)"
expect_eq "orders holds 400 live rows" 400 "$(latest_table n_live_tup)"
expect_eq "heap and index block counters of orders equal pg_statio_user_tables" \
  "$(at_source "SELECT concat_ws(' ', heap_blks_read, heap_blks_hit, idx_blks_read, idx_blks_hit, toast_blks_read, toast_blks_hit, tidx_blks_read, tidx_blks_hit) FROM pg_statio_user_tables WHERE relname = 'orders'")" \
  "$(latest_table "concat_ws(' ', heap_blks_read, heap_blks_hit, idx_blks_read, idx_blks_hit, toast_blks_read, toast_blks_hit, tidx_blks_read, tidx_blks_hit)")"
expect_eq "table, indexes and total sizes of orders equal pg_table_size, pg_indexes_size, pg_total_relation_size" \
  "$(at_source "SELECT concat_ws(' ', pg_table_size('orders'), pg_indexes_size('orders'), pg_total_relation_size('orders'))")" \
  "$(latest_table "concat_ws(' ', table_size_bytes, indexes_size_bytes, total_size_bytes)")"
expect_eq "index_size_bytes of orders_customer equals pg_relation_size" \
  "$(at_source "SELECT pg_relation_size('orders_customer')")" "$(latest_index index_size_bytes orders_customer)"
expect_eq "relfrozenxid_age of orders equals age(relfrozenxid)" \
  "$(at_source "SELECT age(relfrozenxid) FROM pg_class WHERE relname = 'orders'")" "$(latest_table relfrozenxid_age)"

# Sizes are not read every cycle (SizeCache) but again as soon as the counters show a change:
# 3,000 more rows in orders, and the next samples carry the grown sizes.
echo "INSERT INTO orders SELECT g, g % 37, date '2024-01-01' + g % 300, repeat('z', 200) FROM generate_series(401, 3400) g;" |
  in_db objects_a
grown=$(stored "SELECT now()")
wait_for "SELECT count(*) > 0 FROM pganalytics.metrics_pg_stats_table WHERE datname = 'objects_a' AND relname = 'orders'
  AND time > '$grown'::timestamptz + interval '2 s'" || fail "no table sample after the insert"
expect_eq "after 3,000 more rows, the sizes of orders equal pg_table_size, pg_indexes_size, pg_total_relation_size again" \
  "$(at_source "SELECT concat_ws(' ', pg_table_size('orders'), pg_indexes_size('orders'), pg_total_relation_size('orders'))")" \
  "$(latest_table "concat_ws(' ', table_size_bytes, indexes_size_bytes, total_size_bytes)")"
expect_eq "and index_size_bytes of orders_customer equals pg_relation_size again" \
  "$(at_source "SELECT pg_relation_size('orders_customer')")" "$(latest_index index_size_bytes orders_customer)"
# A new table held by DDL (an ACCESS EXCLUSIVE lock, as partition maintenance takes) cannot be
# sized within lock_timeout: its statistics and everyone else's still go out, without a warning,
# and its sizes follow once the lock is gone.
{
  echo "CREATE TABLE held (id int PRIMARY KEY);"
  echo "BEGIN; LOCK TABLE held IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(4); COMMIT;"
} | in_db objects_a
released=$(stored "SELECT now()")
wait_for "SELECT count(*) > 0 FROM pganalytics.metrics_pg_stats_table WHERE datname = 'objects_a' AND relname = 'held'
  AND table_size_bytes IS NOT NULL AND time > '$released'::timestamptz" || fail "no sizes of held after the lock"
expect_eq "while it was locked its rows came, sizes unknown" t \
  "$(stored "SELECT count(*) > 0 FROM pganalytics.metrics_pg_stats_table WHERE datname = 'objects_a' AND relname = 'held'
     AND table_size_bytes IS NULL AND time < '$released'::timestamptz")"
expect_eq "the lock made no database be skipped" 0 "$(grep -c 'database "objects_a" is skipped' "$WORK/agent.log")"

# The agent reads the catalog again only when it changed: a rename shows under the new name, and a
# dropped table leaves the samples at once (its statistics tell).
echo "ALTER TABLE held RENAME TO held_renamed;" | in_db objects_a
renamed=$(stored "SELECT now()")
if wait_for "SELECT count(*) > 0 FROM pganalytics.metrics_pg_stats_table WHERE datname = 'objects_a' AND relname = 'held_renamed'
  AND time > '$renamed'::timestamptz"; then
  pass "a renamed table arrives under its new name"
else
  fail "no rows named held_renamed after the rename: $(stored "SELECT string_agg(DISTINCT relname, ',') FROM pganalytics.metrics_pg_stats_table
    WHERE datname = 'objects_a' AND time > '$renamed'::timestamptz"); agent: $(tail -5 "$WORK/agent.log")"
fi
echo "DROP TABLE held_renamed;" | in_db objects_a
dropped=$(stored "SELECT now()")
wait_for "SELECT count(*) > 0 FROM pganalytics.metrics_pg_stats_table WHERE datname = 'objects_a' AND relname = 'orders'
  AND time > '$dropped'::timestamptz + interval '1.5 s'" || fail "no table sample after the drop"
expect_eq "once dropped, the table is in no sample taken after" 0 \
  "$(stored "SELECT count(*) FROM pganalytics.metrics_pg_stats_table WHERE relname = 'held_renamed' AND time > '$dropped'::timestamptz + interval '1.5 s'")"
expect_eq "and the rows before the drop were all complete (no figure of a vanished table)" 0 \
  "$(stored "SELECT count(*) FROM pganalytics.metrics_pg_stats_table WHERE relname = 'held_renamed' AND (seq_scan IS NULL OR relfrozenxid_age IS NULL)")"

# objects_full refuses connections for now: nothing writes a file in it (a first connection writes
# the relcache init file, which SizeCache's 5-minute refresh would only catch later).
expect_eq "database_size_bytes of objects_full equals pg_database_size" \
  "$(at_source "SELECT pg_database_size('objects_full')")" \
  "$(stored "SELECT database_size_bytes FROM pganalytics.metrics_pg_stats_database WHERE datname = 'objects_full' ORDER BY time DESC LIMIT 1")"

# The cap: per sample, the 3 biggest tables plus the 10 with the oldest relfrozenxid; 3 indexes.
wait_for "SELECT count(DISTINCT time) >= 5 FROM pganalytics.metrics_pg_stats_table WHERE datname = 'objects_many'" ||
  fail "fewer than 5 samples of objects_many"
expected_tables="t01,t02,t03,t04,t05,t06,t07,t08,t09,t10,t18,t19,t20"
per_sample() { # per_sample FAMILY NAME_COLUMN: one line "count names" per sample time of objects_many
  stored "SELECT count(*) || ' ' || string_agg($2, ',' ORDER BY $2) FROM pganalytics.metrics_$1
          WHERE datname = 'objects_many' GROUP BY time ORDER BY time"
}
table_samples=$(per_sample pg_stats_table relname)
expect_eq "every table sample of objects_many holds the 3 biggest and the 10 oldest of 20 tables" \
  "13 $expected_tables" "$(sort -u <<<"$table_samples")"
expect_eq "every index sample of objects_many holds the 3 biggest of 20 indexes" \
  "3 t18_pkey,t19_pkey,t20_pkey" "$(per_sample pg_stats_index indexrelname | sort -u)"

expect_eq "nothing is read from a database the agent's role may not CONNECT to" 0 \
  "$(stored "SELECT count(*) FROM pganalytics.metrics_pg_stats_table WHERE datname = 'objects_private'")"
expect_eq "that database is logged once, not every cycle" 1 "$(grep -c 'objects_private' "$WORK/agent.log")"

expect_eq "a database refusing connections is logged once per family, and the others are read" \
  "1 1" "$(grep -c 'pg_stats_table objects: database "objects_full" is skipped' "$WORK/agent.log") $(grep -c 'pg_stats_index objects: database "objects_full" is skipped' "$WORK/agent.log")"
echo "ALTER DATABASE objects_full CONNECTION LIMIT -1;" | in_db postgres
if wait_for "$(tables_of objects_full)"; then pass "once it accepts connections again, its tables arrive"
else fail "no rows from objects_full after lifting its connection limit"; fi
expect_contains "its return is logged" 'database "objects_full" is read again' "$(cat "$WORK/agent.log")"

kill -TERM "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null || true
kill -KILL "$POLL_PID"; wait "$POLL_PID" 2>/dev/null || true
most=$(awk '{print $1}' "$WORK/connections.txt" | sort -n | tail -n 1)
if [ "$(wc -l <"$WORK/connections.txt")" -ge 20 ] && [ "${most:-0}" = 2 ]; then
  pass "at most 2 agent connections in $(wc -l <"$WORK/connections.txt") looks at pg_stat_activity (2 seen)"
else
  fail "agent connections: most $most over $(wc -l <"$WORK/connections.txt") looks (expected exactly 2 at most)"
fi
finish
