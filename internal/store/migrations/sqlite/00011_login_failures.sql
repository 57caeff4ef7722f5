-- Failed-login counting of the built-in identity provider (SQLite). Mirrors
-- migrations/postgres/00011_login_failures.sql.

-- +goose Up
CREATE TABLE login_failures (
    counted_key     TEXT     NOT NULL CONSTRAINT login_failures_pkey PRIMARY KEY,
    failures        TEXT     NOT NULL,
    last_failure_at DATETIME NOT NULL
) WITHOUT ROWID;
CREATE INDEX login_failures_last_failure_at_idx ON login_failures (last_failure_at);
