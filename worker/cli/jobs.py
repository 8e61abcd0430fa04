"""The ``jobs`` and ``review`` commands of ``ingest-worker`` (see :mod:`worker.cli.main`).

A refused action (another tenant's job, a job in the wrong state, a row or issue that is not
there) prints one line saying why and exits 1; nothing is changed.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from worker.cli.common import (
    ExitCode,
    Handler,
    command_services,
    default_actor,
    fail,
    json_text,
)
from worker.errors import ActionRefused
from worker.model import CONTACT_FIELDS, JobStatus, RowStatus

if TYPE_CHECKING:
    from worker.services import Services
    from worker.settings import Settings


def _with_job_id(handler: Handler) -> Handler:
    """Turn a malformed job id into one line and exit code 2 (a refused action is one line
    and exit code 1 for every command: see ``worker.cli``)."""

    async def run(settings: Settings, args: argparse.Namespace) -> int:
        try:
            args.job_id = UUID(args.job)
        except ValueError:
            fail(f"{args.job!r} is not a job id")
            return ExitCode.USAGE
        return await handler(settings, args)

    return run


# --- jobs


async def _jobs_list(settings: Settings, args: argparse.Namespace) -> int:
    from worker.jobs import LIST_COLUMNS, list_jobs

    async with command_services(settings) as services:
        status = JobStatus(args.status) if args.status else None
        jobs = await list_jobs(services.pool, args.tenant, status, args.limit)
    if args.json:
        listed = [job.as_record() for job in jobs]
        print(json_text([{name: entry[name] for name in LIST_COLUMNS} for entry in listed]))
        return ExitCode.OK
    if not jobs:
        print("no jobs")
    for job in jobs:
        rows = "" if job.total_rows is None else f"{job.total_rows} rows, "
        created = f"{job.created_at:%Y-%m-%d %H:%M}" if job.created_at else ""
        print(
            f"{job.id}  {job.status:<13} {job.tenant:<16} {rows}"
            f"{job.unresolved_issues} open issues  {created}  {job.source_key}"
        )
    return ExitCode.OK


async def _jobs_stats(settings: Settings, args: argparse.Namespace) -> int:
    from worker.jobs import job_stats

    since = datetime.fromisoformat(args.since) if args.since else None
    async with command_services(settings) as services:
        stats = await job_stats(services.pool, args.tenant, since)
    if args.json:
        print(json_text(stats))
        return ExitCode.OK
    rate = stats["success_rate"]
    print(
        f"total {stats['total']}, completed {stats['completed']}, failed {stats['failed']}, "
        f"processing {stats['processing']}, needs review {stats['needs_review']}, "
        f"cancelled {stats['cancelled']}, success rate "
        + ("n/a" if rate is None else f"{rate:.1%}")
    )
    return ExitCode.OK


@_with_job_id
async def _jobs_show(settings: Settings, args: argparse.Namespace) -> int:
    from worker.jobs import job_report, render

    async with command_services(settings) as services:
        report = await job_report(services.pool, args.job_id, issue_limit=args.issues)
    if report is None:
        raise ActionRefused(f"no job {args.job_id}")
    if args.json:
        print(json_text(report.as_dict()))
    else:
        render(report, sys.stdout)
    return ExitCode.OK


@_with_job_id
async def _jobs_retry(settings: Settings, args: argparse.Namespace) -> int:
    from worker.jobs import retry_job

    async with command_services(settings) as services:
        await retry_job(services.pool, services.queue, args.job_id, args.tenant, args.actor)
    if args.json:
        print(json_text({"job_id": args.job_id, "queued": "retry"}))
    else:
        print(f"job {args.job_id} queued for a retry (it resumes from its staged rows)")
    return ExitCode.OK


@_with_job_id
async def _jobs_requeue(settings: Settings, args: argparse.Namespace) -> int:
    from worker.jobs import requeue_job

    async with command_services(settings) as services:
        action = await requeue_job(
            services.pool, services.queue, args.job_id, args.tenant, args.actor
        )
    if args.json:
        print(json_text({"job_id": args.job_id, "sent": action}))
    else:
        print(f"job {args.job_id}: sent its {action!r} message again")
    return ExitCode.OK


@_with_job_id
async def _jobs_cancel(settings: Settings, args: argparse.Namespace) -> int:
    from worker.jobs import cancel_job

    async with command_services(settings) as services:
        await cancel_job(services.pool, args.job_id, args.tenant, args.actor)
    if args.json:
        print(json_text({"job_id": args.job_id, "status": JobStatus.CANCELLED}))
    else:
        print(f"job {args.job_id} cancelled")
    return ExitCode.OK


@_with_job_id
async def _jobs_exports(settings: Settings, args: argparse.Namespace) -> int:
    from worker.jobs import export_links

    async with command_services(settings) as services:
        answer = await export_links(
            services.pool,
            services.s3,
            services.queue,
            settings,
            args.job_id,
            tenant=args.tenant,
            actor=args.actor,
            request=not args.no_request,
            rewrite=args.rewrite,
        )
    if args.json:
        print(json_text(answer))
        return ExitCode.OK
    if answer["state"] == "written":
        expiry = answer["expires_in_s"]
        print(f"exports of job {args.job_id} ({answer['status']}), valid for {expiry} s:")
        for entry in answer["files"]:
            size = f"{entry['rows']} rows, {entry['size_bytes']} bytes"
            print(f"{entry['kind']:<7} {size}  {entry['url']}")
        return ExitCode.OK
    said = {
        "writing": "are being written",
        "abandoned": "were being written by a worker that stopped",
        "deleted": "were deleted from the bucket since they were written",
        "failed": f"failed: {answer.get('error')}",
        "missing": "are not written yet",
    }[answer["state"]]
    suffix = (
        "; asked the worker to write them, run this again shortly"
        if answer.get("requested")
        else ""
    )
    print(f"exports of job {args.job_id} {said}{suffix}")
    return ExitCode.OK


# --- review


def _review(services: Services, args: argparse.Namespace) -> Any:
    from worker.review import Review

    return Review(services.pool, args.tenant, args.actor, services.queue)


@_with_job_id
async def _review_issues(settings: Settings, args: argparse.Namespace) -> int:
    async with command_services(settings) as services:
        issues = await _review(services, args).issues(
            args.job_id, include_resolved=args.all, page=args.page, page_size=args.page_size
        )
    if args.json:
        print(json_text(issues))
        return ExitCode.OK
    if not issues:
        print("no issues on this page")
    for issue in issues:
        rows = ", ".join(str(row) for row in issue["rows"])
        more = issue["row_count"] - len(issue["rows"])
        state = (
            f"resolved: {issue['resolution']}"
            if issue["resolved"]
            else "pending: its rows were edited or discarded; reprocess to judge them"
            if issue["pending"]
            else "open"
        )
        print(
            f"#{issue['number']:<5} {issue['type']:<18} rows {rows}{f' (+{more})' if more else ''}"
            f"  {issue['message']}  [{state}]"
        )
    return ExitCode.OK


@_with_job_id
async def _review_rows(settings: Settings, args: argparse.Namespace) -> int:
    async with command_services(settings) as services:
        # One row more than the page tells whether there is a next page.
        rows = await _review(services, args).rows(
            args.job_id,
            status=RowStatus(args.status) if args.status else None,
            after_row=args.after,
            limit=args.limit + 1,
        )
    more, rows = len(rows) > args.limit, rows[: args.limit]
    if args.json:
        print(json_text(rows))
        return ExitCode.OK
    for row in rows:
        problems = "; ".join(f"#{i['number']} {i['type']}" for i in row["issues"])
        fields = ", ".join(f"{name}={row[name]!r}" for name in CONTACT_FIELDS)
        print(
            f"row {row['row_number']:<7} {row['status']:<8} {fields}"
            + (f"  [{problems}]" if problems else "")
        )
    if more:
        print(f"(next page: --after {rows[-1]['row_number']})")
    else:
        print(f"({'no rows' if not rows else 'last page'})")
    return ExitCode.OK


@_with_job_id
async def _review_history(settings: Settings, args: argparse.Namespace) -> int:
    async with command_services(settings) as services:
        actions = await _review(services, args).history(args.job_id, args.row)
    if args.json:
        print(json_text(actions))
        return ExitCode.OK
    for action in actions:
        row = f" row {action['row_number']}" if action["row_number"] is not None else ""
        issue = f" issue #{action['issue_number']}" if action["issue_number"] is not None else ""
        print(
            f"{action['created_at']:%Y-%m-%d %H:%M:%S}  {action['actor']:<12} "
            f"{action['action']}{row}{issue}  {json.dumps(action['details'], ensure_ascii=False)}"
        )
    return ExitCode.OK


def _parse_assignments(assignments: list[str]) -> dict[str, str | None]:
    changes: dict[str, str | None] = {}
    for assignment in assignments:
        name, equals, value = assignment.partition("=")
        if not equals:
            raise ActionRefused(f"--set {assignment!r}: expected FIELD=VALUE")
        changes[name.strip()] = value
    return changes


@_with_job_id
async def _review_edit(settings: Settings, args: argparse.Namespace) -> int:
    changes = _parse_assignments(args.set)
    async with command_services(settings) as services:
        await _review(services, args).edit(args.job_id, args.row, changes)
    print(f"row {args.row} edited; run `review reprocess` when the review is done")
    return ExitCode.OK


@_with_job_id
async def _review_discard(settings: Settings, args: argparse.Namespace) -> int:
    async with command_services(settings) as services:
        await _review(services, args).discard(args.job_id, args.row, args.note)
    print(f"row {args.row} discarded")
    return ExitCode.OK


@_with_job_id
async def _review_accept(settings: Settings, args: argparse.Namespace) -> int:
    async with command_services(settings) as services:
        record = await _review(services, args).accept(
            args.job_id, args.issue, args.how, keep_row=args.keep_row
        )
    print(f"issue {args.issue} {record.details['resolution']}")
    return ExitCode.OK


@_with_job_id
async def _review_reprocess(settings: Settings, args: argparse.Namespace) -> int:
    async with command_services(settings) as services:
        await _review(services, args).request_reprocess(args.job_id)
    print(f"job {args.job_id} queued for reprocessing")
    return ExitCode.OK


# --- parsing


def _job_argument(parser: argparse.ArgumentParser, *, tenant_required: bool) -> None:
    parser.add_argument("job", help="the job's id")
    parser.add_argument(
        "--tenant",
        required=tenant_required,
        help="the tenant the job belongs to" + ("" if tenant_required else "; optional"),
    )


def _actor_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--actor",
        default=default_actor(),
        help="who does this, as recorded (default: INGEST_ACTOR or the login name)",
    )


def add_jobs_commands(commands: Any) -> None:
    """``jobs list|show|stats|retry|cancel|requeue|exports``."""
    jobs = commands.add_parser("jobs", help="look at jobs, retry, cancel, get their exports")
    actions = jobs.add_subparsers(dest="jobs_command", required=True, metavar="ACTION")

    listing = actions.add_parser("list", help="the newest jobs")
    listing.add_argument("--tenant", help="only this tenant's jobs")
    listing.add_argument(
        "--status", choices=[status.value for status in JobStatus], help="only jobs in this status"
    )
    listing.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=_jobs_list)

    show = actions.add_parser("show", help="a job's status, progress and open issues")
    _job_argument(show, tenant_required=False)
    show.add_argument("--json", action="store_true", help="print JSON")
    show.add_argument("--issues", type=int, default=20, help="open issues to list")
    show.set_defaults(handler=_jobs_show)

    stats = actions.add_parser("stats", help="jobs by state and the success rate")
    stats.add_argument("--tenant", help="only this tenant's jobs")
    stats.add_argument("--since", help="only jobs created since (ISO date or time, UTC)")
    stats.add_argument("--json", action="store_true", help="print JSON")
    stats.set_defaults(handler=_jobs_stats)

    retry = actions.add_parser("retry", help="run a FAILED job again")
    _job_argument(retry, tenant_required=False)
    _actor_argument(retry)
    retry.add_argument("--json", action="store_true", help="print JSON")
    retry.set_defaults(handler=_jobs_retry)

    cancel = actions.add_parser("cancel", help="cancel a PENDING or NEEDS_REVIEW job")
    _job_argument(cancel, tenant_required=False)
    _actor_argument(cancel)
    cancel.add_argument("--json", action="store_true", help="print JSON")
    cancel.set_defaults(handler=_jobs_cancel)

    requeue = actions.add_parser(
        "requeue", help="send a job's message again (a lost message, a job stuck after a crash)"
    )
    _job_argument(requeue, tenant_required=False)
    _actor_argument(requeue)
    requeue.add_argument("--json", action="store_true", help="print JSON")
    requeue.set_defaults(handler=_jobs_requeue)

    exports = actions.add_parser(
        "exports", help="pre-signed download URLs of a job's exports (asks for them if missing)"
    )
    _job_argument(exports, tenant_required=False)
    _actor_argument(exports)
    request = exports.add_mutually_exclusive_group()
    request.add_argument(
        "--no-request", action="store_true", help="only show, never ask the worker to write them"
    )
    request.add_argument(
        "--rewrite", action="store_true", help="forget the written exports and write them again"
    )
    exports.add_argument("--json", action="store_true", help="print JSON")
    exports.set_defaults(handler=_jobs_exports)


def add_review_commands(commands: Any) -> None:
    """``review issues|rows|history|edit|discard|accept|reprocess``."""
    review = commands.add_parser(
        "review", help="look at and fix a job's rows while it is NEEDS_REVIEW"
    )
    actions = review.add_subparsers(dest="review_command", required=True, metavar="ACTION")

    issues = actions.add_parser("issues", help="a page of the job's issues and their rows")
    _job_argument(issues, tenant_required=True)
    issues.add_argument("--all", action="store_true", help="resolved issues too (history)")
    issues.add_argument("--page", type=int, default=1, help="page number (default 1)")
    issues.add_argument("--page-size", type=int, default=50, help="issues a page (default 50)")
    issues.add_argument("--json", action="store_true", help="print JSON")
    issues.set_defaults(handler=_review_issues, actor="reader")

    rows = actions.add_parser("rows", help="the job's rows with their fields and open issues")
    _job_argument(rows, tenant_required=True)
    rows.add_argument("--status", choices=[status.value for status in RowStatus])
    rows.add_argument("--after", type=int, default=0, help="rows after this row number")
    rows.add_argument("--limit", type=int, default=50, help="rows a page (default 50)")
    rows.add_argument("--json", action="store_true", help="print JSON")
    rows.set_defaults(handler=_review_rows, actor="reader")

    history = actions.add_parser("history", help="who did what to the job's rows")
    _job_argument(history, tenant_required=True)
    history.add_argument("--row", type=int, help="only this row")
    history.add_argument("--json", action="store_true", help="print JSON")
    history.set_defaults(handler=_review_history, actor="reader")

    edit = actions.add_parser("edit", help="set a row's fields (email, first_name, ...)")
    _job_argument(edit, tenant_required=True)
    edit.add_argument("row", type=int, help="the row number")
    edit.add_argument(
        "--set",
        action="append",
        required=True,
        metavar="FIELD=VALUE",
        help="a new value (repeat for more fields; FIELD= clears one)",
    )
    _actor_argument(edit)
    edit.set_defaults(handler=_review_edit)

    discard = actions.add_parser("discard", help="leave a row out of the import")
    _job_argument(discard, tenant_required=True)
    discard.add_argument("row", type=int, help="the row number")
    discard.add_argument("--note", help="why, for the record")
    _actor_argument(discard)
    discard.set_defaults(handler=_review_discard)

    accept = actions.add_parser(
        "accept", help="accept an issue: an existing email (skip|update), a duplicate (keep)"
    )
    _job_argument(accept, tenant_required=True)
    accept.add_argument("issue", type=int, help="the issue's number (#N in `review issues`)")
    accept.add_argument("--as", dest="how", required=True, choices=("skip", "update", "keep"))
    accept.add_argument("--keep-row", type=int, help="with --as keep: the row to keep")
    _actor_argument(accept)
    accept.set_defaults(handler=_review_accept)

    reprocess = actions.add_parser("reprocess", help="have the worker judge the rows again")
    _job_argument(reprocess, tenant_required=True)
    _actor_argument(reprocess)
    reprocess.set_defaults(handler=_review_reprocess)
