-- Subscriptions (SQLite). Mirrors migrations/postgres/00003_subscriptions.sql. Dates are
-- 'YYYY-MM-DD' TEXT, so that comparing them as text compares them as dates. The overlap rule
-- of ACTIVE subscriptions, an exclusion constraint on PostgreSQL, is two triggers here.
-- Constraint and trigger names are part of the contract with internal/store/errors.go.

-- +goose Up
CREATE TABLE product_versions (
    id         TEXT     NOT NULL PRIMARY KEY,
    name       TEXT     NOT NULL CONSTRAINT product_versions_name_key UNIQUE,
    active     BOOLEAN  NOT NULL DEFAULT 1,
    start_date TEXT     NOT NULL
        CONSTRAINT product_versions_start_date_check CHECK (start_date GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
    end_date   TEXT
        CONSTRAINT product_versions_end_date_check CHECK (end_date GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
    version    INTEGER  NOT NULL DEFAULT 1,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    CONSTRAINT product_versions_dates_check CHECK (end_date IS NULL OR end_date > start_date)
);
CREATE INDEX product_versions_name_id_idx ON product_versions (name, id);

CREATE TABLE subscription_levels (
    id          TEXT     NOT NULL PRIMARY KEY,
    name        TEXT     NOT NULL CONSTRAINT subscription_levels_name_key UNIQUE,
    description TEXT     NOT NULL DEFAULT '',
    rank        INTEGER  NOT NULL DEFAULT 0,
    sla_targets TEXT     NOT NULL DEFAULT '[]'
        CONSTRAINT subscription_levels_sla_targets_check CHECK (json_type(sla_targets) = 'array'),
    version     INTEGER  NOT NULL DEFAULT 1,
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL
);
CREATE INDEX subscription_levels_name_id_idx ON subscription_levels (name, id);

INSERT INTO subscription_levels (id, name, description, rank, sla_targets, created_at, updated_at) VALUES
('01900000-0000-7000-8000-00000000a010', 'GOLD', 'Gold support: business-hours response for every priority', 10,
 '[{"priority":"critical","firstResponseHours":2,"resolutionHours":16},{"priority":"high","firstResponseHours":8,"resolutionHours":40},{"priority":"medium","firstResponseHours":16,"resolutionHours":120},{"priority":"low","firstResponseHours":40,"resolutionHours":240}]',
 strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'), strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')),
('01900000-0000-7000-8000-00000000a020', 'PLATINUM', 'Platinum support: the fastest response and resolution targets', 20,
 '[{"priority":"critical","firstResponseHours":1,"resolutionHours":8},{"priority":"high","firstResponseHours":4,"resolutionHours":24},{"priority":"medium","firstResponseHours":8,"resolutionHours":72},{"priority":"low","firstResponseHours":24,"resolutionHours":160}]',
 strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'), strftime('%Y-%m-%d %H:%M:%f+00:00', 'now'));

CREATE TABLE ticket_types (
    id          TEXT     NOT NULL PRIMARY KEY,
    name        TEXT     NOT NULL CONSTRAINT ticket_types_name_key UNIQUE,
    description TEXT     NOT NULL DEFAULT '',
    active      BOOLEAN  NOT NULL DEFAULT 1,
    version     INTEGER  NOT NULL DEFAULT 1,
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL
);
CREATE INDEX ticket_types_name_id_idx ON ticket_types (name, id);

CREATE TABLE subscriptions (
    id                 TEXT     NOT NULL PRIMARY KEY,
    project_id         TEXT     NOT NULL
        CONSTRAINT subscriptions_project_id_fkey REFERENCES projects (id) ON DELETE CASCADE,
    level_id           TEXT     NOT NULL
        CONSTRAINT subscriptions_level_id_fkey REFERENCES subscription_levels (id) ON DELETE RESTRICT,
    product_version_id TEXT     NOT NULL
        CONSTRAINT subscriptions_product_version_id_fkey REFERENCES product_versions (id) ON DELETE RESTRICT,
    start_date         TEXT     NOT NULL
        CONSTRAINT subscriptions_start_date_check CHECK (start_date GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
    length_months      INTEGER  NOT NULL
        CONSTRAINT subscriptions_length_months_check CHECK (length_months BETWEEN 1 AND 120),
    end_date           TEXT     NOT NULL
        CONSTRAINT subscriptions_end_date_check CHECK (end_date GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
    status             TEXT     NOT NULL
        CONSTRAINT subscriptions_status_check CHECK (status IN ('REQUESTED', 'ACTIVE', 'REJECTED')),
    rejection_reason   TEXT     NOT NULL DEFAULT '',
    renewal_of         TEXT
        CONSTRAINT subscriptions_renewal_of_fkey REFERENCES subscriptions (id) ON DELETE SET NULL,
    requested_by       TEXT
        CONSTRAINT subscriptions_requested_by_fkey REFERENCES users (id) ON DELETE SET NULL,
    decided_by         TEXT
        CONSTRAINT subscriptions_decided_by_fkey REFERENCES users (id) ON DELETE SET NULL,
    decided_at         DATETIME,
    version            INTEGER  NOT NULL DEFAULT 1,
    created_at         DATETIME NOT NULL,
    updated_at         DATETIME NOT NULL,
    CONSTRAINT subscriptions_dates_check CHECK (end_date > start_date)
);
CREATE INDEX subscriptions_project_id_start_date_id_idx ON subscriptions (project_id, start_date DESC, id DESC);
CREATE INDEX subscriptions_end_date_id_idx ON subscriptions (end_date, id);
CREATE INDEX subscriptions_level_id_idx ON subscriptions (level_id);
CREATE INDEX subscriptions_product_version_id_idx ON subscriptions (product_version_id);
CREATE INDEX subscriptions_renewal_of_idx ON subscriptions (renewal_of) WHERE renewal_of IS NOT NULL;
CREATE INDEX subscriptions_requested_by_idx ON subscriptions (requested_by) WHERE requested_by IS NOT NULL;
CREATE INDEX subscriptions_decided_by_idx ON subscriptions (decided_by) WHERE decided_by IS NOT NULL;

-- No two ACTIVE subscriptions of one project cover the same day. Writers are serialized
-- (transactions begin IMMEDIATE), so a check before each write is enough.
-- +goose StatementBegin
CREATE TRIGGER subscriptions_no_overlap_insert BEFORE INSERT ON subscriptions
WHEN NEW.status = 'ACTIVE'
BEGIN
    SELECT RAISE(ABORT, 'subscriptions_no_overlap')
    WHERE EXISTS (
        SELECT 1 FROM subscriptions s
        WHERE s.project_id = NEW.project_id AND s.status = 'ACTIVE' AND s.id <> NEW.id
          AND s.start_date < NEW.end_date AND NEW.start_date < s.end_date
    );
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER subscriptions_no_overlap_update BEFORE UPDATE ON subscriptions
WHEN NEW.status = 'ACTIVE'
BEGIN
    SELECT RAISE(ABORT, 'subscriptions_no_overlap')
    WHERE EXISTS (
        SELECT 1 FROM subscriptions s
        WHERE s.project_id = NEW.project_id AND s.status = 'ACTIVE' AND s.id <> NEW.id
          AND s.start_date < NEW.end_date AND NEW.start_date < s.end_date
    );
END;
-- +goose StatementEnd

CREATE TABLE audit_events (
    id             TEXT     NOT NULL PRIMARY KEY,
    occurred_at    DATETIME NOT NULL,
    actor_subject  TEXT     NOT NULL DEFAULT '',
    actor_username TEXT     NOT NULL DEFAULT '',
    action         TEXT     NOT NULL,
    resource_type  TEXT     NOT NULL,
    resource_id    TEXT     NOT NULL DEFAULT '',
    changes        TEXT     NOT NULL DEFAULT '{}'
        CONSTRAINT audit_events_changes_check CHECK (json_type(changes) = 'object')
);
CREATE INDEX audit_events_occurred_at_id_idx ON audit_events (occurred_at DESC, id DESC);
CREATE INDEX audit_events_resource_idx ON audit_events (resource_type, resource_id, occurred_at DESC);
CREATE INDEX audit_events_actor_subject_idx ON audit_events (actor_subject, occurred_at DESC);
CREATE INDEX audit_events_actor_username_idx ON audit_events (actor_username, occurred_at DESC);
