"""What jobs show says of a job after its initial flow: progress, issues, a file wrong as a
whole."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest

from tests.conftest import AwsResources, cli_env, run_cli
from tests.support import MIXED, csv_bytes, drain, submit
from worker.services import Services
from worker.store.jobs import fetch_job


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (
            b"Name,Company,Phone\r\nAna Silva,Acme,912345678\r\nBo Ng,Lda,913456789\r\n",
            "no column could be mapped to email, first_name, last_name (the file's columns: "
            "'Name', 'Company', 'Phone'); submit it again with --mapping",
        ),
        (b"email,first_name,last_name,company\r\n", "the file has no data rows: only a header"),
        (
            b"email,first_name,last_name,company\r\n\r\n,,,\r\n\r\n",
            "the file has no data rows: only a header",
        ),
    ],
    ids=["no-email-column", "header-only", "blank-rows"],
)
async def test_a_file_wrong_as_a_whole_is_one_clear_outcome(
    services: Services, aws: AwsResources, data: bytes, reason: str
) -> None:
    job_id = await submit(services, aws, data, key="up/whole.csv")
    await drain(services)
    job = await fetch_job(services.pool, job_id)
    assert job is not None
    assert job.status == "FAILED" and reason in job.error, job.error
    # One outcome, not an issue on every row.
    assert (
        await services.pool.fetchval("SELECT count(*) FROM issues WHERE job_id = $1", job_id) == 0
    )
    assert aws.counts(aws.queues.dlq_url) == (0, 0)
    shown = run_cli(["jobs", "show", str(job_id)], cli_env(services.settings))
    assert reason in shown.stdout, shown.stdout


async def test_jobs_show_reports_status_progress_and_issues(
    services: Services, aws: AwsResources
) -> None:
    job_id = await submit(services, aws, csv_bytes(MIXED))
    await drain(services)
    env = cli_env(services.settings)
    shown = await asyncio.to_thread(run_cli, ["jobs", "show", str(job_id)], env)
    assert shown.returncode == 0, shown.stderr
    assert "status      NEEDS_REVIEW" in shown.stdout
    assert "progress    9 rows processed (100.0%) of 9" in shown.stdout
    assert "INVALID_EMAIL      row 3: 'bad-email' has no @" in shown.stdout
    as_json = await asyncio.to_thread(run_cli, ["jobs", "show", str(job_id), "--json"], env)
    report = json.loads(as_json.stdout)
    assert (report["status"], report["progress_percent"], report["total_rows"]) == (
        "NEEDS_REVIEW",
        100.0,
        9,
    )
    assert {issue["type"] for issue in report["open_issues"]} >= {
        "INVALID_EMAIL",
        "DUPLICATE_IN_FILE",
    }
    missing = await asyncio.to_thread(run_cli, ["jobs", "show", str(uuid.uuid4())], env)
    assert missing.returncode == 1 and "no job" in missing.stderr
