"""The README tells the truth: every setting and every command is documented."""

from __future__ import annotations

import re

from tests.conftest import ROOT
from worker.cli.main import build_parser
from worker.settings import Settings, env_name

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_configuration_table() -> None:
    documented = set(re.findall(r"^\| `(INGEST_[A-Z0-9_]+)` \|", README, re.MULTILINE))
    assert documented == {env_name(field) for field in Settings.model_fields}


def test_every_default_in_the_table_is_the_real_default() -> None:
    for field, info in Settings.model_fields.items():
        match = re.search(rf"^\| `{env_name(field)}` \| ([^|]+) \|", README, re.MULTILINE)
        assert match, field
        shown = match.group(1).strip()
        if info.is_required():
            assert shown == "required", field
        elif info.default is None:
            assert shown == "unset", field
        else:
            assert shown == f"`{info.default}`", field


def test_every_command_is_in_the_commands_table() -> None:
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for name in commands:
        assert f"`ingest-worker {name}" in README, name


def test_the_ci_script_runs_the_readme_test_command() -> None:
    assert "make test" in README
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert [line for line in ci.splitlines() if line and not line.startswith("#")][-1] == (
        "make test"
    )
