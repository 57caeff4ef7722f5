-- Tickets (PostgreSQL): the visibility of a project's tickets, the tickets themselves (for the
-- built-in ticketing provider the record, for Jira its local mirror), their participants and
-- comments, the counters that number them and the idempotency keys of their creation.
-- Constraint and index names are part of the contract with internal/store/errors.go.

-- +goose Up
-- "project": everyone assigned to the project reads its tickets; "own": cp-customer users read
-- only the tickets they reported or take part in, unless their assignment sees all.
ALTER TABLE projects ADD COLUMN ticket_visibility text NOT NULL DEFAULT 'project'
    CONSTRAINT projects_ticket_visibility_check CHECK (ticket_visibility IN ('project', 'own'));
-- The assignment's override of a project visibility of "own".
ALTER TABLE project_users ADD COLUMN sees_all_tickets boolean NOT NULL DEFAULT false;

-- The last number handed out per key prefix ("CP" -> 41 means CP-41 exists).
CREATE TABLE ticket_counters (
    prefix text   CONSTRAINT ticket_counters_pkey PRIMARY KEY,
    next   bigint NOT NULL
);

CREATE TABLE tickets (
    id                uuid        PRIMARY KEY,
    key               text        NOT NULL CONSTRAINT tickets_key_key UNIQUE,
    project_id        uuid        NOT NULL
        CONSTRAINT tickets_project_id_fkey REFERENCES projects (id) ON DELETE CASCADE,
    type_id           uuid
        CONSTRAINT tickets_type_id_fkey REFERENCES ticket_types (id) ON DELETE SET NULL,
    summary           text        NOT NULL,
    description       text        NOT NULL DEFAULT '',
    priority          text        NOT NULL DEFAULT '',
    status            text        NOT NULL,
    status_category   text        NOT NULL,
    reporter_id       uuid
        CONSTRAINT tickets_reporter_id_fkey REFERENCES users (id) ON DELETE SET NULL,
    -- Kept so that the tickets of a deleted user still name them.
    reporter_username text        NOT NULL DEFAULT '',
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    -- When the portal last had the ticket from its ticketing system.
    synced_at         timestamptz NOT NULL,
    version           bigint      NOT NULL DEFAULT 1
);
-- Ticket lists are newest first by creation or by last update, of all or of one project.
CREATE INDEX tickets_created_at_id_idx ON tickets (created_at DESC, id DESC);
CREATE INDEX tickets_updated_at_id_idx ON tickets (updated_at DESC, id DESC);
CREATE INDEX tickets_project_id_created_at_id_idx ON tickets (project_id, created_at DESC, id DESC);
CREATE INDEX tickets_project_id_updated_at_id_idx ON tickets (project_id, updated_at DESC, id DESC);
CREATE INDEX tickets_reporter_id_idx ON tickets (reporter_id, created_at DESC) WHERE reporter_id IS NOT NULL;
CREATE INDEX tickets_type_id_idx ON tickets (type_id) WHERE type_id IS NOT NULL;

CREATE TABLE ticket_participants (
    ticket_id uuid NOT NULL
        CONSTRAINT ticket_participants_ticket_id_fkey REFERENCES tickets (id) ON DELETE CASCADE,
    user_id   uuid NOT NULL
        CONSTRAINT ticket_participants_user_id_fkey REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT ticket_participants_pkey PRIMARY KEY (ticket_id, user_id)
);
-- The "own" visibility and the cascade of a user's deletion.
CREATE INDEX ticket_participants_user_id_ticket_id_idx ON ticket_participants (user_id, ticket_id);

CREATE TABLE ticket_comments (
    id              uuid        PRIMARY KEY,
    ticket_id       uuid        NOT NULL
        CONSTRAINT ticket_comments_ticket_id_fkey REFERENCES tickets (id) ON DELETE CASCADE,
    author_id       uuid
        CONSTRAINT ticket_comments_author_id_fkey REFERENCES users (id) ON DELETE SET NULL,
    author_username text        NOT NULL DEFAULT '',
    body            text        NOT NULL,
    internal        boolean     NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL
);
-- A ticket's comments, oldest first.
CREATE INDEX ticket_comments_ticket_id_created_at_id_idx ON ticket_comments (ticket_id, created_at, id);
CREATE INDEX ticket_comments_author_id_idx ON ticket_comments (author_id) WHERE author_id IS NOT NULL;

-- The first outcome of a ticket creation under a caller's Idempotency-Key; ticket_id is NULL
-- while the first request is still running.
CREATE TABLE idempotency_keys (
    subject      text        NOT NULL,
    key          text        NOT NULL,
    request_hash text        NOT NULL,
    ticket_id    uuid
        CONSTRAINT idempotency_keys_ticket_id_fkey REFERENCES tickets (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL,
    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (subject, key)
);
CREATE INDEX idempotency_keys_ticket_id_idx ON idempotency_keys (ticket_id) WHERE ticket_id IS NOT NULL;
CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);
