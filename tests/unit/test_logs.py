"""Logs: JSON lines with the bound job context; stdlib loggers come through the same way."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from worker.logs import bind_job, configure_logging, get_logger


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    configure_logging("INFO", "json", buffer)
    yield buffer
    configure_logging("WARNING", "json", io.StringIO())


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_carry_the_bound_job_context(stream: io.StringIO) -> None:
    log = get_logger("worker.test")
    with bind_job(job_id="j-1", flow="initial"):
        log.info("batch_committed", rows=500)
    log.info("outside")
    inside, outside = _lines(stream)
    assert inside["event"] == "batch_committed"
    assert (inside["job_id"], inside["flow"], inside["rows"]) == ("j-1", "initial", 500)
    assert inside["level"] == "info" and "timestamp" in inside
    assert "job_id" not in outside


def test_stdlib_logging_is_bridged(stream: io.StringIO) -> None:
    with bind_job(job_id="j-2"):
        logging.getLogger("some.library").warning("disk %s", "full")
    (line,) = _lines(stream)
    assert (line["event"], line["job_id"], line["logger"]) == ("disk full", "j-2", "some.library")


def test_level_filters(stream: io.StringIO) -> None:
    get_logger().debug("hidden")
    assert stream.getvalue() == ""


def test_exceptions_are_rendered_into_the_line(stream: io.StringIO) -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        get_logger().exception("failed")
    (line,) = _lines(stream)
    assert "ValueError: boom" in str(line["exception"])


def test_a_pool_reconnect_failure_is_one_line_without_a_traceback(stream: io.StringIO) -> None:
    # asyncpg logs every failed reconnect of its pool's floor with the whole traceback:
    # once a second or so while the database is away. One line each, with the reason.
    # Its background task runs in the context of the job that started it: not the job's line.
    with bind_job(job_id="j-3", receive_count=1):
        try:
            raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)")
        except ConnectionRefusedError:
            logging.getLogger("asyncpg.pool").warning(
                "Failed to restore the pool connection floor; retrying", exc_info=True
            )
    (line,) = _lines(stream)
    assert "job_id" not in line and "receive_count" not in line
    assert "exception" not in line
    assert "Traceback" not in stream.getvalue()
    assert line["level"] == "warning"
    assert (
        line["error"]
        == "ConnectionRefusedError: [Errno 111] Connect call failed ('127.0.0.1', 5432)"
    )
