"""Consolidation into contacts: exact, atomic, serialised per tenant, tenant-isolated."""

from __future__ import annotations

import asyncio
import uuid

from tests.conftest import AwsResources
from tests.support import csv_bytes, drain, submit
from worker.flows.base import FlowContext
from worker.flows.consolidate import run_consolidation
from worker.flows.initial import run_initial
from worker.review import Review
from worker.router import Route
from worker.services import Services
from worker.store.jobs import create_job, fetch_job

HEADER = ["E-mail", "Nome", "Apelido", "Empresa", "Telefone", "Cidade"]


def _rows(*emails: str) -> bytes:
    return csv_bytes(
        [HEADER]
        + [[email, "Ana", "Silva", "Acme", "+351 912 345 678", "Lisboa"] for email in emails]
    )


async def _context(services: Services, job_id: uuid.UUID, route: Route) -> FlowContext:
    job = await fetch_job(services.pool, job_id)
    assert job is not None
    return FlowContext(
        job=job,
        route=route,
        pool=services.pool,
        s3=services.s3,
        settings=services.settings,
        stopping=asyncio.Event(),
    )


async def _ready_job(services: Services, aws: AwsResources, tenant: str, *emails: str) -> uuid.UUID:
    """A job read and checked (CONSOLIDATING), not consolidated yet."""
    key = f"up/{uuid.uuid4().hex}.csv"
    aws.s3.put_object(Bucket=aws.bucket, Key=key, Body=_rows(*emails))
    job_id = await create_job(services.pool, tenant=tenant, bucket=aws.bucket, key=key)
    await run_initial(await _context(services, job_id, Route.INITIAL))
    job = await fetch_job(services.pool, job_id)
    assert job is not None and job.status == "CONSOLIDATING"
    return job_id


async def test_a_clean_file_ends_completed_with_exactly_its_contacts(
    services: Services, aws: AwsResources
) -> None:
    job_id = await submit(services, aws, _rows("ana@x.pt", "bo@x.pt", "cy@x.pt"))
    await drain(services)
    job = await fetch_job(services.pool, job_id)
    assert job is not None
    assert (job.status, job.valid_rows, job.unresolved_issues) == ("COMPLETED", 3, 0)
    assert job.finished_at is not None
    contacts = await services.pool.fetch(
        "SELECT user_id, email, first_name, phone, extra, job_id FROM contacts ORDER BY email"
    )
    assert [dict(row) for row in contacts] == [
        {
            "user_id": "tenant-1",
            "email": email,
            "first_name": "Ana",
            "phone": "+351912345678",
            "extra": {"Cidade": "Lisboa"},
            "job_id": job_id,
        }
        for email in ("ana@x.pt", "bo@x.pt", "cy@x.pt")
    ]
    statuses = await services.pool.fetch(
        "SELECT DISTINCT s.status, ingest_row_status(s.status, j.status) AS shown"
        " FROM staging s JOIN jobs j ON j.id = s.job_id WHERE s.job_id = $1",
        job_id,
    )
    # Stored READY (a completing consolidation rewrites no row), shown as SUCCESS.
    assert [(row["status"], row["shown"]) for row in statuses] == [("READY", "SUCCESS")]
    rows = await Review(services.pool, "tenant-1", "maria").rows(job_id, status="SUCCESS")
    assert [row["row_number"] for row in rows] == [2, 3, 4]  # file lines (1: the header)
    assert await Review(services.pool, "tenant-1", "maria").rows(job_id, status="READY") == []


async def test_two_jobs_of_one_tenant_consolidating_at_once_insert_each_email_once(
    services: Services, aws: AwsResources
) -> None:
    first = await _ready_job(services, aws, "tenant-1", "shared@x.pt", "only1@x.pt")
    second = await _ready_job(services, aws, "tenant-1", "shared@x.pt", "only2@x.pt")
    await asyncio.gather(
        run_consolidation(await _context(services, first, Route.CONSOLIDATE)),
        run_consolidation(await _context(services, second, Route.CONSOLIDATE)),
    )
    emails = await services.pool.fetch(
        "SELECT email_normalized, count(*) FROM contacts WHERE user_id = 'tenant-1'"
        " GROUP BY 1 ORDER BY 1"
    )
    assert [(row[0], row[1]) for row in emails] == [
        ("only1@x.pt", 1),
        ("only2@x.pt", 1),
        ("shared@x.pt", 1),
    ]
    jobs = {job_id: await fetch_job(services.pool, job_id) for job_id in (first, second)}
    statuses = sorted(job.status for job in jobs.values() if job)
    assert statuses == ["COMPLETED", "NEEDS_REVIEW"]
    (loser,) = [job_id for job_id, job in jobs.items() if job and job.status == "NEEDS_REVIEW"]
    issues = await services.pool.fetch(
        "SELECT i.type, ii.row_number FROM issues i JOIN issue_items ii ON ii.issue_id = i.id"
        " WHERE i.job_id = $1",
        loser,
    )
    assert [(row["type"], row["row_number"]) for row in issues] == [("CONTACT_CONFLICT", 2)]
    row_statuses = await services.pool.fetch(
        "SELECT row_number, status FROM staging WHERE job_id = $1 ORDER BY 1", loser
    )
    assert [(row[0], row[1]) for row in row_statuses] == [(2, "ISSUE"), (3, "SUCCESS")]


async def test_two_tenants_both_get_the_same_email(services: Services, aws: AwsResources) -> None:
    first = await _ready_job(services, aws, "tenant-1", "shared@x.pt")
    second = await _ready_job(services, aws, "tenant-2", "shared@x.pt")
    await asyncio.gather(
        run_consolidation(await _context(services, first, Route.CONSOLIDATE)),
        run_consolidation(await _context(services, second, Route.CONSOLIDATE)),
    )
    owners = await services.pool.fetch(
        "SELECT user_id FROM contacts WHERE email_normalized = 'shared@x.pt' ORDER BY 1"
    )
    assert [row[0] for row in owners] == ["tenant-1", "tenant-2"]
    for job_id in (first, second):
        job = await fetch_job(services.pool, job_id)
        assert job is not None and job.status == "COMPLETED"


async def test_consolidation_is_all_or_nothing(services: Services, aws: AwsResources) -> None:
    job_id = await _ready_job(services, aws, "tenant-1", "a@x.pt", "b@x.pt")
    # Break the last statement of the transaction: nothing of it may remain.
    await services.pool.execute(
        "ALTER TABLE jobs ADD CONSTRAINT no_completion CHECK (status <> 'COMPLETED')"
    )
    context = await _context(services, job_id, Route.CONSOLIDATE)
    try:
        await run_consolidation(context)
    except Exception as error:
        assert "no_completion" in str(error)
    else:
        raise AssertionError("the consolidation should have failed")
    assert await services.pool.fetchval("SELECT count(*) FROM contacts") == 0
    statuses = await services.pool.fetch(
        "SELECT DISTINCT status FROM staging WHERE job_id = $1", job_id
    )
    assert [row[0] for row in statuses] == ["READY"]
    await services.pool.execute("ALTER TABLE jobs DROP CONSTRAINT no_completion")
    await run_consolidation(await _context(services, job_id, Route.CONSOLIDATE))
    assert await services.pool.fetchval("SELECT count(*) FROM contacts") == 2
