-- Initial schema of the customer portal (SQLite). Forward-only: a later change is a new file.
-- Mirrors migrations/postgres/00001_init.sql: ids are canonical lower-case UUID text, which
-- sorts like PostgreSQL's uuid; times are DATETIME so that the driver reads them as time.Time.
-- Names of unique constraints are part of the contract with internal/store/errors.go.

-- +goose Up
CREATE TABLE customers (
    id              TEXT     NOT NULL PRIMARY KEY,
    name            TEXT     NOT NULL,
    customer_number TEXT     NOT NULL CONSTRAINT customers_customer_number_key UNIQUE,
    contact_name    TEXT     NOT NULL DEFAULT '',
    contact_phone   TEXT     NOT NULL DEFAULT '',
    contact_email   TEXT     NOT NULL DEFAULT '',
    notes           TEXT     NOT NULL DEFAULT '',
    version         INTEGER  NOT NULL DEFAULT 1,
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL
);
CREATE INDEX customers_name_id_idx ON customers (name, id);

CREATE TABLE partners (
    id             TEXT     NOT NULL PRIMARY KEY,
    name           TEXT     NOT NULL,
    partner_number TEXT     NOT NULL CONSTRAINT partners_partner_number_key UNIQUE,
    notes          TEXT     NOT NULL DEFAULT '',
    version        INTEGER  NOT NULL DEFAULT 1,
    created_at     DATETIME NOT NULL,
    updated_at     DATETIME NOT NULL
);
CREATE INDEX partners_name_id_idx ON partners (name, id);

CREATE TABLE projects (
    id                  TEXT     NOT NULL PRIMARY KEY,
    customer_id         TEXT     NOT NULL
        CONSTRAINT projects_customer_id_fkey REFERENCES customers (id) ON DELETE RESTRICT,
    name                TEXT     NOT NULL,
    description         TEXT     NOT NULL DEFAULT '',
    jsm_organization_id TEXT
        CONSTRAINT projects_jsm_organization_id_key UNIQUE
        CONSTRAINT projects_jsm_organization_id_check CHECK (jsm_organization_id <> ''),
    contact_name        TEXT     NOT NULL DEFAULT '',
    contact_phone       TEXT     NOT NULL DEFAULT '',
    contact_email       TEXT     NOT NULL DEFAULT '',
    notes               TEXT     NOT NULL DEFAULT '',
    version             INTEGER  NOT NULL DEFAULT 1,
    created_at          DATETIME NOT NULL,
    updated_at          DATETIME NOT NULL
);
CREATE INDEX projects_name_id_idx ON projects (name, id);
CREATE INDEX projects_customer_id_name_id_idx ON projects (customer_id, name, id);

CREATE TABLE users (
    id         TEXT     NOT NULL PRIMARY KEY,
    subject    TEXT     NOT NULL CONSTRAINT users_subject_key UNIQUE,
    username   TEXT     NOT NULL,
    email      TEXT     NOT NULL DEFAULT '',
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);
CREATE UNIQUE INDEX users_username_key ON users (lower(username));

CREATE TABLE project_users (
    project_id TEXT     NOT NULL
        CONSTRAINT project_users_project_id_fkey REFERENCES projects (id) ON DELETE CASCADE,
    user_id    TEXT     NOT NULL
        CONSTRAINT project_users_user_id_fkey REFERENCES users (id) ON DELETE CASCADE,
    -- A copy of projects.name, so a user's project list walks one index in list order.
    project_name TEXT   NOT NULL,
    created_at DATETIME NOT NULL,
    CONSTRAINT project_users_pkey PRIMARY KEY (project_id, user_id)
) WITHOUT ROWID;
CREATE INDEX project_users_user_id_project_id_idx ON project_users (user_id, project_id);
CREATE INDEX project_users_user_id_name_idx ON project_users (user_id, project_name, project_id);

CREATE TABLE project_partners (
    project_id TEXT     NOT NULL
        CONSTRAINT project_partners_project_id_fkey REFERENCES projects (id) ON DELETE CASCADE,
    partner_id TEXT     NOT NULL
        CONSTRAINT project_partners_partner_id_fkey REFERENCES partners (id) ON DELETE RESTRICT,
    created_at DATETIME NOT NULL,
    CONSTRAINT project_partners_pkey PRIMARY KEY (project_id, partner_id)
) WITHOUT ROWID;
CREATE INDEX project_partners_partner_id_project_id_idx ON project_partners (partner_id, project_id);

CREATE TABLE accounts (
    id            TEXT     NOT NULL PRIMARY KEY,
    subject       TEXT     NOT NULL CONSTRAINT accounts_subject_key UNIQUE,
    username      TEXT     NOT NULL CONSTRAINT accounts_username_key UNIQUE,
    email         TEXT     CONSTRAINT accounts_email_key UNIQUE
        CONSTRAINT accounts_email_check CHECK (email <> ''),
    first_name    TEXT     NOT NULL DEFAULT '',
    last_name     TEXT     NOT NULL DEFAULT '',
    password_hash TEXT     NOT NULL,
    roles         TEXT     NOT NULL DEFAULT '',
    enabled       BOOLEAN  NOT NULL DEFAULT 1,
    created_at    DATETIME NOT NULL,
    updated_at    DATETIME NOT NULL
);
