-- Mirrored comments (SQLite). Mirrors migrations/postgres/00007_mirrored_comments.sql.
-- Constraint and index names are part of the contract with internal/store/errors.go.

-- +goose Up
ALTER TABLE ticket_comments ADD COLUMN remote_id TEXT;
CREATE UNIQUE INDEX ticket_comments_ticket_id_remote_id_key ON ticket_comments (ticket_id, remote_id)
    WHERE remote_id IS NOT NULL;
