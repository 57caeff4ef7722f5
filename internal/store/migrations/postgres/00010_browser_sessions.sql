-- Browser sign-in of the built-in identity provider (PostgreSQL): SSO sessions and
-- authorization codes live here, not in a process's memory, so that any replica can continue a
-- login another one started. Secrets are stored only as SHA-256 hashes.
-- Constraint and index names are part of the contract with internal/store/errors.go.

-- +goose Up
-- One signed-in browser. id is the session id that tokens carry as sid and session_state; the
-- cookie holds id and a secret, of which only the hash is kept. account_state is what the
-- issuer saw of the account at sign-in (its roles): when it changes, the session ends.
CREATE TABLE sso_sessions (
    id              text        CONSTRAINT sso_sessions_pkey PRIMARY KEY,
    subject         text        NOT NULL
        CONSTRAINT sso_sessions_subject_fkey REFERENCES accounts (subject) ON DELETE CASCADE,
    secret_hash     text        NOT NULL,
    account_state   text        NOT NULL,
    auth_time       timestamptz NOT NULL,
    -- Pushed forward by each use, never beyond expires_at (the maximum lifetime).
    idle_expires_at timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL
);
CREATE INDEX sso_sessions_subject_idx ON sso_sessions (subject);
CREATE INDEX sso_sessions_idle_expires_at_idx ON sso_sessions (idle_expires_at);

-- Authorization codes: single use (used_at set atomically), short-lived, bound to the
-- authorization request (request: JSON written and read by the issuer only) and its session.
-- A used code is kept until it expires, so that a replay can be recognised and end the session.
CREATE TABLE authorization_codes (
    hash       text        CONSTRAINT authorization_codes_pkey PRIMARY KEY,
    session_id text        NOT NULL
        CONSTRAINT authorization_codes_session_id_fkey REFERENCES sso_sessions (id) ON DELETE CASCADE,
    request    text        NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX authorization_codes_session_id_idx ON authorization_codes (session_id);
CREATE INDEX authorization_codes_expires_at_idx ON authorization_codes (expires_at);
