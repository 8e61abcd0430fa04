"""Writing a job's staging rows and issues: one transaction per batch, then the set-based
checks and the decision in one more."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Collection, Sequence
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

import asyncpg

from worker.errors import JobGone
from worker.model import STAGING_COLUMNS, Job, RowIssue, StagedRows
from worker.store.pool import Connection, timed
from worker.store.queries import sql


async def record_detection(
    pool: asyncpg.Pool,
    job_id: UUID,
    *,
    version_id: str | None,
    etag: str | None,
    size_bytes: int | None,
    encoding: str | None,
    detection: dict[str, Any],
    mapping: dict[str, Any] | None,
    mapping_confidence: float | None,
    headers: list[str],
) -> bool:
    """Mark the job PROCESSING with the object it reads (pinned) and what detection found;
    False when it is no longer PENDING or PROCESSING (cancelled, deleted)."""
    started = await pool.fetchval(
        sql("start_initial_job"),
        job_id,
        version_id,
        etag,
        size_bytes,
        encoding,
        detection,
        mapping,
        mapping_confidence,
        headers,
    )
    return started is not None


async def record_late_encoding(pool: asyncpg.Pool, job_id: UUID, encoding: dict[str, Any]) -> None:
    """The encoding of a file that was ASCII in its first chunk, decided where it stopped
    being ASCII (``encoding``: the detection summary's entry)."""
    await pool.execute(sql("record_late_encoding"), job_id, encoding["name"], encoding)


async def record_skipped(pool: asyncpg.Pool, job_id: UUID, skipped: dict[str, Any]) -> None:
    """What the reading skipped that is no row (:meth:`RowSource.skipped`)."""
    await pool.execute(sql("record_skipped"), job_id, skipped)


class BatchWriter:
    """Writes a job's batches on one connection: per batch one transaction that COPYs the
    rows, files their issues and advances the checkpoint, so a worker killed at any
    instant leaves all of a batch or none of it. One batch is in flight while the caller
    prepares the next; batches commit in order.

    Open with :meth:`open`; :meth:`write` starts a batch (after the previous one is
    committed), :meth:`wait` waits for the one in flight.
    """

    def __init__(self, connection: Connection, job_id: UUID):
        self.connection = connection
        self.job_id = job_id
        self._job_text = str(job_id)
        self._pending: asyncio.Task[None] | None = None

    @classmethod
    @asynccontextmanager
    async def open(cls, pool: asyncpg.Pool, job_id: UUID) -> AsyncIterator[BatchWriter]:
        """A writer on a connection of its own for as long as the block runs; on the way
        out a batch still in flight is let finish (or roll back), never left dangling."""
        async with pool.acquire() as connection:
            await connection.execute(sql("prepare_batch_session"))
            writer = cls(connection, job_id)
            try:
                yield writer
            finally:
                pending = writer._pending
                if pending is not None:
                    await asyncio.wait({pending})
                    if not pending.cancelled():
                        # The block ended before wait() could raise it: a failed batch is
                        # then a consequence of that error, not a second one to report.
                        pending.exception()
                # A connection lost mid-batch may already be detached from its proxy
                # (asyncpg then refuses every call): the error that ended the block is the
                # one to report, not this clean-up's.
                with contextlib.suppress(asyncpg.InterfaceError, OSError):
                    if not connection.is_closed():
                        await connection.execute(sql("reset_batch_session"))

    async def write(
        self,
        rows: StagedRows,
        issues: Sequence[RowIssue],
        *,
        checkpoint_row: int,
        processed_rows: int,
        bytes_read: int,
    ) -> None:
        """Wait for the batch in flight to commit, then start this one and return once
        its rows are sent: the server stores them while the caller prepares the next."""
        await self.wait()
        data = copy_text(self._job_text, rows) if len(rows) else b""
        sent = asyncio.Event()
        self._pending = asyncio.create_task(
            self._write(
                data,
                sent,
                issues,
                checkpoint_row=checkpoint_row,
                processed_rows=processed_rows,
                bytes_read=bytes_read,
            )
        )
        waiter = asyncio.ensure_future(sent.wait())
        try:
            # Returns early if the write fails before sending: wait() raises its error.
            await asyncio.wait({waiter, self._pending}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()

    async def wait(self) -> None:
        """Wait for the batch in flight (if any) to commit; its error if it failed."""
        pending, self._pending = self._pending, None
        if pending is not None:
            await pending

    async def _write(
        self,
        data: bytes,
        sent: asyncio.Event,
        issues: Sequence[RowIssue],
        *,
        checkpoint_row: int,
        processed_rows: int,
        bytes_read: int,
    ) -> None:
        connection = self.connection
        async with connection.transaction():
            # Issues and checkpoint first: the COPY, the long part, is then the last thing
            # before the commit, and the caller goes on as soon as its data is sent.
            await connection.execute(
                sql("record_batch"),
                self.job_id,
                [issue.key for issue in issues],
                [issue.type for issue in issues],
                [issue.field for issue in issues],
                [issue.message for issue in issues],
                [issue.row_number for issue in issues],
                checkpoint_row,
                processed_rows,
                bytes_read,
            )
            if data:
                await connection.copy_to_table(
                    "staging",
                    source=_chunks(data, sent),
                    columns=STAGING_COPY_COLUMNS,
                    format="text",
                )
            sent.set()


STAGING_COPY_COLUMNS = ("job_id", *STAGING_COLUMNS)
# PostgreSQL's COPY text format: tab between fields, \N for NULL, a backslash escape for
# the backslash itself and the characters that would end a field or a line.
_COPY_ESCAPES = (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r"))  # backslash first
_COPY_NULL = "\\N"


def copy_text(job_text: str, rows: StagedRows) -> bytes:
    """The batch as COPY text data for :data:`STAGING_COPY_COLUMNS`: whole columns are
    escaped and joined at once (C-level passes), not value by value."""
    count = len(rows)
    columns: list[Sequence[str]] = [
        [job_text] * count,
        list(map(str, rows.numbers)),
        ["\\\\x" + digest for digest in map(bytes.hex, rows.hashes)],
        _escaped(rows.raws),
    ]
    for values in rows.text_columns():
        escaped = _escaped(values)
        columns.append([value or _COPY_NULL for value in escaped] if "" in escaped else escaped)
    columns.append([value or _COPY_NULL for value in rows.phones_e164])
    columns.append(rows.statuses)
    lines = map("\t".join, zip(*columns, strict=True))
    return ("\n".join(lines) + "\n").encode()


def _escaped(values: list[str]) -> list[str]:
    """The values with COPY's backslash escapes (the list itself when none needs one).
    ``str.replace`` over the joined column: ``str.translate`` goes character by character
    through a table, which is ten times slower on text that is not ASCII."""
    joined = "\x00".join(values)  # NUL: never in text PostgreSQL stores
    if not ("\\" in joined or "\t" in joined or "\n" in joined or "\r" in joined):
        return values
    if joined.count("\x00") != len(values) - 1:
        return [_escape(value) for value in values]
    return _escape(joined).split("\x00")


def _escape(text: str) -> str:
    for char, escape in _COPY_ESCAPES:
        if char in text:
            text = text.replace(char, escape)
    return text


async def _chunks(data: bytes, sent: asyncio.Event) -> AsyncIterator[bytes]:
    yield data
    sent.set()  # asked for more: the data is written to the connection


async def finish_checks(
    pool: asyncpg.Pool,
    job_id: UUID,
    tenant: str,
    *,
    sha256: str,
    bytes_read: int,
    steps: dict[str, float] | None = None,
) -> Job:
    """After the last batch: the totals, the cross-row checks in SQL (duplicates in the
    file, emails the tenant already has), the rows' final status and the decision, in one
    durable transaction. Safe to run twice: every issue has a deterministic key. ``steps``
    gets each statement's seconds, for the flow's summary line."""
    steps = {} if steps is None else steps
    async with pool.acquire() as connection, connection.transaction():
        await plan_for_whole_job(connection)
        await connection.execute(sql("record_initial_totals"), job_id, sha256, bytes_read)
        with timed(steps, "collect_duplicates_s"):
            await collect_duplicates(connection, job_id)
        for name, args in (
            ("file_duplicate_issues", (job_id,)),
            ("link_duplicate_issues", (job_id,)),
            ("file_existing_contact_issues", (job_id, tenant)),
            ("mark_rows_with_open_issues", (job_id,)),
        ):
            with timed(steps, f"{name}_s"):
                await connection.execute(sql(name), *args)
        with timed(steps, "decide_job_s"):
            row = await connection.fetchrow(sql("decide_job"), job_id)
        if row is None:
            raise JobGone(f"job {job_id} was cancelled or deleted during its initial flow")
        return Job.from_record(row)


async def plan_for_whole_job(connection: Connection) -> None:
    """Plans linear in the job's size whatever the row estimates, until the caller's
    transaction ends (see the query's comment in ``db/queries/checks.sql``)."""
    await connection.execute(sql("plan_for_whole_job"))


async def raw_width(connection: Connection, job_id: UUID, headers: Sequence[str]) -> int:
    """How many cells the job's widest row holds: its header's, or a ragged row's."""
    widest = await connection.fetchval(sql("widest_ragged_row"), job_id)
    return max(len(headers), int(widest or 0))


# jsonb_build_object takes at most 100 arguments: 50 key/value pairs a call.
_PAIRS_PER_CALL = 50


def extra_fields_sql(width: int, mapped: Collection[int]) -> str:
    """A row's unmapped non-empty cells as a jsonb object keyed by header name (``$3``, the
    header as a jsonb array; ``column_N`` past its end): an SQL expression over ``s.raw``
    for the contacts' extra fields, made of integers and fixed text only."""
    pairs = [
        f"coalesce($3::jsonb ->> {index}, 'column_{index + 1}'),"
        f" nullif(ingest_raw_cell(s.raw, {index + 1}), '')"
        for index in range(width)
        if index not in mapped
    ]
    if not pairs:
        return "'{}'::jsonb"
    calls = [
        f"jsonb_build_object({', '.join(pairs[start : start + _PAIRS_PER_CALL])})"
        for start in range(0, len(pairs), _PAIRS_PER_CALL)
    ]
    return f"jsonb_strip_nulls({' || '.join(calls)})"


async def collect_duplicates(connection: Connection, job_id: UUID) -> None:
    """Find the job's duplicated live rows once (``duplicate_rows``, a temporary table of
    the caller's transaction) for the duplicate checks that follow."""
    await connection.execute(sql("create_duplicate_rows"))
    await connection.execute(sql("collect_duplicate_rows"), job_id)


async def recheck(connection: Connection, job_id: UUID, tenant: str) -> Job | None:
    """The cross-row checks again over the live rows after a review (inside the caller's
    transaction): file or re-open what is a problem now, resolve what no longer is, set
    each live row's status, and decide. None if the job left review meanwhile."""
    await connection.execute(sql("resolve_contact_conflicts"), job_id)
    await collect_duplicates(connection, job_id)
    await connection.execute(sql("file_duplicate_issues"), job_id)
    # Resolve before unlinking: a resolved duplicate keeps the rows it concerned, as history.
    await connection.execute(sql("resolve_duplicate_issues"), job_id)
    await connection.execute(sql("unlink_stale_duplicate_items"), job_id)
    await connection.execute(sql("link_duplicate_issues"), job_id)
    await connection.execute(sql("file_existing_contact_issues"), job_id, tenant)
    await connection.execute(sql("resolve_existing_contact_issues"), job_id, tenant)
    await connection.execute(sql("mark_rows_with_open_issues"), job_id)
    await connection.execute(sql("mark_rows_without_open_issues"), job_id)
    row = await connection.fetchrow(sql("decide_job"), job_id)
    return Job.from_record(row) if row is not None else None
