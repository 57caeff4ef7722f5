-- Tombstones of deleted users (SQLite). Mirrors migrations/postgres/00005_deleted_subjects.sql.

-- +goose Up
CREATE TABLE deleted_subjects (
    subject    TEXT     PRIMARY KEY,
    deleted_at DATETIME NOT NULL
) WITHOUT ROWID;
