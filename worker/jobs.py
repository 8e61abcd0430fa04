"""``ingest-worker jobs ...``: where jobs stand, and the operator's actions on them.

``list``, ``show``, ``stats`` read; ``retry`` (a FAILED job), ``cancel`` (a PENDING or
NEEDS_REVIEW job), ``requeue`` (send a job's message again) and ``exports`` (pre-signed
download URLs, asking for the exports when they are not written, or ``--rewrite``) act,
recorded in ``review_actions`` like the review actions. With a tenant given, another
tenant's job is answered as no job at all.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any, TextIO
from uuid import UUID

import asyncpg
from botocore.exceptions import ClientError

from worker.errors import ActionRefused
from worker.messages import JobMessage
from worker.router import reprocess_pending
from worker.store.jobs import fetch_job, open_issues
from worker.store.queries import sql

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy
    from types_aiobotocore_s3 import S3Client

    from worker.settings import Settings
    from worker.sqs import JobQueue

_IN_PROGRESS = ("PENDING", "PROCESSING", "CONSOLIDATING")

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
    holder = await pool.fetchrow(sql("job_holder"), job_id)
    report["held_by"] = holder["application_name"] if holder is not None else None
    report["open_issues"] = await open_issues(pool, job_id, limit=issue_limit)
    # Counted now, as review lists them (the job's counter is as of its last decision).
    report["unresolved_issues"] = await pool.fetchval(sql("count_open_issues"), job_id)
    report["row_counts"] = None
    report["discard_reasons"] = []
    if job["total_rows"] is not None and job["purged_at"] is None:
        counts = await pool.fetchrow(sql("job_row_counts"), job_id)
        report["row_counts"] = dict(counts) if counts is not None else None
        report["discard_reasons"] = [
            dict(row) for row in await pool.fetch(sql("job_discard_reasons"), job_id)
        ]
    return report


# How each discarding action reads in a job's report.
_DISCARD_REASONS = {
    "discard": "discarded by hand",
    "accept_skip": "skipped: the email is already a contact",
    "keep_one": "duplicates of a kept row",
}


def rows_line(report: dict[str, Any]) -> str:
    """What became of the job's rows, counted from its rows themselves (the counts add up
    to its total), or the job's counters while it has none."""
    counts = report.get("row_counts")
    if counts is None:
        return (
            f"{report['valid_rows']} ready, {report['issue_rows']} with issues, "
            f"{report['unresolved_issues']} open issues"
        )
    parts = []
    if counts["imported"] or report["status"] == "COMPLETED":
        parts.append(f"{counts['imported']} imported")
    if counts["ready"] or report["status"] != "COMPLETED":
        parts.append(f"{counts['ready']} ready")
    parts.append(f"{counts['with_issues']} with issues")
    parts.append(f"{counts['discarded']} discarded")
    return ", ".join(parts) + f"; {report['unresolved_issues']} open issues"


def discard_line(report: dict[str, Any]) -> str | None:
    """Why the discarded rows were discarded, and by whom; None when none was."""
    counts = report.get("row_counts")
    if not counts or not counts["discarded"]:
        return None
    reasons = [
        f"{reason['rows']} {_DISCARD_REASONS.get(reason['action'], reason['action'])}"
        f" ({reason['actors']})"
        for reason in report.get("discard_reasons", [])
    ]
    explained = sum(int(reason["rows"]) for reason in report.get("discard_reasons", []))
    if explained < counts["discarded"]:
        reasons.append(f"{counts['discarded'] - explained} with no review action recorded")
    return "; ".join(reasons)


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
    if report["status"] in (*_IN_PROGRESS, "NEEDS_REVIEW", "COMPLETED"):
        holder = report.get("held_by")
        out.write(
            f"worker      {holder + ' is running it' if holder else 'none is running it'}, "
            f"last change {report['updated_at']:%Y-%m-%d %H:%M:%S %Z}\n"
        )
    out.write(
        f"progress    {report['processed_rows']} rows processed"
        + (f" ({percent}%)" if percent is not None else "")
        + (f" of {report['total_rows']}" if report["total_rows"] is not None else "")
        + f", checkpoint row {report['checkpoint_row']}, attempts {report['attempts']}\n"
    )
    out.write(f"rows        {rows_line(report)}\n")
    discarded = discard_line(report)
    if discarded:
        out.write(f"discarded   {discarded}\n")
    if report["detected_encoding"]:
        dialect = (report["detected_dialect"] or {}).get("dialect") or {}
        out.write(
            f"read as     {report['detected_encoding']}, delimiter "
            f"{dialect.get('delimiter')!r}, mapping confidence "
            f"{float(report['mapping_confidence'] or 0):.2f}\n"
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


async def list_jobs(
    pool: asyncpg.Pool, tenant: str | None, status: str | None, limit: int
) -> list[dict[str, Any]]:
    """The newest jobs (of a tenant, in a status, when given)."""
    return [dict(row) for row in await pool.fetch(sql("list_jobs"), tenant, status, limit)]


async def job_stats(
    pool: asyncpg.Pool, tenant: str | None, since: datetime | None = None
) -> dict[str, Any]:
    """Counts by state and the success rate (completed over completed plus failed)."""
    by_status = {
        row["status"]: int(row["jobs"]) for row in await pool.fetch(sql("job_stats"), tenant, since)
    }
    completed, failed = by_status.get("COMPLETED", 0), by_status.get("FAILED", 0)
    finished = completed + failed
    return {
        "total": sum(by_status.values()),
        "completed": completed,
        "failed": failed,
        "processing": sum(by_status.get(status, 0) for status in _IN_PROGRESS),
        "needs_review": by_status.get("NEEDS_REVIEW", 0),
        "cancelled": by_status.get("CANCELLED", 0),
        "success_rate": round(completed / finished, 4) if finished else None,
    }


async def _tenant_job(pool: asyncpg.Pool, job_id: UUID, tenant: str | None) -> asyncpg.Record:
    job = await pool.fetchrow(sql("fetch_tenant_job"), job_id, tenant)
    if job is None:
        raise ActionRefused(f"no job {job_id}" + (f" for tenant {tenant}" if tenant else ""))
    return job


async def _record(
    connection: asyncpg.Pool | asyncpg.Connection | PoolConnectionProxy,
    job: asyncpg.Record,
    actor: str,
    action: str,
    details: dict[str, Any],
) -> None:
    await connection.fetchrow(
        sql("review_record_action"),
        job["id"],
        job["user_id"],
        actor,
        action,
        None,
        None,
        json.dumps(details),
    )


async def cancel_job(pool: asyncpg.Pool, job_id: UUID, tenant: str | None, actor: str) -> None:
    """Cancel a PENDING or NEEDS_REVIEW job; ActionRefused (with its status) otherwise."""
    async with pool.acquire() as connection, connection.transaction():
        cancelled = await connection.fetchrow(sql("cancel_job"), job_id, tenant)
        if cancelled is None:
            job = await _tenant_job(pool, job_id, tenant)
            raise ActionRefused(
                f"job {job_id} is {job['status']}: only a PENDING or NEEDS_REVIEW job can be "
                "cancelled"
            )
        await _record(connection, cancelled, actor, "cancel", {})


async def retry_job(
    pool: asyncpg.Pool, queue: JobQueue, job_id: UUID, tenant: str | None, actor: str
) -> None:
    """Run a FAILED job again (a ``retry`` message: it resumes from its staging rows)."""
    job = await _tenant_job(pool, job_id, tenant)
    if job["status"] != "FAILED":
        raise ActionRefused(f"job {job_id} is {job['status']}: only a FAILED job is retried")
    await _record(pool, job, actor, "retry", {"error": job["error"]})
    await queue.send(JobMessage(job_id=job_id, action="retry").body())


async def requeue_job(
    pool: asyncpg.Pool, queue: JobQueue, job_id: UUID, tenant: str | None, actor: str
) -> str:
    """Send a job's message again (a lost message, a stuck job after a crash): the job's
    state decides what it does, so a job that is fine just acknowledges it. Returns the
    action sent; FAILED jobs take ``retry``, CANCELLED ones nothing."""
    job = await _tenant_job(pool, job_id, tenant)
    if job["status"] == "FAILED":
        raise ActionRefused(f"job {job_id} is FAILED: `jobs retry` runs it again")
    if job["status"] == "CANCELLED":
        raise ActionRefused(f"job {job_id} is CANCELLED: there is nothing to run")
    full = await fetch_job(pool, job_id)
    assert full is not None  # noqa: S101 - read just above
    pending = reprocess_pending(full["reprocess_requested_at"], full["decided_at"])
    action = "reprocess" if job["status"] == "NEEDS_REVIEW" and pending else "process"
    await _record(pool, job, actor, "requeue", {"status": job["status"], "action": action})
    await queue.send(JobMessage(job_id=job_id, action=action).body())
    return action


async def export_links(
    pool: asyncpg.Pool,
    s3: S3Client,
    queue: JobQueue,
    settings: Settings,
    job_id: UUID,
    *,
    tenant: str | None,
    actor: str,
    request: bool = True,
    rewrite: bool = False,
) -> dict[str, Any]:
    """The job's exports with pre-signed download URLs when they are written for its last
    decision; otherwise their state, and (``request``) an ``export`` message is sent.
    ``rewrite`` forgets the exports first (unless a live writer is at work) and asks for
    them again."""
    if rewrite:
        if await _export_writer_alive(pool, job_id):
            raise ActionRefused(f"job {job_id}'s exports are being written right now")
        current = await pool.fetchrow(sql("job_exports"), job_id, tenant)
        if current is not None and current["status"] in ("NEEDS_REVIEW", "COMPLETED"):
            await pool.execute(sql("reset_exports"), job_id)
    job = await pool.fetchrow(sql("job_exports"), job_id, tenant)
    if job is None:
        raise ActionRefused(f"no job {job_id}" + (f" for tenant {tenant}" if tenant else ""))
    if job["purged_at"] is not None:
        raise ActionRefused(
            f"job {job_id}'s rows and exports were removed by retention on "
            f"{job['purged_at']:%Y-%m-%d}"
        )
    if job["status"] not in ("NEEDS_REVIEW", "COMPLETED") or job["decided_at"] is None:
        raise ActionRefused(
            f"job {job_id} is {job['status']}: exports are written when it reaches "
            "NEEDS_REVIEW or COMPLETED"
        )
    exports = job["exports"] or {}
    state = exports.get("state") if job["exports_current"] else "missing"
    if state == "writing" and not await _export_writer_alive(pool, job_id):
        state = "abandoned"  # its writer died mid-way: written again on request
    answer: dict[str, Any] = {"job_id": str(job_id), "status": job["status"], "state": state}
    if state == "written" and not await _files_exist(s3, settings.s3_bucket, exports):
        # Deleted since (a lifecycle rule, a person, an emulator restarted): signing URLs
        # to nothing helps no one; they are written again.
        await pool.execute(sql("reset_exports"), job_id)
        state = answer["state"] = "deleted"
    if state == "written":
        answer["written_at"] = exports.get("written_at")
        answer["expires_in_s"] = settings.export_url_expiry_s
        answer["files"] = [
            {
                "kind": kind,
                **entry,
                "url": await s3.generate_presigned_url(
                    "get_object",
                    Params={"Bucket": settings.s3_bucket, "Key": entry["key"]},
                    ExpiresIn=settings.export_url_expiry_s,
                ),
            }
            for kind, entry in exports.get("files", {}).items()
        ]
        return answer
    if state == "failed":
        answer["error"] = exports.get("error")
    if request and state != "writing":
        await _record(pool, job, actor, "request_export", {"state": state})
        await queue.send(JobMessage(job_id=job_id, action="export").body())
        answer["requested"] = True
    return answer


async def _export_writer_alive(pool: asyncpg.Pool, job_id: UUID) -> bool:
    """Whether a live writer holds the job's export lock (it dies with its session)."""
    async with pool.acquire() as connection:
        if await connection.fetchval(sql("lock_exports"), job_id):
            await connection.execute(sql("unlock_exports"), job_id)
            return False
        return True


async def _files_exist(s3: S3Client, bucket: str, exports: dict[str, Any]) -> bool:
    """Whether every recorded export file is still in the bucket."""
    for entry in (exports.get("files") or {}).values():
        try:
            await s3.head_object(Bucket=bucket, Key=entry["key"])
        except ClientError as error:
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status == 404 or error.response.get("Error", {}).get("Code") in (
                "404",
                "NoSuchKey",
                "NotFound",
            ):
                return False
            raise
    return True
