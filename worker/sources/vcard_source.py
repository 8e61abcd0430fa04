"""The vCard row source: an address book exported from a phone, iCloud, Google or Outlook
(``.vcf``, vCard 2.1, 3.0 or 4.0), one contact a card. Each card is a row under columns of
its own making (name, email, phone, company...), numbered by the line its ``BEGIN:VCARD``
is on; the text is decoded and read a slice at a time, as a CSV file is.

What a card says is taken as a person means it: the structured name (``N``) for the first
and last name, else the formatted one (``FN``) split; the preferred email and phone first
(``PREF``, ``TYPE=pref``), the others kept in columns of their own; escapes (``\\,``),
folded lines and vCard 2.1's quoted-printable values undone.
"""

from __future__ import annotations

import quopri
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

from worker.sources.encoding import IncrementalTextDecoder
from worker.sources.rows import Detection, RowBatch, detect_layout
from worker.sources.text_source import Head, TextSource
from worker.validation.normalise import split_full_name

COLUMNS = [
    "First name",
    "Last name",
    "Full name",
    "Email",
    "Phone",
    "Company",
    "Title",
    "Other emails",
    "Other phones",
]
# A property line: its group (``item1.``), name, parameters and value.
_PROPERTY = re.compile(r"(?:[\w-]+\.)?([\w-]+)((?:;[^:]*)?):(.*)", re.DOTALL)
_ESCAPE = re.compile(r"\\(.)")
_LINE_END = re.compile(r"(\r\n|\r|\n)")
# A property's line is kept up to this many characters (a photo's are megabytes).
MAX_LINE_CHARS = 1 << 20


def _unescape(value: str) -> str:
    return _ESCAPE.sub(lambda match: "\n" if match.group(1) in "nN" else match.group(1), value)


def _components(value: str) -> list[str]:
    """A structured value's parts (``N``, ``ORG``): split at ``;`` that are not escaped."""
    return [_unescape(part).strip() for part in re.split(r"(?<!\\);", value)]


@dataclass
class _Card:
    line: int  # the line of its BEGIN:VCARD, from 1
    names: list[str] = field(default_factory=list)  # N's parts
    formatted: str = ""
    emails: list[tuple[bool, str]] = field(default_factory=list)  # (preferred, address)
    phones: list[tuple[bool, str]] = field(default_factory=list)
    company: str = ""
    title: str = ""

    def row(self) -> list[str]:
        family, given = [*self.names, "", ""][:2]
        if not family and not given and self.formatted:
            given, family = split_full_name(self.formatted)
        emails = [value for _, value in sorted(self.emails, key=lambda item: not item[0])]
        phones = [value for _, value in sorted(self.phones, key=lambda item: not item[0])]
        return [
            given,
            family,
            self.formatted or " ".join(part for part in (given, family) if part),
            emails[0] if emails else "",
            phones[0] if phones else "",
            self.company,
            self.title,
            ", ".join(emails[1:]),
            ", ".join(phones[1:]),
        ]


def _value(params: str, value: str, charset: str) -> str:
    """A property's value as text: quoted-printable undone (vCard 2.1), in its charset."""
    upper = params.upper()
    if "QUOTED-PRINTABLE" in upper:
        found = re.search(r"CHARSET=([\w-]+)", params, re.IGNORECASE)
        raw = quopri.decodestring(value.encode(charset, errors="replace"))
        try:
            return raw.decode(found.group(1) if found else charset, errors="replace")
        except LookupError:
            return raw.decode(charset, errors="replace")
    return value


class VcardReader:
    """Cards from text fed a slice at a time: unfolds lines, parses properties."""

    def __init__(self, charset: str) -> None:
        self.charset = charset
        self.line = 0
        self._tail = ""
        # A logical line still to unfold: its number and its pieces, and their length.
        self._pending: tuple[int, list[str]] | None = None
        self._length = 0
        self._card: _Card | None = None

    def feed(self, text: str, final: bool = False) -> list[_Card]:
        """The cards completed by ``text`` (all that is left, when ``final``). Lines are
        counted the same however the text is cut into slices."""
        cards: list[_Card] = []
        parts = _LINE_END.split(self._tail + text)
        # parts: line, end, line, end, ..., what follows the last end.
        self._tail = parts.pop()[:MAX_LINE_CHARS]  # no contact field is longer
        if not final and parts and parts[-1] == "\r" and not self._tail:
            self._tail = parts.pop(-2) + parts.pop()  # a CR whose LF may come next
        if final and self._tail:
            parts += [self._tail, ""]
            self._tail = ""
        for line in parts[::2]:
            self.line += 1
            pending = self._pending
            if pending is not None and line[:1] in (" ", "\t"):
                self._extend(pending[1], line[1:])  # a folded line goes on
                continue
            if (
                pending is not None
                and pending[1][-1].endswith("=")
                and "QUOTED-PRINTABLE" in pending[1][0].split(":", 1)[0].upper()
            ):
                # vCard 2.1's soft line break: the value goes on in this line.
                pending[1][-1] = pending[1][-1][:-1]
                self._extend(pending[1], line)
                continue
            self._take(cards)
            self._pending, self._length = (self.line, [line]), len(line)
        if final:
            self._take(cards)
            if self._card is not None:  # the file ends inside a card: what it holds
                cards.append(self._card)
                self._card = None
        return cards

    def _extend(self, pieces: list[str], more: str) -> None:
        # A photo folded over thousands of lines is no contact field: kept up to a bound,
        # and joined once (adding to one string each line took minutes for a 5 MB photo).
        if self._length < MAX_LINE_CHARS:
            pieces.append(more)
            self._length += len(more)

    def _take(self, cards: list[_Card]) -> None:
        if self._pending is None:
            return
        number, pieces = self._pending
        line = "".join(pieces)
        self._pending = None
        match = _PROPERTY.fullmatch(line.lstrip("\ufeff"))
        if match is None:
            return
        name, params, value = match.group(1).upper(), match.group(2), match.group(3)
        if name == "BEGIN" and value.strip().upper() == "VCARD":
            self._card = _Card(number)
            return
        card = self._card
        if card is None:
            return
        if name == "END" and value.strip().upper() == "VCARD":
            cards.append(card)
            self._card = None
            return
        value = _value(params, value, self.charset)
        preferred = "PREF" in params.upper()
        if name == "N":
            card.names = _components(value)
        elif name == "FN":
            card.formatted = _unescape(value).strip()
        elif name == "EMAIL" and value.strip():
            card.emails.append((preferred, _unescape(value).strip()))
        elif name == "TEL" and value.strip():
            card.phones.append((preferred, _unescape(value).strip().removeprefix("tel:")))
        elif name == "ORG":
            card.company = next((part for part in _components(value) if part), "")
        elif name == "TITLE":
            card.title = _unescape(value).strip()


class VcardSource(TextSource):
    """Rows of a vCard file, a card a row; open with :meth:`open`."""

    @classmethod
    def _detect(cls, head: Head, options: dict[str, Any]) -> Detection:
        """The columns and mapping from the cards of the head's text."""
        cards = VcardReader(head.encoding.python_codec).feed(head.text, head.complete)
        sample = [row for row in (card.row() for card in cards) if any(row)]
        detection = detect_layout(
            "vcard",
            [COLUMNS, *sample],
            list(range(1, len(sample) + 2)),
            0,
            True,
            options=options,
        )
        detection.header_number = None  # the columns are the cards' fields, no row's
        return detection

    async def batches(self) -> AsyncIterator[RowBatch]:
        """The cards as rows, ``batch_rows`` at a time (fewer in the last batch)."""
        decoder = IncrementalTextDecoder(self._encoding)
        reader = VcardReader(self._encoding.python_codec)
        batch = RowBatch([], [], {})

        def take(cards: list[_Card]) -> Iterator[RowBatch]:
            nonlocal batch
            for card in cards:
                row = card.row()
                if not any(row):
                    continue  # a card with nothing of a contact is a blank row
                batch.numbers.append(card.line)
                batch.rows.append(row)
                if len(batch.rows) >= self.batch_rows:
                    yield batch
                    batch = RowBatch([], [], {})

        async for text in self._texts(decoder):
            for rows in take(reader.feed(text)):
                yield rows
        for rows in take(reader.feed("", final=True)):
            yield rows
        if batch.rows:
            yield batch
