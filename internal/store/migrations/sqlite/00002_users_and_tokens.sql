-- User management (SQLite). Mirrors migrations/postgres/00002_users_and_tokens.sql.
-- Constraint and index names are part of the contract with internal/store/errors.go.

-- +goose Up
ALTER TABLE users ADD COLUMN first_name TEXT    NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN last_name  TEXT    NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN roles      TEXT    NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN enabled    BOOLEAN NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN pending    BOOLEAN NOT NULL DEFAULT 0;
CREATE INDEX users_username_id_idx ON users (username, id);

ALTER TABLE accounts ADD COLUMN email_verified BOOLEAN NOT NULL DEFAULT 0;

UPDATE users
SET first_name = a.first_name, last_name = a.last_name, roles = a.roles, enabled = a.enabled
FROM accounts a
WHERE a.subject = users.subject;

CREATE TABLE account_tokens (
    hash       TEXT     NOT NULL CONSTRAINT account_tokens_pkey PRIMARY KEY,
    subject    TEXT     NOT NULL
        CONSTRAINT account_tokens_subject_fkey REFERENCES accounts (subject) ON DELETE CASCADE,
    kind       TEXT     NOT NULL
        CONSTRAINT account_tokens_kind_check CHECK (kind IN ('invitation', 'password_reset')),
    expires_at DATETIME NOT NULL,
    created_at DATETIME NOT NULL,
    CONSTRAINT account_tokens_subject_kind_key UNIQUE (subject, kind)
) WITHOUT ROWID;
