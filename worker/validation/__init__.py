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
_RAW_UNSAFE_OTHER = re.compile("[\x00\x1e]")
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
    if joined.count(RAW_SEPARATOR) == len(cells) - 1 and _RAW_UNSAFE_OTHER.search(joined) is None:
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


@lru_cache(maxsize=65536)
def phone_e164(phone: str, region: str | None) -> str | None:
    """The number in E.164 form, or None where it does not parse as a valid number.

    A number already written internationally (``+``, a known country code, 8 to 15
    digits) only needs its formatting stripped, which is all phonenumbers would do; the
    rest go through phonenumbers with the job's default country (about 30 us each,
    hence the fast path and the cache)."""
    compact = phone.translate(_PHONE_FORMATTING)
    if (
        compact.startswith("+")
        and compact[1:].isdigit()
        and 8 <= len(compact) - 1 <= 15
        and "(0)" not in phone
    ):
        digits = compact[1:]
        for length in (1, 2, 3):
            if int(digits[:length]) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
                return compact
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

    def _cell(self, cells: Sequence[str], name: str) -> str:
        index = self.columns.get(name)
        if index is None or index >= len(cells):
            return ""
        return cells[index].strip()

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
        issues: list[RowIssue] = []
        raw = encode_raw(cells)
        email = self._cell(cells, "email")
        first_name = self._name(self._cell(cells, "first_name"))
        last_name = self._name(self._cell(cells, "last_name"))
        company = " ".join(self._cell(cells, "company").split())
        phone = self._cell(cells, "phone")
        values = {
            "email": email,
            "first_name": first_name,
            "last_name": last_name,
            "company": company,
            "phone": phone,
        }

        for name in self.required:
            if not values.get(name):
                issues.append(
                    RowIssue(
                        number,
                        "MISSING_FIELD",
                        name,
                        f"{name.replace('_', ' ')} is required but empty",
                    )
                )
        email_normalized = None
        if email:
            email_normalized = email.lower()
            problem = email_problem(email)
            if problem:
                issues.append(RowIssue(number, "INVALID_EMAIL", "email", problem))
        for name, limit in FIELD_MAX_CHARS.items():
            if len(values[name]) > limit:
                issues.append(
                    RowIssue(
                        number,
                        "FIELD_TOO_LONG",
                        name,
                        f"{name.replace('_', ' ')} has {len(values[name])} "
                        f"characters, more than {limit}",
                    )
                )
        mapped = "".join((email, first_name, last_name, company, phone))
        if _CONTROL.search(mapped):
            for name, value in values.items():
                if _CONTROL.search(value):
                    issues.append(
                        RowIssue(
                            number,
                            "CONTROL_CHARACTERS",
                            name,
                            f"{name.replace('_', ' ')} holds control characters (invisible bytes)",
                        )
                    )
                    values[name] = _CONTROL.sub("\ufffd", value)
        e164 = phone_e164(phone, self.region) if phone else None
        record = (
            number,
            self.row_hash(number, raw),
            raw,
            values["email"] or None,
            email_normalized,
            values["first_name"] or None,
            values["last_name"] or None,
            values["company"] or None,
            values["phone"] or None,
            e164,
            "ISSUE" if issues else "READY",
        )
        return record, issues

    def _name(self, name: str) -> str:
        if "  " in name or "\t" in name or "\n" in name:
            name = " ".join(name.split())
        if name and (name.isupper() or name.islower()):
            name = name_case(name)
        if self.strip_accents and not name.isascii():
            name = strip_accents(name)
        return name


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
