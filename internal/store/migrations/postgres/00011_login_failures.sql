-- Failed-login counting of the built-in identity provider (PostgreSQL), shared by every
-- replica so that N replicas do not give an attacker N times the budget of guesses.
-- Constraint and index names are part of the contract with internal/store/errors.go.

-- +goose Up
-- One row per counted key (the issuer's "user:<username>" or "ip:<address>"). failures holds
-- the times of the key's latest failures as Unix microseconds, space-separated, oldest first;
-- the issuer keeps at most its limit of them. A row is updated only while locked by the
-- upsert that reads it, so concurrent failures on any replica count exactly.
-- last_failure_at is the newest of them: a row whose newest failure left the window is dead
-- and is deleted opportunistically.
CREATE TABLE login_failures (
    counted_key     text        CONSTRAINT login_failures_pkey PRIMARY KEY,
    failures        text        NOT NULL,
    last_failure_at timestamptz NOT NULL
);
CREATE INDEX login_failures_last_failure_at_idx ON login_failures (last_failure_at);
