"""The README's run command: the embedded stack comes up, migrates and polls."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import CLI, ROOT

pytestmark = pytest.mark.slow


def _demo(data_dir: Path) -> subprocess.CompletedProcess[str]:
    # No INGEST_* at all: the demo configures itself.
    env = {key: value for key, value in os.environ.items() if not key.startswith("INGEST_")}
    return subprocess.run(
        [*CLI, "demo", "--dir", str(data_dir), "--exit-when-idle"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_demo_brings_the_stack_up_polls_and_keeps_its_data(tmp_path: Path) -> None:
    first = _demo(tmp_path / "local")
    assert first.returncode == 0, first.stderr
    assert "ingest-worker demo: polling http://127.0.0.1:" in first.stdout
    assert '"event": "migration_applied"' in first.stderr
    assert '"event": "worker_started"' in first.stderr
    assert '"event": "queue_drained"' in first.stderr
    # The bundled sample went through the initial flow and its outcome was printed.
    assert "sample job " in first.stdout and ": NEEDS_REVIEW" in first.stdout
    assert "read as cp1252, delimiter ';'" in first.stdout
    assert "INVALID_EMAIL      row 4: 'maria.santos.exemplo.pt' has no @" in first.stdout
    assert "DUPLICATE_IN_FILE  row 6, 8:" in first.stdout
    assert (tmp_path / "local" / "postgres" / "PG_VERSION").exists()

    # The second run reuses the database: nothing left to migrate.
    second = _demo(tmp_path / "local")
    assert second.returncode == 0, second.stderr
    assert "migration_applied" not in second.stderr
    assert '"event": "worker_started"' in second.stderr


def test_the_next_commands_reach_the_running_demo_through_its_env_file(tmp_path: Path) -> None:
    # The README's path: `make run` (the demo) in one terminal, then, in another, the
    # commands the demo prints, exactly as printed.
    env = {key: value for key, value in os.environ.items() if not key.startswith("INGEST_")}
    data_dir = tmp_path / "local"
    # Its logs are not read while the commands run (they would fill the pipe).
    demo, printed = _start_demo(data_dir, until="review issues JOB", logs=False)
    try:
        source = next(line.strip() for line in printed if line.strip().startswith(". "))
        contacts = tmp_path / "mine.csv"
        contacts.write_text(
            "email,first_name,last_name,company\nana@x.pt,Ana,Silva,Acme\nbo-x.pt,Bo,Ng,Acme\n"
        )
        bin_dir = Path(CLI[0]).parent

        def shell(command: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                ["bash", "-c", f"{source} && {command}"],
                cwd=tmp_path,
                env={**env, "PATH": f"{bin_dir}:{env.get('PATH', '')}"},
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )

        submitted = shell(f"ingest-worker submit {contacts} --tenant demo --json")
        assert submitted.returncode == 0, submitted.stderr
        job_id = json.loads(submitted.stdout)["job_id"]
        deadline = time.monotonic() + 60
        while "NEEDS_REVIEW" not in (shown := shell(f"ingest-worker jobs show {job_id}")).stdout:
            assert time.monotonic() < deadline, shown.stdout + shown.stderr
            time.sleep(0.5)
        issues = shell(f"ingest-worker review issues {job_id} --tenant demo")
        assert "INVALID_EMAIL" in issues.stdout, issues.stderr
        exported = shell(f"ingest-worker jobs exports {job_id} --json")
        files = json.loads(exported.stdout)["files"]
        url = next(entry["url"] for entry in files if entry["kind"] == "all")
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - the demo's
            assert b"ana@x.pt" in response.read()
    finally:
        demo.send_signal(signal.SIGINT)
        demo.communicate(timeout=30)
    assert demo.returncode == 0
    assert not (data_dir / "env").exists()  # gone with the stack it pointed at


def _start_demo(
    data_dir: Path, until: str = "ingest-worker demo: polling", logs: bool = True
) -> tuple[subprocess.Popen[str], list[str]]:
    """The demo (the README's run command) in its own process, once it printed ``until``
    (by default: once its worker polls); its logs on stdout too when ``logs``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("INGEST_")}
    demo = subprocess.Popen(
        [*CLI, "demo", "--dir", str(data_dir)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if logs else subprocess.DEVNULL,
        text=True,
    )
    assert demo.stdout is not None
    printed: list[str] = []
    deadline = time.monotonic() + 120
    while not any(until in line for line in printed):
        assert demo.poll() is None and time.monotonic() < deadline, "".join(printed)
        printed.append(demo.stdout.readline())
    return demo, printed


def _postmaster_pid(data_dir: Path) -> int:
    return int((data_dir / "postgres" / "postmaster.pid").read_text().split()[0])


def _running(pid: int) -> bool:
    """Whether ``pid`` runs (an exited process waiting to be reaped does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_every_stop_signal_ends_the_demo_in_seconds_with_its_server(tmp_path: Path) -> None:
    data_dir = tmp_path / "local"
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        demo, _ = _start_demo(data_dir)
        postgres = _postmaster_pid(data_dir)
        signalled = time.monotonic()
        demo.send_signal(signum)
        rest, _ = demo.communicate(timeout=30)
        took = time.monotonic() - signalled
        # It says what it does: the worker's stop, then the stack's.
        assert '"event": "shutdown_requested"' in rest, rest
        assert '"event": "demo_stopped"' in rest, rest
        assert took < 3, f"{signum.name}: {took:.1f} s"
        assert demo.returncode == 0, (signum.name, rest)
        assert not _running(postgres), f"{signum.name} left PostgreSQL {postgres} running"


def test_a_server_left_by_a_killed_demo_is_adopted_and_stopped_by_the_next(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "local"
    killed, _ = _start_demo(data_dir)
    killed.kill()  # no clean-up at all: its PostgreSQL stays up
    killed.communicate(timeout=30)
    stale = _postmaster_pid(data_dir)
    assert _running(stale)
    demo, printed = _start_demo(data_dir)
    assert any("demo_adopts_stale_server" in line for line in printed), "".join(printed)
    demo.send_signal(signal.SIGTERM)
    rest, _ = demo.communicate(timeout=30)
    assert demo.returncode == 0, rest
    assert not _running(stale), "the stale server is still running"
