-- User management (PostgreSQL): what the portal mirrors of each user from the identity
-- provider, and the single-use tokens of the built-in provider's invitation and reset links.
-- Constraint and index names are part of the contract with internal/store/errors.go.

-- +goose Up
ALTER TABLE users
    ADD COLUMN first_name text    NOT NULL DEFAULT '',
    ADD COLUMN last_name  text    NOT NULL DEFAULT '',
    -- Comma-separated portal roles, most powerful first.
    ADD COLUMN roles      text    NOT NULL DEFAULT '',
    ADD COLUMN enabled    boolean NOT NULL DEFAULT true,
    -- Invited, invitation not accepted yet.
    ADD COLUMN pending    boolean NOT NULL DEFAULT false;
-- The user list is ordered by (username, id).
CREATE INDEX users_username_id_idx ON users (username, id);

-- An invited account has no password (password_hash = '') until it accepts the invitation.
ALTER TABLE accounts ADD COLUMN email_verified boolean NOT NULL DEFAULT false;

-- With the built-in provider, users mirror its accounts: fill in what 00001 did not record.
UPDATE users
SET first_name = a.first_name, last_name = a.last_name, roles = a.roles, enabled = a.enabled
FROM accounts a
WHERE a.subject = users.subject;

-- Single-use tokens of the built-in provider, stored only as a hash. A subject holds at most
-- one token of each kind: a new one replaces the earlier.
CREATE TABLE account_tokens (
    hash       text        CONSTRAINT account_tokens_pkey PRIMARY KEY,
    subject    text        NOT NULL
        CONSTRAINT account_tokens_subject_fkey REFERENCES accounts (subject) ON DELETE CASCADE,
    kind       text        NOT NULL
        CONSTRAINT account_tokens_kind_check CHECK (kind IN ('invitation', 'password_reset')),
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL,
    CONSTRAINT account_tokens_subject_kind_key UNIQUE (subject, kind)
);
