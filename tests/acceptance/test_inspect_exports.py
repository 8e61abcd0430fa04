"""inspect on generated exports: title rows, comments, reading problems and whole-file
outcomes, as a person sees them."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_cli
from tests.exports import with_comments, with_title
from tests.unit.test_real_exports import CORPUS
from worker.cli.common import ExitCode


def test_a_title_above_the_header_is_skipped_and_shown(tmp_path: Path) -> None:
    export = with_title(next(f for f in CORPUS if f.name == "excel-de.csv"))
    path = tmp_path / "titled.csv"
    path.write_bytes(export.data)
    result = run_cli(["inspect", str(path), "--all", "--json", "--rows", "1"])
    assert result.returncode == ExitCode.OK, result.stderr
    report = json.loads(result.stdout)
    assert report["dialect"]["skip_rows"] == 2
    assert report["header_row"] == 4  # the row a person reads: the blank line counted
    assert report["headers"] == export.header
    assert report["data_rows"] == len(export.rows)
    assert report["problems"] == {}
    # A person who knows better says where the header is.
    forced = run_cli(["inspect", str(path), "--json", "--header-row", "1", "--rows", "1"])
    assert json.loads(forced.stdout)["headers"] == ["Contacts export"]


def test_comment_lines_are_neither_header_nor_rows(tmp_path: Path) -> None:
    export = with_comments(next(f for f in CORPUS if f.name == "google.csv"))
    path = tmp_path / "commented.csv"
    path.write_bytes(export.data)
    result = run_cli(["inspect", str(path), "--all", "--json", "--rows", "0"])
    report = json.loads(result.stdout)
    assert report["dialect"]["comment"] == "#"
    assert report["headers"] == export.header
    assert report["data_rows"] == len(export.rows)
    assert report["problems"] == {}


def test_inspect_all_counts_reading_problems_by_type(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("email,name,city\na@x.io,Ana,Porto\nb@x.io,Bo\nc@x.io,Cy,Lyon,extra\n")
    result = run_cli(["inspect", str(path), "--all"])
    assert result.returncode == ExitCode.OK, result.stderr
    assert "data rows   3" in result.stdout
    assert "RAGGED_ROW      2 row(s): 3, 4" in result.stdout


def test_inspect_all_says_when_the_job_would_fail_as_a_whole(tmp_path: Path) -> None:
    path = tmp_path / "no-email.csv"
    path.write_text("Name,Company,City\nAna Silva,Acme,Porto\nBo Ng,Lda,Lyon\n")
    report = json.loads(run_cli(["inspect", str(path), "--all", "--json"]).stdout)
    assert report["file_problem"].startswith("no column could be mapped to email")
    header_only = tmp_path / "header-only.csv"
    header_only.write_text("email,first_name,last_name,company\n")
    report = json.loads(run_cli(["inspect", str(header_only), "--all", "--json"]).stdout)
    assert report["file_problem"] == (
        "the file has no data rows: only a header (email, first_name, last_name, company)"
    )
    fine = next(f for f in CORPUS if f.name == "excel-pt.csv")
    path.write_bytes(fine.data)
    assert (
        json.loads(run_cli(["inspect", str(path), "--all", "--json"]).stdout)["file_problem"]
        is None
    )
