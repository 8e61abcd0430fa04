"""Migrations: applied in order, once, recorded; safe from several processes at once."""

from __future__ import annotations

from dataclasses import replace

import asyncpg
import pytest

from worker.errors import ConfigError
from worker.store.migrate import load_migrations, migrate

_SCHEMA_SNAPSHOT = """
SELECT 'column' AS kind, table_name || '.' || column_name || ' ' || data_type
       || ' ' || is_nullable || ' ' || coalesce(column_default, '') AS item
FROM information_schema.columns WHERE table_schema = 'public'
UNION ALL
SELECT 'constraint', conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
FROM pg_constraint WHERE connamespace = 'public'::regnamespace
UNION ALL
SELECT 'index', indexdef FROM pg_indexes WHERE schemaname = 'public'
ORDER BY 1, 2
"""


async def _snapshot(connection: asyncpg.Connection) -> list[tuple[str, str]]:
    return [(row["kind"], row["item"]) for row in await connection.fetch(_SCHEMA_SNAPSHOT)]


async def test_migrations_applied_twice_change_nothing(empty_database_url: str) -> None:
    connection = await asyncpg.connect(empty_database_url)
    try:
        first = await migrate(connection)
        assert [m.version for m in first] == [m.version for m in load_migrations()]
        before = await _snapshot(connection)
        assert any("issues_key_uq" in item for _, item in before)
        # 0007: the row hash is a column, no longer a second key.
        assert not any("staging_row_hash_uq" in item for _, item in before)

        assert await migrate(connection) == []
        assert await _snapshot(connection) == before
        recorded = await connection.fetch("SELECT version FROM schema_migrations ORDER BY 1")
        assert [row["version"] for row in recorded] == [m.version for m in first]
    finally:
        await connection.close()


async def test_a_migration_changed_after_it_was_applied_is_refused(
    empty_database_url: str,
) -> None:
    connection = await asyncpg.connect(empty_database_url)
    try:
        migrations = load_migrations()
        await migrate(connection, migrations)
        edited = [replace(migrations[0], sql=migrations[0].sql + "\n-- edited\n"), *migrations[1:]]
        with pytest.raises(ConfigError, match="was changed after it was applied"):
            await migrate(connection, edited)
    finally:
        await connection.close()


async def test_deleting_a_job_deletes_its_staging_rows_and_issues(db: asyncpg.Connection) -> None:
    job_id = await db.fetchval(
        "INSERT INTO jobs (user_id, source_bucket, source_key) VALUES ('t', 'b', 'k') RETURNING id"
    )
    await db.execute(
        "INSERT INTO staging (job_id, row_number, row_hash, raw, status)"
        " VALUES ($1, 2, '\\x01', 'a', 'ISSUE')",
        job_id,
    )
    issue_id = await db.fetchval(
        "INSERT INTO issues (job_id, issue_key, type, message)"
        " VALUES ($1, 'row:2:X:', 'RAGGED_ROW', 'm') RETURNING id",
        job_id,
    )
    await db.execute(
        "INSERT INTO issue_items (issue_id, job_id, row_number) VALUES ($1, $2, 2)",
        issue_id,
        job_id,
    )
    await db.execute("DELETE FROM jobs WHERE id = $1", job_id)
    for table in ("staging", "issues", "issue_items"):
        assert await db.fetchval(f"SELECT count(*) FROM {table}") == 0, table


async def test_deleting_a_job_keeps_its_contacts_and_forgets_the_job(
    db: asyncpg.Connection,
) -> None:
    """0009 dropped contacts' foreign key to jobs; deleting a job still keeps its contacts
    and clears their job, as the key's ON DELETE SET NULL did."""
    job_id = await db.fetchval(
        "INSERT INTO jobs (user_id, source_bucket, source_key) VALUES ('t', 'b', 'k') RETURNING id"
    )
    await db.execute(
        "INSERT INTO contacts (user_id, email, email_normalized, job_id)"
        " VALUES ('t', 'a@x.pt', 'a@x.pt', $1), ('t', 'b@x.pt', 'b@x.pt', NULL)",
        job_id,
    )
    await db.execute("DELETE FROM jobs WHERE id = $1", job_id)
    rows = await db.fetch("SELECT email, job_id FROM contacts ORDER BY email")
    assert [(row["email"], row["job_id"]) for row in rows] == [("a@x.pt", None), ("b@x.pt", None)]
