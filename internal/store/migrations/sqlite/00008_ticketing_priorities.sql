-- Ticketing priorities (SQLite). Mirrors migrations/postgres/00008_ticketing_priorities.sql.

-- +goose Up
ALTER TABLE ticketing_settings ADD COLUMN priorities TEXT NOT NULL DEFAULT '{}';
