"""What every command shares: exit codes, the one-line failure, running a command with its
settings loaded, the command's services, JSON output."""

from __future__ import annotations

import argparse
import asyncio
import enum
import getpass
import json
import os
import sys
from collections.abc import Callable, Coroutine
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from worker.errors import ActionRefused, ConfigError, StartupCheckError
from worker.logs import configure_logging
from worker.settings import Settings, describe_validation_error, load_settings

if TYPE_CHECKING:
    from worker.services import Services

# A command: its settings and arguments in, its exit code out.
Handler = Callable[[Settings, argparse.Namespace], Coroutine[Any, Any, int]]


class ExitCode(enum.IntEnum):
    """What the command's exit status means."""

    OK = 0
    FAILURE = 1  # the command ran and failed (a check did not pass, a job failed)
    USAGE = 2  # the command line is wrong (argparse's own code)
    CONFIG = 3  # a setting is missing or invalid
    UNAVAILABLE = 4  # a service (database, bucket, queue) cannot be reached
    INTERRUPTED = 130  # stopped at once by a second signal
    PIPE_CLOSED = 141  # the reader of the output went away (piped into head, less...)


def fail(message: str) -> None:
    """Say why a command failed, on one line of stderr."""
    print(f"ingest-worker: error: {message}", file=sys.stderr)


def load(overrides: dict[str, Any] | None = None) -> Settings:
    settings = load_settings(**(overrides or {}))
    configure_logging(settings.log_level, settings.log_format)
    return settings


def execute(
    command: Callable[[Settings, argparse.Namespace], Coroutine[Any, Any, int]],
    args: argparse.Namespace,
) -> int:
    """Load settings, run ``command``, turn the known failures into one line and a code."""
    try:
        settings = load(getattr(args, "settings_overrides", None))
    except ValidationError as error:
        for line in describe_validation_error(error):
            fail(line)
        return ExitCode.CONFIG
    try:
        return asyncio.run(command(settings, args))
    except ActionRefused as error:
        fail(error.message)
        return ExitCode.FAILURE
    except StartupCheckError as error:
        fail(error.message)
        return ExitCode.UNAVAILABLE
    except ConfigError as error:
        fail(error.message)
        return ExitCode.CONFIG
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED


def json_text(value: Any) -> str:
    """A command's JSON output (ids, times and bytes as strings)."""
    return json.dumps(
        value,
        default=lambda v: v.hex() if isinstance(v, bytes) else str(v),
        ensure_ascii=False,
        indent=2,
    )


def default_actor() -> str:
    """Who acts, for the review record: ``INGEST_ACTOR`` or the login name."""
    try:
        return os.environ.get("INGEST_ACTOR") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def command_services(settings: Settings) -> AbstractAsyncContextManager[Services]:
    """The command's services (imported on use: ``--help`` stays fast)."""
    from worker.services import open_command_services

    return open_command_services(settings)
