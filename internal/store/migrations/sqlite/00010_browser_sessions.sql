-- Browser sign-in of the built-in identity provider (SQLite). Mirrors
-- migrations/postgres/00010_browser_sessions.sql.

-- +goose Up
CREATE TABLE sso_sessions (
    id              TEXT     NOT NULL CONSTRAINT sso_sessions_pkey PRIMARY KEY,
    subject         TEXT     NOT NULL
        CONSTRAINT sso_sessions_subject_fkey REFERENCES accounts (subject) ON DELETE CASCADE,
    secret_hash     TEXT     NOT NULL,
    account_state   TEXT     NOT NULL,
    auth_time       DATETIME NOT NULL,
    idle_expires_at DATETIME NOT NULL,
    expires_at      DATETIME NOT NULL
) WITHOUT ROWID;
CREATE INDEX sso_sessions_subject_idx ON sso_sessions (subject);
CREATE INDEX sso_sessions_idle_expires_at_idx ON sso_sessions (idle_expires_at);

CREATE TABLE authorization_codes (
    hash       TEXT     NOT NULL CONSTRAINT authorization_codes_pkey PRIMARY KEY,
    session_id TEXT     NOT NULL
        CONSTRAINT authorization_codes_session_id_fkey REFERENCES sso_sessions (id) ON DELETE CASCADE,
    request    TEXT     NOT NULL,
    expires_at DATETIME NOT NULL,
    used_at    DATETIME
) WITHOUT ROWID;
CREATE INDEX authorization_codes_session_id_idx ON authorization_codes (session_id);
CREATE INDEX authorization_codes_expires_at_idx ON authorization_codes (expires_at);
