"""The sweep inside the daemon: a worker sends again, by itself, the jobs nothing would move."""

from __future__ import annotations

from tests.conftest import AwsResources, make_settings
from tests.support import eventually, job_status_is, new_worker, running, stranded_job
from worker.services import open_services


async def test_a_worker_sweeps_by_itself(database_url: str, aws: AwsResources) -> None:
    settings = make_settings(database_url, aws, sweep_interval_s=0.5, sweep_after_s=1)
    async with open_services(settings) as services:
        job_id = await stranded_job(services, aws)
        worker = new_worker(services, None, settings)
        async with running(worker):
            await eventually(
                lambda: job_status_is(services.pool, job_id, "COMPLETED"), 30, "the swept job"
            )
