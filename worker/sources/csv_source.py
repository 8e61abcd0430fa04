"""The CSV row source: text decoded as detected (:mod:`.encoding`), records parsed by the
detected dialect (:mod:`.dialect`, :mod:`.csv_rows`), fed a slice at a time so that memory
stays flat whatever the file's size."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from typing import Any

from worker.errors import UnreadableFile
from worker.sources.csv_rows import CsvRecordReader, RecordBatch
from worker.sources.dialect import (
    detect_dialect,
    numbered_sample,
    sample_lines,
    unmarked_header,
)
from worker.sources.encoding import IncrementalTextDecoder, repair
from worker.sources.rows import (
    Detection,
    Pending,
    RowBatch,
    Shaper,
    detect_layout,
    skip_to,
)
from worker.sources.text_source import Head, TextSource


class CsvSource(TextSource):
    """Rows of a CSV (or other delimited text) file; open with :meth:`open`."""

    @classmethod
    def _detect(cls, head: Head, options: dict[str, Any]) -> Detection:
        """The dialect, header and mapping from the head's text."""
        text, complete = head.text, head.complete
        if not complete and "\n" not in text and "\r" not in text:
            raise UnreadableFile(
                f"no line break in the first {head.size >> 10} KiB: this is not a CSV "
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
        numbers, parsed = numbered_sample(sample_lines(text, complete), dialect.dialect)
        if "header_row" in options:
            # The row number a person reads beside the rows (blank lines counted).
            forced = replace(
                dialect.dialect, skip_rows=skip_to(numbers, int(options["header_row"]))
            )
            dialect = replace(dialect, dialect=forced)
        skip = dialect.dialect.skip_rows
        rows = unmarked_header([[repair(cell) for cell in row] for row in parsed], dialect.dialect)
        detection = detect_layout(
            "csv", rows, numbers, skip, dialect.dialect.has_header, options=options
        )
        detection.dialect = dialect
        return detection

    async def batches(self) -> AsyncIterator[RowBatch]:
        """The data rows, ``batch_rows`` at a time (fewer in the last batch)."""
        dialect = self.detection.dialect
        if dialect is None:
            raise RuntimeError("a CSV source without a dialect")  # open() sets it
        shaper = Shaper(
            self.detection.headers,
            self.detection.leading_records,
            dialect.dialect.comment,
            has_header=self.detection.has_header,
            drawn=dialect.dialect,
        )
        self.shaper = shaper
        reader = CsvRecordReader(dialect.dialect, self.max_row_chars, len(self.detection.headers))
        pending = Pending(self.batch_rows)
        bad_seen = 0
        # A fresh decoder: the one used for detection has already consumed the head.
        decoder = IncrementalTextDecoder(self._encoding)

        def take(records: RecordBatch) -> Iterator[RowBatch]:
            nonlocal bad_seen
            # A file ASCII in its first chunk has its encoding decided where it stops being.
            self.detection.encoding = decoder.guess
            batch, still_bad = shaper.shape(records, decoder, decoder.bad_bytes - bad_seen)
            bad_seen = decoder.bad_bytes - still_bad
            for rows in self.footer.add(batch):
                yield from pending.add(rows)

        async for text in self._texts(decoder):
            for batch in take(reader.feed(text)):
                yield batch
        for batch in take(reader.finish()):
            yield batch
        self.footer.finish()
        for batch in pending.flush():
            yield batch
