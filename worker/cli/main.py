"""The ``ingest-worker`` command.

Commands: ``run [--once]``, ``demo``, ``inspect``, ``jobs list|show|stats|retry|cancel|exports``,
``review issues|rows|history|edit|discard|accept|reprocess`` (in :mod:`worker.cli.jobs`),
``submit``, ``presign-upload``, ``discover``, ``retention`` (in :mod:`worker.cli.producers`),
``migrate``, ``check``, ``dlq list``, ``dlq replay``.
Logs go to stderr; what a command reports to a person (check lines, DLQ listings) goes to
stdout. Exit codes are named in :class:`ExitCode`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Sequence
from typing import Any

from worker import __version__
from worker.cli.common import ExitCode, execute, fail
from worker.logs import configure_logging, get_logger
from worker.settings import Settings

log = get_logger("worker.cli")


# --- commands


async def _run(settings: Settings, args: argparse.Namespace) -> int:
    from worker.daemon import Worker
    from worker.flows import load_flows
    from worker.health import HealthServer
    from worker.services import open_services

    flows = load_flows(settings)
    async with open_services(settings) as services:
        worker = Worker(settings, services.pool, services.s3, services.queue, flows)
        health = None
        if settings.metrics_port:
            health = HealthServer(
                worker,
                services.pool,
                services.queue,
                port=settings.metrics_port,
                max_poll_age_s=settings.health_max_poll_age_s,
                host=settings.metrics_host,
            )
            await health.start()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.add_signal_handler(signum, worker.request_stop)
        try:
            await worker.run(once=args.once)
        finally:
            for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                loop.remove_signal_handler(signum)
            if health is not None:
                await health.stop()
        return ExitCode.INTERRUPTED if worker.forced.is_set() else ExitCode.OK


async def _migrate(settings: Settings, args: argparse.Namespace) -> int:
    from worker.store.migrate import migrate
    from worker.store.pool import connect

    connection = await connect(settings)
    try:
        applied = await migrate(connection)
    finally:
        await connection.close()
    if applied:
        for migration in applied:
            print(f"applied {migration.version:04d}_{migration.name}")
    else:
        print("database schema is up to date")
    return ExitCode.OK


async def _check(settings: Settings, args: argparse.Namespace) -> int:
    from worker.probes import run_probes

    results = await run_probes(settings)
    for result in results:
        print(result.line())
    return ExitCode.OK if all(result.ok for result in results) else ExitCode.FAILURE


async def _dlq_list(settings: Settings, args: argparse.Namespace) -> int:
    from worker.dlq import list_dead_letters
    from worker.services import open_services

    async with open_services(settings, check=False) as services:
        entries = await list_dead_letters(services.queue, limit=args.max)
    if not entries:
        print("the dead-letter queue is empty")
    for entry in entries:
        print(entry.line())
    return ExitCode.OK


async def _dlq_replay(settings: Settings, args: argparse.Namespace) -> int:
    from worker.dlq import replay_dead_letters
    from worker.services import open_services

    async with open_services(settings, check=False) as services:
        outcomes = await replay_dead_letters(
            services.queue, services.pool, limit=args.max, dry_run=args.dry_run
        )
    for outcome in outcomes:
        print(outcome.line())
    moved = sum(1 for outcome in outcomes if outcome.moved)
    verb = "would move" if args.dry_run else "moved"
    print(f"{verb} {moved} message(s); {len(outcomes) - moved} left in the dead-letter queue")
    return ExitCode.OK


def _inspect_options(args: argparse.Namespace) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for key in ("encoding", "delimiter", "quotechar", "sheet", "header_row"):
        if getattr(args, key) is not None:
            options[key] = getattr(args, key)
    if args.delimiter == "\\t":
        options["delimiter"] = "\t"
    if args.quotechar == "none":
        options["quotechar"] = None
    if args.header is not None:
        options["has_header"] = args.header
    return options


def _print_inspection(report: dict[str, Any], as_json: bool) -> None:
    import json

    from worker.inspect import render

    if as_json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        render(report, sys.stdout)


async def _inspect_s3(settings: Settings, args: argparse.Namespace) -> int:
    from contextlib import AsyncExitStack

    from worker.aws import open_clients
    from worker.errors import PermanentError
    from worker.inspect import inspect_stream, parse_s3_url
    from worker.sources.s3 import ObjectStream, pin_object

    bucket, key = parse_s3_url(args.target)
    async with AsyncExitStack() as stack:
        s3, _ = await open_clients(settings, stack)
        try:
            version = await pin_object(s3, bucket, key)
            report = await inspect_stream(
                ObjectStream(s3, version), _inspect_options(args), args.rows, args.all
            )
        except PermanentError as error:
            fail(error.message)
            return ExitCode.FAILURE
    _print_inspection(report, args.json)
    return ExitCode.OK


def _inspect(args: argparse.Namespace) -> int:
    from pathlib import Path

    from worker.errors import PermanentError
    from worker.inspect import inspect_local

    if args.target.startswith("s3://"):
        return execute(_inspect_s3, args)
    path = Path(args.target)
    if not path.is_file():
        fail(f"{path}: no such file")
        return ExitCode.FAILURE
    configure_logging("WARNING", "auto")
    try:
        report = asyncio.run(inspect_local(path, _inspect_options(args), args.rows, args.all))
    except PermanentError as error:
        fail(f"{path}: {error.message}")
        return ExitCode.FAILURE
    _print_inspection(report, args.json)
    return ExitCode.OK


def _demo(args: argparse.Namespace) -> int:
    from worker.local import run_demo

    try:
        return run_demo(args)
    except KeyboardInterrupt:  # stopped while the stack was coming up: cleaned up already
        return ExitCode.INTERRUPTED


# --- parsing


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also used by the README's command table test)."""
    parser = argparse.ArgumentParser(
        prog="ingest-worker",
        description="Turns uploaded contact files into clean, deduplicated, per-tenant data.",
    )
    parser.add_argument("--version", action="version", version=f"ingest-worker {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="receive jobs from the queue and run them")
    run.add_argument(
        "--once", action="store_true", help="exit when the queue is empty and no job is running"
    )
    run.set_defaults(handler=_run)

    demo = commands.add_parser(
        "demo", help="start embedded PostgreSQL and the S3/SQS emulator, then run the worker"
    )
    demo.add_argument(
        "--dir",
        default=".local",
        help="folder for the embedded database's data (kept between runs)",
    )
    demo.add_argument(
        "--aws-port",
        type=int,
        default=0,
        help="port of the S3/SQS emulator on 127.0.0.1 (default: a free one)",
    )
    demo.add_argument(
        "--exit-when-idle",
        action="store_true",
        help="stop once the queue is empty instead of waiting for Ctrl-C",
    )
    demo.set_defaults(direct=_demo)

    inspect = commands.add_parser(
        "inspect", help="show how a file (path or s3://bucket/key) would be read"
    )
    inspect.add_argument("target", help="a local file, or s3://bucket/key")
    inspect.add_argument("--rows", type=int, default=10, help="rows to show (default 10)")
    inspect.add_argument("--json", action="store_true", help="print JSON")
    inspect.add_argument("--encoding", help="read with this encoding instead of detecting")
    inspect.add_argument(
        "--all",
        action="store_true",
        help="read the whole file as the worker would (no database): count its data rows "
        "and reading problems",
    )
    inspect.add_argument("--delimiter", help="use this delimiter (\\t for tab)")
    inspect.add_argument("--quotechar", help="use this quote character ('none': no quoting)")
    inspect.add_argument(
        "--header-row",
        help="the header is this non-blank row (1 = the first); rows above it are skipped",
    )
    inspect.add_argument(
        "--sheet", help="Excel: the sheet to read (default: the one that holds the contacts)"
    )
    header = inspect.add_mutually_exclusive_group()
    header.add_argument(
        "--header",
        dest="header",
        action="store_true",
        default=None,
        help="the first row is a header",
    )
    header.add_argument(
        "--no-header", dest="header", action="store_false", help="the first row is data"
    )
    inspect.set_defaults(direct=_inspect)

    from worker.cli.jobs import add_jobs_commands, add_review_commands
    from worker.cli.producers import add_producer_commands

    add_jobs_commands(commands)
    add_review_commands(commands)
    add_producer_commands(commands)

    migrate = commands.add_parser("migrate", help="apply the database migrations")
    migrate.set_defaults(handler=_migrate)

    check = commands.add_parser(
        "check", help="check the database, bucket and queue are reachable (exit 0 if all are)"
    )
    check.set_defaults(handler=_check)

    dlq = commands.add_parser("dlq", help="inspect or replay the dead-letter queue")
    dlq_commands = dlq.add_subparsers(dest="dlq_command", required=True, metavar="ACTION")
    dlq_list = dlq_commands.add_parser("list", help="show what is in the dead-letter queue")
    dlq_list.add_argument("--max", type=int, default=100, help="at most this many messages")
    dlq_list.set_defaults(handler=_dlq_list)
    replay = dlq_commands.add_parser(
        "replay", help="move dead-letter messages back to the job queue"
    )
    replay.add_argument("--max", type=int, default=100, help="at most this many messages")
    replay.add_argument("--dry-run", action="store_true", help="only say what would move")
    replay.set_defaults(handler=_dlq_replay)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``ingest-worker`` and ``python -m worker``."""
    args = build_parser().parse_args(argv)
    try:
        if hasattr(args, "direct"):
            code = int(args.direct(args))
        else:
            code = int(execute(args.handler, args))
        sys.stdout.flush()
    except BrokenPipeError:
        # Piped into head or less and the reader went away: stop quietly. (SIGPIPE stays
        # ignored, as Python sets it: its default action would kill a worker whose
        # database or S3 connection is cut mid-write, instead of raising an error the
        # retry policy handles.)
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return ExitCode.PIPE_CLOSED
    return code
