"""Row sources over the S3 server: every kind of file users bring, read right or refused
with the reason."""

from __future__ import annotations

import asyncio
import codecs
import csv
import datetime as dt
import hashlib
import io
import re
import zipfile
from contextlib import AsyncExitStack
from typing import Any

import pytest
from openpyxl import Workbook

from tests.conftest import AwsResources
from worker.aws import open_clients
from worker.errors import (
    ObjectChanged,
    ObjectMissing,
    ServiceUnavailable,
    UnreadableFile,
    UnsupportedFile,
)
from worker.retry import is_transient
from worker.services import Services
from worker.sources.rows import RowBatch, RowSource
from worker.sources.s3 import ObjectStream, pin_object
from worker.sources.source import open_source

CONTACTS = [
    ["email", "first_name", "last_name", "company", "phone"],
    ["ana@example.pt", "Ana", "Gonçalves", "Lojas Ávila", "+351 912 345 678"],
    ["joao@example.pt", "João", "Pereira", "Café Ñandú", "912345679"],
    ["zoe@example.fr", "Zoë", "Lefèvre", "Société Générale", "+33 6 12 34 56 78"],
]


def _csv(rows: list[list[str]], delimiter: str = ",", newline: str = "\r\n") -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=newline)
    writer.writerows(rows)
    return out.getvalue()


async def _upload(aws: AwsResources, key: str, data: bytes) -> None:
    aws.s3.put_object(Bucket=aws.bucket, Key=key, Body=data)


async def _open(
    services: Services,
    aws: AwsResources,
    data: bytes,
    key: str = "up/f.csv",
    options: dict[str, Any] | None = None,
    **kwargs: Any,
) -> RowSource:
    await _upload(aws, key, data)
    version = await pin_object(services.s3, aws.bucket, key)
    return await open_source(ObjectStream(services.s3, version), options, **kwargs)


async def _all_rows(source: RowSource) -> tuple[list[int], list[list[str]], dict[int, Any]]:
    numbers: list[int] = []
    rows: list[list[str]] = []
    problems: dict[int, Any] = {}
    batch: RowBatch
    async for batch in source.batches():
        numbers += batch.numbers
        rows += batch.rows
        problems.update(batch.problems)
    return numbers, rows, problems


async def test_semicolon_cp1252_with_accents(services: Services, aws: AwsResources) -> None:
    data = _csv(CONTACTS, delimiter=";").encode("cp1252")
    source = await _open(services, aws, data)
    detection = source.detection
    assert detection.encoding is not None and detection.encoding.encoding == "cp1252"
    assert detection.dialect is not None and detection.dialect.dialect.delimiter == ";"
    assert detection.headers == CONTACTS[0]
    numbers, rows, problems = await _all_rows(source)
    assert rows == CONTACTS[1:]
    assert numbers == [2, 3, 4]
    assert problems == {}
    assert source.stream.bytes_read == len(data)


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be", "utf-8-sig", "utf-32"])
async def test_byte_order_marks_decide_and_never_reach_the_first_header(
    services: Services, aws: AwsResources, codec: str
) -> None:
    data = _csv(CONTACTS).encode(codec)
    if codec == "utf-16-be":
        data = codecs.BOM_UTF16_BE + data
    source = await _open(services, aws, data)
    assert source.detection.encoding is not None
    assert source.detection.encoding.method == "bom"
    assert source.detection.headers[0] == "email"
    assert source.detection.mapping.columns["email"] == 0
    _, rows, problems = await _all_rows(source)
    assert rows == CONTACTS[1:] and problems == {}


async def test_shift_jis(services: Services, aws: AwsResources) -> None:
    rows = [
        ["メールアドレス", "名", "姓", "会社名"],
        *[[f"user{i}@example.jp", "太郎", "山田", "株式会社サンプル"] for i in range(50)],
    ]
    source = await _open(services, aws, _csv(rows).encode("shift_jis"))
    assert source.detection.encoding is not None
    assert source.detection.encoding.python_codec in ("shift_jis", "cp932")
    _, read, problems = await _all_rows(source)
    assert read == rows[1:] and problems == {}
    assert set(source.detection.mapping.columns) >= {"email", "first_name", "last_name", "company"}


async def test_one_cp1252_byte_in_a_utf8_file_is_an_issue_on_its_row_only(
    services: Services, aws: AwsResources
) -> None:
    header = "email,first_name,last_name,company\n"
    lines = [f"p{i}@example.com,Zoë,Müller,Ünternehmen {i}\n".encode() for i in range(2, 60001)]
    # Row 50,000 (the header is row 1) has "é" as the single cp1252 byte 0xE9.
    lines[50000 - 2] = b"bad@example.com,Ren\xe9,Dupont,ACME\n"
    source = await _open(services, aws, header.encode() + b"".join(lines), batch_rows=5000)
    assert source.detection.encoding is not None
    assert source.detection.encoding.encoding == "utf-8"
    numbers, rows, problems = await _all_rows(source)
    assert len(rows) == 59999 and numbers[-1] == 60000
    assert list(problems) == [50000]
    (problem,) = problems[50000]
    assert problem.type == "ENCODING" and problem.field == "first_name"
    assert rows[50000 - 2] == ["bad@example.com", "René", "Dupont", "ACME"]
    assert rows[0][1] == "Zoë" and rows[-1][2] == "Müller"


async def test_quoted_delimiters_newlines_and_doubled_quotes(
    services: Services, aws: AwsResources
) -> None:
    text = (
        "email,first_name,notes\r\n"
        'a@x.io,Ana,"line one\r\nline two, with comma"\r\n'
        'b@x.io,"Bo ""the boss""",plain\n'
        'c@x.io,Cy,"three\nlines\nhere"\r'
        "d@x.io,Di,last"
    )
    source = await _open(services, aws, text.encode())
    numbers, rows, problems = await _all_rows(source)
    assert rows == [
        ["a@x.io", "Ana", "line one\r\nline two, with comma"],
        ["b@x.io", 'Bo "the boss"', "plain"],
        ["c@x.io", "Cy", "three\nlines\nhere"],
        ["d@x.io", "Di", "last"],
    ]
    assert numbers == [2, 3, 4, 5] and problems == {}


async def test_trailing_delimiters_blank_lines_and_ragged_rows(
    services: Services, aws: AwsResources
) -> None:
    text = (
        "email;first_name;last_name;\n"
        "a@x.io;Ana;Silva;\n"
        "\n"
        ";;;\n"
        "b@x.io;Bo\n"
        "c@x.io;Cy;Ng;extra;more\n"
    )
    source = await _open(services, aws, text.encode())
    assert source.detection.headers == ["email", "first_name", "last_name"]
    numbers, rows, problems = await _all_rows(source)
    assert numbers == [2, 5, 6]
    assert rows == [
        ["a@x.io", "Ana", "Silva"],
        ["b@x.io", "Bo", ""],
        ["c@x.io", "Cy", "Ng", "extra", "more"],
    ]
    assert [p.type for p in problems[5]] == ["RAGGED_ROW"]
    assert "2 fields where the header has 3" in problems[5][0].message
    assert "5 fields" in problems[6][0].message
    assert 2 not in problems


async def test_lines_of_white_space_are_blank_not_rows(
    services: Services, aws: AwsResources
) -> None:
    # Editors and scripts leave lines of spaces or tabs, often at a file's end: blank
    # lines, not rows with a missing email and a ragged-row issue each.
    text = "email,first_name,last_name\na@x.io,Ana,Silva\n   \n\t\nb@x.io,Bo,Ng\n  \n"
    source = await _open(services, aws, text.encode())
    numbers, rows, problems = await _all_rows(source)
    assert numbers == [2, 5]
    assert rows == [["a@x.io", "Ana", "Silva"], ["b@x.io", "Bo", "Ng"]]
    assert problems == {}


async def test_a_one_row_file_without_header(services: Services, aws: AwsResources) -> None:
    source = await _open(services, aws, b"ana@example.com,Ana,Silva,Acme\n")
    assert source.detection.header_number is None
    _, rows, _ = await _all_rows(source)
    assert rows == [["ana@example.com", "Ana", "Silva", "Acme"]]
    assert source.detection.mapping.columns["email"] == 0


async def test_a_header_only_file_has_no_rows(services: Services, aws: AwsResources) -> None:
    source = await _open(services, aws, b"email,first_name,last_name,company\r\n")
    assert source.detection.headers == ["email", "first_name", "last_name", "company"]
    numbers, rows, _ = await _all_rows(source)
    assert (numbers, rows) == ([], [])


async def test_an_empty_file_is_refused(services: Services, aws: AwsResources) -> None:
    with pytest.raises(UnreadableFile, match="empty"):
        await _open(services, aws, b"")


async def test_a_binary_file_named_csv_is_refused(services: Services, aws: AwsResources) -> None:
    blob = bytes(range(256)) * 64
    with pytest.raises(UnsupportedFile, match="binary data"):
        await _open(services, aws, blob)


async def test_a_png_is_refused(services: Services, aws: AwsResources) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(100)
    with pytest.raises(UnsupportedFile, match="PNG image"):
        await _open(services, aws, png, key="up/photo.csv")


async def test_a_20_mb_single_line_is_refused_with_the_reason(
    services: Services, aws: AwsResources
) -> None:
    with pytest.raises(UnreadableFile, match="no line break"):
        await _open(services, aws, b"x," * (10 << 20))


async def test_a_huge_row_in_the_middle_is_an_issue_and_the_rest_goes_on(
    services: Services, aws: AwsResources
) -> None:
    text = (
        b"email,notes\n"
        + b"a@x.io,fine\n"
        + b"b@x.io,"
        + b"y" * (3 << 20)
        + b"\n"
        + b"c@x.io,after\n"
    )
    source = await _open(services, aws, text, max_row_chars=1 << 20)
    numbers, rows, problems = await _all_rows(source)
    assert numbers == [2, 3, 4]
    assert [p.type for p in problems[3]] == ["FIELD_TOO_LARGE"]
    assert len(rows[1][1]) < (1 << 20) + 10
    assert rows[2] == ["c@x.io", "after"]


async def test_overrides_win_over_detection(services: Services, aws: AwsResources) -> None:
    text = _csv(CONTACTS, delimiter="|").encode("latin-1")
    source = await _open(
        services,
        aws,
        text,
        options={
            "delimiter": "|",
            "encoding": "latin-1",
            "has_header": True,
            "mapping": {"email": "email", "company": 0},
        },
    )
    assert source.detection.encoding is not None
    assert source.detection.encoding.method == "override"
    assert source.detection.dialect is not None
    assert source.detection.dialect.method == "override"
    assert source.detection.mapping.columns["company"] == 0
    _, rows, _ = await _all_rows(source)
    assert rows == CONTACTS[1:]


async def test_a_preamble_before_the_header_is_skipped_by_header_row(
    services: Services, aws: AwsResources
) -> None:
    text = "Export of 2026-11-01\n\n" + _csv(CONTACTS)
    source = await _open(
        services, aws, text.encode(), options={"header_row": 3, "has_header": True}
    )
    assert source.detection.headers == CONTACTS[0]
    _, rows, _ = await _all_rows(source)
    assert rows == CONTACTS[1:]


@pytest.mark.parametrize(
    ("text", "units"),
    [
        # A statistics office's postal codes: the dates of each column under its name.
        (
            "Postal code ;Locality;Population\n(april 2009);;(2008-12-31)\n"
            "10005;STOCKHOLM ;8\n11120;STOCKHOLM ;47\n12038;ARSTA ;1256\n",
            True,
        ),
        # An import template's notes on its columns.
        (
            "first_name,last_name,email,phone\n(required),(required),(required),[optional]\n"
            "Ana,Silva,ana@example.pt,\nBo,Berg,bo@example.se,+46 8 123 45\n",
            True,
        ),
        # An accountant's negative amounts are values, the first row's as the others'.
        (
            "Account,Balance\n,(100.00)\n,(25.00)\n,(3.00)\n,(7.50)\n",
            False,
        ),
        ("Item,Amount\nRefund,(100.00)\nSale,250.00\nFee,(5.00)\n", False),
    ],
)
async def test_a_row_of_units_under_the_header_is_skipped_with_it(
    services: Services, aws: AwsResources, text: str, units: bool
) -> None:
    source = await _open(services, aws, text.encode())
    assert source.detection.units_row == (2 if units else None)
    numbers, rows, problems = await _all_rows(source)
    lines = [line for line in text.splitlines() if line]
    assert len(rows) == len(lines) - (2 if units else 1)
    assert numbers[0] == (3 if units else 2)
    assert not problems


async def test_batches_are_the_configured_size(services: Services, aws: AwsResources) -> None:
    rows = [["email"]] + [[f"u{i}@x.io"] for i in range(2500)]
    source = await _open(services, aws, _csv(rows).encode(), batch_rows=1000)
    sizes = [len(batch) async for batch in source.batches()]
    assert sizes == [1000, 1000, 500]


async def test_sha256_and_size_are_computed_while_streaming(
    services: Services, aws: AwsResources
) -> None:
    data = _csv([["email"]] + [[f"u{i}@x.io"] for i in range(100_000)]).encode()
    source = await _open(services, aws, data)
    await _all_rows(source)
    assert source.stream.bytes_read == len(data)
    assert source.stream.sha256 == hashlib.sha256(data).hexdigest()


# --- pinning


async def test_a_missing_object_is_a_clear_permanent_error(
    services: Services, aws: AwsResources
) -> None:
    with pytest.raises(ObjectMissing, match="does not exist"):
        await pin_object(services.s3, aws.bucket, "up/nope.csv")


async def test_a_changed_object_is_detected_by_etag(services: Services, aws: AwsResources) -> None:
    await _upload(aws, "up/f.csv", b"email\na@x.io\n")
    version = await pin_object(services.s3, aws.bucket, "up/f.csv")
    await _upload(aws, "up/f.csv", b"email\nb@x.io\n")
    with pytest.raises(ObjectChanged, match="changed since the job started"):
        await pin_object(services.s3, aws.bucket, "up/f.csv", etag=version.etag)
    with pytest.raises(ObjectChanged):
        async for _ in ObjectStream(services.s3, version).chunks():
            pass


async def test_a_versioned_object_is_read_at_its_pinned_version(
    services: Services, aws: AwsResources
) -> None:
    aws.s3.put_bucket_versioning(Bucket=aws.bucket, VersioningConfiguration={"Status": "Enabled"})
    await _upload(aws, "up/v.csv", b"email\nfirst@x.io\n")
    version = await pin_object(services.s3, aws.bucket, "up/v.csv")
    assert version.version_id
    await _upload(aws, "up/v.csv", b"email\nsecond@x.io\n")
    source = await open_source(ObjectStream(services.s3, version))
    _, rows, _ = await _all_rows(source)
    assert rows == [["first@x.io"]]


# --- Excel


def _xlsx(rows: list[list[Any]], sheet: str = "Contacts", extra_sheet: bool = False) -> bytes:
    workbook = Workbook()
    worksheet = workbook.active
    assert worksheet is not None
    worksheet.title = sheet
    for row in rows:
        worksheet.append(row)
    if extra_sheet:
        other = workbook.create_sheet("Other")
        other.append(["email"])
        other.append(["other@x.io"])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _with_cached_formula(data: bytes, cell: str, formula: str, cached: str) -> bytes:
    """Put a formula with a cached value (as Excel saves it) into sheet 1."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = content.decode()
                text = re.sub(
                    rf'<c r="{cell}"[^>]*?(/>|>.*?</c>)',
                    f'<c r="{cell}"><f>{formula}</f><v>{cached}</v></c>',
                    text,
                )
                content = text.encode()
            target.writestr(item, content)
    return out.getvalue()


async def test_xlsx_values_read_as_a_person_sees_them(
    services: Services, aws: AwsResources
) -> None:
    data = _xlsx(
        [
            ["Email", "First name", "Surname", "Company", "Phone", "Joined", "Score", "Balance"],
            [
                *("ana@example.pt", "Ana", "Silva", "Acme", 351912345678),
                *(dt.datetime(2024, 3, 5), 1.5, 0.1 + 0.2),
            ],
            ["bo@example.pt", "Bo", "Ng", "Acme", 912345679.0, dt.date(2023, 12, 31), 2, 1e-05],
            [None, None, None, None, None, None, None, None],
            [
                *("cy@example.pt", "Cy", "Lo", None, None),
                *(dt.datetime(2024, 1, 2, 13, 30), 0, 1234567.1 - 0.01),
            ],
            [None] * 8,
            [None] * 8,
        ]
    )
    # Row 5's score is a formula whose cached value Excel saved as 15; the balances are
    # formulas whose results Excel saved with the binary float's 17 digits.
    data = _with_cached_formula(data, "G5", "G2*10", "15")
    data = _with_cached_formula(data, "H2", "0.1+0.2", "0.30000000000000004")
    data = _with_cached_formula(data, "H5", "1234567.1-0.01", "1234567.0900000001")
    source = await _open(services, aws, data, key="up/book.xlsx")
    assert source.detection.format == "xlsx" and source.detection.sheet == "Contacts"
    assert source.detection.mapping.columns == {
        "email": 0,
        "first_name": 1,
        "last_name": 2,
        "company": 3,
        "phone": 4,
    }
    numbers, rows, _ = await _all_rows(source)
    # A number as Excel shows it (15 significant digits), not the binary float's noise:
    # 0.1 + 0.2 is stored as 0.30000000000000004 and shown as 0.3.
    assert rows == [
        ["ana@example.pt", "Ana", "Silva", "Acme", "351912345678", "2024-03-05", "1.5", "0.3"],
        ["bo@example.pt", "Bo", "Ng", "Acme", "912345679", "2023-12-31", "2", "1e-05"],
        ["cy@example.pt", "Cy", "Lo", "", "", "2024-01-02T13:30:00", "15", "1234567.09"],
    ]
    # The blank row 4 is skipped but still counted; trailing blank rows are not rows.
    assert numbers == [2, 3, 5]


async def test_xlsx_named_sheet(services: Services, aws: AwsResources) -> None:
    data = _xlsx([["email"], ["first@x.io"]], extra_sheet=True)
    source = await _open(services, aws, data, key="up/book.xlsx", options={"sheet": "Other"})
    _, rows, _ = await _all_rows(source)
    assert rows == [["other@x.io"]]
    with pytest.raises(UnreadableFile, match="no sheet named 'Missing'"):
        await _open(services, aws, data, key="up/book2.xlsx", options={"sheet": "Missing"})


async def test_a_workbook_row_with_empty_last_cells_is_not_ragged(
    services: Services, aws: AwsResources
) -> None:
    # openpyxl gives a row up to its last filled cell: an optional last column left empty.
    data = _xlsx(
        [
            ["Email", "First name", "Company", "Notes"],
            ["ana@example.pt", "Ana", "Acme", "VIP"],
            ["bo@example.pt", "Bo"],
            ["cy@example.pt", "Cy", "Lda", None],
        ]
    )
    source = await _open(services, aws, data, key="up/optional.xlsx")
    _, rows, problems = await _all_rows(source)
    assert problems == {}
    assert rows == [
        ["ana@example.pt", "Ana", "Acme", "VIP"],
        ["bo@example.pt", "Bo", "", ""],
        ["cy@example.pt", "Cy", "Lda", ""],
    ]


async def test_the_sheet_that_holds_the_contacts_is_read_after_a_cover_page(
    services: Services, aws: AwsResources
) -> None:
    workbook = Workbook()
    cover = workbook.active
    assert cover is not None
    cover.title = "Cover"
    cover.append(["Quarterly contacts export"])
    cover.append(["Prepared by the sales team"])
    notes = workbook.create_sheet("Notes")
    notes.append(["Owner", "Comment"])
    notes.append(["Ana", "check the phone numbers"])
    contacts = workbook.create_sheet("Contacts")
    contacts.append(["E-mail", "First name", "Last name"])
    for index in range(5):
        contacts.append([f"p{index}@example.com", "Ana", "Silva"])
    out = io.BytesIO()
    workbook.save(out)
    source = await _open(services, aws, out.getvalue(), key="up/covered.xlsx")
    assert source.detection.sheet == "Contacts"
    assert source.detection.summary()["sheets"] == ["Cover", "Notes", "Contacts"]
    _, rows, _ = await _all_rows(source)
    assert len(rows) == 5 and rows[0] == ["p0@example.com", "Ana", "Silva"]


async def test_merged_cells_read_as_their_value(services: Services, aws: AwsResources) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Company", "E-mail", "First name", "Last name"])
    sheet.append(["Acme", "ana@x.pt", "Ana", "Silva"])
    sheet.append([None, "bo@x.pt", "Bo", "Silva"])
    sheet.append([None, "cy@x.pt", "Cy", None])
    sheet.append(["Lda", "di@x.pt", "Di", "Ng"])
    sheet.merge_cells("A2:A4")  # one company for three people
    sheet.merge_cells("D3:D4")  # one surname for two
    out = io.BytesIO()
    workbook.save(out)
    source = await _open(services, aws, out.getvalue(), key="up/merged.xlsx")
    _, rows, problems = await _all_rows(source)
    assert problems == {}
    assert rows == [
        ["Acme", "ana@x.pt", "Ana", "Silva"],
        ["Acme", "bo@x.pt", "Bo", "Silva"],
        ["Acme", "cy@x.pt", "Cy", "Silva"],
        ["Lda", "di@x.pt", "Di", "Ng"],
    ]


@pytest.mark.parametrize("merged", [False, True])
@pytest.mark.parametrize("column", ["A", "B"])
async def test_title_rows_above_a_workbooks_header_are_skipped(
    services: Services, aws: AwsResources, merged: bool, column: str
) -> None:
    # A report's title (merged across the table, or in one cell) and a date line above the
    # header, the table starting in column A or B: the header is the header, and every
    # contact is a data row.
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    pad = [None] if column == "B" else []
    sheet.append([])
    sheet.append([*pad, "Contacts export"])
    sheet.append([*pad, "Generated on 2024-03-05 by the sales team"])
    sheet.append([])
    sheet.append([*pad, "E-mail", "First name", "Last name", "Company", "Phone"])
    for index in range(5):
        sheet.append([*pad, f"p{index}@x.pt", "Ana", "Silva", "Acme", 351910000000 + index])
    if merged:
        sheet.merge_cells(f"{column}2:{chr(ord(column) + 4)}2")
    out = io.BytesIO()
    workbook.save(out)
    source = await _open(services, aws, out.getvalue(), key="up/titled.xlsx")
    detection = source.detection
    header = ["E-mail", "First name", "Last name", "Company", "Phone"]
    assert detection.headers[len(pad) :] == header
    assert detection.header_number == 5  # the sheet's row, as Excel shows it
    assert detection.mapping.columns["email"] == len(pad)
    _, rows, problems = await _all_rows(source)
    assert problems == {}
    assert [row[len(pad) :] for row in rows] == [
        [f"p{index}@x.pt", "Ana", "Silva", "Acme", f"35191000000{index}"] for index in range(5)
    ]


async def test_old_xls_is_refused_with_what_to_do(services: Services, aws: AwsResources) -> None:
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504) + "Workbook".encode("utf-16-le")
    with pytest.raises(UnsupportedFile, match=r"\.xls.*save it as \.xlsx or CSV"):
        await _open(services, aws, ole2, key="up/old.xls")


async def test_password_protected_workbook_is_refused(
    services: Services, aws: AwsResources
) -> None:
    # An encrypted .xlsx is an OLE2 container holding an EncryptedPackage stream.
    encrypted = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + bytes(504)
        + "EncryptionInfo".encode("utf-16-le")
        + bytes(50)
        + "EncryptedPackage".encode("utf-16-le")
        + bytes(200)
    )
    with pytest.raises(UnreadableFile, match="password-protected"):
        await _open(services, aws, encrypted, key="up/secret.xlsx")


async def test_corrupt_workbook_is_refused(services: Services, aws: AwsResources) -> None:
    data = bytearray(_xlsx([["email"], ["a@x.io"]]))
    data[len(data) // 2 : len(data) // 2 + 200] = bytes(200)
    with pytest.raises(UnreadableFile, match="corrupt"):
        await _open(services, aws, bytes(data), key="up/broken.xlsx")


async def test_a_zip_that_is_not_a_workbook_is_refused(
    services: Services, aws: AwsResources
) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(UnsupportedFile, match="not an Excel workbook"):
        await _open(services, aws, out.getvalue(), key="up/a.zip")


async def test_a_zip_bomb_is_refused(services: Services, aws: AwsResources) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\x00" * (64 << 20))
    assert len(out.getvalue()) < 1 << 20
    with pytest.raises(UnreadableFile, match="zip bomb"):
        await _open(services, aws, out.getvalue(), key="up/bomb.xlsx")


class _CuttingProxy:
    """A TCP proxy to the S3 server that drops the connection after ``cut_after`` bytes of
    response: a real network cut, as a load balancer or a dying node makes one."""

    def __init__(self, upstream: str, cut_after: int) -> None:
        host, port = upstream.removeprefix("http://").split(":")
        self.upstream = (host, int(port))
        self.cut_after = cut_after
        self.server: asyncio.base_events.Server | None = None

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def _handle(
        self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(*self.upstream)

        async def requests() -> None:
            while data := await client_reader.read(65536):
                upstream_writer.write(data)
                await upstream_writer.drain()

        forwarding = asyncio.create_task(requests())
        sent = 0
        try:
            while data := await upstream_reader.read(65536):
                if sent + len(data) > self.cut_after:
                    client_writer.write(data[: max(0, self.cut_after - sent)])
                    await client_writer.drain()
                    client_writer.transport.abort()  # RST, mid-body
                    return
                client_writer.write(data)
                await client_writer.drain()
                sent += len(data)
        finally:
            forwarding.cancel()
            upstream_writer.close()
            if not client_writer.is_closing():
                client_writer.close()

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


async def test_a_connection_cut_mid_stream_is_transient(
    services: Services, aws: AwsResources
) -> None:
    data = _csv([["email"]] + [[f"user{i}@example.com"] for i in range(200_000)]).encode()
    await _upload(aws, "up/big.csv", data)
    version = await pin_object(services.s3, aws.bucket, "up/big.csv")
    proxy = _CuttingProxy(aws.emulator.endpoint_url, cut_after=2_000_000)
    endpoint = await proxy.start()
    settings = services.settings.model_copy(update={"s3_endpoint_url": endpoint})
    try:
        async with AsyncExitStack() as stack:
            s3, _ = await open_clients(settings, stack)
            stream = ObjectStream(s3, version)
            with pytest.raises(ServiceUnavailable, match="connection to S3 was lost") as caught:
                async for _ in stream.chunks():
                    pass
            assert 0 < stream.bytes_read < len(data)
            assert is_transient(caught.value)
    finally:
        await proxy.stop()


VCARD = (
    "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Silva;Ana;;;\r\nFN:Ana Silva\r\n"
    "EMAIL;type=INTERNET;type=pref:ana@acme.pt\r\nTEL;type=CELL:+351 912 345 678\r\n"
    "END:VCARD\r\n"
)


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (
            b'<html xmlns:o="urn:schemas-microsoft-com:office:office"><body><table><tr>'
            b"<td>email</td></tr><tr><td>a@x.io</td></tr></table></body></html>",
            "HTML page",
        ),
        (b"\xef\xbb\xbf\r\n<!DOCTYPE html>\n<html><table></table></html>", "HTML page"),
        (
            b'<?xml version="1.0"?>\n<?mso-application progid="Excel.Sheet"?>\n'
            b'<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"></Workbook>',
            "Excel 2003 XML spreadsheet",
        ),
        (b'<?xml version="1.0"?>\n<contacts><c>a@x.io</c></contacts>', "XML document"),
        (b'[\n  {"email": "a@x.io", "name": "Ana"},\n  {"email": "b@x.io"}\n]\n', "JSON"),
        (b'{"email": "a@x.io", "name": "Ana"}\n{"email": "b@x.io"}\n', "JSON"),
        # Address books: read as CSV split at ':', they failed for want of an email column.
        (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\n", "iCalendar file"),
        (b"dn: cn=Ana Silva,mail=ana@x.pt\nobjectclass: top\nmail: ana@x.pt\n", "LDIF"),
        (b"version: 1\ndn: cn=Ana Silva,mail=ana@x.pt\nmail: ana@x.pt\n", "LDIF"),
    ],
)
async def test_structured_text_named_like_a_table_is_refused_with_what_to_do(
    services: Services, aws: AwsResources, data: bytes, said: str
) -> None:
    # Web apps' "Export to Excel" often writes an HTML table named .xls: it was read as CSV
    # delimited by '>', every tag a column; JSON was read as CSV cut at its commas.
    told = f"the file is (an? )?{said}.*, not a CSV or .xlsx file: (open it|export the contacts)"
    with pytest.raises(UnsupportedFile, match=told):
        await _open(services, aws, data, key="up/export.xls")


@pytest.mark.parametrize(
    ("members", "said"),
    [
        ({"mimetype": "application/vnd.oasis.opendocument.spreadsheet"}, r"OpenDocument.*\.ods"),
        ({"word/document.xml": "<w/>", "[Content_Types].xml": "<x/>"}, "Word document"),
    ],
)
async def test_other_office_documents_are_named(
    services: Services, aws: AwsResources, members: dict[str, str], said: str
) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    with pytest.raises(UnsupportedFile, match=said):
        await _open(services, aws, out.getvalue(), key="up/contacts.ods")


async def test_a_workbooks_header_met_again_is_no_row(
    services: Services, aws: AwsResources
) -> None:
    # Two lists pasted one under the other in a sheet, each with its header.
    header = ["Email", "First name", "Surname", "Company"]
    data = _xlsx(
        [
            header,
            ["ana@example.pt", "Ana", "Silva", "Acme"],
            header,
            ["bo@example.pt", "Bo", "Ng", "Acme"],
        ]
    )
    source = await _open(services, aws, data, key="up/two-lists.xlsx")
    numbers, rows, problems = await _all_rows(source)
    assert (numbers, problems, source.headers_skipped) == ([2, 4], {}, 1)
    assert [row[0] for row in rows] == ["ana@example.pt", "bo@example.pt"]


async def test_a_workbooks_report_footer_is_no_row(services: Services, aws: AwsResources) -> None:
    # A report sheet: the table, an empty row, then the lines the tool writes below it.
    data = _xlsx(
        [
            ["Email", "First name", "Surname", "Company"],
            ["ana@example.pt", "Ana", "Silva", "Acme"],
            ["bo@example.pt", "Bo", "Ng", "Acme"],
            [],
            ["Confidential Information - Do Not Distribute"],
            ["Generated By: Ana Silva 01/05/2024"],
        ]
    )
    source = await _open(services, aws, data, key="up/report.xlsx")
    numbers, _, problems = await _all_rows(source)
    assert (numbers, problems, source.footer_rows) == ([2, 3], {}, [5, 6])


async def test_a_sheet_whose_dates_name_the_columns_under_a_grouping_label(
    services: Services, aws: AwsResources
) -> None:
    # A statistics office's sheet: its title, a row repeating the label that groups the
    # columns (Stichtag), the dates that name them, the states, their total, and under a
    # rule the footnotes. The dates are the header, though they are dates; the total,
    # the rule and the notes are the footer.
    days = [dt.date(2019, 12, 31), dt.date(2020, 12, 31), dt.date(2021, 12, 31)]
    data = _xlsx(
        [
            ["Gebietsfläche (qkm)"],
            [None, "Stichtag", "Stichtag", "Stichtag"],
            [None, *days],
            ["Bayern", 70550.87, 70550.87, 70548.0],
            ["Berlin", 890.82, 890.85, 890.77],
            ["Bremen", 404.23, 404.23, 404.23],
            ["Insgesamt", 71845.92, 71845.95, 71843.0],
            ["_____"],
            ["(C)opyright Statistisches Bundesamt, Wiesbaden 2010"],
        ]
    )
    source = await _open(services, aws, data, key="up/flaeche.xlsx")
    assert source.detection.header_number == 3
    assert all(source.detection.headers[1:])
    numbers, _, problems = await _all_rows(source)
    assert (numbers, problems, source.footer_rows) == ([4, 5, 6], {}, [7, 8, 9])


async def test_the_header_row_is_the_sheets_row_number(
    services: Services, aws: AwsResources
) -> None:
    # A title, an empty row, then the header on Excel's row 3: shown and taken as row 3,
    # the numbers the data rows and their issues carry.
    header = ["Email", "First name", "Surname", "Company"]
    data = _xlsx([["Contacts export 2024"], [], header, ["ana@example.pt", "Ana", "Silva", "Acme"]])
    for options in ({}, {"header_row": 3}):
        source = await _open(services, aws, data, key="up/titled.xlsx", options=options)
        assert (source.detection.header_number, source.detection.headers) == (3, header)
        numbers, _, _ = await _all_rows(source)
        assert numbers == [4], options


@pytest.mark.parametrize("codec", ["utf-8", "utf-16"])
async def test_a_vcard_file_is_read_a_card_a_row(
    services: Services, aws: AwsResources, codec: str
) -> None:
    # A phone's or iCloud's export (Outlook writes UTF-16): one contact a card.
    data = (VCARD + VCARD.replace("Silva;Ana", "Ng;Bo").replace("ana@", "bo@")).encode(codec)
    source = await _open(services, aws, data, key="up/contacts.vcf", batch_rows=1)
    assert source.detection.format == "vcard"
    assert {name: source.detection.mapping.columns[name] for name in ("email", "first_name")} == {
        "email": 3,
        "first_name": 0,
    }
    numbers, rows, problems = await _all_rows(source)
    assert (numbers, problems) == ([1, 8], {})
    assert [row[:5] for row in rows] == [
        ["Ana", "Silva", "Ana Silva", "ana@acme.pt", "+351 912 345 678"],
        ["Bo", "Ng", "Ana Silva", "bo@acme.pt", "+351 912 345 678"],
    ]
