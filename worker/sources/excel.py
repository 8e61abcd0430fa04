"""Rows of an Excel workbook (.xlsx, .xlsm), read with openpyxl in read-only mode.

A zip needs random access, so the object is first streamed to a temporary file. Values
become the text a person sees: dates as ISO 8601, integral numbers without ``.0`` (phone
numbers!), formulas as their cached values. Empty trailing rows and columns are ignored.
Zip bombs, corrupt and non-Excel zips are refused with the reason.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from openpyxl import load_workbook
from openpyxl.utils import range_boundaries

from worker.errors import UnreadableFile, UnsupportedFile
from worker.sources.formats import other_zip
from worker.sources.mapping import is_known_header

# Zip bomb guards: the workbook's total uncompressed size, and the worst compression ratio
# of a large member (real sheets compress 5-20x; bombs, thousands of times).
MAX_UNCOMPRESSED_BYTES = 2 << 30
MAX_COMPRESSION_RATIO = 200
_RATIO_CHECK_MIN_BYTES = 10 << 20
# Rows of each sheet looked at to find the one that holds the data.
SHEET_SCAN_ROWS = 1000


def check_workbook(path: Path) -> None:
    """Refuse a file that is not a readable Excel workbook, before openpyxl opens it."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            names = {member.filename for member in members}
            if "xl/workbook.xml" not in names:
                raise UnsupportedFile(other_zip(names))
            total = sum(member.file_size for member in members)
            if total > MAX_UNCOMPRESSED_BYTES:
                raise UnreadableFile(
                    f"the workbook unpacks to {total >> 20} MiB, over the "
                    f"{MAX_UNCOMPRESSED_BYTES >> 20} MiB limit (a zip bomb, or far too big)"
                )
            for member in members:
                if (
                    member.file_size > _RATIO_CHECK_MIN_BYTES
                    and member.compress_size
                    and (member.file_size / member.compress_size > MAX_COMPRESSION_RATIO)
                ):
                    raise UnreadableFile(
                        f"{member.filename} in the workbook compresses "
                        f"{member.file_size // member.compress_size}:1 (a zip bomb)"
                    )
            bad = archive.testzip()
            if bad is not None:
                raise UnreadableFile(f"the workbook is corrupt ({bad} fails its checksum)")
    except zipfile.BadZipFile as error:
        raise UnreadableFile(f"the workbook is corrupt: {error}") from error


def cell_text(value: Any) -> str:
    """The text of a cell as a person reads it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        # Excel shows 15 significant digits: 0.1 + 0.2, saved as 0.30000000000000004, is 0.3.
        return format(value, ".15g")
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    return str(value).strip("\x00")


class WorkbookRows:
    """The rows of one sheet as lists of text, trailing empty rows and columns dropped."""

    def __init__(self, path: Path, sheet: str | None = None) -> None:
        check_workbook(path)
        try:
            self._workbook = load_workbook(path, read_only=True, data_only=True, keep_links=False)
        except Exception as error:
            raise UnreadableFile(f"the workbook cannot be opened: {error}") from error
        names = self._workbook.sheetnames
        if sheet is not None and sheet not in names:
            self.close()
            raise UnreadableFile(
                f"the workbook has no sheet named {sheet!r} (it has: {', '.join(names)})"
            )
        self.sheet_names: list[str] = list(names)
        self.sheet_name = sheet or self._sheet_with_the_data(names)
        self._sheet = self._workbook[self.sheet_name]
        self._merged = merged_ranges(path, getattr(self._sheet, "_worksheet_path", None))

    def _sheet_with_the_data(self, names: list[str]) -> str:
        """The sheet whose header maps to contact fields, with the most rows (of the first
        :data:`SHEET_SCAN_ROWS`); the first sheet when none stands out. A cover page or
        a notes sheet before the data is passed over."""
        if len(names) == 1:
            return names[0]
        best, best_score = names[0], (-1, -1)
        for name in names:
            header_hits, rows = 0, 0
            sheet = self._workbook[name]
            for values in sheet.iter_rows(values_only=True, max_row=SHEET_SCAN_ROWS):
                cells = [cell_text(value) for value in values]
                if not any(cells):
                    continue
                if rows == 0:
                    header_hits = sum(map(is_known_header, cells))
                rows += 1
            if (header_hits, rows) > best_score:
                best, best_score = name, (header_hits, rows)
        return best

    def rows(self) -> Iterator[list[str]]:
        """Each row's cells as text; blank rows come out as ``[]`` except trailing ones.
        A merged range's cells all read as its value (a person sees one value there)."""
        blank_run = 0
        starting: dict[int, list[tuple[int, int, int, int]]] = {}
        for bounds in self._merged:
            starting.setdefault(bounds[1], []).append(bounds)
        open_ranges: list[tuple[tuple[int, int, int, int], str]] = []
        for number, values in enumerate(self._sheet.iter_rows(values_only=True), 1):
            cells = [cell_text(value) for value in values]
            if starting or open_ranges:
                open_ranges = _fill_merged(cells, number, starting.pop(number, []), open_ranges)
            while cells and not cells[-1]:
                cells.pop()
            if not cells:
                blank_run += 1
                continue
            # Blank rows count (they are rows a person sees) unless nothing follows them.
            for _ in range(blank_run):
                yield []
            blank_run = 0
            yield cells

    def close(self) -> None:
        """Close the workbook file."""
        self._workbook.close()


def merged_ranges(path: Path, member: str | None) -> list[tuple[int, int, int, int]]:
    """The sheet's merged ranges as (min column, min row, max column, max row), read from
    its XML as a stream (read-only openpyxl does not give them)."""
    if not member:
        return []
    found = []
    try:
        with zipfile.ZipFile(path) as archive, archive.open(member.lstrip("/")) as xml:
            # The stdlib parser: no external entities, and expat >= 2.4 refuses entity
            # expansion bombs; the archive was size-checked by check_workbook.
            for _, element in ElementTree.iterparse(xml):  # noqa: S314
                if element.tag.endswith("}mergeCell") or element.tag == "mergeCell":
                    ref = element.get("ref")
                    if ref and ":" in ref:
                        found.append(range_boundaries(ref))
                element.clear()
    except (KeyError, ElementTree.ParseError, ValueError):
        return []
    return [bounds for bounds in found if None not in bounds]


def _fill_merged(
    cells: list[str],
    number: int,
    starting: list[tuple[int, int, int, int]],
    open_ranges: list[tuple[tuple[int, int, int, int], str]],
) -> list[tuple[tuple[int, int, int, int], str]]:
    """Give row ``number``'s cells in merged ranges the range's value (its top-left cell);
    returns the ranges still open after this row."""
    for bounds in starting:
        first_column = bounds[0]
        open_ranges.append((bounds, cells[first_column - 1] if len(cells) >= first_column else ""))
    for (min_col, _, max_col, _), value in open_ranges:
        if len(cells) < max_col:
            cells.extend([""] * (max_col - len(cells)))
        for column in range(min_col, max_col + 1):
            if not cells[column - 1]:
                cells[column - 1] = value
    return [(bounds, value) for bounds, value in open_ranges if bounds[3] > number]
