-- Which system a ticket belongs to (SQLite). Mirrors migrations/postgres/00009_ticket_source.sql.

-- +goose Up
ALTER TABLE tickets ADD COLUMN source TEXT NOT NULL DEFAULT 'builtin'
    CONSTRAINT tickets_source_check CHECK (source IN ('builtin', 'jira'));
