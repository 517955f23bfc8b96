-- Storage maintenance called by the server (and by tests directly): daily partitions created
-- ahead of time and dropped at the retention bounds, and the hourly rollups.

-- Creates the daily partitions [day, day + 1) in UTC of every registered table for each day in
-- [p_from, p_to]. Returns how many partitions were created; existing ones are left alone.
CREATE FUNCTION pganalytics.create_partitions(p_from date, p_to date)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    v_table text;
    v_day date;
    v_name text;
    v_created integer := 0;
BEGIN
    FOR v_table IN SELECT table_name FROM pganalytics.partitioned_tables ORDER BY table_name LOOP
        FOR v_day IN SELECT generate_series(p_from, p_to, interval '1 day')::date LOOP
            v_name := v_table || '_p' || to_char(v_day, 'YYYYMMDD');
            CONTINUE WHEN to_regclass(format('pganalytics.%I', v_name)) IS NOT NULL;
            EXECUTE format(
                'CREATE TABLE pganalytics.%I PARTITION OF pganalytics.%I FOR VALUES FROM (%L) TO (%L)',
                v_name, v_table,
                (v_day::timestamp AT TIME ZONE 'UTC'), ((v_day + 1)::timestamp AT TIME ZONE 'UTC'));
            v_created := v_created + 1;
        END LOOP;
    END LOOP;
    RETURN v_created;
END;
$$;

-- The partitions for yesterday, today and p_days_ahead days to come (UTC).
CREATE FUNCTION pganalytics.ensure_partitions(p_days_ahead integer DEFAULT 3, p_now timestamptz DEFAULT now())
RETURNS integer LANGUAGE sql AS $$
    SELECT pganalytics.create_partitions((p_now AT TIME ZONE 'UTC')::date - 1,
                                         (p_now AT TIME ZONE 'UTC')::date + p_days_ahead);
$$;

-- Drops every partition whose whole day lies before now minus its table's retention. Returns
-- the names of the dropped partitions.
CREATE FUNCTION pganalytics.drop_expired_partitions(p_raw interval, p_disk_usage interval,
                                                    p_rollup_1h interval, p_now timestamptz DEFAULT now())
RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    v_row record;
    v_day_end timestamptz;
    v_retention interval;
BEGIN
    FOR v_row IN
        SELECT child.relname AS partition_name, t.retention_class
          FROM pganalytics.partitioned_tables t
          JOIN pg_class parent ON parent.relname = t.table_name
          JOIN pg_namespace ns ON ns.oid = parent.relnamespace AND ns.nspname = 'pganalytics'
          JOIN pg_inherits i ON i.inhparent = parent.oid
          JOIN pg_class child ON child.oid = i.inhrelid
         WHERE child.relname ~ '_p[0-9]{8}$'
         ORDER BY child.relname
    LOOP
        v_day_end := (to_date(right(v_row.partition_name, 8), 'YYYYMMDD') + 1)::timestamp AT TIME ZONE 'UTC';
        v_retention := CASE v_row.retention_class
                           WHEN 'raw' THEN p_raw
                           WHEN 'disk_usage' THEN p_disk_usage
                           ELSE p_rollup_1h END;
        IF v_day_end <= p_now - v_retention THEN
            EXECUTE format('DROP TABLE pganalytics.%I', v_row.partition_name);
            RETURN NEXT v_row.partition_name;
        END IF;
    END LOOP;
END;
$$;

-- refresh_rollups(from, to): recomputes the hourly rollups for every hour that overlaps
-- [from, to). Idempotent: the hours are deleted and aggregated again from the raw partitions, so
-- the server can call it for the last few hours on every maintenance tick.
CREATE FUNCTION pganalytics.refresh_rollups(p_from timestamptz, p_to timestamptz)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_from timestamptz := date_trunc('hour', p_from);
    v_to timestamptz := date_trunc('hour', p_to + interval '1 hour' - interval '1 microsecond');
    v_rows bigint := 0;
    v_count bigint;
BEGIN
    DELETE FROM pganalytics.metrics_pg_stats_database_1h WHERE time >= v_from AND time < v_to;
    INSERT INTO pganalytics.metrics_pg_stats_database_1h (time, instance_id, datname, samples, numbackends, numbackends_max, xact_commit, xact_rollback, blks_read, blks_hit, tup_returned, tup_fetched, tup_inserted, tup_updated, tup_deleted, conflicts, temp_files, temp_bytes, deadlocks, checksum_failures, blk_read_time, blk_write_time, session_time, active_time, idle_in_transaction_time, sessions, sessions_abandoned, sessions_fatal, sessions_killed, stats_reset, confl_tablespace, confl_lock, confl_snapshot, confl_bufferpin, confl_deadlock, confl_active_logicalslot, database_size_bytes, database_size_bytes_max, datfrozenxid_age, datfrozenxid_age_max, datminmxid_age, datminmxid_age_max)
    SELECT date_trunc('hour', time),
           instance_id,
           datname,
           count(*),
           avg(numbackends),
           max(numbackends),
           (array_agg(xact_commit ORDER BY time DESC))[1],
           (array_agg(xact_rollback ORDER BY time DESC))[1],
           (array_agg(blks_read ORDER BY time DESC))[1],
           (array_agg(blks_hit ORDER BY time DESC))[1],
           (array_agg(tup_returned ORDER BY time DESC))[1],
           (array_agg(tup_fetched ORDER BY time DESC))[1],
           (array_agg(tup_inserted ORDER BY time DESC))[1],
           (array_agg(tup_updated ORDER BY time DESC))[1],
           (array_agg(tup_deleted ORDER BY time DESC))[1],
           (array_agg(conflicts ORDER BY time DESC))[1],
           (array_agg(temp_files ORDER BY time DESC))[1],
           (array_agg(temp_bytes ORDER BY time DESC))[1],
           (array_agg(deadlocks ORDER BY time DESC))[1],
           (array_agg(checksum_failures ORDER BY time DESC))[1],
           (array_agg(blk_read_time ORDER BY time DESC))[1],
           (array_agg(blk_write_time ORDER BY time DESC))[1],
           (array_agg(session_time ORDER BY time DESC))[1],
           (array_agg(active_time ORDER BY time DESC))[1],
           (array_agg(idle_in_transaction_time ORDER BY time DESC))[1],
           (array_agg(sessions ORDER BY time DESC))[1],
           (array_agg(sessions_abandoned ORDER BY time DESC))[1],
           (array_agg(sessions_fatal ORDER BY time DESC))[1],
           (array_agg(sessions_killed ORDER BY time DESC))[1],
           (array_agg(stats_reset ORDER BY time DESC))[1],
           (array_agg(confl_tablespace ORDER BY time DESC))[1],
           (array_agg(confl_lock ORDER BY time DESC))[1],
           (array_agg(confl_snapshot ORDER BY time DESC))[1],
           (array_agg(confl_bufferpin ORDER BY time DESC))[1],
           (array_agg(confl_deadlock ORDER BY time DESC))[1],
           (array_agg(confl_active_logicalslot ORDER BY time DESC))[1],
           avg(database_size_bytes),
           max(database_size_bytes),
           avg(datfrozenxid_age),
           max(datfrozenxid_age),
           avg(datminmxid_age),
           max(datminmxid_age)
      FROM pganalytics.metrics_pg_stats_database
     WHERE time >= v_from AND time < v_to
     GROUP BY date_trunc('hour', time), instance_id, datname;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    v_rows := v_rows + v_count;

    DELETE FROM pganalytics.metrics_pg_stats_table_1h WHERE time >= v_from AND time < v_to;
    INSERT INTO pganalytics.metrics_pg_stats_table_1h (time, instance_id, datname, schemaname, relname, samples, seq_scan, seq_tup_read, idx_scan, idx_tup_fetch, n_tup_ins, n_tup_upd, n_tup_del, n_tup_hot_upd, n_tup_newpage_upd, n_live_tup, n_live_tup_max, n_dead_tup, n_dead_tup_max, n_mod_since_analyze, n_mod_since_analyze_max, n_ins_since_vacuum, n_ins_since_vacuum_max, vacuum_count, autovacuum_count, analyze_count, autoanalyze_count, heap_blks_read, heap_blks_hit, idx_blks_read, idx_blks_hit, toast_blks_read, toast_blks_hit, tidx_blks_read, tidx_blks_hit, table_size_bytes, table_size_bytes_max, indexes_size_bytes, indexes_size_bytes_max, total_size_bytes, total_size_bytes_max, relfrozenxid_age, relfrozenxid_age_max)
    SELECT date_trunc('hour', time),
           instance_id,
           datname,
           schemaname,
           relname,
           count(*),
           (array_agg(seq_scan ORDER BY time DESC))[1],
           (array_agg(seq_tup_read ORDER BY time DESC))[1],
           (array_agg(idx_scan ORDER BY time DESC))[1],
           (array_agg(idx_tup_fetch ORDER BY time DESC))[1],
           (array_agg(n_tup_ins ORDER BY time DESC))[1],
           (array_agg(n_tup_upd ORDER BY time DESC))[1],
           (array_agg(n_tup_del ORDER BY time DESC))[1],
           (array_agg(n_tup_hot_upd ORDER BY time DESC))[1],
           (array_agg(n_tup_newpage_upd ORDER BY time DESC))[1],
           avg(n_live_tup),
           max(n_live_tup),
           avg(n_dead_tup),
           max(n_dead_tup),
           avg(n_mod_since_analyze),
           max(n_mod_since_analyze),
           avg(n_ins_since_vacuum),
           max(n_ins_since_vacuum),
           (array_agg(vacuum_count ORDER BY time DESC))[1],
           (array_agg(autovacuum_count ORDER BY time DESC))[1],
           (array_agg(analyze_count ORDER BY time DESC))[1],
           (array_agg(autoanalyze_count ORDER BY time DESC))[1],
           (array_agg(heap_blks_read ORDER BY time DESC))[1],
           (array_agg(heap_blks_hit ORDER BY time DESC))[1],
           (array_agg(idx_blks_read ORDER BY time DESC))[1],
           (array_agg(idx_blks_hit ORDER BY time DESC))[1],
           (array_agg(toast_blks_read ORDER BY time DESC))[1],
           (array_agg(toast_blks_hit ORDER BY time DESC))[1],
           (array_agg(tidx_blks_read ORDER BY time DESC))[1],
           (array_agg(tidx_blks_hit ORDER BY time DESC))[1],
           avg(table_size_bytes),
           max(table_size_bytes),
           avg(indexes_size_bytes),
           max(indexes_size_bytes),
           avg(total_size_bytes),
           max(total_size_bytes),
           avg(relfrozenxid_age),
           max(relfrozenxid_age)
      FROM pganalytics.metrics_pg_stats_table
     WHERE time >= v_from AND time < v_to
     GROUP BY date_trunc('hour', time), instance_id, datname, schemaname, relname;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    v_rows := v_rows + v_count;

    DELETE FROM pganalytics.metrics_sysstat_1h WHERE time >= v_from AND time < v_to;
    INSERT INTO pganalytics.metrics_sysstat_1h (time, server_id, samples, cpu_user, cpu_nice, cpu_system, cpu_idle, cpu_iowait, cpu_irq, cpu_softirq, cpu_steal, cpu_guest, cpu_guest_nice, cpu_count, cpu_count_max, mem_total_bytes, mem_total_bytes_max, mem_free_bytes, mem_free_bytes_max, mem_available_bytes, mem_available_bytes_max, mem_buffers_bytes, mem_buffers_bytes_max, mem_cached_bytes, mem_cached_bytes_max, mem_dirty_bytes, mem_dirty_bytes_max, mem_shared_bytes, mem_shared_bytes_max, swap_total_bytes, swap_total_bytes_max, swap_free_bytes, swap_free_bytes_max, swap_in_pages, swap_out_pages, load1, load1_max, load5, load5_max, load15, load15_max, procs_running, procs_running_max, procs_blocked, procs_blocked_max, threads_total, threads_total_max, context_switches, forks, interrupts)
    SELECT date_trunc('hour', time),
           server_id,
           count(*),
           (array_agg(cpu_user ORDER BY time DESC))[1],
           (array_agg(cpu_nice ORDER BY time DESC))[1],
           (array_agg(cpu_system ORDER BY time DESC))[1],
           (array_agg(cpu_idle ORDER BY time DESC))[1],
           (array_agg(cpu_iowait ORDER BY time DESC))[1],
           (array_agg(cpu_irq ORDER BY time DESC))[1],
           (array_agg(cpu_softirq ORDER BY time DESC))[1],
           (array_agg(cpu_steal ORDER BY time DESC))[1],
           (array_agg(cpu_guest ORDER BY time DESC))[1],
           (array_agg(cpu_guest_nice ORDER BY time DESC))[1],
           avg(cpu_count),
           max(cpu_count),
           avg(mem_total_bytes),
           max(mem_total_bytes),
           avg(mem_free_bytes),
           max(mem_free_bytes),
           avg(mem_available_bytes),
           max(mem_available_bytes),
           avg(mem_buffers_bytes),
           max(mem_buffers_bytes),
           avg(mem_cached_bytes),
           max(mem_cached_bytes),
           avg(mem_dirty_bytes),
           max(mem_dirty_bytes),
           avg(mem_shared_bytes),
           max(mem_shared_bytes),
           avg(swap_total_bytes),
           max(swap_total_bytes),
           avg(swap_free_bytes),
           max(swap_free_bytes),
           (array_agg(swap_in_pages ORDER BY time DESC))[1],
           (array_agg(swap_out_pages ORDER BY time DESC))[1],
           avg(load1),
           max(load1),
           avg(load5),
           max(load5),
           avg(load15),
           max(load15),
           avg(procs_running),
           max(procs_running),
           avg(procs_blocked),
           max(procs_blocked),
           avg(threads_total),
           max(threads_total),
           (array_agg(context_switches ORDER BY time DESC))[1],
           (array_agg(forks ORDER BY time DESC))[1],
           (array_agg(interrupts ORDER BY time DESC))[1]
      FROM pganalytics.metrics_sysstat
     WHERE time >= v_from AND time < v_to
     GROUP BY date_trunc('hour', time), server_id;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    v_rows := v_rows + v_count;

    RETURN v_rows;
END;
$$;
