"""Writing staging batches: what PostgreSQL stores is exactly what validation produced."""

from __future__ import annotations

import asyncio
import random
import uuid

import asyncpg
import pytest

from worker.model import STAGING_COLUMNS, IssueType, RowIssue
from worker.sources.mapping import map_columns
from worker.store.staging import BatchWriter
from worker.validation import RowValidator

HEADERS = ["email", "first_name", "last_name", "company", "phone", "notes"]
# Everything COPY's text format must escape or tell apart from NULL: backslashes (also
# before N and before x), tabs, CR, LF, CRLF inside quoted cells, the raw separators.
CELLS = {
    "email": ["a@x.io", " B@Y.ORG ", "", "back\\slash@x.io", "no-at", "tab\t@x.io"],
    "first_name": ["Ana", "ANA", "maría", "\\N", "Jean  Luc", ""],
    "last_name": ["O'BRIEN", "van der Berg", "x\x1fy", "\\x00ff", "Nguyễn", "a\\"],
    "company": ["Acme", "Acme\r\nLda", "", "C\\tC", "\x1eC", "Café Ñandú"],
    "phone": ["", "+351 912 345 678", "+44 (0)20 7946 0018", "912345678", "\\"],
    "notes": ["", "line\nbreak", "cr\rhere", "tab\there", "end\\", "\\.", "plain"],
}


async def _job(connection: asyncpg.Connection) -> uuid.UUID:
    job_id: uuid.UUID = await connection.fetchval(
        "INSERT INTO jobs (user_id, source_bucket, source_key, status)"
        " VALUES ('t', 'b', 'k', 'PROCESSING') RETURNING id"
    )
    return job_id


async def test_stored_rows_equal_the_validated_records(
    db: asyncpg.Connection, database_url: str
) -> None:
    job_id = await _job(db)
    rng = random.Random(11)
    rows = [[rng.choice(CELLS[name]) for name in HEADERS] for _ in range(600)]
    numbers = list(range(2, len(rows) + 2))
    validator = RowValidator(
        job_id, map_columns(HEADERS, []).columns, HEADERS, {"default_country": "PT"}
    )
    staged, issues = validator.validate_columns(numbers, [list(row) for row in rows])
    assert issues, "the sample has rows with problems"
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    try:
        async with BatchWriter.open(pool, job_id) as writer:
            await writer.write(
                staged,
                issues,
                checkpoint_row=numbers[-1],
                processed_rows=len(rows),
                bytes_read=1234,
            )
            await writer.wait()
    finally:
        await pool.close()
    stored = await db.fetch(
        f"SELECT {', '.join(STAGING_COLUMNS)} FROM staging WHERE job_id = $1 ORDER BY row_number",
        job_id,
    )
    assert [tuple(record) for record in stored] == staged.records()
    filed = await db.fetch(
        "SELECT i.issue_key, i.type, i.field, i.message, ii.row_number FROM issues i"
        " JOIN issue_items ii ON ii.issue_id = i.id WHERE i.job_id = $1 ORDER BY i.issue_key",
        job_id,
    )
    assert [tuple(record) for record in filed] == sorted(
        (issue.key, issue.type, issue.field, issue.message, issue.row_number) for issue in issues
    )
    job = await db.fetchrow(
        "SELECT checkpoint_row, processed_rows, bytes_read FROM jobs WHERE id = $1", job_id
    )
    assert tuple(job) == (numbers[-1], len(rows), 1234)


async def test_a_failed_batch_leaves_nothing_and_stops_the_next(
    db: asyncpg.Connection, database_url: str
) -> None:
    """Batch 1 commits; batch 2 fails in the server (a row number already stored): none of
    its rows, issues or checkpoint remain, and the writer reports the error."""
    job_id = await _job(db)
    validator = RowValidator(job_id, map_columns(HEADERS, []).columns, HEADERS)
    first, first_issues = validator.validate_columns(
        [2, 3], [["a@x.io", "A", "B", "C", "", ""]] * 2
    )
    clash, _ = validator.validate_columns([4, 3], [["b@x.io", "", "B", "C", "", ""]] * 2)
    clash_issue = [RowIssue(4, IssueType.MISSING_FIELD, "first_name", "first name is required")]
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    try:
        async with BatchWriter.open(pool, job_id) as writer:
            await writer.write(
                first, first_issues, checkpoint_row=3, processed_rows=2, bytes_read=10
            )
            await writer.write(
                clash, clash_issue, checkpoint_row=4, processed_rows=4, bytes_read=20
            )
            with pytest.raises(asyncpg.UniqueViolationError):
                await writer.wait()
        # The connection went back to the pool with the server's durability setting.
        async with pool.acquire() as connection:
            assert await connection.fetchval("SHOW synchronous_commit") == "on"
    finally:
        await pool.close()
    assert await db.fetchval(
        "SELECT array_agg(row_number ORDER BY row_number) FROM staging WHERE job_id = $1", job_id
    ) == [2, 3]
    assert await db.fetchval("SELECT count(*) FROM issues WHERE job_id = $1", job_id) == 0
    job = await db.fetchrow("SELECT checkpoint_row, processed_rows FROM jobs WHERE id = $1", job_id)
    assert tuple(job) == (3, 2)


async def test_the_writer_returns_while_the_server_stores_the_batch(
    db: asyncpg.Connection, database_url: str
) -> None:
    """write() returns once the rows are sent, before the batch commits: the caller
    prepares the next batch meanwhile. Shown with the batch's row held by another,
    uncommitted insert: the server waits on it inside the COPY, yet write() has returned;
    once that insert rolls back the batch commits."""
    job_id = await _job(db)
    validator = RowValidator(job_id, map_columns(HEADERS, []).columns, HEADERS)
    staged, issues = validator.validate_columns([2], [["a@x.io", "A", "B", "C", "", ""]])
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    try:
        async with BatchWriter.open(pool, job_id) as writer:
            blocker = db.transaction()
            await blocker.start()
            await db.execute(
                "INSERT INTO staging (job_id, row_number, row_hash, raw, status)"
                " VALUES ($1, 2, '\\x00', 'held', 'READY')",
                job_id,
            )
            try:
                await asyncio.wait_for(
                    writer.write(staged, issues, checkpoint_row=2, processed_rows=1, bytes_read=1),
                    10,
                )
                await asyncio.sleep(0.3)
                assert writer._pending is not None and not writer._pending.done()
            finally:
                await blocker.rollback()
            await asyncio.wait_for(writer.wait(), 10)
    finally:
        await pool.close()
    stored = await db.fetch("SELECT raw FROM staging WHERE job_id = $1", job_id)
    assert [record["raw"] for record in stored] == [staged.raws[0]]
