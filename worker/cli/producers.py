"""The producer-side commands of ``ingest-worker``: ``submit``, ``presign-upload``,
``discover`` and ``retention`` (see :mod:`worker.cli.main`)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from worker.cli.common import ExitCode
from worker.errors import ActionRefused

if TYPE_CHECKING:
    from worker.settings import Settings


def _options(args: argparse.Namespace) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if args.delimiter:
        options["delimiter"] = "\t" if args.delimiter == "\\t" else args.delimiter
    if args.encoding:
        options["encoding"] = args.encoding
    if args.mapping:
        try:
            options["mapping"] = json.loads(args.mapping)
        except json.JSONDecodeError as error:
            raise ActionRefused(f"--mapping is not JSON: {error}") from None
    if args.options:
        try:
            options.update(json.loads(args.options))
        except json.JSONDecodeError as error:
            raise ActionRefused(f"--options is not JSON: {error}") from None
    return options


def _size(size: int) -> str:
    """``481 B``, ``12.3 KB``, ``80.0 MB``."""
    if size < 1000:
        return f"{size} B"
    if size < 1_000_000:
        return f"{size / 1e3:.1f} KB"
    return f"{size / 1e6:.1f} MB"


class _ProgressBar:
    """``uploaded 12.0 MB of 80.0 MB (15%)`` on stderr, redrawn in place on a terminal."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()

    def __call__(self, sent: int, total: int) -> None:
        percent = 100 if sent >= total else 100 * sent // total
        line = f"uploaded {_size(sent)} of {_size(total)} ({percent}%)"
        if self.tty:
            sys.stderr.write(f"\r{line}")
            if sent >= total:
                sys.stderr.write("\n")
        elif sent >= total:
            sys.stderr.write(f"{line}\n")
        sys.stderr.flush()


async def _submit(settings: Settings, args: argparse.Namespace) -> int:
    from worker.producer import Producer

    options = _options(args)
    async with Producer.connect(settings) as producer:
        if args.s3_key:
            submitted = await producer.submit_key(
                args.s3_key,
                tenant=args.tenant,
                options=options,
                idempotency_key=args.idempotency_key,
            )
        else:
            path = Path(args.file or "")
            if not args.file or not await asyncio.to_thread(path.is_file):
                raise ActionRefused(f"{args.file or 'FILE'}: no such file (or give --s3-key)")
            submitted = await producer.submit_file(
                path,
                tenant=args.tenant,
                options=options,
                idempotency_key=args.idempotency_key,
                progress=None if args.quiet else _ProgressBar(),
            )
    if args.json:
        print(
            json.dumps(
                {
                    "job_id": str(submitted.job_id),
                    "key": submitted.key,
                    "created": submitted.created,
                }
            )
        )
    else:
        said = "submitted as" if submitted.created else "already submitted as"
        print(f"{submitted.key} {said} job {submitted.job_id}")
    return ExitCode.OK


async def _presign_upload(settings: Settings, args: argparse.Namespace) -> int:
    from worker.producer import Producer

    if args.expires:
        settings = settings.model_copy(update={"upload_url_expiry_s": args.expires})
    async with Producer.connect(settings) as producer:
        answer = await producer.presign_upload(tenant=args.tenant, filename=args.filename)
    if args.json:
        print(json.dumps(answer))
    else:
        print(f"PUT the file to this URL within {answer['expires_in_s']} s:\n{answer['url']}")
        print(f"then: ingest-worker submit --s3-key {answer['key']} --tenant {args.tenant}")
    return ExitCode.OK


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ActionRefused(
            f"{text!r} is not an ISO date or time (2025-08-19, 2025-08-19T08:50)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def _discover(settings: Settings, args: argparse.Namespace) -> int:
    from worker.discover import enqueue, file_pattern, plan
    from worker.services import open_command_services

    pattern = file_pattern(args.pattern or settings.s3_event_key_pattern)
    async with open_command_services(settings) as services:
        found = await plan(
            services.pool,
            services.s3,
            settings.s3_bucket,
            prefix=args.prefix,
            pattern=pattern,
            tenant=args.tenant,
            since=_when(args.since),
            until=_when(args.until),
            batch=args.batch,
            latest=args.latest,
        )
        created = (
            [] if args.dry_run else await enqueue(services.pool, services.queue, found.new, {})
        )
    if args.json:
        print(
            json.dumps(
                {
                    "listed": found.listed,
                    "dry_run": args.dry_run,
                    "enqueued": len(created),
                    "files": [candidate.as_dict() for candidate in found.files],
                },
                indent=2,
            )
        )
        return ExitCode.OK
    print(f"{'batch':<14} {'state':<9} {'size':>12}  key")
    for candidate in found.files:
        state = candidate.state + (f" ({candidate.reason})" if candidate.reason else "")
        size = candidate.obj.size_bytes or 0
        print(f"{candidate.batch or '-':<14} {state:<9} {size:>12}  {candidate.obj.key}")
    print(found.summary())
    print("dry run: nothing enqueued" if args.dry_run else f"enqueued {len(created)} job(s)")
    return ExitCode.OK


async def _retention(settings: Settings, args: argparse.Namespace) -> int:
    from worker.retention import purge
    from worker.services import open_command_services

    async with open_command_services(settings) as services:
        purged = await purge(
            services.pool,
            services.s3,
            settings,
            completed_days=args.completed_days,
            failed_days=args.failed_days,
            dry_run=args.dry_run,
            limit=args.limit,
        )
    for entry in purged:
        print(entry.line(args.dry_run))
    verb = "would purge" if args.dry_run else "purged"
    print(f"{verb} {len(purged)} job(s); contacts are never touched")
    return ExitCode.OK


async def _sweep(settings: Settings, args: argparse.Namespace) -> int:
    from worker.services import open_command_services
    from worker.sweep import sweep

    after_s = settings.sweep_after_s if args.after_s is None else args.after_s
    async with open_command_services(settings) as services:
        swept = await sweep(
            services.pool,
            services.queue,
            after_s,
            export_attempts=settings.export_max_attempts,
            export_retry_base_s=settings.export_retry_base_s,
            dry_run=args.dry_run,
        )
    for entry in swept:
        print(entry.line(args.dry_run))
    verb = "would send" if args.dry_run else "sent"
    print(f"{verb} {len(swept)} stranded job(s) again")
    return ExitCode.OK


def add_producer_commands(commands: Any) -> None:
    """``submit``, ``presign-upload``, ``discover``, ``retention``, ``sweep``."""
    submit = commands.add_parser("submit", help="upload a file and create and enqueue its job")
    submit.add_argument("file", nargs="?", help="the CSV or Excel file to upload")
    submit.add_argument(
        "--tenant", "--user", required=True, help="the tenant the job is for (--user: the same)"
    )
    submit.add_argument("--s3-key", help="create the job of an object already in the bucket")
    submit.add_argument("--idempotency-key", help="the same key twice gives the same job")
    submit.add_argument("--delimiter", help="read with this delimiter (\\t for tab)")
    submit.add_argument("--encoding", help="read with this encoding")
    submit.add_argument("--mapping", help='JSON: field -> header or column, e.g. {"email": "Mail"}')
    submit.add_argument("--options", help="JSON: more job options (required_fields, ...)")
    submit.add_argument("--quiet", action="store_true", help="no progress bar")
    submit.add_argument("--json", action="store_true", help="print JSON")
    submit.set_defaults(handler=_submit)

    presign = commands.add_parser(
        "presign-upload", help="a pre-signed PUT URL and key for a browser upload"
    )
    presign.add_argument("--tenant", "--user", required=True, help="the tenant (--user: the same)")
    presign.add_argument("--filename", required=True, help="the file's name (kept in the key)")
    presign.add_argument("--expires", type=int, help="seconds the URL is valid")
    presign.add_argument("--json", action="store_true", help="print JSON")
    presign.set_defaults(handler=_presign_upload)

    discover = commands.add_parser(
        "discover", help="find files in the bucket and enqueue the new ones"
    )
    discover.add_argument("--prefix", required=True, help="the key prefix to list")
    discover.add_argument(
        "--pattern",
        help="a regex with named groups, or a preset (indici); "
        "default: INGEST_S3_EVENT_KEY_PATTERN",
    )
    discover.add_argument(
        "--tenant", "--user", help="the tenant, unless the pattern has a user group"
    )
    discover.add_argument("--since", help="only batches (or objects) from this date or time")
    discover.add_argument("--until", help="only batches (or objects) up to this date or time")
    discover.add_argument("--batch", help="only this batch")
    discover.add_argument("--latest", action="store_true", help="only the newest batch")
    discover.add_argument("--dry-run", action="store_true", help="print the plan, enqueue nothing")
    discover.add_argument("--json", action="store_true", help="print JSON")
    discover.set_defaults(handler=_discover)

    retention = commands.add_parser("retention", help="remove old jobs' staging rows and exports")
    retention.add_argument(
        "--completed-days",
        type=int,
        default=30,
        help="COMPLETED and CANCELLED jobs finished this long ago (default 30)",
    )
    retention.add_argument(
        "--failed-days",
        type=int,
        default=90,
        help="FAILED jobs finished this long ago (default 90)",
    )
    retention.add_argument("--limit", type=int, default=1000, help="at most this many jobs a run")
    retention.add_argument("--dry-run", action="store_true", help="only list what would go")
    retention.set_defaults(handler=_retention)

    sweeper = commands.add_parser(
        "sweep", help="send again the jobs nothing would move (stranded PENDING, dead workers)"
    )
    sweeper.add_argument(
        "--after-s",
        type=float,
        help="untouched for this long (default INGEST_SWEEP_AFTER_S)",
    )
    sweeper.add_argument("--dry-run", action="store_true", help="only list what would be sent")
    sweeper.set_defaults(handler=_sweep)
