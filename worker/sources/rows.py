"""The row source: any supported file in S3 -> detection -> batches of clean rows.

:meth:`RowSource.open` reads the object's first chunk, decides the format (magic bytes),
the encoding and dialect (CSV) or the sheet (Excel), the header and the column mapping.
:meth:`RowSource.batches` then streams the rows: each batch holds the rows' numbers (the
row a spreadsheet would show, header included), their cells at the header's width, and
the problems found while reading them (ENCODING, RAGGED_ROW, FIELD_TOO_LARGE,
UNCLOSED_QUOTE), which are
data for the flow to file as issues, never exceptions.
"""

from __future__ import annotations

import asyncio
import itertools
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace
from itertools import compress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from worker.errors import UnreadableFile
from worker.model import IssueType
from worker.options import check_job_options
from worker.sources.csv_rows import CsvRecordReader, RecordBatch
from worker.sources.dialect import (
    DialectGuess,
    detect_dialect,
    detect_header,
    parse_sample,
    sample_lines,
)
from worker.sources.encoding import (
    ENCODING_SAMPLE_BYTES,
    EncodingGuess,
    IncrementalTextDecoder,
    detect_encoding,
    has_undecodable,
    repair,
)
from worker.sources.formats import sniff_format
from worker.sources.mapping import ColumnMapping, map_columns
from worker.sources.s3 import ByteStream

if TYPE_CHECKING:
    from worker.sources.excel import WorkbookRows

# Rows of the sample that the mapping and ``inspect`` look at.
SAMPLE_ROWS = 200
# Bytes decoded and parsed at a time (the S3 stream hands out larger chunks).
FEED_BYTES = 1 << 16


@dataclass(frozen=True)
class RowProblem:
    """Something wrong with a row as read (not as validated)."""

    type: IssueType  # ENCODING, RAGGED_ROW, FIELD_TOO_LARGE, UNCLOSED_QUOTE
    message: str
    field: str | None = None


@dataclass
class RowBatch:
    """Consecutive data rows: ``rows[i]`` is row ``numbers[i]``."""

    numbers: list[int]
    rows: list[list[str]]
    problems: dict[int, list[RowProblem]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.rows)


@dataclass
class Detection:
    """What the source found out about the file."""

    format: str  # "csv" or "xlsx"
    headers: list[str]
    header_number: int | None  # the header's row number; None when the file has none
    mapping: ColumnMapping
    sample_rows: list[list[str]]
    leading_records: int = 0  # non-blank records before the data (preamble + header)
    encoding: EncodingGuess | None = None
    dialect: DialectGuess | None = None
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)  # every sheet of a workbook

    def summary(self) -> dict[str, Any]:
        """What is recorded on the job and printed by ``inspect``."""
        return {
            "format": self.format,
            "encoding": None
            if self.encoding is None
            else {
                "name": self.encoding.encoding,
                "method": self.encoding.method,
                "confidence": round(self.encoding.confidence, 3),
                "bom": self.encoding.bom_bytes > 0,
            },
            "dialect": None
            if self.dialect is None
            else {
                **self.dialect.dialect.as_dict(),
                "method": self.dialect.method,
                "confidence": self.dialect.confidence,
            },
            "sheet": self.sheet,
            "sheets": self.sheets,
            "header_row": self.header_number,
            "headers": self.headers,
            "mapping": self.mapping.as_dict(self.headers),
            "mapping_confidence": round(self.mapping.overall_confidence, 3),
        }


def clean_headers(cells: list[str]) -> list[str]:
    """Header names: trimmed, trailing empties dropped, blanks named, duplicates numbered."""
    names = [cell.strip() for cell in cells]
    while names and not names[-1]:
        names.pop()
    seen: dict[str, int] = {}
    result = []
    for index, name in enumerate(names):
        name = name or f"column_{index + 1}"  # noqa: PLW2901 - the cleaned name
        count = seen.get(name, 0) + 1
        seen[name] = count
        result.append(name if count == 1 else f"{name}_{count}")
    return result


class _Shaper:
    """Brings raw records to the header's width and notes what is wrong with them."""

    def __init__(
        self,
        headers: list[str],
        leading_records: int,
        comment: str | None = None,
        *,
        pad_short_rows: bool = False,
    ) -> None:
        self.headers = headers
        self.width = len(headers)
        # A sheet's row ends at its last filled cell: shorter rows are not ragged.
        self.pad_short_rows = pad_short_rows
        # Non-blank records before the data: preamble rows and the header.
        self.to_skip = leading_records
        self.comment = comment

    def _is_data(self, cells: list[str]) -> bool:
        # Not blank (a blank line, or delimiters only), not a comment line.
        return any(cells) and not (self.comment is not None and cells[0].startswith(self.comment))

    def shape(
        self, records: RecordBatch, decoder: IncrementalTextDecoder | None, pending_bad: int
    ) -> tuple[RowBatch, int]:
        """The data rows of ``records``; returns the batch and the undecodable bytes still
        to be found in later rows."""
        width = self.width
        if (
            not self.to_skip
            and not records.too_large
            and not records.unclosed_quote
            and not pending_bad
            and records.rows
        ):
            # The usual case, in C-level passes: drop blank records; if every row left has
            # the header's width there is nothing else to look at.
            first = records.first_number
            nonblank = list(map(self._is_data if self.comment else any, records.rows))
            if all(nonblank):
                kept, numbers = records.rows, list(range(first, first + len(records.rows)))
            else:
                kept = list(compress(records.rows, nonblank))
                numbers = list(compress(range(first, first + len(records.rows)), nonblank))
            if not kept or min(map(len, kept)) == max(map(len, kept)) == width:
                return RowBatch(numbers, kept, {}), 0
        numbers = []
        rows: list[list[str]] = []
        problems: dict[int, list[RowProblem]] = {}
        for number, cells in records.numbered():
            if not self._is_data(cells):
                continue
            if self.to_skip:
                self.to_skip -= 1  # preamble or header
                continue
            if number in records.unclosed_quote:
                problems[number] = [
                    RowProblem(
                        IssueType.UNCLOSED_QUOTE,
                        "a quote opens in this row and is never closed: the row was read "
                        "without quoting (the rows after it are read as rows); please check it",
                    )
                ]
            if number in records.too_large:
                problems[number] = [
                    RowProblem(
                        IssueType.FIELD_TOO_LARGE,
                        "the row is larger than the limit and was cut; check the file's quoting "
                        "around this row",
                    )
                ]
            if len(cells) != width:
                while len(cells) > width and not cells[-1]:
                    cells.pop()
                if len(cells) < width and self.pad_short_rows:
                    cells.extend([""] * (width - len(cells)))
                if len(cells) != width:
                    problems.setdefault(number, []).append(
                        RowProblem(
                            IssueType.RAGGED_ROW,
                            f"the row has {len(cells)} fields where the header has {width}",
                        )
                    )
                    if len(cells) < width:
                        cells.extend([""] * (width - len(cells)))
            if pending_bad:
                bad_fields = [index for index, cell in enumerate(cells) if has_undecodable(cell)]
                for index in bad_fields:
                    pending_bad -= sum(1 for char in cells[index] if "\udc80" <= char <= "\udcff")
                    cells[index] = repair(cells[index])
                if bad_fields:
                    names = [self._name(index) for index in bad_fields]
                    problems.setdefault(number, []).append(
                        RowProblem(
                            IssueType.ENCODING,
                            f"bytes that are not valid {decoder_name(decoder)} in "
                            f"{', '.join(names)}; shown as their cp1252 reading, please check",
                            names[0],
                        )
                    )
            numbers.append(number)
            rows.append(cells)
        return RowBatch(numbers, rows, problems), max(0, pending_bad)

    def _name(self, index: int) -> str:
        return self.headers[index] if index < self.width else f"column_{index + 1}"


def decoder_name(decoder: IncrementalTextDecoder | None) -> str:
    """The encoding's name, for messages."""
    return decoder.guess.encoding if decoder is not None else "text"


class RowSource:
    """Rows of one uploaded file; open with :meth:`open`, then iterate :meth:`batches`."""

    def __init__(
        self, stream: ByteStream, detection: Detection, batch_rows: int, max_row_chars: int
    ) -> None:
        self.stream = stream
        self.detection = detection
        self.batch_rows = batch_rows
        self.max_row_chars = max_row_chars
        self._head: list[bytes] = []
        self._chunks: AsyncIterator[bytes] | None = None
        self._head_complete = False
        self._workbook: WorkbookRows | None = None
        self._temp_dir: tempfile.TemporaryDirectory[str] | None = None
        self._decoder: IncrementalTextDecoder | None = None
        self._rows_iter: Iterator[list[str]] = iter(())

    @classmethod
    async def open(
        cls,
        stream: ByteStream,
        options: dict[str, Any] | None = None,
        *,
        batch_rows: int = 5000,
        max_row_chars: int = 1 << 20,
    ) -> RowSource:
        """Read the head of the object and detect everything; errors are permanent ones
        with the reason (empty, binary, unsupported, unreadable)."""
        options = check_job_options(options)
        chunks = stream.chunks()
        head: list[bytes] = []
        size = 0
        complete = False
        while size < ENCODING_SAMPLE_BYTES:
            try:
                chunk = await anext(chunks)
            except StopAsyncIteration:
                complete = True
                break
            head.append(chunk)
            size += len(chunk)
        head_bytes = b"".join(head)
        if not head_bytes:
            raise UnreadableFile("the file is empty (0 bytes)")
        file_format = sniff_format(head_bytes)
        if file_format == "xlsx":
            source = cls(stream, _placeholder(), batch_rows, max_row_chars)
            try:
                await source._open_workbook(head_bytes, chunks, options)
            except BaseException:
                source.close()  # the temporary file goes at once, not at finalisation
                raise
            return source
        encoding = detect_encoding(head_bytes, complete, _str(options.get("encoding")))
        decoder = IncrementalTextDecoder(encoding)
        text = decoder.decode(head_bytes, final=complete)
        if not complete and "\n" not in text and "\r" not in text:
            raise UnreadableFile(
                f"no line break in the first {len(head_bytes) >> 10} KiB: this is not a CSV "
                "file, or its rows are far too long"
            )
        dialect = detect_dialect(
            text,
            complete,
            {
                key: options[key]
                for key in ("delimiter", "quotechar", "escapechar", "has_header", "skip_rows")
                if key in options
            },
        )
        if "header_row" in options:
            forced = replace(dialect.dialect, skip_rows=max(0, int(options["header_row"]) - 1))
            dialect = replace(dialect, dialect=forced)
        skip = dialect.dialect.skip_rows
        rows = [
            [repair(cell) for cell in row]
            for row in parse_sample(sample_lines(text, complete), dialect.dialect)
        ]
        detection = _detect_layout("csv", rows, skip, dialect.dialect.has_header, options)
        detection.encoding, detection.dialect = encoding, dialect
        source = cls(stream, detection, batch_rows, max_row_chars)
        source._head, source._chunks, source._head_complete = head, chunks, complete
        source._decoder = decoder
        return source

    async def _open_workbook(
        self, head: bytes, chunks: AsyncIterator[bytes], options: dict[str, Any]
    ) -> None:
        self._temp_dir = tempfile.TemporaryDirectory(prefix="ingest-")
        path = Path(self._temp_dir.name) / "upload.xlsx"
        with path.open("wb") as out:
            out.write(head)
            async for chunk in chunks:
                out.write(chunk)
        # Imported here: openpyxl is 5 MB of a worker's memory that CSV files never need.
        from worker.sources.excel import WorkbookRows  # noqa: PLC0415

        workbook = await asyncio.to_thread(WorkbookRows, path, _str(options.get("sheet")))
        self._workbook = workbook
        rows_iter = workbook.rows()
        sample = await asyncio.to_thread(
            lambda: list(itertools.islice(rows_iter, SAMPLE_ROWS + 10))
        )
        self._rows_iter = itertools.chain(sample, rows_iter)
        nonblank = [row for row in sample if row]
        has_header = options.get("has_header")
        if has_header is None:
            has_header = detect_header(nonblank[:SAMPLE_ROWS])
        skip = max(0, int(options.get("header_row", 1)) - 1) if has_header else 0
        detection = _detect_layout("xlsx", nonblank, skip, bool(has_header), options)
        detection.sheet = workbook.sheet_name
        detection.sheets = workbook.sheet_names
        self.detection = detection

    async def batches(self) -> AsyncIterator[RowBatch]:
        """The data rows, ``batch_rows`` at a time (fewer in the last batch)."""
        dialect = self.detection.dialect
        shaper = _Shaper(
            self.detection.headers,
            self.detection.leading_records,
            dialect.dialect.comment if dialect is not None else None,
            pad_short_rows=self._workbook is not None,
        )
        if self._workbook is not None:
            async for batch in self._workbook_batches(shaper):
                yield batch
            return
        async for batch in self._csv_batches(shaper):
            yield batch

    async def _csv_batches(self, shaper: _Shaper) -> AsyncIterator[RowBatch]:
        if self.detection.dialect is None or self._decoder is None:
            raise RuntimeError("a CSV source without a dialect")  # open() sets both
        reader = CsvRecordReader(
            self.detection.dialect.dialect, self.max_row_chars, len(self.detection.headers)
        )
        decoder = self._decoder
        pending = _Pending(self.batch_rows)
        bad_seen = 0
        # A fresh decoder: the one used for detection has already consumed the head.
        decoder = IncrementalTextDecoder(decoder.guess)

        def take(records: RecordBatch) -> Iterator[RowBatch]:
            nonlocal bad_seen
            batch, still_bad = shaper.shape(records, decoder, decoder.bad_bytes - bad_seen)
            bad_seen = decoder.bad_bytes - still_bad
            yield from pending.add(batch)

        def fed(data: bytes, final: bool) -> Iterator[RowBatch]:
            # A slice at a time: the text and records of a whole S3 chunk (1 MiB of bytes,
            # up to 4 MiB of text, ~15,000 records) are never alive at once.
            for start in range(0, len(data), FEED_BYTES):
                last = final and start + FEED_BYTES >= len(data)
                yield from take(reader.feed(decoder.decode(data[start : start + FEED_BYTES], last)))

        head, self._head = self._head, []
        while head:
            chunk = head.pop(0)
            for batch in fed(chunk, final=self._head_complete and not head):
                yield batch
        if not self._head_complete and self._chunks is not None:
            async for chunk in self._chunks:
                for batch in fed(chunk, final=False):
                    yield batch
            tail = decoder.decode(b"", final=True)
            if tail:
                for batch in take(reader.feed(tail)):
                    yield batch
        for batch in take(reader.finish()):
            yield batch
        for batch in pending.flush():
            yield batch

    async def _workbook_batches(self, shaper: _Shaper) -> AsyncIterator[RowBatch]:
        if self._workbook is None:
            raise RuntimeError("a workbook source without a workbook")  # open() sets it
        numbered = enumerate(self._rows_iter, 1)
        try:
            while True:
                chunk = await asyncio.to_thread(
                    lambda: list(itertools.islice(numbered, self.batch_rows))
                )
                if not chunk:
                    break
                records = RecordBatch(chunk[0][0], [cells for _, cells in chunk], set())
                batch, _ = shaper.shape(records, None, 0)
                if batch.rows:
                    yield batch
        finally:
            self.close()

    def close(self) -> None:
        """Release the workbook and its temporary file."""
        if self._workbook is not None:
            self._workbook.close()
            self._workbook = None
        if self._temp_dir is not None:
            self._temp_dir.cleanup()
            self._temp_dir = None


class _Pending:
    """Re-cuts shaped rows into batches of exactly ``size`` rows."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.numbers: list[int] = []
        self.rows: list[list[str]] = []
        self.problems: dict[int, list[RowProblem]] = {}

    def add(self, batch: RowBatch) -> Iterator[RowBatch]:
        self.numbers.extend(batch.numbers)
        self.rows.extend(batch.rows)
        self.problems.update(batch.problems)
        while len(self.rows) >= self.size:
            yield self._cut(self.size)

    def flush(self) -> Iterator[RowBatch]:
        if self.rows:
            yield self._cut(len(self.rows))

    def _cut(self, count: int) -> RowBatch:
        numbers, self.numbers = self.numbers[:count], self.numbers[count:]
        rows, self.rows = self.rows[:count], self.rows[count:]
        problems = {
            number: self.problems.pop(number) for number in numbers if number in self.problems
        }
        return RowBatch(numbers, rows, problems)


def _detect_layout(
    file_format: str, rows: list[list[str]], skip: int, has_header: bool, options: dict[str, Any]
) -> Detection:
    """Header, width and mapping from the sample's non-blank rows."""
    body = rows[skip:]
    if has_header and body:
        headers = clean_headers(body[0])
        data = body[1 : SAMPLE_ROWS + 1]
        header_number: int | None = skip + 1
    else:
        width = max((len(row) for row in body), default=0)
        headers = [f"column_{index + 1}" for index in range(width)]
        data = body[:SAMPLE_ROWS]
        header_number = skip or None
    widest = max((len(row) for row in data), default=0)
    if not has_header and widest > len(headers):
        headers += [f"column_{index + 1}" for index in range(len(headers), widest)]
    mapping_overrides = options.get("mapping")
    mapping = map_columns(
        headers if has_header else [],
        data,
        mapping_overrides if isinstance(mapping_overrides, dict) else None,
    )
    return Detection(
        file_format,
        headers,
        header_number,
        mapping,
        data[:20],
        leading_records=skip + (1 if has_header and body else 0),
    )


def _placeholder() -> Detection:
    return Detection("xlsx", [], None, map_columns([], []), [])


def _str(value: object) -> str | None:
    return None if value is None else str(value)
