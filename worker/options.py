"""A job's options, checked before anything reads a byte of the file.

The same check runs where a person gives options (``submit``, ``Producer``, ``inspect``)
and where the worker starts a job, so a bad value is refused with one line when it is
given, and a job recorded with one (an older producer, a hand-made row) is FAILED at once
with the reason instead of being retried. :func:`check_job_options` returns the options
with values normalised (``"\\t"`` for a tab, integers for row numbers).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from typing import Any

from worker.errors import JobInvalid
from worker.model import CONTACT_FIELDS, MAPPABLE_FIELDS

# What a producer may set; the rest come from detection and the job's defaults.


# A character written as Python shows it (``\x1f``, ``\u00a6``): one character.
_CHAR_ESCAPE = re.compile(r"\\x[0-9a-fA-F]{2}|\\u[0-9a-fA-F]{4}")


def _char(name: str, value: object, *, allow_none: bool = False) -> str | None:
    if value is None and allow_none:
        return None
    text = str(value) if isinstance(value, str) else None
    if text in ("\\t", "tab"):
        text = "\t"
    elif text is not None and _CHAR_ESCAPE.fullmatch(text):
        text = chr(int(text[2:], 16))  # "\x1f" as inspect shows it: the unit separator
    if text is None or len(text) != 1:
        shown = repr(value)
        raise JobInvalid(
            f"option {name}={shown[:40]}: must be one character"
            + (" or null" if allow_none else "")
        )
    if text in "\r\n":
        raise JobInvalid(f"option {name}: a line break cannot be the {name}")
    return text


def _encoding(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise JobInvalid(f"option encoding={value!r}: must be an encoding name such as utf-8")
    try:
        codecs.lookup(value)
    except (LookupError, ValueError):  # ValueError: a NUL in the name
        raise JobInvalid(f"option encoding={value[:40]!r}: unknown encoding") from None
    return value


def _flag(name: str) -> Callable[[object], bool]:
    def check(value: object) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise JobInvalid(f"option {name}={value!r}: must be true or false")

    return check


def _row_number(value: object) -> int:
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value)
    if number is None or number < 1:
        raise JobInvalid(
            f"option header_row={str(value)[:40]!r}: must be a row number, 1 for the first row"
        )
    return number


def _sheet(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise JobInvalid(f"option sheet={value!r}: must be a sheet's name")
    return value


def _mapping(value: object) -> dict[str, str | int]:
    if not isinstance(value, dict):
        raise JobInvalid("option mapping: must map fields to a header name or a column number")
    mapping: dict[str, str | int] = {}
    for field, target in value.items():
        if field not in MAPPABLE_FIELDS:
            raise JobInvalid(
                f"option mapping: unknown field {str(field)[:40]!r}; fields: "
                f"{', '.join(MAPPABLE_FIELDS)}"
            )
        if isinstance(target, bool) or not isinstance(target, str | int):
            raise JobInvalid(f"option mapping.{field}: must be a header name or a column number")
        if isinstance(target, int) and target < 0:
            raise JobInvalid(f"option mapping.{field}={target}: a column number is 0 or more")
        mapping[field] = target
    return mapping


def _required(value: object) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        raise JobInvalid("option required_fields: must be a list of field names")
    unknown = [name for name in value if name not in CONTACT_FIELDS]
    if unknown:
        raise JobInvalid(
            f"option required_fields: unknown field(s) {', '.join(map(repr, unknown))[:80]}; "
            f"fields: {', '.join(CONTACT_FIELDS)}"
        )
    return list(value)


def _country(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) != 2 or not value.isalpha():
        raise JobInvalid(
            f"option default_country={str(value)[:40]!r}: must be a two-letter country code"
        )
    return value.upper()


_CHECKS: dict[str, Callable[[object], object]] = {
    "encoding": _encoding,
    "delimiter": lambda value: _char("delimiter", value),
    "quotechar": lambda value: _char("quotechar", value, allow_none=True),
    "escapechar": lambda value: _char("escapechar", value, allow_none=True),
    "has_header": _flag("has_header"),
    "header_row": _row_number,
    "sheet": _sheet,
    "mapping": _mapping,
    "required_fields": _required,
    "default_country": _country,
    "strip_accents": _flag("strip_accents"),
}
OPTION_NAMES = frozenset(_CHECKS)


def check_job_options(options: object) -> dict[str, Any]:
    """The options with their values normalised, or JobInvalid naming the first bad one."""
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise JobInvalid("the job's options must be an object of name: value")
    unknown = sorted(set(options) - OPTION_NAMES)
    if unknown:
        raise JobInvalid(
            f"unknown job option(s) {', '.join(unknown)}; known: {', '.join(sorted(OPTION_NAMES))}"
        )
    checked = {name: _CHECKS[name](value) for name, value in options.items()}
    delimiter, quote = checked.get("delimiter"), checked.get("quotechar")
    if delimiter is not None and delimiter == quote:
        raise JobInvalid(f"options delimiter and quotechar are both {delimiter!r}")
    return checked
