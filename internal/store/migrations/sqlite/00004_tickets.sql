-- Tickets (SQLite). Mirrors migrations/postgres/00004_tickets.sql.
-- Constraint and index names are part of the contract with internal/store/errors.go.

-- +goose Up
ALTER TABLE projects ADD COLUMN ticket_visibility TEXT NOT NULL DEFAULT 'project'
    CONSTRAINT projects_ticket_visibility_check CHECK (ticket_visibility IN ('project', 'own'));
ALTER TABLE project_users ADD COLUMN sees_all_tickets BOOLEAN NOT NULL DEFAULT 0;

CREATE TABLE ticket_counters (
    prefix TEXT    NOT NULL PRIMARY KEY,
    next   INTEGER NOT NULL
);

CREATE TABLE tickets (
    id                TEXT     NOT NULL PRIMARY KEY,
    key               TEXT     NOT NULL CONSTRAINT tickets_key_key UNIQUE,
    project_id        TEXT     NOT NULL
        CONSTRAINT tickets_project_id_fkey REFERENCES projects (id) ON DELETE CASCADE,
    type_id           TEXT
        CONSTRAINT tickets_type_id_fkey REFERENCES ticket_types (id) ON DELETE SET NULL,
    summary           TEXT     NOT NULL,
    description       TEXT     NOT NULL DEFAULT '',
    priority          TEXT     NOT NULL DEFAULT '',
    status            TEXT     NOT NULL,
    status_category   TEXT     NOT NULL,
    reporter_id       TEXT
        CONSTRAINT tickets_reporter_id_fkey REFERENCES users (id) ON DELETE SET NULL,
    reporter_username TEXT     NOT NULL DEFAULT '',
    created_at        DATETIME NOT NULL,
    updated_at        DATETIME NOT NULL,
    synced_at         DATETIME NOT NULL,
    version           INTEGER  NOT NULL DEFAULT 1
);
CREATE INDEX tickets_created_at_id_idx ON tickets (created_at DESC, id DESC);
CREATE INDEX tickets_updated_at_id_idx ON tickets (updated_at DESC, id DESC);
CREATE INDEX tickets_project_id_created_at_id_idx ON tickets (project_id, created_at DESC, id DESC);
CREATE INDEX tickets_project_id_updated_at_id_idx ON tickets (project_id, updated_at DESC, id DESC);
CREATE INDEX tickets_reporter_id_idx ON tickets (reporter_id, created_at DESC) WHERE reporter_id IS NOT NULL;
CREATE INDEX tickets_type_id_idx ON tickets (type_id) WHERE type_id IS NOT NULL;

CREATE TABLE ticket_participants (
    ticket_id TEXT NOT NULL
        CONSTRAINT ticket_participants_ticket_id_fkey REFERENCES tickets (id) ON DELETE CASCADE,
    user_id   TEXT NOT NULL
        CONSTRAINT ticket_participants_user_id_fkey REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT ticket_participants_pkey PRIMARY KEY (ticket_id, user_id)
);
CREATE INDEX ticket_participants_user_id_ticket_id_idx ON ticket_participants (user_id, ticket_id);

CREATE TABLE ticket_comments (
    id              TEXT     NOT NULL PRIMARY KEY,
    ticket_id       TEXT     NOT NULL
        CONSTRAINT ticket_comments_ticket_id_fkey REFERENCES tickets (id) ON DELETE CASCADE,
    author_id       TEXT
        CONSTRAINT ticket_comments_author_id_fkey REFERENCES users (id) ON DELETE SET NULL,
    author_username TEXT     NOT NULL DEFAULT '',
    body            TEXT     NOT NULL,
    internal        BOOLEAN  NOT NULL DEFAULT 0,
    created_at      DATETIME NOT NULL
);
CREATE INDEX ticket_comments_ticket_id_created_at_id_idx ON ticket_comments (ticket_id, created_at, id);
CREATE INDEX ticket_comments_author_id_idx ON ticket_comments (author_id) WHERE author_id IS NOT NULL;

CREATE TABLE idempotency_keys (
    subject      TEXT     NOT NULL,
    key          TEXT     NOT NULL,
    request_hash TEXT     NOT NULL,
    ticket_id    TEXT
        CONSTRAINT idempotency_keys_ticket_id_fkey REFERENCES tickets (id) ON DELETE CASCADE,
    created_at   DATETIME NOT NULL,
    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (subject, key)
);
CREATE INDEX idempotency_keys_ticket_id_idx ON idempotency_keys (ticket_id) WHERE ticket_id IS NOT NULL;
CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);
