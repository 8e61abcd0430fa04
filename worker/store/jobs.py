"""Creating and reading jobs (the producer side of the jobs table)."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import asyncpg

from worker.store.queries import sql


async def create_job(connection: asyncpg.Pool | asyncpg.Connection, **job: Any) -> UUID:
    """Insert a PENDING job for an uploaded object and return its id (the existing job's,
    when the tenant already used the idempotency key); takes the keyword arguments of
    :func:`create_or_get_job`."""
    job_id, _ = await create_or_get_job(connection, **job)
    return job_id


async def create_or_get_job(
    connection: asyncpg.Pool | asyncpg.Connection,
    *,
    user_id: str,
    bucket: str,
    key: str,
    version_id: str | None = None,
    etag: str | None = None,
    original_filename: str | None = None,
    options: dict[str, Any] | None = None,
    idempotency_key: str | None = None,
) -> tuple[UUID, bool]:
    """The job's id and True if this call created it, False if the tenant's
    ``idempotency_key`` already named one (then nothing is inserted)."""
    row = await connection.fetchrow(
        sql("insert_job"),
        user_id,
        bucket,
        key,
        version_id,
        etag,
        original_filename,
        # As text: works whether or not the connection registered a jsonb codec.
        json.dumps(options or {}),
        idempotency_key,
    )
    if row is None:
        # A concurrent insert with the same key committed after this statement's snapshot.
        existing = await connection.fetchrow(
            sql("job_by_idempotency_key"), user_id, idempotency_key
        )
        if existing is None:
            raise LookupError(f"job with idempotency key {idempotency_key!r} vanished")
        return existing["id"], False
    return row["id"], bool(row["created"])


async def open_issues(
    connection: asyncpg.Pool | asyncpg.Connection, job_id: UUID, limit: int = 100
) -> list[dict[str, Any]]:
    """The job's unresolved issues, each with the row numbers it concerns."""
    rows = await connection.fetch(sql("job_open_issues"), job_id, limit)
    return [dict(row) for row in rows]


async def fetch_job(
    connection: asyncpg.Pool | asyncpg.Connection, job_id: UUID
) -> dict[str, Any] | None:
    """The job's row as a dict, or None."""
    row = await connection.fetchrow(sql("fetch_job"), job_id)
    return dict(row) if row is not None else None
