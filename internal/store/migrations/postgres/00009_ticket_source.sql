-- Which system a ticket belongs to: mirror writes from Jira may only touch Jira's tickets, so a
-- Jira issue whose key equals a built-in ticket's (CP-7) can never take that ticket over.

-- +goose Up
ALTER TABLE tickets ADD COLUMN source text NOT NULL DEFAULT 'builtin'
    CONSTRAINT tickets_source_check CHECK (source IN ('builtin', 'jira'));
