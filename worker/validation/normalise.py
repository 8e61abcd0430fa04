"""Normalisers: a field's value as the product stores and compares it. Names get collapsed
white space and name case where the file shouted or whispered, phones E.164 where they
parse, emails lower case with an internationalised domain in its ASCII form. Each is
idempotent (reprocessing relies on it) and the batch forms avoid per-value Python work
that a C-level pass can rule out.
"""

from __future__ import annotations

import operator
import re
import unicodedata
from functools import lru_cache
from itertools import compress

import phonenumbers

_NAME_PARTS = re.compile(r"([ \-'’])")  # noqa: RUF001 - the typographic apostrophe
_PHONE_FORMATTING = str.maketrans("", "", " -.()/\u00a0")


# Words that belong to the family name they come before (Ana Maria da Silva, Ludwig van
# Beethoven), and titles before a name that are neither part.
_PARTICLES = frozenset(
    (
        *("da", "das", "de", "del", "della", "der", "den", "di", "do", "dos", "du", "la"),
        *("le", "van", "von", "ter", "ten", "bin", "ibn", "al", "el", "y"),
    )
)
# Chinese, Japanese and Korean write the family name first.
_FAMILY_NAME_FIRST = re.compile("[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_TITLES = frozenset(
    (
        *("mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "sr", "sra", "srta", "dra"),
        *("herr", "frau", "mme", "mlle", "m"),
    )
)


def split_full_name(name: str) -> tuple[str, str]:
    """A whole name as (first name, last name): ``Silva, Ana`` by its comma; else the last
    word with the particles before it (``da Silva``) is the last name and the words before
    it the first (in Chinese, Japanese and Korean, the first word is the family name); one
    word is a first name alone. A title in front (``Dr.``) is dropped."""
    name = " ".join(name.split())
    if name.count(",") == 1:
        last, first = (part.strip() for part in name.split(","))
        if first and last:
            return first, last
    words = name.split(" ")
    titled = False
    while len(words) > 1 and words[0].rstrip(".").lower() in _TITLES:
        words.pop(0)
        titled = True
    if len(words) == 1:
        # "Mr. Smith": a title goes with the family name.
        return ("", words[0]) if titled else (words[0], "")
    if _FAMILY_NAME_FIRST.search(name):
        return " ".join(words[1:]), words[0]  # 山田 太郎: the family name first
    start = len(words) - 1
    while start > 1 and words[start - 1].lower() in _PARTICLES:
        start -= 1
    return " ".join(words[:start]), " ".join(words[start:])


def name_case(name: str) -> str:
    """``ANA-MARIA O'BRIEN`` -> ``Ana-Maria O'Brien`` (only applied to all-caps or
    all-lower names; mixed case is the person's own choice and kept)."""
    return "".join(part[:1].upper() + part[1:].lower() for part in _NAME_PARTS.split(name))


@lru_cache(maxsize=8192)
def normalise_name(name: str, strip: bool = False) -> str:
    """A name with runs of white space collapsed, name case where it was ALL CAPS or all
    lower, and accents stripped if ``strip`` (cached: first and last names repeat)."""
    if needs_collapse(name):
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


def needs_collapse(value: str) -> bool:
    return "  " in value or "\t" in value or "\n" in value


def collapse_spaces(values: list[str]) -> list[str]:
    """Runs of white space inside each value as one space."""
    joined = "\x1f".join(values)
    if not needs_collapse(joined):
        return values
    return [" ".join(value.split()) if needs_collapse(value) else value for value in values]


def phones_e164(phones: list[str], region: str | None) -> list[str | None]:
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
