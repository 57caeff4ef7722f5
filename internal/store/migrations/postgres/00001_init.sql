-- Initial schema of the customer portal (PostgreSQL). Forward-only: a later change is a new file.
-- Constraint and index names are part of the contract with internal/store/errors.go, which
-- turns violations into field-level Conflict errors by name.

-- +goose Up
CREATE TABLE customers (
    id              uuid        PRIMARY KEY,
    name            text        NOT NULL,
    customer_number text        NOT NULL CONSTRAINT customers_customer_number_key UNIQUE,
    contact_name    text        NOT NULL DEFAULT '',
    contact_phone   text        NOT NULL DEFAULT '',
    contact_email   text        NOT NULL DEFAULT '',
    notes           text        NOT NULL DEFAULT '',
    version         bigint      NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
-- Keyset pagination orders every list by (name, id).
CREATE INDEX customers_name_id_idx ON customers (name, id);

CREATE TABLE partners (
    id             uuid        PRIMARY KEY,
    name           text        NOT NULL,
    partner_number text        NOT NULL CONSTRAINT partners_partner_number_key UNIQUE,
    notes          text        NOT NULL DEFAULT '',
    version        bigint      NOT NULL DEFAULT 1,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);
CREATE INDEX partners_name_id_idx ON partners (name, id);

CREATE TABLE projects (
    id                  uuid        PRIMARY KEY,
    customer_id         uuid        NOT NULL
        CONSTRAINT projects_customer_id_fkey REFERENCES customers (id) ON DELETE RESTRICT,
    name                text        NOT NULL,
    description         text        NOT NULL DEFAULT '',
    -- NULL when unset, so that the unique constraint only covers projects that have one.
    jsm_organization_id text
        CONSTRAINT projects_jsm_organization_id_key UNIQUE
        CONSTRAINT projects_jsm_organization_id_check CHECK (jsm_organization_id <> ''),
    contact_name        text        NOT NULL DEFAULT '',
    contact_phone       text        NOT NULL DEFAULT '',
    contact_email       text        NOT NULL DEFAULT '',
    notes               text        NOT NULL DEFAULT '',
    version             bigint      NOT NULL DEFAULT 1,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL
);
CREATE INDEX projects_name_id_idx ON projects (name, id);
-- A customer's projects in list order; also serves the customer scope and the delete check.
CREATE INDEX projects_customer_id_name_id_idx ON projects (customer_id, name, id);

-- Portal users: people seen in verified tokens, keyed by the token's subject.
CREATE TABLE users (
    id         uuid        PRIMARY KEY,
    subject    text        NOT NULL CONSTRAINT users_subject_key UNIQUE,
    username   text        NOT NULL,
    email      text        NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
-- Usernames are unique and looked up case-insensitively.
CREATE UNIQUE INDEX users_username_key ON users (lower(username));

CREATE TABLE project_users (
    project_id uuid        NOT NULL
        CONSTRAINT project_users_project_id_fkey REFERENCES projects (id) ON DELETE CASCADE,
    user_id    uuid        NOT NULL
        CONSTRAINT project_users_user_id_fkey REFERENCES users (id) ON DELETE CASCADE,
    -- A copy of projects.name (kept equal by the store in the same transaction as a rename), so
    -- that a user's project list walks one index in list order: each page costs its own size,
    -- however many projects exist or the user is assigned to.
    project_name text      NOT NULL,
    created_at timestamptz NOT NULL,
    CONSTRAINT project_users_pkey PRIMARY KEY (project_id, user_id)
);
-- The user scope: which projects is this user assigned to, in list order.
CREATE INDEX project_users_user_id_project_id_idx ON project_users (user_id, project_id);
CREATE INDEX project_users_user_id_name_idx ON project_users (user_id, project_name, project_id);

CREATE TABLE project_partners (
    project_id uuid        NOT NULL
        CONSTRAINT project_partners_project_id_fkey REFERENCES projects (id) ON DELETE CASCADE,
    partner_id uuid        NOT NULL
        CONSTRAINT project_partners_partner_id_fkey REFERENCES partners (id) ON DELETE RESTRICT,
    created_at timestamptz NOT NULL,
    CONSTRAINT project_partners_pkey PRIMARY KEY (project_id, partner_id)
);
-- The partner scope and the delete check: which projects is this partner linked to.
CREATE INDEX project_partners_partner_id_project_id_idx ON project_partners (partner_id, project_id);

-- Accounts of the built-in identity provider. Usernames and emails are stored lower-case.
CREATE TABLE accounts (
    id            uuid        PRIMARY KEY,
    subject       text        NOT NULL CONSTRAINT accounts_subject_key UNIQUE,
    username      text        NOT NULL CONSTRAINT accounts_username_key UNIQUE,
    -- NULL when unset, so that several accounts may have no email.
    email         text        CONSTRAINT accounts_email_key UNIQUE
        CONSTRAINT accounts_email_check CHECK (email <> ''),
    first_name    text        NOT NULL DEFAULT '',
    last_name     text        NOT NULL DEFAULT '',
    password_hash text        NOT NULL,
    -- Comma-separated portal roles.
    roles         text        NOT NULL DEFAULT '',
    enabled       boolean     NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);
