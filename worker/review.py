"""Review actions: what the people who fix imports do to a job in NEEDS_REVIEW.

A :class:`Review` acts for one tenant and one person (``actor``). Every query goes
through the tenant's own job row, so one tenant never reads or changes another's rows: a
job id of another tenant is answered exactly like a job that does not exist. Every change
is one transaction that locks the job's row (the reprocessing flow takes the same lock, so
an action never interleaves with it) and records who did what, when, to which row or
issue, with the values before and after, in ``review_actions``.

Edits and discards take effect when the job is reprocessed (:meth:`Review.request_reprocess`
puts a ``reprocess`` message on the queue): the rows are validated again and the issues
resolved, re-opened or filed. Accepting an issue resolves it at once, as the person's
decision:

- an email the tenant already has (EXISTING_CONTACT, CONTACT_CONFLICT): ``skip`` the row
  (discarded, the contact kept) or ``update`` the contact with the row's values;
- a duplicate inside the file (DUPLICATE_IN_FILE): ``keep`` one row, discard the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

from worker.errors import ActionRefused
from worker.messages import JobMessage
from worker.model import CONTACT_FIELDS, IssueType, JobStatus, ReviewAction, RowStatus, decode_raw
from worker.store import review as store
from worker.store.jobs import record_action

if TYPE_CHECKING:
    import asyncpg

    from worker.sqs import JobQueue
    from worker.store.pool import Connection

Acceptance = Literal["skip", "update", "keep"]
EDITABLE_FIELDS = CONTACT_FIELDS
_EXISTING_TYPES = frozenset({IssueType.EXISTING_CONTACT, IssueType.CONTACT_CONFLICT})
_LIVE = frozenset({RowStatus.READY, RowStatus.ISSUE})


@dataclass(frozen=True)
class ActionRecord:
    """One recorded review action."""

    id: int
    action: ReviewAction
    row_number: int | None
    details: dict[str, Any]


class Review:
    """Review actions on the jobs of ``tenant``, recorded as done by ``actor``."""

    def __init__(
        self, pool: asyncpg.Pool, tenant: str, actor: str, queue: JobQueue | None = None
    ) -> None:
        if not tenant or not actor:
            raise ActionRefused("a review action needs a tenant and an actor")
        self.pool, self.tenant, self.actor, self.queue = pool, tenant, actor, queue

    # --- reading

    async def issues(
        self,
        job_id: UUID,
        *,
        include_resolved: bool = False,
        page: int = 1,
        page_size: int = 50,
        rows_per_issue: int = 20,
    ) -> list[dict[str, Any]]:
        """A page (1-based) of the job's issues, open ones first, each with its row count
        and first rows; resolved ones too (as history) when ``include_resolved``."""
        await self._job(job_id)
        return await store.list_issues(
            self.pool,
            job_id,
            self.tenant,
            include_resolved=include_resolved,
            limit=page_size,
            offset=(max(page, 1) - 1) * page_size,
            rows_per_issue=rows_per_issue,
        )

    async def rows(
        self,
        job_id: UUID,
        *,
        status: RowStatus | None = None,
        after_row: int = 0,
        limit: int = 50,
    ) -> list[dict[str, Any]]:
        """Up to ``limit`` of the job's rows after ``after_row`` (only ``status`` ones if
        given), with their cells as read, current fields and open issues."""
        await self._job(job_id)
        wanted = RowStatus(status) if status else None
        rows = await store.list_rows(
            self.pool, job_id, self.tenant, status=wanted, after_row=after_row, limit=limit
        )
        for row in rows:
            row["cells"] = decode_raw(row.pop("raw"))
        return rows

    async def history(self, job_id: UUID, row_number: int | None = None) -> list[dict[str, Any]]:
        """What people did to the job (or to one row), oldest first."""
        await self._job(job_id)
        return await store.history(self.pool, job_id, self.tenant, row_number)

    # --- changing

    async def edit(
        self, job_id: UUID, row_number: int, changes: dict[str, str | None]
    ) -> ActionRecord:
        """Set fields of a row (``email``, ``first_name``, ``last_name``, ``company``,
        ``phone``; an empty value clears one). Validated again on reprocessing."""
        unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
        if unknown:
            raise ActionRefused(
                f"cannot edit {', '.join(unknown)}: the editable fields are "
                f"{', '.join(EDITABLE_FIELDS)}"
            )
        if not changes:
            raise ActionRefused("nothing to edit: give at least one field")
        async with self.pool.acquire() as connection, connection.transaction():
            await self._lock_job_in_review(connection, job_id)
            row = await self._lock_live_row(connection, job_id, row_number)
            after = {
                name: (value.strip() or None) if value else None for name, value in changes.items()
            }
            before = {name: row.fields[name] for name in after}
            await store.edit_row(connection, job_id, row_number, {**row.fields, **after})
            return await self._record(
                connection,
                job_id,
                ReviewAction.EDIT,
                row_number,
                None,
                {"before": before, "after": after},
            )

    async def discard(self, job_id: UUID, row_number: int, note: str | None = None) -> ActionRecord:
        """Leave a row out of the import (its issues resolve on reprocessing)."""
        async with self.pool.acquire() as connection, connection.transaction():
            await self._lock_job_in_review(connection, job_id)
            row = await self._lock_live_row(connection, job_id, row_number)
            await store.set_row_status(connection, job_id, row_number, discard=True, update=False)
            details: dict[str, Any] = {"status_before": row.status}
            if note:
                details["note"] = note
            return await self._record(
                connection, job_id, ReviewAction.DISCARD, row_number, None, details
            )

    async def accept(
        self, job_id: UUID, number: int, how: Acceptance, keep_row: int | None = None
    ) -> ActionRecord:
        """Accept the job's issue ``number`` (``#N`` in its list: issues are numbered within
        their job) as the person decides (see the module's docstring)."""
        async with self.pool.acquire() as connection, connection.transaction():
            await self._lock_job_in_review(connection, job_id)
            issue = await store.lock_issue(connection, job_id, number)
            if issue is None:
                raise ActionRefused(f"job {job_id} has no issue #{number}")
            if issue.resolved:
                raise ActionRefused(f"issue #{number} is already resolved")
            issue_id = issue.id
            if issue.type in _EXISTING_TYPES:
                return await self._accept_existing(connection, job_id, issue_id, issue.rows, how)
            if issue.type is IssueType.DUPLICATE_IN_FILE:
                return await self._accept_duplicate(
                    connection,
                    job_id=job_id,
                    issue_id=issue_id,
                    rows=issue.rows,
                    how=how,
                    keep_row=keep_row,
                )
            raise ActionRefused(
                f"a {issue.type} issue is not accepted: edit the row so it is right, or discard it"
            )

    async def request_reprocess(self, job_id: UUID) -> ActionRecord:
        """Ask the worker to judge the reviewed rows again (a ``reprocess`` message)."""
        if self.queue is None:
            raise ActionRefused("requesting reprocessing needs the job queue")
        async with self.pool.acquire() as connection, connection.transaction():
            await self._lock_job_in_review(connection, job_id)
            record = await self._record(
                connection, job_id, ReviewAction.REQUEST_REPROCESS, None, None, {}
            )
            # The request itself: a reprocess message runs only while it is newer than the
            # job's last decision (a redelivered one finds it served).
            await store.record_reprocess_request(connection, job_id)
        await self.queue.send(JobMessage(job_id=job_id, action="reprocess").body())
        return record

    # --- helpers

    async def _accept_existing(
        self,
        connection: Connection,
        job_id: UUID,
        issue_id: int,
        rows: list[int],
        how: Acceptance,
    ) -> ActionRecord:
        if how not in ("skip", "update"):
            raise ActionRefused(
                "an email you already have is accepted as 'skip' (keep the contact, leave "
                "the row out) or 'update' (update the contact with the row's values)"
            )
        (row_number,) = rows
        await self._lock_live_row(connection, job_id, row_number)
        discard, update = how == "skip", how == "update"
        await store.set_row_status(connection, job_id, row_number, discard=discard, update=update)
        resolution = (
            "accepted: row skipped, the existing contact kept"
            if discard
            else "accepted: the row updates the existing contact"
        )
        await store.resolve_issue(connection, job_id, issue_id, resolution)
        action = ReviewAction.ACCEPT_SKIP if discard else ReviewAction.ACCEPT_UPDATE
        return await self._record(
            connection, job_id, action, row_number, issue_id, {"resolution": resolution}
        )

    async def _accept_duplicate(
        self,
        connection: Connection,
        *,
        job_id: UUID,
        issue_id: int,
        rows: list[int],
        how: Acceptance,
        keep_row: int | None,
    ) -> ActionRecord:
        if how != "keep" or keep_row is None:
            raise ActionRefused("a duplicate is accepted as 'keep' with the row to keep")
        if keep_row not in rows:
            listed = ", ".join(str(row) for row in rows)
            raise ActionRefused(f"row {keep_row} is not one of this duplicate's rows ({listed})")
        await self._lock_live_row(connection, job_id, keep_row)
        discarded = [row for row in rows if row != keep_row]
        for row_number in discarded:
            await store.set_row_status(connection, job_id, row_number, discard=True, update=False)
        resolution = f"accepted: kept row {keep_row}, discarded the others"
        await store.resolve_issue(connection, job_id, issue_id, resolution)
        return await self._record(
            connection,
            job_id,
            ReviewAction.KEEP_ONE,
            keep_row,
            issue_id,
            {"kept": keep_row, "discarded": discarded, "resolution": resolution},
        )

    async def _job(self, job_id: UUID) -> JobStatus:
        status = await store.job_status(self.pool, job_id, self.tenant)
        if status is None:
            raise ActionRefused(f"no job {job_id} for tenant {self.tenant}")
        return status

    async def _lock_job_in_review(self, connection: Connection, job_id: UUID) -> None:
        status = await store.lock_job(connection, job_id, self.tenant)
        if status is None:
            raise ActionRefused(f"no job {job_id} for tenant {self.tenant}")
        if status is not JobStatus.NEEDS_REVIEW:
            raise ActionRefused(
                f"job {job_id} is {status}: rows can be changed only while it is NEEDS_REVIEW"
            )

    async def _lock_live_row(
        self, connection: Connection, job_id: UUID, row_number: int
    ) -> store.LockedRow:
        row = await store.lock_row(connection, job_id, row_number)
        if row is None:
            raise ActionRefused(f"job {job_id} has no row {row_number}")
        if row.status not in _LIVE:
            raise ActionRefused(f"row {row_number} is {row.status}: it cannot be changed")
        return row

    async def _record(  # noqa: PLR0917 - the columns of one review_actions row, in order
        self,
        connection: Connection,
        job_id: UUID,
        action: ReviewAction,
        row_number: int | None,
        issue_id: int | None,
        details: dict[str, Any],
    ) -> ActionRecord:
        record_id = await record_action(
            connection,
            job_id,
            tenant=self.tenant,
            actor=self.actor,
            action=action,
            row_number=row_number,
            issue_id=issue_id,
            details=details,
        )
        return ActionRecord(record_id, action, row_number, details)
