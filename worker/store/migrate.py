"""Numbered SQL migrations, applied in order, once, under an advisory lock.

``db/migrations/NNNN_name.sql`` files run each in its own transaction and are recorded in
``schema_migrations`` with a checksum; a recorded migration whose file changed afterwards is
refused rather than silently skipped. Several processes may migrate at once: the first
applies, the others wait on the lock and find nothing left to do.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from worker.errors import ConfigError
from worker.logs import get_logger
from worker.store.pool import Executor
from worker.store.queries import db_dir, sql

# An arbitrary constant: the advisory lock that serialises migrations across processes.
MIGRATION_LOCK_KEY = 0x1D6E57_0001

_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

log = get_logger(__name__)


@dataclass(frozen=True)
class Migration:
    """One migration file."""

    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        """SHA-256 of the file's text: changing an applied migration is detected."""
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()


def load_migrations(directory: Path | None = None) -> list[Migration]:
    """The migration files in version order; misnamed or duplicate versions are errors."""
    directory = directory or db_dir() / "migrations"
    migrations: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if not match:
            raise ConfigError(f"migration file {path.name!r} is not named NNNN_name.sql")
        version = int(match.group(1))
        if version in migrations:
            raise ConfigError(f"two migrations share version {version:04d}")
        migrations[version] = Migration(version, match.group(2), path.read_text("utf-8"))
    return [migrations[version] for version in sorted(migrations)]


async def migrate(
    connection: asyncpg.Connection, migrations: list[Migration] | None = None
) -> list[Migration]:
    """Apply the migrations not applied yet; return those it applied."""
    migrations = load_migrations() if migrations is None else migrations
    await connection.execute(sql("lock_migrations"), MIGRATION_LOCK_KEY)
    try:
        await connection.execute(sql("create_migrations_table"))
        applied = {
            row["version"]: row["checksum"]
            for row in await connection.fetch(sql("list_applied_migrations"))
        }
        done = []
        for migration in migrations:
            recorded = applied.get(migration.version)
            if recorded is not None:
                if recorded != migration.checksum:
                    raise ConfigError(
                        f"migration {migration.version:04d}_{migration.name} was changed after "
                        "it was applied; add a new migration instead"
                    )
                continue
            async with connection.transaction():
                await connection.execute(migration.sql)
                await connection.execute(
                    sql("record_migration"), migration.version, migration.name, migration.checksum
                )
            log.info("migration_applied", version=migration.version, name=migration.name)
            done.append(migration)
        return done
    finally:
        await connection.execute(sql("unlock_migrations"), MIGRATION_LOCK_KEY)


async def schema_version(executor: Executor) -> int:
    """The highest migration applied (0 on a database never migrated)."""
    if not await executor.fetchval(sql("migrations_table_exists")):
        return 0
    return int(await executor.fetchval(sql("schema_version")))


async def server_version(executor: Executor) -> str:
    """The PostgreSQL server's version."""
    return str(await executor.fetchval(sql("server_version")))


async def ping(executor: Executor) -> None:
    """The cheapest round trip (the readiness probe)."""
    await executor.fetchval(sql("ping"))


async def database_exists(executor: Executor, name: str) -> bool:
    """Whether a database of this name exists on the server."""
    return bool(await executor.fetchval(sql("database_exists"), name))
