"""The model's words equal the database's: every enum holds exactly the values its column's
CHECK constraint allows, and a job row becomes a Job."""

from __future__ import annotations

import enum
import json
import re
import uuid

import asyncpg
import pytest

from worker.model import IssueType, Job, JobStatus, ReviewAction, RowStatus
from worker.store.jobs import create_job

_CHECKS = {
    "jobs_status_check": JobStatus,
    "staging_status_check": RowStatus,
    "issues_type_check": IssueType,
    "review_actions_action_check": ReviewAction,
}


@pytest.mark.parametrize("constraint", sorted(_CHECKS))
async def test_enum_equals_check_constraint(db: asyncpg.Connection, constraint: str) -> None:
    definition = await db.fetchval(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = $1", constraint
    )
    assert definition is not None, f"no constraint {constraint}"
    allowed = set(re.findall(r"'([^']+)'::text", definition))
    members: type[enum.StrEnum] = _CHECKS[constraint]
    assert allowed == {member.value for member in members}


async def test_job_from_a_jobs_row(db: asyncpg.Connection) -> None:
    await db.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    job_id = await create_job(db, tenant="acme", bucket="in", key="a.csv", options={"x": 1})
    job = Job.from_record(await db.fetchrow("SELECT * FROM jobs WHERE id = $1", job_id))
    assert job.id == job_id
    assert job.tenant == "acme"
    assert job.status is JobStatus.PENDING
    assert job.options == {"x": 1}
    assert job.exports == {}
    assert job.created_at is not None
    assert not job.reprocess_pending
    assert isinstance(job.id, uuid.UUID)
