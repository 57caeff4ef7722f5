-- Substring search (PostgreSQL): trigram indexes for the q= search of the lists.
-- Index names are part of the contract with internal/store/plan_test.go and search_test.go,
-- which EXPLAIN the list statements and require these indexes to be used.

-- +goose Up
-- The q= search is a case-insensitive substring match, `lower(col) LIKE '%…%' ESCAPE '\'`
-- (internal/store/query.go), which no B-tree index serves: without these indexes every search
-- reads the whole table. A GIN index of the trigrams of exactly the searched expression,
-- lower(col), serves LIKE with a leading wildcard (pg_trgm extracts the trigrams of the
-- pattern, honouring the backslash escapes, and the heap rows are rechecked). A search over
-- several columns ORs one Bitmap Index Scan per column. Patterns shorter than three characters
-- yield no trigram; the planner then keeps the (name, id) index walk or a scan.
--
-- pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it, like
-- btree_gist in 00003. The indexes are built under the migration lock with a plain CREATE
-- INDEX, which blocks writes to each table for the seconds its build takes.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE INDEX customers_name_trgm_idx ON customers USING gin (lower(name) gin_trgm_ops) WITH (fastupdate = off);
CREATE INDEX customers_customer_number_trgm_idx ON customers USING gin (lower(customer_number) gin_trgm_ops) WITH (fastupdate = off);

CREATE INDEX partners_name_trgm_idx ON partners USING gin (lower(name) gin_trgm_ops) WITH (fastupdate = off);
CREATE INDEX partners_partner_number_trgm_idx ON partners USING gin (lower(partner_number) gin_trgm_ops) WITH (fastupdate = off);

CREATE INDEX projects_name_trgm_idx ON projects USING gin (lower(name) gin_trgm_ops) WITH (fastupdate = off);

CREATE INDEX users_username_trgm_idx ON users USING gin (lower(username) gin_trgm_ops) WITH (fastupdate = off);
CREATE INDEX users_email_trgm_idx ON users USING gin (lower(email) gin_trgm_ops) WITH (fastupdate = off);
CREATE INDEX users_first_name_trgm_idx ON users USING gin (lower(first_name) gin_trgm_ops) WITH (fastupdate = off);
CREATE INDEX users_last_name_trgm_idx ON users USING gin (lower(last_name) gin_trgm_ops) WITH (fastupdate = off);

CREATE INDEX tickets_summary_trgm_idx ON tickets USING gin (lower(summary) gin_trgm_ops) WITH (fastupdate = off);
CREATE INDEX tickets_key_trgm_idx ON tickets USING gin (lower(key) gin_trgm_ops) WITH (fastupdate = off);
