"""Row-local validation and normalisation: bad data becomes issue values, never exceptions.

For each row: the deterministic row hash, the mapped fields trimmed and normalised (email
lower-cased for comparison with the original kept, names with collapsed spaces and name
case where the file shouted or whispered, phones to E.164 where they parse), and the
problems: required fields missing, email syntax and length, field lengths, control
characters. The hot path runs per row for millions of rows, so it avoids per-row work
that a C-level check can rule out.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from uuid import UUID

import phonenumbers
import xxhash

from worker.sources.mapping import ColumnMapping

REQUIRED_DEFAULT = ("email", "first_name", "last_name", "company")
# RFC 5321/5322 limits: 64 for the local part, 254 for the whole address, 63 per label.
EMAIL_MAX_CHARS = 254
EMAIL_LOCAL_MAX_CHARS = 64
FIELD_MAX_CHARS = {"first_name": 100, "last_name": 100, "company": 200, "phone": 50}

# RFC 5322 dot-atom local part and a DNS host name with a letter TLD (no quoted local
# parts or address literals: contact lists do not carry them, and mail tools mangle them).
_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_NAME_PARTS = re.compile(r"([ \-'’])")  # noqa: RUF001 - the typographic apostrophe
_PHONE_FORMATTING = str.maketrans("", "", " -.()/\u00a0")
RAW_SEPARATOR = "\x1f"
RAW_ESCAPED = "\x1e"


@dataclass(frozen=True)
class RowIssue:
    """One problem of one row, as filed in the issues table."""

    row_number: int
    type: str
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


def name_case(name: str) -> str:
    """``ANA-MARIA O'BRIEN`` -> ``Ana-Maria O'Brien`` (only applied to all-caps or
    all-lower names; mixed case is the person's own choice and kept)."""
    return "".join(part[:1].upper() + part[1:].lower() for part in _NAME_PARTS.split(name))


def strip_accents(text: str) -> str:
    """``Zoë Gonçalves`` -> ``Zoe Goncalves`` (only when a job asks for it)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


_COUNTRY_CODES = frozenset(str(code) for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE)


def phone_e164(phone: str, region: str | None) -> str | None:
    """The number in E.164 form, or None where it does not parse as a valid number.

    A number already written internationally (``+``, a known country code, 8 to 15
    digits) only needs its formatting stripped, which is all phonenumbers would do; the
    rest go through phonenumbers with the job's default country (about 30 us each, so
    they are cached)."""
    compact = phone.translate(_PHONE_FORMATTING)
    if (
        compact[:1] == "+"
        and 9 <= len(compact) <= 16
        and compact[1:].isdigit()
        and "(0)" not in phone
        and (
            compact[1:2] in _COUNTRY_CODES
            or compact[1:3] in _COUNTRY_CODES
            or compact[1:4] in _COUNTRY_CODES
        )
    ):
        return compact
    return _parse_phone(phone, region)


@lru_cache(maxsize=4096)
def _parse_phone(phone: str, region: str | None) -> str | None:
    try:
        number = phonenumbers.parse(phone, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


class RowValidator:
    """Validates and normalises rows for one job (its mapping and options)."""

    def __init__(
        self,
        job_id: UUID,
        mapping: ColumnMapping,
        headers: Sequence[str],
        options: dict[str, Any] | None = None,
    ) -> None:
        options = options or {}
        self.job_prefix = job_id.bytes
        self.columns = dict(mapping.columns)
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
        """Staging records and issues for a batch of rows.

        Column by column with comprehensions: per-row Python work only where a C-level
        check (``isupper``, ``in``, a regex over the whole batch) says it is needed.
        ``problems`` are issues found while reading the rows; they make a row ISSUE too.
        """
        count = len(rows)
        columns = {name: self._column(rows, name) for name in FIELD_NAMES}
        emails = columns["email"]
        columns["first_name"] = self._names(columns["first_name"])
        columns["last_name"] = self._names(columns["last_name"])
        columns["company"] = [
            " ".join(value.split()) if ("  " in value or "\t" in value or "\n" in value) else value
            for value in columns["company"]
        ]
        issues: list[RowIssue] = []
        for name in self.required:
            values = columns.get(name)
            if values is None:
                continue
            label = name.replace("_", " ")
            issues += [
                RowIssue(numbers[i], "MISSING_FIELD", name, f"{label} is required but empty")
                for i, value in enumerate(values)
                if not value
            ]
        matches = list(map(_EMAIL.fullmatch, emails))
        issues += [
            RowIssue(numbers[i], "INVALID_EMAIL", "email", email_problem(email) or "")
            for i, (email, match) in enumerate(zip(emails, matches, strict=True))
            if email
            and (match is None or len(email) > EMAIL_LOCAL_MAX_CHARS)
            and email_problem(email)
        ]
        for name, limit in FIELD_MAX_CHARS.items():
            label = name.replace("_", " ")
            issues += [
                RowIssue(
                    numbers[i],
                    "FIELD_TOO_LONG",
                    name,
                    f"{label} has {len(value)} characters, more than {limit}",
                )
                for i, value in enumerate(columns[name])
                if len(value) > limit
            ]
        # One regex pass over the whole batch's mapped fields; rows only if it finds any.
        if _CONTROL.search("".join("".join(values) for values in columns.values())):
            for name, values in columns.items():
                for i, value in enumerate(values):
                    if _CONTROL.search(value):
                        issues.append(
                            RowIssue(
                                numbers[i],
                                "CONTROL_CHARACTERS",
                                name,
                                f"{name.replace('_', ' ')} holds control "
                                "characters (invisible bytes)",
                            )
                        )
                        values[i] = _CONTROL.sub("\ufffd", value)
        raws = [encode_raw(cells) for cells in rows]
        prefix = self.job_prefix
        number_bytes = [number.to_bytes(4, "big") for number in numbers]
        hashes = [
            head + xxhash.xxh3_128_digest(prefix + head + raw.encode("utf-8", "surrogatepass"))[:12]
            for head, raw in zip(number_bytes, raws, strict=True)
        ]
        region = self.region
        phones = columns["phone"]
        e164 = [phone_e164(phone, region) if phone else None for phone in phones]
        if problems:
            issues += [issue for number in numbers for issue in problems.get(number, ())]
        flagged = {issue.row_number for issue in issues}
        status = (
            ["ISSUE" if number in flagged else "READY" for number in numbers]
            if flagged
            else ["READY"] * count
        )
        records = list(
            zip(
                numbers,
                hashes,
                raws,
                _none_if_empty(emails),
                [email.lower() or None for email in emails],
                _none_if_empty(columns["first_name"]),
                _none_if_empty(columns["last_name"]),
                _none_if_empty(columns["company"]),
                _none_if_empty(phones),
                e164,
                status,
                strict=True,
            )
        )
        return records, issues

    @classmethod
    def for_fields(cls, job_id: UUID, options: dict[str, Any] | None = None) -> RowValidator:
        """A validator of rows given as their fields in :data:`FIELD_NAMES` order (the
        staging values a person may have edited), for reprocessing."""
        mapping = ColumnMapping(
            columns={name: index for index, name in enumerate(FIELD_NAMES)},
            confidence=dict.fromkeys(FIELD_NAMES, 1.0),
            method=dict.fromkeys(FIELD_NAMES, "staging"),
        )
        return cls(job_id, mapping, FIELD_NAMES, options)

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

    def _column(self, rows: Sequence[Sequence[str]], name: str) -> list[str]:
        index = self.columns.get(name)
        if index is None:
            return [""] * len(rows)
        return [row[index].strip() if index < len(row) else "" for row in rows]

    def _names(self, names: list[str]) -> list[str]:
        strip = self.strip_accents
        return [
            self._name(name)
            if name
            and (
                name.isupper()
                or name.islower()
                or "  " in name
                or "\t" in name
                or "\n" in name
                or (strip and not name.isascii())
            )
            else name
            for name in names
        ]

    def _name(self, name: str) -> str:
        if "  " in name or "\t" in name or "\n" in name:
            name = " ".join(name.split())
        if name and (name.isupper() or name.islower()):
            name = name_case(name)
        if self.strip_accents and not name.isascii():
            name = strip_accents(name)
        return name


FIELD_NAMES = ("email", "first_name", "last_name", "company", "phone")


def _none_if_empty(values: list[str]) -> list[str | None]:
    return [value or None for value in values]


# Column order of the records RowValidator.validate returns (after job_id).
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


def email_problem(email: str) -> str | None:
    """Why ``email`` is not a valid address, or None."""
    if len(email) > EMAIL_MAX_CHARS:
        return f"the address has {len(email)} characters, more than {EMAIL_MAX_CHARS}"
    if _EMAIL.fullmatch(email) is None:
        if "@" not in email:
            return f"{email!r} has no @"
        if " " in email:
            return f"{email!r} contains a space"
        return f"{email!r} is not a valid email address"
    local = email.rsplit("@", 1)[0]
    if len(local) > EMAIL_LOCAL_MAX_CHARS:
        return f"the part before @ has {len(local)} characters, more than {EMAIL_LOCAL_MAX_CHARS}"
    return None
