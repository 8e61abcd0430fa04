"""Rows of an uploaded file: what every row source hands the flow, and the shaping they
share.

A source (:class:`~worker.sources.csv_source.CsvSource`,
:class:`~worker.sources.workbook_source.WorkbookSource`; opened by
:func:`worker.sources.source.open_source`) knows its :class:`Detection` once opened, and
:meth:`RowSource.batches` streams the rows: each batch holds the rows' numbers (the row a
spreadsheet would show, header included), their cells at the header's width, and the
problems found while reading them (ENCODING, RAGGED_ROW, FIELD_TOO_LARGE, UNCLOSED_QUOTE),
which are data for the flow to file as issues, never exceptions.
"""

from __future__ import annotations

import bisect
import re
import string
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from itertools import compress
from operator import itemgetter, methodcaller
from typing import Any

from worker.model import IssueType
from worker.sources.csv_rows import RecordBatch
from worker.sources.dialect import (
    COMMENT_CHAR,
    HEADER_STRIP,
    OTHER_COMMENT_MARKERS,
    Dialect,
    DialectGuess,
    is_rule,
    undrawn,
)
from worker.sources.encoding import (
    EncodingGuess,
    IncrementalTextDecoder,
    has_undecodable,
    repair,
)
from worker.sources.mapping import ColumnMapping, map_columns
from worker.sources.s3 import ByteStream

# Rows of the sample that the mapping and ``inspect`` look at.
SAMPLE_ROWS = 200
# What a blank line may hold: white space, NULs padding the file, DOS's end-of-file mark.
_BLANK = string.whitespace + "\x00\x1a"


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
    has_header: bool = True  # False: ``headers`` are column_1, column_2...
    units_row: int | None = None  # a row of units under the header, skipped with it

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
            "units_row": self.units_row,
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


def _names_again(cells: list[str], headers: list[str]) -> bool:
    """Whether a row is the header again (its first name may carry a byte-order mark)."""
    return (
        bool(cells)
        and cells[0].strip(HEADER_STRIP) == headers[0]
        and clean_headers([cells[0].strip(HEADER_STRIP), *cells[1:]]) == headers
    )


class Shaper:
    """Brings raw records to the header's width and notes what is wrong with them."""

    def __init__(
        self,
        headers: list[str],
        leading_records: int,
        comment: str | None = None,
        *,
        pad_short_rows: bool = False,
        has_header: bool = True,
        drawn: Dialect | None = None,
    ) -> None:
        self.headers = headers
        # A table drawn as text: its rule lines are no records, its borders no cells.
        self.drawn = drawn if drawn is not None and drawn.drawn else None
        self.width = len(headers)
        # The header met again among the data (files appended to one another, each with
        # its header): no row; counted.
        self.header_again = list(headers) if has_header else None
        self.headers_skipped = 0
        # A sheet's row ends at its last filled cell: shorter rows are not ragged.
        self.pad_short_rows = pad_short_rows
        # Non-blank records before the data: preamble rows and the header.
        self.to_skip = leading_records
        self.comment = comment

    def _is_data(self, cells: list[str]) -> bool:
        # Not blank (a blank line, delimiters only, or white space only: a line of spaces
        # at a file's end, NULs that pad it, DOS's end-of-file mark), not a comment line.
        if not any(cells) or (len(cells) < self.width and not "".join(cells).strip(_BLANK)):
            return False
        return not (self.comment is not None and cells[0].startswith(self.comment))

    def _is_header_again(self, cells: list[str]) -> bool:
        return self.header_again is not None and _names_again(cells, self.header_again)

    def shape(
        self, records: RecordBatch, decoder: IncrementalTextDecoder | None, pending_bad: int
    ) -> tuple[RowBatch, int]:
        """The data rows of ``records``; returns the batch and the undecodable bytes still
        to be found in later rows."""
        width = self.width
        if (
            not self.to_skip
            and self.drawn is None
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
            if (not kept or min(map(len, kept)) == max(map(len, kept)) == width) and (
                self.header_again is None
                or self.header_again[0]
                not in map(methodcaller("strip", HEADER_STRIP), map(itemgetter(0), kept))
            ):
                return RowBatch(numbers, kept, {}), 0
        numbers = []
        rows: list[list[str]] = []
        problems: dict[int, list[RowProblem]] = {}
        drawn = self.drawn
        for number, cells in records.numbered():
            if drawn is not None and any(cells):
                if is_rule(cells, drawn.delimiter):
                    continue
                cells = undrawn(cells, drawn.bordered)  # noqa: PLW2901 - the row's cells
            if not self._is_data(cells):
                continue
            if self.to_skip:
                self.to_skip -= 1  # preamble or header
                continue
            if self._is_header_again(cells):
                self.headers_skipped += 1
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


# A report's footer is at most this many rows (Salesforce writes four); notes under
# headings, this many (a statistics office writes its footnotes and some twenty lines of
# metadata).
MAX_FOOTER_ROWS = 10
MAX_NOTES_ROWS = 60


def _first_cell_only(cells: list[str]) -> bool:
    """A row that holds text in its first cell alone, and no address (a contact with only
    an email is a row)."""
    return (
        bool(cells)
        and bool(cells[0].strip())
        and "@" not in cells[0]
        and not any(map(str.strip, cells[1:]))
    )


# The words a sheet's total row starts with, in the languages of its users.
_TOTAL_WORDS = frozenset(
    (
        *("total", "totals", "grand total", "subtotal", "sum", "totaal", "totale", "totales"),
        *("gesamt", "summe", "somme", "soma", "suma", "yhteensä", "razem", "celkem", "итого"),
        *("insgesamt", "gesamtsumme", "ogółem", "всего", "summa", "totalt", "i alt"),
        *("összesen", "toplam", "celkom", "ukupno", "kokku", "iš viso", "kopā", "σύνολο"),
        *("合計", "合计", "总计", "總計", "総計", "小计", "小計", "총계", "합계"),
    )
)
# Chinese and Japanese write the total word with no space before it (``人民币合计``).
_CJK_TOTAL_WORDS = tuple(word for word in _TOTAL_WORDS if "\u4e00" <= word[0] <= "\u9fff")


# What a bank or ERP file's trailer record opens with, its figures after it.
_TRAILER_LABELS = frozenset(("trailer", "trl", "eof", "end of file", "record count"))


# A statement's balance, which it writes above or below its transactions.
_BALANCE_WORDS = frozenset(
    ("balance", "solde", "saldo", "kontostand", "endsaldo", "anfangssaldo", "余额", "残高")
)


def _total_label(cell: str) -> bool:
    """A total row's label: a total word, or a label that ends with one (``Account
    Total``, ``人民币合计``), not one that starts a name (``Total Wine & More``); a
    statement's balance (``Solde en début de période``, ``Closing balance``); or a
    trailer record's (``TRAILER,12``, ``EOF,12``: a bank file's count of its records)."""
    label = cell.lower().rstrip(": ")
    words = label.split()
    return (
        label in _TOTAL_WORDS
        or label in _TRAILER_LABELS
        or (len(words) > 1 and words[-1] in _TOTAL_WORDS)
        or label.endswith(_CJK_TOTAL_WORDS)
        or _balance_label(label)
    )


_FIGURE = re.compile(r"[-+(]?[$€£¥]?\s?[\d.,  ']+\s?[%€$£)]?")


# What a sheet writes where a column has no value: dashes, N/A.
_NOTHING = re.compile("[-\u2013\u2014]+|n/?a", re.IGNORECASE)


def _total_row(cells: list[str]) -> bool:
    """A sheet's total row: a total word first, figures or nothing after it (dashes and
    N/A are nothing: ``Total,10,--,--,$100.00``)."""
    filled = [
        cell.strip() for cell in cells if cell.strip() and not _NOTHING.fullmatch(cell.strip())
    ]
    return (
        bool(filled)
        and _total_label(filled[0])
        and all(_FIGURE.fullmatch(cell) for cell in filled[1:])
    )


def _balance_row(cells: list[str]) -> bool:
    """A statement's balance row written under the table in its own columns: a balance
    label where the transactions keep their text, and around it its date, currency,
    amount and side alone (``"13.09.2021";;;;"Anfangssaldo";"EUR";"247,22";"H"``), some
    cells empty."""
    filled = [cell.strip() for cell in cells if cell.strip()]
    labels = [cell for cell in filled if _balance_label(cell)]
    return (
        len(labels) == 1
        and len(filled) < len(cells)
        and all(cell in labels or _BALANCE_FACT.fullmatch(cell) for cell in filled)
    )


def _balance_label(cell: str) -> bool:
    words = cell.lower().rstrip(": ").split()
    return bool(words) and bool({words[0], words[-1]} & _BALANCE_WORDS)


# What a balance row holds beside its label: a date, an amount, a currency or side code.
_BALANCE_FACT = re.compile(f"{_FIGURE.pattern}|[\\d./-]+|[A-Za-z]{{1,3}}")


# What opens a note a tool writes below its table (``// generated by``, ``# end``): the
# comment markers detection knows, and those of SQL, TeX and configuration files.
_NOTE_MARKERS = (COMMENT_CHAR, *OTHER_COMMENT_MARKERS, "--", "%", "!", ";")


def _marked_note(cells: list[str]) -> bool:
    """A first cell alone that opens with a comment marker, that counts the rows (a
    database client's ``(3 rows)``, ``2 rows in set (0.00 sec)``; an export's ``Total
    records: 12``, ``Anzahl Datensätze: 12``), that marks the end (``EOF``, ``*** END OF
    REPORT ***``), that checks the file (a bank's checksum) or that is a rule drawn under
    the table (a statistics office's ``_____`` over its footnotes): a note, not a
    contact."""
    if not _first_cell_only(cells):
        return False
    text = cells[0].strip()
    return (
        text.startswith(_NOTE_MARKERS)
        or _RECORD_COUNT.fullmatch(text) is not None
        or _END_MARK.fullmatch(text) is not None
        or _CHECKSUM.fullmatch(text) is not None
        or is_rule(cells[:1], "|")
    )


# What an export counts its rows as, in the languages of its users.
_RECORDS = (
    r"(?:records?|rows?|entries|lines|contacts|datensätze|datensatz|einträge|zeilen"
    r"|kontakte|enregistrements|lignes|registros?|filas|linhas|righe|record)"
)
# A count of records: ``Total records: 12``, ``Number of rows = 12``, ``12 records``,
# ``Anzahl Datensätze: 12``, ``Nombre d'enregistrements : 12``, ``Total de registros: 12``;
# a database client's ``(3 rows)``, ``2 rows in set (0.00 sec)``.
_RECORD_COUNT = re.compile(
    rf"(?:(?:total|number of|count of|no\.? of|anzahl(?: der)?|nombre d'|nombre de"
    rf"|número de|numero de|total de|totale)\s*)?{_RECORDS}(?:\s+(?:count|total|exported))?"
    rf"\s*[:=]?\s*\d[\d.,' ]*"
    rf"|\(?\d[\d.,' ]*\s+{_RECORDS}\)?(?:\s+in set\b.*|\s+\w+)?\.?",
    re.IGNORECASE,
)
# A checksum of the file written under it (a bank's ``08B42461C3F09A7D...``): sixteen hex
# digits or more, letters and digits both.
_CHECKSUM = re.compile(r"(?=[0-9A-Fa-f]*[A-Fa-f])(?=[0-9A-Fa-f]*\d)[0-9A-Fa-f]{16,}")
# The end of an export, written as a line of its own: ``EOF``, ``END``, ``END OF FILE``,
# ``*** End of report ***``, ``-- Ende --``.
_END_MARK = re.compile(
    r"[*=#<>\-\s]*(?:eof|end|end of (?:file|report|data|list|export|records)|ende|fin"
    r"|fin de (?:fichier|l'export|rapport))[*=#<>\-\s.]*",
    re.IGNORECASE,
)


def _heading(cells: list[str]) -> bool:
    """A first cell alone that names a section of notes: a few words and a colon
    (``Footnotes:``, ``Metadata:``, ``Symbol legend:``)."""
    label = cells[0].strip() if _first_cell_only(cells) else ""
    return label.endswith((":", "\uff1a")) and len(label.split()) <= _HEADING_WORDS


_HEADING_WORDS = 4


def _pair(cells: list[str]) -> bool:
    """A row that fills its first two cells at most: a note's key and its text (``"1","Data
    for the LHB..."``, ``"Last update","13 July 2021"``)."""
    return any(map(str.strip, cells[:2])) and not any(map(str.strip, cells[2:]))


class Footer:
    """Holds back the rows that may be a report's footer, the lines a tool writes below the
    table (Salesforce's copyright, "Confidential", "Generated By" and company lines; a
    sheet's total row). In a table of three or more columns: rows that hold a first cell
    alone after a line that is no row (a blank one) or after a row held (a total row, a
    rule), total rows, a statement's balance rows
    written in their own columns after a blank line (``"13.09.2021";;;;"Anfangssaldo";
    "EUR";"247,22"``), and under a heading after a blank line (``Footnotes:``,
    ``Metadata:``) the rows that fill their first two cells alone (a statistics office's
    footnotes and metadata, a key and its text). In any table of two or more columns: a
    first cell alone behind a comment marker (``// end of export``) or drawn as a rule
    (``_____``). A row of the table
    after them makes them rows again; the end of the file makes them the footer, skipped
    and counted (``rows``)."""

    def __init__(self, width: int) -> None:
        self.active = width >= 2
        self.notes_only = width < 3  # two columns: a first cell alone may be a contact
        self.sections = False  # a heading is held: its notes are pairs of cells
        self.held = RowBatch([], [], {})
        self.last: int | None = None  # the number of the last row passed or held
        self.rows: list[int] = []  # the footer's row numbers, once the file has ended

    def add(self, batch: RowBatch) -> Iterator[RowBatch]:
        numbers = batch.numbers
        if not numbers:
            return
        if not self.active or (
            not self.held.rows
            and numbers[-1] - numbers[0] == len(numbers) - 1
            and (self.last is None or numbers[0] == self.last + 1)
            and not _total_row(batch.rows[-1])
            and not _first_cell_only(batch.rows[-1])
        ):
            # The usual case: rows one after another, nothing held, the last no note nor
            # total (nor a first cell alone, which a total or a rule above it in the
            # batch may have opened a footer for: ``Insgesamt;357022,31;...``, ``_____``,
            # then the footnotes, with no blank line between).
            self.last = numbers[-1]
            yield batch
            return
        passed = RowBatch([], [], {})
        for number, cells in zip(numbers, batch.rows, strict=True):
            note = _marked_note(cells) and self.last is not None
            alone = _first_cell_only(cells) and not self.notes_only
            total = _total_row(cells) and self.last is not None and not self.notes_only
            balance = _balance_row(cells) and not self.notes_only
            if self.held.rows:
                pair = self.sections and _pair(cells)
                limit = MAX_NOTES_ROWS if self.sections else MAX_FOOTER_ROWS
                kept = note or alone or total or pair or balance
                holds = kept and len(self.held.rows) < limit
                if not holds:
                    _move(self.held, passed)  # the table goes on: they were rows
                    self.sections = False
            else:
                gap = self.last is not None and number > self.last + 1
                holds = note or total or ((alone or balance) and gap)
            self.sections = self.sections or (holds and alone and _heading(cells))
            _append(self.held if holds else passed, number, cells, batch.problems.get(number))
            self.last = number
        if passed.rows:
            yield passed

    def finish(self) -> None:
        """The file has ended: what is held is the footer."""
        self.rows, self.held = self.held.numbers, RowBatch([], [], {})


def _append(
    batch: RowBatch, number: int, cells: list[str], problems: list[RowProblem] | None
) -> None:
    batch.numbers.append(number)
    batch.rows.append(cells)
    if problems:
        batch.problems[number] = problems


def _move(source: RowBatch, target: RowBatch) -> None:
    for number, cells in zip(source.numbers, source.rows, strict=True):
        _append(target, number, cells, source.problems.get(number))
    source.numbers, source.rows, source.problems = [], [], {}


class RowSource:
    """Rows of one uploaded file, as detected; iterate :meth:`batches` once, then
    :meth:`close` (a source also closes itself when its batches end)."""

    def __init__(
        self, stream: ByteStream, detection: Detection, batch_rows: int, max_row_chars: int
    ) -> None:
        self.stream = stream
        self.detection = detection
        self.batch_rows = batch_rows
        self.max_row_chars = max_row_chars
        self.shaper: Shaper | None = None  # set when the batches start
        self.footer = Footer(len(detection.headers))

    @property
    def headers_skipped(self) -> int:
        """How many times the header came again among the rows (files appended to one
        another, each with its header): skipped, not rows."""
        return self.shaper.headers_skipped if self.shaper is not None else 0

    @property
    def footer_rows(self) -> list[int]:
        """The numbers of the rows below the table that were its footer (known once the
        batches have ended): skipped, not rows."""
        return self.footer.rows

    def skipped(self) -> dict[str, Any]:
        """What was read and is no row, for the job's record and ``inspect``."""
        found: dict[str, Any] = {}
        if self.headers_skipped:
            found["headers_again"] = self.headers_skipped
        if self.footer_rows:
            found["footer_rows"] = self.footer_rows
        return found

    def batches(self) -> AsyncIterator[RowBatch]:
        """The data rows, ``batch_rows`` at a time (fewer in the last batch)."""
        raise NotImplementedError

    def close(self) -> None:
        """Release what the source holds (a temporary file); nothing by default."""


def skipped_line(skipped: dict[str, Any]) -> str:
    """What the reading skipped that is no row, for a person (empty when nothing was)."""
    said = []
    if skipped.get("headers_again"):
        said.append(
            f"the header, met again {skipped['headers_again']} time(s) among the rows "
            "(files appended to one another)"
        )
    footer = skipped.get("footer_rows") or []
    if footer:
        said.append(
            f"row(s) {', '.join(map(str, footer))} below the table, a report's footer "
            "(text in a first cell alone after a blank line, a rule or a total row, behind "
            "a comment marker, an end mark, a count of the records or a checksum, notes "
            "under a heading such as Footnotes:, or a total or balance row, at the end of "
            "the file)"
        )
    return "; ".join(said)


class Pending:
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


def skip_to(numbers: list[int], row: int) -> int:
    """How many of the sample's non-blank rows (numbered ``numbers``) come before row
    number ``row``: the rows to skip for the header to be row ``row`` (or the first
    non-blank row after it)."""
    return bisect.bisect_left(numbers, row)


def detect_layout(
    file_format: str,
    rows: list[list[str]],
    numbers: list[int],
    skip: int,
    has_header: bool,
    *,
    options: dict[str, Any],
) -> Detection:
    """Header, width and mapping from the sample's non-blank rows (``numbers``: their row
    numbers, as the data rows are numbered: a spreadsheet's, blank lines counted)."""
    body = rows[skip:]
    # The header's row number (the first data row's, after a preamble, when there is none).
    header_number = numbers[skip] if skip < len(numbers) else None
    units_number = None
    if has_header and body:
        headers = clean_headers(body[0])
        if _units_row(body[1:2], body[2 : SAMPLE_ROWS + 2]):
            # ``(kg)``, ``(2008-12-31)``, ``(required)`` under the names: the header's too.
            units_number = numbers[skip + 1]
            body = body[1:]
        # Without the header met again (files appended to one another): no data.
        data = [row for row in body[1 : SAMPLE_ROWS + 1] if not _names_again(row, headers)]
    else:
        width = max((len(row) for row in body), default=0)
        headers = [f"column_{index + 1}" for index in range(width)]
        data = body[:SAMPLE_ROWS]
        header_number = header_number if skip else None
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
        leading_records=skip + (1 if has_header and body else 0) + (units_number is not None),
        has_header=has_header and bool(body),
        units_row=units_number,
    )


def _units_row(under: list[list[str]], below: list[list[str]]) -> bool:
    """Whether the row under the header is one of units or notes on the columns: every
    filled cell in parentheses or brackets (``(april 2009);;(2008-12-31)``, ``[kg]``), where
    the rows below are not (a value in parentheses is an accountant's negative number)."""
    if not under or not below:
        return False
    filled = [cell.strip() for cell in under[0] if cell.strip()]
    if not filled or not all(_IN_BRACKETS.fullmatch(cell) for cell in filled):
        return False
    alike = sum(
        1
        for row in below
        if (cells := [cell.strip() for cell in row if cell.strip()])
        and all(_IN_BRACKETS.fullmatch(cell) for cell in cells)
    )
    return alike * 10 <= len(below)


_IN_BRACKETS = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")


def str_option(value: object) -> str | None:
    return None if value is None else str(value)
