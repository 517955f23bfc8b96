-- Which monitored servers a user or viewer may see (CONTRACT §10); admins see every server.
CREATE TABLE pganalytics.user_servers (
    user_id bigint NOT NULL REFERENCES pganalytics.users (id) ON DELETE CASCADE,
    server_id bigint NOT NULL REFERENCES pganalytics.servers (id) ON DELETE CASCADE,
    granted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, server_id)
);
CREATE INDEX ON pganalytics.user_servers (server_id);
