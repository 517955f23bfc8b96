-- Metric tables: one typed, wide table per family, range-partitioned by day on "time".
-- Column names follow the PostgreSQL views they mirror; columns that only some PostgreSQL
-- versions have are nullable like every other metric column. Counters are stored cumulative.

-- Which tables the maintenance functions partition, and which retention bound applies.
CREATE TABLE pganalytics.partitioned_tables (
    table_name text PRIMARY KEY,
    retention_class text NOT NULL CHECK (retention_class IN ('raw', 'disk_usage', 'rollup_1h'))
);

CREATE TABLE pganalytics.metrics_pg_instance (
    time timestamptz NOT NULL,
    instance_id bigint NOT NULL,
    system_identifier bigint,
    timeline_id bigint,
    server_version_num bigint,
    postmaster_start_time timestamptz,
    in_recovery boolean,
    up boolean,
    max_connections bigint,
    oldest_xid_age bigint,
    pg_stat_statements_version text,
    pg_stat_statements_dealloc bigint,
    pg_stat_statements_stats_reset timestamptz
) PARTITION BY RANGE (time);
COMMENT ON TABLE pganalytics.metrics_pg_instance IS 'epoch and identity of a PostgreSQL instance: what tells resets and failovers apart';
CREATE INDEX ON pganalytics.metrics_pg_instance USING brin (time);
CREATE INDEX ON pganalytics.metrics_pg_instance (instance_id, time);
INSERT INTO pganalytics.partitioned_tables VALUES ('metrics_pg_instance', 'raw');

CREATE TABLE pganalytics.metrics_pg_stats_database (
    time timestamptz NOT NULL,
    instance_id bigint NOT NULL,
    datname text,
    datid bigint,
    numbackends bigint,
    xact_commit bigint,
    xact_rollback bigint,
    blks_read bigint,
    blks_hit bigint,
    tup_returned bigint,
    tup_fetched bigint,
    tup_inserted bigint,
    tup_updated bigint,
    tup_deleted bigint,
    conflicts bigint,
    temp_files bigint,
    temp_bytes bigint,
    deadlocks bigint,
    checksum_failures bigint,
    checksum_last_failure timestamptz,
    blk_read_time double precision,
    blk_write_time double precision,
    session_time double precision,
    active_time double precision,
    idle_in_transaction_time double precision,
    sessions bigint,
    sessions_abandoned bigint,
    sessions_fatal bigint,
    sessions_killed bigint,
    stats_reset timestamptz,
    confl_tablespace bigint,
    confl_lock bigint,
    confl_snapshot bigint,
    confl_bufferpin bigint,
    confl_deadlock bigint,
    confl_active_logicalslot bigint,
    database_size_bytes bigint,
    datfrozenxid_age bigint,
    datminmxid_age bigint
) PARTITION BY RANGE (time);
COMMENT ON TABLE pganalytics.metrics_pg_stats_database IS 'pg_stat_database and pg_stat_database_conflicts, size and freeze ages';
CREATE INDEX ON pganalytics.metrics_pg_stats_database USING brin (time);
CREATE INDEX ON pganalytics.metrics_pg_stats_database (instance_id, datname, time);
INSERT INTO pganalytics.partitioned_tables VALUES ('metrics_pg_stats_database', 'raw');

CREATE TABLE pganalytics.metrics_pg_stats_table (
    time timestamptz NOT NULL,
    instance_id bigint NOT NULL,
    datname text,
    schemaname text,
    relname text,
    relid bigint,
    seq_scan bigint,
    last_seq_scan timestamptz,
    seq_tup_read bigint,
    idx_scan bigint,
    last_idx_scan timestamptz,
    idx_tup_fetch bigint,
    n_tup_ins bigint,
    n_tup_upd bigint,
    n_tup_del bigint,
    n_tup_hot_upd bigint,
    n_tup_newpage_upd bigint,
    n_live_tup bigint,
    n_dead_tup bigint,
    n_mod_since_analyze bigint,
    n_ins_since_vacuum bigint,
    last_vacuum timestamptz,
    last_autovacuum timestamptz,
    last_analyze timestamptz,
    last_autoanalyze timestamptz,
    vacuum_count bigint,
    autovacuum_count bigint,
    analyze_count bigint,
    autoanalyze_count bigint,
    heap_blks_read bigint,
    heap_blks_hit bigint,
    idx_blks_read bigint,
    idx_blks_hit bigint,
    toast_blks_read bigint,
    toast_blks_hit bigint,
    tidx_blks_read bigint,
    tidx_blks_hit bigint,
    table_size_bytes bigint,
    indexes_size_bytes bigint,
    total_size_bytes bigint,
    relfrozenxid_age bigint
) PARTITION BY RANGE (time);
COMMENT ON TABLE pganalytics.metrics_pg_stats_table IS 'pg_stat_user_tables, pg_statio_user_tables, sizes and freeze age';
CREATE INDEX ON pganalytics.metrics_pg_stats_table USING brin (time);
CREATE INDEX ON pganalytics.metrics_pg_stats_table (instance_id, datname, schemaname, relname, time);
INSERT INTO pganalytics.partitioned_tables VALUES ('metrics_pg_stats_table', 'raw');

CREATE TABLE pganalytics.metrics_pg_stats_index (
    time timestamptz NOT NULL,
    instance_id bigint NOT NULL,
    datname text,
    schemaname text,
    relname text,
    indexrelname text,
    relid bigint,
    indexrelid bigint,
    idx_scan bigint,
    last_idx_scan timestamptz,
    idx_tup_read bigint,
    idx_tup_fetch bigint,
    idx_blks_read bigint,
    idx_blks_hit bigint,
    index_size_bytes bigint
) PARTITION BY RANGE (time);
COMMENT ON TABLE pganalytics.metrics_pg_stats_index IS 'pg_stat_user_indexes, pg_statio_user_indexes and index size';
CREATE INDEX ON pganalytics.metrics_pg_stats_index USING brin (time);
CREATE INDEX ON pganalytics.metrics_pg_stats_index (instance_id, datname, schemaname, relname, indexrelname, time);
INSERT INTO pganalytics.partitioned_tables VALUES ('metrics_pg_stats_index', 'raw');

CREATE TABLE pganalytics.metrics_pg_bgwriter (
    time timestamptz NOT NULL,
    instance_id bigint NOT NULL,
    checkpoints_timed bigint,
    checkpoints_req bigint,
    checkpoint_write_time double precision,
    checkpoint_sync_time double precision,
    buffers_checkpoint bigint,
    buffers_clean bigint,
    maxwritten_clean bigint,
    buffers_backend bigint,
    buffers_backend_fsync bigint,
    buffers_alloc bigint,
    stats_reset timestamptz,
    num_timed bigint,
    num_requested bigint,
    restartpoints_timed bigint,
    restartpoints_req bigint,
    restartpoints_done bigint,
    write_time double precision,
    sync_time double precision,
    buffers_written bigint,
    checkpointer_stats_reset timestamptz
) PARTITION BY RANGE (time);
COMMENT ON TABLE pganalytics.metrics_pg_bgwriter IS 'pg_stat_bgwriter, and pg_stat_checkpointer from PostgreSQL 17';
CREATE INDEX ON pganalytics.metrics_pg_bgwriter USING brin (time);
CREATE INDEX ON pganalytics.metrics_pg_bgwriter (instance_id, time);
INSERT INTO pganalytics.partitioned_tables VALUES ('metrics_pg_bgwriter', 'raw');

CREATE TABLE pganalytics.metrics_pg_wal (
    time timestamptz NOT NULL,
    instance_id bigint NOT NULL,
    wal_records bigint,
    wal_fpi bigint,
    wal_bytes bigint,
    wal_buffers_full bigint,
    wal_write bigint,
    wal_sync bigint,
    wal_write_time double precision,
    wal_sync_time double precision,
    stats_reset timestamptz,
    current_lsn bigint,
    receive_lsn bigint,
    replay_lsn bigint,
    replay_lag_seconds double precision,
    wal_files bigint,
    wal_size_bytes bigint
) PARTITION BY RANGE (time);
COMMENT ON TABLE pganalytics.metrics_pg_wal IS 'pg_stat_wal and WAL positions';
CREATE INDEX ON pganalytics.metrics_pg_wal USING brin (time);
CREATE INDEX ON pganalytics.metrics_pg_wal (instance_id, time);
INSERT INTO pganalytics.partitioned_tables VALUES ('metrics_pg_wal', 'raw');

CREATE TABLE pganalytics.metrics_replication (
    time timestamptz NOT NULL,
    instance_id bigint NOT NULL,
    kind text,
    name text,
    pid bigint,
    usesysid bigint,
    usename text,
    application_name text,
    client_addr text,
    client_hostname text,
    client_port bigint,
    backend_start timestamptz,
    backend_xmin bigint,
    state text,
    sync_state text,
    sync_priority bigint,
    reply_time timestamptz,
    sent_lsn bigint,
    write_lsn bigint,
    flush_lsn bigint,
    replay_lsn bigint,
    write_lag double precision,
    flush_lag double precision,
    replay_lag double precision,
    lag_bytes bigint,
    slot_type text,
    plugin text,
    datoid bigint,
    database text,
    temporary boolean,
    active boolean,
    active_pid bigint,
    slot_xmin bigint,
    catalog_xmin bigint,
    wal_status text,
    safe_wal_size bigint,
    retained_wal_bytes bigint,
    restart_lsn bigint,
    confirmed_flush_lsn bigint,
    two_phase boolean,
    conflicting boolean,
    inactive_since timestamptz,
    invalidation_reason text,
    failover boolean,
    synced boolean,
    spill_txns bigint,
    spill_count bigint,
    spill_bytes bigint,
    stream_txns bigint,
    stream_count bigint,
    stream_bytes bigint,
    total_txns bigint,
    total_bytes bigint,
    stats_reset timestamptz,
    status text,
    receive_start_lsn bigint,
    receive_start_tli bigint,
    last_msg_send_time timestamptz,
    written_lsn bigint,
    flushed_lsn bigint,
    received_tli bigint,
    latest_end_lsn bigint,
    last_msg_receipt_time timestamptz,
    latest_end_time timestamptz,
    sender_host text,
    sender_port bigint,
    slot_name text
) PARTITION BY RANGE (time);
COMMENT ON TABLE pganalytics.metrics_replication IS 'pg_stat_replication (kind sender), pg_replication_slots (slot), pg_stat_wal_receiver (receiver)';
CREATE INDEX ON pganalytics.metrics_replication USING brin (time);
CREATE INDEX ON pganalytics.metrics_replication (instance_id, kind, name, time);
INSERT INTO pganalytics.partitioned_tables VALUES ('metrics_replication', 'raw');

CREATE TABLE pganalytics.metrics_pg_activity (
    time timestamptz NOT NULL,
    instance_id bigint NOT NULL,
    datname text,
    state text,
    wait_event_type text,
    backend_type text,
    sessions bigint,
    oldest_xact_age_seconds double precision,
    oldest_query_age_seconds double precision,
    oldest_state_change_seconds double precision,
    blocked_sessions bigint
) PARTITION BY RANGE (time);
COMMENT ON TABLE pganalytics.metrics_pg_activity IS 'sessions of pg_stat_activity grouped by database, state, wait event type and backend type';
CREATE INDEX ON pganalytics.metrics_pg_activity USING brin (time);
CREATE INDEX ON pganalytics.metrics_pg_activity (instance_id, datname, state, wait_event_type, backend_type, time);
INSERT INTO pganalytics.partitioned_tables VALUES ('metrics_pg_activity', 'raw');

CREATE TABLE pganalytics.metrics_pg_locks (
    time timestamptz NOT NULL,
    instance_id bigint NOT NULL,
    datname text,
    locktype text,
    mode text,
    granted boolean,
    locks bigint,
    oldest_wait_seconds double precision
) PARTITION BY RANGE (time);
COMMENT ON TABLE pganalytics.metrics_pg_locks IS 'pg_locks grouped by database, lock type, mode and granted';
CREATE INDEX ON pganalytics.metrics_pg_locks USING brin (time);
CREATE INDEX ON pganalytics.metrics_pg_locks (instance_id, datname, locktype, mode, granted, time);
INSERT INTO pganalytics.partitioned_tables VALUES ('metrics_pg_locks', 'raw');

CREATE TABLE pganalytics.metrics_pg_statements (
    time timestamptz NOT NULL,
    instance_id bigint NOT NULL,
    dbid bigint,
    userid bigint,
    queryid bigint,
    toplevel boolean,
    datname text,
    usename text,
    calls bigint,
    total_exec_time double precision,
    min_exec_time double precision,
    max_exec_time double precision,
    mean_exec_time double precision,
    stddev_exec_time double precision,
    plans bigint,
    total_plan_time double precision,
    min_plan_time double precision,
    max_plan_time double precision,
    mean_plan_time double precision,
    stddev_plan_time double precision,
    rows bigint,
    shared_blks_hit bigint,
    shared_blks_read bigint,
    shared_blks_dirtied bigint,
    shared_blks_written bigint,
    local_blks_hit bigint,
    local_blks_read bigint,
    local_blks_dirtied bigint,
    local_blks_written bigint,
    temp_blks_read bigint,
    temp_blks_written bigint,
    blk_read_time double precision,
    blk_write_time double precision,
    temp_blk_read_time double precision,
    temp_blk_write_time double precision,
    wal_records bigint,
    wal_fpi bigint,
    wal_bytes bigint,
    jit_functions bigint,
    jit_generation_time double precision,
    jit_inlining_count bigint,
    jit_inlining_time double precision,
    jit_optimization_count bigint,
    jit_optimization_time double precision,
    jit_emission_count bigint,
    jit_emission_time double precision,
    shared_blk_read_time double precision,
    shared_blk_write_time double precision,
    local_blk_read_time double precision,
    local_blk_write_time double precision,
    jit_deform_count bigint,
    jit_deform_time double precision,
    stats_since timestamptz,
    minmax_stats_since timestamptz
) PARTITION BY RANGE (time);
COMMENT ON TABLE pganalytics.metrics_pg_statements IS 'pg_stat_statements per (dbid, userid, queryid, toplevel); texts in query_texts';
CREATE INDEX ON pganalytics.metrics_pg_statements USING brin (time);
CREATE INDEX ON pganalytics.metrics_pg_statements (instance_id, dbid, userid, queryid, toplevel, time);
INSERT INTO pganalytics.partitioned_tables VALUES ('metrics_pg_statements', 'raw');

CREATE TABLE pganalytics.metrics_pg_log (
    time timestamptz NOT NULL,
    instance_id bigint NOT NULL,
    event text,
    severity text,
    sqlstate text,
    duration_ms double precision,
    database text,
    user_name text,
    application_name text,
    pid bigint,
    message text,
    occurrences bigint,
    buffers_written bigint,
    write_ms double precision,
    sync_ms double precision,
    relation text,
    tuples_removed bigint,
    pages_removed bigint,
    temp_file_bytes bigint
) PARTITION BY RANGE (time);
COMMENT ON TABLE pganalytics.metrics_pg_log IS 'events parsed from the PostgreSQL log';
CREATE INDEX ON pganalytics.metrics_pg_log USING brin (time);
CREATE INDEX ON pganalytics.metrics_pg_log (instance_id, event, time);
INSERT INTO pganalytics.partitioned_tables VALUES ('metrics_pg_log', 'raw');

CREATE TABLE pganalytics.metrics_sysstat (
    time timestamptz NOT NULL,
    server_id bigint NOT NULL,
    cpu_user double precision,
    cpu_nice double precision,
    cpu_system double precision,
    cpu_idle double precision,
    cpu_iowait double precision,
    cpu_irq double precision,
    cpu_softirq double precision,
    cpu_steal double precision,
    cpu_guest double precision,
    cpu_guest_nice double precision,
    cpu_count bigint,
    mem_total_bytes bigint,
    mem_free_bytes bigint,
    mem_available_bytes bigint,
    mem_buffers_bytes bigint,
    mem_cached_bytes bigint,
    mem_dirty_bytes bigint,
    mem_shared_bytes bigint,
    swap_total_bytes bigint,
    swap_free_bytes bigint,
    swap_in_pages bigint,
    swap_out_pages bigint,
    load1 double precision,
    load5 double precision,
    load15 double precision,
    procs_running bigint,
    procs_blocked bigint,
    threads_total bigint,
    context_switches bigint,
    forks bigint,
    interrupts bigint,
    boot_time timestamptz
) PARTITION BY RANGE (time);
COMMENT ON TABLE pganalytics.metrics_sysstat IS 'CPU, memory, swap, load, processes, context switches and forks from /proc';
CREATE INDEX ON pganalytics.metrics_sysstat USING brin (time);
CREATE INDEX ON pganalytics.metrics_sysstat (server_id, time);
INSERT INTO pganalytics.partitioned_tables VALUES ('metrics_sysstat', 'raw');

CREATE TABLE pganalytics.metrics_disk_io (
    time timestamptz NOT NULL,
    server_id bigint NOT NULL,
    device text,
    reads_completed bigint,
    reads_merged bigint,
    read_bytes bigint,
    read_time_ms bigint,
    writes_completed bigint,
    writes_merged bigint,
    write_bytes bigint,
    write_time_ms bigint,
    io_in_progress bigint,
    io_time_ms bigint,
    weighted_io_time_ms bigint,
    discards_completed bigint,
    discard_bytes bigint,
    flushes_completed bigint
) PARTITION BY RANGE (time);
COMMENT ON TABLE pganalytics.metrics_disk_io IS '/proc/diskstats per whole block device';
CREATE INDEX ON pganalytics.metrics_disk_io USING brin (time);
CREATE INDEX ON pganalytics.metrics_disk_io (server_id, device, time);
INSERT INTO pganalytics.partitioned_tables VALUES ('metrics_disk_io', 'raw');

CREATE TABLE pganalytics.metrics_network (
    time timestamptz NOT NULL,
    server_id bigint NOT NULL,
    interface text,
    rx_bytes bigint,
    rx_packets bigint,
    rx_errors bigint,
    rx_dropped bigint,
    tx_bytes bigint,
    tx_packets bigint,
    tx_errors bigint,
    tx_dropped bigint
) PARTITION BY RANGE (time);
COMMENT ON TABLE pganalytics.metrics_network IS '/proc/net/dev per interface';
CREATE INDEX ON pganalytics.metrics_network USING brin (time);
CREATE INDEX ON pganalytics.metrics_network (server_id, interface, time);
INSERT INTO pganalytics.partitioned_tables VALUES ('metrics_network', 'raw');

CREATE TABLE pganalytics.metrics_disk_usage (
    time timestamptz NOT NULL,
    server_id bigint NOT NULL,
    mountpoint text,
    device text,
    fstype text,
    size_bytes bigint,
    used_bytes bigint,
    free_bytes bigint,
    available_bytes bigint,
    inodes_total bigint,
    inodes_used bigint,
    inodes_free bigint
) PARTITION BY RANGE (time);
COMMENT ON TABLE pganalytics.metrics_disk_usage IS 'statvfs per real filesystem: bytes and inodes';
CREATE INDEX ON pganalytics.metrics_disk_usage USING brin (time);
CREATE INDEX ON pganalytics.metrics_disk_usage (server_id, mountpoint, time);
INSERT INTO pganalytics.partitioned_tables VALUES ('metrics_disk_usage', 'disk_usage');

-- Hourly rollups: counters keep their last value of the hour (rates come from differences of
-- consecutive hours), gauges their average and maximum, with the number of raw samples.
CREATE TABLE pganalytics.metrics_pg_stats_database_1h (
    time timestamptz NOT NULL,
    instance_id bigint NOT NULL,
    datname text,
    samples integer,
    numbackends double precision,
    numbackends_max bigint,
    xact_commit bigint,
    xact_rollback bigint,
    blks_read bigint,
    blks_hit bigint,
    tup_returned bigint,
    tup_fetched bigint,
    tup_inserted bigint,
    tup_updated bigint,
    tup_deleted bigint,
    conflicts bigint,
    temp_files bigint,
    temp_bytes bigint,
    deadlocks bigint,
    checksum_failures bigint,
    blk_read_time double precision,
    blk_write_time double precision,
    session_time double precision,
    active_time double precision,
    idle_in_transaction_time double precision,
    sessions bigint,
    sessions_abandoned bigint,
    sessions_fatal bigint,
    sessions_killed bigint,
    stats_reset timestamptz,
    confl_tablespace bigint,
    confl_lock bigint,
    confl_snapshot bigint,
    confl_bufferpin bigint,
    confl_deadlock bigint,
    confl_active_logicalslot bigint,
    database_size_bytes double precision,
    database_size_bytes_max bigint,
    datfrozenxid_age double precision,
    datfrozenxid_age_max bigint,
    datminmxid_age double precision,
    datminmxid_age_max bigint
) PARTITION BY RANGE (time);
COMMENT ON TABLE pganalytics.metrics_pg_stats_database_1h IS 'hourly rollup of metrics_pg_stats_database';
CREATE INDEX ON pganalytics.metrics_pg_stats_database_1h USING brin (time);
CREATE INDEX ON pganalytics.metrics_pg_stats_database_1h (instance_id, datname, time);
INSERT INTO pganalytics.partitioned_tables VALUES ('metrics_pg_stats_database_1h', 'rollup_1h');

CREATE TABLE pganalytics.metrics_pg_stats_table_1h (
    time timestamptz NOT NULL,
    instance_id bigint NOT NULL,
    datname text,
    schemaname text,
    relname text,
    samples integer,
    seq_scan bigint,
    seq_tup_read bigint,
    idx_scan bigint,
    idx_tup_fetch bigint,
    n_tup_ins bigint,
    n_tup_upd bigint,
    n_tup_del bigint,
    n_tup_hot_upd bigint,
    n_tup_newpage_upd bigint,
    n_live_tup double precision,
    n_live_tup_max bigint,
    n_dead_tup double precision,
    n_dead_tup_max bigint,
    n_mod_since_analyze double precision,
    n_mod_since_analyze_max bigint,
    n_ins_since_vacuum double precision,
    n_ins_since_vacuum_max bigint,
    vacuum_count bigint,
    autovacuum_count bigint,
    analyze_count bigint,
    autoanalyze_count bigint,
    heap_blks_read bigint,
    heap_blks_hit bigint,
    idx_blks_read bigint,
    idx_blks_hit bigint,
    toast_blks_read bigint,
    toast_blks_hit bigint,
    tidx_blks_read bigint,
    tidx_blks_hit bigint,
    table_size_bytes double precision,
    table_size_bytes_max bigint,
    indexes_size_bytes double precision,
    indexes_size_bytes_max bigint,
    total_size_bytes double precision,
    total_size_bytes_max bigint,
    relfrozenxid_age double precision,
    relfrozenxid_age_max bigint
) PARTITION BY RANGE (time);
COMMENT ON TABLE pganalytics.metrics_pg_stats_table_1h IS 'hourly rollup of metrics_pg_stats_table';
CREATE INDEX ON pganalytics.metrics_pg_stats_table_1h USING brin (time);
CREATE INDEX ON pganalytics.metrics_pg_stats_table_1h (instance_id, datname, schemaname, relname, time);
INSERT INTO pganalytics.partitioned_tables VALUES ('metrics_pg_stats_table_1h', 'rollup_1h');

CREATE TABLE pganalytics.metrics_sysstat_1h (
    time timestamptz NOT NULL,
    server_id bigint NOT NULL,
    samples integer,
    cpu_user double precision,
    cpu_nice double precision,
    cpu_system double precision,
    cpu_idle double precision,
    cpu_iowait double precision,
    cpu_irq double precision,
    cpu_softirq double precision,
    cpu_steal double precision,
    cpu_guest double precision,
    cpu_guest_nice double precision,
    cpu_count double precision,
    cpu_count_max bigint,
    mem_total_bytes double precision,
    mem_total_bytes_max bigint,
    mem_free_bytes double precision,
    mem_free_bytes_max bigint,
    mem_available_bytes double precision,
    mem_available_bytes_max bigint,
    mem_buffers_bytes double precision,
    mem_buffers_bytes_max bigint,
    mem_cached_bytes double precision,
    mem_cached_bytes_max bigint,
    mem_dirty_bytes double precision,
    mem_dirty_bytes_max bigint,
    mem_shared_bytes double precision,
    mem_shared_bytes_max bigint,
    swap_total_bytes double precision,
    swap_total_bytes_max bigint,
    swap_free_bytes double precision,
    swap_free_bytes_max bigint,
    swap_in_pages bigint,
    swap_out_pages bigint,
    load1 double precision,
    load1_max double precision,
    load5 double precision,
    load5_max double precision,
    load15 double precision,
    load15_max double precision,
    procs_running double precision,
    procs_running_max bigint,
    procs_blocked double precision,
    procs_blocked_max bigint,
    threads_total double precision,
    threads_total_max bigint,
    context_switches bigint,
    forks bigint,
    interrupts bigint
) PARTITION BY RANGE (time);
COMMENT ON TABLE pganalytics.metrics_sysstat_1h IS 'hourly rollup of metrics_sysstat';
CREATE INDEX ON pganalytics.metrics_sysstat_1h USING brin (time);
CREATE INDEX ON pganalytics.metrics_sysstat_1h (server_id, time);
INSERT INTO pganalytics.partitioned_tables VALUES ('metrics_sysstat_1h', 'rollup_1h');
