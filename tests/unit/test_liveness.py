"""The liveness rule of /healthz on a clock the test moves: no services, no sleeping."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from worker.health import HealthServer


@dataclass
class _Loop:
    """What the probe reads of a worker."""

    free_slots: int = 1
    started_monotonic: float | None = None
    last_poll_monotonic: float | None = None


def _probe(loop: _Loop, now: list[float], max_age_s: float = 30) -> HealthServer:
    return HealthServer(
        cast(Any, loop),
        cast(Any, None),
        cast(Any, None),
        port=0,
        max_poll_age_s=max_age_s,
        clock=lambda: now[0],
    )


def test_alive_while_polls_are_recent_and_not_once_they_stop() -> None:
    now = [1000.0]
    loop = _Loop()
    probe = _probe(loop, now)
    assert probe.alive() == (False, "the receive loop has not started")
    loop.started_monotonic = 1000.0
    now[0] = 1010.0
    assert probe.alive() == (True, "polled 10.0 s ago")
    loop.last_poll_monotonic = 1020.0
    now[0] = 1049.0
    assert probe.alive()[0]
    now[0] = 1051.0
    assert probe.alive() == (False, "no poll for 31 s (limit 30 s)")


def test_a_loop_with_every_slot_busy_is_alive_without_polling() -> None:
    now = [5000.0]
    loop = _Loop(free_slots=0, started_monotonic=0.0, last_poll_monotonic=0.0)
    assert _probe(loop, now).alive() == (True, "all slots busy")
