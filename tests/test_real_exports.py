"""Reading the files real tools write, through the worker's own row source.

The files come from ``tests/exports.py``: generators of Outlook, Google Contacts, HubSpot,
Salesforce, Mailchimp and locale Excel exports, and of what people do to them (title lines,
comments, late quotes, other delimiters). Each must be read exactly: encoding, delimiter,
quote, header, and every data row as the tool wrote it.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.exports import ExportFile, corpus, with_comments, with_title
from worker.cli.common import ExitCode
from worker.sources.rows import RowSource
from worker.sources.s3 import LocalFileStream
from worker.sources.source import open_source

CORPUS = corpus()


async def _read(path: Path) -> tuple[RowSource, list[list[str]], dict[int, list[str]]]:
    source = await open_source(LocalFileStream(path), {})
    rows: list[list[str]] = []
    problems: dict[int, list[str]] = {}
    try:
        async for batch in source.batches():
            rows.extend(batch.rows)
            for number, found in batch.problems.items():
                problems[number] = [problem.type for problem in found]
    finally:
        source.close()
    return source, rows, problems


@pytest.mark.parametrize("export", CORPUS, ids=[export.name for export in CORPUS])
def test_every_generated_export_is_read_exactly(export: ExportFile, tmp_path: Path) -> None:
    path = tmp_path / export.name
    path.write_bytes(export.data)
    source, rows, problems = asyncio.run(_read(path))
    detection = source.detection
    assert detection.encoding is not None and detection.dialect is not None
    text = export.data[detection.encoding.bom_bytes :].decode(detection.encoding.python_codec)
    assert text == export.data.decode(export.encoding).removeprefix("\ufeff")
    dialect = detection.dialect.dialect
    assert dialect.delimiter == export.delimiter
    if export.quotechar is not None:
        assert dialect.quotechar == export.quotechar
    assert dialect.has_header == export.has_header
    if export.has_header:
        assert detection.headers == export.header
        assert detection.header_number == export.header_row
    assert problems == export.problems
    assert rows == export.rows


def test_a_title_above_the_header_is_skipped_and_shown(tmp_path: Path) -> None:
    export = with_title(next(f for f in CORPUS if f.name == "excel-de.csv"))
    path = tmp_path / "titled.csv"
    path.write_bytes(export.data)
    result = run_cli(["inspect", str(path), "--all", "--json", "--rows", "1"])
    assert result.returncode == ExitCode.OK, result.stderr
    report = json.loads(result.stdout)
    assert report["dialect"]["skip_rows"] == 2
    assert report["header_row"] == 3
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
