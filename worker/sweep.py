"""The sweep: send again the message of every job that nothing would move otherwise.

A job moves only when a message about it is delivered. A few ends of a job's life can
leave it with none:

- a producer (or discovery) that died between committing its job and sending its message:
  the job stays PENDING;
- a worker that died after its message was dead-lettered or deleted (a give-up the
  database could not record, an operator's purge): the job stays PROCESSING or
  CONSOLIDATING with nobody holding its lock;
- a writer that died while writing exports whose message is gone: they stay ``writing``;
- exports that failed (an S3 error, a full disk): asked for again with a growing backoff,
  up to ``INGEST_EXPORT_MAX_ATTEMPTS`` tries for a decision.

The sweep finds them (untouched for ``INGEST_SWEEP_AFTER_S``, nobody holding the job's lock
or its exports' lock; PENDING ones only while the queue holds nothing to receive, since in
a backlog their messages are waiting in it) and sends each its message again, at most once
per that period. One
sweep runs at a time (a transaction lock): workers run it every
``INGEST_SWEEP_INTERVAL_S``, and ``ingest-worker sweep`` runs it once (cron, or by hand).
A message sent twice is harmless: the job lock and the job's state decide what it does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from worker.messages import JobMessage
from worker.store.sweep import Stranded, find_stranded

if TYPE_CHECKING:
    import asyncpg

    from worker.sqs import JobQueue

# Jobs a sweep sends at most; the next sweep takes the rest.
SWEEP_LIMIT = 1000


class Swept(Stranded):
    """One job the sweep sent (or, in a dry run, would send) again."""

    def line(self, dry_run: bool) -> str:
        """For ``ingest-worker sweep``."""
        verb = "would send" if dry_run else "sent"
        return f"{self.job_id}  {self.status:<13} {self.why}: {verb} {self.action!r}"


async def sweep(
    pool: asyncpg.Pool,
    queue: JobQueue,
    after_s: float,
    *,
    export_attempts: int = 4,
    export_retry_base_s: float = 60.0,
    dry_run: bool = False,
    limit: int = SWEEP_LIMIT,
) -> list[Swept]:
    """Send again the message of every stranded job, and ask again for exports that failed
    (fewer than ``export_attempts`` times, after ``export_retry_base_s`` x 4^(tries - 1));
    returns them (none when another sweep is running). The jobs are marked before their
    messages go, after the commit: a crash in between leaves them for a later sweep, never
    a message for an unmarked job."""
    try:
        # A PENDING job's message may be waiting in a backlog: only an empty queue says
        # that it was never sent.
        queue_empty = await queue.backlog() == 0
    except Exception:  # the queue unreachable: the other kinds are still swept
        queue_empty = False
    found = await find_stranded(
        pool,
        after_s=after_s,
        export_attempts=export_attempts,
        export_retry_base_s=export_retry_base_s,
        limit=limit,
        queue_empty=queue_empty,
        mark=not dry_run,
    )
    if not found:
        return []
    swept = [Swept(entry.job_id, entry.status, entry.action, entry.why) for entry in found]
    if dry_run:
        return swept
    for entry in swept:
        await queue.send(JobMessage(job_id=entry.job_id, action=entry.action).body())
    return swept
