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
import operator
import re
import struct
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain, compress
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
# Invisible and text-direction characters: zero-width spaces and joiners, bidi embeddings,
# overrides and isolates, the BOM inside text, soft hyphens. They make two names that look
# the same differ, or show text reversed (a known spoofing trick): flagged, kept as they are.
_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
# Either kind, for the one pass over a batch that rules both out.
_SUSPECT = re.compile(_CONTROL.pattern[:-1] + _INVISIBLE.pattern[1:])
# RFC 6531 local parts: the dot-atom characters, and any letter or digit of any script.
_INTL_LOCAL = re.compile(r"[\w!#$%&'*+/=?^`{|}~-]+(?:\.[\w!#$%&'*+/=?^`{|}~-]+)*")
_ASCII_HOST = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9-]{2,63}")
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


@lru_cache(maxsize=8192)
def normalise_name(name: str, strip: bool = False) -> str:
    """A name with runs of white space collapsed, name case where it was ALL CAPS or all
    lower, and accents stripped if ``strip`` (cached: first and last names repeat)."""
    if _needs_collapse(name):
        name = " ".join(name.split())
    if name and (name.isupper() or name.islower()):
        name = name_case(name)
    if strip and not name.isascii():
        name = strip_accents(name)
    return name


def strip_accents(text: str) -> str:
    """``Zoë Gonçalves`` -> ``Zoe Goncalves`` (only when a job asks for it)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


_COUNTRY_CODES = frozenset(str(code) for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
# The fast path of phone_e164 as one pattern over a compacted number: "+", a known country
# code, 8 to 15 digits in all.


def _prefix_pattern(codes: frozenset[str]) -> str:
    """A regex matching any of ``codes`` as a digit trie (one branch per digit, not one
    per code: the country codes form a prefix code, so there is never a choice)."""
    if "" in codes:
        return ""
    branches = []
    for digit in sorted({code[0] for code in codes}):
        rest = _prefix_pattern(frozenset(code[1:] for code in codes if code[0] == digit))
        branches.append(digit + (f"(?:{rest})" if "|" in rest else rest))
    return "|".join(branches)


_INTERNATIONAL = re.compile(
    r"\+(?=[0-9]{8,15}\Z)(?:" + _prefix_pattern(_COUNTRY_CODES) + r")[0-9]*"
)
_ROW_NUMBER = struct.Struct(">I")


def phone_e164(phone: str, region: str | None) -> str | None:
    """The number in E.164 form, or None where it does not parse as a valid number.

    A number already written internationally (``+``, a known country code, 8 to 15
    digits) only needs its formatting stripped, which is all phonenumbers would do; the
    rest go through phonenumbers with the job's default country (about 30 us each, so
    they are cached)."""
    compact = phone.translate(_PHONE_FORMATTING)
    if "(0)" not in phone and _INTERNATIONAL.fullmatch(compact):
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
    statuses: list[str]

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
        columns = {name: self._column(rows, name, width) for name in FIELD_NAMES}
        emails = columns["email"]
        columns["first_name"] = self._names(columns["first_name"])
        columns["last_name"] = self._names(columns["last_name"])
        columns["company"] = _collapse_spaces(columns["company"])
        issues: list[RowIssue] = []
        for name in self.required:
            values = columns.get(name)
            if values is None or "" not in values:
                continue
            label = name.replace("_", " ")
            issues += [
                RowIssue(numbers[i], "MISSING_FIELD", name, f"{label} is required but empty")
                for i, value in enumerate(values)
                if not value
            ]
        # Rows the dot-atom pattern rejects, plus any with a long local part (the pattern
        # does not count); email_problem has the last word on each.
        suspects = list(compress(range(count), map(operator.not_, map(_EMAIL.fullmatch, emails))))
        if max(map(len, emails), default=0) > EMAIL_LOCAL_MAX_CHARS:
            suspects = sorted(
                {
                    *suspects,
                    *(i for i, email in enumerate(emails) if len(email) > EMAIL_LOCAL_MAX_CHARS),
                }
            )
        for i in suspects:
            email = emails[i]
            problem = email_problem(email) if email else None
            if problem:
                issues.append(RowIssue(numbers[i], "INVALID_EMAIL", "email", problem))
        for name, limit in FIELD_MAX_CHARS.items():
            values = columns[name]
            if max(map(len, values), default=0) <= limit:
                continue
            label = name.replace("_", " ")
            issues += [
                RowIssue(
                    numbers[i],
                    "FIELD_TOO_LONG",
                    name,
                    f"{label} has {len(value)} characters, more than {limit}",
                )
                for i, value in enumerate(values)
                if len(value) > limit
            ]
        # One regex pass over the whole batch's mapped fields; rows only if it finds any.
        joined = "".join(chain.from_iterable(columns.values()))
        suspect = _SUSPECT.search(joined) is not None
        if suspect and _CONTROL.search(joined):
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
        if suspect and _INVISIBLE.search(joined):
            for name, values in columns.items():
                for i, value in enumerate(values):
                    found = sorted(set(_INVISIBLE.findall(value)))
                    if found:
                        codes = ", ".join(f"U+{ord(char):04X}" for char in found)
                        issues.append(
                            RowIssue(
                                numbers[i],
                                "CONTROL_CHARACTERS",
                                name,
                                f"{name.replace('_', ' ')} holds invisible or text-direction "
                                f"characters ({codes}), which can make it look like another",
                            )
                        )
        raws = _encode_raws(rows)
        hashes = self._hashes(numbers, raws)
        phones = columns["phone"]
        e164 = _phones_e164(phones, self.region)
        if problems:
            issues += [issue for number in numbers for issue in problems.get(number, ())]
        flagged = {issue.row_number for issue in issues}
        status = (
            ["ISSUE" if number in flagged else "READY" for number in numbers]
            if flagged
            else ["READY"] * count
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
        if _needs_collapse(joined):
            todo.update(i for i, name in enumerate(names) if _needs_collapse(name))
        if self.strip_accents and not joined.isascii():
            todo.update(i for i, name in enumerate(names) if not name.isascii())
        if not todo:
            return names
        names = list(names)
        strip = self.strip_accents
        for i in todo:
            names[i] = normalise_name(names[i], strip)
        return names


FIELD_NAMES = ("email", "first_name", "last_name", "company", "phone")


def _none_if_empty(values: list[str]) -> list[str | None]:
    """NULL for empty values (the list itself when none is empty)."""
    if "" not in values:
        return values  # type: ignore[return-value]
    return [value or None for value in values]


def _needs_collapse(value: str) -> bool:
    return "  " in value or "\t" in value or "\n" in value


def _collapse_spaces(values: list[str]) -> list[str]:
    """Runs of white space inside each value as one space."""
    joined = "\x1f".join(values)
    if not _needs_collapse(joined):
        return values
    return [" ".join(value.split()) if _needs_collapse(value) else value for value in values]


def _encode_raws(rows: Sequence[Sequence[str]]) -> list[str]:
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


def _phones_e164(phones: list[str], region: str | None) -> list[str | None]:
    """:func:`phone_e164` of each phone (None for an empty one); the formatting is
    stripped from the whole batch at once and international numbers matched by a regex."""
    joined = "\x1e".join(phones)
    if joined.count("\x1e") != len(phones) - 1:
        return [phone_e164(phone, region) if phone else None for phone in phones]
    compacts = joined.translate(_PHONE_FORMATTING).split("\x1e")
    # The rest: empty, not international, or with a national "(0)" to drop.
    matches = map(_INTERNATIONAL.fullmatch, compacts)
    redo = set(compress(range(len(phones)), map(operator.not_, matches)))
    e164: list[str | None] = list(compacts)
    if "(0)" in joined:
        redo.update(i for i, phone in enumerate(phones) if "(0)" in phone)
    for i in redo:
        phone = phones[i]
        e164[i] = _parse_phone(phone, region) if phone else None
    return e164


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


def normalize_email(email: str) -> str:
    """The address as compared: lower case, and an internationalised domain in its ASCII
    form (``bücher.de`` and ``xn--bcher-kva.de`` are one domain)."""
    lowered = email.lower()
    if lowered.isascii():
        return lowered
    local, at, domain = lowered.rpartition("@")
    if not at:
        return lowered
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:
        return lowered


def _international_email_ok(email: str) -> bool:
    """An address with non-ASCII characters that mail systems accept (RFC 6531): a local
    part of letters and digits of any script plus the dot-atom characters, and a domain
    whose IDNA form is a valid host name."""
    local, at, domain = email.rpartition("@")
    if not at or not local or "_" in domain:
        return False
    if _INTL_LOCAL.fullmatch(local) is None or len(local.encode()) > EMAIL_LOCAL_MAX_CHARS:
        return False
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    return (
        _ASCII_HOST.fullmatch(ascii_domain) is not None
        and not ascii_domain.rsplit(".", 1)[-1].isdigit()
    )


def email_problem(email: str) -> str | None:
    """Why ``email`` is not a valid address, or None."""
    if len(email) > EMAIL_MAX_CHARS:
        return f"the address has {len(email)} characters, more than {EMAIL_MAX_CHARS}"
    if not email.isascii() and " " not in email and _international_email_ok(email):
        return None
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
