"""What kind of file the first bytes say it is, before anything tries to parse it."""

from __future__ import annotations

import re

from worker.errors import UnreadableFile, UnsupportedFile

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")

_NOT_TABULAR = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"BZh", "a bzip2 archive"),
    (b"\x7fELF", "an executable"),
    (b"MZ", "a Windows executable"),
    (b"{\\rtf", "an RTF document"),
)


# Structured text saved under a table's name: many web apps' "Export to Excel" writes an
# HTML table named .xls, Excel 2003 wrote XML spreadsheets, APIs give JSON. Matched on how
# the text starts (a CSV file's first line is never a tag or a JSON object).
_SAVE_AS = "open it in Excel (or LibreOffice) and save it as .xlsx or CSV, then upload that"
_JSON_START = re.compile(rb'\[\s*[{\["]|\{\s*"')


# Address books in formats of their own, which mail programs and directories export: each
# names a contact a field per line, no table. (A vCard, the phones' and address books'
# format, is read: :mod:`.vcard_source`.)
_AS_CSV = (
    "export the contacts as CSV (Google Contacts, Outlook and Thunderbird offer it) and upload that"
)
_VCARD = re.compile(rb"begin:vcard\s")
_ADDRESS_BOOKS = (
    (re.compile(rb"begin:vcalendar\s"), "an iCalendar file (.ics: a calendar, not a contact list)"),
    (
        re.compile(rb"(version: *1\r?\n)?dn: *\S"),
        "an LDIF address book (.ldif: Thunderbird's or a directory's export)",
    ),
)


def _text_start(head: bytes) -> bytes:
    """The first KiB of the file as lowercase ASCII-compatible bytes, past any byte-order
    mark (a UTF-16 file's too), leading white space dropped."""
    start = head[:1024]
    if start.startswith((b"\xff\xfe", b"\xfe\xff")):
        codec = "utf-16-le" if start.startswith(b"\xff\xfe") else "utf-16-be"
        text = start[2 : len(start) & ~1].decode(codec, errors="replace")
        start = text.encode("utf-8", errors="replace")
    return start.removeprefix(b"\xef\xbb\xbf").lstrip().lower()


def _document_kind(head: bytes) -> tuple[str, str] | None:
    """What structured text the file starts with, and what to do; or None."""
    start = _text_start(head)
    for opening, description in _ADDRESS_BOOKS:
        if opening.match(start):
            return description, _AS_CSV
    if start.startswith((b"<!doctype html", b"<html", b"<table", b"<meta")):
        return "an HTML page (what many web apps export as Excel)", _SAVE_AS
    if start.startswith(b"<?xml"):
        if b"excel.sheet" in head.lower() or b"office:spreadsheet" in head.lower():
            return "an Excel 2003 XML spreadsheet", _SAVE_AS
        return "an XML document", "export the contacts as CSV or .xlsx and upload that"
    if _JSON_START.match(start):
        return "JSON", "export the contacts as CSV or .xlsx and upload that"
    return None


def sniff_format(head: bytes) -> str:
    """``"xlsx"`` for a zip (checked further when opened), ``"vcard"`` for an address book
    of vCards, ``"csv"`` for anything else that may be text; UnsupportedFile /
    UnreadableFile with the reason otherwise."""
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(_OLE2):
        if _ENCRYPTED_PACKAGE in head:
            raise UnreadableFile(
                "the workbook is password-protected: remove the password in Excel "
                "(File > Info > Protect Workbook) and upload it again"
            )
        raise UnsupportedFile(
            "this is an old Excel 97-2003 workbook (.xls): open it in Excel and save it as "
            ".xlsx or CSV"
        )
    for magic, description in _NOT_TABULAR:
        if head.startswith(magic):
            raise UnsupportedFile(f"the file is {description}, not a CSV or Excel file")
    if _VCARD.match(_text_start(head)):
        return "vcard"
    kind = _document_kind(head)
    if kind is not None:
        description, advice = kind
        raise UnsupportedFile(f"the file is {description}, not a CSV or .xlsx file: {advice}")
    return "csv"


# Zip archives that are documents of other kinds, by a member only they have.
_COPY_TABLE = "copy its table into a spreadsheet, save that as .xlsx or CSV and upload it"
_OTHER_ZIPS = (
    (
        "mimetype",
        "an OpenDocument file (.ods: LibreOffice, or a spreadsheet's ODS download)",
        _SAVE_AS,
    ),
    ("word/document.xml", "a Word document (.docx)", _COPY_TABLE),
    ("ppt/presentation.xml", "a PowerPoint presentation (.pptx)", _COPY_TABLE),
)


def other_zip(names: set[str]) -> str:
    """Why a zip archive without a workbook inside is refused: what it is, if known."""
    for member, description, advice in _OTHER_ZIPS:
        if member in names:
            return f"the file is {description}, not a CSV or .xlsx file: {advice}"
    return "the file is a zip archive but not an Excel workbook (.xlsx)"
