-- The server's own key material, shared by every server replica on this database: the internal
-- CA and the JWT signing keys. Private keys are sealed (AES-256-GCM) with the master key kept in
-- each replica's data_dir/master.key, never stored in clear here.
CREATE TABLE pganalytics.certificate_authority (
    id integer PRIMARY KEY CHECK (id = 1),
    certificate_pem text NOT NULL,
    sealed_private_key text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE pganalytics.signing_keys (
    kid text PRIMARY KEY,
    algorithm text NOT NULL CHECK (algorithm IN ('EdDSA')),
    public_key_pem text NOT NULL,
    sealed_private_key text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    retired_at timestamptz
);

-- Users are identified in refresh-token families; collectors' tokens carry their id.
CREATE INDEX ON pganalytics.refresh_tokens (user_id);
CREATE INDEX ON pganalytics.refresh_tokens (collector_id);
