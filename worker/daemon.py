"""The receive loop: slots, the job lock, the visibility heartbeat, retries, shutdown.

One :class:`Worker` runs up to ``concurrency`` jobs at once. It takes a free slot before it
asks SQS for anything and never asks for more messages than it has free slots. Each message
is settled exactly one way: deleted (done, or never processable), given a visibility (retry
later, job running elsewhere), or released (visible again at once, on shutdown).

Signal handlers only call :meth:`Worker.request_stop`. The first request stops receiving and
lets running flows reach their next checkpoint within the grace period; anything still
running then is cancelled, and every unsettled message is released. A second request skips
the grace period.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import re
import time
from typing import TYPE_CHECKING, Any
from uuid import UUID

from worker import metrics
from worker.errors import Interrupted, PoisonMessage
from worker.flows import FlowContext, Flows, Lease, run_flow
from worker.intake import job_for_s3_object
from worker.logs import bind_job, get_logger
from worker.messages import JobMessage, S3ObjectCreated, S3TestEvent, parse_message
from worker.model import Job, JobStatus
from worker.reasons import describe
from worker.retry import Action, Decision, RetryPolicy, decide
from worker.router import Route, route
from worker.settings import SQS_MAX_RECEIVE_BATCH, Settings
from worker.sqs import JobQueue, ReceivedMessage, is_receipt_handle_gone
from worker.store.jobs import JobStore
from worker.sweep import sweep

if TYPE_CHECKING:
    import asyncpg
    from types_aiobotocore_s3 import S3Client

log = get_logger("worker.daemon")

# jobs_total's outcome label for each decision of the retry policy.
_OUTCOMES = {
    Action.RELEASE: "interrupted",
    Action.DROP: "dropped",
    Action.RETRY: "retry",
    Action.FAIL: "failed",
    Action.GIVE_UP: "gave_up",
}

# How long settling a message (delete / release) may take during shutdown.
_SETTLE_TIMEOUT_S = 5.0
# With short polling (INGEST_WAIT_TIME_S=0) an empty receive returns at once; the loop
# pauses this long (or until a job ends) before asking again instead of spinning.
SHORT_POLL_PAUSE_S = 0.25
# Backoff of the receive loop while the queue is unreachable: 1, 2, 4 ... 30 s.
RECEIVE_BACKOFF_BASE_S = 1.0
RECEIVE_BACKOFF_MAX_S = 30.0
# A heartbeat that failed tries again this soon (sooner if the visibility runs out first).
HEARTBEAT_RETRY_S = 5.0
HEARTBEAT_MIN_WAIT_S = 0.2


class Settle(enum.Enum):
    """How a message is settled."""

    DELETE = "delete"  # done, or never processable
    RELEASE = "release"  # visible again at once (shutdown, interrupted)
    DELAY = "delay"  # visible again after a delay (a retry)
    DEFER = "defer"  # a fresh copy visible after a delay, its receive count started over


class Worker:
    """The daemon: receives messages and runs their jobs."""

    def __init__(
        self,
        settings: Settings,
        pool: asyncpg.Pool,
        s3: S3Client,
        queue: JobQueue,
        flows: Flows,
        *,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        self.settings = settings
        self.pool = pool
        self.jobs = JobStore(pool)
        self.s3 = s3
        self.queue = queue
        self.flows = flows
        self._key_pattern = re.compile(settings.s3_event_key_pattern)
        self.retry_policy = retry_policy or RetryPolicy(
            base_delay_s=settings.retry_base_delay_s, max_delay_s=settings.retry_max_delay_s
        )
        self.stopping = asyncio.Event()
        self.forced = asyncio.Event()
        self.last_poll_monotonic: float | None = None
        self.receive_failures = 0  # receives in a row that failed (the queue unreachable)
        self.started_monotonic: float | None = None
        self._tasks: dict[asyncio.Task[None], ReceivedMessage] = {}
        self._unsettled: dict[str, ReceivedMessage] = {}
        # When each message being handled becomes visible again unless extended (monotonic).
        self._visible_until: dict[str, float] = {}

    # --- control

    def request_stop(self) -> None:
        """Stop gracefully; a second call stops at once (skips the grace period)."""
        if self.stopping.is_set():
            log.warning("shutdown_forced")
            self.forced.set()
        else:
            log.info("shutdown_requested", grace_s=self.settings.shutdown_grace_s)
        self.stopping.set()

    @property
    def free_slots(self) -> int:
        """Slots not taken by a running message."""
        return max(0, self.settings.concurrency - len(self._tasks))

    @property
    def in_flight(self) -> int:
        """Messages being handled now."""
        return len(self._tasks)

    # --- the loop

    async def run(self, once: bool = False) -> None:
        """Receive and run jobs until stopped; with ``once``, until the queue is empty."""
        log.info(
            "worker_started",
            concurrency=self.settings.concurrency,
            queue=self.queue.queue_url,
            max_receive_count=self.queue.max_receive_count,
        )
        self.started_monotonic = time.monotonic()
        once_started = time.monotonic()
        sweeper = (
            asyncio.create_task(self._sweep_loop(), name="sweep")
            if self.settings.sweep_interval_s > 0 and not once
            else None
        )
        try:
            while not self.stopping.is_set():
                await self._reap()
                if not await self._wait_for_free_slot():
                    break
                try:
                    messages = await self._receive_unless_stopped()
                except Exception as error:
                    # The queue is unreachable (an outage, a cut connection): running jobs
                    # go on (the job lock keeps them single), polling backs off and
                    # resumes when the queue answers; /readyz says so meanwhile.
                    await self._receive_failed(error)
                    continue
                if self.receive_failures:
                    log.info("queue_reachable_again", failures=self.receive_failures)
                    self.receive_failures = 0
                self.last_poll_monotonic = time.monotonic()
                metrics.last_poll_timestamp_seconds.set(time.time())
                metrics.messages_received_total.inc(len(messages))
                for message in messages:
                    self._start(message)
                if self.stopping.is_set():
                    break
                await self._reap()
                if once and not messages and not self._tasks:
                    if await self._drained(once_started):
                        log.info("queue_drained")
                        break
                    continue
                if not messages and self.settings.wait_time_s == 0:
                    await self._pause(SHORT_POLL_PAUSE_S)
        finally:
            if sweeper is not None:
                sweeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sweeper
            await self._shutdown()
        log.info("worker_stopped")

    async def _sweep_loop(self) -> None:
        """Every ``INGEST_SWEEP_INTERVAL_S``, send again the jobs nothing would move (one
        worker at a time sweeps; see :mod:`worker.sweep`)."""
        while not self.stopping.is_set():
            stop_waiter = asyncio.ensure_future(self.stopping.wait())
            try:
                await asyncio.wait({stop_waiter}, timeout=self.settings.sweep_interval_s)
            finally:
                stop_waiter.cancel()
            if self.stopping.is_set():
                return
            try:
                swept = await sweep(
                    self.pool,
                    self.queue,
                    self.settings.sweep_after_s,
                    export_attempts=self.settings.export_max_attempts,
                    export_retry_base_s=self.settings.export_retry_base_s,
                )
            except Exception as error:
                log.warning("sweep_failed", error=describe(error))
                continue
            for entry in swept:
                metrics.jobs_swept_total.labels(entry.action).inc()
                log.warning(
                    "job_swept",
                    job_id=str(entry.job_id),
                    status=entry.status,
                    why=entry.why,
                    action=entry.action,
                )

    async def _receive_unless_stopped(self) -> list[ReceivedMessage]:
        """One long poll, cancelled as soon as a stop is requested (a person pressing
        Ctrl-C waits a moment, not the rest of a 20 s poll); nothing is received then."""
        # Received for a short while, then taken for the full timeout by the message's
        # handler (_take): a poll cut on its way back goes on at the queue, and what it
        # receives is lost to everyone until that visibility runs out.
        receive = asyncio.ensure_future(
            self.queue.receive(
                min(SQS_MAX_RECEIVE_BATCH, self.free_slots),
                self.settings.wait_time_s,
                self._receive_visibility_s,
            )
        )
        stop_waiter = asyncio.ensure_future(self.stopping.wait())
        try:
            await asyncio.wait({receive, stop_waiter}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop_waiter.cancel()
        if not receive.done():
            receive.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await receive
            log.info("poll_cancelled_for_shutdown")
            return []
        return receive.result()

    async def _drained(self, started: float) -> bool:
        """For ``run --once``: whether nothing more can come. Messages received elsewhere
        and not settled (a killed worker's, invisible until their timeout) or sent with a
        delay are waited for, up to ``INGEST_VISIBILITY_TIMEOUT_S`` from the start; one
        that became visible since the last (empty) receive is received next."""
        if time.monotonic() - started >= self.settings.visibility_timeout_s:
            return True
        try:
            waiting = await self.queue.not_yet_received()
        except Exception as error:
            log.warning("queue_count_failed", error=describe(error))
            return True
        if waiting:
            log.info("waiting_for_invisible_messages", messages=waiting)
            await self._pause(1.0)
        return waiting == 0

    async def _receive_failed(self, error: Exception) -> None:
        self.receive_failures += 1
        metrics.receive_failures_total.inc()
        delay = min(
            RECEIVE_BACKOFF_MAX_S, RECEIVE_BACKOFF_BASE_S * 2 ** (self.receive_failures - 1)
        )
        log.warning(
            "queue_receive_failed",
            error=describe(error),
            failures=self.receive_failures,
            retry_in_s=delay,
            running=len(self._tasks),
        )
        # The loop is alive, only waiting: liveness must not restart a worker whose jobs
        # are fine because the queue is away.
        self.last_poll_monotonic = time.monotonic()
        stop_waiter = asyncio.ensure_future(self.stopping.wait())
        try:
            await asyncio.wait({stop_waiter}, timeout=delay)
        finally:
            stop_waiter.cancel()
        await self._reap()

    async def _pause(self, seconds: float) -> None:
        """Wait ``seconds``, or less if a job ends or a stop comes."""
        stop_waiter = asyncio.ensure_future(self.stopping.wait())
        try:
            await asyncio.wait(
                {stop_waiter, *self._tasks}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            stop_waiter.cancel()

    async def _wait_for_free_slot(self) -> bool:
        """Wait until a slot is free; False if a stop came first."""
        while self.free_slots == 0:
            stop_waiter = asyncio.ensure_future(self.stopping.wait())
            try:
                await asyncio.wait({stop_waiter, *self._tasks}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                stop_waiter.cancel()
            await self._reap()
            if self.stopping.is_set():
                return False
        return not self.stopping.is_set()

    @property
    def _receive_visibility_s(self) -> int:
        return min(self.settings.receive_visibility_s, self.settings.visibility_timeout_s)

    def _start(self, message: ReceivedMessage) -> None:
        self._unsettled[message.message_id] = message
        self._visible_until[message.message_id] = time.monotonic() + self._receive_visibility_s
        task = asyncio.create_task(self._handle(message), name=f"message-{message.message_id}")
        self._tasks[task] = message
        self._update_gauges()
        if self.stopping.is_set():
            # Received as the stop came: never started, so give it straight back.
            task.cancel()

    async def _reap(self) -> None:
        for task in [task for task in self._tasks if task.done()]:
            del self._tasks[task]
            if not task.cancelled() and task.exception() is not None:
                log.error("message_handler_crashed", error=describe(task.exception()))  # type: ignore[arg-type]
        self._update_gauges()

    def _update_gauges(self) -> None:
        metrics.jobs_in_flight.set(len(self._tasks))
        metrics.slots_free.set(self.free_slots)

    async def _shutdown(self) -> None:
        await self._reap()
        running = set(self._tasks)
        if running:
            log.info("shutdown_waiting_for_jobs", running=len(running))
            forced_waiter = asyncio.ensure_future(self.forced.wait())
            try:
                await asyncio.wait(
                    {
                        forced_waiter,
                        asyncio.ensure_future(
                            asyncio.wait(running, timeout=self.settings.shutdown_grace_s)
                        ),
                    },
                    return_when=asyncio.FIRST_COMPLETED,
                )
            finally:
                forced_waiter.cancel()
            still_running = {task for task in running if not task.done()}
            for task in still_running:
                task.cancel()
            if still_running:
                log.warning("shutdown_cancelled_jobs", cancelled=len(still_running))
                await asyncio.wait(still_running, timeout=_SETTLE_TIMEOUT_S)
        await self._reap()
        # Whatever was not settled (cancelled mid-flow, or never started) becomes visible now.
        for message in list(self._unsettled.values()):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.queue.release(message), _SETTLE_TIMEOUT_S)
                metrics.messages_released_total.inc()
                log.info("message_released", message_id=message.message_id)
            self._unsettled.pop(message.message_id, None)

    # --- one message

    async def _settle(self, message: ReceivedMessage, how: Settle, delay_s: float = 0) -> None:
        """Settle ``message`` as ``how`` says (see :class:`Settle`); a receipt handle that
        is gone means another worker owns it now."""
        try:
            if how is Settle.DELETE:
                await self.queue.delete(message)
                metrics.messages_deleted_total.inc()
            elif how is Settle.RELEASE:
                await self.queue.release(message)
                metrics.messages_released_total.inc()
            elif how is Settle.DELAY:
                await self.queue.set_visibility(message, delay_s)
            else:  # DEFER
                # A fresh copy first, then the original: a crash in between leaves a
                # duplicate (harmless), never nothing.
                await self.queue.send(
                    message.body, int(delay_s), attributes=message.attributes or None
                )
                await self.queue.delete(message)
                metrics.messages_deferred_total.inc()
        except Exception as error:
            if not is_receipt_handle_gone(error):
                raise
            log.warning("message_handle_gone", action=how.value)
        self._unsettled.pop(message.message_id, None)

    async def _take(self, message: ReceivedMessage) -> None:
        """Make a message just received invisible for the full visibility timeout (it was
        received with a short one). If that fails, the heartbeat tries again, and until
        then the message may reappear: a copy the job lock turns away."""
        try:
            await self._extend(message)
            metrics.heartbeat_extensions_total.inc()
        except Exception as error:
            metrics.heartbeat_failures_total.inc()
            log.warning(
                "message_take_failed",
                error=describe(error),
                visible_in_s=self._receive_visibility_s,
            )

    async def _extend(self, message: ReceivedMessage) -> None:
        """Extend the message's visibility to the full timeout from now."""
        asked = time.monotonic()
        await self.queue.set_visibility(message, self.settings.visibility_timeout_s)
        if message.message_id in self._visible_until:
            self._visible_until[message.message_id] = asked + self.settings.visibility_timeout_s

    async def _handle(self, message: ReceivedMessage) -> None:
        try:
            with bind_job(message_id=message.message_id, receive_count=message.receive_count):
                await self._take(message)
                await self._handle_taken(message)
        finally:
            self._visible_until.pop(message.message_id, None)

    async def _handle_taken(self, message: ReceivedMessage) -> None:
        try:
            parsed = parse_message(message.body)
        except PoisonMessage as error:
            moved = await self.queue.dead_letter(message, error.message)
            self._unsettled.pop(message.message_id, None)
            metrics.messages_dead_lettered_total.labels(metrics.DEAD_LETTER_POISON).inc()
            log.error("message_dead_lettered", reason=error.message, to_dlq=moved)
            return
        if isinstance(parsed, S3TestEvent):
            log.info("s3_test_event_acknowledged", bucket=parsed.bucket)
            await self._settle(message, Settle.DELETE)
        elif isinstance(parsed, S3ObjectCreated):
            await self._intake(message, parsed)
        else:
            await self._handle_job(message, parsed)

    async def _intake(self, message: ReceivedMessage, event: S3ObjectCreated) -> None:
        """Create (once per object version) and enqueue the job of each announced object
        whose key matches INGEST_S3_EVENT_KEY_PATTERN; log and skip the others. A failure
        (database down) retries the event with backoff; jobs already made are not made
        twice."""
        try:
            for obj in event.objects:
                match = self._key_pattern.match(obj.key)
                if match is None:
                    log.info(
                        "s3_event_ignored",
                        bucket=obj.bucket,
                        key=obj.key,
                        reason="the key does not match INGEST_S3_EVENT_KEY_PATTERN",
                    )
                    continue
                groups = match.groupdict()
                options = {
                    name: groups[name] for name in ("delimiter", "encoding") if groups.get(name)
                }
                submitted = await job_for_s3_object(
                    self.pool, self.queue, obj, groups["user"], options
                )
                log.info(
                    "s3_event_job",
                    job_id=str(submitted.job_id),
                    key=obj.key,
                    created=submitted.created,
                )
        except Exception as error:
            decision = decide(
                error, message.receive_count, self.queue.max_receive_count, self.retry_policy
            )
            log.warning("s3_event_retry", reason=decision.reason, delay_s=decision.delay_s)
            await self._settle(message, Settle.DELAY, decision.delay_s)
            return
        await self._settle(message, Settle.DELETE)

    async def _handle_job(self, message: ReceivedMessage, job_message: JobMessage) -> None:
        job_id = job_message.job_id
        with bind_job(job_id=str(job_id), action=job_message.action):
            try:
                async with self.jobs.lock(job_id) as held:
                    if not held:
                        # A live worker holds the job (its lock dies with its session):
                        # this copy waits for it without spending the receive budget, so
                        # a long job's duplicates never reach the dead-letter queue; if
                        # that worker dies, its own message and this copy both come back.
                        log.info(
                            "job_locked_elsewhere", retry_in_s=self.settings.lock_retry_delay_s
                        )
                        await self._settle(message, Settle.DEFER, self.settings.lock_retry_delay_s)
                        return
                    await self._run_job(message, job_message)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                # Failures outside the flow itself (database down while locking or loading).
                await self._apply(message, job_id, error)

    async def _run_job(self, message: ReceivedMessage, job_message: JobMessage) -> None:
        job_id = job_message.job_id
        routing = await self.jobs.routing(job_id)
        if routing is None:
            log.warning("job_not_found")
            await self._settle(message, Settle.DELETE)
            return
        job: Job | None = routing.job
        assert job is not None  # noqa: S101 - just loaded
        job_route = route(
            job.status, routing.has_staging, job_message.action, job.reprocess_pending
        )
        if job_route is Route.ACKNOWLEDGE:
            log.info("job_acknowledged", status=job.status)
            await self._settle(message, Settle.DELETE)
            return
        if job.status is JobStatus.FAILED:
            await self.jobs.reset_failed(job_id)
        if job_route is not Route.EXPORT:
            # Export requests are counted on the exports (their own attempts), not the job.
            job = await self.jobs.count_attempt(job_id)
        if job is None:  # deleted in between
            await self._settle(message, Settle.DELETE)
            return

        context = FlowContext(
            job=job,
            route=job_route,
            pool=self.pool,
            s3=self.s3,
            settings=self.settings,
            stopping=self.stopping,
        )
        started = time.monotonic()
        with bind_job(flow=job_route.flow):
            log.info("job_started", route=job_route.value, status=job.status)
            heartbeat = asyncio.create_task(
                self._heartbeat(message, context.lease), name=f"heartbeat-{job_id}"
            )
            watch = asyncio.create_task(
                self._watch_progress(context.lease, job_route.flow or "none"),
                name=f"watch-{job_id}",
            )
            flow = job_route.flow or "none"
            try:
                await run_flow(self.flows, context)
            except Exception as error:
                seconds = time.monotonic() - started
                metrics.job_duration_seconds.labels(flow).observe(seconds)
                await self._apply(message, job_id, error, seconds, flow=flow)
                return
            finally:
                heartbeat.cancel()
                watch.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await heartbeat
                with contextlib.suppress(asyncio.CancelledError):
                    await watch
            seconds = time.monotonic() - started
            metrics.job_duration_seconds.labels(flow).observe(seconds)
            metrics.jobs_total.labels(flow, "ok").inc()
            log.info("job_finished", outcome="ok", seconds=round(seconds, 3))
            try:
                await self._settle(message, Settle.DELETE)
            except Exception as error:
                # The job's work is done and recorded; only its message is left. It comes
                # back after its visibility timeout and finds the job done (nothing to
                # run again), so this is no failure of the job to retry or record.
                log.warning(
                    "message_settle_failed",
                    decision=Settle.DELETE.value,
                    error=describe(error),
                    then="the message comes back and is acknowledged",
                )

    async def _apply(
        self,
        message: ReceivedMessage,
        job_id: UUID,
        error: BaseException,
        seconds: float | None = None,
        flow: str = "none",
    ) -> None:
        """Settle a message whose job raised ``error``, as the retry policy decides."""
        decision = decide(
            error, message.receive_count, self.queue.max_receive_count, self.retry_policy
        )
        metrics.jobs_total.labels(flow, _OUTCOMES[decision.action]).inc()
        fields: dict[str, Any] = {"decision": decision.action.value, "reason": decision.reason}
        if seconds is not None:
            fields["seconds"] = round(seconds, 3)
        if decision.action is Action.RELEASE:
            log.info("job_interrupted", **fields)
        elif decision.action is Action.DROP:
            log.info("job_gone", **fields)
        elif decision.action is Action.RETRY:
            log.warning("job_retry_scheduled", delay_s=decision.delay_s, **fields)
        else:
            log.error(
                "job_failed",
                **fields,
                exc_info=not isinstance(error, Interrupted)
                and decision.reason.startswith("unexpected"),
            )
        try:
            await self._settle_decision(message, job_id, decision)
        except Exception as settle_error:
            # The message stays invisible until its timeout and comes back: nothing is lost.
            log.error(
                "message_settle_failed",
                decision=decision.action.value,
                error=describe(settle_error),
            )

    async def _settle_decision(
        self, message: ReceivedMessage, job_id: UUID, decision: Decision
    ) -> None:
        if decision.action is Action.RELEASE:
            await self._settle(message, Settle.RELEASE)
        elif decision.action is Action.DROP:
            await self._settle(message, Settle.DELETE)
        elif decision.action is Action.RETRY:
            with contextlib.suppress(Exception):
                await self.jobs.record_error(job_id, decision.reason)
            await self._settle(message, Settle.DELAY, decision.delay_s)
            metrics.messages_retried_total.inc()
        elif decision.action is Action.FAIL:
            await self.jobs.fail(job_id, decision.reason)
            await self._settle(message, Settle.DELETE)
        else:  # GIVE_UP
            reason = f"{decision.reason} (gave up after {message.receive_count} attempts)"
            try:
                await self.jobs.fail(job_id, reason)
                recorded = True
            except Exception as error:
                # The database is away too: the message carries the reason itself, and
                # the sweep finds the job (PROCESSING, unlocked) when the database is back.
                recorded = False
                reason = f"{reason}; the job could not be marked FAILED: {describe(error)}"
                log.error("job_failure_not_recorded", reason=reason)
            metrics.messages_dead_lettered_total.labels(metrics.DEAD_LETTER_GAVE_UP).inc()
            if self.queue.has_redrive_policy and recorded:
                # Visible now: SQS moves it to the dead-letter queue on its next receive.
                await self._settle(message, Settle.RELEASE)
            else:
                await self.queue.dead_letter(message, reason)
                self._unsettled.pop(message.message_id, None)

    async def _watch_progress(self, lease: Lease, flow: str) -> None:
        """Report the job as stalled while its progress has not moved for
        ``INGEST_STALL_AFTER_S`` (a statement or an upload that hangs): a gauge and a log
        line naming the job and its flow; and when it moves again."""
        limit = self.settings.stall_after_s
        stalled = False
        try:
            while True:
                await asyncio.sleep(min(limit / 4, 30.0))
                idle = time.monotonic() - lease.last_progress
                if idle >= limit and not stalled:
                    stalled = True
                    metrics.jobs_stalled.inc()
                    log.warning("job_stalled", phase=flow, no_progress_s=round(idle, 1))
                elif idle < limit and stalled:
                    stalled = False
                    metrics.jobs_stalled.dec()
                    log.info("job_progressing_again", phase=flow)
        finally:
            if stalled:
                metrics.jobs_stalled.dec()

    async def _heartbeat(self, message: ReceivedMessage, lease: Lease) -> None:
        """Extend the message's visibility while its job runs: a third of the timeout after
        each extension, every few seconds after a failed one, always before it runs out;
        lose the lease when it ran out (another worker may have received the message)."""
        interval = self.settings.heartbeat_interval_s
        failing = False
        while True:
            left = self._visible_until.get(message.message_id, 0.0) - time.monotonic()
            wait = min(interval, HEARTBEAT_RETRY_S) if failing else interval
            await asyncio.sleep(max(HEARTBEAT_MIN_WAIT_S, min(wait, left / 2)))
            try:
                await self._extend(message)
                metrics.heartbeat_extensions_total.inc()
                failing = False
                log.debug("visibility_extended", seconds=self.settings.visibility_timeout_s)
            except Exception as error:
                metrics.heartbeat_failures_total.inc()
                if is_receipt_handle_gone(error):
                    lease.lose("the message's receipt handle is no longer valid")
                    log.warning("heartbeat_lost", reason=describe(error))
                    return
                failing = True
                log.warning("heartbeat_failed", error=describe(error))
                if time.monotonic() >= self._visible_until.get(message.message_id, 0.0):
                    lease.lose("visibility could not be extended before it expired")
                    return
