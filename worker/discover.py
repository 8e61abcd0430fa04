"""Discovery and backfill: find files in the bucket, plan their jobs, enqueue the new ones.

:func:`plan` lists a prefix page by page (the latest version of each object when the
bucket is versioned), matches each key against a pattern whose named groups say what the
file is, validates what the pattern found, groups the files into batches (the ``batch``
group, else the extraction date) in batch order, and marks the objects already ingested
(a job exists for the same key and version id or ETag). :func:`enqueue` creates and
sends the new ones' jobs, batch by batch; run again, it finds nothing new.

Patterns are regular expressions searched in the whole key, or a preset name:

- ``indici``: the seed's ``<PerOrgID><PracticeID><ExtractType>_<DateFrom>_<DateTo>_
  <DateExtracted>`` (``685146545Appointments_202508180544_202508190544_2508190850``), with
  its rules: PerOrgID 685146, PracticeID 545, a known extract type, valid dates
  (``yyyyMMddHHmm`` twice, then ``yyMMddHHmm``) and DateExtracted not before DateTo;
  batches by DateExtracted.

Groups a pattern may have: ``user`` (the tenant; else ``--tenant``), ``batch``,
``date_extracted`` (``yyMMddHHmm`` or ``yyyyMMddHHmm``), ``delimiter``, ``encoding``.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from worker.errors import ActionRefused
from worker.intake import object_idempotency_key
from worker.messages import JobMessage, S3Object
from worker.store.jobs import ingested_objects, insert_jobs

if TYPE_CHECKING:
    import asyncpg
    from types_aiobotocore_s3 import S3Client

    from worker.sqs import JobQueue

INDICI_EXTRACT_TYPES = frozenset(
    {
        "Patients",
        "Appointments",
        "Providers",
        "PracticeInfo",
        "Invoices",
        "InvoiceDetail",
        "Immunisations",
        "Diagnoses",
        "Measurements",
        "Recalls",
        "Inbox",
        "InboxDetail",
        "Medicine",
        "NextOfKin",
        "Vaccine",
        "Allergies",
        "AppointmentMedications",
        "PatientAlerts",
    }
)
INDICI_ORG_ID = "685146"
INDICI_PRACTICE_ID = "545"
_CHECK_CHUNK = 1000


def _parse_stamp(text: str) -> datetime:
    """``yyyyMMddHHmm`` or ``yyMMddHHmm`` (UTC); ValueError if it is no real time."""
    form = "%Y%m%d%H%M" if len(text) == 12 else "%y%m%d%H%M"
    return datetime.strptime(text, form).replace(tzinfo=UTC)


def _validate_indici(groups: dict[str, str]) -> str | None:
    if groups["org"] != INDICI_ORG_ID:
        return f"PerOrgID {groups['org']} is not {INDICI_ORG_ID}"
    if groups["practice"] != INDICI_PRACTICE_ID:
        return f"PracticeID {groups['practice']} is not {INDICI_PRACTICE_ID}"
    if groups["extract_type"] not in INDICI_EXTRACT_TYPES:
        return f"unknown extract type {groups['extract_type']!r}"
    try:
        date_from = _parse_stamp(groups["date_from"])
        date_to = _parse_stamp(groups["date_to"])
        extracted = _parse_stamp(groups["date_extracted"])
    except ValueError as error:
        return f"a date is not valid: {error}"
    if date_to < date_from:
        return "DateTo is before DateFrom"
    if extracted < date_to:
        return "DateExtracted is before DateTo"
    return None


@dataclass(frozen=True)
class FilePattern:
    """How to read what a file is from its key."""

    name: str
    regex: re.Pattern[str]
    validate: Callable[[dict[str, str]], str | None] = lambda groups: None


PRESETS = {
    "indici": FilePattern(
        "indici",
        re.compile(
            r"(?:^|/)(?P<org>\d{6})(?P<practice>\d{3})(?P<extract_type>[A-Za-z]+)"
            r"_(?P<date_from>\d{12})_(?P<date_to>\d{12})_(?P<date_extracted>\d{10})"
            r"(?:\.csv)?$"
        ),
        _validate_indici,
    )
}


def file_pattern(text: str) -> FilePattern:
    """A preset by name, or a regular expression; ActionRefused if it is neither."""
    if text in PRESETS:
        return PRESETS[text]
    try:
        return FilePattern("custom", re.compile(text))
    except re.error as error:
        raise ActionRefused(
            f"--pattern {text!r} is not a valid regular expression: {error}"
        ) from None


@dataclass
class Candidate:
    """One object discovery looked at, and what it makes of it."""

    obj: S3Object
    last_modified: datetime
    tenant: str | None = None
    batch: str = ""
    batch_time: datetime | None = None
    groups: dict[str, str] = field(default_factory=dict)
    state: str = "new"  # new | ingested | invalid
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """For ``--json``."""
        return {
            "batch": self.batch,
            "key": self.obj.key,
            "version_id": self.obj.version_id,
            "etag": self.obj.etag,
            "size_bytes": self.obj.size_bytes,
            "tenant": self.tenant,
            "state": self.state,
            "reason": self.reason,
        }


@dataclass
class Plan:
    """What discovery found: the matching files in batch order, and how many it listed."""

    listed: int = 0
    files: list[Candidate] = field(default_factory=list)

    @property
    def new(self) -> list[Candidate]:
        """The files to enqueue, in batch order."""
        return [file for file in self.files if file.state == "new"]

    def summary(self) -> str:
        """One line: what was listed, matched, new, ingested, invalid, in how many batches."""
        count = {
            state: sum(1 for f in self.files if f.state == state)
            for state in ("new", "ingested", "invalid")
        }
        batches = len({f.batch for f in self.files if f.state == "new"})
        return (
            f"{self.listed} objects listed, {len(self.files)} match the pattern: "
            f"{count['new']} new in {batches} batch(es), {count['ingested']} already "
            f"ingested, {count['invalid']} invalid"
        )


async def list_objects(
    s3: S3Client, bucket: str, prefix: str
) -> AsyncIterator[tuple[S3Object, datetime]]:
    """Every object under ``prefix``, page by page: the latest version of each when the
    bucket is versioned (with its version id), else the object with its ETag."""
    versioning = await s3.get_bucket_versioning(Bucket=bucket)
    if versioning.get("Status") == "Enabled":
        paginator = s3.get_paginator("list_object_versions")
        async for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            for version in page.get("Versions", []):
                if version.get("IsLatest"):
                    yield _listed(bucket, version, version.get("VersionId"))
        return
    paginator_v2 = s3.get_paginator("list_objects_v2")
    async for listing in paginator_v2.paginate(Bucket=bucket, Prefix=prefix):
        for item in listing.get("Contents", []):
            yield _listed(bucket, item, None)


def _listed(bucket: str, entry: Any, version_id: str | None) -> tuple[S3Object, datetime]:
    """An object of a listing page (ListObjectsV2 contents or ListObjectVersions versions)
    and its last-modified time."""
    etag = str(entry.get("ETag", "")).strip('"') or None
    return (
        S3Object(
            bucket=bucket,
            key=entry["Key"],
            size_bytes=entry.get("Size"),
            etag=etag,
            version_id=version_id,
        ),
        entry["LastModified"],
    )


def _as_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def plan(
    pool: asyncpg.Pool,
    s3: S3Client,
    bucket: str,
    *,
    prefix: str,
    pattern: FilePattern,
    tenant: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    batch: str | None = None,
    latest: bool = False,
) -> Plan:
    """The discovery plan (see the module's docstring); reads, changes nothing."""
    if tenant is None and "user" not in pattern.regex.groupindex:
        raise ActionRefused("give --tenant, or a pattern with a (?P<user>...) group")
    found = Plan()
    async for obj, modified in list_objects(s3, bucket, prefix):
        found.listed += 1
        match = pattern.regex.search(obj.key)
        if match is None:
            continue
        groups = {name: value for name, value in match.groupdict().items() if value is not None}
        candidate = Candidate(obj, _as_utc(modified), groups.get("user", tenant), groups=groups)
        candidate.reason = pattern.validate(groups)
        if candidate.reason is not None:
            candidate.state = "invalid"
        elif "date_extracted" in groups:
            candidate.batch_time = _parse_stamp(groups["date_extracted"])
        candidate.batch = groups.get("batch") or (
            candidate.batch_time.strftime("%Y%m%d%H%M") if candidate.batch_time else ""
        )
        when = candidate.batch_time or candidate.last_modified
        if since is not None and when < _as_utc(since):
            continue
        if until is not None and when > _as_utc(until):
            continue
        if batch is not None and candidate.batch != batch:
            continue
        found.files.append(candidate)
    found.files.sort(key=lambda f: (f.batch_time or f.last_modified, f.batch, f.obj.key))
    if latest:
        valid = [f for f in found.files if f.state != "invalid"]
        if valid:
            newest = valid[-1].batch
            found.files = [f for f in found.files if f.batch == newest]
    await _mark_ingested(pool, bucket, found.files)
    return found


async def _mark_ingested(pool: asyncpg.Pool, bucket: str, files: list[Candidate]) -> None:
    """Mark the files a job exists for (same key, and same version id or ETag)."""
    for start in range(0, len(files), _CHECK_CHUNK):
        chunk = files[start : start + _CHECK_CHUNK]
        seen: dict[str, list[tuple[str | None, str | None]]] = {}
        for key, version_id, etag in await ingested_objects(
            pool, bucket, [f.obj.key for f in chunk]
        ):
            seen.setdefault(key, []).append((version_id, etag))
        for candidate in chunk:
            for version_id, etag in seen.get(candidate.obj.key, ()):
                same_version = version_id is not None and version_id == candidate.obj.version_id
                same_etag = etag is not None and etag == candidate.obj.etag
                if (same_version or same_etag) and candidate.state == "new":
                    candidate.state = "ingested"


async def enqueue(
    pool: asyncpg.Pool,
    queue: JobQueue,
    files: list[Candidate],
    options: dict[str, Any],
    chunk_size: int = 500,
) -> list[UUID]:
    """Create and send the jobs of ``files`` in their order, ``chunk_size`` at a time: each
    chunk's jobs in one transaction, their messages after it commits (a message never
    arrives before its job). A crash between the two leaves PENDING jobs without a
    message, which the sweep sends (see :mod:`worker.sweep`). Returns the ids of the jobs
    created, in order."""
    created: list[UUID] = []
    for start in range(0, len(files), chunk_size):
        chunk = files[start : start + chunk_size]
        bucket = chunk[0].obj.bucket
        async with pool.acquire() as connection, connection.transaction():
            new_jobs = await insert_jobs(
                connection,
                tenants=[candidate.tenant for candidate in chunk],
                bucket=bucket,
                keys=[candidate.obj.key for candidate in chunk],
                version_ids=[candidate.obj.version_id for candidate in chunk],
                etags=[candidate.obj.etag for candidate in chunk],
                filenames=[candidate.obj.key.rsplit("/", 1)[-1] for candidate in chunk],
                options=[json.dumps(_file_options(candidate, options)) for candidate in chunk],
                idempotency_keys=[object_idempotency_key(candidate.obj) for candidate in chunk],
            )
            # RETURNING gives no order: put the new jobs back in the files' order.
            position = {candidate.obj.key: index for index, candidate in enumerate(chunk)}
            new_ids = [job.id for job in sorted(new_jobs, key=lambda j: position[j.source_key])]
        await queue.send_batch([JobMessage(job_id=job_id).body() for job_id in new_ids])
        created.extend(new_ids)
    return created


def _file_options(candidate: Candidate, options: dict[str, Any]) -> dict[str, Any]:
    file_options = dict(options)
    for name in ("delimiter", "encoding"):
        if candidate.groups.get(name):
            file_options[name] = candidate.groups[name]
    return file_options
