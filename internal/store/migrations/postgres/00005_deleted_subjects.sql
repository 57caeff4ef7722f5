-- Tombstones of deleted users: a token issued before the deletion must not bring them back.

-- +goose Up
CREATE TABLE deleted_subjects (
    subject    text        PRIMARY KEY,
    deleted_at timestamptz NOT NULL
);
