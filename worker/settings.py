"""Configuration from the environment, validated at start.

Every setting is an environment variable named ``INGEST_`` + the field name in capitals
(``database_url`` -> ``INGEST_DATABASE_URL``). Units are part of the names. The service
limits that bound some settings are named constants below, each with where it comes from.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "INGEST_"

# SQS ReceiveMessage: WaitTimeSeconds is 0..20 and MaxNumberOfMessages 1..10.
SQS_MAX_WAIT_TIME_S = 20
SQS_MAX_RECEIVE_BATCH = 10
# SendMessageBatch: at most 10 entries a request.
SQS_MAX_SEND_BATCH = 10
# SQS ChangeMessageVisibility / queue VisibilityTimeout: 0 s .. 12 hours.
SQS_MAX_VISIBILITY_TIMEOUT_S = 12 * 60 * 60
# SQS DelaySeconds on SendMessage: 0..900 s.
SQS_MAX_DELAY_S = 900
# S3 multipart: every part but the last is at least 5 MiB; at most 10,000 parts.
S3_MIN_PART_SIZE_BYTES = 5 * 1024 * 1024
S3_MAX_PART_SIZE_BYTES = 5 * 1024 * 1024 * 1024
# A SigV4 pre-signed URL is valid for at most 7 days.
S3_MAX_PRESIGN_EXPIRY_S = 7 * 24 * 60 * 60

LogFormat = Literal["auto", "json", "console"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]


class Settings(BaseSettings):
    """The worker's settings; see the README's configuration table for each one."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )

    # --- PostgreSQL
    database_url: SecretStr = Field(
        description="PostgreSQL URL, e.g. postgresql://user:password@host:5432/ingest"
    )
    db_pool_min_size: int = Field(1, ge=0, description="Connections the pool keeps open.")
    db_pool_max_size: int = Field(10, ge=1, description="Most connections the pool opens.")
    db_connect_timeout_s: float = Field(10.0, gt=0, description="Timeout to open a connection.")

    # --- AWS (S3 and SQS)
    aws_region: str = Field("us-east-1", description="AWS region of the bucket and queues.")
    aws_access_key_id: str | None = Field(
        None, description="Access key; unset to use the default credential chain (IAM role)."
    )
    aws_secret_access_key: SecretStr | None = Field(
        None, description="Secret key that goes with INGEST_AWS_ACCESS_KEY_ID."
    )
    s3_bucket: str = Field(description="Bucket that holds uploads and exports.")
    s3_endpoint_url: str | None = Field(
        None, description="S3 endpoint; unset for AWS, set for an emulator."
    )
    sqs_queue_url: str = Field(description="URL of the job queue.")
    sqs_dlq_url: str | None = Field(
        None,
        description="URL of the dead-letter queue; unset to take it from the queue's "
        "redrive policy.",
    )
    sqs_endpoint_url: str | None = Field(
        None, description="SQS endpoint; unset for AWS, set for an emulator."
    )

    # --- The receive loop
    concurrency: int = Field(4, ge=1, le=256, description="Jobs one worker runs at once.")
    wait_time_s: int = Field(
        20, ge=0, description="SQS long-poll wait (0-20 s; 0 polls every 0.25 s when idle)."
    )
    visibility_timeout_s: int = Field(
        300, ge=2, description="Visibility a received message is given and extended by."
    )
    receive_visibility_s: int = Field(
        30,
        ge=1,
        description="Visibility a message is received with, until its worker takes it for "
        "INGEST_VISIBILITY_TIMEOUT_S (at once): a receive whose answer is lost (a connection "
        "cut during a long poll) hides its messages this long.",
    )
    lock_retry_delay_s: int = Field(
        30,
        ge=0,
        le=900,
        description="Delay before a fresh copy of a message whose job runs elsewhere is seen.",
    )
    sweep_interval_s: float = Field(
        60.0,
        ge=0,
        description="How often a worker sweeps for jobs nothing would move (0: never; "
        "`ingest-worker sweep` does it once).",
    )
    export_max_attempts: int = Field(
        4,
        ge=1,
        description="Tries of a decision's exports before only `jobs exports` asks again.",
    )
    export_retry_base_s: float = Field(
        60.0,
        ge=0,
        description="Wait before failed exports are written again (x4 after each failure).",
    )
    sweep_after_s: float = Field(
        900.0,
        gt=0,
        description="A job untouched this long, with no worker holding it, is sent again.",
    )
    retry_base_delay_s: float = Field(5.0, gt=0, description="First backoff of a retried job.")
    retry_max_delay_s: int = Field(900, ge=1, description="Longest backoff of a retried job.")
    max_receive_count: int = Field(
        5,
        ge=1,
        description="Receives before a job is given up, when the queue has no redrive policy.",
    )
    shutdown_grace_s: float = Field(
        25.0, ge=0, description="Time running jobs get to reach a checkpoint on SIGTERM."
    )

    # --- Processing
    batch_size_rows: int = Field(2000, ge=1, description="Rows written per transaction.")
    max_row_chars: int = Field(
        1 << 20,
        ge=1024,
        description="Longest row read from a file; a longer one is cut and reported "
        "(FIELD_TOO_LARGE).",
    )
    progress_interval_rows: int = Field(
        10000, ge=1, description="Progress is saved at least every N rows."
    )
    flows: str = Field(
        "worker.flows:default_flows",
        description="Import path of the flow set (module:callable); for extensions and tests.",
    )

    # --- Producers
    upload_prefix: str = Field(
        "uploads", min_length=1, description="Key prefix of the files `submit` uploads."
    )
    upload_part_size_bytes: int = Field(
        8 * 1024 * 1024,
        ge=S3_MIN_PART_SIZE_BYTES,
        le=S3_MAX_PART_SIZE_BYTES,
        description="Files larger than this are uploaded in parts of this size (at least 5 MiB).",
    )
    upload_url_expiry_s: int = Field(
        900,
        ge=1,
        le=S3_MAX_PRESIGN_EXPIRY_S,
        description="How long a pre-signed upload URL (`presign-upload`) is valid.",
    )
    s3_event_key_pattern: str = Field(
        r"^uploads/(?P<user>[^/]+)/[^/]+$",
        description="Regex an S3 event's key must match for the worker to create its job; "
        "named groups give the tenant (user, required) and options (delimiter, encoding).",
    )

    # --- Exports
    export_prefix: str = Field(
        "exports", min_length=1, description="Key prefix of the enriched exports in the bucket."
    )
    export_part_size_bytes: int = Field(
        S3_MIN_PART_SIZE_BYTES,
        ge=S3_MIN_PART_SIZE_BYTES,
        le=S3_MAX_PART_SIZE_BYTES,
        description="Size of each multipart-upload part of an export (at least 5 MiB).",
    )
    export_url_expiry_s: int = Field(
        3600,
        ge=1,
        le=S3_MAX_PRESIGN_EXPIRY_S,
        description="How long a pre-signed export download URL is valid (at most 7 days).",
    )

    # --- Operations
    log_level: LogLevel = Field("INFO", description="DEBUG, INFO, WARNING or ERROR.")
    log_format: LogFormat = Field(
        "auto", description="json, console, or auto (console on a terminal, else JSON)."
    )
    health_max_poll_age_s: float = Field(
        60.0,
        gt=0,
        description="/healthz fails when the loop has not polled for this long "
        "while a slot is free.",
    )
    metrics_port: int = Field(
        9102, ge=0, le=65535, description="Port of /metrics, /healthz, /readyz; 0 disables."
    )
    metrics_host: str = Field(
        "0.0.0.0",  # noqa: S104 - probes and scrapes come from outside the pod
        description="Address /metrics, /healthz and /readyz listen on (127.0.0.1: this host only).",
    )
    stall_after_s: float = Field(
        900.0,
        gt=0,
        description="A running job whose progress (a committed batch, an uploaded part) has "
        "not moved for this long is reported stalled (metric, log line).",
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("s3_event_key_pattern")
    @classmethod
    def _key_pattern(cls, value: str) -> str:
        try:
            compiled = re.compile(value)
        except re.error as error:
            raise ValueError(f"not a valid regular expression: {error}") from None
        if "user" not in compiled.groupindex:
            raise ValueError("needs a named group (?P<user>...) giving the tenant")
        return value

    @field_validator("wait_time_s")
    @classmethod
    def _sqs_wait_limit(cls, value: int) -> int:
        if value > SQS_MAX_WAIT_TIME_S:
            raise ValueError(
                f"must be at most {SQS_MAX_WAIT_TIME_S} (SQS's long-poll limit), got {value}"
            )
        return value

    @field_validator("visibility_timeout_s")
    @classmethod
    def _sqs_visibility_limit(cls, value: int) -> int:
        if value > SQS_MAX_VISIBILITY_TIMEOUT_S:
            raise ValueError(
                f"must be at most {SQS_MAX_VISIBILITY_TIMEOUT_S} (SQS's 12-hour visibility "
                f"limit), got {value}"
            )
        return value

    @field_validator("retry_max_delay_s")
    @classmethod
    def _retry_delay_limit(cls, value: int) -> int:
        if value > SQS_MAX_VISIBILITY_TIMEOUT_S:
            raise ValueError(f"must be at most {SQS_MAX_VISIBILITY_TIMEOUT_S}, got {value}")
        return value

    @field_validator("database_url")
    @classmethod
    def _postgres_scheme(cls, value: SecretStr) -> SecretStr:
        url = value.get_secret_value()
        if not url.startswith(("postgresql://", "postgres://")):
            raise ValueError("must start with postgresql:// (or postgres://)")
        return value

    @model_validator(mode="after")
    def _pool_bounds(self) -> Settings:
        if self.db_pool_min_size > self.db_pool_max_size:
            raise ValueError(
                "INGEST_DB_POOL_MIN_SIZE must not exceed INGEST_DB_POOL_MAX_SIZE "
                f"({self.db_pool_min_size} > {self.db_pool_max_size})"
            )
        if self.db_pool_max_size < 2 * self.concurrency:
            # Each running job holds one connection for its lock and works on another.
            raise ValueError(
                "INGEST_DB_POOL_MAX_SIZE must be at least twice INGEST_CONCURRENCY "
                f"({self.db_pool_max_size} < 2 x {self.concurrency}): each running job holds "
                "a lock connection and works on another"
            )
        if (self.aws_access_key_id is None) != (self.aws_secret_access_key is None):
            raise ValueError(
                "INGEST_AWS_ACCESS_KEY_ID and INGEST_AWS_SECRET_ACCESS_KEY go together: "
                "set both or neither"
            )
        return self

    @property
    def heartbeat_interval_s(self) -> float:
        """How often a running job's message visibility is extended: a third of the timeout,
        so two extensions can fail in a row before the message would reappear."""
        return self.visibility_timeout_s / 3

    def safe_dict(self) -> dict[str, Any]:
        """The settings as a dict fit for logs: secrets stay masked, the URL's password too."""
        values = self.model_dump()
        values["database_url"] = redact_url(self.database_url.get_secret_value())
        return {
            key: str(value) if isinstance(value, SecretStr) else value
            for key, value in values.items()
        }


def env_name(field: str) -> str:
    """The environment variable that sets ``field``."""
    return ENV_PREFIX + field.upper()


def redact_url(url: str) -> str:
    """``url`` with its password replaced by ``***``, for messages and logs."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    credentials, _, location = rest.rpartition("@")
    user, has_password, _ = credentials.partition(":")
    return f"{scheme}://{user}{':***' if has_password else ''}@{location}"


def describe_validation_error(error: ValidationError) -> list[str]:
    """One line per problem, each naming the environment variable to fix."""
    lines = []
    for problem in error.errors():
        location = problem.get("loc") or ()
        field = str(location[0]) if location else ""
        description = ""
        if field in Settings.model_fields:
            description = Settings.model_fields[field].description or ""
        message = str(problem.get("msg", "invalid")).removeprefix("Value error, ")
        if problem.get("type") == "missing":
            lines.append(f"{env_name(field)} is not set: {description}")
        elif field:
            lines.append(f"{env_name(field)}: {message}")
        else:
            lines.append(message)
    return lines


def load_settings(**overrides: Any) -> Settings:
    """Read the settings from the environment (and ``.env``), with ``overrides`` on top."""
    return Settings(**overrides)
