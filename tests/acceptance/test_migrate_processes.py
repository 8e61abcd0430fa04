"""Migrations from processes of their own: two at once, and from the built wheel."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import asyncpg

from tests.conftest import CLI, ROOT
from worker.store.migrate import load_migrations
from worker.store.queries import all_queries


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
