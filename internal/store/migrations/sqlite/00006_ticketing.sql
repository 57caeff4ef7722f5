-- Ticketing (SQLite). Mirrors migrations/postgres/00006_ticketing.sql.
-- Constraint and index names are part of the contract with internal/store/errors.go.

-- +goose Up
CREATE TABLE ticketing_settings (
    id                   INTEGER  NOT NULL PRIMARY KEY
        CONSTRAINT ticketing_settings_id_check CHECK (id = 1),
    provider             TEXT     NOT NULL
        CONSTRAINT ticketing_settings_provider_check CHECK (provider IN ('builtin', 'jira')),
    site_url             TEXT     NOT NULL DEFAULT '',
    email                TEXT     NOT NULL DEFAULT '',
    api_token_seal       BLOB,
    service_desk_id      TEXT     NOT NULL DEFAULT '',
    request_types        TEXT     NOT NULL DEFAULT '{}',
    default_request_type TEXT     NOT NULL DEFAULT '',
    webhook_secret_seal  BLOB,
    version              INTEGER  NOT NULL,
    updated_at           DATETIME NOT NULL
);

CREATE TABLE ticket_sync_state (
    id           INTEGER  NOT NULL PRIMARY KEY
        CONSTRAINT ticket_sync_state_id_check CHECK (id = 1),
    watermark    DATETIME,
    last_attempt DATETIME,
    last_success DATETIME,
    last_error   TEXT     NOT NULL DEFAULT ''
);

CREATE INDEX users_lower_email_idx ON users (lower(email));
