"""jobs exports as a person runs it: pre-signed URLs that download the files over HTTP."""

from __future__ import annotations

import asyncio

from tests.conftest import AwsResources, cli_env, run_cli
from tests.integration.test_exports import HEADER, _http_get, _parse
from tests.support import csv_bytes, drain, submit
from worker.jobs import export_links
from worker.services import Services


async def test_presigned_urls_download_the_exports_over_http(
    services: Services, aws: AwsResources
) -> None:
    job_id = await submit(
        services, aws, csv_bytes([HEADER, ["ana@x.pt", "Ana", "Silva", "Acme", "", ""]])
    )
    await drain(services)  # clean file: consolidated, COMPLETED, exported
    answer = await export_links(
        services.pool,
        services.s3,
        services.queue,
        services.settings,
        job_id,
        tenant="tenant-1",
        actor="test",
    )
    assert (answer["status"], answer["state"]) == ("COMPLETED", "written")
    by_kind = {entry["kind"]: entry for entry in answer["files"]}
    lines = _parse(await asyncio.to_thread(_http_get, by_kind["all"]["url"]))
    assert lines[1][:7] == ["ana@x.pt", "Ana", "Silva", "Acme", "", "", "2"]
    assert lines[1][7] == "SUCCESS"
    header_only = _parse(await asyncio.to_thread(_http_get, by_kind["issues"]["url"]))
    assert len(header_only) == 1
    # Another tenant's request is no job at all.
    stranger = run_cli(
        ["jobs", "exports", str(job_id), "--tenant", "tenant-2"], cli_env(services.settings)
    )
    assert stranger.returncode == 1
    assert f"no job {job_id} for tenant tenant-2" in stranger.stderr
    shown = run_cli(["jobs", "exports", str(job_id), "--json"], cli_env(services.settings))
    assert shown.returncode == 0, shown.stderr
    assert '"state": "written"' in shown.stdout and "Signature=" in shown.stdout
