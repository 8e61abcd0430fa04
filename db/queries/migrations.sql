-- name: lock_migrations
-- Wait for the advisory lock that serialises migrations across processes.
SELECT pg_advisory_lock($1);

-- name: unlock_migrations
-- Release the migrations lock.
SELECT pg_advisory_unlock($1);

-- name: create_migrations_table
-- Create the table that records applied migrations, if it is not there yet.
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     integer PRIMARY KEY,
    name        text        NOT NULL,
    checksum    text        NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
);

-- name: list_applied_migrations
-- The versions already applied, with the checksum of the file that was run.
SELECT version, checksum FROM schema_migrations ORDER BY version;

-- name: record_migration
-- Record one applied migration.
INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3);

-- name: migrations_table_exists
-- Whether the migrations table exists at all (a fresh database has none).
SELECT to_regclass('schema_migrations') IS NOT NULL;

-- name: schema_version
-- The highest migration version applied.
SELECT coalesce(max(version), 0) FROM schema_migrations;

-- name: server_version
-- The PostgreSQL server's version, for `ingest-worker check`.
SHOW server_version;

-- name: database_exists
-- Whether a database of this name exists on the server (the demo creates its own once).
SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1);

-- name: ping
-- The cheapest round trip, for the readiness probe.
SELECT 1;
