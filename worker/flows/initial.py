"""The initial flow: from the uploaded object to staging rows and issues.

Reads the object pinned to the version the job started with, records what detection
found, validates every row and writes batches (staging rows, their issues, the checkpoint)
in one transaction each. A resumed job reads the same bytes and skips the rows up to its
checkpoint, so its final state equals that of a run that was never interrupted. After the
last batch the cross-row checks run in SQL and the job goes to NEEDS_REVIEW (open issues)
or CONSOLIDATING (none).
"""

from __future__ import annotations

import time

from worker import metrics
from worker.errors import JobGone, JobInvalid
from worker.flows.base import FlowContext
from worker.logs import get_logger
from worker.model import FULL_NAME, Job, RowIssue
from worker.options import check_job_options
from worker.router import Route
from worker.sources.rows import Detection
from worker.sources.s3 import ObjectStream, pin_object
from worker.sources.source import open_source
from worker.store.staging import (
    BatchWriter,
    finish_checks,
    record_detection,
    record_late_encoding,
    record_skipped,
)
from worker.validation import RowValidator

log = get_logger("worker.flows.initial")


async def run_initial(context: FlowContext) -> Job:
    """Run (or resume) the initial flow of ``context.job``; the job as decided."""
    job = context.job
    job_id = job.id
    settings = context.settings
    resume = context.route is Route.INITIAL_RESUME
    # Options no reader could use fail the job at once, with the option named.
    options = check_job_options(job.options)
    # A resumed job must read the bytes it started with; a new one pins what is there now.
    version = await pin_object(
        context.s3,
        job.source_bucket,
        job.source_key,
        job.source_version_id if resume else None,
        job.source_etag if resume else None,
    )
    stream = ObjectStream(context.s3, version)
    batch_rows = min(settings.batch_size_rows, settings.progress_interval_rows)
    source = await open_source(
        stream, options, batch_rows=batch_rows, max_row_chars=settings.max_row_chars
    )
    detection = source.detection
    summary = detection.summary()
    started = await record_detection(
        context.pool,
        job_id,
        version_id=version.version_id,
        etag=version.etag,
        size_bytes=version.size_bytes,
        encoding=summary["encoding"]["name"] if summary["encoding"] else None,
        detection={
            "format": summary["format"],
            "dialect": summary["dialect"],
            "sheet": summary["sheet"],
            "header_row": summary["header_row"],
            "encoding": summary["encoding"],
        },
        mapping=summary["mapping"],
        mapping_confidence=summary["mapping_confidence"],
        headers=detection.headers,
    )
    if not started:
        raise JobGone(f"job {job_id} is no longer pending (cancelled or deleted)")

    validator = RowValidator(job_id, detection.mapping.columns, detection.headers, options)
    unmappable_fields(validator.required, detection)
    checkpoint = job.checkpoint_row if resume else 0
    rows_seen = 0
    written = skipped = 0
    started_at = time.monotonic()
    # Phase timings for the summary line: where a slow job spends its time.
    phases = {"read_s": 0.0, "validate_s": 0.0, "wait_db_s": 0.0, "checks_s": 0.0}
    try:
        # One batch in flight while the next is read and validated: the server works on
        # batch k while the client prepares batch k + 1; batches commit one after another.
        async with BatchWriter.open(context.pool, job_id) as writer:
            mark = time.perf_counter()
            async for batch in source.batches():
                now = time.perf_counter()
                phases["read_s"] += now - mark
                rows_seen += len(batch)
                numbers, rows = batch.numbers, batch.rows
                if numbers[-1] <= checkpoint:
                    skipped += len(batch)
                    mark = time.perf_counter()
                    continue
                if numbers[0] <= checkpoint:
                    keep = [index for index, number in enumerate(numbers) if number > checkpoint]
                    skipped += len(numbers) - len(keep)
                    numbers = [numbers[index] for index in keep]
                    rows = [rows[index] for index in keep]
                problems = {
                    number: [RowIssue(number, p.type, p.field, p.message) for p in found]
                    for number, found in batch.problems.items()
                }
                staged, issues = validator.validate_columns(numbers, rows, problems)
                metrics.rows_read_total.inc(len(batch))
                for issue in issues:
                    metrics.issues_total.labels(issue.type).inc()
                mark = time.perf_counter()
                phases["validate_s"] += mark - now
                await writer.write(
                    staged,
                    issues,
                    checkpoint_row=numbers[-1],
                    processed_rows=rows_seen,
                    bytes_read=stream.bytes_read,
                )
                context.checkpoint()
                written += len(staged)
                metrics.rows_staged_total.inc(len(staged))
                now = time.perf_counter()
                phases["wait_db_s"] += now - mark
                mark = now
            mark = time.perf_counter()
            await writer.wait()
            phases["wait_db_s"] += time.perf_counter() - mark
            context.checkpoint()
    finally:
        source.close()
    if rows_seen == 0:
        raise JobInvalid(no_rows_reason(detection))
    skipped_rows = source.skipped()
    if skipped_rows:
        await record_skipped(context.pool, job_id, skipped_rows)
    read_as = detection.summary()["encoding"]
    if read_as is not None and read_as != summary["encoding"]:
        # ASCII in its first chunk, the file was decided where it stopped being ASCII.
        await record_late_encoding(context.pool, job_id, read_as)
    metrics.s3_read_bytes_total.inc(stream.bytes_read)
    mark = time.perf_counter()
    checks: dict[str, float] = {}
    decided = await finish_checks(
        context.pool,
        job_id,
        job.tenant,
        sha256=stream.sha256,
        bytes_read=stream.bytes_read,
        steps=checks,
    )
    phases["checks_s"] = time.perf_counter() - mark
    log.info(
        "initial_flow_finished",
        **{key: round(value, 3) for key, value in phases.items()},
        checks={key: round(value, 3) for key, value in checks.items()},
        status=decided.status,
        rows=decided.total_rows,
        unresolved_issues=decided.unresolved_issues,
        written=written,
        skipped=skipped,
        headers_skipped=source.headers_skipped,
        footer_rows=len(source.footer_rows),
        seconds=round(time.monotonic() - started_at, 3),
    )
    return decided


def unmappable_fields(required: tuple[str, ...], detection: Detection) -> None:
    """A required field that no column maps to would be an issue on every row: the file as a
    whole is wrong for the job, said once (JobInvalid), with the columns found and how to
    map them."""
    if not detection.headers:
        raise JobInvalid(no_rows_reason(detection))  # no column at all: nothing to map
    mapped = set(detection.mapping.columns)
    if FULL_NAME in mapped:
        mapped |= {"first_name", "last_name"}  # split from the whole name
    missing = [name for name in required if name not in mapped]
    if not missing:
        return
    columns = ", ".join(repr(header) for header in detection.headers[:12])
    more = f" and {len(detection.headers) - 12} more" if len(detection.headers) > 12 else ""
    example = ", ".join(f'"{name}": "<column>"' for name in missing)
    raise JobInvalid(
        f"no column could be mapped to {', '.join(missing)} (the file's columns: "
        f"{columns or 'none'}{more}); submit it again with --mapping '{{{example}}}', or "
        f"with required_fields that leave {'it' if len(missing) == 1 else 'them'} out"
    )


def no_rows_reason(detection: Detection) -> str:
    """Why a file gave no data rows, for the job's error."""
    if detection.format == "vcard":
        return "the file has no contact cards (BEGIN:VCARD ... END:VCARD)"
    if detection.header_number is not None and detection.headers:
        return f"the file has no data rows: only a header ({', '.join(detection.headers[:8])})"
    return "the file has no data rows: every line is blank"
