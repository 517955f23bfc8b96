#!/usr/bin/env bash
# `pganalytics migrate` against a real PostgreSQL: a fresh database gets every table of the
# contract, a second run changes nothing, --status, changed and unknown migrations are refused,
# and concurrent runs serialize.
. "$(dirname "$0")/lib.sh"

url=$(fresh_database pga_migrate)
migrations=$(ls "$PGA_SOURCE_DIR"/sql/migrations/*.sql | wc -l)

run_status rc "$PGA_BIN" migrate --database-url "$url" --status
expect_eq "status on an empty database succeeds" 0 "$rc"
expect_contains "status lists all migrations as pending" "$migrations pending" "$OUT"

run_status rc "$PGA_BIN" migrate --database-url "$url"
expect_eq "first migrate succeeds" 0 "$rc"
expect_contains "progress is printed per migration" "applied 0001_metadata in" "$OUT"
expect_contains "the count of applied migrations is printed" "$migrations migration(s) applied" "$OUT"

for table in users api_tokens refresh_tokens enrollment_tokens collectors servers postgresql_instances \
  databases alert_rules alerts audit_log ingested_batches schema_migrations query_texts; do
  expect_eq "metadata table $table exists" "r" "$(sql "$url" "SELECT relkind FROM pg_class WHERE oid = to_regclass('pganalytics.$table')")"
done
for family in pg_stats_database pg_stats_table pg_stats_index pg_bgwriter pg_wal replication pg_activity \
  pg_locks pg_statements sysstat disk_io network disk_usage pg_log pg_stats_table_1h pg_stats_database_1h sysstat_1h; do
  expect_eq "metrics_$family is partitioned" "p" "$(sql "$url" "SELECT relkind FROM pg_class WHERE oid = to_regclass('pganalytics.metrics_$family')")"
done
expect_eq "ingested_batches is unique on (collector_id, seq)" "t" "$(sql "$url" "
  SELECT bool_or(i.indisunique AND array_to_string(i.indkey, ' ') = (
    SELECT string_agg(attnum::text, ' ' ORDER BY array_position(ARRAY['collector_id','seq'], attname::text))
      FROM pg_attribute WHERE attrelid = 'pganalytics.ingested_batches'::regclass AND attname IN ('collector_id','seq')))
  FROM pg_index i WHERE i.indrelid = 'pganalytics.ingested_batches'::regclass")"

# pg_dump's \restrict lines carry a random key per run: leave them out of the comparison.
dump_schema() { "$PGA_TEST_PG_BIN/pg_dump" -s -d "$1" | grep -v '^\\\(un\)\?restrict '; }
schema_before=$(dump_schema "$url")
run_status rc "$PGA_BIN" migrate --database-url "$url"
expect_eq "second migrate succeeds" 0 "$rc"
expect_contains "second migrate is a no-op" "nothing to do" "$OUT"
expect_eq "second migrate changes no schema" "$schema_before" "$(dump_schema "$url")"

run_status rc "$PGA_BIN" migrate --database-url "$url" --status
expect_contains "status after migrating shows 0 pending" "0 pending, 0 with problems" "$OUT"
expect_contains "status shows applied migrations" "0002_metric_tables" "$OUT"

# A migration file changed after it was applied is refused, and nothing is applied.
sql "$url" "UPDATE pganalytics.schema_migrations SET checksum = 'edited' WHERE version = 2" >/dev/null
run_status rc "$PGA_BIN" migrate --database-url "$url"
expect_eq "a changed migration makes migrate fail" 1 "$rc"
expect_contains "the changed migration is named" "migration 0002_metric_tables was changed after it was applied" "$OUT"
run_status rc "$PGA_BIN" migrate --database-url "$url" --status
expect_contains "status flags the changed migration" "CHANGED" "$OUT"
sql "$url" "UPDATE pganalytics.schema_migrations SET checksum = '$(sha256sum "$PGA_SOURCE_DIR"/sql/migrations/0002_*.sql | cut -c1-64)' WHERE version = 2" >/dev/null

# A migration recorded by a newer binary is refused.
sql "$url" "INSERT INTO pganalytics.schema_migrations (version, name, checksum) VALUES (9999, '9999_future', 'x')" >/dev/null
run_status rc "$PGA_BIN" migrate --database-url "$url"
expect_eq "an unknown applied migration makes migrate fail" 1 "$rc"
expect_contains "the unknown migration is named" "9999" "$OUT"

# Concurrent runs on a fresh database: each migration is applied exactly once.
url=$(fresh_database pga_migrate_concurrent)
pids=()
for i in 1 2 3 4; do
  "$PGA_BIN" migrate --database-url "$url" >"$WORK/concurrent.$i" 2>&1 &
  pids+=($!)
done
statuses=""
for pid in "${pids[@]}"; do if wait "$pid"; then statuses+="0"; else statuses+="1"; fi; done
expect_eq "four concurrent migrate runs all succeed" "0000" "$statuses"
expect_eq "each migration is recorded once" "$migrations" "$(sql "$url" "SELECT count(*) FROM pganalytics.schema_migrations")"
expect_eq "exactly one run applied the migrations" 1 "$(grep -l 'migration(s) applied' "$WORK"/concurrent.* | wc -l)"

# The database URL may come from the server configuration.
url=$(fresh_database pga_migrate_config)
printf '[database]\nurl = "%s"\n' "$url" >"$WORK/server.toml"
run_status rc "$PGA_BIN" migrate --config "$WORK/server.toml"
expect_eq "migrate with --config succeeds" 0 "$rc"
run_status rc "$PGA_BIN" migrate --config "$WORK/missing.toml"
expect_eq "a missing --config file is a configuration error" 2 "$rc"
run_status rc "$PGA_BIN" migrate --database-url "postgresql://postgres@127.0.0.1:1/none"
expect_eq "an unreachable database is a failure" 1 "$rc"
expect_contains "the failure says why" "cannot connect to PostgreSQL" "$OUT"
run_status rc "$PGA_BIN" migrate --database-url "postgresql://postgres:secret-pw@127.0.0.1:1/none"
if [[ "$OUT" == *secret-pw* ]]; then fail "a password in the URL is never printed"; else pass "a password in the URL is never printed"; fi

finish
