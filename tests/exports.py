"""Generators of the contact files real tools write, each with the truth about it.

Every generator writes its export the way the tool does (header names, quoting, line ends,
encoding, date and number formats), then a variant may add what people do to files:
title lines above the header, ``#`` comments, a first quoted field late in the file, an
optional last column left empty, another delimiter. Tests and ``bench/detect.py
--generated`` read these through the worker's own row source and compare with the truth;
nothing here is copied from another project's data.
"""

from __future__ import annotations

import csv
import io
import random
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, replace

FIRST = ["Ana", "João", "Zoë", "Jürgen", "Marie", "Sven", "Chloé", "Liam", "Inês", "Noah"]
LAST = ["Silva", "Müller", "O'Brien", "Lefèvre", "Smith", "García", "Nguyen", "Ødegård"]
COMPANIES = [
    "Acme Ltd",
    "Lojas Ávila",
    "Smith, Jones & Co",
    "Café Ñandú",
    "Women's Health Inc",
    "Nørre A/S",
    "",
]
CITIES = ["Lisboa", "München", "Paris", "São Paulo", "Zürich", "Porto", "Lyon"]
JA_FIRST = ["太郎", "花子", "健一", "美咲"]
JA_LAST = ["山田", "佐藤", "鈴木", "高橋"]
JA_COMPANIES = ["株式会社テスト", "山田商事", "東京システム"]


@dataclass(frozen=True)
class ExportFile:
    """A generated file and what is true of it."""

    name: str
    data: bytes
    encoding: str  # the codec that wrote it (a BOM, if any, is part of ``data``)
    delimiter: str
    quotechar: str | None  # None: nothing in the file is quoted
    has_header: bool
    header_row: int  # the header's (or first data row's) row number, blank lines counted
    rows: list[list[str]]  # the data rows, as a person reads them
    header: list[str] | None = None
    newline: str = "\r\n"
    quoting: int = csv.QUOTE_MINIMAL
    bom: bool = False
    # Reading problems a person must be told about: row number -> problem types.
    problems: dict[int, list[str]] = field(default_factory=dict)

    def render(self, rows: list[list[str]], header: bool = True) -> str:
        """Rows written as this file writes them (no BOM)."""
        return _write(
            self.header if header else None,
            rows,
            delimiter=self.delimiter,
            quoting=self.quoting,
            quotechar=self.quotechar or '"',
            newline=self.newline,
        )


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if char.isascii() and char.isalnum()) or "x"


def _person(rng: random.Random, index: int) -> dict[str, str]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    return {
        "first": first,
        "last": last,
        "email": f"{_ascii(first.lower())}.{index}@example.com",
        "phone": f"+351 91{rng.randrange(1000000, 9999999)}",
        "company": rng.choice(COMPANIES),
        "city": rng.choice(CITIES),
        "date": f"{rng.randrange(1, 28):02d}/{rng.randrange(1, 12):02d}/20{rng.randrange(10, 25)}",
        "time": f"{rng.randrange(0, 23):02d}:{rng.randrange(0, 59):02d}:{rng.randrange(0, 59):02d}",
        "amount": f"{rng.randrange(0, 99999)},{rng.randrange(0, 99):02d}",
    }


def _write(
    header: list[str] | None,
    rows: list[list[str]],
    *,
    delimiter: str = ",",
    quoting: int = csv.QUOTE_MINIMAL,
    quotechar: str = '"',
    newline: str = "\r\n",
) -> str:
    out = io.StringIO()
    writer = csv.writer(
        out, delimiter=delimiter, quoting=quoting, quotechar=quotechar, lineterminator=newline
    )
    if header is not None:
        writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _file(
    name: str,
    header: list[str] | None,
    rows: list[list[str]],
    *,
    delimiter: str = ",",
    quoting: int = csv.QUOTE_MINIMAL,
    quotechar: str = '"',
    newline: str = "\r\n",
    encoding: str = "utf-8",
    bom: bool = False,
) -> ExportFile:
    text = _write(
        header, rows, delimiter=delimiter, quoting=quoting, quotechar=quotechar, newline=newline
    )
    data = text.encode(encoding)
    if bom:
        data = b"\xef\xbb\xbf" + data
    return ExportFile(
        name,
        data,
        encoding,
        delimiter,
        quotechar if quotechar in text else None,
        header is not None,
        1,
        rows,
        header,
        newline,
        quoting,
        bom,
    )


def outlook(rng: random.Random, count: int) -> ExportFile:
    """Outlook's "Comma Separated Values": every field quoted, CRLF, cp1252."""
    header = ["First Name", "Middle Name", "Last Name", "Company", "Job Title"]
    header += ["Business Phone", "Mobile Phone", "E-mail Address", "E-mail Display Name"]
    header += ["Notes", "Categories"]
    rows = []
    for index in range(count):
        p = _person(rng, index)
        rows.append(
            [
                p["first"],
                "",
                p["last"],
                p["company"],
                rng.choice(["Manager", "CEO", ""]),
                p["phone"],
                "",
                p["email"],
                f"{p['first']} {p['last']} ({p['email']})",
                rng.choice(["", "Met at the fair,\r\nfollow up", "VIP"]),
                rng.choice(["", "Customers;Friends"]),
            ]
        )
    return _file("outlook.csv", header, rows, quoting=csv.QUOTE_ALL, encoding="cp1252")


def google(rng: random.Random, count: int) -> ExportFile:
    """Google Contacts: UTF-8, LF, minimal quoting, ``:::``-joined multi-values."""
    header = ["Name", "Given Name", "Family Name", "Nickname", "Birthday", "Notes"]
    header += ["Group Membership", "E-mail 1 - Type", "E-mail 1 - Value"]
    header += ["Phone 1 - Type", "Phone 1 - Value", "Organization 1 - Name"]
    rows = []
    for index in range(count):
        p = _person(rng, index)
        rows.append(
            [
                f"{p['first']} {p['last']}",
                p["first"],
                p["last"],
                "",
                rng.choice(["", "1985-04-12", "--06-30"]),
                "",
                rng.choice(["* myContacts", "Family ::: * myContacts"]),
                "* Home",
                p["email"],
                rng.choice(["Mobile", "Work ::: Mobile"]),
                p["phone"],
                p["company"],
            ]
        )
    return _file("google.csv", header, rows, newline="\n")


def hubspot(rng: random.Random, count: int) -> ExportFile:
    """HubSpot: UTF-8 with a BOM, timestamps, lifecycle stages."""
    header = ["Record ID", "First Name", "Last Name", "Email", "Phone Number"]
    header += ["Company Name", "Create Date", "Lifecycle Stage", "Contact owner"]
    rows = []
    for index in range(count):
        p = _person(rng, index)
        rows.append(
            [
                str(rng.randrange(10**9, 10**10)),
                p["first"],
                p["last"],
                p["email"],
                p["phone"],
                p["company"],
                f"2024-0{rng.randrange(1, 9)}-1{rng.randrange(0, 9)} {p['time'][:5]}",
                rng.choice(["Lead", "Subscriber", "Customer"]),
                rng.choice(["", "Maria Lopes"]),
            ]
        )
    return _file("hubspot.csv", header, rows, bom=True)


def salesforce(rng: random.Random, count: int) -> ExportFile:
    """Salesforce Data Loader: every field quoted, LF, ids, ISO timestamps."""
    header = ["Id", "FirstName", "LastName", "Email", "Phone", "Account.Name", "CreatedDate"]
    rows = []
    for index in range(count):
        p = _person(rng, index)
        rows.append(
            [
                f"0035g00000{rng.randrange(10**7, 10**8)}AAA",
                p["first"],
                p["last"],
                p["email"],
                p["phone"],
                p["company"],
                f"2023-11-0{rng.randrange(1, 9)}T{p['time']}.000Z",
            ]
        )
    return _file("salesforce.csv", header, rows, quoting=csv.QUOTE_ALL, newline="\n")


def mailchimp(rng: random.Random, count: int) -> ExportFile:
    """Mailchimp audience export: many columns, addresses with double spaces, tags."""
    header = ["Email Address", "First Name", "Last Name", "Address", "Phone Number"]
    header += ["MEMBER_RATING", "OPTIN_TIME", "OPTIN_IP", "GMTOFF", "TIMEZONE", "TAGS"]
    rows = []
    for index in range(count):
        p = _person(rng, index)
        rows.append(
            [
                p["email"],
                p["first"],
                p["last"],
                rng.choice(["", f"12 Rua Augusta  {p['city']}  1100-048 PT"]),
                p["phone"],
                str(rng.randrange(1, 5)),
                f"2022-05-0{rng.randrange(1, 9)} {p['time']}",
                f"192.0.2.{rng.randrange(1, 254)}",
                "0",
                "Europe/Lisbon",
                rng.choice(["", '"Customer"', '"Customer","VIP"']),
            ]
        )
    return _file("mailchimp.csv", header, rows, newline="\n")


_LINKEDIN_NOTES = (
    "Notes:\n"
    '"When exporting your connection data, you may notice that some of the email addresses '
    "are missing. You will only see email addresses for connections who have allowed their "
    'connections to see or download their email address using this setting."\n\n'
)


def linkedin(rng: random.Random, count: int) -> ExportFile:
    """LinkedIn's connections export: a note (a line, then a quoted paragraph with commas)
    and a blank line above the header, most emails missing, positions with commas."""
    header = ["First Name", "Last Name", "URL", "Email Address", "Company", "Position"]
    header.append("Connected On")
    rows = []
    for index in range(count):
        p = _person(rng, index)
        rows.append(
            [
                p["first"],
                p["last"],
                f"https://www.linkedin.com/in/{_ascii(p['first'].lower())}-{index}",
                p["email"] if rng.random() < 0.3 else "",
                p["company"],
                rng.choice(["Engineer", "Director, Sales", "CEO"]),
                f"{rng.randrange(1, 28):02d} Mar 2024",
            ]
        )
    export = _file("linkedin.csv", header, rows, newline="\n")
    return replace(export, data=(_LINKEDIN_NOTES + export.render(rows)).encode(), header_row=4)


_THUNDERBIRD = [
    "First Name", "Last Name", "Display Name", "Nickname", "Primary Email", "Secondary Email",
    "Screen Name", "Work Phone", "Home Phone", "Fax Number", "Pager Number", "Mobile Number",
    "Home Address", "Home Address 2", "Home City", "Home State", "Home ZipCode", "Home Country",
    "Work Address", "Work Address 2", "Work City", "Work State", "Work ZipCode", "Work Country",
    "Job Title", "Department", "Organization", "Web Page 1", "Web Page 2", "Birth Year",
    "Birth Month", "Birth Day", "Custom 1", "Custom 2", "Custom 3", "Custom 4", "Notes",
]  # fmt: skip


def thunderbird(rng: random.Random, count: int, encoding: str) -> ExportFile:
    """Thunderbird's address book export: every line, the header's too, ends with a
    delimiter (an empty last field); written in the system's code page on Windows (and
    UTF-8 elsewhere), CRLF, most of its 37 columns empty."""
    rows = []
    for index in range(count):
        p = _person(rng, index)
        row = [""] * len(_THUNDERBIRD)
        row[0], row[1], row[2] = p["first"], p["last"], f"{p['first']} {p['last']}"
        row[4], row[11], row[14] = p["email"], p["phone"], p["city"]
        row[26] = p["company"]
        row[36] = rng.choice(["", "", "met at the fair, 2023"])
        rows.append(row)
    text = "".join(_write(None, [cells], newline="") + ",\r\n" for cells in [_THUNDERBIRD, *rows])
    # The empty name after the last is no column, nor the empty field after each row.
    name = f"thunderbird-{encoding}.csv"
    return ExportFile(name, text.encode(encoding), encoding, ",", '"', True, 1, rows, _THUNDERBIRD)


def excel_unicode_text(rng: random.Random, count: int) -> ExportFile:
    """Excel's "Unicode Text (*.txt)", what people save a sheet as to keep its accents and
    scripts: UTF-16 LE with a byte-order mark, tab-delimited, CRLF."""
    header = ["Name", "E-mail", "Telefon", "Stadt", "Firma"]
    rows = []
    for index in range(count):
        p = _person(rng, index)
        name = rng.choice([f"{p['first']} {p['last']}", "Łukasz Żółć", "Δήμητρα Ζαφείρη"])
        rows.append([name, p["email"], p["phone"], p["city"], p["company"]])
    text = _write(header, rows, delimiter="\t")
    return ExportFile(
        "excel-unicode.txt", text.encode("utf-16"), "utf-16", "\t", None, True, 1, rows, header
    )


def excel_mac(rng: random.Random, count: int) -> ExportFile:
    """Excel for Mac's "CSV (Macintosh)": Mac Roman, a lone CR ending every line."""
    header = ["First Name", "Last Name", "Email", "Company", "City"]
    rows = []
    for index in range(count):
        p = _person(rng, index)
        rows.append([p["first"], p["last"], p["email"], p["company"], p["city"]])
    return _file("excel-mac.csv", header, rows, newline="\r", encoding="mac_roman")


_LOCALES = {
    # Excel "Save as CSV" in each locale: the list separator, the codepage, its headers.
    "pt": (";", "cp1252", ["Nome", "Apelido", "E-mail", "Telefone", "Empresa", "Valor"]),
    "de": (";", "cp1252", ["Vorname", "Nachname", "E-Mail", "Telefon", "Firma", "Betrag"]),
    "fr": (";", "cp1252", ["Prénom", "Nom", "Courriel", "Téléphone", "Société", "Montant"]),
    "ja": (",", "cp932", ["名", "姓", "メールアドレス", "電話番号", "会社名", "金額"]),
    "ru": (";", "cp1251", ["Имя", "Фамилия", "Эл. почта", "Телефон", "Организация", "Сумма"]),
    "pl": (";", "cp1250", ["Imię", "Nazwisko", "E-mail", "Telefon", "Firma", "Kwota"]),
    "tr": (";", "cp1254", ["Ad", "Soyadı", "E-posta", "Telefon", "Şirket", "Tutar"]),  # noqa: RUF001
    "el": (";", "cp1253", ["Όνομα", "Επώνυμο", "Email", "Τηλέφωνο", "Εταιρεία", "Ποσό"]),
    "zh": (",", "gbk", ["名", "姓", "电子邮件", "电话", "公司", "金额"]),
    "ko": (",", "cp949", ["이름", "성", "이메일", "전화", "회사", "금액"]),
}
# Names and companies as each locale's own lists hold them (those the locale writes in
# its own script or letters).
_LOCAL_NAMES = {
    "ru": (["Иван", "Наталья", "Ольга", "Сергей"], ["Смирнов", "Попова"], ["ООО «Ромашка»"]),  # noqa: RUF001
    "pl": (["Łukasz", "Małgorzata", "Paweł"], ["Wójcik", "Kowalczyk"], ["Żabka Sp. z o.o."]),
    "tr": (["Ayşe", "Mehmet", "Çağla"], ["Yılmaz", "Öztürk"], ["Güneş A.Ş."]),  # noqa: RUF001
    "el": (["Γιώργος", "Ελένη", "Νίκος"], ["Παπαδόπουλος", "Οικονόμου"], ["Αφοί Νικολάου ΑΕ"]),  # noqa: RUF001
    "zh": (["伟", "娜", "敏"], ["王", "李", "张"], ["北京科技有限公司"]),
    "ko": (["민준", "서연", "지훈"], ["김", "이", "박"], ["주식회사 한빛"]),
}


def excel(rng: random.Random, count: int, locale: str) -> ExportFile:
    """Excel's "CSV" in a locale: its list separator and codepage, CRLF, minimal quoting,
    decimal commas, an optional last column mostly empty."""
    delimiter, encoding, header = _LOCALES[locale]
    rows = []
    for index in range(count):
        p = _person(rng, index)
        if locale == "ja":
            p["first"], p["last"] = rng.choice(JA_FIRST), rng.choice(JA_LAST)
            p["company"] = rng.choice(JA_COMPANIES)
            p["amount"] = str(rng.randrange(0, 99999))
        elif locale in _LOCAL_NAMES:
            firsts, lasts, companies = _LOCAL_NAMES[locale]
            p["first"], p["last"] = rng.choice(firsts), rng.choice(lasts)
            p["company"] = rng.choice([*companies, "Acme Ltd", ""])
        rows.append(
            [
                p["first"],
                p["last"],
                p["email"],
                p["phone"],
                p["company"],
                p["amount"] if rng.random() < 0.2 else "",
            ]
        )
    return _file(f"excel-{locale}.csv", header, rows, delimiter=delimiter, encoding=encoding)


def unusual(rng: random.Random, count: int, delimiter: str) -> ExportFile:
    """A system export with a rarer delimiter, times and dates in its cells."""
    header = ["id", "email", "name", "created_at", "last_seen", "score"]
    rows = []
    for index in range(count):
        p = _person(rng, index)
        rows.append(
            [
                str(index + 1),
                p["email"],
                f"{p['first']} {p['last']}".replace(delimiter, ""),
                f"2024-01-{rng.randrange(10, 28)}",
                p["time"],
                str(rng.randrange(0, 100)),
            ]
        )
    name = {" ": "space", "\t": "tab"}.get(delimiter, f"x{ord(delimiter):02x}")
    return _file(f"delim-{name}.csv", header, rows, delimiter=delimiter, newline="\n")


def aligned(rng: random.Random, count: int, *, padded_end: bool) -> ExportFile:
    """A list printed as a console table or a plain-text report (``column -t``, a SQL
    client's output, R's ``print``): columns padded with spaces to their widths, numbers
    right-aligned, the last column padded too when ``padded_end``. A run of spaces is one
    delimiter; no value holds a space."""
    header = ["id", "email", "first_name", "last_name", "city", "score"]
    rows = []
    for index in range(count):
        p = _person(rng, index)
        city = rng.choice([c for c in CITIES if " " not in c])
        score = str(rng.randrange(0, 10 ** rng.randrange(1, 5)))
        rows.append([str(index + 1), p["email"], p["first"], p["last"], city, score])
    widths = [max(len(row[c]) for row in [header, *rows]) for c in range(len(header))]
    right = {0, 5}  # the numbers

    def line(cells: list[str]) -> str:
        padded = [
            cell.rjust(width) if c in right else cell.ljust(width)
            for c, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        text = "  ".join(padded)
        return text if padded_end else text.rstrip()

    text = "".join(line(cells) + "\n" for cells in [header, *rows])
    name = "aligned-padded.txt" if padded_end else "aligned.txt"
    return ExportFile(name, text.encode(), "utf-8", " ", None, True, 1, rows, header, "\n")


def single_quoted(rng: random.Random, count: int) -> ExportFile:
    """A tool that quotes with ``'`` (and names with apostrophes in them)."""
    header = ["email", "name", "company", "city"]
    rows = []
    for index in range(count):
        p = _person(rng, index)
        company = rng.choice(["Women's Health, Inc", "O'Neil & Sons", "Acme"])
        rows.append([p["email"], f"{p['first']} {p['last']}", company, p["city"]])
    return _file("single-quote.csv", header, rows, quotechar="'", newline="\n")


def _spaced_text(
    header: list[str] | None,
    rows: list[list[str]],
    *,
    delimiter: str,
    quotechar: str,
    quoting: int,
    newline: str,
) -> str:
    """Rows whose cells are written as ``csv`` writes them, joined by the delimiter and a
    space (``a, b, "c, d"``)."""

    def cell(value: str) -> str:
        if not value and quoting != csv.QUOTE_ALL:
            return ""
        out = io.StringIO()
        csv.writer(
            out, delimiter=delimiter, quotechar=quotechar, quoting=quoting, lineterminator=""
        ).writerow([value])
        return out.getvalue()

    lines = [[*header]] if header else []
    return "".join(
        f"{delimiter} ".join(cell(value) for value in row) + newline for row in lines + rows
    )


def spaced(rng: random.Random, count: int, delimiter: str, quoting: int) -> ExportFile:
    """A list written by a script or by hand with a space after each delimiter, quoting
    the values that hold one (or all of them): ``ana@x.pt, Ana, "Smith, Jones & Co"``."""
    header = ["email", "first name", "last name", "company", "phone"]
    rows = []
    for index in range(count):
        p = _person(rng, index)
        company = rng.choice([p["company"], f"{p['last']}{delimiter} {p['company']}"])
        rows.append([p["email"], p["first"], p["last"], company, p["phone"]])
    text = _spaced_text(
        header, rows, delimiter=delimiter, quotechar='"', quoting=quoting, newline="\n"
    )
    name = {",": "comma", ";": "semicolon", "|": "pipe"}[delimiter]
    return ExportFile(
        f"spaced-{name}.csv",
        text.encode("utf-8"),
        "utf-8",
        delimiter,
        '"',
        True,
        1,
        rows,
        header,
        "\n",
        quoting,
    )


# What people do to files after the tool wrote them.


def _encoded(export: ExportFile, text: str) -> bytes:
    return (b"\xef\xbb\xbf" if export.bom else b"") + text.encode(export.encoding)


def with_title(export: ExportFile) -> ExportFile:
    """Title lines above the header, as CRM and spreadsheet reports write them."""
    nl = export.newline
    title = f"Contacts export{nl}Generated on 2024-05-01 10:00{nl}{nl}"
    data = _encoded(export, title + export.render(export.rows))
    return replace(export, name=f"title-{export.name}", data=data, header_row=4)


def with_sheet_title(export: ExportFile) -> ExportFile:
    """A sheet with a title in its first cell and an empty row under it, saved as CSV:
    Excel writes every row of the used range at the table's width (``Title;;;;;`` and
    ``;;;;;``)."""
    nl, padding = export.newline, export.delimiter * (len(export.header or export.rows[0]) - 1)
    text = f"Contacts export{padding}{nl}{padding}{nl}" + export.render(export.rows)
    return replace(
        export, name=f"sheet-title-{export.name}", data=_encoded(export, text), header_row=3
    )


def club_sheet(rng: random.Random, count: int) -> ExportFile:
    """A club's member sheet, kept by hand and saved as CSV in a Portuguese Excel: a title
    in its first cell over a row left empty (both at the table's width), then columns
    nobody's import template names, figures and many empty cells."""
    header = ["Sócio n.º", "Nome do sócio", "Escalão", "Quota (€)", "Pago em", "Observações"]
    rows = []
    for index in range(count):
        p = _person(rng, index)
        rows.append(
            [
                str(100 + index),
                f"{p['first']} {p['last']}",
                rng.choice(["Sénior", "Júnior", "Veterano", ""]),
                rng.choice(["25,00", "12,50", ""]),
                p["date"] if rng.random() < 0.6 else "",
                rng.choice(["", "", "", "isento", "paga em dobro"]),
            ]
        )
    export = _file("club-sheet.csv", header, rows, delimiter=";", encoding="cp1252")
    padding = ";" * (len(header) - 1)
    text = f"Lista de sócios 2024{padding}\r\n{padding}\r\n" + export.render(rows)
    return replace(export, data=_encoded(export, text), header_row=3)


def two_columns(rng: random.Random, count: int) -> ExportFile:
    """The smallest contact list: a name and an address, under a title that has a comma
    (a title as wide as the table), as a person types it."""
    header = ["name", "email"]
    rows = []
    for index in range(count):
        p = _person(rng, index)
        rows.append([f"{p['first']} {p['last']}", p["email"]])
    export = _file("two-columns.csv", header, rows, newline="\n")
    text = "Newsletter list, May 2024\n" + export.render(rows)
    return replace(export, data=text.encode(), header_row=2)


def mailboxes(rng: random.Random, count: int, header: str | None = None) -> ExportFile:
    """Addresses pasted from a mail program's To: line, one a line (under ``header`` if
    given): a display name of one to three words, the address in angle brackets."""
    rows = []
    for index in range(count):
        p = _person(rng, index)
        name = rng.choice([p["first"], f"{p['first']} {p['last']}", f"{p['first']} da {p['last']}"])
        rows.append([f"{name} <{p['email']}>"])
    name = f"mailboxes-{header or 'bare'}.csv"
    return _file(name, [header] if header else None, rows, newline="\n")


def by_year(rng: random.Random, count: int, first_year: int, years: int) -> ExportFile:
    """A statistics table with a column per year (World Bank, Eurostat, a pivot table):
    a header of names, then years; figures below, whole or decimal."""
    header = ["Country Name", "Country Code", *(str(first_year + i) for i in range(years))]
    rows = []
    for index in range(count):
        p = _person(rng, index)
        decimal = index % 2 == 0
        figures = [
            f"{rng.uniform(0, 100):.2f}" if decimal else str(rng.randrange(1000, 9999999))
            for _ in range(years)
        ]
        rows.append([p["city"], _ascii(p["city"])[:3].upper(), *figures])
    return _file(f"by-year-{first_year}.csv", header, rows, newline="\n")


def one_column(rng: random.Random, count: int) -> ExportFile:
    """One column of names written ``Last, First``: every value quoted for its comma."""
    rows = [[f"{p['last']}, {p['first']}"] for p in (_person(rng, i) for i in range(count))]
    return _file("one-column.csv", ["name"], rows, newline="\n")


def with_comments(export: ExportFile) -> ExportFile:
    """``#`` comment lines before the header and among the rows."""
    nl = export.newline
    text = _in_halves(
        export, f"# exported by crm-sync 2.1{nl}# {len(export.rows)} records{nl}", "# page 2"
    )
    return replace(
        export, name=f"comments-{export.name}", data=_encoded(export, text), header_row=3
    )


def _in_halves(export: ExportFile, opening: str, between: str, closing: str = "") -> str:
    """The export's text with ``opening`` above it, the line ``between`` its two halves
    of rows and the line ``closing`` (if any) under them."""
    nl = export.newline
    half = len(export.rows) // 2
    return (
        opening
        + export.render(export.rows[:half])
        + f"{between}{nl}"
        + export.render(export.rows[half:], header=False)
        + (f"{closing}{nl}" if closing else "")
    )


def with_commented_header(export: ExportFile) -> ExportFile:
    """The header written as a comment (``#email,first_name,...``), as data tools write it;
    the names are read without the marker."""
    nl = export.newline
    header, _, body = export.render(export.rows).partition(nl)
    text = f"#{header}{nl}{body}"
    return replace(export, name=f"hash-header-{export.name}", data=_encoded(export, text))


def with_notes_and_commented_header(export: ExportFile) -> ExportFile:
    """A data dump's notes (``#`` lines, some blank, some padded with the delimiter to the
    table's width as a sheet saves them) and, last of them, the header behind the marker
    (geonames' ``#ISO<TAB>ISO3...``): the notes are skipped, the header read without it."""
    nl, pad = export.newline, export.delimiter * 3
    notes = [
        "# ================================",
        "#",
        "# Notes: codes follow ISO 3166; 'UK' is reserved.",
        f"# Sources: https://example.org/list?key=a-b_c&hl=en{pad}",
        f"#{pad}",
        "# 1. FO : pegged 1:1 to the krone",
    ]
    header, _, body = export.render(export.rows).partition(nl)
    text = nl.join([*notes, f"#{header}"]) + nl + body
    return replace(
        export,
        name=f"notes-hash-header-{export.name}",
        data=_encoded(export, text),
        header_row=len(notes) + 1,
    )


def with_title_and_notes(export: ExportFile) -> ExportFile:
    """A title over the header, and ``#`` notes among the rows (the file does not open
    with one): the notes are skipped, as comments, and the title as a preamble."""
    text = _in_halves(export, f"Contacts{export.newline}", "# page 2", "# end of list")
    return replace(
        export, name=f"title-notes-{export.name}", data=_encoded(export, text), header_row=2
    )


def with_utf8_mark_over_legacy(export: ExportFile) -> ExportFile:
    """A UTF-8 byte-order mark written over a legacy body (an exporter that writes the
    mark, then cp1252): the mark is skipped and the body read in its own encoding."""
    text = export.render(export.rows)
    return replace(
        export,
        name=f"utf8-mark-{export.name}",
        data=b"\xef\xbb\xbf" + text.encode(export.encoding),
        bom=True,
    )


def with_late_quote(rng: random.Random, count: int) -> ExportFile:
    """The first field that needs quotes comes after the 800th row."""
    header = ["email", "first_name", "last_name", "company", "phone"]
    rows = []
    for index in range(count):
        p = _person(rng, index)
        company = "Smith, Jones & Co" if index == count - 5 else "Acme Ltd"
        rows.append([p["email"], p["first"], p["last"], company, p["phone"]])
    return _file("late-quote.csv", header, rows)


def with_stray_quote(rng: random.Random, count: int, at: int) -> ExportFile:
    """A ``"`` typed at the start of one company and never closed (unquoted data): that
    row is read as it stands and reported; the rows after it are rows, not its text."""
    header = ["email", "first_name", "last_name", "company", "phone"]
    rows = []
    for index in range(count):
        p = _person(rng, index)
        company = '"Smith' if index == at else "Acme Ltd"
        rows.append([p["email"], p["first"], p["last"], company, p["phone"]])
    text = "".join(",".join(row) + "\n" for row in [header, *rows])
    return ExportFile(
        f"stray-quote-{at}.csv",
        text.encode(),
        "utf-8",
        ",",
        None,
        True,
        1,
        rows,
        header,
        "\n",
        # Inside the detection sample the stray quote makes quoting lose: the file is read
        # without it, so the row reads as it stands and there is nothing to report.
        problems={at + 2: ["UNCLOSED_QUOTE"]} if at >= 200 else {},
    )


def with_rows_commented_out(export: ExportFile) -> ExportFile:
    """Rows someone took out of the list by putting ``#`` before them (as a config file's
    lines are), with a note that says so: they are no rows. The rest of the list is read
    as it stands."""
    out = {2, len(export.rows) // 2, len(export.rows) - 3}
    note = f"# these have left:{export.newline}"
    text = export.render([]) + "".join(
        (note + "#" if index == 2 else "#" if index in out else "")
        + export.render([row], header=False)
        for index, row in enumerate(export.rows)
    )
    kept = [row for i, row in enumerate(export.rows) if i not in out]
    return replace(
        export,
        name=f"commented-rows-{export.name}",
        data=_encoded(export, text),
        rows=kept,
    )


def with_appended(export: ExportFile) -> ExportFile:
    """Two exports appended into one file, each with its header (``cat a.csv b.csv``, or
    a second export pasted under the first): the header comes again among the rows."""
    half = len(export.rows) // 2
    second = ("\ufeff" if export.bom else "") + export.render(export.rows[half:])
    text = export.render(export.rows[:half]) + second  # a file with a BOM brings it along
    return replace(export, name=f"appended-{export.name}", data=_encoded(export, text))


def with_group_row(export: ExportFile) -> ExportFile:
    """A two-level header, as a sheet lays one out: a row that groups the columns (the
    person's, the company's) over the row that names them."""
    header = export.header or []
    groups = ["Contacto" if index == 0 else "" for index in range(len(header))]
    for index, name in enumerate(header):
        if name in ("Empresa", "Firma", "Société", "Company"):
            groups[index] = name  # the company's group, named as its one column
    group_line = _write(None, [groups], delimiter=export.delimiter, newline=export.newline)
    text = group_line + export.render(export.rows)
    return replace(export, name=f"grouped-{export.name}", data=_encoded(export, text), header_row=2)


def with_report_footer(export: ExportFile) -> ExportFile:
    """A report exported with its footer, the lines below the table: Salesforce writes two
    empty quoted lines, its copyright, "Confidential", "Generated By" and the company; a
    sheet saved as CSV keeps its total line at the table's width."""
    nl, padding = export.newline, export.delimiter * (len(export.header or export.rows[0]) - 1)
    if export.quoting == csv.QUOTE_ALL:
        footer = [
            '""',
            '""',
            '"Copyright (c) 2000-2024 salesforce.com, inc. All rights reserved."',
            '"Confidential Information - Do Not Distribute"',
            '"Generated By:  Ana Silva  01/05/2024 10:00"',
            '"Acme Lda"',
        ]
    else:
        footer = [padding, f"Total: {len(export.rows)} contacts{padding}"]
    text = export.render(export.rows) + "".join(line + nl for line in footer)
    return replace(export, name=f"footer-{export.name}", data=_encoded(export, text))


def with_total_row(export: ExportFile) -> ExportFile:
    """A sheet with a total row under its table (the sum of its last column), saved as CSV
    at the table's width."""
    width = len(export.header or export.rows[0])
    label = {"excel-de.csv": "Summe", "excel-fr.csv": "Total :"}.get(export.name, "Total")
    total = [label, *[""] * (width - 2), "1.234,56"]
    text = export.render(export.rows) + export.render([total], header=False)
    return replace(export, name=f"total-{export.name}", data=_encoded(export, text))


# An account statement's preamble, as payment apps and banks write it above the table:
# a rule, the account's facts (its address after a label), counts, numbered notes, a
# blank line or two, a rule again. No delimiter of the table in it.
_STATEMENT_EN = [
    "-" * 72,
    "Statement export",
    "Name: Ana Silva",
    "Account: ana.silva@example.com",
    "From: [2024-02-01 00:00:00]    To: [2024-02-29 23:59:59]",
    "Type: [all]",
    "Exported: [2024-03-01 09:12:52]",
    "66 records",
    "In: 1 record 28.50",
    "Out: 63 records 16.54",
    "",
    "Notes:",
    "1. Amounts are in the account's currency and refunds count as neither.",
    "2. Deleted records are not shown.",
    "3. For your own records only.",
    "",
    "-" * 24 + " Transactions " + "-" * 24,
]
_STATEMENT_ZH = [
    "-" * 84,
    "导出信息：",  # noqa: RUF001
    "姓名：王伟",  # noqa: RUF001
    "账户：wang.wei@example.com",  # noqa: RUF001
    "起始时间：[2024-02-01 00:00:00]    终止时间：[2024-02-29 23:59:59]",  # noqa: RUF001
    "导出交易类型：[全部]",  # noqa: RUF001
    "导出时间：[2024-03-01 09:12:52]",  # noqa: RUF001
    "共66笔记录",
    "收入：1笔 28.50元",  # noqa: RUF001
    "支出：63笔 16.54元",  # noqa: RUF001
    "",
    "特别提示：",  # noqa: RUF001
    "1.本回单内容可表明受理了相应支付交易申请，以实际交易情况为准；",  # noqa: RUF001
    "2.请勿将本回单作为收款方发货的凭据使用；",  # noqa: RUF001
    "3.部分账单不计入收入或者支出，记为不计收支类；",  # noqa: RUF001
    "4.本明细仅展示当前账单中的交易，不包括已删除的记录；",  # noqa: RUF001
    "5.本明细仅供个人对账使用。",
    "",
    "-" * 24 + "电子客户回单" + "-" * 24,
]


def with_statement_preamble(export: ExportFile, lines: list[str], *, sheet: bool) -> ExportFile:
    """A payment app's or bank's statement: a long preamble (more lines than the table may
    have rows) over the header. ``sheet``: saved from a sheet, every line padded to the
    table's width with delimiters (``Name: Ana Silva,,,,,``)."""
    nl = export.newline
    padding = export.delimiter * (len(export.header or export.rows[0]) - 1) if sheet else ""
    table = export.render(export.rows[:6])
    return replace(
        export,
        name=f"statement-{'sheet-' if sheet else ''}{export.name}",
        data=_encoded(export, "".join(line + padding + nl for line in lines) + table),
        quotechar=export.quotechar if export.quotechar and export.quotechar in table else None,
        rows=export.rows[:6],
        header_row=len(lines) + 1,
    )


# A bank's statement file as its portal writes it: the account's facts, a label ending in
# a colon and its value each, in groups parted by blank lines (None), over the table.
_ACCOUNT_FACTS = {
    "de": [
        ["Kontonummer:", "DE33330333331112223334 / Girokonto"],
        None,
        ["Von:", "01.10.2018"],
        ["Bis:", "20.10.2018"],
        ["Kontostand vom 20.10.2018:", "1.234,56 EUR"],
        ["Betrag von:", "", "bis:", ""],
        None,
    ],
    "en": [
        ["Account:", "GB29 NWBK 6016 1331 9268 19 / Current account"],
        ["Period:", "01/06/2024 - 30/06/2024"],
        ["Balance on 30/06/2024:", "1,234.56 GBP"],
        None,
    ],
}
_STATEMENT_HEADERS = {
    "de": [
        "Buchungstag",
        "Wertstellung",
        "Buchungstext",
        "Auftraggeber / Begünstigter",
        "Verwendungszweck",
        "Kontonummer",
        "BLZ",
        "Betrag (EUR)",
    ],
    "en": ["Date", "Type", "Description", "Paid out", "Paid in", "Balance"],
}


def bank_statement(rng: random.Random, language: str, count: int) -> ExportFile:
    """A bank's statement as its portal exports it: more lines of the account's facts
    than the table under them has rows (a fortnight's few payments), so the facts' width
    is the file's usual one. The German portal quotes every field and closes every line
    with a delimiter, in ISO 8859-1; the British one writes plain commas."""
    german = language == "de"
    delimiter, nl = (";", "\r\n") if german else (",", "\n")
    quoting = csv.QUOTE_ALL if german else csv.QUOTE_MINIMAL
    header = _STATEMENT_HEADERS[language]
    rows = []
    for _ in range(count):
        day = (
            f"{rng.randrange(1, 20):02d}.10.2018"
            if german
            else f"{rng.randrange(1, 30):02d}/06/2024"
        )
        amount = f"-{rng.randrange(1, 999)},{rng.randrange(0, 99):02d}"
        payee = rng.choice(["Stadtwerke Süd", "Bäckerei Schön", "Acme Ltd", "Smith, Jones & Co"])
        if german:
            rows.append([day, day, "Lastschrift", payee, "Rechnung", "DE9999", "BLZ", amount])
        else:
            rows.append([day, "DD", payee, amount.replace(",", ".")[1:], "", "1,234.56"])
    closing = delimiter if german else ""

    def lines(block: list[list[str]]) -> str:
        return "".join(
            _write(None, [row], delimiter=delimiter, quoting=quoting, newline="") + closing + nl
            for row in block
        )

    facts = _ACCOUNT_FACTS[language]
    head = "".join(nl if fact is None else lines([fact]) for fact in facts)
    encoding = "latin-1" if german else "utf-8"
    return ExportFile(
        f"statement-{language}.csv",
        (head + lines([header]) + lines(rows)).encode(encoding),
        encoding,
        delimiter,
        '"' if german else None,
        True,
        len(facts) + 1,
        rows,  # a delimiter closing every line closes no cell
        header,
        nl,
        quoting,
    )


def text_table(rng: random.Random, count: int, style: str) -> ExportFile:
    """A table drawn as text, as people paste it into a file: Markdown's (GitHub's, a
    chat assistant's: borders, an alignment row with colons), psql's (no borders, a rule
    of dashes and ``+`` under the header, ``(N rows)`` under the table) or the MySQL
    client's (``+----+`` rules above and below, ``N rows in set (0.00 sec)``). Cells are
    padded to the column's width; the padding is no part of the value."""
    header = ["id", "first_name", "last_name", "email", "company"]
    rows = []
    for index in range(count):
        person = _person(rng, index)
        company = person["company"].replace("|", "/")
        rows.append([str(index + 1), person["first"], person["last"], person["email"], company])
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(5)]

    def line(cells: list[str], border: str, joint: str, fill: str = " ") -> str:
        padded = [cell.ljust(width, fill) for cell, width in zip(cells, widths, strict=True)]
        return border + joint.join(f"{fill}{cell}{fill}" for cell in padded) + border + "\n"

    dashes = ["-" * width for width in widths]
    if style == "markdown":
        # The first column aligned right, the others left: ``|---:|:----|``.
        align = [
            ("-" * (w + 1) + ":") if not i else (":" + "-" * (w + 1)) for i, w in enumerate(widths)
        ]
        text = line(header, "|", "|") + "|" + "|".join(align) + "|\n"
        text += "".join(line(r, "|", "|") for r in rows)
        header_row = 1
    elif style == "psql":
        text = line(header, "", "|") + line(dashes, "", "+", "-")
        text += "".join(line(r, "", "|") for r in rows) + f"({count} rows)\n\n"
        header_row = 1
    else:
        rule = line(dashes, "+", "+", "-")
        text = rule + line(header, "|", "|") + rule + "".join(line(r, "|", "|") for r in rows)
        text += rule + f"{count} rows in set (0.00 sec)\n"
        header_row = 2
    return ExportFile(
        f"drawn-{style}.txt",
        text.encode("utf-8"),
        "utf-8",
        "|",
        None,
        True,
        header_row,
        rows,
        header,
        "\n",
    )


def statistics_table(rng: random.Random, count: int) -> ExportFile:
    """A statistics office's table as its site exports it: a title and the filters chosen,
    a row grouping the columns over a header whose corner is empty (the rows' labels are
    dates), figures, and below the table, after blank lines, the footnotes and metadata,
    each a key and its text under a heading (one text runs over several lines, one holds
    the office's address)."""
    regions = ["North Board", "Coast Board (1)", "Valley Board", "City Board (2)"]
    head = [
        '"Health > Hospital activity > Admissions by date and board"',
        '"Admissions by date and board"',
        "",
        "Filters:",
        "Hospital type: All hospitals",
        "",
    ]
    groups = ["", "Region ", "", "", "", "Region "]
    header = ["", *(name + " " for name in regions), "."]
    rows = []
    for day in range(count):
        figures = [str(rng.randrange(100, 2000)) for _ in regions]
        rows.append([f"{day % 28 + 1:02d}-Jun 2021 ", *figures, str(sum(map(int, figures)))])
    notes = [
        ["1", "The board reports from 23 April, when community hospitals were included."],
        ["2", "Recovering patients were counted as confirmed before 7 June."],
        [".", "The data item is not applicable."],
    ]
    metadata = [
        ["Title", "Hospital admissions by board, hospital type and date"],
        ["Last update", "13 July 2021"],
        ["Contact email", "stats@example.org"],
        ["Data collection", "A daily return.\n\nAs of 10 May, Monday's upload holds Friday's."],
        ["Keywords", "admissions, hospital, board"],
    ]
    nl = "\n"
    text = (
        nl.join(head)
        + nl
        + _write(None, [groups, header], quoting=csv.QUOTE_ALL, newline=nl)
        + "".join(f'"{row[0]}",{",".join(row[1:])}{nl}' for row in rows)
        + nl * 3
        + "Footnotes:"
        + nl
        + _write(None, notes, quoting=csv.QUOTE_ALL, newline=nl)
        + "Metadata:"
        + nl
        + _write(None, metadata, quoting=csv.QUOTE_ALL, newline=nl)
    )
    return ExportFile(
        "statistics.csv",
        text.encode(),
        "utf-8",
        ",",
        '"',
        True,
        len(head) + 2,
        rows,
        ["column_1", *(name.strip() for name in regions), "."],
        nl,
    )


_SECTIONS = [
    ("A", "Agriculture, forestry and fishing", ["Crop and animal production", "Forestry"]),
    ("B", "Mining and quarrying", ["Mining of coal and lignite", "Extraction of crude oil"]),
    ("C", "Manufacturing", ["Manufacture of food products", "Manufacture of beverages"]),
    ("D", "Electricity, gas, steam and air conditioning supply", ["Electric power"]),
    ("E", "Water supply; sewerage, waste management", ["Water collection, treatment"]),
    ("F", "Construction", ["Construction of buildings", "Civil engineering"]),
]


def classification(rng: random.Random, delimiter: str, *, header: bool) -> ExportFile:
    """An economic activities classification as a statistics office lists it (NACE, CNAE):
    each section's letter and title, then its divisions, groups and classes by their codes
    of two, three and four digits; ``header``: under ``Code`` and ``Title``, else none."""
    rows = []
    division = 1
    for letter, title, divisions in _SECTIONS:
        rows.append([letter, title])
        for name in divisions:
            code = f"{division:02d}"
            rows.append([code, name])
            for group in range(1, rng.randint(2, 3)):
                rows.append([f"{code}{group}", f"{name}, group {group}"])
                for item in range(1, rng.randint(2, 4)):
                    rows.append([f"{code}{group}{item}", f"{name}, class {group}.{item}"])
            division += 1
    names = ["Code", "Title"] if header else None
    text = _write(names, rows, delimiter=delimiter, quoting=csv.QUOTE_MINIMAL, newline="\n")
    return ExportFile(
        f"classification-{'header' if header else 'bare'}.csv",
        text.encode(),
        "utf-8",
        delimiter,
        '"' if any(delimiter in cell for row in rows for cell in row) else None,
        header,
        1,
        rows,
        names,
        "\n",
    )


_STATES = ["Baden-Württemberg", "Bayern", "Berlin", "Brandenburg", "Bremen", "Hamburg"]
_STATES += ["Hessen", "Mecklenburg-Vorpommern", "Niedersachsen", "Nordrhein-Westfalen"]
_STATES += ["Rheinland-Pfalz", "Saarland", "Sachsen", "Sachsen-Anhalt", "Thüringen"]


def office_table(rng: random.Random, count: int, *, dated: bool = False) -> ExportFile:
    """A federal statistics office's table as its database exports it (GENESIS): the
    table's code and title lines, a header whose corner is empty (``dated``: the dates of
    the columns, under a row repeating the label that groups them, ``;Stichtag;Stichtag``),
    a row for each state and the total under them, then with no blank line a rule over
    the footnotes, another over the copyright and the date of the export; cp1252, ``;``."""
    head = ["GENESIS-Tabelle: 12411-0010", "Bevölkerung: Bundesländer, Geschlecht;;;"]
    head += ["Fortschreibung des Bevölkerungsstandes;;;", "Bevölkerung (Anzahl);;;"]
    header = ["", "männlich", "weiblich", "Insgesamt"]
    if dated:
        head.append(";Stichtag;Stichtag;Stichtag")
        header = ["", "31.12.2019", "31.12.2020", "31.12.2021"]
    rows = []
    for state in _STATES[:count]:
        men, women = rng.randrange(300_000, 9_000_000), rng.randrange(300_000, 9_000_000)
        rows.append([state, str(men), str(women), str(men + women)])
    total = ["Insgesamt", *(str(sum(int(row[n]) for row in rows)) for n in (1, 2, 3))]
    footer = ["_____", "Bevölkerung:", "Ergebnisse auf Grundlage des Zensus 2011.", "_____"]
    footer += ["(C)opyright Statistisches Bundesamt (Destatis), 2023", "Stand: 22.04.2023"]
    nl = "\r\n"
    text = nl.join([*head, *(";".join(row) for row in [header, *rows, total]), *footer]) + nl
    return ExportFile(
        "genesis-dated.csv" if dated else "genesis.csv",
        text.encode("cp1252"),
        "cp1252",
        ";",
        None,
        True,
        len(head) + 1,
        rows,
        ["column_1", *header[1:]],
        nl,
    )


# DATEV's address export (Debitoren/Kreditoren), as German accounting software writes it
# for a tax adviser: the first 40 of its columns.
DATEV_HEADER = [
    *("Konto", "Name (Adressattyp Unternehmen)", "Unternehmensgegenstand"),
    *("Name (Adressattyp natürl. Person)", "Vorname (Adressattyp natürl. Person)"),
    *("Name (Adressattyp keine Angabe)", "Adressattyp", "Kurzbezeichnung", "EU-Land"),
    *("EU-UStID", "Anrede", "Titel/Akad. Grad", "Adelstitel", "Namensvorsatz", "Adressart"),
    *("Straße", "Postfach", "Postleitzahl", "Ort", "Land", "Versandzusatz", "Adresszusatz"),
    *("Abweichende Anrede", "Abw. Zustellbezeichnung 1", "Abw. Zustellbezeichnung 2"),
    *("Kennz. Korrespondenzadresse", "Adresse Gültig von", "Adresse Gültig bis", "Telefon"),
    *("Bemerkung (Telefon)", "Telefon GL", "Bemerkung (Telefon GL)", "E-Mail"),
    *("Bemerkung (E-Mail)", "Internet", "Bemerkung (Internet)", "Fax", "Bemerkung (Fax)"),
    *("Sonstige", "Bemerkung (Sonstige)"),
]


def datev(rng: random.Random, count: int) -> ExportFile:
    """DATEV's Debitoren/Kreditoren export: a line of the batch's facts (``"EXTF";700;16;
    "Debitoren/Kreditoren";...``) above the header, text quoted and numbers not, ``;``,
    cp1252, CRLF. A company's name and a person's sit in columns of their own."""
    rows = []
    for index in range(count):
        person = _person(rng, index)
        company = index % 2 == 0
        row = [""] * len(DATEV_HEADER)
        row[0] = str(10000 + index)
        if company:
            row[1], row[6], row[10] = person["company"], "2", "Firma"
        else:
            row[3], row[4], row[6], row[10] = person["last"], person["first"], "1", "Herr"
        row[7] = (person["company"] if company else person["last"])[:15]
        row[15], row[17], row[18], row[19] = "Hauptstraße 5", "80331", person["city"], "DE"
        row[25] = "1"
        row[28], row[32] = person["phone"], person["email"]
        rows.append(row)
    numeric = {0, 25}

    def line(cells: list[str], *, quote_all: bool) -> str:
        return ";".join(
            cell if (cell == "" or index in numeric) and not quote_all else f'"{cell}"'
            for index, cell in enumerate(cells)
        )

    facts = '"EXTF";700;16;"Debitoren/Kreditoren";5;20240130140440439;;"SV";"";"";29098;55003'
    text = facts + ";20240101;4;;;;;;;;;;\r\n" + line(DATEV_HEADER, quote_all=True) + "\r\n"
    text += "".join(line(row, quote_all=False) + "\r\n" for row in rows)
    return ExportFile(
        "datev-debitoren.csv",
        text.encode("cp1252"),
        "cp1252",
        ";",
        '"',
        True,
        2,
        rows,
        DATEV_HEADER,
        "\r\n",
    )


def with_legacy_end(export: ExportFile, tail: bytes) -> ExportFile:
    """Bytes after the last row that are no row: DOS's end-of-file mark (Ctrl-Z, written by
    old DOS and mainframe tools) or NULs padding a file written into space allocated before
    (a copy cut short, a fixed-size record file)."""
    kind = "ctrl-z" if tail == b"\x1a" else f"nul-padded-{len(tail)}"
    return replace(export, name=f"{kind}-{export.name}", data=export.data + tail)


def without_header(export: ExportFile) -> ExportFile:
    """The same rows, no header line (a tool's "data only" export)."""
    text = export.render(export.rows, header=False)
    return replace(
        export,
        name=f"noheader-{export.name}",
        data=_encoded(export, text),
        has_header=False,
        header=None,
    )


def corpus(seed: int = 7, rows: int = 60) -> list[ExportFile]:
    """Every generator and variant once: the generated corpus."""
    rng = random.Random(seed)
    makers: list[Callable[[], ExportFile]] = [
        lambda: outlook(rng, rows),
        lambda: google(rng, rows),
        lambda: hubspot(rng, rows),
        lambda: salesforce(rng, rows),
        lambda: mailchimp(rng, rows),
        *(lambda locale=locale: excel(rng, rows, locale) for locale in ("pt", "de", "fr", "ja")),
        *(
            lambda d=d: unusual(rng, rows, d)
            for d in ("\t", "|", "^", "~", ":", " ", "+", "\x1f", "\x1e")
        ),
        lambda: single_quoted(rng, rows),
        lambda: spaced(rng, rows, ",", csv.QUOTE_MINIMAL),
        lambda: spaced(rng, rows, ";", csv.QUOTE_ALL),
        lambda: spaced(rng, rows, "|", csv.QUOTE_MINIMAL),
        lambda: two_columns(rng, rows),
        lambda: club_sheet(rng, rows),
        lambda: one_column(rng, rows),
        lambda: by_year(rng, rows, 1960, 8),
        lambda: by_year(rng, rows, 2019, 2),
        lambda: mailboxes(rng, rows),
        lambda: mailboxes(rng, rows, "To"),
        lambda: linkedin(rng, rows),
    ]
    files = [make() for make in makers]
    variants = [with_title(f) for f in files[:9]]
    variants += [with_sheet_title(f) for f in files[5:9]]
    variants += [with_comments(f) for f in files[:9]]
    variants += [with_commented_header(f) for f in files[1:5]]
    variants += [without_header(f) for f in files[5:8]]
    variants.append(with_late_quote(rng, 900))
    variants += [with_stray_quote(rng, 600, at) for at in (5, 400, 597)]
    variants += [with_appended(f) for f in files[:9]]
    variants += [with_report_footer(f) for f in files[3:7]]
    variants += [with_group_row(f) for f in files[5:8]]
    variants += [with_total_row(f) for f in files[5:8]]
    variants += [with_legacy_end(f, b"\x1a") for f in files[:2]]
    variants += [with_legacy_end(f, b"\x00" * size) for f in files[2:4] for size in (64, 8192)]
    variants += [with_notes_and_commented_header(f) for f in (files[1], files[9], files[10])]
    variants += [with_utf8_mark_over_legacy(f) for f in (files[0], files[6], files[7])]
    variants += [with_title_and_notes(f) for f in files[1:4]]
    variants += [aligned(rng, rows, padded_end=padded) for padded in (False, True)]
    variants += [with_rows_commented_out(f) for f in (files[0], files[5], files[11])]
    variants += [thunderbird(rng, rows, encoding) for encoding in ("utf-8", "cp1252")]
    variants += [excel_unicode_text(rng, rows), excel_mac(rng, rows)]
    variants += [excel(rng, rows, locale) for locale in ("ru", "pl", "tr", "el", "zh", "ko")]
    variants += [
        with_statement_preamble(variants[-2], _STATEMENT_ZH, sheet=False),
        with_statement_preamble(files[6], _STATEMENT_EN, sheet=True),
        with_statement_preamble(files[1], _STATEMENT_EN, sheet=False),
        bank_statement(rng, "de", 2),
        bank_statement(rng, "en", 1),
        *(text_table(rng, 12, style) for style in ("markdown", "psql", "mysql")),
    ]
    variants += [statistics_table(rng, 31), office_table(rng, 12)]
    variants.append(office_table(rng, 15, dated=True))
    variants += [classification(rng, "|", header=False), classification(rng, ";", header=True)]
    variants.append(datev(rng, 9))
    return files + variants


# --- Random tables: not any tool's export, but any table written with any dialect.

_WORDS = ["alpha", "north", "Smith", "O'Brien", "Müller", "Zoë", "café", "Acme", "Ltd", "Inc"]
_NAMES = ["id", "name", "email", "company", "city", "amount", "date", "notes", "phone", "when"]


def _random_cell(kind: str, rng: random.Random) -> str:
    if kind == "int":
        return str(rng.randint(0, 99_999))
    if kind == "decimal":
        return f"{rng.uniform(-1000, 1000):.2f}"
    if kind == "grouped":
        return f"{rng.randint(1, 9)},{rng.randint(100, 999)}.{rng.randint(10, 99)}"
    if kind == "date":
        return f"20{rng.randint(10, 25)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    if kind == "time":
        return f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
    if kind == "word":
        return rng.choice(_WORDS)
    if kind == "phrase":
        return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 4)))
    if kind == "email":
        return f"{rng.choice(_WORDS).lower()}{rng.randint(1, 999)}@example.com"
    return rng.choice(["", "", rng.choice(_WORDS)])  # mostly empty


_KINDS = ["int", "decimal", "grouped", "date", "time", "word", "phrase", "email", "sparse"]


def random_table(rng: random.Random, index: int) -> ExportFile:
    """A table of 2-9 typed columns and 3-400 rows, with or without a header, written with
    a random delimiter (the common ones more often), quote character, quoting, line end and
    encoding (UTF-8, with a BOM at times, cp1252 or UTF-16), and at times a space after
    each delimiter."""
    columns = rng.randint(2, 9)
    kinds = [rng.choice(_KINDS) for _ in range(columns)]
    has_header = rng.random() < 0.75
    delimiter = rng.choice([",", ",", ",", ";", ";", "\t", "\t", "|", ":", " ", "~", "^"])
    quotechar = rng.choice(['"', '"', '"', "'"])
    quoting = rng.choice([csv.QUOTE_MINIMAL, csv.QUOTE_MINIMAL, csv.QUOTE_ALL])
    newline = rng.choice(["\n", "\r\n", "\r\n", "\r"])
    header = rng.sample(_NAMES, columns) if has_header and columns <= len(_NAMES) else None
    has_header = header is not None
    rows: list[list[str]] = []
    for _ in range(rng.choice([3, 5, 10, 30, 100, 400])):
        row = [_random_cell(kind, rng) for kind in kinds]
        # A row of only empty cells is no data row (it reads as blank); one cell is set.
        rows.append(row if any(row) else [*row[:-1], rng.choice(_WORDS)])
    # One table in five has a space after each delimiter (decided apart, so that the
    # tables of a seed stay what they were before this variant).
    if delimiter not in " \t" and random.Random(f"spaced-{index}").random() < 0.2:
        text = _spaced_text(
            header, rows, delimiter=delimiter, quotechar=quotechar, quoting=quoting, newline=newline
        )
    else:
        out = io.StringIO()
        writer = csv.writer(
            out, delimiter=delimiter, quotechar=quotechar, quoting=quoting, lineterminator=newline
        )
        writer.writerows([header, *rows] if header else rows)
        text = out.getvalue()
    encoding = rng.choice(["utf-8", "utf-8", "utf-8", "utf-8", "cp1252", "utf-16"])
    bom = encoding == "utf-8" and rng.random() < 0.25
    return ExportFile(
        name=f"random-{index:04d}.csv",
        data=(b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding),
        encoding=encoding,
        bom=bom,
        delimiter=delimiter,
        quotechar=quotechar if quotechar in text else None,
        has_header=has_header,
        header_row=1,
        rows=rows,
        header=header,
        newline=newline,
        quoting=quoting,
    )


def random_tables(count: int, seed: int = 1) -> list[ExportFile]:
    """``count`` random tables (see :func:`random_table`)."""
    rng = random.Random(seed)
    return [random_table(rng, index) for index in range(count)]


# Names, places and company words as contact lists in each language hold them, and the
# legacy encodings such lists are exported in (a spreadsheet or CRM on a localised system).
_NATIVE: dict[str, tuple[str, tuple[str, ...]]] = {
    "ru": (
        "Иван Пётр Алексей Наталья Ольга Сергей Мария Дмитрий Смирнов Иванов Кузнецов "
        "Попова Соколова Москва Санкт-Петербург Новосибирск улица компания отдел продаж",
        ("cp1251", "koi8_r"),
    ),
    "uk": (
        "Олександр Тарас Оксана Юлія Шевченко Коваленко Київ Львів Харків вулиця",  # noqa: RUF001
        ("cp1251",),
    ),
    "el": (
        "Γιώργος Μαρία Νίκος Ελένη Παπαδόπουλος Αθήνα Θεσσαλονίκη οδός εταιρεία",
        ("cp1253", "iso8859_7"),
    ),
    "tr": (
        "Ahmet Mehmet Ayşe Fatma Yılmaz Kaya Demir Şahin Çelik İstanbul Ankara İzmir Güneş "  # noqa: RUF001
        "Öztürk",
        ("cp1254", "iso8859_9"),
    ),
    "pl": (
        "Łukasz Paweł Małgorzata Zofia Wójcik Kowalczyk Wrocław Łódź Kraków Gdańsk Świętokrzyska",
        ("cp1250", "iso8859_2"),
    ),
    "cs": (
        "Jiří Petr Kateřina Tereza Novák Dvořák Černý Brno Plzeň Ústí Ostrava Žižkov",
        ("cp1250", "iso8859_2"),
    ),
    "de": (
        "Jürgen Günther Jörg Müller Schröder Weiß Straße München Köln Düsseldorf Bäckerei",
        ("cp1252", "mac_roman", "cp850"),
    ),
    "fr": (
        "François Hélène Chloé Léa Gérard Lefèvre Benoît Besançon Orléans Rhône Château Noël",
        ("cp1252", "mac_roman", "cp850"),
    ),
    "es": ("José María Peña Muñoz Álvarez Gómez Córdoba Málaga Cádiz León Núñez", ("cp1252",)),
    "pt": (
        "João Conceição Gonçalves Simões Lourenço Brandão Évora Póvoa Açores Guimarães",
        ("cp1252", "mac_roman"),
    ),
    "lt": ("Jonas Žemaitis Šiauliai Kaunas Vilnius Ąžuolas Įmonė Ūkis", ("cp1257",)),
    "ar": ("محمد أحمد فاطمة علي القاهرة الرياض دبي شركة المبيعات", ("cp1256",)),
    "ja": (
        "田中 佐藤 鈴木 高橋 渡辺 東京 大阪 株式会社 営業部 さくら ひろし 山本 京都",
        ("shift_jis", "euc_jp"),
    ),
    "zh": ("王伟 李娜 张敏 刘洋 陈静 北京 上海 广州 有限公司 销售部 深圳 杭州", ("gb18030",)),
    "tw": ("陳志明 林美玲 黃俊傑 台北 高雄 台中 股份有限公司 業務部 新竹", ("big5",)),
    "ko": ("김민준 이서연 박지훈 최수빈 서울 부산 인천 주식회사 영업부 대구", ("euc_kr",)),
    # Lists of a company with contacts across a region: names of several languages.
    "west": (
        "Zoë Müller Peña Gonçalves François Jürgen Björk Núñez Lefèvre Weiß Ñandú Ødegård "
        "Sæther Ångström",
        ("cp1252", "mac_roman", "cp850"),
    ),
    "central": (
        "Łukasz Dvořák Szőke Wójcik Černý Kovács Ľubica Gábor Żaneta Ščerba Tűz Štefan",
        ("cp1250", "iso8859_2"),
    ),
    # Hebrew, whose letters land on the small letters of Cyrillic and Greek code pages.
    "he": (
        "דוד משה יוסף אברהם שרה רחל מרים נועה כהן לוי מזרחי פרץ ביטון ירושלים חיפה אשדוד "
        "נתניה רחוב חברה",
        ("cp1255",),
    ),
    "th": (
        "สมชาย สมหญิง ประเสริฐ วิไล ศรีสุข ใจดี รักไทย มั่นคง กรุงเทพ เชียงใหม่ บริษัท จำกัด",
        ("cp874", "tis_620"),
    ),
}
LEGACY_HEADER = ["Email", "First name", "Last name", "City", "Company"]
_ASCII_WORDS = ["Smith", "Anna", "Lee", "Acme", "Paris", "Ltd", "O'Brien"]


def legacy_contact_list(rng: random.Random, index: int, language: str, encoding: str) -> ExportFile:
    """A contact list of 2-200 rows whose names are in ``language`` (some rows, or all),
    written in ``encoding``, with a comma, semicolon or tab."""
    words = _NATIVE[language][0].split()
    share = rng.choice([0.1, 0.5, 1.0])  # of the cells in the language; the rest ASCII
    delimiter = rng.choice([",", ";", "\t"])
    rows = []
    for number in range(rng.choice([2, 3, 5, 10, 40, 200])):
        cells = [
            rng.choice(words) if rng.random() < share else rng.choice(_ASCII_WORDS) for _ in "abcd"
        ]
        rows.append([f"contact{number}@example.com", *cells])
    if not any(not cell.isascii() for row in rows for cell in row):
        rows[0][1] = words[0]  # a list in a legacy encoding holds at least one such name
    text = _write(
        LEGACY_HEADER,
        rows,
        delimiter=delimiter,
        quoting=csv.QUOTE_MINIMAL,
        quotechar='"',
        newline="\r\n",
    )
    return ExportFile(
        name=f"{language}-{encoding}-{index:04d}.csv",
        data=text.encode(encoding),
        encoding=encoding,
        delimiter=delimiter,
        quotechar='"' if '"' in text else None,
        has_header=True,
        header_row=1,
        rows=rows,
        header=LEGACY_HEADER,
    )


def legacy_contact_lists(per_encoding: int, seed: int = 1) -> list[ExportFile]:
    """``per_encoding`` contact lists for each language and legacy encoding in ``_NATIVE``."""
    rng = random.Random(seed)
    return [
        legacy_contact_list(rng, index, language, encoding)
        for language, (_words, encodings) in _NATIVE.items()
        for encoding in encodings
        for index in range(per_encoding)
    ]


# Common given names and surnames of some languages, spelled in ASCII as most of each
# language's names are: a list of them with one accented name is a list whose code page
# only the ASCII names around that letter tell (cp1250's Cichoń is cp1252's Cichoñ).
ASCII_NAMES = {
    "pl": (
        "Anna Piotr Krzysztof Andrzej Tomasz Michal Marcin Jakub Adam Katarzyna Maria "
        "Agnieszka Barbara Ewa Krystyna Zofia Joanna Magdalena Monika Jan Marek Grzegorz "
        "Wojciech Zbigniew Jerzy Tadeusz",
        "Nowak Kowalski Wisniewski Wojcik Kowalczyk Kaminski Lewandowski Zielinski "
        "Szymanski Wozniak Dabrowski Kozlowski Jankowski Mazur Kwiatkowski Krawczyk "
        "Piotrowski Grabowski Nowakowski Pawlowski Michalski Nowicki Adamczyk Dudek Zajac "
        "Wieczorek Jablonski Krol Majewski Olszewski Jaworski Wrobel Malinowski Pawlak",
    ),
    "tr": (
        "Mehmet Mustafa Ahmet Ali Huseyin Hasan Ibrahim Ismail Osman Yusuf Murat Omer "
        "Ramazan Halil Suleyman Abdullah Mahmut Recep Salih Fatma Ayse Emine Hatice Zeynep "
        "Elif Meryem Sultan Hulya Merve Zehra Esra",
        "Yilmaz Kaya Demir Celik Yildiz Yildirim Ozturk Aydin Ozdemir Arslan Kilic Aslan "
        "Cetin Kara Koc Kurt Ozkan Simsek Polat Ozcan Korkmaz Erdogan Akin Bulut Gunes "
        "Keskin Aksoy Tekin Aktas Yavuz Tas Ozer Bozkurt Cakir Kocak Karatas Turan Yuksel",
    ),
    "hu": (
        "Laszlo Istvan Jozsef Janos Zoltan Sandor Ferenc Gabor Attila Peter Tamas Zsolt "
        "Tibor Andras Csaba Imre Lajos Gyorgy Balazs Maria Erzsebet Katalin Ilona Eva Anna "
        "Zsuzsanna Margit Judit Agnes Andrea Erika Krisztina",
        "Nagy Kovacs Toth Szabo Horvath Varga Kiss Molnar Nemeth Farkas Balogh Papp Takacs "
        "Juhasz Lakatos Meszaros Olah Simon Racz Fekete Szilagyi Torok Feher Balazs Gal Kis "
        "Szucs Kocsis Pinter Fodor Szalai Sipos Magyar Lukacs Gulyas Biro Kiraly Katona",
    ),
    "sv": (
        "Lars Mikael Anders Johan Erik Per Karl Peter Thomas Jan Daniel Fredrik Hans Bengt "
        "Anna Eva Maria Karin Kristina Lena Sara Kerstin Emma Ingrid Marie Malin Jenny",
        "Andersson Johansson Karlsson Nilsson Eriksson Larsson Olsson Persson Svensson "
        "Gustafsson Pettersson Jonsson Jansson Hansson Bengtsson Lindberg Jakobsson "
        "Magnusson Olofsson Lindqvist Lindgren Berg Axelsson Lundberg Lind Lundgren Mattsson",
    ),
    "it": (
        "Giuseppe Giovanni Antonio Mario Luigi Francesco Angelo Vincenzo Pietro Salvatore "
        "Carlo Franco Domenico Bruno Paolo Maria Anna Giuseppina Rosa Angela Giovanna Teresa "
        "Lucia Carmela Caterina Francesca",
        "Rossi Russo Ferrari Esposito Bianchi Romano Colombo Ricci Marino Greco Bruno Gallo "
        "Conti Mancini Costa Giordano Rizzo Lombardi Moretti Barbieri Fontana Santoro "
        "Mariani Rinaldi Caruso Ferrara Galli Martini Leone Longo Gentile Martinelli Vitale",
    ),
    "lt": (
        "Jonas Petras Antanas Tomas Mindaugas Darius Andrius Marius Paulius Rimantas "
        "Vytautas Aurimas Ona Janina Irena Kristina Rasa Daiva Ruta Asta Laima Inga Lina",
        "Kazlauskas Jankauskas Petrauskas Stankevicius Vasiliauskas Zukauskas Butkus "
        "Paulauskas Urbonas Kavaliauskas Baranauskas Navickas Ramanauskas Savickas Rimkus "
        "Adomaitis Mockus Sakalauskas Vaitkus Lukosevicius Balciunas Valaitis Kairys",
    ),
    "lv": (
        "Janis Andris Juris Edgars Maris Aivars Guntis Martins Valdis Arturs Anna Kristine "
        "Inese Ilze Laura Liga Dace Sandra Linda Anita Zane Agnese Baiba Inga Marta",
        "Berzins Kalnins Ozolins Jansons Ozols Liepins Krumins Balodis Eglitis Zarins "
        "Petersons Vitols Klavins Karklins Vanags Lacis Sproge Grinbergs Freimanis Strazds",
    ),
    "es": (
        "Antonio Jose Manuel Francisco David Juan Javier Daniel Carlos Jesus Alejandro "
        "Miguel Rafael Pedro Pablo Angel Sergio Fernando Jorge Luis Maria Carmen Ana Isabel "
        "Laura Cristina Marta Lucia Elena Pilar Sara Paula Rosa Raquel Sofia",
        "Garcia Rodriguez Gonzalez Fernandez Lopez Martinez Sanchez Perez Gomez Martin "
        "Jimenez Ruiz Hernandez Diaz Moreno Alvarez Romero Alonso Gutierrez Navarro Torres "
        "Dominguez Vazquez Ramos Gil Ramirez Serrano Blanco Suarez Molina Morales Ortega "
        "Delgado Castro Ortiz Rubio Marin Sanz Iglesias Medina Garrido Cortes Castillo",
    ),
    "en": (
        "James John Robert Michael William David Richard Joseph Thomas Charles Mary "
        "Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Nancy Lisa",
        "Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Thomas Moore "
        "Jackson Martin Lee Thompson White Harris Clark Lewis Robinson Walker Young Allen "
        "King Wright Scott Hill Green Adams Baker Nelson Carter Mitchell Roberts Turner",
    ),
}


def names_with_one_accented(rng: random.Random, language: str, count: int, accented: str) -> str:
    """A contact list of ``count`` people with names of ``language`` in ASCII, one of
    whom is named ``accented`` (the list's only letter beyond ASCII)."""
    given, surnames = (words.split() for words in ASCII_NAMES[language])
    people = [[rng.choice(given), rng.choice(surnames)] for _ in range(count)]
    people[rng.randrange(count)][rng.randrange(2)] = accented
    lines = ["Email,First name,Last name"]
    lines += [f"person{n}@example.com,{first},{last}" for n, (first, last) in enumerate(people)]
    return "\n".join(lines) + "\n"
