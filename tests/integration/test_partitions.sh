#!/usr/bin/env bash
# The storage maintenance functions the server calls: daily partitions created ahead, rows routed
# to their day, partitions dropped at each retention bound, and hourly rollups.
. "$(dirname "$0")/lib.sh"

url=$(fresh_database pga_partitions)
"$PGA_BIN" migrate --database-url "$url" >/dev/null
tables=$(sql "$url" "SELECT count(*) FROM pganalytics.partitioned_tables")

expect_eq "ensure_partitions makes 5 days for every table" "$((tables * 5))" \
  "$(sql "$url" "SELECT pganalytics.ensure_partitions(3, '2026-11-25 12:00+00')")"
expect_eq "a second call creates nothing" 0 "$(sql "$url" "SELECT pganalytics.ensure_partitions(3, '2026-11-25 12:00+00')")"
expect_eq "partition bounds are UTC days" \
  "FOR VALUES FROM ('2026-11-25 00:00:00+00') TO ('2026-11-26 00:00:00+00')" \
  "$(sql "$url" "SET TIME ZONE 'UTC'; SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE relname = 'metrics_sysstat_p20261125'")"

sql "$url" "INSERT INTO pganalytics.metrics_sysstat (time, server_id, cpu_user, load1, mem_total_bytes, context_switches) VALUES
  ('2026-11-25 10:05+00', 1, 100, 1.0, 1000, 10),
  ('2026-11-25 10:35+00', 1, 160, 3.0, 1000, 40),
  ('2026-11-25 10:55+00', 1, 190, 2.0, 1000, 50),
  ('2026-11-25 11:05+00', 1, 200, 4.0, 1000, 60)" >/dev/null
expect_eq "rows land in their day's partition" 4 "$(sql "$url" "SELECT count(*) FROM pganalytics.metrics_sysstat_p20261125")"
run_status rc sql "$url" "INSERT INTO pganalytics.metrics_sysstat (time, server_id) VALUES ('2027-01-01', 1)"
expect_eq "a row outside every partition is refused" 1 "$rc"

expect_eq "refresh_rollups aggregates two hours" 2 "$(sql "$url" "SELECT pganalytics.refresh_rollups('2026-11-25 10:00+00', '2026-11-25 11:10+00')")"
expect_eq "a rollup keeps the last counter value, the gauge average and maximum, the sample count" \
  "190|2|3|3" \
  "$(sql "$url" "SELECT cpu_user, load1, load1_max, samples FROM pganalytics.metrics_sysstat_1h WHERE time = '2026-11-25 10:00+00'")"
expect_eq "refreshing again is idempotent" "2|2" \
  "$(sql "$url" "SELECT pganalytics.refresh_rollups('2026-11-25 10:20+00', '2026-11-25 11:10+00'), count(*) FROM pganalytics.metrics_sysstat_1h")"

# 2026-12-03 00:00 minus 7 days is 2026-11-26 00:00: the raw days 11-24 and 11-25 are past it.
dropped=$(sql "$url" "SELECT string_agg(d, ',' ORDER BY d) FROM pganalytics.drop_expired_partitions('7d', '30d', '90d', '2026-12-03 00:00+00') d")
expect_contains "the raw partition of 11-24 is dropped" "metrics_pg_stats_database_p20261124" "$dropped"
expect_contains "the raw partition of 11-25 is dropped" "metrics_sysstat_p20261125" "$dropped"
if [[ "$dropped" == *p20261126* ]]; then fail "11-26 is within retention yet was dropped"; else pass "11-26 is kept"; fi
if [[ "$dropped" == *disk_usage* || "$dropped" == *_1h_* ]]; then fail "disk_usage and rollups keep longer retention"; else pass "disk_usage and rollups are kept"; fi
expect_eq "the rollup outlives the raw rows" 2 "$(sql "$url" "SELECT count(*) FROM pganalytics.metrics_sysstat_1h")"
dropped=$(sql "$url" "SELECT count(*) FROM pganalytics.drop_expired_partitions('7d', '30d', '90d', '2027-01-01 00:00+00') d WHERE d LIKE 'metrics_disk_usage_p%'")
expect_eq "disk_usage partitions go after 30 days" 5 "$dropped"
finish
