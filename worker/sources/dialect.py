"""Which delimiter, quote and escape character a CSV file uses, and whether it has a header.

The dialect is chosen by how consistent the sample looks when parsed with it (the idea of
CleverCSV, van den Burg et al. 2019): the *pattern score* rewards rows of equal width, the
*type score* rewards cells that look like something (numbers, dates, emails, URLs, empty).
Their product is weighed by a small prior that favours the delimiters contact exports use,
``;`` first where the evidence is equal, as European Excel exports do. The sample is
bounded, so detection costs the same on any file size.
"""

from __future__ import annotations

import csv
import io
import re
import string
import unicodedata
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

from worker.sources.encoding import CONTROL_DELIMITERS, script_of
from worker.sources.mapping import is_known_header

# Delimiters of contact exports, in the order ties are broken. Any other printable
# character that is not a letter, digit or quote may be one too, weighed down by a prior:
# those that also live inside values (``:`` in times, ``-`` in dates, space in names)
# more. ``.``, ``/``, ``_`` and ``@`` are parts of numbers, dates, names and addresses,
# never delimiters (CleverCSV rules out ``.`` and ``/`` likewise).
PRIMARY_DELIMITERS = (";", ",", "\t", "|")
_OTHER_PRIOR = 0.8
_INNER_PRIOR = 0.7
_INNER_CHARS = frozenset(":-")
# Space separates the words of names, companies and dates in nearly every file.
_SPACE_PRIOR = 0.55
_LETTER_PRIOR = 0.4  # a letter beyond ASCII that splits every line alike
# NUL and ASCII's separators: control characters that delimit fields in text.
_CONTROL_DELIMITERS = frozenset(CONTROL_DELIMITERS.decode("ascii"))
# Brackets come in pairs around a value (``Ana <ana@x.pt>``, ``(555) 0100``), never
# between values.
_NEVER_DELIMITERS = frozenset("\r\n\"'`\\./_@<>()[]{}")
# Candidates beyond the primary ones that are scored, the most regular first.
_MAX_OTHER_CANDIDATES = 6
_SEP_LINE = re.compile(r"(?i)sep=(.)\r?\n?")
# A leading block of lines starting with this is comments (and so are later ones).
COMMENT_CHAR = "#"
# Other comment markers, taken only for a block of notes that opens the file.
OTHER_COMMENT_MARKERS = ("//", "~")
# The most non-blank records before the header that can be a title or preamble.
MAX_PREAMBLE_ROWS = 10
QUOTE_CHARS = ('"', "'", "`")
# Lines and characters of the sample that detection parses.
SAMPLE_LINES = 200
SAMPLE_CHARS = 64 * 1024

_TYPE_PATTERNS = [
    re.compile(p)
    for p in (
        r"[-+]?\d+",  # integer
        r"[-+]?(\d{1,3}([,. ']\d{3})+|\d+)([.,]\d+)?([eE][-+]?\d+)?",  # decimal, grouped
        r"[-+]?[.,]\d+",  # .5
        r"[-+]?[$€£¥]\s?\d[\d,. ]*|\d[\d,. ]*\s?[$€£¥%]",  # money, percent
        r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}([ T]\d{1,2}:\d{2}(:\d{2}([.,]\d+)?)?)?"
        # ...with a zone after the time: Z, +01:00, " +0100" (Shopify), " UTC" (Rails)
        r"(Z|\s?[+-]\d{2}:?\d{2}|\s(UTC|GMT|[A-Z]{2,4}T))?",  # dates
        r"\d{1,2}:\d{2}(:\d{2})?(\s?[aApP][mM])?",  # times
        # Dates with month names: "Sat, 26 Feb 2011 13:09:35 +0000", "Feb 26, 2011".
        r"(?i)((mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\s)?(\d{1,2}\s)?"
        r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s(\d{1,2},?\s)?\d{2,4}"
        r"(\s\d{1,2}:\d{2}(:\d{2})?(\s?([+-]\d{4}|gmt|utc|[ap]m))?)?",
        # email; never with a character that delimits files in it (legal in a local part,
        # but then "7,200.99~ana@x.io" would read as one typed cell split at the comma)
        r"[^@\s,;|:~^\"]+@[^@\s,;|:~^\"]+\.[A-Za-z]{2,}",
        r"(https?|ftp)://\S+|www\.\S+",  # URL
        r"\+?[\d ()./-]{7,20}",  # phone-ish
        r"(?i)true|false|yes|no|y|n|null|none|nan|n/a|na|-",  # booleans, nulls
        r"\[.*\]|\{.*\}",  # JSON-ish
        r"(?i)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",  # UUID
        r"\d{1,3}(\.\d{1,3}){3}(:\d{1,5})?",  # IPv4, with a port
        r"[A-Za-z][A-Za-z_]*\d[A-Za-z0-9_]*",  # identifiers with digits: user1, SKU_20
        # ...and words joined by underscores: a key or a code (Direct_Error, in_progress),
        # also in segments parted by dots or colons (dlga_start:fighter_talk.1)
        r"(?=[^_]*_)[A-Za-z][A-Za-z0-9]*([_.:][A-Za-z0-9]+)+",
    )
]
# Words that name columns in files of every kind (English, Portuguese, Spanish, French,
# German): a first row made of them is a header even when no column's type tells.
_LABEL_TEXT = """
    id key code name names title type kind status state description desc note notes comment
    comments value val amount price total qty quantity count number num no date time day
    month year created updated modified timestamp start end first last full middle given
    family surname email mail phone mobile tel fax address street city town zip postal
    postcode country region province county company organization organisation org dept
    department job position role age gender sex birthday url website web link user username
    login password group category tag tags label source owner level score rank size weight
    height width length lat lon lng latitude longitude unit units currency rate
    percent language lang version file path product item sku brand model color colour
    author publisher genre book isbn team player species temperature temp speed distance
    duration cost revenue sales profit population area capital continent season episode
    nome apelido morada cidade pais telefone empresa valor data tipo estado descricao
    nombre apellido direccion ciudad telefono empresa fecha tipo estado descripcion
    prenom nom adresse ville pays telephone societe valeur montant
    vorname nachname strasse stadt land telefon firma wert datum betrag
"""
_LABEL_WORDS = frozenset(_LABEL_TEXT.split())
_LABEL_TOKEN = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")
# Words: a name with initials among them too (``Thomas A. Edison``, ``J. R. Smith``).
_WORD = re.compile(r"[^\W\d_]+((\.?[ '\-]|\.)[^\W\d_]+)*\.?", re.UNICODE)
_NUMBERISH = re.compile(r"[-+]?[$€£¥]?\s?[\d.,]+\s?%?")
_DATEISH = re.compile(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}")


@dataclass(frozen=True)
class Dialect:
    """How to parse a CSV file."""

    delimiter: str
    quotechar: str | None = '"'
    escapechar: str | None = None
    has_header: bool = True
    skip_rows: int = 0  # non-blank records before the header (or the data): a title, a date
    comment: str | None = None  # records whose first cell starts with it are not data
    # The header's first name starts with this comment marker (``#id,name``): not a name.
    header_marker: str | None = None
    # A space after every delimiter (``a, "b, c"``): skipped, so a quote after it opens
    # a quoted field.
    skipinitialspace: bool = False
    # A table drawn as text (a terminal's, Markdown's: ``| a | b |`` over ``|---|---|``):
    # its rule lines are no rows and its cells lose the spaces that pad them.
    drawn: bool = False
    # Every line of the drawn table opens and closes with the delimiter: the empty cells
    # before the first and after the last are its borders, no cells.
    bordered: bool = False

    def reader_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``csv.reader``."""
        kwargs: dict[str, Any] = {
            "delimiter": self.delimiter,
            "strict": False,
            "escapechar": self.escapechar,
            "skipinitialspace": self.skipinitialspace,
        }
        if self.quotechar is None:
            kwargs["quoting"] = csv.QUOTE_NONE
        else:
            kwargs["quotechar"] = self.quotechar
            kwargs["doublequote"] = True
        return kwargs

    def as_dict(self) -> dict[str, object]:
        """For the job row and ``inspect``."""
        return {
            "delimiter": self.delimiter,
            "quotechar": self.quotechar,
            "escapechar": self.escapechar,
            "has_header": self.has_header,
            "skip_rows": self.skip_rows,
            "comment": self.comment,
            "skipinitialspace": self.skipinitialspace,
            "drawn": self.drawn,
            "bordered": self.bordered,
        }

    def is_comment(self, row: list[str]) -> bool:
        """Whether a parsed record is a comment line."""
        return self.comment is not None and bool(row) and row[0].startswith(self.comment)


@dataclass(frozen=True)
class DialectGuess:
    """The chosen dialect and how sure detection is (0..1)."""

    dialect: Dialect
    confidence: float
    method: str  # "detected", "override", "declared" (a sep= line), "single-column"


def sample_lines(text: str, complete: bool) -> list[str]:
    """The sample's lines (newlines kept); a last line cut by the sample's end is dropped."""
    lines = io.StringIO(text[:SAMPLE_CHARS], newline="").readlines()
    if not complete or len(text) > SAMPLE_CHARS:
        lines = lines[:-1] if len(lines) > 1 else lines
    return lines[:SAMPLE_LINES]


def parse_sample(lines: list[str], dialect: Dialect) -> list[list[str]]:
    """The sample's records under ``dialect``, blank ones (empty, or delimiters only: a
    spreadsheet's empty row) left out, as the row source leaves them out."""
    return numbered_sample(lines, dialect)[1]


def numbered_sample(lines: list[str], dialect: Dialect) -> tuple[list[int], list[list[str]]]:
    """The sample's records under ``dialect`` with their record numbers, blank ones (empty,
    or delimiters only: a spreadsheet's empty row), comments and a drawn table's rule
    lines left out but counted, as the row source numbers and leaves them out."""
    numbers: list[int] = []
    rows: list[list[str]] = []
    try:
        for number, row in enumerate(csv.reader(lines, **dialect.reader_kwargs()), 1):
            if not any(row) or dialect.is_comment(row):
                continue
            if dialect.drawn:
                if is_rule(row, dialect.delimiter):
                    continue
                row = undrawn(row, dialect.bordered)  # noqa: PLW2901 - the row's cells
            numbers.append(number)
            rows.append(_unpadded(row, dialect))
    except csv.Error:
        return [], []
    return numbers, rows


# A rule line of a table drawn as text: runs of dashes, equals signs or underscores
# (Markdown's alignment colons beside them), parted by the delimiter or by the ``+`` of a
# crossing (``|---|:---:|``, ``+----+------+``, ``----+-------``); or drawn alone under a
# table (a statistics office's ``_____`` over its footnotes).
_RULE = re.compile(r"[ \t]*[|+]?([ \t]*:?[-=_]+:?[ \t]*[|+])*[ \t]*:?[-=_]+:?[ \t]*[|+]?[ \t]*")
_RULE_RUN = re.compile(r"([-=_])\1\1")


def is_rule(cells: list[str], delimiter: str) -> bool:
    """Whether a record is a rule line (three dashes, equals signs or underscores or more
    in a run)."""
    line = delimiter.join(cells)
    return _RULE_RUN.search(line) is not None and _RULE.fullmatch(line) is not None


def undrawn(cells: list[str], bordered: bool) -> list[str]:
    """A drawn table's record as cells: without the empty ones its borders make, each
    without the spaces that pad it."""
    if bordered and len(cells) > 1 and not cells[0].strip():
        cells = cells[1:]
        if len(cells) > 1 and not cells[-1].strip():
            cells = cells[:-1]
    return [cell.strip(" \t") for cell in cells]


def _drawn(lines: list[str], dialect: Dialect) -> Dialect:
    """``dialect`` marked as a drawn table's when it splits at ``|`` and a rule line
    underlines a line near the top, the header (Markdown's ``|---|---|``, a terminal's
    ``----+----``), not a row whose values are all dashes further down; bordered when
    every other line that holds a ``|`` opens with one."""
    if dialect.delimiter != "|":
        return dialect
    filled = [line.strip() for line in lines if line.strip()]
    rules = [is_rule([line], "|") for line in filled]
    top = min(len(filled) - 1, MAX_PREAMBLE_ROWS + 1)
    if not any(not rules[index] and rules[index + 1] for index in range(top)):
        return dialect
    # A note under the table (``2 rows in set``) holds no ``|`` and draws no border.
    cells = [line for line, rule in zip(filled, rules, strict=True) if not rule and "|" in line]
    bordered = bool(cells) and all(line.startswith("|") for line in cells)
    return replace(dialect, drawn=True, bordered=bordered)


def _unpadded(row: list[str], dialect: Dialect) -> list[str]:
    """The row without the empty cell that spaces padding the line's end make, where runs
    of spaces delimit (aligned columns); the row source drops it likewise, past the
    header's width."""
    if dialect.delimiter == " " and dialect.skipinitialspace and len(row) > 1 and not row[-1]:
        return row[:-1]
    return row


def cell_has_type(cell: str) -> bool:
    """Whether ``cell`` looks like a value of some known type (or is empty)."""
    value = cell.strip()
    if not value:
        return True
    return any(pattern.fullmatch(value) for pattern in _TYPE_PATTERNS) or bool(
        _WORD.fullmatch(value) and len(value) <= 40
    )


def _pattern_score(rows: list[list[str]]) -> float:
    widths = Counter(len(row) for row in rows)
    if not widths:
        return 0.0
    total = sum(count * max(0.001, (width - 1) / width) for width, count in widths.items())
    return total / len(widths)


def _type_score(rows: list[list[str]]) -> float:
    cells = [cell for row in rows for cell in row]
    if not cells:
        return 0.0
    return sum(cell_has_type(cell) for cell in cells) / len(cells)


def _score(lines: list[str], dialect: Dialect) -> float:
    rows = parse_sample(lines, dialect)
    if dialect.delimiter in PRIMARY_DELIMITERS:
        # A sheet's empty rows (",,,") are blank to the reader, but evidence of their
        # delimiter here: rows of the table's width, every cell empty.
        rows += [
            [""] * (line.count(dialect.delimiter) + 1)
            for line in lines
            if line.strip() and not line.strip().strip(dialect.delimiter)
        ]
    if not rows:
        return 0.0
    score = _pattern_score(rows) * max(0.01, _type_score(rows))
    # A quote character that never opens a field is no evidence for itself.
    if dialect.quotechar is not None:
        opens = re.compile(rf"(^|{re.escape(dialect.delimiter)}) *{re.escape(dialect.quotechar)}")
        if not any(opens.search(line) for line in lines):
            score *= 0.5
    elif _quoted_spans(rows) >= _QUOTED_SPAN_LINES:
        # Read unquoted, a quote opens a field and closes a later one on the same line
        # (a row pasted into one cell and saved: ``"Laura,Herbst,,""Acme, Inc"",2021"``):
        # the quote joins those fields, whatever the rows' shape says.
        score *= 0.5
    return score


# Lines whose quoted spans make the unquoted reading wrong (one may be a stray quote).
_QUOTED_SPAN_LINES = 2


def _quoted_spans(rows: list[list[str]]) -> int:
    """How many rows, read with no quoting, hold a field that opens with a quote character
    and a later field that closes with the same one: a span the quote joins (counted up
    to :data:`_QUOTED_SPAN_LINES`)."""
    count = 0
    for row in rows:
        quote = None
        for cell in row:
            if quote is None:
                opening = cell.lstrip()[:1]
                quote = opening if opening and opening in QUOTE_CHARS else None
            elif cell.rstrip().endswith(quote):
                count += 1
                if count >= _QUOTED_SPAN_LINES:
                    return count
                break
    return count


def _twice_a_line(lines: list[str]) -> set[str]:
    """The letters beyond ASCII that occur twice or more on two of the first three lines:
    the only ones :func:`_steady` may find steady (a Chinese sample holds thousands)."""
    seen: Counter[str] = Counter()
    for line in [line for line in lines if line.strip()][:3]:
        counts = Counter(char for char in line if not char.isascii() and char.isalpha())
        seen.update(char for char, count in counts.items() if count >= 2)
    return {char for char, lines_with in seen.items() if lines_with >= 2}


def _steady(lines: list[str], char: str) -> bool:
    """Whether ``char`` occurs the same number of times, twice or more, on nine lines in
    ten or more (three lines or more), outside double-quoted fields."""
    counts = Counter(_QUOTED.sub('""', line).count(char) for line in lines if line.strip())
    if sum(counts.values()) < 3:
        return False
    count, hits = counts.most_common(1)[0]
    if count < 2 or hits < 0.9 * sum(counts.values()):
        return False
    split = [line.rstrip("\r\n").split(char) for line in lines[1:] if line.strip()]
    # The first cells of every row, the second... as far as the shortest row goes.
    columns = zip(*split, strict=False)
    return any(_typed_column(column) for column in columns)


def _typed_column(cells: tuple[str, ...]) -> bool:
    """Whether most of a column's filled cells, two or more, are values of a type
    (numbers, dates...)."""
    filled = [cell for cell in cells if cell.strip().strip('"')]
    return len(filled) >= 2 and _typed_share(filled)


def _delimiter_prior(char: str, lines: list[str] | None = None) -> float:
    if char in PRIMARY_DELIMITERS or char in _CONTROL_DELIMITERS:
        return 1.0
    if char.isalpha():
        return _LETTER_PRIOR
    if char == " ":
        # The space between a date and its time (``26/08/2015 18:00``, ``6:00 PM``) is
        # part of a value: a column of timestamps splits at it as regularly as at a
        # delimiter. Weighed down by the share of the spaces that sit there.
        return _SPACE_PRIOR * (1.0 - _share_in_timestamps(lines or []))
    if char not in _INNER_CHARS:
        return _OTHER_PRIOR
    # ``:`` and ``-`` that sit inside times and dates are parts of values: a column of
    # them would otherwise split as regularly as a delimiter does (more fields, each a
    # number). Weighed down by the share of their occurrences that do.
    return _INNER_PRIOR * (1.0 - _share_inside_values(lines or [], char))


# Times and dates, whose ``:`` and ``-`` are no delimiters.
_TIME_OR_DATE = re.compile(
    r"(?<![\d:])\d{1,2}:\d{2}(:\d{2}([.,]\d+)?)?(?![\d:])"
    r"|(?<![\d-])\d{4}-\d{1,2}-\d{1,2}(?![\d-])"
    r"|(?<![\d-])\d{1,2}-\d{1,2}-\d{4}(?![\d-])"
)


_QUOTED = re.compile(r'"[^"]*"')
# A date and its time, a time and its AM/PM or zone: the spaces between are no delimiters.
_TIMESTAMP = re.compile(
    r"(?<![\d./-])\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4} \d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?"
    r"(?: (?:[AaPp]\.?[Mm]\.?|UTC|GMT|[+-]\d{2}:?\d{2})(?![\w:]))?"
    r"|(?<![\d:])\d{1,2}:\d{2}(?::\d{2})? [AaPp]\.?[Mm]\.?(?!\w)"
)


def _share_in_timestamps(lines: list[str]) -> float:
    """Share of the spaces in ``lines``, outside double-quoted fields, that are inside a
    timestamp (between its date and time, or before its AM/PM or zone)."""
    total = inside = 0
    for quoted_line in lines:
        line = _QUOTED.sub('""', quoted_line)
        total += line.count(" ")
        inside += sum(match.group().count(" ") for match in _TIMESTAMP.finditer(line))
    return inside / total if total else 0.0


def _share_inside_values(lines: list[str], char: str) -> float:
    """Share of ``char``'s occurrences in ``lines``, outside double-quoted fields (where
    nothing delimits), that are inside a time or a date."""
    total = inside = 0
    for quoted_line in lines:
        line = _QUOTED.sub('""', quoted_line)
        total += line.count(char)
        inside += sum(match.group().count(char) for match in _TIME_OR_DATE.finditer(line))
    return inside / total if total else 0.0


def _spaced(lines: list[str], dialect: Dialect) -> bool:
    """Whether a space follows (nearly) every delimiter that ends no line, outside the
    fields ``dialect`` quotes: the file is written ``a, b, "c, d"``; or a field quoted
    after a delimiter and spaces holds the delimiter (``"a","b", "c, d"``), which the
    spaces before its quote would split."""
    delimiter, quote = dialect.delimiter, dialect.quotechar
    if delimiter.isspace() or not any(delimiter + " " in line for line in lines):
        return False
    d = re.escape(delimiter)
    quoted = None
    if quote is not None:
        q = re.escape(quote)
        quoted = re.compile(rf"(^|{d})( *){q}(?:[^{q}]|{q}{q})*{q}")
        field = rf"{q}(?:[^{q}]|{q}{q})*{d}(?:[^{q}]|{q}{q})*{q}"
        holding = re.compile(rf"{d} +{field} *(?:{d}|$)")
        if any(holding.search(line.rstrip("\r\n")) for line in lines):
            return True
    total = spaced = 0
    for raw_line in lines:
        line = raw_line if quoted is None else quoted.sub(r"\1\2''", raw_line)
        line = line.rstrip("\r\n")
        total += line.count(delimiter) - line.endswith(delimiter)
        spaced += line.count(delimiter + " ")
    return total >= 2 and spaced >= 0.9 * total


def _glued_every_line(lines: list[str], char: str) -> bool:
    """Whether ``char`` occurs the same number of times on every non-blank line (three or
    more), outside double-quoted fields, never beside a space nor between two digits:
    ``Ana Silva;Rua Augusta 2, Lisbon, PT``'s semicolon, as a delimiter is written and no
    punctuation is."""
    in_number = re.compile(rf"\d{re.escape(char)}\d")
    counts = []
    for quoted_line in lines:
        line = _QUOTED.sub('""', quoted_line).rstrip("\r\n")
        if not line.strip():
            continue
        if f"{char} " in line or f" {char}" in line or in_number.search(line):
            return False  # beside a space, or inside a number (``1,324.86``)
        counts.append(line.count(char))
    return len(counts) >= 3 and len(set(counts)) == 1 and counts[0] > 0


def _regularity(lines: list[str], char: str) -> float:
    """Share of lines where ``char`` occurs the modal number of times (at least once)."""
    counts = Counter(line.count(char) for line in lines)
    modal, hits = max(counts.items(), key=lambda item: (item[0] > 0, item[1]))
    return hits / len(lines) if modal > 0 else 0.0


def candidate_delimiters(lines: list[str], comment: str | None = None) -> list[tuple[str, float]]:
    """Delimiters worth scoring, with their priors: the primary ones present, and the
    other punctuation that occurs regularly across the lines."""
    present = set("".join(lines))
    primary = [(d, 1.0) for d in PRIMARY_DELIMITERS if d in present]
    others = [
        char
        for char in present
        if char not in PRIMARY_DELIMITERS
        and char not in _NEVER_DELIMITERS
        and char != comment
        and not char.isalnum()
        and (char.isprintable() or char in _CONTROL_DELIMITERS)
        and (char == " " or char in _CONTROL_DELIMITERS or not char.isspace())
    ]
    if not lines or (primary and sum(1 for line in lines if line.strip()) == 1):
        # One line shows no regular shape: a common delimiter in it is the delimiter, not
        # the spaces or colons of its text.
        return primary
    # A letter beyond ASCII is a delimiter only where it splits (nearly) every line into
    # the same three fields or more, one column of them values of a type
    # (``1êaêTrueê2015-11-04``, ``1997þFord``); not the ß of every line's "Weißstraße".
    others += [char for char in _twice_a_line(lines) if _steady(lines, char)]
    priors = {char: _delimiter_prior(char, lines) for char in others}
    ranked = sorted(
        ((_regularity(lines, char) * priors[char], char) for char in others), reverse=True
    )
    return primary + [
        (char, priors[char]) for score, char in ranked[:_MAX_OTHER_CANDIDATES] if score > 0
    ]


def _after_spaced(lines: list[str], spaced: set[str]) -> bool:
    """Whether (nearly) every space inside the lines, outside double-quoted fields,
    follows one of the ``spaced`` delimiters: the spaces belong to them (``a: b: c``)."""
    total = following = 0
    for quoted_line in lines:
        line = _QUOTED.sub('""', quoted_line).strip()
        total += line.count(" ")
        following += sum(line.count(delimiter + " ") for delimiter in spaced)
    return total > 0 and following >= 0.9 * total


def _candidates(lines: list[str], comment: str | None) -> list[tuple[Dialect, float]]:
    present = set("".join(lines))
    # A quote character that is present and costs nothing wins a tie over no quoting.
    quotes: list[str | None] = [*(q for q in QUOTE_CHARS if q in present), None]
    escapes: list[str | None] = [None, "\\"] if "\\" in present else [None]
    delimiters = candidate_delimiters(lines, comment)
    spaced = {
        (delimiter, quote)
        for delimiter, _ in delimiters
        for quote in quotes
        if quote != delimiter and _spaced(lines, Dialect(delimiter, quote))
    }
    if spaced and _after_spaced(lines, {delimiter for delimiter, _ in spaced}):
        # The space is part of another delimiter here, no delimiter of its own.
        delimiters = [(delimiter, prior) for delimiter, prior in delimiters if delimiter != " "]
    glued = {char for char in PRIMARY_DELIMITERS if _glued_every_line(lines, char)}
    # A delimiter followed by a space (``a, b``) where another common delimiter is glued to
    # its neighbours the same number of times on every line weighs half: the spaced one is
    # the punctuation of the text in the fields (an address's ``2, Lisbon, PT``).
    candidates = [
        (
            Dialect(delimiter, quote, escape, skipinitialspace=(delimiter, quote) in spaced),
            prior * (0.5 if (delimiter, quote) in spaced and glued - {delimiter} else 1.0),
        )
        for delimiter, prior in delimiters
        for quote in quotes
        if quote != delimiter
        for escape in escapes
    ]
    if any(delimiter == " " for delimiter, _ in delimiters) and _space_runs(lines):
        # Columns aligned with runs of spaces (a report, ``column -t``, a console table):
        # a run is one delimiter. After the single-space reading, which wins a tie.
        candidates += [
            (replace(dialect, skipinitialspace=True), prior)
            for dialect, prior in candidates
            if dialect.delimiter == " "
        ]
    return candidates


def _space_runs(lines: list[str]) -> bool:
    """Whether some line, outside double-quoted fields, holds two spaces in a row or
    starts with a space (a right-aligned first column)."""
    for quoted_line in lines:
        line = _QUOTED.sub('""', quoted_line).rstrip("\r\n")
        if line.strip() and ("  " in line.rstrip() or line.startswith(" ")):
            return True
    return False


def comment_char(lines: list[str]) -> str | None:
    """``#`` when the sample's first non-blank line starts with it (a comment block; also
    ``//`` or ``~`` and a space, there and on another line: ``~ Version 1.0``), or
    when two lines or more among the rows start with it and share none of the rows'
    delimiters (notes between the rows under a title), or some do (rows commented out,
    ``#4,5,6``) beside such a note and are fewer than the other lines. Not when no marked
    line is a note (``#1 Chinese Kitchen,21211``, a name) or most rows start with it
    (``#MR1220,...``, order numbers)."""
    for line in lines:
        stripped = line.lstrip("\ufeff")
        if stripped.strip():
            if stripped.startswith(COMMENT_CHAR):
                return COMMENT_CHAR
            for marker in OTHER_COMMENT_MARKERS:
                # "// notes" or "~ Version 1.0" opening the file, and a second such line;
                # not a row whose first cell is empty ("~ alpha~ 2024-10-11~ ...").
                rest = stripped[len(marker) :]
                opens = stripped.startswith(marker) and rest[:1] in " \r\n" and marker not in rest
                if opens and sum(line.lstrip("\ufeff").startswith(marker) for line in lines) > 1:
                    return marker
            break
    marked = [line for line in lines if line.lstrip("\ufeff").startswith(COMMENT_CHAR)]
    if len(marked) < 2:
        return None
    others = [line for line in lines if line.strip() and line not in marked]
    for delimiter, _ in candidate_delimiters(others, COMMENT_CHAR):
        counts = Counter(n for n in (line.count(delimiter) for line in others) if n)
        usual, hits = counts.most_common(1)[0] if counts else (0, 0)
        if usual and hits * 2 >= len(others):
            # The rows hold this delimiter regularly; notes hold none of it. Beside a
            # note, the marked lines that hold it are rows commented out, when fewer than
            # the rows; with no note they are rows ("#1 Chinese Kitchen,21211,...").
            notes = sum(delimiter not in line for line in marked)
            if notes == len(marked) or (notes and len(marked) < len(others)):
                return COMMENT_CHAR
            return None
    return None


def _commented_header(commented: list[str], rows: list[list[str]], dialect: Dialect) -> bool:
    """Whether the last comment line is the header behind a comment marker (``#id,name``:
    the marker against the first name, where a comment has a space), below any comments
    of a block that opens the file: it has the rows' usual width, reads as a header over
    them, and they have none of their own (geonames' ``#ISO<TAB>ISO3...`` under its notes)."""
    if not commented or len(rows) < 2:
        return False
    text = commented[-1].lstrip("\ufeff")[1:]
    if not text[:1] or text[:1].isspace():
        return False
    parsed = parse_sample([text], dialect)
    if not parsed:
        return False
    header = parsed[0]
    usual = Counter(len(row) for row in rows).most_common(1)[0][0]
    return len(header) == usual >= 2 and not detect_header(rows) and detect_header([header, *rows])


def _block_above_gap(rows: list[list[str]], numbers: list[int]) -> int:
    """How many rows a blank line parts from the table under them, when they are a few
    lines of facts (or more, all narrower than the table: a card statement's key and
    value lines) and the table starts with a header (readr's ``Apex,01/03/2021`` /
    ``96-well,`` over a blank line and ``x,y``); else 0. Never a block holding an email
    address, reading as a header over its own rows, or opening with the row under the gap
    (files appended to one another, each with its header)."""
    limit = min(len(rows) - 1, len(numbers) - 1, MAX_PREAMBLE_ROWS + 1)
    gap = next((i for i in range(1, limit) if numbers[i] - numbers[i - 1] > 1), 0)
    if not gap:
        return 0
    block, below = rows[:gap], rows[gap:]
    if any(_kind(cell) == "email" for row in block for cell in row):
        return 0
    if not all(len(row) < len(below[0]) for row in block):
        # As wide as the table: a few lines of facts, not a table's own header and rows.
        if gap > _MAX_BLOCK_ROWS or (len(block) > 1 and detect_header(block)):
            return 0
        if [cell.strip() for cell in block[0]] == [cell.strip() for cell in below[0]]:
            return 0
        if _rows_alike(block, below):
            return 0
    return gap if detect_header(below) else 0


def _rows_alike(block: list[list[str]], below: list[list[str]]) -> bool:
    """Whether every row of ``block`` is shaped like the rows under the first of ``below``
    (its width, a value in each column of the kind that column mostly holds), and that
    first row names no column the way headers do: rows of the table parted by a blank
    line (``INVALID_PARAMETER;Invalid parameter!;...`` over a gap and ``LOGIN_ERROR;
    Login error !;...``), not facts over it."""
    rows = below[1 : 1 + _ALIKE_ROWS]
    if not rows or any(map(is_known_header, below[0])):
        return False
    width = len(below[0])
    kinds = []
    for column in range(width):
        counts = Counter(_kind(row[column]) for row in rows if column < len(row))
        kinds.append(counts.most_common(1)[0][0] if counts else "empty")
    return all(
        len(row) == width and [_kind(cell) for cell in row] == kinds and "empty" not in kinds
        for row in block
    )


_ALIKE_ROWS = 20


_MAX_BLOCK_ROWS = 3


def _leading_block(lines: list[str], commented: list[str]) -> list[str]:
    """The comment lines, when they all open the sample (blank lines among them aside);
    else none: a comment further down is no place for a header."""
    block = []
    for line in lines:
        if not line.strip():
            continue
        if line not in commented:
            break
        block.append(line)
    return block if len(block) == len(commented) else []


def _marked_row(rows: list[list[str]], marker: str, comments: int) -> int | None:
    """The index of the last of the first ``comments`` rows that opens with ``marker``:
    the header, under the comments the file opens with."""
    found = None
    for index, row in enumerate(rows[:comments]):
        if row and row[0].lstrip("\ufeff").startswith(marker):
            found = index
    return found


def preamble_rows(rows: list[list[str]]) -> int:
    """How many non-blank records before the header are a title or preamble: the leading
    records much narrower than the file's usual width, and then those above a row of
    contact field names that hold no such name and no email address (a title with the
    table's number of commas: ``Contacts, exported 2024-05-01`` over ``name,email``)."""
    if len(rows) == 2 and _title_over_names(rows[0], rows[1]):
        return 1  # a header-only export under its title (``KNAB EXPORT;;;;``)
    if len(rows) < 3:
        return 0
    # A statement's facts and notes, a cell each, may outnumber the rows of a short
    # table under them (a payment app's 22 lines over 5 rows): the table's width and
    # fill are the rows' below them.
    lead = _leading_notes(rows)
    if lead > MAX_PREAMBLE_ROWS and not detect_header(rows[lead:]):
        lead = 0  # so many notes over no header: a list of one column, not a preamble
    body = rows[lead:] if len(rows) - lead >= 2 else rows
    widths = Counter(len(row) for row in body)
    usual, count = max(widths.items(), key=lambda item: (item[1], item[0]))
    # A statement's facts and section title, narrower than the table, sit above its
    # first wide row; one-cell rows count against a table only from there on.
    wide = next((index for index, row in enumerate(rows) if len(row) > usual // 2), 0)
    if usual < 2 or (
        count < len(body) / 2 and min(map(len, rows[max(lead, wide, 1) :]), default=0) < 2
    ):
        # No usual width to tell a title from (one column, or aligned text); ragged rows
        # of two cells or more under a first line of one are a table under its title.
        return 0
    filled = sorted(sum(1 for cell in row if cell.strip()) for row in body)
    narrow = 0
    for index, row in enumerate(rows[: max(MAX_PREAMBLE_ROWS, lead) + 1]):
        # A title saved from a sheet keeps the table's width in empty cells: one cell
        # filled, where the rows usually fill three or more, is narrow too.
        alone = (
            sum(1 for cell in row if cell.strip()) == 1
            and filled[len(filled) // 2] >= 3
            and not any(_kind(cell) == "email" for cell in row)  # a contact's address alone
        )
        if len(row) > usual // 2 and not alone:
            narrow = index
            break
    usual_filled = filled[len(filled) // 2]
    found = _named_header_below(rows, _full_header_below(rows, narrow, usual, usual_filled))
    return found + 1 if grouped_above(rows, found + 1) else found


def grouped_above(rows: list[list[str]], index: int) -> bool:
    """Whether the row above ``index`` fills its cells with one label repeated (a
    statistics office's ``;Stichtag;Stichtag;Stichtag``) and the row at ``index``, as
    wide, fills the same cells with as many different values (``;31.12.1995;31.12.1996``)
    and has rows under it: the label groups the columns that the row at ``index`` names,
    a header though its names are dates or figures."""
    if index < 1 or index + 1 >= len(rows):
        return False
    row, under = rows[index - 1], rows[index]
    filled = [n for n, cell in enumerate(row) if cell.strip()]
    labels = {row[n].strip().lower() for n in filled}
    named = [under[n].strip() for n in filled] if len(under) == len(row) else []
    return (
        len(filled) >= 2
        and len(labels) == 1
        and len(named) == len(filled)
        and all(named)
        and len(set(named)) == len(named)
    )


def _title_over_names(first: list[str], second: list[str]) -> bool:
    """Whether a file of two rows is a title over a header and no rows: the first fills
    one cell, the second three or more, every one a text that names (no number, date or
    address: a row of data has some)."""
    title = [cell for cell in first if cell.strip()]
    names = [cell.strip() for cell in second if cell.strip()]
    return (
        len(title) == 1
        and len(names) >= 3
        and all(_kind(cell) == "text" for cell in names)
        and len(set(names)) == len(names)
    )


def _leading_notes(rows: list[list[str]]) -> int:
    """How many rows open the sample filling one cell at most, none an address alone (a
    contact), or a label that ends in a colon and its value: a statement's title, facts
    (``Account: ana@x.pt``, ``"Von:";"01.01.2023";``) and notes."""
    count = 0
    for row in rows[:_MAX_LEADING_NOTES]:
        filled = [cell.strip() for cell in row if cell.strip()]
        fact = len(filled) == 2 and filled[0].endswith((":", "\uff1a"))
        if (len(filled) > 1 and not fact) or any(_ADDRESS.fullmatch(cell) for cell in filled):
            break
        count += 1
    return count


# A preamble of notes, a cell each, is at most this long (a payment app writes 22 lines).
_MAX_LEADING_NOTES = 60
# An address alone; a label and a colon (ASCII or fullwidth) before it make it a fact.
_ADDRESS = re.compile("[^\\s@:\uff1a]+@[^\\s@]+")


def _full_header_below(rows: list[list[str]], start: int, usual: int, usual_filled: int) -> int:
    """The index of the first full row from ``start`` (of the usual width, filling as many
    cells as rows usually fill), when every row above it (from ``start``) is narrower or
    fills fewer and holds no email address, and it reads as a header over the rows below:
    notes with a comma (``more notes,...`` over ``number,text,date``), a sheet's lines of
    facts (``File created by:,Sally,Brown,,,``); else ``start``."""
    for index in range(start, min(len(rows) - 1, MAX_PREAMBLE_ROWS + 1)):
        row = rows[index]
        cells = [cell for cell in row if cell.strip()]
        # A cross table's header leaves its corner empty, over the rows' labels.
        corner = bool(row) and not row[0].strip() and len(cells) == len(row) - 1
        if len(row) < usual or (len(cells) < usual_filled and not corner):
            if any(_kind(cell) == "email" for cell in cells):
                break  # a contact, not a note
            continue
        if index > start and len(row) == usual and detect_header(rows[index:]):
            return index
        break
    return start


# Cells a row of data holds and names of columns do not.
_DATA_KINDS = frozenset(("number", "date", "email"))


def _named_header_below(rows: list[list[str]], start: int) -> int:
    """The index of the first row from ``start`` that names contact fields (two, or one
    among column names), when the rows above it (from ``start``) name none and hold no
    email address (the row under it, when it names more columns and more fields: the
    first groups them, ``Contacto;;;Empresa;``); else ``start``."""
    for index in range(start, min(len(rows) - 1, MAX_PREAMBLE_ROWS + 1)):
        cells = [cell.strip() for cell in rows[index] if cell.strip()]
        known = sum(map(is_known_header, cells))
        # Names of columns hold no figures: a row of data may hold "Name" and "Surname".
        plain = not any(_kind(cell) in _DATA_KINDS for cell in cells)
        if known and plain:
            under = [cell.strip() for cell in rows[index + 1] if cell.strip()]
            if (
                len(under) > len(cells)
                and sum(map(is_known_header, under)) > known
                and not any(_kind(cell) in _DATA_KINDS for cell in under)
            ):
                return index + 1  # a row that groups the columns, over the one naming them
        if plain and (known >= 2 or (known and all(map(_is_label, cells)))):
            return index
        if any(is_known_header(cell) or _kind(cell) == "email" for cell in cells):
            return start
    return start


def detect_dialect(
    text: str, complete: bool, overrides: dict[str, object] | None = None
) -> DialectGuess:
    """Detect the dialect of a decoded sample; ``overrides`` (delimiter, quotechar,
    escapechar, has_header, skip_rows) win over detection."""
    overrides = overrides or {}
    lines = sample_lines(text, complete)
    # Excel's "sep=;" first line names the delimiter; it is not part of the data.
    declared = _SEP_LINE.fullmatch(lines[0].lstrip("\ufeff")) if lines else None
    by_file = bool(declared) and "delimiter" not in overrides
    if declared:
        lines = lines[1:]
        overrides = {"delimiter": declared.group(1), **overrides}
    comment = comment_char(lines)
    commented = [line for line in lines if line.lstrip("\ufeff").startswith(comment or "\0")]
    all_lines = lines
    if comment is not None:
        lines = [line for line in lines if not line.lstrip("\ufeff").startswith(comment)]
    forced_delimiter = overrides.get("delimiter")
    if forced_delimiter is not None:
        quote = overrides.get("quotechar", '"' if forced_delimiter != '"' else None)
        dialect = Dialect(
            str(forced_delimiter),
            None if quote is None else str(quote),
            _opt(overrides.get("escapechar")),
        )
        dialect = replace(dialect, skipinitialspace=_spaced(lines, dialect))
        method, confidence = "declared" if by_file else "override", 1.0
    else:
        scored = [
            (_score(lines, dialect) * prior, index, dialect)
            for index, (dialect, prior) in enumerate(_candidates(lines, comment))
        ]
        # Highest score; on a tie the earlier candidate (';' before ',', no escape first).
        scored.sort(key=lambda item: (-item[0], item[1]))
        if not scored or scored[0][0] <= 0:
            dialect, method, confidence = Dialect(",", '"'), "single-column", 0.0
        elif _one_field_a_line(lines, _ONE_QUOTED_FIELD) or _one_field_a_line(lines, _MAILBOX_LINE):
            # "Smith, Ana" or Ana Silva <ana@x.pt> on every line: one column, whatever
            # the quotes hold or the names' spaces.
            dialect, method, confidence = Dialect(",", '"'), "single-column", 1.0
        else:
            best, runner_up = scored[0][0], scored[1][0] if len(scored) > 1 else 0.0
            dialect = _escaped_if_equal(scored, lines)
            method = "detected"
            confidence = round(1.0 - runner_up / best, 3) if best else 0.0
            if _is_single_column(lines, dialect):
                # One value per line: quoted with '"' when lines open with one.
                opens = any(line.startswith('"') for line in lines)
                quote = '"' if opens or not any('"' in line for line in lines) else None
                dialect, method = Dialect(dialect.delimiter, quote), "single-column"
            elif _spaces_of_text(lines, dialect):
                # Names and words, as many a line as the text has: one value per line.
                absent = [
                    char for char in PRIMARY_DELIMITERS if not any(char in line for line in lines)
                ]
                dialect = Dialect(absent[0] if absent else ",", '"')
                method = "single-column"
        if "quotechar" in overrides:
            quote = overrides["quotechar"]
            dialect = replace(dialect, quotechar=None if quote is None else str(quote))
        elif dialect.quotechar is None and not any('"' in line for line in lines):
            # No quote in the lines scored: RFC 4180 quoting costs nothing there and reads
            # a quoted field further down the file right.
            dialect = replace(dialect, quotechar='"')
    dialect = _drawn(lines, replace(dialect, comment=comment))
    numbers, rows = numbered_sample(lines, dialect)
    leading = _leading_block(all_lines, commented)
    marked = None
    if comment == COMMENT_CHAR and leading and _commented_header(leading, rows, dialect):
        # "#id,name,email" over rows with no header: the header, written after a comment
        # marker; the comments above it are a preamble, and there are none below.
        header_marker, comment = comment, None
        dialect = replace(dialect, comment=None)
        numbers, rows = numbered_sample(all_lines, dialect)
        marked = _marked_row(rows, header_marker, len(leading))
    else:
        header_marker = None
    skip = overrides.get("skip_rows")
    if skip is not None:
        skip_rows = int(str(skip))
    elif marked is not None:
        skip_rows = marked
    else:
        skip_rows = preamble_rows(rows) or _block_above_gap(rows, numbers)
    header = overrides.get("has_header")
    has_header = (
        bool(header)
        if header is not None
        else grouped_above(rows, skip_rows) or detect_header(rows[skip_rows:])
    )
    if declared and skip is None:
        skip_rows += 1
    return DialectGuess(
        replace(
            dialect,
            has_header=has_header,
            skip_rows=skip_rows,
            comment=comment,
            header_marker=header_marker,
        ),
        confidence,
        method,
    )


def unmarked_header(rows: list[list[str]], dialect: Dialect) -> list[list[str]]:
    """The sample's rows with the header's first name freed of the comment marker it was
    written behind (and of the quotes a quoting tool put after the marker: ``#"Id"``)."""
    marker, index = dialect.header_marker, dialect.skip_rows
    if marker is None or not dialect.has_header or index >= len(rows) or not rows[index]:
        return rows
    name = rows[index][0].removeprefix(marker)
    if len(name) > 1 and name[0] == name[-1] and name[0] in "\"'":
        name = name[1:-1]
    return [*rows[:index], [name, *rows[index][1:]], *rows[index + 1 :]]


def _escaped_if_equal(scored: list[tuple[float, int, Dialect]], lines: list[str]) -> Dialect:
    """The best dialect; where the sample has backslash-escaped quotes (``\\"``) and
    escaping scores as well, the escaping one (a tie would otherwise keep the ``\\``)."""
    best_score, _, best = scored[0]
    if best.escapechar is not None or best.quotechar is None:
        return best
    if not any("\\" + best.quotechar in line for line in lines):
        return best
    for score, _, dialect in scored:
        if (
            score >= best_score
            and dialect.escapechar == "\\"
            and (dialect.delimiter, dialect.quotechar) == (best.delimiter, best.quotechar)
        ):
            return dialect
    return best


def _opt(value: object) -> str | None:
    return None if value is None else str(value)


# Fields that fill a line on their own, whatever delimiters they hold: a value in double
# quotes (``"Smith, Ana"``), and a mailbox as mail programs write it, a display name
# (quoted or bare) and an address in angle brackets (``Ana Silva <ana@x.pt>``).
_ONE_QUOTED_FIELD = re.compile(r'\ufeff?"(?:[^"]|"")*"\s*')
_MAILBOX_LINE = re.compile(r'\ufeff?\s*(?:"[^"]*"|[^,;\t|"<>]*)\s*<[^<>\s@]+@[^<>\s]+>\s*')


def _one_field_a_line(lines: list[str], field: re.Pattern[str]) -> bool:
    """Every line one ``field`` (two lines or more, none spanning lines), or bare, with
    no quote, angle bracket or usual delimiter (a header ``name`` or ``To`` over them)."""
    fields = 0
    for line in lines:
        if field.fullmatch(line):
            fields += 1
        elif line.strip() and any(char in line for char in (*PRIMARY_DELIMITERS, '"', "<")):
            return False
    return fields >= 2


def _spaces_of_text(lines: list[str], dialect: Dialect) -> bool:
    """Whether single spaces split the lines only where their text has words: as many
    fields as a line's name has words (``Acas Remigijus (3 / 0)``, ``Aleknaite Abramikiene
    Vilija (20 / 4)``; ``Ana Silva``, ``Bo da Cunha``), so the rows' lengths differ and no
    column holds values of a type. A table written with spaces keeps its columns: its rows
    are as long as one another, or longer by values of the same kinds (``A 3 0 5 10``)."""
    if dialect.delimiter != " " or dialect.skipinitialspace:
        return False
    rows = [row for row in parse_sample(lines, dialect) if any(cell.strip() for cell in row)]
    lengths = Counter(len(row) for row in rows)
    if len(rows) < _TEXT_ROWS or len(lengths) < 2:
        return False
    usual = lengths.most_common(1)[0][1]
    if usual > len(rows) * _STEADY_SHARE:
        return False
    width = min(lengths)
    # A column of values of a type in rows of every length keeps them a table; one that
    # shifts with the words before it (``Gil Ng gil@x.pt``, ``Bo da Cunha bo@x.pt``) is
    # the text's last word: each line a mailbox.
    return not any(
        all(_typed_share([row[index] for row in rows if len(row) == length]) for length in lengths)
        for index in range(width)
    )


def _typed_share(cells: list[str]) -> bool:
    """Whether most (four in five) of the filled cells are values of a type."""
    kinds = [_kind(cell.strip().strip('"')) for cell in cells if cell.strip().strip('"')]
    return bool(kinds) and sum(kind not in ("text", "empty") for kind in kinds) >= 0.8 * len(kinds)


# How many rows show that a line's words are its fields; the share of rows of one length
# above which the lines are a table's, however many words some hold.
_TEXT_ROWS = 5
_STEADY_SHARE = 0.95


def _is_single_column(lines: list[str], dialect: Dialect) -> bool:
    rows = parse_sample(lines, dialect)
    rows = rows[preamble_rows(rows) :]  # a statement's notes over its table are no column
    return bool(rows) and sum(len(row) > 1 for row in rows) < len(rows) * 0.5


def _kind(cell: str) -> str:
    value = cell.strip()
    if not value:
        return "empty"
    if _NUMBERISH.fullmatch(value):
        return "number"
    if _DATEISH.match(value):
        return "date"
    if "@" in value and (" " not in value or _MAILBOX_LINE.fullmatch(value)):
        return "email"  # an address, or a mailbox: Ana Silva <ana@x.pt>
    if value.startswith(("http://", "https://", "www.")):
        return "url"
    if value.lower() in _TRUTH_VALUES:
        return "truth"  # TRUE/FALSE, yes/no: a sheet's check boxes
    return "text"


_TRUTH_VALUES = frozenset(("true", "false", "yes", "no"))


def _is_label(cell: str) -> bool:
    """Whether a cell reads as a column's name (``Email``, ``zip_code``, ``createdAt``)."""
    if len(cell) > 30:
        return False
    tokens = _LABEL_TOKEN.findall(unicodedata.normalize("NFKD", cell))
    return 0 < len(tokens) <= 3 and any(token.lower() in _LABEL_WORDS for token in tokens)


def _numbered_columns(first: list[str], body: list[list[str]]) -> set[int]:
    """The columns the first row numbers: runs of consecutive integers, years (``2019,
    2020``: a table by year) or three or more (``1, 2, 3``), when the rows below do not
    count along the same columns (a table of numbers whose first row happens to)."""

    def runs(row: list[str]) -> set[int]:
        found: set[int] = set()
        run: list[int] = []
        for index, cell in enumerate([*row, ""]):
            value = int(cell) if _INTEGER.fullmatch(cell.strip()) else None
            if run and value is not None and value == int(row[run[-1]]) + 1:
                run.append(index)
                continue
            if len(run) >= 3 or (len(run) == 2 and _YEARS[0] <= int(row[run[0]]) <= _YEARS[1]):
                found.update(run)
            run = [index] if value is not None else []
        return found

    numbered = runs(first)
    if not numbered or not body:
        return set()
    counting = sum(1 for row in body if runs(row) & numbered)
    return numbered if counting <= len(body) * 0.1 else set()


def _one_letter(cell: str) -> str:
    """The kind of the letter a cell holds alone (``A`` and ``B``, a classification's
    sections, are of one kind; ``a`` and ``あ`` are not), else ``""``."""
    value = cell.strip()
    if len(value) != 1 or not value.isalpha():
        return ""
    return _character_kind(value) + unicodedata.name(value, "").split(" ")[0]  # its script


def _shape(cell: str) -> str:
    """A cell with each run of digits written as one ``0`` (``1+1=`` and ``12+3=`` alike)."""
    return _DIGITS.sub("0", cell.strip())


_DIGITS = re.compile(r"\d+")
# Around the header's names met again: white space, and a byte-order mark (a file
# appended with its own: ``cat`` of two Excel exports).
HEADER_STRIP = string.whitespace + "\ufeff"
_INTEGER = re.compile(r"[-+]?\d{1,9}")
_YEARS = (1800, 2100)


def detect_header(rows: list[list[str]]) -> bool:
    """Whether the first row names the columns: a vote over columns, each comparing the
    first cell with the kind and shape of the cells below it."""
    if len(rows) < 2:
        # One row alone: a header if it is all labels (a header-only file).
        return bool(rows) and all(_kind(cell) == "text" for cell in rows[0] if cell.strip())
    first = rows[0]
    # The first row met again below (files appended to one another, each with its
    # header) is the header repeated, no evidence about the data.
    again = [cell.strip(HEADER_STRIP) for cell in first]
    body = [row for row in rows[1:] if [cell.strip(HEADER_STRIP) for cell in row] != again] or rows[
        1:
    ]
    width = len(first)
    votes = 0
    if any(
        is_known_header(cell) and not _names_below(body, column)
        for column, cell in enumerate(first)
    ):
        votes += 2
    labels = [cell.strip() for cell in first if cell.strip()]
    if len(labels) != len(set(labels)):
        votes -= 1
    elif (
        labels
        and sum(_is_label_over(body, column, cell) for column, cell in enumerate(first)) * 2
        >= width
    ):
        body_cells = {cell.strip() for row in body for cell in row}
        if not body_cells.intersection(labels):
            votes += 1
    numbered = _numbered_columns(first, body)
    for column in range(width):
        header_cell = first[column]
        header_kind = _kind(header_cell)
        if column in numbered:
            votes += 1  # 2019, 2020, 2021 over the figures of each year
            continue
        below = [row[column] for row in body if column < len(row) and row[column].strip()]
        if not below:
            continue
        kinds = Counter(_kind(cell) for cell in below)
        dominant, count = kinds.most_common(1)[0]
        if count < len(below) * 0.6:
            continue
        if header_kind == "empty":
            continue
        # A value like one below but for its digits (Sala 1 over Sala 2) names nothing;
        # nor does a letter alone over codes among which other letters stand alone (a
        # classification's section A over 01, 011, 0111, then B, 05...).
        letter = _one_letter(header_cell)
        like_below = _shape(header_cell) in {_shape(cell) for cell in below} or (
            bool(letter) and letter in {_one_letter(cell) for cell in below}
        )
        if dominant != "text":
            # An email address is never a column's name: that row is data.
            same = -2 if dominant == "email" else -1
            votes += same if like_below or header_kind == dominant else 1
        elif header_kind == "text" and not like_below:
            # Distinct values of one length (codes) under a first value of another; of the
            # values, not of the spaces padding them before a delimiter.
            # Or a name in another script than the values it names.
            values = {cell.strip() for cell in below}
            lengths = {len(value) for value in values}
            coded = len(lengths) == 1 and len(values) > 1
            if (coded and len(header_cell.strip()) not in lengths) or _written_apart(
                header_cell, below
            ):
                votes += 1
        else:
            votes -= 1
    if votes == 0:
        return _names_row(first, body)
    return votes > 0


def _written_apart(label: str, below: list[str]) -> bool:
    """Whether ``label`` is written in letters of a script that nearly none of the cells
    below uses (``a`` over ``ア``, ``Name`` over ``山田``, ``Имя`` over ``Ivan``): a name
    given in another language than the values it names."""
    own = _scripts(label)
    apart = sum(1 for cell in below if (scripts := _scripts(cell)) and not scripts & own)
    return bool(own) and apart >= len(below) * _APART_SHARE


_APART_SHARE = 0.8


def _scripts(cell: str) -> frozenset[str]:
    """The scripts of a cell's letters (Chinese characters and kana are one)."""
    return frozenset(script_of(char) for char in cell if char.isalpha())


def _names_below(body: list[list[str]], column: int) -> bool:
    """Whether a quarter or more of the cells below are names of fields themselves (a
    mapping of field names, ``Vorname, ADR_strFirstName``): a name over them is one more."""
    below = _filled_below(body, column)
    return bool(below) and sum(map(is_known_header, below)) * 4 >= len(below)


def _filled_below(body: list[list[str]], column: int) -> list[str]:
    """The filled cells of ``column`` in the rows, stripped."""
    return [row[column].strip() for row in body if column < len(row) and row[column].strip()]


def _names_row(first: list[str], body: list[list[str]]) -> bool:
    """Where no column tells, whether the first row still reads as names: two or more
    distinct short texts, none empty but a corner over the rows' keys and a cell over a
    column as empty (a translation table's ``,en,ru,de,,notes``), in a row unlike the rows
    below in at least half of its columns and opening as they do in none (nearly every list
    a person exports has a header; a list of codes or phrases whose first row is one more of
    the same has none)."""
    named = [
        (column, cell.strip())
        for column, cell in enumerate(first)
        if cell.strip() or not (column == 0 or _empty_column(body, column))
    ]
    labels = [label for _, label in named]
    if len(labels) < 2 or len(set(labels)) < len(labels):
        return False
    if not all(_kind(cell) == "text" and len(cell) <= _NAME_CHARS for cell in labels):
        return False
    if any(", " in label for label in labels):
        return False  # a list in a cell (``Baker Street 2, Lisbon, UK``) is a phrase, data
    words = {word for label in labels for word in _NAME_WORD.findall(label.lower())}
    below_words = {
        word for row in body for cell in row for word in _NAME_WORD.findall(cell.lower())
    }
    if len(words & below_words) * 2 > len(words):
        return False  # the first row's words are the data's own words
    alike = 0
    for column, label in named:
        below = _filled_below(body, column)
        if _opens_like(label, below):
            return False  # one of the cells below, not their name
        signs = Counter(_characters(cell) for cell in below)
        if below and (
            signs[_characters(label)] >= len(below) * 0.6 or _punctuated_alike(label, below)
        ):
            alike += 1
    return alike * 2 <= len(labels)


def _punctuated_alike(label: str, below: list[str]) -> bool:
    """Whether ``label`` is written with the marks that part the cells below (``ichi|itsu``
    over ``ni|ji``, ``hito-tsu`` over ``futa-tsu``): it holds a character other than a
    letter, digit or space that a quarter or more of them hold, and no kind of character
    that none of them holds."""
    marks = {char for char in label if not (char.isalnum() or char.isspace())}
    if not marks:
        return False
    kinds = set().union(*(_characters(cell) for cell in below))
    if not _characters(label) <= kinds:
        return False
    return any(sum(mark in cell for cell in below) >= len(below) * 0.25 for mark in marks)


def _opens_like(label: str, below: list[str]) -> bool:
    """Whether ``label`` opens with the same characters as most of the (stripped) cells
    below it (``ADR_strSalut`` over ``ADR_strFirstName``, ``ADR_strCity``...): one of them."""
    prefix = label.strip()[:_PREFIX_CHARS]
    opening = sum(cell.startswith(prefix) for cell in below)
    return len(prefix) == _PREFIX_CHARS and bool(below) and opening >= len(below) * 0.6


def _is_label_over(body: list[list[str]], column: int, cell: str) -> bool:
    """Whether the first row's ``cell`` reads as a label (``first_name``) and does not open
    as the cells below it do."""
    label = cell.strip()
    return bool(label) and _is_label(label) and not _opens_like(label, _filled_below(body, column))


# A first cell opening with the same characters as most cells below (this many) is a value.
_PREFIX_CHARS = 4


def _empty_column(body: list[list[str]], column: int) -> bool:
    """Whether the rows hold nothing in ``column``."""
    return not _filled_below(body, column)


def _characters(cell: str) -> frozenset[str]:
    """The kinds of character a cell is written with: capitals, small letters, digits,
    spaces, and each other character itself (``Ana Silva`` and ``da Silva`` alike)."""
    return frozenset(map(_character_kind, cell))


def _character_kind(char: str) -> str:
    if char.isalpha():
        return "A" if char.isupper() else "a"
    if char.isdigit():
        return "0"
    return " " if char.isspace() else char


_NAME_WORD = re.compile(r"\w{2,}")
_NAME_CHARS = 30  # a column's name is short; a longer first cell is a phrase, data
