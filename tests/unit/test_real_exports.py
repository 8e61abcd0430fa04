"""Reading the files real tools write, through the worker's own row source.

The files come from ``tests/exports.py``: generators of Outlook, Google Contacts, HubSpot,
Salesforce, Mailchimp and locale Excel exports, and of what people do to them (title lines,
comments, late quotes, other delimiters). Each must be read exactly: encoding, delimiter,
quote, header, and every data row as the tool wrote it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.exports import ExportFile, corpus
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


def test_the_header_met_again_is_skipped_whatever_the_batches(tmp_path: Path) -> None:
    # Files appended to one another: each copy of the header is skipped, in the reading's
    # fast path or its slow one alike, so a resumed read (other batch edges) reads the same.
    header = "email,first_name,last_name,company\r\n"
    body = [f"p{i}@example.com,Ana,Silva,Acme\r\n" for i in range(30)]
    text = header + "".join(body[:10]) + header + "".join(body[10:20])
    text += " email , first_name,last_name,company\r\n" + "".join(body[20:]) + "e@x.io,,,\r\n"
    path = tmp_path / "appended.csv"
    path.write_text(text)

    async def read(batch_rows: int) -> tuple[list[int], int]:
        source = await open_source(LocalFileStream(path), {}, batch_rows=batch_rows)
        numbers: list[int] = []
        async for batch in source.batches():
            numbers += batch.numbers
        source.close()
        return numbers, source.headers_skipped

    expected = [n for n in range(2, 35) if n not in (12, 23)]
    for batch_rows in (1, 3, 7, 5000):
        assert asyncio.run(read(batch_rows)) == (expected, 2), batch_rows
