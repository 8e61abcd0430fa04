"""Plans in production's steady state: a database that already holds an analyzed job.

There the planner knows nothing of the next job's rows (its id is in no statistics) and
estimates one row for every ``job_id = $1``: a plan that probes another per-row set once
per row turns a 100k-row job into minutes. This test builds that state (job A loaded,
``ANALYZE``d, autovacuum off), then takes job B of 100k rows with ~5 % issue rows through
initial -> review -> reprocess -> consolidation -> exports while auto_explain reports, as
notices to the worker's own connections, the executed plan of every statement it runs
with its actual row counts. Each plan's work (the rows every node produced or filtered
out, times its loops) must stay within a linear bound of the job's size.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from tests.conftest import AwsResources
from tests.plans import nested_probes, plan_work
from tests.support import drain, submit
from worker.retention import purge
from worker.review import Review
from worker.services import Services, open_services
from worker.settings import Settings
from worker.store import pool as pool_module
from worker.store.jobs import fetch_job
from worker.store.queries import sql

ROWS = 100_000
HEADER = ["Email", "First name", "Last name", "Company", "Phone", "City"]
# A plan may touch each of the job's rows, issue links and issues this many times (a hash
# join reads both sides once; a sort-merge reads them once more) plus a fixed allowance.
WORK_PER_ROW = 12
WORK_ALLOWANCE = 20_000
# A person's action on one row touches that row, not the job.
SINGLE_ROW_QUERIES = ("review_lock_row", "review_edit_row", "review_set_row_status")
SINGLE_ROW_WORK = 10


def contact_file(rows: int, tag: str) -> tuple[bytes, int]:
    """A contact file with ~5 % issue rows: invalid emails (1 in 50), duplicated emails
    (pairs, 1 in 100) and the tenant's existing contacts (1 in 100). Returns the bytes and
    the number of rows expected to have issues."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    with_issues = 0
    for i in range(rows):
        email = f"{tag}{i}@example.com"
        if i % 50 == 7:
            email = f"{tag}{i}-at-example.com"
            with_issues += 1
        elif i % 100 == 31:
            email = f"{tag}{i - 1}@example.com"  # the row before holds it too
            with_issues += 2
        elif i % 100 == 55:
            email = f"existing{i}@example.com"
            with_issues += 1
        writer.writerow([email, f"First{i}", f"Last{i}", f"Company {i % 977}", "", "Lisboa"])
    return out.getvalue().encode(), with_issues


@dataclass
class PlanLog:
    """Every plan auto_explain reported on the worker's connections."""

    plans: list[dict[str, Any]] = field(default_factory=list)

    def listener(self, _connection: object, message: asyncpg.PostgresLogMessage) -> None:
        text = message.message or ""
        if not text.startswith("duration:"):
            return
        body = text.split("\n", 1)[1] if "\n" in text else ""
        try:
            self.plans.append(json.loads(body))
        except json.JSONDecodeError:
            return


@pytest.fixture
async def explained(
    db: asyncpg.Connection, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[Services, PlanLog]]:
    """The worker's services with auto_explain on every connection they open: the settings
    are the test database's defaults (a pooled connection's RESET ALL keeps them) and each
    connection passes its notices to the plan log."""
    name = await db.fetchval("SELECT current_database()")
    for setting, value in (
        ("session_preload_libraries", "auto_explain"),
        ("auto_explain.log_min_duration", "0"),
        ("auto_explain.log_analyze", "on"),
        ("auto_explain.log_timing", "off"),
        ("auto_explain.log_nested_statements", "on"),
        ("auto_explain.log_format", "json"),
        ("auto_explain.log_level", "notice"),
        # A quadratic plan fails the test in a minute instead of running for hours.
        ("statement_timeout", "30s"),
    ):
        await db.execute(f"ALTER DATABASE \"{name}\" SET {setting} = '{value}'")
    log = PlanLog()
    create_pool = asyncpg.create_pool

    async def listen(connection: asyncpg.Connection) -> None:
        # On every acquire: a pooled connection's reset drops its log listeners.
        connection.add_log_listener(log.listener)

    def listening_pool(*args: Any, **kwargs: Any) -> Any:
        return create_pool(*args, setup=listen, **kwargs)

    monkeypatch.setattr(pool_module.asyncpg, "create_pool", listening_pool)
    async with open_services(settings) as services:
        yield services, log


async def steady_state(db: asyncpg.Connection, services: Services, aws: AwsResources) -> None:
    """Job A (another tenant, same shape) loaded, its tenant's contacts in, all analyzed."""
    for table in ("staging", "issues", "issue_items", "contacts", "jobs"):
        await db.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = off)")
    data, _ = contact_file(ROWS, "a")
    job_a = await submit(services, aws, data, "up/a.csv", tenant="tenant-a")
    await drain(services)
    job = await fetch_job(services.pool, job_a)
    assert job is not None and job.status == "NEEDS_REVIEW"
    await db.execute(
        "INSERT INTO contacts (user_id, email, email_normalized)"
        " SELECT 'tenant-a', 'c' || g || '@example.org', 'c' || g || '@example.org'"
        " FROM generate_series(1, $1) g",
        ROWS,
    )
    await db.execute("ANALYZE")


@pytest.mark.timeout(600)
# The plan log listens on pooled connections for their whole life, on purpose.
@pytest.mark.filterwarnings("ignore:.*active log listener")
async def test_a_second_job_keeps_linear_plans_through_its_whole_life(
    db: asyncpg.Connection,
    services: Services,
    aws: AwsResources,
    explained: tuple[Services, PlanLog],
) -> None:
    await steady_state(db, services, aws)
    worker_services, plans = explained
    # Job B: the tenant already has the emails of the "existing" rows.
    await db.execute(
        "INSERT INTO contacts (user_id, email, email_normalized)"
        " SELECT 'tenant-b', e, e FROM (SELECT 'existing' || g || '@example.com' AS e"
        " FROM generate_series(55, $1, 100) g) s",
        ROWS,
    )
    data, with_issues = contact_file(ROWS, "b")
    started = time.monotonic()
    job_b = await submit(worker_services, aws, data, "up/b.csv", tenant="tenant-b")
    await drain(worker_services)
    job = await fetch_job(worker_services.pool, job_b)
    assert job is not None
    assert (job.status, job.issue_rows) == ("NEEDS_REVIEW", with_issues)

    # A person fixes some rows, discards some and keeps one of a duplicate pair ...
    review = Review(worker_services.pool, "tenant-b", "maria", worker_services.queue)
    fixed = [i + 2 for i in range(7, 2_000, 50)]  # row numbers: the header is line 1
    for row_number in fixed:
        await review.edit(job_b, row_number, {"email": f"fixed{row_number}@example.com"})
    for row_number in range(57, 2_000, 100):  # existing contacts: discarded
        await review.discard(job_b, row_number, note="already a customer")
    listed = await review.issues(job_b, page_size=10_000)
    for issue in listed:
        if issue["type"] == "DUPLICATE_IN_FILE" and issue["rows"][0] < 2000:
            await review.accept(job_b, issue["number"], "keep", keep_row=issue["rows"][0])
    assert await review.rows(job_b, status="ISSUE")
    # ... and the rest of the issue rows goes out in bulk (what a person would do through
    # many discards; the statements under test are the flows', not the review's).
    await worker_services.pool.execute(
        "UPDATE staging SET status = 'DISCARD' WHERE job_id = $1 AND status = 'ISSUE'"
        " AND row_number > 2000",
        job_b,
    )
    await review.request_reprocess(job_b)
    await drain(worker_services)
    job = await fetch_job(worker_services.pool, job_b)
    assert job is not None
    assert job.status == "COMPLETED", (job.status, job.unresolved_issues)
    assert job.exports["state"] == "written"
    scale = await db.fetchval(
        "SELECT (SELECT count(*) FROM staging WHERE job_id = $1)"
        " + (SELECT count(*) FROM issue_items WHERE job_id = $1)"
        " + (SELECT count(*) FROM issues WHERE job_id = $1)",
        job_b,
    )
    # Retention, a day later: the job's rows and links go, by the job's keys.
    purged = await purge(
        worker_services.pool,
        worker_services.s3,
        worker_services.settings,
        completed_days=0,
        failed_days=0,
        now=datetime.now(UTC) + timedelta(days=1),
    )
    assert [(p.job_id, p.staging_rows) for p in purged] == [(job_b, ROWS)]
    elapsed = time.monotonic() - started

    bound = WORK_PER_ROW * scale + WORK_ALLOWANCE
    assert len(plans.plans) > 50, "auto_explain reported no plans"
    single_row = {sql(name).strip() for name in SINGLE_ROW_QUERIES}
    over: list[str] = []
    for entry in plans.plans:
        text = entry.get("Query Text", "").strip()
        query = re.sub(r"\s+", " ", text)[:160]
        plan = entry["Plan"]
        work = plan_work(plan)
        probes = nested_probes(plan)
        limit = SINGLE_ROW_WORK if text in single_row else bound
        if work > limit or probes:
            over.append(f"work {work} (bound {limit}) {probes}: {query}")
    assert not over, "\n".join(over)
    # Each big statement was seen (the test watched what it means to watch).
    texts = " ".join(entry.get("Query Text", "") for entry in plans.plans)
    assert all(query in texts for query in single_row)
    for marker in (
        "status = 'ISSUE'",
        "INSERT INTO contacts",
        "issue_items",
        "reprocess_fields",
        "DELETE FROM staging",
    ):
        assert marker in texts, marker
    assert elapsed < 300
