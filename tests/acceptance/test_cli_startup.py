"""Bad configuration fails at start with one clear line naming the setting; `check` works."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import CLI, ROOT, AwsResources, cli_env, run_cli
from worker.cli.common import ExitCode
from worker.settings import Settings


def _run(
    args: list[str], env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return run_cli(args, env, timeout)


def _error_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


def test_missing_database_url_is_one_line_naming_the_setting() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INGEST_")}
    env.update({"INGEST_S3_BUCKET": "b", "INGEST_SQS_QUEUE_URL": "http://127.0.0.1:9/q"})
    result = _run(["run"], env)
    assert result.returncode == ExitCode.CONFIG
    (line,) = _error_lines(result)
    assert line.startswith("ingest-worker: error: INGEST_DATABASE_URL is not set")


def test_a_long_poll_above_the_sqs_limit_is_refused(settings: Settings) -> None:
    result = _run(["run"], cli_env(settings, INGEST_WAIT_TIME_S="25"))
    assert result.returncode == ExitCode.CONFIG
    (line,) = _error_lines(result)
    assert "INGEST_WAIT_TIME_S" in line and "20" in line and "SQS" in line


def test_an_unreachable_database_is_one_line_without_the_password(settings: Settings) -> None:
    env = cli_env(
        settings,
        INGEST_DATABASE_URL="postgresql://app:s3cret@127.0.0.1:9/ingest",
        INGEST_DB_CONNECT_TIMEOUT_S="3",
    )
    result = _run(["run"], env)
    assert result.returncode == ExitCode.UNAVAILABLE
    (line,) = _error_lines(result)
    assert line.startswith("ingest-worker: error: INGEST_DATABASE_URL: cannot connect")
    assert "s3cret" not in result.stderr + result.stdout
    assert "app:***@127.0.0.1:9" in line


def test_an_unknown_queue_is_one_line_naming_the_setting(
    settings: Settings, aws: AwsResources
) -> None:
    missing = aws.queues.queue_url.rsplit("/", 1)[0] + "/no-such-queue"
    result = _run(["run"], cli_env(settings, INGEST_SQS_QUEUE_URL=missing))
    assert result.returncode == ExitCode.UNAVAILABLE
    (line,) = _error_lines(result)
    assert line.startswith("ingest-worker: error: INGEST_SQS_QUEUE_URL:")
    assert "does not exist" in line


def test_an_unknown_bucket_is_one_line_naming_the_setting(settings: Settings) -> None:
    result = _run(["run"], cli_env(settings, INGEST_S3_BUCKET="no-such-bucket-here"))
    assert result.returncode == ExitCode.UNAVAILABLE
    (line,) = _error_lines(result)
    assert line.startswith("ingest-worker: error: INGEST_S3_BUCKET:")


def test_an_unmigrated_database_is_refused_with_the_fix(
    settings: Settings, empty_database_url: str
) -> None:
    result = _run(["run"], cli_env(settings, INGEST_DATABASE_URL=empty_database_url))
    assert result.returncode == ExitCode.UNAVAILABLE
    (line,) = _error_lines(result)
    assert "schema version 0" in line and "ingest-worker migrate" in line


def test_check_prints_one_line_per_service_and_exits_zero(settings: Settings) -> None:
    result = _run(["check"], cli_env(settings))
    assert result.returncode == ExitCode.OK, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[:2] for line in lines] == [
        ["ok", "database"],
        ["ok", "bucket"],
        ["ok", "queue"],
        ["ok", "dlq"],
    ]


def test_check_fails_when_one_service_is_missing(settings: Settings) -> None:
    result = _run(["check"], cli_env(settings, INGEST_S3_BUCKET="no-such-bucket-here"))
    assert result.returncode == ExitCode.FAILURE
    by_name = {line.split()[1]: line.split()[0] for line in result.stdout.splitlines()}
    assert by_name == {"database": "ok", "bucket": "FAIL", "queue": "ok", "dlq": "ok"}


@pytest.mark.parametrize("args", [["--version"], ["run", "--help"], ["dlq", "replay", "--help"]])
def test_the_command_answers_without_any_setting(args: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INGEST_")}
    result = _run(args, env)
    assert result.returncode == 0
    assert result.stdout.strip()


def test_dlq_list_and_replay_through_the_cli(settings: Settings, aws: AwsResources) -> None:
    aws.sqs.send_message(
        QueueUrl=aws.queues.dlq_url,
        MessageBody="garbage",
        MessageAttributes={
            "ingest_dead_letter_reason": {"DataType": "String", "StringValue": "body is not JSON"}
        },
    )
    aws.sqs.send_message(
        QueueUrl=aws.queues.dlq_url,
        MessageBody='{"job_id": "6b0c3f4e-8a59-4b7e-9d7e-0d1f2a3b4c5d"}',
    )
    env = cli_env(settings)

    listed = _run(["dlq", "list"], env)
    assert listed.returncode == ExitCode.OK, listed.stderr
    lines = sorted(listed.stdout.splitlines())
    assert len(lines) == 2
    assert any("reason=body is not JSON" in line and "body=garbage" in line for line in lines)
    assert any("exceeded the queue's receive limit" in line for line in lines)

    dry = _run(["dlq", "replay", "--dry-run"], env)
    assert dry.returncode == ExitCode.OK, dry.stderr
    assert dry.stdout.splitlines()[-1] == (
        "would move 1 message(s); 1 left in the dead-letter queue"
    )
    assert aws.counts(aws.queues.queue_url) == (0, 0)

    replayed = _run(["dlq", "replay"], env)
    assert replayed.returncode == ExitCode.OK, replayed.stderr
    assert replayed.stdout.splitlines()[-1] == "moved 1 message(s); 1 left in the dead-letter queue"
    (moved,) = aws.queue_messages()
    assert moved["Body"] == '{"job_id": "6b0c3f4e-8a59-4b7e-9d7e-0d1f2a3b4c5d"}'
    (kept,) = aws.queue_messages(aws.queues.dlq_url)
    assert kept["Body"] == "garbage"


def test_output_piped_into_a_reader_that_stops_ends_quietly(tmp_path: Path) -> None:
    # `ingest-worker inspect big.csv --rows 50000 | head -1`: the reader goes after one line.
    big = tmp_path / "big.csv"
    big.write_text(
        "email,first_name\n" + "".join(f"p{n}@example.com,Ana\n" for n in range(50_000)),
        encoding="utf-8",
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith("INGEST_")}
    process = subprocess.Popen(
        [*CLI, "inspect", str(big), "--rows", "50000"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline()
    process.stdout.close()
    with process.stderr:
        stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == ExitCode.PIPE_CLOSED, stderr
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr
