"""Enriched exports: a job's rows written back to S3 as CSV, with their import status.

Three files per decision of a job (NEEDS_REVIEW or COMPLETED), each the server's own CSV
of the job's staging rows in file order (``COPY (SELECT ...) TO STDOUT``, the three from
one snapshot), streamed to S3 as a multipart upload. A job whose rows are all valid gets
all.csv from one scan and valid.csv as its copy; any other job gets the three from one
scan whose rows are led by a tag naming their file, split here (:class:`TaggedRecords`):

- ``all.csv``: every row, every original column, then the import columns;
- ``valid.csv``: the rows that are (or will be) contacts, READY or SUCCESS;
- ``issues.csv``: the rows with open issues.

The import columns are the row number, its status, its open issues' types and messages,
why it was discarded (by whom, and their note) if it was, and its current fields (as
normalised, and as people edited them). Cells a spreadsheet
would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or CR, unless they
are a plain number or phone number) get a leading apostrophe. Files are UTF-8 with a BOM
(spreadsheets then read accents right), LF line ends. Writing is claimed on the job
under a session lock that dies with its writer, so a second request while one is at work
writes nothing and a killed writer's claim is taken over by the next request; the result
(keys, sizes, row counts, time) or the error is recorded on the job.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from typing import IO, TYPE_CHECKING, Any

from worker import metrics
from worker.errors import ExportFailed, Interrupted
from worker.logs import get_logger
from worker.reasons import describe
from worker.store.exports import (
    EXPORT_KINDS,
    Claim,
    ExportKind,
    ExportSnapshot,
    claim_exports,
    export_lock,
    record_export_failure,
    record_exports,
    refresh_claim,
)

if TYPE_CHECKING:
    import asyncpg
    from types_aiobotocore_s3 import S3Client

    from worker.model import Job
    from worker.settings import Settings
    from worker.store.pool import Connection

log = get_logger("worker.flows.export")

IMPORT_COLUMNS = (
    "import_row",
    "import_status",
    "import_issue_types",
    "import_issue_messages",
    "import_note",
    "clean_email",
    "clean_first_name",
    "clean_last_name",
    "clean_company",
    "clean_phone",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Digits, spaces and + - ( ) . only: a number or phone number, which no spreadsheet runs.
_PLAIN_NUMBER = re.compile(r"[-+0-9 ().]*")


def neutralise(cell: str) -> str:
    """``=SUM(A1)`` -> ``'=SUM(A1)``: a spreadsheet shows the text instead of running it.
    A plain number or phone number (``+351 912 345 678``, ``-5``) is left as it is. The
    server applies the same rule to the rows (``ingest_export_cell``)."""
    if cell.startswith(_FORMULA_STARTS) and _PLAIN_NUMBER.fullmatch(cell) is None:
        return "'" + cell
    return cell


class MultipartWriter:
    """Bytes streamed to one S3 object in parts of ``part_size_bytes``: a single PUT when
    the whole object fits in one part, a multipart upload otherwise (aborted on failure,
    so no half-written object or orphaned parts remain).

    A part waits in a temporary file, not in memory, and is uploaded from it: the S3
    client streams a file body in small chunks, so a writer holds kilobytes however large
    its parts (three 5 MiB parts in memory, plus the copies an upload makes, were most of
    an export's memory). A full part is uploaded while the next one fills (one upload in
    flight): the server's COPY does not wait for S3."""

    def __init__(
        self, s3: S3Client, bucket: str, key: str, part_size_bytes: int, content_type: str
    ) -> None:
        self.s3, self.bucket, self.key = s3, bucket, key
        self.part_size_bytes = part_size_bytes
        self.content_type = content_type
        self.part: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed per part
        self.part_bytes = 0
        self.size_bytes = 0
        self.upload_id: str | None = None
        self.parts: list[dict[str, Any]] = []
        self._uploading: asyncio.Task[None] | None = None

    async def write(self, data: bytes) -> bool:
        """Add ``data`` to the part; once it is full, hand it to an upload of its own
        (after the previous part's upload ends) and start the next (True if so)."""
        self.part.write(data)
        self.part_bytes += len(data)
        self.size_bytes += len(data)
        if self.part_bytes < self.part_size_bytes:
            return False
        await self._wait_upload()
        if self.upload_id is None:
            created = await self.s3.create_multipart_upload(
                Bucket=self.bucket, Key=self.key, ContentType=self.content_type
            )
            self.upload_id = created["UploadId"]
        part, size = self._next_part()
        self._uploading = asyncio.create_task(self._upload_part(part, size, self.upload_id))
        return True

    async def close(self) -> None:
        """Upload what is left and finish the object."""
        await self._wait_upload()
        if self.upload_id is None:
            self.part.seek(0)
            await self.s3.put_object(
                Bucket=self.bucket,
                Key=self.key,
                Body=self.part,
                ContentLength=self.part_bytes,
                ContentType=self.content_type,
            )
            self.part.close()
            return
        if self.part_bytes:
            part, size = self._next_part()
            await self._upload_part(part, size, self.upload_id)
        self.part.close()
        await self.s3.complete_multipart_upload(
            Bucket=self.bucket,
            Key=self.key,
            UploadId=self.upload_id,
            MultipartUpload={"Parts": self.parts},  # type: ignore[typeddict-item]
        )

    async def copy_of(self, source_key: str) -> None:
        """Make the object a copy of ``source_key`` (same bucket, at most 5 GB), made by S3:
        no byte goes through the worker."""
        self.part.close()
        await self.s3.copy_object(
            Bucket=self.bucket, Key=self.key, CopySource={"Bucket": self.bucket, "Key": source_key}
        )

    async def abort(self) -> None:
        """Give up the upload; S3 drops the parts already sent."""
        uploading, self._uploading = self._uploading, None
        if uploading is not None:
            uploading.cancel()
            await asyncio.wait({uploading})
            if not uploading.cancelled():
                uploading.exception()  # retrieved: the abort is the error's outcome
        self.part.close()
        if self.upload_id is not None:
            await self.s3.abort_multipart_upload(
                Bucket=self.bucket, Key=self.key, UploadId=self.upload_id
            )
            self.upload_id = None

    def _next_part(self) -> tuple[IO[bytes], int]:
        """The full part (rewound) and its size; a fresh file for the next one."""
        part, size = self.part, self.part_bytes
        part.seek(0)
        self.part = tempfile.TemporaryFile()  # noqa: SIM115 - closed per part
        self.part_bytes = 0
        return part, size

    async def _wait_upload(self) -> None:
        """Wait for the part being uploaded (its error if it failed)."""
        uploading, self._uploading = self._uploading, None
        if uploading is not None:
            await uploading

    async def _upload_part(self, part: IO[bytes], size: int, upload_id: str) -> None:
        # Numbered when it starts: parts start in order, one at a time.
        number = len(self.parts) + 1
        self.parts.append({"PartNumber": number, "ETag": None})
        try:
            answer = await self.s3.upload_part(
                Bucket=self.bucket,
                Key=self.key,
                UploadId=upload_id,
                PartNumber=number,
                Body=part,
                ContentLength=size,
            )
        finally:
            part.close()
        self.parts[number - 1]["ETag"] = answer["ETag"]


def export_key(settings: Settings, job: Job, kind: str) -> str:
    """``exports/<tenant>/<job>/<decision time>-<status>/<kind>.csv``: one folder per
    decision, so a URL handed out earlier keeps pointing at what it was."""
    if job.decided_at is None:
        raise ValueError(f"job {job.id} has no decision to export")
    stamp = job.decided_at.strftime("%Y%m%dT%H%M%S%fZ")
    return f"{export_folder(settings, job)}{stamp}-{job.status.lower()}/{kind}.csv"


async def write_exports(
    pool: asyncpg.Pool,
    s3: S3Client,
    settings: Settings,
    job_id: uuid.UUID,
    checkpoint: Callable[[], None] = lambda: None,
) -> dict[str, Any] | None:
    """Write the job's exports for its current decision and record them on the job.

    Returns the recorded exports, or None when there was nothing to write (already written
    for this decision, being written by a live writer, or the job has no decision to
    export). A failure is recorded on the job and raised.

    The writer holds a session lock (:func:`~worker.store.exports.export_lock`) on its
    connection from the claim to the record: a second writer finds it held and writes
    nothing, and a writer killed mid-way leaves a claim that the next one takes over at
    once, aborting the dead writer's unfinished uploads."""
    async with export_lock(pool, job_id) as connection:
        if connection is None:
            return None  # a live writer is at work on this job's exports
        return await _claim_and_write(connection, pool, s3, settings, job_id, checkpoint=checkpoint)


async def _claim_and_write(
    connection: Connection,
    pool: asyncpg.Pool,
    s3: S3Client,
    settings: Settings,
    job_id: uuid.UUID,
    *,
    checkpoint: Callable[[], None],
) -> dict[str, Any] | None:
    claim = await claim_exports(connection, job_id, uuid.uuid4().hex)
    if claim is None:
        return None
    job = claim.job
    if claim.previous_state == "writing":
        # Its writer died (it would hold the lock): its multipart uploads go too.
        aborted = await abort_uploads(s3, settings.s3_bucket, export_folder(settings, job))
        log.warning("export_taken_over", aborted_uploads=aborted)
    started = time.monotonic()
    writers = {
        kind: MultipartWriter(
            s3,
            settings.s3_bucket,
            export_key(settings, job, kind),
            settings.export_part_size_bytes,
            "text/csv; charset=utf-8",
        )
        for kind in EXPORT_KINDS
    }
    timings: dict[str, float] = {}
    try:
        files = await _write(connection, pool, claim, writers, timings, checkpoint=checkpoint)
        exports = await record_exports(connection, job_id, claim.id, files)
    except BaseException as error:
        for writer in writers.values():
            try:
                await writer.abort()
            except Exception as abort_error:  # the bucket's lifecycle rule drops the parts
                log.warning("export_abort_failed", key=writer.key, error=describe(abort_error))
        reason = describe(error)
        try:
            await record_export_failure(pool, job_id, claim.id, reason)
            recorded = True
        except Exception as record_error:
            recorded = False
            log.error("export_failure_not_recorded", error=describe(record_error))
        metrics.exports_total.labels("failed").inc()
        log.error("export_failed", reason=reason)
        if recorded and isinstance(error, Exception) and not isinstance(error, Interrupted):
            raise ExportFailed(reason) from error
        # Not recorded (the database away): the job's message must come back for them.
        raise
    metrics.exports_total.labels("written").inc()
    metrics.export_bytes_total.inc(sum(entry["size_bytes"] for entry in files.values()))
    log.info(
        "export_written",
        rows=files["all"]["rows"],
        size_bytes=sum(entry["size_bytes"] for entry in files.values()),
        **{f"{step}_s": round(seconds, 3) for step, seconds in timings.items()},
        seconds=round(time.monotonic() - started, 3),
    )
    return exports


def export_folder(settings: Settings, job: Job) -> str:
    """``exports/<tenant>/<job>/``: every decision's files of one job."""
    return f"{settings.export_prefix.rstrip('/')}/{job.tenant}/{job.id}/"


async def abort_uploads(s3: S3Client, bucket: str, prefix: str) -> int:
    """Abort the unfinished multipart uploads under ``prefix``; how many there were."""
    aborted = 0
    paginator = s3.get_paginator("list_multipart_uploads")
    async for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        for upload in page.get("Uploads", []):
            await s3.abort_multipart_upload(
                Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"]
            )
            aborted += 1
    return aborted


# S3 copies an object of at most 5 GB in one request (CopyObject).
S3_MAX_COPY_BYTES = 5 * 1024**3
_BOM = b"\xef\xbb\xbf"


def header_line(names: Sequence[str]) -> bytes:
    """The header row as the server writes CSV rows (quoted only where needed, LF)."""
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerow([neutralise(name) for name in names])
    return text.getvalue().encode("utf-8")


class TaggedRecords:
    """The server's CSV of a job's rows, each record led by a one-letter tag column (a
    ``tagged`` :meth:`~worker.store.exports.ExportSnapshot.copy`), cut into whole records
    as its chunks arrive. A record ends at a line end outside quotes: where the count of
    ``"`` in the record so far is even (CSV doubles a quote inside a quoted field), so a
    line with an odd count opens a quoted field that the next odd line closes."""

    def __init__(self) -> None:
        self._carry = b""

    def feed(self, chunk: bytes) -> list[bytes]:
        """The records that ``chunk`` completes, tag included, line ends left out."""
        lines = (self._carry + chunk).split(b"\n")
        tail = lines.pop()  # after the last line end: the start of the next record
        if b'"' not in chunk and b'"' not in self._carry:
            self._carry = tail
            return lines
        odd = [index for index, line in enumerate(lines) if line.count(b'"') & 1]
        if len(odd) % 2:  # a quoted field still open: its record ends in a later chunk
            start = odd.pop()
            self._carry = b"\n".join([*lines[start:], tail])
            del lines[start:]
        else:
            self._carry = tail
        # From the end, so that the indices before each merge stay where they were.
        for first, last in reversed(list(zip(odd[::2], odd[1::2], strict=True))):
            lines[first : last + 1] = [b"\n".join(lines[first : last + 1])]
        return lines

    def close(self) -> None:
        """Check that the stream ended with a whole record (the server ends each one)."""
        if self._carry:
            raise ValueError("the server's CSV ended inside a record")


# Tag -> the file a record goes to besides all.csv (ord: records are bytes).
_TAG_FILES: dict[int, ExportKind] = {ord("v"): "valid", ord("i"): "issues"}


def split_records(records: list[bytes]) -> dict[ExportKind, list[bytes]]:
    """Tagged records (``v,...``) -> each file's records, the tag column taken off."""
    files: dict[ExportKind, list[bytes]] = {"all": [record[2:] for record in records]}
    for tag, kind in _TAG_FILES.items():
        files[kind] = [record[2:] for record in records if record[0] == tag]
    return files


async def _write(
    connection: Connection,
    pool: asyncpg.Pool,
    claim: Claim,
    writers: dict[ExportKind, MultipartWriter],
    timings: dict[str, float],
    *,
    checkpoint: Callable[[], None],
) -> dict[str, dict[str, Any]]:
    """Each file is the server's own CSV streamed into its multipart writer; the three
    read one snapshot of the job's rows. ``timings`` gets each step's seconds (the
    snapshot's preparation, then each file), for the summary line."""
    job = claim.job
    headers = [str(name) for name in (job.header or [])]
    files: dict[str, dict[str, Any]] = {}
    mark = time.perf_counter()
    async with ExportSnapshot.open(connection, job, headers) as snapshot:
        timings["prepare"] = time.perf_counter() - mark
        width = snapshot.width
        names = [*headers, *(f"column_{n}" for n in range(len(headers) + 1, width + 1))]
        line = _BOM + header_line([*names, *IMPORT_COLUMNS])
        if not snapshot.all_valid:
            # Rows of every kind: the three files from one scan, split here.
            mark = time.perf_counter()
            counts = await _write_tagged(
                snapshot, writers, line, claim=claim, pool=pool, checkpoint=checkpoint
            )
            for kind, writer in writers.items():
                files[kind] = {
                    "key": writer.key,
                    "size_bytes": writer.size_bytes,
                    "rows": counts[kind],
                }
            timings["one_scan"] = time.perf_counter() - mark
            return files
        for kind, writer in writers.items():
            mark = time.perf_counter()
            # Every row valid (a clean file): valid.csv is all.csv byte for byte, copied.
            if kind == "valid" and files["all"]["size_bytes"] <= S3_MAX_COPY_BYTES:
                await writer.copy_of(files["all"]["key"])
                files[kind] = {**files["all"], "key": writer.key}
                timings[kind] = time.perf_counter() - mark
                continue
            await writer.write(line)

            async def output(chunk: bytes, writer: MultipartWriter = writer) -> None:
                if await writer.write(chunk):
                    await _part_written(pool, claim, checkpoint)

            rows = await snapshot.copy(kind, output)
            await writer.close()
            files[kind] = {"key": writer.key, "size_bytes": writer.size_bytes, "rows": rows}
            timings[kind] = time.perf_counter() - mark
    return files


async def _write_tagged(
    snapshot: ExportSnapshot,
    writers: dict[ExportKind, MultipartWriter],
    header: bytes,
    *,
    claim: Claim,
    pool: asyncpg.Pool,
    checkpoint: Callable[[], None],
) -> dict[ExportKind, int]:
    """The three files from one tagged stream of the job's rows; each file's row count."""
    for writer in writers.values():
        await writer.write(header)
    records = TaggedRecords()
    counts = dict.fromkeys(writers, 0)

    async def output(chunk: bytes) -> None:
        flushed = False
        for kind, lines in split_records(records.feed(chunk)).items():
            if lines:
                counts[kind] += len(lines)
                lines.append(b"")  # every record ends with a line end
                flushed |= await writers[kind].write(b"\n".join(lines))
        if flushed:
            await _part_written(pool, claim, checkpoint)

    total = await snapshot.copy("all", output, tagged=True)
    records.close()
    if total != counts["all"]:
        raise ValueError(f"the server sent {total} rows, {counts['all']} were written")
    for writer in writers.values():
        await writer.close()
    return counts


async def _part_written(pool: asyncpg.Pool, claim: Claim, checkpoint: Callable[[], None]) -> None:
    """After a part went to S3: the job's liveness, and the claim kept fresh (or lost)."""
    checkpoint()
    if not await refresh_claim(pool, claim.job.id, claim.id):
        raise Interrupted("another writer took over these exports")
