"""The dead-letter queue: what is there and why (``dlq list``), and bringing it back
(``dlq replay``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from worker.errors import PoisonMessage
from worker.logs import get_logger
from worker.messages import JobMessage, parse_message
from worker.sqs import DEAD_LETTER_REASON_ATTRIBUTE, JobQueue, ReceivedMessage
from worker.store.jobs import JobStore

if TYPE_CHECKING:
    import asyncpg

log = get_logger("worker.dlq")

# How long a listed or replayed message stays hidden from others while we look at it.
_PEEK_VISIBILITY_S = 30
_SUMMARY_CHARS = 120


@dataclass(frozen=True)
class DeadLetter:
    """One message in the dead-letter queue."""

    message_id: str
    receive_count: int
    reason: str
    body: str

    def line(self) -> str:
        """One line for a person: id, receives, reason, the start of the body."""
        body = self.body.replace("\n", " ")
        if len(body) > _SUMMARY_CHARS:
            body = body[:_SUMMARY_CHARS] + "..."
        return (
            f"{self.message_id}  receives={self.receive_count}  reason={self.reason}  body={body}"
        )


@dataclass(frozen=True)
class ReplayOutcome:
    """What replay did (or would do) with one message."""

    entry: DeadLetter
    moved: bool
    note: str

    def line(self) -> str:
        """One line for a person."""
        return f"{'moved ' if self.moved else 'kept  '} {self.entry.message_id}  {self.note}"


def _entry(message: ReceivedMessage) -> DeadLetter:
    reason = message.attributes.get(
        DEAD_LETTER_REASON_ATTRIBUTE,
        "exceeded the queue's receive limit (see the job's error)",
    )
    return DeadLetter(message.message_id, message.receive_count, reason, message.body)


async def _drain(queue: JobQueue, limit: int) -> list[ReceivedMessage]:
    """Receive up to ``limit`` dead letters, each once (they stay hidden while we hold them)."""
    seen: dict[str, ReceivedMessage] = {}
    while len(seen) < limit:
        batch = await queue.receive_dead_letters(
            limit - len(seen), wait_time_s=1, visibility_timeout_s=_PEEK_VISIBILITY_S
        )
        fresh = [message for message in batch if message.message_id not in seen]
        if not fresh:
            break
        for message in fresh:
            seen[message.message_id] = message
    return list(seen.values())


async def list_dead_letters(queue: JobQueue, limit: int = 100) -> list[DeadLetter]:
    """The messages in the dead-letter queue (up to ``limit``), left in place."""
    messages = await _drain(queue, limit)
    for message in messages:
        await queue.release_dead_letter(message)
    return [_entry(message) for message in messages]


async def replay_dead_letters(
    queue: JobQueue, pool: asyncpg.Pool, limit: int = 100, dry_run: bool = False
) -> list[ReplayOutcome]:
    """Move job messages from the dead-letter queue back to the job queue, resetting their
    FAILED jobs so they run again. Poison messages stay: replaying them could only fail."""
    outcomes = []
    for message in await _drain(queue, limit):
        entry = _entry(message)
        try:
            parsed = parse_message(message.body)
        except PoisonMessage as error:
            outcomes.append(ReplayOutcome(entry, False, f"not replayable: {error.message}"))
            await queue.release_dead_letter(message)
            continue
        job_note = ""
        if isinstance(parsed, JobMessage):
            job_note = f"job={parsed.job_id}"
        if dry_run:
            outcomes.append(ReplayOutcome(entry, True, f"{job_note} (dry run)".strip()))
            await queue.release_dead_letter(message)
            continue
        if isinstance(parsed, JobMessage) and await JobStore(pool).reset_failed(parsed.job_id):
            job_note += " (FAILED -> PENDING)"
        # Sent before the delete: a crash in between replays twice, which the job lock
        # and the router make harmless, and never loses the message.
        await queue.send(message.body)
        await queue.delete_dead_letter(message)
        log.info("dead_letter_replayed", message_id=message.message_id, note=job_note)
        outcomes.append(ReplayOutcome(entry, True, job_note.strip()))
    return outcomes
