"""``ingest-worker inspect``: what a person sees before submitting a file."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.conftest import AwsResources, cli_env, run_cli
from worker.cli.common import ExitCode
from worker.settings import Settings


def _run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_cli(["inspect", *args], env)


GERMAN = (
    "E-Mail;Vorname;Nachname;Firma;Telefon\r\n"
    "anna@beispiel.de;Anna;Müller;Bäckerei Groß;+49 30 1234567\r\n"
    "bob@beispiel.de;Bob;Ölz;;030 7654321\r\n"
)


def test_inspect_a_local_file_for_a_person(tmp_path: Path) -> None:
    path = tmp_path / "kontakte.csv"
    path.write_bytes(GERMAN.encode("cp1252"))
    result = _run([str(path)])
    assert result.returncode == ExitCode.OK, result.stderr
    out = result.stdout
    assert "encoding    cp1252" in out
    assert "delimiter=';'" in out
    assert "email       <- 'E-Mail'" in out and "phone       <- 'Telefon'" in out
    assert '["anna@beispiel.de", "Anna", "Müller", "Bäckerei Groß", "+49 30 1234567"]' in out


def test_inspect_json_with_overrides(tmp_path: Path) -> None:
    path = tmp_path / "data.txt"
    path.write_text("a@x.io\tAna\nb@x.io\tBo\n", encoding="utf-8")
    result = _run([str(path), "--json", "--delimiter", "\\t", "--no-header", "--rows", "1"])
    assert result.returncode == ExitCode.OK, result.stderr
    report = json.loads(result.stdout)
    assert report["dialect"]["delimiter"] == "\t" and report["dialect"]["method"] == "override"
    assert report["header_row"] is None
    assert report["rows"] == [{"row": 1, "cells": ["a@x.io", "Ana"], "problems": []}]
    assert report["mapping"]["fields"]["email"]["method"] == "content"


def test_inspect_refuses_a_binary_file_with_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "photo.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    result = _run([str(path)])
    assert result.returncode == ExitCode.FAILURE
    assert result.stderr.strip() == (
        f"ingest-worker: error: {path}: the file is a PNG image, not a CSV or Excel file"
    )


def test_inspect_an_s3_url(settings: Settings, aws: AwsResources) -> None:
    aws.s3.put_object(
        Bucket=aws.bucket, Key="uploads/t1/kontakte.csv", Body=GERMAN.encode("cp1252")
    )
    result = _run([f"s3://{aws.bucket}/uploads/t1/kontakte.csv", "--json"], cli_env(settings))
    assert result.returncode == ExitCode.OK, result.stderr
    report = json.loads(result.stdout)
    assert report["encoding"]["name"] == "cp1252"
    assert [row["row"] for row in report["rows"]] == [2, 3]

    missing = _run([f"s3://{aws.bucket}/uploads/none.csv"], cli_env(settings))
    assert missing.returncode == ExitCode.FAILURE
    assert "does not exist" in missing.stderr


def test_bad_option_values_get_one_line_never_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "u16.csv"
    path.write_bytes("email,name\na@x.io,Ana\n".encode("utf-16"))
    for args in (
        ["--delimiter", ";;"],
        ["--header-row", "abc"],
        ["--quotechar", "ab"],
        ["--encoding", "utf-32"],
        ["--encoding", "klingon"],
    ):
        result = _run([str(path), *args])
        assert result.returncode == ExitCode.FAILURE, args
        assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1, args
    forced = _run([str(path), "--encoding", "utf-16", "--json"])
    assert json.loads(forced.stdout)["rows"][0]["cells"] == ["a@x.io", "Ana"]
