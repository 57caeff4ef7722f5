-- Ticketing (PostgreSQL): the portal's connection to its ticketing system and where the
-- mirror's incremental sync stands, both singletons (the one row has id 1), and the lookup of
-- users by email that the mirror needs to recognize reporters.
-- Constraint and index names are part of the contract with internal/store/errors.go.
-- projects.jsm_organization_id is unique already (projects_jsm_organization_id_key, 00001):
-- ProjectByJSMOrganization uses that index.

-- +goose Up
CREATE TABLE ticketing_settings (
    id                   integer     CONSTRAINT ticketing_settings_pkey PRIMARY KEY
        CONSTRAINT ticketing_settings_id_check CHECK (id = 1),
    provider             text        NOT NULL
        CONSTRAINT ticketing_settings_provider_check CHECK (provider IN ('builtin', 'jira')),
    site_url             text        NOT NULL DEFAULT '',
    email                text        NOT NULL DEFAULT '',
    -- Sealed with the portal's secret key; NULL when unset.
    api_token_seal       bytea,
    service_desk_id      text        NOT NULL DEFAULT '',
    -- A JSON object: portal ticket type id -> JSM request type id.
    request_types        text        NOT NULL DEFAULT '{}',
    default_request_type text        NOT NULL DEFAULT '',
    webhook_secret_seal  bytea,
    version              bigint      NOT NULL,
    updated_at           timestamptz NOT NULL
);

CREATE TABLE ticket_sync_state (
    id           integer     CONSTRAINT ticket_sync_state_pkey PRIMARY KEY
        CONSTRAINT ticket_sync_state_id_check CHECK (id = 1),
    -- The latest update time seen; the next sync asks for changes since then.
    watermark    timestamptz,
    last_attempt timestamptz,
    last_success timestamptz,
    last_error   text        NOT NULL DEFAULT ''
);

-- GetUserByEmail compares emails case-insensitively.
CREATE INDEX users_lower_email_idx ON users (lower(email));
