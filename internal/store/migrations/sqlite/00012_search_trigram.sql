-- Substring search (SQLite). Mirrors migrations/postgres/00012_search_trigram.sql, which adds
-- pg_trgm GIN indexes for the q= search. SQLite has no trigram index usable by LIKE (FTS5's
-- trigram tokenizer is a separate virtual table, not an index of the table), so the search
-- stays `lower(col) LIKE '%…%' ESCAPE '\'` over the rows of the embedded database, whose
-- tables are small. This migration deliberately changes nothing: it exists so that both
-- dialects have the same migration versions.

-- +goose Up
SELECT 1;
