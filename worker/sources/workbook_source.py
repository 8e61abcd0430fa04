"""The Excel row source: the workbook is spooled to a temporary file (openpyxl reads a zip
by seeking), the sheet that holds the contacts is chosen, and its rows are read in a
thread, a batch at a time. A sheet's row ends at its last filled cell, so shorter rows are
padded, never ragged."""

from __future__ import annotations

import asyncio
import itertools
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from worker.sources.csv_rows import RecordBatch
from worker.sources.dialect import detect_header, grouped_above, preamble_rows
from worker.sources.rows import (
    SAMPLE_ROWS,
    Detection,
    RowBatch,
    RowSource,
    Shaper,
    detect_layout,
    skip_to,
    str_option,
)
from worker.sources.s3 import ByteStream

if TYPE_CHECKING:
    from worker.sources.excel import WorkbookRows


class WorkbookSource(RowSource):
    """Rows of one sheet of an Excel workbook; open with :meth:`open`."""

    def __init__(
        self,
        stream: ByteStream,
        detection: Detection,
        batch_rows: int,
        max_row_chars: int,
        *,
        workbook: WorkbookRows,
        temp_dir: tempfile.TemporaryDirectory[str],
        rows: Iterator[list[str]],
    ) -> None:
        super().__init__(stream, detection, batch_rows, max_row_chars)
        self._workbook: WorkbookRows | None = workbook
        self._temp_dir: tempfile.TemporaryDirectory[str] | None = temp_dir
        self._rows_iter = rows

    @classmethod
    async def open(
        cls,
        stream: ByteStream,
        head: bytes,
        chunks: AsyncIterator[bytes],
        options: dict[str, Any],
        *,
        batch_rows: int,
        max_row_chars: int,
    ) -> WorkbookSource:
        """Spool the workbook, choose the sheet, detect the header and mapping."""
        temp_dir = tempfile.TemporaryDirectory(prefix="ingest-")
        workbook: WorkbookRows | None = None
        try:
            path = Path(temp_dir.name) / "upload.xlsx"
            with path.open("wb") as out:
                out.write(head)
                async for chunk in chunks:
                    out.write(chunk)
            # Imported here: openpyxl is 5 MB of a worker's memory that CSV files never need.
            from worker.sources.excel import WorkbookRows  # noqa: PLC0415

            workbook = await asyncio.to_thread(WorkbookRows, path, str_option(options.get("sheet")))
            rows_iter = workbook.rows()
            sample = await asyncio.to_thread(
                lambda: list(itertools.islice(rows_iter, SAMPLE_ROWS + 10))
            )
            nonblank = [row for row in sample if row]
            numbers = [number for number, row in enumerate(sample, 1) if row]
            seen = [_as_seen(row) for row in nonblank[:SAMPLE_ROWS]]
            if "header_row" in options:
                skip = skip_to(numbers, int(options["header_row"]))  # the sheet's row number
            else:
                # A title, a date or a note above the header (a merged title reads as one).
                skip = preamble_rows(seen)
            has_header = options.get("has_header")
            if has_header is None:
                has_header = grouped_above(seen, skip) or detect_header(nonblank[skip:SAMPLE_ROWS])
            detection = detect_layout(
                "xlsx", nonblank, numbers, skip, bool(has_header), options=options
            )
            detection.sheet = workbook.sheet_name
            detection.sheets = workbook.sheet_names
        except BaseException:
            # The workbook and its temporary file go at once, not at finalisation.
            if workbook is not None:
                workbook.close()
            temp_dir.cleanup()
            raise
        return cls(
            stream,
            detection,
            batch_rows,
            max_row_chars,
            workbook=workbook,
            temp_dir=temp_dir,
            rows=itertools.chain(sample, rows_iter),
        )

    async def batches(self) -> AsyncIterator[RowBatch]:
        """The data rows, ``batch_rows`` at a time (fewer in the last batch)."""
        if self._workbook is None:
            raise RuntimeError("a workbook source without a workbook")  # open() sets it
        shaper = Shaper(
            self.detection.headers,
            self.detection.leading_records,
            pad_short_rows=True,
            has_header=self.detection.has_header,
        )
        self.shaper = shaper
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
                for rows in self.footer.add(batch):
                    yield rows
            self.footer.finish()
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


def _as_seen(row: list[str]) -> list[str]:
    """A row as wide as a person sees it: a title merged across cells (each read as its
    value) is one cell."""
    filled = [cell for cell in row if cell]
    return filled[:1] if len(filled) > 1 and len(set(filled)) == 1 else row
