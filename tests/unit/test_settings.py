"""Settings: validated with messages that name the variable; secrets never shown."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from worker.settings import Settings, describe_validation_error, redact_url

REQUIRED = {
    "database_url": "postgresql://app:hunter2@db.internal:5432/ingest",
    "s3_bucket": "uploads",
    "sqs_queue_url": "https://sqs.eu-west-1.amazonaws.com/123456789012/jobs",
}


def _problems(**values: object) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        Settings(**{**REQUIRED, **values})
    return describe_validation_error(caught.value)


def test_defaults_are_valid() -> None:
    settings = Settings(**REQUIRED)
    assert settings.wait_time_s == 20
    assert settings.heartbeat_interval_s == settings.visibility_timeout_s / 3


def test_secrets_are_masked_in_repr_and_in_the_loggable_dict() -> None:
    settings = Settings(**REQUIRED, aws_access_key_id="AKIA", aws_secret_access_key="topsecret")
    assert "hunter2" not in repr(settings)
    assert "topsecret" not in repr(settings)
    shown = str(settings.safe_dict())
    assert "hunter2" not in shown and "topsecret" not in shown
    assert "app:***@db.internal:5432/ingest" in shown


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"wait_time_s": 21}, "INGEST_WAIT_TIME_S: must be at most 20 (SQS's long-poll limit)"),
        ({"visibility_timeout_s": 50_000}, "INGEST_VISIBILITY_TIMEOUT_S: must be at most 43200"),
        ({"database_url": "mysql://x"}, "INGEST_DATABASE_URL: must start with postgresql://"),
        ({"concurrency": 0}, "INGEST_CONCURRENCY: Input should be greater than or equal to 1"),
        ({"log_format": "xml"}, "INGEST_LOG_FORMAT: Input should be 'auto', 'json' or 'console'"),
        ({"aws_access_key_id": "AKIA"}, "go together"),
        ({"concurrency": 8, "db_pool_max_size": 10}, "INGEST_DB_POOL_MAX_SIZE must be at least"),
    ],
)
def test_invalid_values_name_the_variable(values: dict[str, object], expected: str) -> None:
    problems = _problems(**values)
    assert len(problems) == 1
    assert expected in problems[0]


def test_a_missing_setting_says_what_to_set() -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(s3_bucket="b", sqs_queue_url="q")
    (line,) = describe_validation_error(caught.value)
    assert line.startswith("INGEST_DATABASE_URL is not set: PostgreSQL URL")


def test_log_level_is_case_insensitive() -> None:
    assert Settings(**REQUIRED, log_level="debug").log_level == "DEBUG"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u:p@h:5432/d", "postgresql://u:***@h:5432/d"),
        ("postgresql://u@h/d", "postgresql://u@h/d"),
        ("postgresql://postgres:@/db?host=/tmp/x", "postgresql://postgres:***@/db?host=/tmp/x"),
        ("postgresql://h/d", "postgresql://h/d"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown
