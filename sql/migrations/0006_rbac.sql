-- Who may do what (issue 14) and sign-in hardening (issue 11): teams granting servers to their
-- members, sessions that access tokens name (so a revoked session stops its access tokens at
-- once), API tokens with a role and an optional narrower scope, login attempt budgets shared by
-- every replica, and an audit log that is append-only and chained by SHA-256.

-- --- teams: servers granted to every member ---
CREATE TABLE pganalytics.teams (
    id bigserial PRIMARY KEY,
    name text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE pganalytics.team_members (
    team_id bigint NOT NULL REFERENCES pganalytics.teams (id) ON DELETE CASCADE,
    user_id bigint NOT NULL REFERENCES pganalytics.users (id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX ON pganalytics.team_members (user_id);
CREATE TABLE pganalytics.team_servers (
    team_id bigint NOT NULL REFERENCES pganalytics.teams (id) ON DELETE CASCADE,
    server_id bigint NOT NULL REFERENCES pganalytics.servers (id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, server_id)
);
CREATE INDEX ON pganalytics.team_servers (server_id);

-- Every server a user may see, granted directly or through a team (admins see all anyway).
CREATE VIEW pganalytics.user_visible_servers AS
    SELECT user_id, server_id FROM pganalytics.user_servers
    UNION
    SELECT m.user_id, t.server_id FROM pganalytics.team_members m JOIN pganalytics.team_servers t USING (team_id);

-- --- sessions: one per login or enrolment, the family of its refresh tokens ---
CREATE TABLE pganalytics.sessions (
    id uuid PRIMARY KEY,
    user_id bigint REFERENCES pganalytics.users (id) ON DELETE CASCADE,
    collector_id uuid REFERENCES pganalytics.collectors (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    created_addr text NOT NULL DEFAULT '',
    last_used_at timestamptz NOT NULL DEFAULT now(),
    last_used_addr text NOT NULL DEFAULT '',
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    revoked_reason text,
    CHECK ((user_id IS NULL) <> (collector_id IS NULL))
);
CREATE INDEX ON pganalytics.sessions (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX ON pganalytics.sessions (collector_id) WHERE collector_id IS NOT NULL;

INSERT INTO pganalytics.sessions (id, user_id, collector_id, created_at, last_used_at, expires_at, revoked_at,
                                  revoked_reason)
SELECT DISTINCT ON (family_id) family_id, user_id, collector_id, min(issued_at) OVER w, max(issued_at) OVER w,
       family_expires_at, CASE WHEN bool_or(revoked_at IS NOT NULL) OVER w THEN now() END,
       CASE WHEN bool_or(revoked_at IS NOT NULL) OVER w THEN 'before migration' END
  FROM pganalytics.refresh_tokens
WINDOW w AS (PARTITION BY family_id)
 ORDER BY family_id, issued_at;

-- A rotated token names its successor: presented again within the grace window, it answers the
-- same successor (re-derived from the presented token, never stored in clear).
ALTER TABLE pganalytics.refresh_tokens
    ADD CONSTRAINT refresh_tokens_session_fk FOREIGN KEY (family_id) REFERENCES pganalytics.sessions (id)
        ON DELETE CASCADE,
    ADD COLUMN replaced_by bigint REFERENCES pganalytics.refresh_tokens (id) ON DELETE SET NULL;

-- --- API tokens: a role at most the owner's, optionally fewer servers ---
ALTER TABLE pganalytics.api_tokens
    ADD COLUMN role text NOT NULL DEFAULT 'viewer' CHECK (role IN ('admin', 'user', 'viewer')),
    ADD COLUMN server_ids bigint[],
    ADD COLUMN last_used_addr text,
    ADD COLUMN created_by text NOT NULL DEFAULT '';
CREATE INDEX ON pganalytics.api_tokens (user_id);

-- --- login attempts: counted before the password is checked, per name, address and overall ---
-- Unlogged: losing the counters in a crash only resets the budgets.
CREATE UNLOGGED TABLE pganalytics.login_attempts (
    scope text NOT NULL CHECK (scope IN ('name', 'address', 'global')),
    key text NOT NULL,
    window_start timestamptz NOT NULL,
    attempts integer NOT NULL,
    PRIMARY KEY (scope, key)
);

-- One attempt of p_name from p_address: the address budget first (so a spray from one address
-- adds no row per name once spent), then the name's, then the global one. An attempt refused by
-- one budget is not counted against the later ones, so hammering one name cannot spend the
-- global budget; and once the global budget is spent no row is added per name either, so a spray
-- from many addresses cannot grow the table. Returns 0 when the attempt may be checked, else the
-- seconds to wait. Atomic per budget row: parallel attempts never pass a budget together.
CREATE FUNCTION pganalytics.login_attempt(p_name text, p_address text, p_window interval,
                                          p_per_name integer, p_per_address integer, p_global integer)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    v_scope text;
    v_key text;
    v_budget integer;
    v_attempts integer;
    v_start timestamptz;
BEGIN
    FOR v_scope, v_key, v_budget IN
        VALUES ('address', p_address, p_per_address), ('name', p_name, p_per_name), ('global', '', p_global)
    LOOP
        IF v_scope = 'name' THEN
            SELECT attempts, window_start INTO v_attempts, v_start FROM pganalytics.login_attempts
             WHERE scope = 'global' AND key = '' AND window_start > now() - p_window;
            IF v_attempts >= p_global THEN
                RETURN greatest(1, ceil(extract(epoch FROM v_start + p_window - now()))::integer);
            END IF;
        END IF;
        INSERT INTO pganalytics.login_attempts AS a (scope, key, window_start, attempts)
        VALUES (v_scope, v_key, now(), 1)
        ON CONFLICT (scope, key) DO UPDATE
            SET attempts = CASE WHEN a.window_start <= now() - p_window THEN 1 ELSE a.attempts + 1 END,
                window_start = CASE WHEN a.window_start <= now() - p_window THEN now() ELSE a.window_start END
        RETURNING attempts, window_start INTO v_attempts, v_start;
        IF v_attempts > v_budget THEN
            RETURN greatest(1, ceil(extract(epoch FROM v_start + p_window - now()))::integer);
        END IF;
    END LOOP;
    RETURN 0;
END;
$$;

-- A successful sign-in gives its attempt back: the name's count restarts, and the address and
-- global budgets count only failures (and attempts being checked).
CREATE FUNCTION pganalytics.login_succeeded(p_name text, p_address text)
RETURNS void LANGUAGE sql AS $$
    DELETE FROM pganalytics.login_attempts WHERE scope = 'name' AND key = p_name;
    UPDATE pganalytics.login_attempts SET attempts = greatest(attempts - 1, 0)
     WHERE (scope = 'address' AND key = p_address) OR (scope = 'global' AND key = '');
$$;

-- --- collectors: deleting one with its data ---
-- Removes a monitored server with every metric row of it and of its instances (tables named by
-- partitioned_tables, owning column instance_id or server_id), then the server itself, which
-- cascades to its collectors, instances, databases, query texts, batches and grants.
CREATE FUNCTION pganalytics.delete_server_data(p_server_id bigint)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_table text;
    v_column text;
    v_instances bigint[];
BEGIN
    SELECT coalesce(array_agg(id), '{}') INTO v_instances
      FROM pganalytics.postgresql_instances WHERE server_id = p_server_id;
    FOR v_table, v_column IN
        SELECT t.table_name, c.column_name
          FROM pganalytics.partitioned_tables t
          JOIN information_schema.columns c
            ON c.table_schema = 'pganalytics' AND c.table_name = t.table_name
           AND c.column_name IN ('instance_id', 'server_id')
         ORDER BY t.table_name
    LOOP
        IF v_column = 'instance_id' THEN
            EXECUTE format('DELETE FROM pganalytics.%I WHERE instance_id = ANY ($1)', v_table) USING v_instances;
        ELSE
            EXECUTE format('DELETE FROM pganalytics.%I WHERE server_id = $1', v_table) USING p_server_id;
        END IF;
    END LOOP;
    DELETE FROM pganalytics.servers WHERE id = p_server_id;
END;
$$;

-- --- the audit log: append-only, each row chained to the one before by SHA-256 ---
ALTER TABLE pganalytics.audit_log
    ADD COLUMN count integer NOT NULL DEFAULT 1 CHECK (count >= 1),
    ADD COLUMN hash bytea;
CREATE INDEX ON pganalytics.audit_log (actor, id);
CREATE INDEX ON pganalytics.audit_log (action, id);

-- Where the chain starts after the retention removed its oldest rows: the first kept row's
-- predecessor hash. Without a row here the chain starts from the empty hash.
CREATE TABLE pganalytics.audit_chain_anchor (
    id bigserial PRIMARY KEY,
    pruned_through_id bigint NOT NULL,
    last_hash bytea NOT NULL,
    rows_removed bigint NOT NULL,
    pruned_at timestamptz NOT NULL DEFAULT now()
);

-- The row's hash: SHA-256 over the previous row's hash and the row's canonical content (every
-- column, the time as integer microseconds so no time zone or format setting changes it).
CREATE FUNCTION pganalytics.audit_row_hash(p_previous bytea, r pganalytics.audit_log)
RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    SELECT sha256(p_previous || convert_to(json_build_array(
        r.id, (extract(epoch FROM r.at) * 1000000)::bigint, r.actor, r.action, r.target, r.outcome, r.remote_addr,
        r.detail, r.count)::text, 'UTF8'));
$$;

-- The hash the next row chains to: the newest row's, or the anchor's when the log is empty.
CREATE FUNCTION pganalytics.audit_chain_head()
RETURNS bytea LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT hash FROM pganalytics.audit_log ORDER BY id DESC LIMIT 1),
                    (SELECT last_hash FROM pganalytics.audit_chain_anchor ORDER BY id DESC LIMIT 1),
                    '\x'::bytea);
$$;

-- Appends one row. The advisory lock (held until the transaction ends) orders appenders of every
-- replica: each reads the head that the previous one committed, and ids grow in chain order.
CREATE FUNCTION pganalytics.audit_append(p_actor text, p_action text, p_target text, p_outcome text,
                                         p_remote_addr text, p_detail jsonb, p_count integer DEFAULT 1)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_row pganalytics.audit_log;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('pganalytics.audit_log'));
    v_row.id := nextval(pg_get_serial_sequence('pganalytics.audit_log', 'id'));
    v_row.at := clock_timestamp();
    v_row.actor := p_actor;
    v_row.action := p_action;
    v_row.target := coalesce(p_target, '');
    v_row.outcome := p_outcome;
    v_row.remote_addr := coalesce(p_remote_addr, '');
    v_row.detail := coalesce(p_detail, '{}');
    v_row.count := coalesce(p_count, 1);
    v_row.hash := pganalytics.audit_row_hash(pganalytics.audit_chain_head(), v_row);
    INSERT INTO pganalytics.audit_log SELECT v_row.*;
    RETURN v_row.id;
END;
$$;

-- Rows written before this migration join the chain in id order.
DO $$
DECLARE
    v_row pganalytics.audit_log;
    v_previous bytea := '\x';
BEGIN
    FOR v_row IN SELECT * FROM pganalytics.audit_log ORDER BY id LOOP
        v_previous := pganalytics.audit_row_hash(v_previous, v_row);
        UPDATE pganalytics.audit_log SET hash = v_previous WHERE id = v_row.id;
    END LOOP;
END;
$$;
ALTER TABLE pganalytics.audit_log ALTER COLUMN hash SET NOT NULL;

-- Append-only: no UPDATE, no TRUNCATE, and DELETE only from prune_audit_log.
CREATE FUNCTION pganalytics.audit_log_refuse_change()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('pganalytics.audit_pruning', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON pganalytics.audit_log
    FOR EACH ROW EXECUTE FUNCTION pganalytics.audit_log_refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON pganalytics.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION pganalytics.audit_log_refuse_change();

-- Retention: removes every row older than p_keep (a whole prefix of the chain, never a row in
-- the middle), records in audit_chain_anchor where the chain now starts, and audits itself.
-- Returns the number of rows removed.
CREATE FUNCTION pganalytics.prune_audit_log(p_keep interval)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_through bigint;
    v_hash bytea;
    v_removed bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('pganalytics.audit_log'));
    SELECT id, hash INTO v_through, v_hash FROM pganalytics.audit_log
     WHERE at < now() - p_keep ORDER BY id DESC LIMIT 1;
    IF v_through IS NULL THEN
        RETURN 0;
    END IF;
    PERFORM set_config('pganalytics.audit_pruning', 'on', true);
    DELETE FROM pganalytics.audit_log WHERE id <= v_through;
    GET DIAGNOSTICS v_removed = ROW_COUNT;
    PERFORM set_config('pganalytics.audit_pruning', 'off', true);
    INSERT INTO pganalytics.audit_chain_anchor (pruned_through_id, last_hash, rows_removed)
    VALUES (v_through, v_hash, v_removed);
    PERFORM pganalytics.audit_append('server', 'audit.prune', '', 'success', '',
                                     jsonb_build_object('through_id', v_through, 'rows_removed', v_removed,
                                                        'keep', p_keep::text));
    RETURN v_removed;
END;
$$;

-- Recomputes the chain in id order: the first row whose stored hash differs from the hash of its
-- predecessor's hash and its own content is where the log was changed (an edited row, or the
-- row after a deleted one). first_bad_id is NULL when every row checks.
CREATE FUNCTION pganalytics.verify_audit_log(OUT ok boolean, OUT checked bigint, OUT first_bad_id bigint)
LANGUAGE sql STABLE AS $$
    WITH chained AS (
        SELECT a.id, a.hash,
               pganalytics.audit_row_hash(
                   coalesce(lag(a.hash) OVER (ORDER BY a.id),
                            (SELECT last_hash FROM pganalytics.audit_chain_anchor ORDER BY id DESC LIMIT 1),
                            '\x'::bytea), a) AS expected
          FROM pganalytics.audit_log a)
    SELECT min(id) FILTER (WHERE hash IS DISTINCT FROM expected) IS NULL, count(*),
           min(id) FILTER (WHERE hash IS DISTINCT FROM expected)
      FROM chained;
$$;
