"""A job's reading progress, from its counters alone."""

from __future__ import annotations

import uuid
from dataclasses import replace

from tests.support import TENANT
from worker.jobs import progress_percent
from worker.model import Job, JobStatus


def test_progress_is_read_from_bytes_while_running() -> None:
    running = Job(
        id=uuid.uuid4(),
        tenant=TENANT,
        status=JobStatus.PROCESSING,
        source_bucket="in",
        source_key="a.csv",
        source_size_bytes=1000,
        bytes_read=250,
    )
    assert progress_percent(running) == 25.0
    assert progress_percent(replace(running, status=JobStatus.NEEDS_REVIEW)) == 100.0
    unknown_size = replace(running, status=JobStatus.PENDING, source_size_bytes=None)
    assert progress_percent(unknown_size) is None
