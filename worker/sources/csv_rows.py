"""CSV records from a stream of text, with the memory bounded whatever the file.

``csv.reader`` does the parsing (C speed); it pulls lines from a deque through a C-level
iterator (``iter(deque.popleft, END)``), so no Python code runs per line. Text is pushed in
small blocks; the queued blocks form a window of at least ``max_record_chars``, and only
records that start before the window are parsed, so a record up to that size always finds
its remaining lines queued. Memory stays near the window whatever the file's size.

Two things are reported rather than crashing or growing memory:

- a record longer than ``max_record_chars`` (the reader runs out of queued lines mid
  record): it is returned with no cells and ``too_large`` set;
- a line longer than ``max_record_chars`` (no line break for megabytes): it is cut at the
  limit and the rest dropped up to the next line break; its record is marked ``too_large``.

Record numbers count every record, blank ones included, from 1: the row a spreadsheet would
show.
"""

from __future__ import annotations

import csv
import io
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

from worker.sources.dialect import Dialect

_END = object()  # pushed once at the end of the text: the reader's iterator stops there
# Text is split into lines and parsed this many characters at a time.
BLOCK_CHARS = 1 << 16

# csv.reader's own limit on one field; ours (max_record_chars) is enforced before it.
csv.field_size_limit(2**31 - 1)


@dataclass
class RecordBatch:
    """Consecutive records: ``rows[i]`` is record number ``first_number + i`` (a blank
    record is an empty list); ``too_large`` holds the numbers of records over the limit
    (their cells are cut or empty); ``unclosed_quote`` those where a quote opened and
    never closed (read without quoting; the lines it would have swallowed are records)."""

    first_number: int
    rows: list[list[str]]
    too_large: set[int]
    unclosed_quote: set[int] = field(default_factory=set)

    def numbered(self) -> Iterator[tuple[int, list[str]]]:
        """(record number, cells) pairs."""
        return enumerate(self.rows, self.first_number)


class CsvRecordReader:
    """Feed text in, get records out; call :meth:`finish` after the last text."""

    def __init__(
        self, dialect: Dialect, max_record_chars: int = 1 << 20, width: int | None = None
    ) -> None:
        self.max_record_chars = max_record_chars
        # The header's width: a record spanning lines that each read as a whole row of it
        # is a stray quote's doing, not a field with line breaks.
        self.width = width
        self._line_kwargs = dialect.reader_kwargs()
        self._unquoted_kwargs = {**self._line_kwargs, "quoting": csv.QUOTE_NONE}
        self._unquoted_kwargs.pop("quotechar", None)
        self._unquoted_kwargs.pop("doublequote", None)
        # The lines queued and not yet parsed past, from global line index _log_first.
        self._log: list[str] = []
        self._log_first = 0
        self._queue: deque[object] = deque()
        self._reader = csv.reader(
            iter(self._queue.popleft, _END),  # type: ignore[arg-type]
            **dialect.reader_kwargs(),
        )
        self._pending: list[str] = []  # text not yet split into lines
        self._pending_chars = 0
        self._carry = ""  # a line begun in the last block, not ended yet
        self._dropping = False  # inside an over-long line, skipping to its end
        self._lines_pushed = 0
        self._truncated_lines: deque[int] = deque()  # line indexes cut at the limit
        self._number = 0
        # The queued blocks not yet safe to parse from: (first line, characters).
        self._window: deque[tuple[int, int]] = deque()
        self._window_chars = 0

    def feed(self, text: str) -> RecordBatch:
        """Add text; return the records that are now safe to parse."""
        batch = RecordBatch(self._number + 1, [], set())
        for start in range(0, len(text), BLOCK_CHARS):
            piece = text[start : start + BLOCK_CHARS]
            self._pending.append(piece)
            self._pending_chars += len(piece)
            if self._pending_chars < BLOCK_CHARS:
                continue
            block = "".join(self._pending)
            self._pending, self._pending_chars = [], 0
            self._window.append((self._lines_pushed, len(block)))
            self._window_chars += len(block)
            self._push(block)
            # Slide the window: a block may leave it while the rest still covers the limit.
            while len(self._window) > 1 and (
                self._window_chars - self._window[0][1] >= self.max_record_chars
            ):
                self._window_chars -= self._window.popleft()[1]
            if self._window_chars >= self.max_record_chars:
                parsed = self._parse(until_line=self._window[0][0])
                batch.rows.extend(parsed.rows)
                batch.too_large.update(parsed.too_large)
        return batch

    def finish(self) -> RecordBatch:
        """The records left once all the text has been fed."""
        self._push("".join(self._pending))
        self._pending, self._pending_chars = [], 0
        if self._carry:
            self._queue.append(self._carry)
            if self.width is not None:
                self._log.append(self._carry)
            self._lines_pushed += 1
            self._carry = ""
        self._queue.append(_END)
        return self._parse(until_line=None)

    def _push(self, text: str) -> None:
        lines = io.StringIO(self._carry + text, newline="").readlines()
        self._carry = ""
        if lines and not lines[-1].endswith(("\n", "\r")):
            self._carry = lines.pop()
        elif lines and lines[-1].endswith("\r"):
            # A CR at the block's end may be the first half of a CRLF.
            self._carry = lines.pop()
        if self._dropping and lines:
            # The rest of an over-long line: drop it up to its line break.
            lines.pop(0)
            self._dropping = False
        if self._dropping:
            self._carry = ""
        elif len(self._carry) > self.max_record_chars:
            self._truncated_lines.append(self._lines_pushed + len(lines))
            lines.append(self._carry[: self.max_record_chars] + "\n")
            self._carry, self._dropping = "", True
        if max(map(len, lines), default=0) > self.max_record_chars:  # rare: look line by line
            for index, line in enumerate(lines):
                if len(line) > self.max_record_chars:
                    self._truncated_lines.append(self._lines_pushed + index)
                    lines[index] = line[: self.max_record_chars] + "\n"
        self._queue.extend(lines)
        if self.width is not None:
            self._log.extend(lines)
        self._lines_pushed += len(lines)

    def _parse(self, until_line: int | None) -> RecordBatch:
        # The hot loop: one C call per record, and checks that cost nothing unless a
        # record spans several lines or a line was cut.
        rows: list[list[str]] = []
        too_large: set[int] = set()
        unclosed: set[int] = set()
        append = rows.append
        reader = self._reader
        next_row = reader.__next__
        truncated = self._truncated_lines
        first = self._number + 1
        limit = self.max_record_chars
        last_line = reader.line_num
        while until_line is None or last_line < until_line:
            try:
                cells = next_row()
            except StopIteration:
                break
            except IndexError:
                # Ran out of queued lines inside one record: it is larger than the limit.
                too_large.add(first + len(rows))
                append([])
                break
            line = reader.line_num
            if line - last_line > 1 or (truncated and truncated[0] < line):
                number = first + len(rows)
                if truncated and truncated[0] < line:
                    while truncated and truncated[0] < line:
                        truncated.popleft()
                    too_large.add(number)
                elif sum(map(len, cells)) > limit:
                    too_large.add(number)
                elif self.width is not None:
                    split = self._stray_quote(last_line, line, cells)
                    if split is not None:
                        unclosed.add(number)
                        rows.extend(split)
                        last_line = line
                        continue
            last_line = line
            append(cells)
        if self.width is not None:
            del self._log[: last_line - self._log_first]
            self._log_first = last_line
        self._number = first + len(rows) - 1
        return RecordBatch(first, rows, too_large, unclosed)

    def _stray_quote(self, start: int, end: int, cells: list[str]) -> list[list[str]] | None:
        """The records of lines ``start``..``end`` (global indexes) when the one record
        they made is a quote's doing: every line after the first reads, alone, as a whole
        row of the header's width. The first line is then read without quoting."""
        lines = self._log[start - self._log_first : end - self._log_first]
        if len(lines) < 2 or (len(cells) == self.width and len(lines) < 3):
            return None
        try:
            rest = [next(csv.reader([line], **self._line_kwargs), []) for line in lines[1:]]
        except csv.Error:
            return None
        if not all(len(row) == self.width for row in rest if any(row)):
            return None
        if not any(any(row) for row in rest):
            return None
        opened = next(csv.reader([lines[0]], **self._unquoted_kwargs), [])
        return [opened, *rest]


def read_all(
    text: str, dialect: Dialect, max_record_chars: int = 1 << 20, block_chars: int = 1 << 16
) -> Iterator[tuple[int, list[str], bool]]:
    """Parse a whole text into (number, cells, too_large) (tests, small files)."""
    reader = CsvRecordReader(dialect, max_record_chars)
    batches = [
        reader.feed(text[start : start + block_chars]) for start in range(0, len(text), block_chars)
    ]
    batches.append(reader.finish())
    for batch in batches:
        for number, cells in batch.numbered():
            yield number, cells, number in batch.too_large
