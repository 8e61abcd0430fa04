"""Migrations: applied in order, once, recorded; safe from several processes at once."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import zipfile
from dataclasses import replace
from pathlib import Path

import asyncpg
import pytest

from tests.conftest import CLI, ROOT
from worker.errors import ConfigError
from worker.store.migrate import load_migrations, migrate
from worker.store.queries import all_queries

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


async def test_two_migrate_processes_at_once_both_succeed(empty_database_url: str) -> None:
    env_overrides = {
        "INGEST_DATABASE_URL": empty_database_url,
        "INGEST_S3_BUCKET": "unused",
        "INGEST_SQS_QUEUE_URL": "http://127.0.0.1:9/unused",
        "INGEST_LOG_FORMAT": "json",
    }
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("INGEST_")}, **env_overrides}
    processes = [
        await asyncio.create_subprocess_exec(
            *CLI, "migrate", env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(2)
    ]
    results = await asyncio.gather(*(process.communicate() for process in processes))
    codes = [process.returncode for process in processes]
    assert codes == [0, 0], results
    outputs = sorted(stdout.decode() for stdout, _ in results)
    # One process applied everything, the other found nothing left to do.
    assert outputs[0].startswith("applied 0001_")
    assert outputs[1].strip() == "database schema is up to date"

    connection = await asyncpg.connect(empty_database_url)
    try:
        count = await connection.fetchval("SELECT count(*) FROM schema_migrations")
    finally:
        await connection.close()
    assert count == len(load_migrations())


def test_the_wheel_ships_migrations_and_queries(tmp_path: Path) -> None:
    wheel_dir = tmp_path / "wheel"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(wheel_dir),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=240,
    )
    (wheel,) = wheel_dir.glob("ingest_worker-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for migration in (ROOT / "db" / "migrations").glob("*.sql"):
        assert f"worker/_db/migrations/{migration.name}" in names
    for query_file in (ROOT / "db" / "queries").glob("*.sql"):
        assert f"worker/_db/queries/{query_file.name}" in names

    # Installed away from the source tree, the package finds its own copy of db/.
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=240,
    )
    probe = (
        "import worker, worker.store.queries as q, worker.store.migrate as m;"
        "print(worker.__file__); print(q.db_dir());"
        "print(len(m.load_migrations()), len(q.all_queries()))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(target)},
    )
    module_file, found_db, counts = result.stdout.splitlines()
    assert module_file.startswith(str(target))
    assert found_db == str(target / "worker" / "_db")
    assert counts == f"{len(load_migrations())} {len(all_queries())}"


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
