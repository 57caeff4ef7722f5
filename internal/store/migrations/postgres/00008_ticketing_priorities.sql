-- Ticketing priorities (PostgreSQL): the Jira priority id of each mapped portal priority, as a
-- JSON object (portal priority -> Jira priority id), like request_types.

-- +goose Up
ALTER TABLE ticketing_settings ADD COLUMN priorities text NOT NULL DEFAULT '{}';
