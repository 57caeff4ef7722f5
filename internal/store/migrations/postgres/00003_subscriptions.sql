-- Subscriptions (PostgreSQL): the catalogue (product versions, subscription levels with their
-- SLA targets, ticket types), the subscriptions of projects and the audit log.
-- Constraint and index names are part of the contract with internal/store/errors.go.

-- +goose Up
-- The exclusion constraint below compares uuids with = inside a GiST index.
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE product_versions (
    id         uuid        PRIMARY KEY,
    name       text        NOT NULL CONSTRAINT product_versions_name_key UNIQUE,
    -- Offered for new subscriptions.
    active     boolean     NOT NULL DEFAULT true,
    start_date date        NOT NULL,
    -- End of support; NULL when open-ended.
    end_date   date,
    version    bigint      NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CONSTRAINT product_versions_dates_check CHECK (end_date IS NULL OR end_date > start_date)
);
CREATE INDEX product_versions_name_id_idx ON product_versions (name, id);

CREATE TABLE subscription_levels (
    id          uuid        PRIMARY KEY,
    name        text        NOT NULL CONSTRAINT subscription_levels_name_key UNIQUE,
    description text        NOT NULL DEFAULT '',
    -- Higher is better: it orders levels in the entitlement.
    rank        integer     NOT NULL DEFAULT 0,
    -- JSON array of {"priority", "firstResponseHours", "resolutionHours"}.
    sla_targets jsonb       NOT NULL DEFAULT '[]'
        CONSTRAINT subscription_levels_sla_targets_check CHECK (jsonb_typeof(sla_targets) = 'array'),
    version     bigint      NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE INDEX subscription_levels_name_id_idx ON subscription_levels (name, id);

INSERT INTO subscription_levels (id, name, description, rank, sla_targets, created_at, updated_at) VALUES
('01900000-0000-7000-8000-00000000a010', 'GOLD', 'Gold support: business-hours response for every priority', 10,
 '[{"priority": "critical", "firstResponseHours": 2, "resolutionHours": 16},
   {"priority": "high", "firstResponseHours": 8, "resolutionHours": 40},
   {"priority": "medium", "firstResponseHours": 16, "resolutionHours": 120},
   {"priority": "low", "firstResponseHours": 40, "resolutionHours": 240}]', now(), now()),
('01900000-0000-7000-8000-00000000a020', 'PLATINUM', 'Platinum support: the fastest response and resolution targets', 20,
 '[{"priority": "critical", "firstResponseHours": 1, "resolutionHours": 8},
   {"priority": "high", "firstResponseHours": 4, "resolutionHours": 24},
   {"priority": "medium", "firstResponseHours": 8, "resolutionHours": 72},
   {"priority": "low", "firstResponseHours": 24, "resolutionHours": 160}]', now(), now());

CREATE TABLE ticket_types (
    id          uuid        PRIMARY KEY,
    name        text        NOT NULL CONSTRAINT ticket_types_name_key UNIQUE,
    description text        NOT NULL DEFAULT '',
    active      boolean     NOT NULL DEFAULT true,
    version     bigint      NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE INDEX ticket_types_name_id_idx ON ticket_types (name, id);

CREATE TABLE subscriptions (
    id                 uuid        PRIMARY KEY,
    project_id         uuid        NOT NULL
        CONSTRAINT subscriptions_project_id_fkey REFERENCES projects (id) ON DELETE CASCADE,
    level_id           uuid        NOT NULL
        CONSTRAINT subscriptions_level_id_fkey REFERENCES subscription_levels (id) ON DELETE RESTRICT,
    product_version_id uuid        NOT NULL
        CONSTRAINT subscriptions_product_version_id_fkey REFERENCES product_versions (id) ON DELETE RESTRICT,
    start_date         date        NOT NULL,
    length_months      integer     NOT NULL
        CONSTRAINT subscriptions_length_months_check CHECK (length_months BETWEEN 1 AND 120),
    -- The first day no longer covered: start_date plus length_months.
    end_date           date        NOT NULL,
    -- EXPIRED is never stored: it is an ACTIVE subscription whose end_date has passed.
    status             text        NOT NULL
        CONSTRAINT subscriptions_status_check CHECK (status IN ('REQUESTED', 'ACTIVE', 'REJECTED')),
    rejection_reason   text        NOT NULL DEFAULT '',
    renewal_of         uuid
        CONSTRAINT subscriptions_renewal_of_fkey REFERENCES subscriptions (id) ON DELETE SET NULL,
    requested_by       uuid
        CONSTRAINT subscriptions_requested_by_fkey REFERENCES users (id) ON DELETE SET NULL,
    decided_by         uuid
        CONSTRAINT subscriptions_decided_by_fkey REFERENCES users (id) ON DELETE SET NULL,
    decided_at         timestamptz,
    version            bigint      NOT NULL DEFAULT 1,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    CONSTRAINT subscriptions_dates_check CHECK (end_date > start_date),
    -- No two ACTIVE subscriptions of one project cover the same day, even when two admins
    -- approve overlapping requests at the same moment.
    CONSTRAINT subscriptions_no_overlap EXCLUDE USING gist (
        project_id WITH =, daterange(start_date, end_date, '[)') WITH &&
    ) WHERE (status = 'ACTIVE')
);
-- A project's subscriptions, newest start first.
CREATE INDEX subscriptions_project_id_start_date_id_idx ON subscriptions (project_id, start_date DESC, id DESC);
-- The renewal pipeline: every subscription by end date.
CREATE INDEX subscriptions_end_date_id_idx ON subscriptions (end_date, id);
-- The delete checks of the catalogue and the list filters.
CREATE INDEX subscriptions_level_id_idx ON subscriptions (level_id);
CREATE INDEX subscriptions_product_version_id_idx ON subscriptions (product_version_id);
CREATE INDEX subscriptions_renewal_of_idx ON subscriptions (renewal_of) WHERE renewal_of IS NOT NULL;
-- Deleting a user clears these references.
CREATE INDEX subscriptions_requested_by_idx ON subscriptions (requested_by) WHERE requested_by IS NOT NULL;
CREATE INDEX subscriptions_decided_by_idx ON subscriptions (decided_by) WHERE decided_by IS NOT NULL;

-- Who changed what, when; written in the same transaction as the change.
CREATE TABLE audit_events (
    id             uuid        PRIMARY KEY,
    occurred_at    timestamptz NOT NULL,
    actor_subject  text        NOT NULL DEFAULT '',
    actor_username text        NOT NULL DEFAULT '',
    action         text        NOT NULL,
    resource_type  text        NOT NULL,
    resource_id    text        NOT NULL DEFAULT '',
    -- JSON object {field: {"before": ..., "after": ...}}.
    changes        jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_occurred_at_id_idx ON audit_events (occurred_at DESC, id DESC);
CREATE INDEX audit_events_resource_idx ON audit_events (resource_type, resource_id, occurred_at DESC);
CREATE INDEX audit_events_actor_subject_idx ON audit_events (actor_subject, occurred_at DESC);
CREATE INDEX audit_events_actor_username_idx ON audit_events (actor_username, occurred_at DESC);
