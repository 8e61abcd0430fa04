"""What kind of file the first bytes say it is, before anything tries to parse it."""

from __future__ import annotations

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


def sniff_format(head: bytes) -> str:
    """``"xlsx"`` for a zip (checked further when opened), ``"csv"`` for anything that may
    be text; UnsupportedFile / UnreadableFile with the reason otherwise."""
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
    return "csv"
