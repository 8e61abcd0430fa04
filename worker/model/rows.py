"""The staging row format: what one row of a file becomes in ``staging`` and ``issues``,
and the codec of its raw cells. Written by the validator, stored by the store, read back by
review and exports; it belongs to none of them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from worker.model.jobs import IssueType, RowStatus

# The contact fields a column can map to, in the order staging stores them.
CONTACT_FIELDS = ("email", "first_name", "last_name", "company", "phone")
# A column holding the whole name (``Name``, ``Full Name``): split into first_name and
# last_name where no column holds them. A mapping may name it too.
FULL_NAME = "full_name"
MAPPABLE_FIELDS = (*CONTACT_FIELDS, FULL_NAME)
# Required unless a job's ``required_fields`` option says otherwise.
REQUIRED_DEFAULT = ("email", "first_name", "last_name", "company")

# The raw cells of a row are stored as one text: joined by the unit separator, or, when a
# cell holds a separator or NUL, as a JSON array behind the record separator.
RAW_SEPARATOR = "\x1f"
RAW_ESCAPED = "\x1e"


@dataclass(frozen=True)
class RowIssue:
    """One problem of one row, as filed in the issues table."""

    row_number: int
    type: IssueType
    field: str | None
    message: str

    @property
    def key(self) -> str:
        """Deterministic per job: a restart never files it twice."""
        return f"row:{self.row_number}:{self.type}:{self.field or ''}"


def encode_raw(cells: Sequence[str]) -> str:
    """The cells as staging stores them (see migration 0002)."""
    joined = RAW_SEPARATOR.join(cells)
    # Safe when the only separators are ours; two C-level scans, no per-cell loop.
    if (
        joined.count(RAW_SEPARATOR) == len(cells) - 1
        and "\x1e" not in joined
        and "\x00" not in joined
    ):
        return joined
    # NUL cannot be stored in PostgreSQL text at all; it becomes U+FFFD (and the row's
    # mapped fields get a CONTROL_CHARACTERS issue).
    safe = [cell.replace("\x00", "\ufffd") for cell in cells]
    return RAW_ESCAPED + json.dumps(safe, ensure_ascii=False)


def decode_raw(raw: str) -> list[str]:
    """The cells back from :func:`encode_raw`'s text."""
    if raw.startswith(RAW_ESCAPED):
        cells: list[str] = json.loads(raw[1:])
        return cells
    return raw.split(RAW_SEPARATOR)


def encode_raws(rows: Sequence[Sequence[str]]) -> list[str]:
    """:func:`encode_raw` of each row; one check over the batch when no row needs escaping."""
    raws = list(map(RAW_SEPARATOR.join, rows))
    joined = "".join(raws)
    if (
        joined.count(RAW_SEPARATOR) == sum(map(len, rows)) - len(rows)
        and RAW_ESCAPED not in joined
        and "\x00" not in joined
    ):
        return raws
    return [encode_raw(cells) for cells in rows]


# The staging columns a row's values fill, in order (after job_id).
STAGING_COLUMNS = (
    "row_number",
    "row_hash",
    "raw",
    "email",
    "email_normalized",
    "first_name",
    "last_name",
    "company",
    "phone",
    "phone_e164",
    "status",
)


@dataclass
class StagedRows:
    """A batch's staging values by column, in :data:`STAGING_COLUMNS` order; an empty
    string in a text field is stored as NULL."""

    numbers: list[int]
    hashes: list[bytes]
    raws: list[str]
    emails: list[str]
    emails_normalized: list[str]
    first_names: list[str]
    last_names: list[str]
    companies: list[str]
    phones: list[str]
    phones_e164: list[str | None]
    statuses: list[RowStatus]

    def __len__(self) -> int:
        return len(self.numbers)

    def text_columns(self) -> list[list[str]]:
        """The optional text fields, in column order (emails to phones)."""
        return [
            self.emails,
            self.emails_normalized,
            self.first_names,
            self.last_names,
            self.companies,
            self.phones,
        ]

    def records(self) -> list[tuple[Any, ...]]:
        """One tuple per row, empty text fields as None."""
        return list(
            zip(
                self.numbers,
                self.hashes,
                self.raws,
                *map(_none_if_empty, self.text_columns()),
                self.phones_e164,
                self.statuses,
                strict=True,
            )
        )


def _none_if_empty(values: list[str]) -> list[str | None]:
    """NULL for empty values (the list itself when none is empty)."""
    if "" not in values:
        return values  # type: ignore[return-value]
    return [value or None for value in values]
