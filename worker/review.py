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

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

from worker.errors import ActionRefused
from worker.messages import JobMessage
from worker.model import CONTACT_FIELDS, decode_raw
from worker.store.queries import sql

if TYPE_CHECKING:
    import asyncpg
    from asyncpg.pool import PoolConnectionProxy

    from worker.sqs import JobQueue

Acceptance = Literal["skip", "update", "keep"]
EDITABLE_FIELDS = CONTACT_FIELDS
_EXISTING_TYPES = frozenset({"EXISTING_CONTACT", "CONTACT_CONFLICT"})


@dataclass(frozen=True)
class ActionRecord:
    """One recorded review action."""

    id: int
    action: str
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
        records = await self.pool.fetch(
            sql("review_list_issues"),
            job_id,
            self.tenant,
            include_resolved,
            page_size,
            (max(page, 1) - 1) * page_size,
            rows_per_issue,
        )
        return [dict(record) for record in records]

    async def rows(
        self, job_id: UUID, *, status: str | None = None, after_row: int = 0, limit: int = 50
    ) -> list[dict[str, Any]]:
        """Up to ``limit`` of the job's rows after ``after_row`` (only ``status`` ones if
        given), with their cells as read, current fields and open issues."""
        await self._job(job_id)
        records = await self.pool.fetch(
            sql("review_list_rows"), job_id, self.tenant, status, after_row, limit
        )
        rows = []
        for record in records:
            row = dict(record)
            row["cells"] = decode_raw(row.pop("raw"))
            rows.append(row)
        return rows

    async def history(self, job_id: UUID, row_number: int | None = None) -> list[dict[str, Any]]:
        """What people did to the job (or to one row), oldest first."""
        await self._job(job_id)
        records = await self.pool.fetch(sql("review_history"), job_id, self.tenant, row_number)
        return [dict(record) for record in records]

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
            before = {name: row[name] for name in after}
            values = {name: after.get(name, row[name]) for name in EDITABLE_FIELDS}
            await connection.execute(
                sql("review_edit_row"),
                job_id,
                row_number,
                *(values[name] for name in EDITABLE_FIELDS),
            )
            return await self._record(
                connection, job_id, "edit", row_number, None, {"before": before, "after": after}
            )

    async def discard(self, job_id: UUID, row_number: int, note: str | None = None) -> ActionRecord:
        """Leave a row out of the import (its issues resolve on reprocessing)."""
        async with self.pool.acquire() as connection, connection.transaction():
            await self._lock_job_in_review(connection, job_id)
            row = await self._lock_live_row(connection, job_id, row_number)
            await connection.execute(sql("review_set_row_status"), job_id, row_number, True, False)
            details: dict[str, Any] = {"status_before": row["status"]}
            if note:
                details["note"] = note
            return await self._record(connection, job_id, "discard", row_number, None, details)

    async def accept(
        self, job_id: UUID, issue_id: int, how: Acceptance, keep_row: int | None = None
    ) -> ActionRecord:
        """Accept an issue as the person decides (see the module's docstring)."""
        async with self.pool.acquire() as connection, connection.transaction():
            await self._lock_job_in_review(connection, job_id)
            issue = await connection.fetchrow(sql("review_lock_issue"), job_id, issue_id)
            if issue is None:
                raise ActionRefused(f"job {job_id} has no issue {issue_id}")
            if issue["resolved"]:
                raise ActionRefused(f"issue {issue_id} is already resolved")
            rows: list[int] = list(issue["rows"])
            if issue["type"] in _EXISTING_TYPES:
                return await self._accept_existing(connection, job_id, issue_id, rows, how)
            if issue["type"] == "DUPLICATE_IN_FILE":
                return await self._accept_duplicate(
                    connection,
                    job_id=job_id,
                    issue_id=issue_id,
                    rows=rows,
                    how=how,
                    keep_row=keep_row,
                )
            raise ActionRefused(
                f"a {issue['type']} issue is not accepted: edit the row so it is right, or "
                "discard it"
            )

    async def request_reprocess(self, job_id: UUID) -> ActionRecord:
        """Ask the worker to judge the reviewed rows again (a ``reprocess`` message)."""
        if self.queue is None:
            raise ActionRefused("requesting reprocessing needs the job queue")
        async with self.pool.acquire() as connection, connection.transaction():
            await self._lock_job_in_review(connection, job_id)
            record = await self._record(connection, job_id, "request_reprocess", None, None, {})
            # The request itself: a reprocess message runs only while it is newer than the
            # job's last decision (a redelivered one finds it served).
            await connection.execute(sql("record_reprocess_request"), job_id)
        await self.queue.send(JobMessage(job_id=job_id, action="reprocess").body())
        return record

    # --- helpers

    async def _accept_existing(
        self,
        connection: PoolConnectionProxy,
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
        await connection.execute(sql("review_set_row_status"), job_id, row_number, discard, update)
        resolution = (
            "accepted: row skipped, the existing contact kept"
            if discard
            else "accepted: the row updates the existing contact"
        )
        await connection.execute(sql("review_resolve_issue"), job_id, issue_id, resolution)
        action = "accept_skip" if discard else "accept_update"
        return await self._record(
            connection, job_id, action, row_number, issue_id, {"resolution": resolution}
        )

    async def _accept_duplicate(
        self,
        connection: PoolConnectionProxy,
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
            await connection.execute(sql("review_set_row_status"), job_id, row_number, True, False)
        resolution = f"accepted: kept row {keep_row}, discarded the others"
        await connection.execute(sql("review_resolve_issue"), job_id, issue_id, resolution)
        return await self._record(
            connection,
            job_id,
            "keep_one",
            keep_row,
            issue_id,
            {"kept": keep_row, "discarded": discarded, "resolution": resolution},
        )

    async def _job(self, job_id: UUID) -> asyncpg.Record:
        job = await self.pool.fetchrow(sql("review_job"), job_id, self.tenant)
        if job is None:
            raise ActionRefused(f"no job {job_id} for tenant {self.tenant}")
        return job

    async def _lock_job_in_review(
        self, connection: PoolConnectionProxy, job_id: UUID
    ) -> asyncpg.Record:
        job = await connection.fetchrow(sql("review_lock_job"), job_id, self.tenant)
        if job is None:
            raise ActionRefused(f"no job {job_id} for tenant {self.tenant}")
        if job["status"] != "NEEDS_REVIEW":
            raise ActionRefused(
                f"job {job_id} is {job['status']}: rows can be changed only while it is "
                "NEEDS_REVIEW"
            )
        return job

    async def _lock_live_row(
        self, connection: PoolConnectionProxy, job_id: UUID, row_number: int
    ) -> asyncpg.Record:
        row = await connection.fetchrow(sql("review_lock_row"), job_id, row_number)
        if row is None:
            raise ActionRefused(f"job {job_id} has no row {row_number}")
        if row["status"] not in ("READY", "ISSUE"):
            raise ActionRefused(f"row {row_number} is {row['status']}: it cannot be changed")
        return row

    async def _record(  # noqa: PLR0917 - the columns of one review_actions row, in order
        self,
        connection: PoolConnectionProxy,
        job_id: UUID,
        action: str,
        row_number: int | None,
        issue_id: int | None,
        details: dict[str, Any],
    ) -> ActionRecord:
        record = await connection.fetchrow(
            sql("review_record_action"),
            job_id,
            self.tenant,
            self.actor,
            action,
            row_number,
            issue_id,
            json.dumps(details, ensure_ascii=False, default=str),
        )
        if record is None:  # an INSERT ... RETURNING always returns its row
            raise LookupError("review_record_action returned no row")
        return ActionRecord(int(record["id"]), action, row_number, details)
