"""The README's run command: the embedded stack comes up, migrates and polls."""

from __future__ import annotations

import os
import subprocess
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
