"""Rules: what makes a field's value a problem (limits, email syntax, characters that hide
or disguise text)."""

from __future__ import annotations

import re

# RFC 5321/5322 limits: 64 for the local part, 254 for the whole address, 63 per label.
EMAIL_MAX_CHARS = 254
EMAIL_LOCAL_MAX_CHARS = 64
FIELD_MAX_CHARS = {"first_name": 100, "last_name": 100, "company": 200, "phone": 50}

# RFC 5322 dot-atom local part and a DNS host name with a letter TLD (no quoted local
# parts or address literals: contact lists do not carry them, and mail tools mangle them).
EMAIL_DOT_ATOM = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Invisible and text-direction characters: zero-width spaces and joiners, bidi embeddings,
# overrides and isolates, the BOM inside text, soft hyphens. They make two names that look
# the same differ, or show text reversed (a known spoofing trick): flagged, kept as they are.
INVISIBLE_CHARS = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
# Either kind, for the one pass over a batch that rules both out.
SUSPECT_CHARS = re.compile(CONTROL_CHARS.pattern[:-1] + INVISIBLE_CHARS.pattern[1:])
# RFC 6531 local parts: the dot-atom characters, and any letter or digit of any script.
_INTL_LOCAL = re.compile(r"[\w!#$%&'*+/=?^`{|}~-]+(?:\.[\w!#$%&'*+/=?^`{|}~-]+)*")
_ASCII_HOST = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9-]{2,63}")


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


# What mail programs and hyperlinks write around an address: a display name and angle
# brackets (``"Silva, Ana" <ana@x.pt>``, copied from an address book or a To: line), and
# a link's ``mailto:`` (a spreadsheet cell pasted from a web page).
_MAILBOX = re.compile(r'\s*(?:"(?:[^"\\]|\\.)*"|[^<>"@]*)\s*<\s*([^<>\s]+)\s*>\s*')
_MAILTO = re.compile(r"(?i)\s*mailto:([^?\s]+)(?:\?\S*)?\s*")
# An RFC 5322 comment beside the address (``ana@x.pt (Ana Silva)``), as address books of
# Lotus Notes and older Outlooks write a name.
_COMMENTED = re.compile(
    r"\s*([^\s()<>]+@[^\s()<>]+)\s*\([^()]*\)\s*|\s*\([^()]*\)\s*([^\s()<>]+@[^\s()<>]+)\s*"
)


# A name and the address after it, with no brackets (``Bo da Cunha bo@x.pt``: a list
# typed or copied a person a line).
_NAMED = re.compile(
    r"\s*[^\W\d_][^\s@<>,;\"]*(?:\s+[^\s@<>,;\"]+)*\s+([^\s@<>,;\"]+@[^\s<>,;\"]+)\s*"
)


def mailbox_address(value: str) -> str | None:
    """The address a mailbox (``Ana Silva <ana@x.pt>``) or a ``mailto:`` link holds, one
    beside a comment (``ana@x.pt (Ana Silva)``) or after a name (``Ana Silva ana@x.pt``),
    or one left with the separator of the list it was copied from (``ana@x.pt;``) or in
    quotes (``'ana@x.pt'``, from a database dump), when it is one valid address; else
    None."""
    match = _MAILBOX.fullmatch(value) or _MAILTO.fullmatch(value) or _NAMED.fullmatch(value)
    commented = _COMMENTED.fullmatch(value) if match is None else None
    if match is not None:
        address = match.group(1)
    elif commented is not None:
        address = commented.group(1) or commented.group(2)
    else:
        address = value.rstrip(";, ")
        if len(address) > 2 and address[0] == address[-1] and address[0] in "'\"":
            address = address[1:-1].strip()
        if address == value:
            return None
    return address if email_problem(address) is None else None


def email_problem(email: str) -> str | None:
    """Why ``email`` is not a valid address, or None."""
    if len(email) > EMAIL_MAX_CHARS:
        return f"the address has {len(email)} characters, more than {EMAIL_MAX_CHARS}"
    if not email.isascii() and " " not in email and _international_email_ok(email):
        return None
    if EMAIL_DOT_ATOM.fullmatch(email) is None:
        if "@" not in email:
            return f"{email!r} has no @"
        if " " in email:
            return f"{email!r} contains a space"
        return f"{email!r} is not a valid email address"
    local = email.rsplit("@", 1)[0]
    if len(local) > EMAIL_LOCAL_MAX_CHARS:
        return f"the part before @ has {len(local)} characters, more than {EMAIL_LOCAL_MAX_CHARS}"
    return None
