"""``ingest-worker jobs ...``: where jobs stand, and the operator's actions on them.

``list``, ``show``, ``stats`` read; ``retry`` (a FAILED job), ``cancel`` (a PENDING or
NEEDS_REVIEW job), ``requeue`` (send a job's message again) and ``exports`` (pre-signed
download URLs, asking for the exports when they are not written, or ``--rewrite``) act,
recorded in ``review_actions`` like the review actions. With a tenant given, another
tenant's job is answered as no job at all.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TextIO
from uuid import UUID

from botocore.exceptions import ClientError

from worker.errors import ActionRefused
from worker.messages import JobMessage
from worker.model import EXPORTABLE, IN_PROGRESS, Job, JobStatus, ReviewAction
from worker.sources.rows import skipped_line
from worker.store.exports import export_writer_alive, job_exports, reset_exports
from worker.store.jobs import DiscardReason, JobStore, OpenIssue, RowCounts

if TYPE_CHECKING:
    import asyncpg
    from types_aiobotocore_s3 import S3Client

    from worker.settings import Settings
    from worker.sqs import JobQueue

_FINISHED_READING = frozenset(
    {JobStatus.NEEDS_REVIEW, JobStatus.CONSOLIDATING, JobStatus.COMPLETED}
)


def progress_percent(job: Job) -> float | None:
    """How far the job has read its file: exact once it has, else from bytes read."""
    if job.status in _FINISHED_READING:
        return 100.0
    if job.source_size_bytes:
        read = float(job.bytes_read or 0)
        return round(min(100.0, 100.0 * read / float(job.source_size_bytes)), 1)
    return None


@dataclass
class JobReport:
    """What ``jobs show`` says of a job."""

    job: Job
    progress_percent: float | None
    held_by: str | None
    open_issues: list[OpenIssue]
    # Counted now, as review lists them (the job's counter is as of its last decision).
    unresolved_issues: int
    row_counts: RowCounts | None = None
    discard_reasons: list[DiscardReason] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The report as one JSON object: the job's columns, then what was counted."""
        return {
            **self.job.as_record(),
            "progress_percent": self.progress_percent,
            "held_by": self.held_by,
            "open_issues": [asdict(issue) for issue in self.open_issues],
            "unresolved_issues": self.unresolved_issues,
            "row_counts": asdict(self.row_counts) if self.row_counts is not None else None,
            "discard_reasons": [asdict(reason) for reason in self.discard_reasons],
        }


async def job_report(pool: asyncpg.Pool, job_id: UUID, issue_limit: int = 20) -> JobReport | None:
    """The job, its progress and its first open issues; None if there is no such job."""
    store = JobStore(pool)
    job = await store.get(job_id)
    if job is None:
        return None
    report = JobReport(
        job=job,
        progress_percent=progress_percent(job),
        held_by=await store.holder(job_id),
        open_issues=await store.open_issues(job_id, limit=issue_limit),
        unresolved_issues=await store.count_open_issues(job_id),
    )
    if job.total_rows is not None and job.purged_at is None:
        report.row_counts = await store.row_counts(job_id)
        report.discard_reasons = await store.discard_reasons(job_id)
    return report


# How each discarding action reads in a job's report.
_DISCARD_REASONS = {
    "discard": "discarded by hand",
    "accept_skip": "skipped: the email is already a contact",
    "keep_one": "duplicates of a kept row",
}


def rows_line(report: JobReport) -> str:
    """What became of the job's rows, counted from its rows themselves (the counts add up
    to its total), or the job's counters while it has none."""
    job, counts = report.job, report.row_counts
    if counts is None:
        return (
            f"{job.valid_rows} ready, {job.issue_rows} with issues, "
            f"{report.unresolved_issues} open issues"
        )
    parts = []
    if counts.imported or job.status is JobStatus.COMPLETED:
        parts.append(f"{counts.imported} imported")
    if counts.ready or job.status is not JobStatus.COMPLETED:
        parts.append(f"{counts.ready} ready")
    parts.append(f"{counts.with_issues} with issues")
    parts.append(f"{counts.discarded} discarded")
    return ", ".join(parts) + f"; {report.unresolved_issues} open issues"


def discard_line(report: JobReport) -> str | None:
    """Why the discarded rows were discarded, and by whom; None when none was."""
    counts = report.row_counts
    if not counts or not counts.discarded:
        return None
    reasons = [
        f"{reason.rows} {_DISCARD_REASONS.get(reason.action, reason.action)} ({reason.actors})"
        for reason in report.discard_reasons
    ]
    explained = sum(reason.rows for reason in report.discard_reasons)
    if explained < counts.discarded:
        reasons.append(f"{counts.discarded - explained} with no review action recorded")
    return "; ".join(reasons)


def render(report: JobReport, out: TextIO) -> None:
    """The report for a person."""
    job, percent = report.job, report.progress_percent
    out.write(f"job         {job.id} (tenant {job.tenant})\n")
    out.write(f"status      {job.status}" + (f"  error: {job.error}" if job.error else "") + "\n")
    out.write(
        f"source      s3://{job.source_bucket}/{job.source_key}"
        + (f" version {job.source_version_id}" if job.source_version_id else "")
        + "\n"
    )
    if job.status in IN_PROGRESS or job.status in EXPORTABLE:
        holder = report.held_by
        changed = f"{job.updated_at:%Y-%m-%d %H:%M:%S %Z}" if job.updated_at else "unknown"
        out.write(
            f"worker      {holder + ' is running it' if holder else 'none is running it'}, "
            f"last change {changed}\n"
        )
    out.write(
        f"progress    {job.processed_rows} rows processed"
        + (f" ({percent}%)" if percent is not None else "")
        + (f" of {job.total_rows}" if job.total_rows is not None else "")
        + f", checkpoint row {job.checkpoint_row}, attempts {job.attempts}\n"
    )
    out.write(f"rows        {rows_line(report)}\n")
    discarded = discard_line(report)
    if discarded:
        out.write(f"discarded   {discarded}\n")
    if job.detected_encoding:
        detected = job.detected_dialect or {}
        dialect = detected.get("dialect") or {}
        shape = (
            "a vCard address book"
            if detected.get("format") == "vcard"
            else f"delimiter {dialect.get('delimiter')!r}"
        )
        out.write(
            f"read as     {job.detected_encoding}, {shape}, mapping confidence "
            f"{float(job.mapping_confidence or 0):.2f}\n"
        )
    skipped = skipped_line((job.detected_dialect or {}).get("skipped") or {})
    if skipped:
        out.write(f"skipped     {skipped}\n")
    for issue in report.open_issues:
        rows = ", ".join(str(row) for row in issue.rows[:10])
        more = f" (+{len(issue.rows) - 10} more)" if len(issue.rows) > 10 else ""
        out.write(f"  {issue.type:<18} row {rows}{more}: {issue.message}\n")


# The columns `jobs list --json` shows of each job.
LIST_COLUMNS = (
    "id",
    "user_id",
    "status",
    "source_key",
    "total_rows",
    "valid_rows",
    "issue_rows",
    "unresolved_issues",
    "created_at",
    "finished_at",
    "error",
)


async def list_jobs(
    pool: asyncpg.Pool, tenant: str | None, status: JobStatus | None, limit: int
) -> list[Job]:
    """The newest jobs (of a tenant, in a status, when given)."""
    return await JobStore(pool).list(tenant, status, limit)


async def job_stats(
    pool: asyncpg.Pool, tenant: str | None, since: datetime | None = None
) -> dict[str, Any]:
    """Counts by state and the success rate (completed over completed plus failed)."""
    by_status = await JobStore(pool).count_by_status(tenant, since)
    completed = by_status.get(JobStatus.COMPLETED, 0)
    failed = by_status.get(JobStatus.FAILED, 0)
    finished = completed + failed
    return {
        "total": sum(by_status.values()),
        "completed": completed,
        "failed": failed,
        "processing": sum(by_status.get(status, 0) for status in IN_PROGRESS),
        "needs_review": by_status.get(JobStatus.NEEDS_REVIEW, 0),
        "cancelled": by_status.get(JobStatus.CANCELLED, 0),
        "success_rate": round(completed / finished, 4) if finished else None,
    }


def _no_job(job_id: UUID, tenant: str | None) -> ActionRefused:
    return ActionRefused(f"no job {job_id}" + (f" for tenant {tenant}" if tenant else ""))


async def _tenant_job(store: JobStore, job_id: UUID, tenant: str | None) -> Job:
    job = await store.get(job_id, tenant)
    if job is None:
        raise _no_job(job_id, tenant)
    return job


async def cancel_job(pool: asyncpg.Pool, job_id: UUID, tenant: str | None, actor: str) -> None:
    """Cancel a PENDING or NEEDS_REVIEW job; ActionRefused (with its status) otherwise."""
    cancelled, job = await JobStore(pool).cancel(job_id, tenant, actor)
    if job is None:
        raise _no_job(job_id, tenant)
    if not cancelled:
        raise ActionRefused(
            f"job {job_id} is {job.status}: only a PENDING or NEEDS_REVIEW job can be cancelled"
        )


async def retry_job(
    pool: asyncpg.Pool, queue: JobQueue, job_id: UUID, tenant: str | None, actor: str
) -> None:
    """Run a FAILED job again (a ``retry`` message: it resumes from its staging rows)."""
    store = JobStore(pool)
    job = await _tenant_job(store, job_id, tenant)
    if job.status is not JobStatus.FAILED:
        raise ActionRefused(f"job {job_id} is {job.status}: only a FAILED job is retried")
    await store.record_action(job, actor, ReviewAction.RETRY, details={"error": job.error})
    await queue.send(JobMessage(job_id=job_id, action="retry").body())


async def requeue_job(
    pool: asyncpg.Pool, queue: JobQueue, job_id: UUID, tenant: str | None, actor: str
) -> str:
    """Send a job's message again (a lost message, a stuck job after a crash): the job's
    state decides what it does, so a job that is fine just acknowledges it. Returns the
    action sent; FAILED jobs take ``retry``, CANCELLED ones nothing."""
    store = JobStore(pool)
    job = await _tenant_job(store, job_id, tenant)
    if job.status is JobStatus.FAILED:
        raise ActionRefused(f"job {job_id} is FAILED: `jobs retry` runs it again")
    if job.status is JobStatus.CANCELLED:
        raise ActionRefused(f"job {job_id} is CANCELLED: there is nothing to run")
    action = (
        "reprocess" if job.status is JobStatus.NEEDS_REVIEW and job.reprocess_pending else "process"
    )
    await store.record_action(
        job, actor, ReviewAction.REQUEUE, details={"status": job.status, "action": action}
    )
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
        if await export_writer_alive(pool, job_id):
            raise ActionRefused(f"job {job_id}'s exports are being written right now")
        current = await job_exports(pool, job_id, tenant)
        if current is not None and current.job.status in EXPORTABLE:
            await reset_exports(pool, job_id)
    found = await job_exports(pool, job_id, tenant)
    if found is None:
        raise _no_job(job_id, tenant)
    job = found.job
    if job.purged_at is not None:
        raise ActionRefused(
            f"job {job_id}'s rows and exports were removed by retention on {job.purged_at:%Y-%m-%d}"
        )
    if job.status not in EXPORTABLE or job.decided_at is None:
        raise ActionRefused(
            f"job {job_id} is {job.status}: exports are written when it reaches "
            "NEEDS_REVIEW or COMPLETED"
        )
    exports = job.exports
    state = exports.get("state") if found.current else "missing"
    if state == "writing" and not await export_writer_alive(pool, job_id):
        state = "abandoned"  # its writer died mid-way: written again on request
    answer: dict[str, Any] = {"job_id": str(job_id), "status": job.status, "state": state}
    if state == "written" and not await _files_exist(s3, settings.s3_bucket, exports):
        # Deleted since (a lifecycle rule, a person, an emulator restarted): signing URLs
        # to nothing helps no one; they are written again.
        await reset_exports(pool, job_id)
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
        await JobStore(pool).record_action(
            job, actor, ReviewAction.REQUEST_EXPORT, details={"state": state}
        )
        await queue.send(JobMessage(job_id=job_id, action="export").body())
        answer["requested"] = True
    return answer


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
