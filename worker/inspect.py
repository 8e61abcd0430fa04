"""``ingest-worker inspect FILE_OR_S3_URL``: what the worker would make of a file.

Prints the detected format, encoding, dialect, header, column mapping with confidences,
and the first rows, so a person can check (and override) before submitting.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TextIO

from worker.errors import JobInvalid
from worker.model import FULL_NAME, REQUIRED_DEFAULT
from worker.sources.rows import RowSource, skipped_line
from worker.sources.s3 import ByteStream, LocalFileStream
from worker.sources.source import open_source


def parse_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/key`` -> (bucket, key)."""
    rest = url.removeprefix("s3://")
    bucket, _, key = rest.partition("/")
    if not bucket or not key:
        raise ValueError(f"not an s3://bucket/key URL: {url}")
    return bucket, key


async def inspect_stream(
    stream: ByteStream, options: dict[str, Any], rows: int, read_all: bool = False
) -> dict[str, Any]:
    """Detection and the first ``rows`` rows, with their problems; with ``read_all``, the
    whole file is read as the worker reads it, and the data rows and the reading problems
    (by type, with the first rows that have each) are counted."""
    source = await open_source(stream, options, batch_rows=5000 if read_all else max(1, rows))
    report = source.detection.summary()
    first: list[dict[str, Any]] = []
    data_rows = 0
    problems: dict[str, dict[str, Any]] = {}
    try:
        async for batch in source.batches():
            data_rows += len(batch)
            for number, found in batch.problems.items():
                for problem in found:
                    seen = problems.setdefault(problem.type, {"count": 0, "first_rows": []})
                    seen["count"] += 1
                    if len(seen["first_rows"]) < 5:
                        seen["first_rows"].append(number)
            for number, cells in zip(batch.numbers, batch.rows, strict=True):
                if len(first) >= rows:
                    break
                first.append(
                    {
                        "row": number,
                        "cells": cells,
                        "problems": [
                            f"{p.type}: {p.message}" for p in batch.problems.get(number, [])
                        ],
                    }
                )
            if not read_all:
                break
    finally:
        source.close()
    report["rows"] = first
    if read_all:
        # Decided where the file stops being ASCII, when its first chunk is.
        report["encoding"] = source.detection.summary()["encoding"]
        report["data_rows"] = data_rows
        report["headers_skipped"] = source.headers_skipped
        report["footer_rows"] = source.footer_rows
        report["problems"] = problems
        report["file_problem"] = _file_problem(source, options, data_rows)
    return report


def _file_problem(source: RowSource, options: dict[str, Any], data_rows: int) -> str | None:
    """What would fail the job as a whole (the reason the worker would record), or None."""
    # Imported here: the flows pull in the database layer, which inspect does not need.
    from worker.flows.initial import no_rows_reason, unmappable_fields  # noqa: PLC0415

    required = tuple(options.get("required_fields") or REQUIRED_DEFAULT)
    try:
        unmappable_fields(required, source.detection)
    except JobInvalid as error:
        return error.message
    return None if data_rows else no_rows_reason(source.detection)


async def inspect_local(
    path: Path, options: dict[str, Any], rows: int, read_all: bool = False
) -> dict[str, Any]:
    """Inspect a file on disk."""
    return await inspect_stream(LocalFileStream(path), options, rows, read_all)


def render(report: dict[str, Any], out: TextIO) -> None:
    """The report for a person."""
    encoding = report["encoding"]
    dialect = report["dialect"]
    out.write(f"format      {report['format']}\n")
    if encoding:
        out.write(
            f"encoding    {encoding['name']} (by {encoding['method']}, confidence "
            f"{encoding['confidence']}{', BOM' if encoding['bom'] else ''})\n"
        )
    if dialect:
        out.write(
            f"dialect     delimiter={dialect['delimiter']!r} quote={dialect['quotechar']!r}"
            f" escape={dialect['escapechar']!r} (by {dialect['method']}, confidence "
            f"{dialect['confidence']})\n"
        )
        if dialect["skip_rows"]:
            out.write(f"preamble    {dialect['skip_rows']} row(s) above the header skipped\n")
        if dialect["comment"]:
            out.write(f"comments    lines starting with {dialect['comment']!r} skipped\n")
        if dialect.get("skipinitialspace"):
            out.write("spacing     the space after each delimiter skipped\n")
        if dialect.get("drawn"):
            borders = " and borders" if dialect.get("bordered") else ""
            out.write(f"drawn       a table drawn as text: its rule lines{borders} skipped\n")
    if report["sheet"]:
        others = [name for name in report["sheets"] if name != report["sheet"]]
        also = f" (also in the workbook: {', '.join(others)})" if others else ""
        out.write(f"sheet       {report['sheet']}{also}\n")
    header = report["header_row"]
    where = "the cards' fields" if report["format"] == "vcard" else "none"
    out.write(
        f"header      {'row ' + str(header) if header else where}: {', '.join(report['headers'])}\n"
    )
    if report.get("units_row"):
        out.write(f"units       row {report['units_row']} under the header skipped with it\n")
    out.write(f"mapping     (overall confidence {report['mapping_confidence']})\n")
    for name, field in report["mapping"]["fields"].items():
        split = ", split into first_name and last_name" if name == FULL_NAME else ""
        out.write(
            f"  {name:<11} <- {field['header']!r} (column {field['column'] + 1}, "
            f"{field['method']}, confidence {field['confidence']}{split})\n"
        )
    if report["mapping"]["extra"]:
        out.write(f"  extra       {', '.join(report['mapping']['extra'])}\n")
    if "data_rows" in report:
        out.write(f"data rows   {report['data_rows']}\n")
        skipped = skipped_line(
            {
                "headers_again": report.get("headers_skipped"),
                "footer_rows": report.get("footer_rows"),
            }
        )
        if skipped:
            out.write(f"skipped     {skipped}\n")
        if report["file_problem"]:
            out.write(f"the job would fail: {report['file_problem']}\n")
        for kind, seen in report["problems"].items():
            rows_list = ", ".join(map(str, seen["first_rows"]))
            more = ", ..." if seen["count"] > len(seen["first_rows"]) else ""
            out.write(f"  {kind:<15} {seen['count']} row(s): {rows_list}{more}\n")
    out.write("rows\n")
    for row in report["rows"]:
        out.write(f"  {row['row']:>6}  {json.dumps(row['cells'], ensure_ascii=False)}\n")
        for problem in row["problems"]:
            out.write(f"          ! {problem}\n")
