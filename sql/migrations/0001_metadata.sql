-- Metadata: users and their credentials, collectors (agents) and what they monitor, alerting,
-- the audit trail and the record of ingested batches that makes ingestion exactly-once.
CREATE TABLE pganalytics.users (
    id bigserial PRIMARY KEY,
    username text NOT NULL UNIQUE CHECK (length(username) BETWEEN 1 AND 64),
    password_hash text NOT NULL,
    role text NOT NULL CHECK (role IN ('admin', 'user', 'viewer')),
    disabled boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    last_login_at timestamptz
);

CREATE TABLE pganalytics.api_tokens (
    id bigserial PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES pganalytics.users (id) ON DELETE CASCADE,
    name text NOT NULL,
    token_hash bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz,
    last_used_at timestamptz,
    revoked_at timestamptz
);

-- Monitored hosts. A host is created when its collector enrols.
CREATE TABLE pganalytics.servers (
    id bigserial PRIMARY KEY,
    hostname text NOT NULL,
    display_name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz
);

CREATE TABLE pganalytics.collectors (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    hostname text NOT NULL,
    server_id bigint NOT NULL REFERENCES pganalytics.servers (id) ON DELETE CASCADE,
    agent_version text NOT NULL DEFAULT '',
    status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    certificate_serial text,
    certificate_expires_at timestamptz,
    enrolled_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz,
    last_seq bigint NOT NULL DEFAULT 0,
    missing_seq_count bigint NOT NULL DEFAULT 0,
    config jsonb NOT NULL DEFAULT '{}',
    config_version bigint NOT NULL DEFAULT 1,
    deleted_at timestamptz
);
CREATE INDEX ON pganalytics.collectors (server_id);

-- Seq ranges an agent reported as dropped (its spool was full): gaps explained, not silent.
CREATE TABLE pganalytics.collector_dropped_ranges (
    collector_id uuid NOT NULL REFERENCES pganalytics.collectors (id) ON DELETE CASCADE,
    first_seq bigint NOT NULL,
    last_seq bigint NOT NULL CHECK (last_seq >= first_seq),
    reported_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (collector_id, first_seq)
);

CREATE TABLE pganalytics.refresh_tokens (
    id bigserial PRIMARY KEY,
    token_hash bytea NOT NULL UNIQUE,
    family_id uuid NOT NULL,
    user_id bigint REFERENCES pganalytics.users (id) ON DELETE CASCADE,
    collector_id uuid REFERENCES pganalytics.collectors (id) ON DELETE CASCADE,
    issued_at timestamptz NOT NULL DEFAULT now(),
    family_expires_at timestamptz NOT NULL,
    rotated_at timestamptz,
    revoked_at timestamptz,
    CHECK ((user_id IS NULL) <> (collector_id IS NULL))
);
CREATE INDEX ON pganalytics.refresh_tokens (family_id);

CREATE TABLE pganalytics.enrollment_tokens (
    id bigserial PRIMARY KEY,
    token_hash bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    uses_allowed integer NOT NULL CHECK (uses_allowed > 0),
    uses integer NOT NULL DEFAULT 0,
    created_by text NOT NULL DEFAULT '',
    revoked_at timestamptz
);

CREATE TABLE pganalytics.postgresql_instances (
    id bigserial PRIMARY KEY,
    server_id bigint NOT NULL REFERENCES pganalytics.servers (id) ON DELETE CASCADE,
    name text NOT NULL,
    system_identifier bigint,
    server_version_num integer,
    in_recovery boolean,
    first_seen_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz,
    UNIQUE (server_id, name)
);

CREATE TABLE pganalytics.databases (
    id bigserial PRIMARY KEY,
    instance_id bigint NOT NULL REFERENCES pganalytics.postgresql_instances (id) ON DELETE CASCADE,
    datname text NOT NULL,
    first_seen_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz,
    UNIQUE (instance_id, datname)
);

-- Query texts of pg_stat_statements, stored once per instance and query id.
CREATE TABLE pganalytics.query_texts (
    instance_id bigint NOT NULL REFERENCES pganalytics.postgresql_instances (id) ON DELETE CASCADE,
    queryid bigint NOT NULL,
    query text NOT NULL,
    first_seen_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (instance_id, queryid)
);

CREATE TABLE pganalytics.alert_rules (
    id bigserial PRIMARY KEY,
    name text NOT NULL UNIQUE,
    family text NOT NULL,
    column_name text NOT NULL,
    comparison text NOT NULL CHECK (comparison IN ('>', '>=', '<', '<=', '=', '<>')),
    threshold double precision NOT NULL,
    use_rate boolean NOT NULL DEFAULT false,
    for_duration interval NOT NULL DEFAULT '0',
    severity text NOT NULL DEFAULT 'warning' CHECK (severity IN ('info', 'warning', 'critical')),
    enabled boolean NOT NULL DEFAULT true,
    created_by bigint REFERENCES pganalytics.users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE pganalytics.alerts (
    id bigserial PRIMARY KEY,
    rule_id bigint NOT NULL REFERENCES pganalytics.alert_rules (id) ON DELETE CASCADE,
    server_id bigint REFERENCES pganalytics.servers (id) ON DELETE CASCADE,
    instance_id bigint REFERENCES pganalytics.postgresql_instances (id) ON DELETE CASCADE,
    labels jsonb NOT NULL DEFAULT '{}',
    state text NOT NULL CHECK (state IN ('pending', 'firing', 'resolved')),
    value double precision,
    started_at timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz
);
CREATE INDEX ON pganalytics.alerts (rule_id, state);

CREATE TABLE pganalytics.audit_log (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    actor text NOT NULL,
    action text NOT NULL,
    target text NOT NULL DEFAULT '',
    outcome text NOT NULL CHECK (outcome IN ('success', 'failure')),
    remote_addr text NOT NULL DEFAULT '',
    detail jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX ON pganalytics.audit_log (at);

-- One row per stored batch, written in the batch's own transaction: a second push of the same
-- (collector_id, seq) finds it and stores nothing.
CREATE TABLE pganalytics.ingested_batches (
    collector_id uuid NOT NULL REFERENCES pganalytics.collectors (id) ON DELETE CASCADE,
    seq bigint NOT NULL CHECK (seq >= 1),
    sent_at timestamptz,
    received_at timestamptz NOT NULL DEFAULT now(),
    row_count integer NOT NULL DEFAULT 0,
    PRIMARY KEY (collector_id, seq)
);
