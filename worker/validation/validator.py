"""The row validator: a batch of a file's rows becomes staging values and issues; bad data
becomes issue values, never exceptions.

For each row: the deterministic row hash, the mapped fields trimmed and normalised (see
:mod:`worker.validation.normalise`), and the problems (see :mod:`worker.validation.rules`):
required fields missing, email syntax and length, field lengths, control and invisible
characters. The hot path runs per row for millions of rows, so it works column by column
and avoids per-row work that a C-level check can rule out.
"""

from __future__ import annotations

import operator
import re
import struct
from collections.abc import Mapping, Sequence
from itertools import chain, compress
from typing import Any
from uuid import UUID

import xxhash

from worker.model import (
    CONTACT_FIELDS,
    FULL_NAME,
    REQUIRED_DEFAULT,
    IssueType,
    RowIssue,
    RowStatus,
    StagedRows,
    encode_raws,
)
from worker.validation.normalise import (
    collapse_spaces,
    needs_collapse,
    normalise_name,
    normalize_email,
    phones_e164,
    split_full_name,
)
from worker.validation.rules import (
    CONTROL_CHARS,
    EMAIL_DOT_ATOM,
    EMAIL_LOCAL_MAX_CHARS,
    FIELD_MAX_CHARS,
    INVISIBLE_CHARS,
    SUSPECT_CHARS,
    email_problem,
    mailbox_address,
)

_ROW_NUMBER = struct.Struct(">I")
# A long number in a column too narrow for it is shown by Excel in scientific notation, and
# a CSV saved from the sheet keeps that text: 3.51912E+11 (3,51912E+11 in a comma locale)
# is a phone whose last digits are gone.
_SCIENTIFIC = re.compile(r"[+-]?\d+(?:[.,]\d+)?[eE]\+?\d+")
_SCIENTIFIC_PHONE = (
    "the phone is a number in scientific notation (as a spreadsheet shows a long number in "
    "a narrow column): its last digits are lost; format the column as text in the "
    "spreadsheet and export it again, or edit the phone"
)


def excel_text(values: list[str]) -> list[str]:
    """Values freed of the formula files made for Excel wrap them in to keep them as text
    (``="0912345678"``, a leading zero kept): the text inside. One C-level search rules a
    batch out."""
    if '="' not in "\x1f".join(values):
        return values
    return [
        value[2:-1].strip() if len(value) > 2 and value[:2] == '="' and value[-1] == '"' else value
        for value in values
    ]


# Google Contacts writes a field's several values in one cell, " ::: " between them.
_SEVERAL = " ::: "


def first_of_several(values: list[str]) -> list[str]:
    """Values freed of the others Google Contacts writes in the same cell (``ana@home.pt
    ::: ana@acme.pt``): the first, the one it lists first. One C-level search rules a batch
    out."""
    if _SEVERAL not in "\x1f".join(values):
        return values
    return [value.split(_SEVERAL, 1)[0].strip() for value in values]


class RowValidator:
    """Validates and normalises rows for one job: ``columns`` maps each contact field to
    its cell's index (the column mapping), ``options`` are the job's."""

    def __init__(
        self,
        job_id: UUID,
        columns: Mapping[str, int],
        headers: Sequence[str],
        options: dict[str, Any] | None = None,
    ) -> None:
        options = options or {}
        self.job_prefix = job_id.bytes
        self.columns = dict(columns)
        # A whole name's column, split for the parts no column holds.
        self.splits_full_name = FULL_NAME in self.columns and not (
            "first_name" in self.columns and "last_name" in self.columns
        )
        self.headers = list(headers)
        required = options.get("required_fields", REQUIRED_DEFAULT)
        self.required = tuple(str(name) for name in required)
        self.strip_accents = bool(options.get("strip_accents", False))
        region = options.get("default_country")
        self.region = str(region).upper() if region else None

    def row_hash(self, number: int, raw: str) -> bytes:
        """Row number (big-endian, so the unique index grows at its end) and 12 bytes of
        xxh3-128 over the job id, row number and content."""
        prefix = number.to_bytes(4, "big")
        digest = xxhash.xxh3_128_digest(
            self.job_prefix + prefix + raw.encode("utf-8", "surrogatepass")
        )
        return prefix + digest[:12]

    def validate(self, number: int, cells: Sequence[str]) -> tuple[tuple[Any, ...], list[RowIssue]]:
        """The staging values of one row (see :data:`STAGING_COLUMNS`) and its issues."""
        records, issues = self.validate_batch([number], [list(cells)])
        return records[0], issues

    def validate_batch(
        self,
        numbers: Sequence[int],
        rows: Sequence[Sequence[str]],
        problems: dict[int, list[RowIssue]] | None = None,
    ) -> tuple[list[tuple[Any, ...]], list[RowIssue]]:
        """Staging records (see :data:`STAGING_COLUMNS`) and issues for a batch of rows."""
        staged, issues = self.validate_columns(numbers, rows, problems)
        return staged.records(), issues

    def validate_columns(
        self,
        numbers: Sequence[int],
        rows: Sequence[Sequence[str]],
        problems: dict[int, list[RowIssue]] | None = None,
    ) -> tuple[StagedRows, list[RowIssue]]:
        """The staging values of a batch of rows, column by column, and their issues.

        Column by column with C-level passes (``map``, ``in``, ``max``, one regex over the
        whole batch); per-row Python work only where such a pass says a row needs it.
        ``problems`` are issues found while reading the rows; they make a row ISSUE too.
        """
        count = len(rows)
        width = min(map(len, rows), default=0)
        columns = {name: self._column(rows, name, width) for name in CONTACT_FIELDS}
        if self.splits_full_name:
            columns[FULL_NAME] = self._column(rows, FULL_NAME, width)
        # The batch's fields as one text: C-level searches of it rule out the rarer shapes
        # (and the characters) that need a look at each value.
        joined = "".join(chain.from_iterable(columns.values()))
        if '="' in joined:
            # Systems that make files for Excel wrap values in ="..." (a phone's leading
            # zero, or every cell): the text inside.
            columns = {name: excel_text(values) for name, values in columns.items()}
        if self.splits_full_name:
            firsts, lasts = zip(*map(split_full_name, columns.pop(FULL_NAME)), strict=True)
            for name, parts in (("first_name", firsts), ("last_name", lasts)):
                if name not in self.columns:
                    columns[name] = list(parts)
        if _SEVERAL in joined:
            for name in ("email", "phone"):
                columns[name] = first_of_several(columns[name])
        issues: list[RowIssue] = []
        if "E+" in "\x1f".join(columns["phone"]).upper():
            issues += [
                RowIssue(numbers[i], IssueType.INVALID_PHONE, "phone", _SCIENTIFIC_PHONE)
                for i, value in enumerate(columns["phone"])
                if _SCIENTIFIC.fullmatch(value.strip())
            ]
        emails = columns["email"]
        columns["first_name"] = self._names(columns["first_name"])
        columns["last_name"] = self._names(columns["last_name"])
        columns["company"] = collapse_spaces(columns["company"])
        for name in self.required:
            values = columns.get(name)
            if values is None or "" not in values:
                continue
            label = name.replace("_", " ")
            issues += [
                RowIssue(
                    numbers[i], IssueType.MISSING_FIELD, name, f"{label} is required but empty"
                )
                for i, value in enumerate(values)
                if not value
            ]
        # Rows the dot-atom pattern rejects, plus any with a long local part (the pattern
        # does not count); email_problem has the last word on each.
        suspects = list(
            compress(range(count), map(operator.not_, map(EMAIL_DOT_ATOM.fullmatch, emails)))
        )
        if max(map(len, emails), default=0) > EMAIL_LOCAL_MAX_CHARS:
            suspects = sorted(
                {
                    *suspects,
                    *(i for i, email in enumerate(emails) if len(email) > EMAIL_LOCAL_MAX_CHARS),
                }
            )
        for i in suspects:
            email = emails[i]
            address = mailbox_address(email) if email else None
            if address is not None:
                # "Ana Silva <ana@x.pt>", "mailto:ana@x.pt": the address is the email (the
                # raw cells keep what the file said).
                emails[i] = email = address
            problem = email_problem(email) if email else None
            if problem:
                issues.append(RowIssue(numbers[i], IssueType.INVALID_EMAIL, "email", problem))
        for name, limit in FIELD_MAX_CHARS.items():
            values = columns[name]
            if max(map(len, values), default=0) <= limit:
                continue
            label = name.replace("_", " ")
            issues += [
                RowIssue(
                    numbers[i],
                    IssueType.FIELD_TOO_LONG,
                    name,
                    f"{label} has {len(value)} characters, more than {limit}",
                )
                for i, value in enumerate(values)
                if len(value) > limit
            ]
        # One regex pass over the whole batch's fields (as read: normalising adds no such
        # character); rows only if it finds any.
        suspect = SUSPECT_CHARS.search(joined) is not None
        if suspect and CONTROL_CHARS.search(joined):
            for name, values in columns.items():
                for i, value in enumerate(values):
                    if CONTROL_CHARS.search(value):
                        issues.append(
                            RowIssue(
                                numbers[i],
                                IssueType.CONTROL_CHARACTERS,
                                name,
                                f"{name.replace('_', ' ')} holds control "
                                "characters (invisible bytes)",
                            )
                        )
                        values[i] = CONTROL_CHARS.sub("\ufffd", value)
        if suspect and INVISIBLE_CHARS.search(joined):
            for name, values in columns.items():
                for i, value in enumerate(values):
                    found = sorted(set(INVISIBLE_CHARS.findall(value)))
                    if found:
                        codes = ", ".join(f"U+{ord(char):04X}" for char in found)
                        issues.append(
                            RowIssue(
                                numbers[i],
                                IssueType.CONTROL_CHARACTERS,
                                name,
                                f"{name.replace('_', ' ')} holds invisible or text-direction "
                                f"characters ({codes}), which can make it look like another",
                            )
                        )
        raws = encode_raws(rows)
        hashes = self._hashes(numbers, raws)
        phones = columns["phone"]
        e164 = phones_e164(phones, self.region)
        if problems:
            issues += [issue for number in numbers for issue in problems.get(number, ())]
        flagged = {issue.row_number for issue in issues}
        status = (
            [RowStatus.ISSUE if number in flagged else RowStatus.READY for number in numbers]
            if flagged
            else [RowStatus.READY] * count
        )
        staged = StagedRows(
            list(numbers),
            hashes,
            raws,
            emails,
            list(map(normalize_email, emails)),
            columns["first_name"],
            columns["last_name"],
            columns["company"],
            phones,
            e164,
            status,
        )
        return staged, issues

    def _hashes(self, numbers: Sequence[int], raws: list[str]) -> list[bytes]:
        """:meth:`row_hash` of each row, in C-level passes where the text allows."""
        heads = list(map(_ROW_NUMBER.pack, numbers))
        try:
            data = list(map(str.encode, raws))
        except UnicodeEncodeError:  # a lone surrogate: kept as its UTF-8-like bytes
            data = [raw.encode("utf-8", "surrogatepass") for raw in raws]
        prefix = self.job_prefix
        digest = xxhash.xxh3_128_digest
        return [
            head + digest(prefix + head + content)[:12]
            for head, content in zip(heads, data, strict=True)
        ]

    @classmethod
    def for_fields(cls, job_id: UUID, options: dict[str, Any] | None = None) -> RowValidator:
        """A validator of rows given as their fields in :data:`CONTACT_FIELDS` order (the
        staging values a person may have edited), for reprocessing."""
        columns = {name: index for index, name in enumerate(CONTACT_FIELDS)}
        return cls(job_id, columns, CONTACT_FIELDS, options)

    def revalidate(
        self, numbers: Sequence[int], fields: Sequence[Sequence[str | None]]
    ) -> tuple[list[tuple[Any, ...]], list[RowIssue]]:
        """Re-run the row-local rules and normalisation on staging fields (a validator
        from :meth:`for_fields`): per row ``(row_number, email, email_normalized,
        first_name, last_name, company, phone, phone_e164)``, and the problems found.
        Normalising is idempotent, so an unedited row comes back as it was."""
        rows = [[value or "" for value in row] for row in fields]
        records, issues = self.validate_batch(numbers, rows)
        # Staging record -> the fields only (no hash, raw or status: those stay as read).
        return [(record[0], *record[3:10]) for record in records], issues

    def _column(self, rows: Sequence[Sequence[str]], name: str, width: int) -> list[str]:
        index = self.columns.get(name)
        if index is None:
            return [""] * len(rows)
        if width > index:  # every row has the cell (rows come at the header's width)
            return list(map(str.strip, map(operator.itemgetter(index), rows)))
        return [row[index].strip() if index < len(row) else "" for row in rows]

    def _names(self, names: list[str]) -> list[str]:
        """Names to normalise are found by C-level passes: ALL CAPS or all lower, runs of
        white space, and (when accents go) anything not ASCII."""
        count = len(names)
        todo = set(
            compress(
                range(count), map(operator.or_, map(str.isupper, names), map(str.islower, names))
            )
        )
        joined = "\x1f".join(names)
        if needs_collapse(joined):
            todo.update(i for i, name in enumerate(names) if needs_collapse(name))
        if self.strip_accents and not joined.isascii():
            todo.update(i for i, name in enumerate(names) if not name.isascii())
        if not todo:
            return names
        names = list(names)
        strip = self.strip_accents
        for i in todo:
            names[i] = normalise_name(names[i], strip)
        return names
