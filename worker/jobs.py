"""``ingest-worker jobs show JOB``: where a job stands, for a person or a script."""

from __future__ import annotations

import json
from typing import Any, TextIO
from uuid import UUID

import asyncpg

from worker.store.jobs import fetch_job, open_issues

_FINISHED_READING = frozenset({"NEEDS_REVIEW", "CONSOLIDATING", "COMPLETED"})


def progress_percent(job: dict[str, Any]) -> float | None:
    """How far the job has read its file: exact once it has, else from bytes read."""
    if job["status"] in _FINISHED_READING:
        return 100.0
    size = job.get("source_size_bytes")
    if size:
        read = float(job.get("bytes_read") or 0)
        return round(min(100.0, 100.0 * read / float(size)), 1)
    return None


async def job_report(
    pool: asyncpg.Pool, job_id: UUID, issue_limit: int = 20
) -> dict[str, Any] | None:
    """The job, its progress and its first open issues; None if there is no such job."""
    job = await fetch_job(pool, job_id)
    if job is None:
        return None
    report = {key: value for key, value in job.items() if key != "options"}
    report["options"] = job["options"]
    report["progress_percent"] = progress_percent(job)
    report["open_issues"] = await open_issues(pool, job_id, limit=issue_limit)
    return report


def render(report: dict[str, Any], out: TextIO) -> None:
    """The report for a person."""
    percent = report["progress_percent"]
    out.write(f"job         {report['id']} (tenant {report['user_id']})\n")
    out.write(
        f"status      {report['status']}"
        + (f"  error: {report['error']}" if report.get("error") else "")
        + "\n"
    )
    out.write(
        f"source      s3://{report['source_bucket']}/{report['source_key']}"
        + (f" version {report['source_version_id']}" if report["source_version_id"] else "")
        + "\n"
    )
    out.write(
        f"progress    {report['processed_rows']} rows processed"
        + (f" ({percent}%)" if percent is not None else "")
        + (f" of {report['total_rows']}" if report["total_rows"] is not None else "")
        + f", checkpoint row {report['checkpoint_row']}, attempts {report['attempts']}\n"
    )
    out.write(
        f"rows        {report['valid_rows']} ready, {report['issue_rows']} with issues, "
        f"{report['unresolved_issues']} open issues\n"
    )
    if report["detected_encoding"]:
        dialect = (report["detected_dialect"] or {}).get("dialect") or {}
        out.write(
            f"read as     {report['detected_encoding']}, delimiter "
            f"{dialect.get('delimiter')!r}, mapping confidence "
            f"{report['mapping_confidence']}\n"
        )
    for issue in report["open_issues"]:
        rows = ", ".join(str(row) for row in issue["rows"][:10])
        more = f" (+{len(issue['rows']) - 10} more)" if len(issue["rows"]) > 10 else ""
        out.write(f"  {issue['type']:<18} row {rows}{more}: {issue['message']}\n")


def to_json(report: dict[str, Any]) -> str:
    """The report as JSON (ids, times and bytes as strings)."""
    return json.dumps(
        report,
        default=lambda value: value.hex() if isinstance(value, bytes) else str(value),
        ensure_ascii=False,
        indent=2,
    )
