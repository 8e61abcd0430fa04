"""The asyncpg pool: jsonb decoded to Python, a clear error when the database is unreachable."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from worker.errors import StartupCheckError
from worker.settings import Settings, redact_url


async def _init_connection(connection: asyncpg.Connection) -> None:
    for type_name in ("json", "jsonb"):
        await connection.set_type_codec(
            type_name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


@contextmanager
def timed(steps: dict[str, float], step: str) -> Iterator[None]:
    """Record the seconds the block takes as ``steps[step]`` (a flow's summary line says
    where a transaction's time went, statement by statement)."""
    started = time.monotonic()
    try:
        yield
    finally:
        steps[step] = time.monotonic() - started


# How long closing the pool may wait for the server's goodbye before cutting connections.
POOL_CLOSE_TIMEOUT_S = 5.0

APPLICATION_NAME = f"ingest-worker {socket.gethostname()[:40]}:{os.getpid()}"


def connect_kwargs(settings: Settings) -> dict[str, Any]:
    """Arguments shared by the pool and single connections."""
    return {
        "dsn": settings.database_url.get_secret_value(),
        "timeout": settings.db_connect_timeout_s,
        # Names the process in pg_stat_activity: `jobs show` says which worker holds a job.
        "server_settings": {"application_name": APPLICATION_NAME},
    }


async def create_pool(settings: Settings) -> asyncpg.Pool:
    """Open the pool, or raise StartupCheckError naming INGEST_DATABASE_URL."""
    try:
        pool = await asyncpg.create_pool(
            min_size=settings.db_pool_min_size,
            max_size=settings.db_pool_max_size,
            init=_init_connection,
            **connect_kwargs(settings),
        )
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        raise database_unreachable(settings, error) from error
    return pool


async def close_pool(pool: asyncpg.Pool, timeout_s: float = POOL_CLOSE_TIMEOUT_S) -> None:
    """Close the pool, its connections told goodbye; those that cannot be within
    ``timeout_s`` (a server or network that stopped answering) are cut instead, so a
    stopping worker never waits on them forever."""
    try:
        await asyncio.wait_for(pool.close(), timeout_s)
    except TimeoutError:
        pool.terminate()


async def connect(settings: Settings) -> asyncpg.Connection:
    """One connection outside the pool (migrations, CLI commands)."""
    try:
        connection = cast(asyncpg.Connection, await asyncpg.connect(**connect_kwargs(settings)))
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        raise database_unreachable(settings, error) from error
    await _init_connection(connection)
    return connection


def database_unreachable(settings: Settings, error: BaseException) -> StartupCheckError:
    """The one-line error for a database that cannot be reached."""
    reason = str(error) or type(error).__name__
    url = redact_url(settings.database_url.get_secret_value())
    return StartupCheckError("INGEST_DATABASE_URL", f"cannot connect to {url}: {reason}")


# What runs a statement: the pool (one statement, any connection) or one connection.
Connection = asyncpg.Connection | PoolConnectionProxy
Executor = asyncpg.Pool | asyncpg.Connection | PoolConnectionProxy
