-- Mirrored comments (PostgreSQL): the id a comment has in the ticketing system, so that the
-- mirror stores each comment of a ticket once (UpsertMirroredComment). Portal comments have none.
-- Constraint and index names are part of the contract with internal/store/errors.go.

-- +goose Up
ALTER TABLE ticket_comments ADD COLUMN remote_id text;
CREATE UNIQUE INDEX ticket_comments_ticket_id_remote_id_key ON ticket_comments (ticket_id, remote_id)
    WHERE remote_id IS NOT NULL;
