"""Encoding and dialect detection, and column mapping, on generated samples."""

from __future__ import annotations

import csv
import io
import random

import pytest

from tests.exports import (
    DATEV_HEADER,
    _person,
    aligned,
    legacy_contact_lists,
    names_with_one_accented,
)
from worker.errors import UnsupportedFile
from worker.sources.csv_rows import read_all
from worker.sources.dialect import Dialect, detect_dialect, detect_header, parse_sample
from worker.sources.encoding import IncrementalTextDecoder, detect_encoding, repair
from worker.sources.mapping import fold, header_field, map_columns

WESTERN = [["email", "first_name", "last_name", "company", "city"]] + [
    [f"p{i}@example.com", name, surname, company, city]
    for i, (name, surname, company, city) in enumerate(
        [
            ("Zoë", "Lefèvre", "Société Générale", "Besançon"),
            ("Jørgen", "Ødegård", "Nørre Ltd", "Århus"),
            ("Inês", "Gonçalves", "Lojas Ávila", "Évora"),
            ("François", "Müller", "Café Ñandú", "Zürich"),
        ]
        * 10
    )
]


def _text(rows: list[list[str]], delimiter: str = ",", quoting: int = csv.QUOTE_MINIMAL) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n", quoting=quoting).writerows(rows)
    return out.getvalue()


@pytest.mark.parametrize("codec", ["cp1252", "latin-1", "iso8859-15"])
def test_western_single_byte_files_read_as_cp1252_compatible(codec: str) -> None:
    data = _text(WESTERN, ";").encode(codec)
    guess = detect_encoding(data, complete=True)
    # ø must stay ø (the detector's cp1250 answer would make it ř).
    assert data.decode(guess.python_codec) == data.decode(codec)


def test_central_european_text_is_read_as_cp1250() -> None:
    rows = [["email", "imię", "nazwisko", "firma"]] + [
        [f"p{i}@example.pl", "Łukasz", "Wróblewski", "Przedsiębiorstwo Łódź"] for i in range(20)
    ]
    data = _text(rows).encode("cp1250")
    assert detect_encoding(data, complete=True).python_codec == "cp1250"


# Contact lists in a legacy code page that a cp1252 reading turns into other letters
# (Jiří -> Jiøí, Şahin -> Þahin, Müller in mac_roman -> MŸller): (names, encoding).
LEGACY_LISTS = [
    ("Jiří Dvořák;Kateřina Černá;Plzeň;Žižkov", "cp1250"),
    ("Ayşe Yılmaz;Mehmet Şahin;İstanbul;Güneş", "cp1254"),  # noqa: RUF001
    ("Jonas Žemaitis;Ąžuolas Įmonė;Šiauliai;Ūkis", "cp1257"),
    ("Jürgen Müller;Günther Schröder;München;Straße", "mac_roman"),
    ("François Lefèvre;Hélène Noël;Besançon;Orléans", "mac_roman"),
    ("Jürgen Müller;Günther Schröder;München;Straße", "cp850"),
    ("Łukasz Wójcik;Paweł Kowalczyk;Wrocław;Świętokrzyska", "iso8859_2"),
    ("محمد أحمد;فاطمة علي;القاهرة;شركة", "cp1256"),
]


@pytest.mark.parametrize(("names", "codec"), LEGACY_LISTS)
@pytest.mark.parametrize("rows", [2, 30])
def test_legacy_code_pages_are_read_in_their_own_letters(names: str, codec: str, rows: int) -> None:
    first, second, city, company = names.split(";")
    table = [["email", "name", "other", "city", "company"]] + [
        [f"p{i}@example.com", first, second if i % 2 else "Smith", city, company]
        for i in range(rows)
    ]
    data = _text(table).encode(codec)
    guess = detect_encoding(data, complete=True)
    assert data.decode(guess.python_codec) == data.decode(codec), guess


@pytest.mark.parametrize(
    ("names", "codec"),
    [
        ("Γιώργος Παπαδόπουλος;Ελένη Νίκου;Αθήνα;Θεσσαλονίκη", "cp1253"),
        ("محمد أحمد;فاطمة علي;القاهرة;شركة", "cp1256"),
        ("Иван Смирнов;Ольга Попова;Москва;Новосибирск", "cp1251"),
        # DOS's Cyrillic code page (older accounting systems): refused as "not text".
        ("Иван Смирнов;Ольга Попова;Москва;Новосибирск", "cp866"),
    ],
)
def test_other_scripts_are_not_read_as_accented_latin(names: str, codec: str) -> None:
    first, second, city, company = names.split(";")
    table = [["email", "name", "other", "city", "company"]] + [
        [f"p{i}@example.com", first, second, city, company] for i in range(40)
    ]
    data = _text(table).encode(codec)
    guess = detect_encoding(data, complete=True)
    assert data.decode(guess.python_codec) == data.decode(codec), guess


LEGACY_EXPORTS = {export.name: export for export in legacy_contact_lists(20, seed=1)}


@pytest.mark.parametrize(
    "name",
    [
        "el-cp1253-0016.csv",
        "el-iso8859_7-0018.csv",
        "ja-shift_jis-0005.csv",
        "ja-shift_jis-0006.csv",
        "tw-big5-0010.csv",
        "tw-big5-0011.csv",
        "zh-gb18030-0006.csv",
    ],
)
def test_short_lists_in_other_scripts_are_not_read_as_accented_latin(name: str) -> None:
    # Lists the detector's first answer reads as Latin letter soup (a few rows, some
    # names in the language): tests/exports.py's legacy_contact_lists, seed 1.
    export = LEGACY_EXPORTS[name]
    guess = detect_encoding(export.data, complete=True)
    assert export.data.decode(guess.python_codec) == export.data.decode(export.encoding), guess


LEGACY_EXPORTS_2 = {export.name: export for export in legacy_contact_lists(20, seed=2)}


@pytest.mark.parametrize(
    ("seed", "name"),
    [
        # Arabic read as mac_roman: symbols where the names are (``«·—Ì«÷``).
        (1, "ar-cp1256-0016.csv"),
        (1, "ar-cp1256-0019.csv"),
        (2, "ar-cp1256-0006.csv"),
        # Chinese, Japanese and Cyrillic read in another double-byte code page: a reading
        # made of rare characters where the right one has the common ones.
        (1, "ru-koi8_r-0009.csv"),
        (1, "zh-gb18030-0005.csv"),
        (1, "tw-big5-0001.csv"),
        (1, "ja-shift_jis-0015.csv"),
        (2, "zh-gb18030-0013.csv"),
        (2, "zh-gb18030-0014.csv"),
        (2, "ja-euc_jp-0003.csv"),
    ],
)
def test_the_reading_of_another_script_is_the_one_of_its_common_characters(
    seed: int, name: str
) -> None:
    # tests/exports.py's legacy_contact_lists (2-200 rows, some or all names in the
    # language); each was read in a wrong encoding before.
    export = (LEGACY_EXPORTS if seed == 1 else LEGACY_EXPORTS_2)[name]
    guess = detect_encoding(export.data, complete=True)
    assert export.data.decode(guess.python_codec) == export.data.decode(export.encoding), guess


def test_mojibake_in_a_western_file_does_not_make_it_another_script() -> None:
    # A cell that an earlier tool double-encoded (Zoë -> ZoÃ«) reads oddly in every
    # encoding; the file is still cp1252, not Cyrillic or Greek.
    rows = [*WESTERN, ["p99@example.com", "ZoÃ«", "JosÃ©", "Acme", "Paris"]]
    data = _text(rows, ";").encode("cp1252")
    guess = detect_encoding(data, complete=True)
    assert data.decode(guess.python_codec) == data.decode("cp1252"), guess


def test_a_utf8_character_cut_at_the_sample_end_is_still_utf8() -> None:
    data = ("email,name\n" + "a@x.io,Zoë\n" * 100).encode()
    cut = data[: data.index("ë".encode()) + 1]  # half of ë
    assert detect_encoding(cut, complete=False).encoding == "utf-8"


def test_an_ascii_sample_of_an_unfinished_file_is_read_as_utf8() -> None:
    guess = detect_encoding(b"email\na@x.io\n", complete=False)
    assert guess.encoding in ("ascii", "utf-8")
    assert (
        IncrementalTextDecoder(guess).decode("é".encode(), final=True) == "é"
        or guess.encoding == "ascii"
    )


def test_the_decoder_counts_and_repair_shows_bad_bytes() -> None:
    # A UTF-8 file (so decided on its first chunk) with a cp1252 byte further down.
    decoder = IncrementalTextDecoder(detect_encoding(b"a,Zo\xc3\xab\n", complete=False))
    text = decoder.decode(b"Ren\xe9,ok\n", final=True)
    assert decoder.bad_bytes == 1
    assert repair(text) == "René,ok\n"


def test_an_override_wins_and_an_unknown_one_is_refused() -> None:
    assert detect_encoding(b"abc", complete=True, override="cp1250").python_codec == "cp1250"
    with pytest.raises(UnsupportedFile, match="unknown encoding"):
        detect_encoding(b"abc", complete=True, override="klingon")


@pytest.mark.parametrize("delimiter", [";", ",", "\t", "|"])
def test_the_delimiters_of_contact_exports(delimiter: str) -> None:
    guess = detect_dialect(_text(WESTERN, delimiter), complete=True)
    assert guess.dialect.delimiter == delimiter
    assert guess.dialect.has_header


def test_semicolon_wins_where_the_evidence_is_equal() -> None:
    # One column of values that hold both characters equally often.
    text = "a;b,c\n" * 20
    assert detect_dialect(text, complete=True).dialect.delimiter == ";"


def test_quoted_fields_with_the_delimiter_inside() -> None:
    rows = [["email", "company"]] + [[f"u{i}@x.io", "Acme, Inc."] for i in range(30)]
    guess = detect_dialect(_text(rows, quoting=csv.QUOTE_ALL), complete=True)
    assert (guess.dialect.delimiter, guess.dialect.quotechar) == (",", '"')


def test_overrides_win_over_detection() -> None:
    guess = detect_dialect(
        _text(WESTERN, ";"), complete=True, overrides={"delimiter": ",", "has_header": False}
    )
    assert guess.method == "override"
    assert (guess.dialect.delimiter, guess.dialect.has_header) == (",", False)


def test_header_detection() -> None:
    assert detect_header([["name", "age"], ["Ana", "31"], ["Bo", "45"]])
    assert not detect_header([["Ana", "31"], ["Bo", "45"], ["Cy", "52"]])
    assert detect_header([["E-Mail", "Vorname"], ["a@x.de", "Anke"]])
    assert not detect_header([["a@x.de", "Anke"], ["b@x.de", "Bernd"]])


def test_an_excel_sep_line_names_the_delimiter_and_is_skipped() -> None:
    guess = detect_dialect("sep=;\nname;email\nAna, Lda;a@x.io\nBo;b@x.io\n", complete=True)
    assert guess.method == "declared"
    assert (guess.dialect.delimiter, guess.dialect.skip_rows) == (";", 1)
    assert guess.dialect.has_header


def test_backslash_escaped_quotes_are_read_with_the_escape() -> None:
    text = 'name,note\nAna,"say \\"hi\\""\nBo,plain\n'
    dialect = detect_dialect(text, complete=True).dialect
    assert dialect.escapechar == "\\"
    assert [cells for _, cells, _ in read_all(text, dialect)][1] == ["Ana", 'say "hi"']


def test_spaces_inside_values_do_not_make_space_the_delimiter() -> None:
    # Six space-separated words per value, one ';' per line: the ';' is the delimiter.
    rows = [[f"user{i}", f"Sat, {i % 28 + 1} Feb 2011 13:09:{i % 60:02d} +0000"] for i in range(40)]
    assert detect_dialect(_text(rows, ";"), complete=True).dialect.delimiter == ";"


@pytest.mark.parametrize("delimiter", ["^", "~", "+", "#", ":", " "])
def test_rarer_delimiters_are_candidates(delimiter: str) -> None:
    rows = [["id", "email", "score", "when"]] + [
        [str(i), f"u{i}@x.io", str(i * 3 % 100), f"2024-01-{i % 28 + 1:02d}"] for i in range(30)
    ]
    assert detect_dialect(_text(rows, delimiter), complete=True).dialect.delimiter == delimiter


_TIMES_AND_DATES = {
    "dates": lambda i: f"20{10 + i % 15}-{i % 12 + 1:02d}-{i % 28 + 1:02d}",
    "times": lambda i: f"{i % 24:02d}:{i * 7 % 60:02d}:{i * 13 % 60:02d}",
    "short times": lambda i: f"{i % 24:02d}:{i * 7 % 60:02d}",
    "day-first dates": lambda i: f"{i % 28 + 1:02d}-{i % 12 + 1:02d}-20{10 + i % 15}",
}


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|", "~", "^", " "])
@pytest.mark.parametrize("values", sorted(_TIMES_AND_DATES))
@pytest.mark.parametrize("columns", [2, 3])
def test_columns_of_only_dates_or_times_keep_their_delimiter(
    delimiter: str, values: str, columns: int
) -> None:
    # Every cell a date or a time: their "-" or ":" split each line more regularly than
    # the delimiter does, into numbers; they are parts of values, not delimiters.
    value = _TIMES_AND_DATES[values]
    rows = [[value(i * columns + c) for c in range(columns)] for i in range(30)]
    assert detect_dialect(_text(rows, delimiter), complete=True).dialect.delimiter == delimiter


@pytest.mark.parametrize("delimiter", ["~", "^", ":", "|"])
def test_grouped_numbers_beside_emails_keep_a_rarer_delimiter(delimiter: str) -> None:
    # Split at the thousands' comma, "200.99~ana7@example.com" would read as an email.
    rows = [
        [f"{i % 9 + 1},{i * 37 % 1000:03d}.{i % 100:02d}", f"ana{i}@example.com"] for i in range(5)
    ]
    assert detect_dialect(_text(rows, delimiter), complete=True).dialect.delimiter == delimiter


def test_a_colon_delimited_file_with_quoted_times_is_read_with_the_colon() -> None:
    # The times' ":" are inside quotes, where nothing delimits: the others are delimiters.
    rows = [[f"2023-08-{i % 28 + 1:02d}", f"{i % 24:02d}:18:59", f"{i},713.82"] for i in range(30)]
    text = _text(rows, ":", quoting=csv.QUOTE_NONNUMERIC)
    assert detect_dialect(text, complete=True).dialect.delimiter == ":"


def test_a_first_row_of_column_names_is_a_header_when_no_type_tells() -> None:
    # All text, no alias the mapping knows: the words themselves name columns.
    people = [["Ana", "met in May", "Porto"], ["Bruno", "VIP", "Lisboa"], ["Cy", "", "Nice"]]
    assert detect_header([["Name", "Note", "City"], *people])
    assert detect_header([["full_name", "notes", "town"], *people])
    # A first row of values like the others is not.
    countries = [["Argentina", "Peso"], ["Australia", "Dollar"], ["Japan", "Yen"], ["UK", "Pound"]]
    assert not detect_header(countries)


_GENERIC_NAMES = ["col1", "col2", "col3", "Column A", "columnB", "field_x", "Spalte 1", "Feld2"]
_FREE_WORDS = ["eins", "zwei", "uno", "dos", "one", "two", "ichi", "row", "north", "Acme"]


def _free_text_table(rng: random.Random) -> list[list[str]]:
    width = rng.randint(2, 4)
    return [
        [" ".join(rng.sample(_FREE_WORDS, rng.randint(1, 2))) for _ in range(width)]
        for _ in range(rng.randint(6, 12))
    ]


@pytest.mark.parametrize("seed", range(40))
def test_a_row_of_plain_names_over_free_text_is_a_header(seed: int) -> None:
    # No column tells by its kind (all text) and no name is one the mapping knows:
    # distinct short names, none empty, unlike the rows below, still name the columns
    # (a header read as data put "col1,col2" among the contacts). A first row of the
    # same words as the rows below is data.
    rng = random.Random(seed)
    table = _free_text_table(rng)
    names = rng.sample(_GENERIC_NAMES, len(table[0]))
    assert detect_header([names, *table])
    assert not detect_header(table)


@pytest.mark.parametrize("zone", [" UTC", " +0100", " GMT", " CEST", "Z", "+01:00"])
@pytest.mark.parametrize("delimiter", [",", ";", "|"])
def test_timestamps_with_a_zone_are_values_not_cut_at_their_spaces(
    zone: str, delimiter: str
) -> None:
    # Rails writes "2022-10-04 16:00:47 UTC", Shopify "2022-02-08 22:31:28 +0100": the
    # space before the zone made the cells untyped, and the spaces a better delimiter.
    rows = [
        [f"2022-10-{day:02d} 16:{day:02d}:47{zone}", f"2022-11-{day:02d} 09:00:00{zone}"]
        for day in range(1, 6)
    ]
    text = "".join(delimiter.join(row) + "\n" for row in rows)
    assert detect_dialect(text, complete=True).dialect.delimiter == delimiter


@pytest.mark.parametrize("seed", range(20))
def test_a_row_over_columns_of_check_boxes_is_told_by_them(seed: int) -> None:
    # A sheet of TRUE/FALSE (or yes/no) boxes: columns named by numbers (ids of items)
    # or words over them are a header; a first row of boxes like the others is data.
    rng = random.Random(seed)
    yes, no = rng.choice([("TRUE", "FALSE"), ("yes", "no"), ("Yes", "No")])
    width = rng.randint(2, 9)
    body = [
        [f"id{n}", *(rng.choice([yes, no]) for _ in range(width))]
        for n in range(1, rng.randint(3, 12))
    ]
    names = rng.choice([[str(100_000 + rng.randint(0, 999)) for _ in range(width)], None])
    names = names or [f"opt-in {n}" for n in range(width)]
    assert detect_header([["id", *names], *body])
    assert not detect_header(body)


@pytest.mark.parametrize("seed", range(12))
def test_rows_quoted_whole_among_plain_ones_are_read_with_the_quote(seed: int) -> None:
    # A list where some rows were pasted into one cell and saved again: the whole row is
    # quoted, its own quotes doubled (``"Laura,Herbst,,""Acme, Inc"",07 May 2021"``).
    # Read unquoted they split into more fields, a quote opening the first and closing a
    # later one; read with the quote each is one field, ragged, as it was written.
    rng = random.Random(seed)
    people = [
        [
            rng.choice(["Ana", "Jörg H.", "Tom"]),
            f"Name{n}",
            "",
            rng.choice(["Acme", "Lda"]),
            rng.choice(["Analyst", "Founder, CEO", "Intern"]),
            f"{n % 28 + 1:02d} May 2021",
        ]
        for n in range(rng.randint(12, 40))
    ]
    lines = [_text([row]) for row in people]
    for index in rng.sample(range(len(lines)), rng.randint(2, 4)):
        lines[index] = _text([[lines[index].rstrip("\r\n")]])
    dialect = detect_dialect("".join(lines), complete=True).dialect
    assert (dialect.delimiter, dialect.quotechar) == (",", '"')
    # Quotes as text, inches and nicknames, open no span across fields: no quoting read.
    plain = [[f'Pipe {n}/4"', "Brass", f'Ana "Nana" {n}', 'x"'] for n in range(1, 9)]
    assert detect_dialect(_text(plain), complete=True).dialect.delimiter == ","


@pytest.mark.parametrize("seed", range(12))
def test_notes_narrower_than_the_table_above_its_header_are_a_preamble(seed: int) -> None:
    # "more notes,..." holds a comma, so it is not much narrower than a table of three:
    # it was taken for the header, and the header for a row. Notes above a row of the
    # table's width that reads as a header over the rows below are skipped.
    rng = random.Random(seed)
    width = rng.randint(3, 5)
    names = rng.sample(["number", "text", "date", "amount", "code", "label", "when"], width)
    rows = [
        [f"{rng.randint(1, 999)}.0", f"TEST{n}", f"2000-12-{n + 10}", "x", "y"][:width]
        for n in range(rng.randint(3, 8))  # the table is most of the rows
    ]
    notes = ["some notes...", "more notes,...", "exported by a tool, version 2"]
    notes = notes[: rng.randint(1, 3)]
    text = "".join(line + "\n" for line in notes) + _text([names, *rows])
    dialect = detect_dialect(text, complete=True).dialect
    assert (dialect.skip_rows, dialect.has_header) == (len(notes), True)
    # A headerless table whose first row is short is no preamble over its second.
    ragged = _text([["1", "2"], ["3", "4", "5"], ["6", "7", "8"], ["9", "1", "2"]])
    assert detect_dialect(ragged, complete=True).dialect.skip_rows == 0


@pytest.mark.parametrize("seed", range(12))
def test_a_sheets_lines_of_facts_above_its_header_are_a_preamble(seed: int) -> None:
    # "File created by:,Sally,Brown,,," fills half the table's width or less, in empty
    # cells a sheet keeps: not narrow, and it was read as the header.
    rng = random.Random(seed)
    width = rng.randint(4, 7)
    names = rng.sample(
        ["Name", "Profession", "Age", "Has kids", "Born", "Died", "Town", "Notes"], width
    )
    rows = [
        [f"Person {n}", "actor", str(20 + n), "TRUE", f"1/{n + 1}/1950", "x", "y", "z"][:width]
        for n in range(rng.randint(4, 10))
    ]
    facts = [["Date file created:", "02/12/2022"], ["File created by:", "Sally", "Brown"]]
    facts = [fact + [""] * (width - len(fact)) for fact in facts[: rng.randint(1, 2)]]
    dialect = detect_dialect(_text([*facts, names, *rows]), complete=True).dialect
    assert (dialect.skip_rows, dialect.has_header) == (len(facts), True)
    # A headerless list whose first contact fills few of its cells keeps it as a row.
    sparse = [["ana@x.pt", "", "", ""], *(["b@x.pt", "Bo", "Lee", str(n)] for n in range(5))]
    assert detect_dialect(_text(sparse), complete=True).dialect.skip_rows == 0


@pytest.mark.parametrize("seed", range(10))
def test_a_few_lines_of_facts_over_a_blank_line_and_a_header_are_a_preamble(seed: int) -> None:
    # A plate reader's export: "Apex,01/03/2021" and "96-well," over a blank line, then
    # the table "x,y": a title as wide as the table, told only by the blank line under it.
    rng = random.Random(seed)
    facts = [["Apex", "01/03/2021"], ["96-well", ""], ["run 7", "ok"]][: rng.randint(1, 3)]
    table = [["x", "y"], *([f"A{n}", str(rng.randint(10, 200))] for n in range(1, 8))]
    text = _text(facts) + "\r\n" * rng.randint(1, 3) + _text(table)
    dialect = detect_dialect(text, complete=True).dialect
    assert (dialect.skip_rows, dialect.has_header) == (len(facts), True)


def test_key_and_value_lines_over_a_blank_line_and_a_wider_table_are_a_preamble() -> None:
    # A card statement: five lines of a key and its value, a blank line, then the table
    # of eleven columns: more lines than a title takes, but all narrower than the table.
    # Its two rows are fewer than the facts, so the facts' width is the file's usual one.
    facts = [["Member", "****-1234"], ["Card", "View"], ["Paid on", "2020-05-07"]]
    facts += [["Amount", "3,524"], ["Currency", "JPY"]]
    header = [f"col {n}" for n in range(11)]
    rows = [[f"2020/03/{n + 10}", "shop", str(100 * n), *[""] * 8] for n in range(1, 3)]
    text = _text(facts) + "\r\n" + _text([header, *rows])
    dialect = detect_dialect(text, complete=True).dialect
    assert (dialect.skip_rows, dialect.has_header) == (len(facts), True)


@pytest.mark.parametrize("seed", range(8))
def test_facts_and_a_section_title_over_a_table_with_continuation_rows_are_a_preamble(
    seed: int,
) -> None:
    # A bank's history: key and value lines, a blank line, a title of one cell, then the
    # header and rows, each payment followed by a line of its payee in the third cell
    # (",,15/04/18 PAYEE"). No width is most rows', and the title was taken for a sign
    # that the file has none: the first line became the header.
    rng = random.Random(seed)
    facts = [["Account details for:", "FRANK Account 123-456"], ["Available Balance", "10.00"]]
    facts = [*facts, ["Ledger Balance", "12.00"]][: rng.randint(1, 3)]
    header = ["Transaction date", "Value date", "Description", "Withdrawals", "Deposits"]
    rows = []
    for n in range(rng.randint(2, 5)):
        rows.append([f"{n + 10}/04/2018", f"{n + 10}/04/2018", "DEBIT PURCHASE", f"{n}.50", ""])
        if rng.random() < 0.8:
            rows.append(["", "", f"{n + 8}/04/18 xx-{n} PAYEE INFORMATION"])
    text = _text(facts) + "\n" * rng.randint(0, 1) + "Transaction History \n"
    text += _text([header, *rows])
    dialect = detect_dialect(text, complete=True).dialect
    assert (dialect.skip_rows, dialect.has_header) == (len(facts) + 1, True), text


_KANJI = [
    ("一", "one", "ichi|itsu", "hito-tsu"),
    ("二", "two", "ni|ji", "futa-tsu"),
    ("三", "three", "san", "mit-tsu"),
    ("四", "four", "shi", "yot-tsu|yon"),
    ("五", "five", "go", "itsu-tsu"),
    ("九", "nine", "ku|kyu", "kokono-tsu"),
    ("十", "ten", "ju", "to"),
    ("上", "top", "jo", "ue"),
    ("中", "inside|middle", "chu", "naka"),
    ("大", "large", "dai", "o-kii"),
    ("小", "small", "sho", "chii-sai"),
    ("月", "month|moon", "gatsu|getsu", "tsuki"),
    ("生", "life", "sei|sho", "i-kiru|u-mu|nama"),
    ("女", "female", "jo|nyo", "on'na"),
    ("車", "wheeled vehicle", "sha", "kuruma"),
    ("白", "white", "haku", "shiro"),
]


@pytest.mark.parametrize("seed", range(10))
def test_a_first_row_written_with_its_columns_marks_is_a_row(seed: int) -> None:
    # A kanji list, kanji,meaning,on|readings,kun-readings, with no header: its first row
    # (一,one,ichi|itsu,hito-tsu) was read as one, its | and - being in few rows each.
    rng = random.Random(seed)
    rows = [list(row) for row in _KANJI[:2]]
    rest = [list(row) for row in _KANJI[2:]]
    rng.shuffle(rest)
    rows += rest[: rng.randint(6, len(rest))]
    dialect = detect_dialect(_text(rows), complete=True).dialect
    assert (dialect.delimiter, dialect.has_header) == (",", False)
    # Named columns over the same rows are a header.
    named = [["kanji", "meaning", "on reading", "kun reading"], *rows]
    assert detect_dialect(_text(named), complete=True).dialect.has_header


@pytest.mark.parametrize("seed", range(10))
def test_a_game_dialog_file_splits_at_its_bar_not_in_its_keys(seed: int) -> None:
    # A game's dialog translations, dlga_<state>:<next state>|<line>: read split at the
    # colon inside each key, the key's halves were typed cells (words joined by
    # underscores) and the bar's were not, so the colon won over the bar, which parts
    # every line once.
    rng = random.Random(seed)
    states = ["start", "fighter_talk", "close_window", "archer_challenge", "ramun_talk"]
    states += ["member_chat", "drunk_response", "horseman_talk", "lord_prison_break"]
    lines = ["我 想 练 习 攻 击。", "离 开。", "好 的， 我 准 备 好 了。", "你 在 看 什 么？"]  # noqa: RUF001
    lines += ["{playername}， 你 认 为 我 们 什 么 时 候 能 到 达？", "嗯…… 好 吧。"]  # noqa: RUF001
    rows = []
    for n in range(rng.randint(6, 20)):
        here, there = rng.sample(states, 2)
        suffix = f".{n % 3}" if n % 3 else ""
        rows.append(f"dlga_{here}:{there}{suffix}|{rng.choice(lines)}")
    dialect = detect_dialect("\n".join(rows) + "\n", complete=True).dialect
    assert dialect.delimiter == "|"


@pytest.mark.parametrize("seed", range(10))
def test_a_catalogs_groups_parted_by_blank_lines_are_all_rows(seed: int) -> None:
    # A message catalog, KEY;English;Japanese, its groups parted by blank lines: the
    # first group was taken for facts over the table, and the second group's first row
    # (LOGIN_ERROR;Login error !;...: label words) for its header.
    rng = random.Random(seed)
    messages = [
        ("LOGIN_ERROR", "Login error !", "ログインできません。"),
        ("EMAIL_INVALID", "Email is invalid.", "メールアドレスが正しくありません。"),
        ("NAME_TOO_LONG", "Name is too long.", "名前が長すぎます。"),
        ("NO_SESSION", "No session !", "セッションがありません。"),
        ("NOT_UPLOAD", "Can not upload !", "アップロードできません。"),
        ("NO_FILE", "No file exists !", "ファイルがありません。"),
        ("NO_PLAYLIST_INFO", "No playlist !", "プレイリストがありません。"),
        ("NOT_AUDIO_FILE", "This file is not audio file.", "音声ファイルではありません。"),
        ("FILE_TOO_BIG", "This file is too big.", "ファイルサイズが大きすぎます。"),
        ("NOT_IMAGE_FILE", "This file is not image.", "画像ファイルではありません。"),
    ]
    first = [("INVALID_PARAMETER", "Invalid parameter!", "不正なパラメータです。")]
    first += [("UNKNOWN", "Unknown error !", "予期しないエラーが起こりました。")]
    head, rest = messages[:3], messages[3:]
    rng.shuffle(rest)
    groups = [first[: rng.randint(1, 2)], [rng.choice(head), *rest[:3]], rest[3:]]
    text = "\n\n".join(_text([list(row) for row in group], ";") for group in groups)
    dialect = detect_dialect(text, complete=True).dialect
    assert (dialect.delimiter, dialect.skip_rows, dialect.has_header) == (";", 0, False), text


@pytest.mark.parametrize(
    "text",
    [
        # Two files appended, each with its header: the first one's rows stay rows.
        "name,email\nAna,a@x.pt\nBo,b@x.pt\n\nname,email\nCy,c@x.pt\nDi,d@x.pt\n",
        # A header, a blank line, the data.
        "x,y\n\nA1,34\nA2,36\nA3,35\n",
        # Data, a blank line, more data.
        "A1,34\nA2,36\n\nA3,35\nA4,33\nA5,31\n",
        # A contact above the blank line is a contact.
        "ana@x.pt,Ana\n\nemail,name\nbo@x.pt,Bo\ncy@x.pt,Cy\n",
        # Two tables of the same width appended, without emails.
        "name,age\nfred,19\nsally,32\n\nname,age\nbob,40\nal,22\n",
    ],
)
def test_rows_above_a_blank_line_stay_rows_unless_they_are_facts(text: str) -> None:
    assert detect_dialect(text, complete=True).dialect.skip_rows == 0


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
@pytest.mark.parametrize("empty_rows", [1, 2, 5])
def test_a_sheets_empty_rows_are_evidence_of_its_delimiter(delimiter: str, empty_rows: int) -> None:
    # A template saved from a sheet: a header of names with spaces, then empty rows only
    # (",,,"). The empty rows were dropped before scoring, and the header alone split
    # more regularly at its spaces.
    header = ["Column Name (header)", "another_column", "column_login", "column_full_name"]
    text = delimiter.join(header) + "\n" + (delimiter * 3 + "\n") * empty_rows
    assert detect_dialect(text, complete=True).dialect.delimiter == delimiter


def test_a_first_row_shaped_like_a_row_below_but_for_its_numbers_is_data() -> None:
    # Rows written from one template (a room and its extension, a sum and its formula):
    # a first row that differs from one below only in its digits names no column, even
    # where most of the column below is plain numbers.
    rooms = [[f"Sala {n}", f"ext. {200 + n}", name] for n, name in enumerate(["Ana", "Rui"], 1)]
    rooms += [[str(n), str(200 + n), "Eva"] for n in range(3, 9)]
    assert not detect_header(rooms)
    sums = [[f"{n}+{n}=", f"(A{n}^2)-6="] for n in range(1, 4)] + [[str(n), "x"] for n in range(9)]
    assert not detect_header(sums)
    # A header with numbers in its names is still a header over rows of another shape.
    assert detect_header([["Line 1", "Line 2"], ["Rua A", "3.º esq"], ["Rua B", "1.º dto"]])


def test_a_file_of_one_line_is_cut_at_a_common_delimiter_in_it() -> None:
    # One line shows no regular shape: the spaces and colons of its text split it more
    # often than its one ';' does, and are no delimiters for that.
    line = "2010-05-19T13:54:36+08:00 INFO (6): 2010-05-19 13:54:36;SQLSTATE[HY093]: Invalid\n"
    assert detect_dialect(line, complete=True).dialect.delimiter == ";"
    assert detect_dialect("first name;last name;e-mail\n", complete=True).dialect.delimiter == ";"
    # Without one, the line's own punctuation is weighed as before.
    assert detect_dialect("ana^silva^ana@x.pt\n", complete=True).dialect.delimiter == "^"


def test_a_data_row_holding_field_names_beside_figures_is_no_header() -> None:
    # Placeholder people in a headerless export: "Name" and "Surname" are field names,
    # but a row that holds them beside ids and codes is data, not a header under a preamble.
    rows = [
        "0,0001,Admin,Admin,NULL,2000-01-01",
        "1,0001,Name1,Surname1,NULL,2000-01-01",
        "2,NULL,Name,Surname,001,NULL",
        *(f"{n},NULL,Ana{n},Silva{n},NULL,NULL" for n in range(3, 12)),
    ]
    dialect = detect_dialect("\n".join(rows) + "\n", complete=True).dialect
    assert (dialect.skip_rows, dialect.has_header) == (0, False)


@pytest.mark.parametrize(
    ("text", "header"),
    [
        # A classification's first section, its letter over the divisions' codes, with
        # other sections' letters further down: a row like the others.
        ("A|Agriculture\n01|Crops\n011|Cereals\nB|Mining\n05|Coal\n051|Hard coal\n", False),
        # Letters naming coordinates over figures, no letter alone below: a header.
        ("x,y,z\n1.5,2.0,3.1\n4.2,5.0,6.3\n7.1,8.8,9.0\n", True),
    ],
)
def test_a_letter_alone_over_codes_with_letters_among_them_is_no_header(
    text: str, header: bool
) -> None:
    assert detect_dialect(text, complete=True).dialect.has_header is header


def test_codes_padded_by_the_spaces_before_a_delimiter_are_no_header() -> None:
    # "name | code | level" with no header, written with a space on each side of the
    # delimiter: every code below has a space after it, the first row's code (its last
    # cell) has none. A code of the same length is no column's name.
    rng = random.Random(7)
    rows = [f"Root | {rng.getrandbits(160):040x}"] + [
        f"Unit {n} | {rng.getrandbits(160):040x} | {1 + n % 4}" for n in range(12)
    ]
    dialect = detect_dialect("\n".join(rows) + "\n", complete=True).dialect
    assert dialect.delimiter == "|"
    assert (dialect.skip_rows, dialect.has_header) == (0, False)


def test_one_value_repeated_below_is_no_fixed_length_column() -> None:
    # Headerless rows where the same note repeats under a longer first one: a column of
    # one value says nothing of its length; only distinct values of one length (codes)
    # make a first value of another length a name (LibreOffice's tdf80149 test file).
    text = (
        '"row 1","Character 0x16 is here","File opens, but cannot be saved"\n'
        '"row 2","Subsequent rows get truncated","This cell goes missing"\n'
        '"row 3","Subsequent rows get truncated","This cell goes missing"\n'
    )
    assert detect_dialect(text, complete=True).dialect.has_header is False


def test_detection_reads_a_bounded_sample() -> None:
    huge = _text(WESTERN) * 5000  # ~9 MB
    assert detect_dialect(huge, complete=False).dialect.delimiter == ","


def test_reader_cr_lf_crlf_and_blank_records() -> None:
    text = "a,b\r\n1,2\r3,4\n\n5,6"
    records = [(number, cells) for number, cells, _ in read_all(text, Dialect(","), block_chars=2)]
    assert records == [(1, ["a", "b"]), (2, ["1", "2"]), (3, ["3", "4"]), (4, []), (5, ["5", "6"])]


def test_fold_and_aliases_across_languages() -> None:
    assert fold("  E-Mail Address ") == "e mail address"
    assert fold("Prénom") == "prenom"
    cases = {
        "Correo electrónico": "email",
        "Courriel": "email",
        "e-mail": "email",
        "Given Name": "first_name",
        "Prénom": "first_name",
        "nombre": "first_name",
        "Surname": "last_name",
        "Apellidos": "last_name",
        "Organisation": "company",
        "Empresa": "company",
        "Mobile": "phone",
        "Teléfono": "phone",
        # Mobile phones as Portugal, France, Belgium and the Netherlands name them.
        "Telemóvel": "phone",
        "Téléphone portable": "phone",
        "GSM": "phone",
        "Mobiel": "phone",
        "Correio eletrónico": "email",
        "Último nome": "last_name",
        # Romanian, Ukrainian, Turkish, Polish, Czech and German forms.
        "Prenume": "first_name",
        "Nume": "last_name",
        "Прізвище": "last_name",
        "Soyadı": "last_name",  # noqa: RUF001 - Turkish's dotless i
        "Cep telefonu": "phone",
        "Numer telefonu": "phone",
        "Telefonní číslo": "phone",
        "Telefonnummer": "phone",
        "Spółka": "company",
        "Arbeitgeber": "company",
        "Parent Customer": "company",  # a Dynamics CRM contact export
        # Lithuanian, Latvian and Estonian.
        "Vardas": "first_name",
        "Pavardė": "last_name",
        "El. paštas": "email",
        "Įmonė": "company",
        "Vārds": "first_name",
        "Uzvārds": "last_name",
        "E-pasts": "email",
        "Tālrunis": "phone",
        "Eesnimi": "first_name",
        "Perekonnanimi": "last_name",
        "Ettevõte": "company",
        "Favourite colour": None,
    }
    assert {header: header_field(header) for header in cases} == cases


@pytest.mark.parametrize(
    "rows",
    [
        [
            ["Vardas", "Pavardė", "Klasė"],
            ["Ugnė", "Kazlauskaitė", "8A"],
            ["Matas", "Jonaitis", "8A"],
        ],
        [["Vārds", "Uzvārds", "Pilsēta"], ["Anna", "Bērziņa", "Rīga"], ["Jānis", "Ozols", "Cēsis"]],
        [
            ["Eesnimi", "Perekonnanimi", "Linn"],
            ["Mari", "Tamm", "Tartu"],
            ["Jaan", "Saar", "Pärnu"],
        ],
    ],
)
def test_a_baltic_header_of_names_over_names_is_a_header(rows: list[list[str]]) -> None:
    # A Lithuanian class list: text over text, no column whose kind tells; the names of
    # its fields (first name, last name) are what say it has a header.
    assert detect_header(rows)


def test_content_decides_where_headers_say_nothing() -> None:
    rows = [
        [f"Col{i}", f"user{i}@mail.com", f"+44 20 7946 {1000 + i}", "Ana", "Silva"]
        for i in range(30)
    ]
    mapping = map_columns([], rows)
    assert mapping.columns["email"] == 1 and mapping.method["email"] == "content"
    assert mapping.columns["phone"] == 2
    assert 0 < mapping.confidence["email"] <= 1
    assert set(mapping.extra) | set(mapping.columns.values()) == set(range(5))


def test_a_whole_name_column_is_mapped_where_no_column_holds_a_part_of_it() -> None:
    rows = [["Ana Silva", "ana@x.pt", "Acme"]]
    assert map_columns(["Name", "Email", "Company"], rows).columns == {
        "full_name": 0,
        "email": 1,
        "company": 2,
    }
    assert map_columns(["Full Name", "E-mail"], [row[:2] for row in rows]).columns["full_name"] == 0
    # German forms: Vorname and Name, the surname; Thunderbird's Display Name beside the parts.
    assert "full_name" not in map_columns(["Vorname", "Name", "E-Mail"], rows).columns
    headers = ["First Name", "Last Name", "Display Name", "Primary Email"]
    assert (
        "full_name" not in map_columns(headers, [["Ana", "Silva", "Ana Silva", "a@x.pt"]]).columns
    )


def test_a_headerless_column_of_whole_names_is_split() -> None:
    # "Ana Silva,ana@x.pt" on every line: one column of names, two words each.
    rows = [["Ana Silva", "ana@x.pt"], ["Bo Ng", "bo@x.pt"], ["João da Costa", "joao@x.pt"]]
    assert map_columns([], rows).columns == {"email": 1, "full_name": 0}
    # One word a name: a first name, as before.
    assert map_columns([], [["Ana", row[1]] for row in rows]).columns["first_name"] == 0


def test_of_columns_named_alike_an_empty_one_never_takes_the_field() -> None:
    # Thunderbird writes Work Phone before Mobile Number, most people fill only the mobile.
    headers = ["First Name", "Primary Email", "Work Phone", "Home Phone", "Mobile Number"]
    rows = [["Ana", f"a{i}@x.pt", "", "", f"+351 91234567{i}"] for i in range(5)]
    assert map_columns(headers, rows).columns["phone"] == 4
    # None filled in the sample: the first, as before.
    assert map_columns(headers, [[*row[:2], "", "", ""] for row in rows]).columns["phone"] == 2
    assert map_columns(headers, []).columns["phone"] == 2


def test_a_column_of_dates_is_no_phone_column() -> None:
    # 03/17/2010 and 2024-05-01 are digits and separators as phones are; a column of them
    # before the column of numbers called must not take the phone.
    rows = [
        [str(i), f"03/{10 + i}/2010", f"2024-05-{10 + i:02d}", f"949-218-{9800 + i}"]
        for i in range(12)
    ]
    mapping = map_columns(["Item", "Date", "Logged", "Number Called"], rows)
    assert mapping.columns["phone"] == 3
    assert map_columns([], rows).columns["phone"] == 3


# Headers as contact tools write them (Google Contacts; Outlook in several languages), and
# the field each contact field's column should come from: (headers, field -> header).
TOOL_HEADERS = [
    (
        [
            "Name",
            "Given Name",
            "Family Name",
            "E-mail 1 - Type",
            "E-mail 1 - Value",
            "Phone 1 - Type",
            "Phone 1 - Value",
            "Organization 1 - Name",
            "Organization 1 - Title",
        ],
        {
            "first_name": "Given Name",
            "last_name": "Family Name",
            "email": "E-mail 1 - Value",
            "phone": "Phone 1 - Value",
            "company": "Organization 1 - Name",
        },
    ),
    (
        [
            "First Name",
            "Middle Name",
            "Last Name",
            "Company",
            "Job Title",
            "Business Phone",
            "Home Phone",
            "Mobile Phone",
            "E-mail Address",
            "E-mail Type",
            "E-mail Display Name",
        ],
        {"email": "E-mail Address", "phone": "Business Phone", "company": "Company"},
    ),
    (
        [
            "Anrede",
            "Vorname",
            "Nachname",
            "Firma",
            "Telefon geschäftlich",
            "Mobiltelefon",
            "E-Mail-Adresse",
            "E-Mail-Typ",
            "E-Mail: Angezeigter Name",
        ],
        {"first_name": "Vorname", "phone": "Telefon geschäftlich", "email": "E-Mail-Adresse"},
    ),
    (
        [
            "Prénom",
            "Nom",
            "Société",
            "Téléphone (bureau)",
            "Tél. mobile",
            "Adresse de messagerie",
            "Type de messagerie",
        ],
        {"last_name": "Nom", "phone": "Téléphone (bureau)", "email": "Adresse de messagerie"},
    ),
    (
        [
            "Nombre",
            "Apellidos",
            "Organización",
            "Teléfono del trabajo",
            "Móvil",
            "Dirección de correo electrónico",
        ],
        {
            "company": "Organización",
            "phone": "Teléfono del trabajo",
            "email": "Dirección de correo electrónico",
        },
    ),
    (
        ["Nome", "Cognome", "Società", "Telefono ufficio", "Indirizzo posta elettronica"],
        {"company": "Società", "phone": "Telefono ufficio", "email": "Indirizzo posta elettronica"},
    ),
    (
        ["Person - Name", "Person - Email - Work", "Person - Phone - Work", "Organization - Name"],
        {
            "email": "Person - Email - Work",
            "phone": "Person - Phone - Work",
            "company": "Organization - Name",
        },
    ),
    (
        ["Customer ID", "Customer Email", "Contact Phone", "Contact Owner", "Lead Status"],
        {"email": "Customer Email", "phone": "Contact Phone"},
    ),
    (
        # An import template's marks on its columns.
        ["Email (required)", "First Name*", "Last Name (Required)", "Company (optional)"],
        {
            "email": "Email (required)",
            "first_name": "First Name*",
            "last_name": "Last Name (Required)",
            "company": "Company (optional)",
        },
    ),
    (
        ["Nome próprio", "Apelido", "Empresa (obrigatório)", "Telemóvel", "E-mail"],
        {"first_name": "Nome próprio", "company": "Empresa (obrigatório)", "email": "E-mail"},
    ),
    (
        ["Voornaam", "Achternaam", "Bedrijf", "Telefoon op werk", "E-mailadres"],
        {"phone": "Telefoon op werk", "email": "E-mailadres"},
    ),
    (
        ["Förnamn", "Efternamn", "Företag", "Mobiltelefon", "E-postadress"],
        {"first_name": "Förnamn", "last_name": "Efternamn", "company": "Företag"},
    ),
    (
        ["Jméno", "Příjmení", "Společnost", "Telefon", "E-mailová adresa"],
        {"first_name": "Jméno", "last_name": "Příjmení", "email": "E-mailová adresa"},
    ),
    (
        ["Имя", "Фамилия", "Компания", "Телефон", "Электронная почта"],
        {"first_name": "Имя", "last_name": "Фамилия", "email": "Электронная почта"},
    ),
    (
        ["Ad", "Soyadı", "Şirket", "Telefon", "E-posta"],  # noqa: RUF001 - dotless i
        {"last_name": "Soyadı", "company": "Şirket", "email": "E-posta"},  # noqa: RUF001
    ),
    (
        ["이름", "성", "회사", "휴대폰", "이메일"],
        {"first_name": "이름", "last_name": "성", "phone": "휴대폰", "email": "이메일"},
    ),
    # DATEV's address export: notes in brackets, a company's name and a person's apart.
    (
        DATEV_HEADER,
        {
            "company": "Name (Adressattyp Unternehmen)",
            "last_name": "Name (Adressattyp natürl. Person)",
            "first_name": "Vorname (Adressattyp natürl. Person)",
            "phone": "Telefon",
            "email": "E-Mail",
        },
    ),
    # A German form's ``Name`` beside ``Vorname`` is the surname; a note in brackets is
    # no part of a header's name, unless it says the column is about the value.
    (
        ["Name", "Vorname", "E-Mail (Rechnungsempfänger)", "Telefon (Zentrale)", "E-Mail (Typ)"],
        {
            "last_name": "Name",
            "first_name": "Vorname",
            "email": "E-Mail (Rechnungsempfänger)",
            "phone": "Telefon (Zentrale)",
        },
    ),
]


@pytest.mark.parametrize(("headers", "expected"), TOOL_HEADERS)
def test_contact_tools_headers_map_to_their_fields(
    headers: list[str], expected: dict[str, str]
) -> None:
    mapping = map_columns(headers, [])
    assert {
        name: headers[mapping.columns[name]] for name in expected if name in mapping.columns
    } == expected


def test_a_column_about_a_value_is_not_the_value() -> None:
    headers = ["E-mail 1 - Type", "E-mail Display Name", "Phone 1 - Type", "Email Opt Out"]
    # A number of something else: Salesforce's Account Number is not the company.
    headers += ["Account Number", "Account No"]
    for header in headers:
        assert header_field(header) is None, header


def test_unmapped_columns_are_kept_as_extras() -> None:
    mapping = map_columns(["Email", "Shoe size", "Nickname"], [["a@x.io", "42", "Al"]])
    assert mapping.columns == {"email": 0}
    assert mapping.extra == (1, 2)
    assert mapping.as_dict(["Email", "Shoe size", "Nickname"])["extra"] == ["Shoe size", "Nickname"]


def test_a_header_that_lies_lowers_the_confidence() -> None:
    honest = map_columns(["email"], [["a@x.io"], ["b@x.io"]])
    lying = map_columns(["email"], [["Ana"], ["Bo"]])
    assert honest.confidence["email"] > lying.confidence["email"]


def test_spanish_inverted_punctuation_stays_western() -> None:
    rows = [["email", "nombre", "nota"]] + [
        [f"p{i}@example.es", "Íñigo", "¿Llamar mañana? ¡Sí!"] for i in range(20)
    ]
    data = _text(rows).encode("cp1252")
    assert detect_encoding(data, complete=True).python_codec == "cp1252"


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_its_byte_order_mark_is_read(codec: str) -> None:
    data = _text(WESTERN).encode(codec)
    guess = detect_encoding(data, complete=True)
    assert guess.python_codec == codec
    assert data.decode(guess.python_codec) == _text(WESTERN)


def test_a_nul_delimited_text_file_is_text_and_nul_its_delimiter() -> None:
    text = _text(WESTERN, "\x00")
    assert detect_encoding(text.encode(), complete=True).encoding in ("ascii", "utf-8")
    assert detect_dialect(text, complete=True).dialect.delimiter == "\x00"


@pytest.mark.parametrize("at", [0, 7, 12])
def test_a_short_text_file_with_a_stray_nul_is_text(at: int) -> None:
    # A test suite's 19-byte file with one NUL in it: 5% of its bytes, refused as binary.
    text = "a,b,c\n1,2,3\n4,5,6\n"
    data = (text[:at] + "\x00" + text[at:]).encode()
    assert detect_encoding(data, complete=True).encoding == "ascii"
    # A short binary file still is not.
    with pytest.raises(UnsupportedFile, match="binary data"):
        detect_encoding(b"\x89\x00\x01\x02\x03\x00\x10\x00\x00a,b\n", complete=True)


def test_binary_data_is_still_refused() -> None:
    with pytest.raises(UnsupportedFile, match="binary data"):
        detect_encoding(bytes(range(256)) * 16, complete=True)


def test_a_header_behind_a_comment_marker_is_the_header_not_a_comment() -> None:
    rows = "".join(f"{n},Person {n},p{n}@x.pt\n" for n in range(1, 30))
    commented_header = detect_dialect("#id,name,email\n" + rows, complete=True).dialect
    assert (commented_header.comment, commented_header.has_header) == (None, True)
    # A comment is a comment: "# " with a space, or a second comment line, or rows that
    # have a header of their own.
    for text in (
        "# exported, by tool\n" + rows,
        "#id,name,email\n# 29 rows\n" + rows,
        "#generated,by,tool\nid,name,email\n" + rows,
    ):
        dialect = detect_dialect(text, complete=True).dialect
        assert dialect.comment == "#", text[:40]


# Written with a space after each delimiter (by hand, by a script that joins quoted values
# with ", "): a quote after the space opens a quoted field, whose delimiter stays in it.
SPACED = [
    ('email, name, company\nana@x.pt, Ana, "Smith, Jones & Co"\nbo@x.pt, Bo, Acme\n', ","),
    ('"email"; "name"; "company"\n"ana@x.pt"; "Ana"; "Lojas; Lda"\n"bo@x.pt"; "Bo"; "X"\n', ";"),
    ('email| name| company\nana@x.pt| Ana| "A| B"\nbo@x.pt| Bo| Acme\ncy@x.pt| Cy| \n', "|"),
]


@pytest.mark.parametrize(("text", "delimiter"), SPACED)
def test_a_space_after_each_delimiter_is_skipped_and_quotes_after_it_open_fields(
    text: str, delimiter: str
) -> None:
    guess = detect_dialect(text, complete=True)
    assert guess.dialect.delimiter == delimiter
    assert guess.dialect.skipinitialspace
    rows = [cells for _, cells, _ in read_all(text, guess.dialect)]
    assert rows[0] == ["email", "name", "company"]
    assert [len(row) for row in rows] == [3] * len(rows)
    assert rows[1][2] in {"Smith, Jones & Co", "Lojas; Lda", "A| B"}


def test_a_forced_delimiter_skips_the_spaces_after_it_too() -> None:
    text = SPACED[0][0]
    guess = detect_dialect(text, complete=True, overrides={"delimiter": ","})
    assert guess.dialect.skipinitialspace
    assert [cells for _, cells, _ in read_all(text, guess.dialect)][1][2] == "Smith, Jones & Co"


@pytest.mark.parametrize(
    "text",
    [
        # Free text whose commas have spaces after them, beside delimiters that have none.
        'email,name,note\nana@x.pt,Ana,"met in Lisbon, then Porto"\nbo@x.pt,Bo,"one, two"\n',
        "email,name,note\nana@x.pt,Ana, likes tea\nbo@x.pt,Bo,plain\ncy@x.pt,Cy,plain\n",
        # Tab- and space-delimited files are never "spaced".
        "email\t name\nana@x.pt\t Ana\nbo@x.pt\t Bo\n",
    ],
)
def test_spaces_after_some_delimiters_only_are_kept(text: str) -> None:
    guess = detect_dialect(text, complete=True)
    assert not guess.dialect.skipinitialspace


def test_a_quoted_field_after_a_space_that_holds_the_delimiter_is_one_field() -> None:
    # Most delimiters have no space after them, one column has: '"a","b", "c, d"'. Kept,
    # the space makes the quote a character, and the comma inside the field splits it
    # (LibreOffice's test files write so).
    rows = [["row", "status", "note"]] + [
        [f"row {i}", "open" if i % 2 else "closed", f"call back on day {i}, after {i + 8} h"]
        for i in range(1, 9)
    ]
    text = "".join(f'"{a}","{b}", "{c}"\n' for a, b, c in rows)
    guess = detect_dialect(text, complete=True)
    assert (guess.dialect.delimiter, guess.dialect.quotechar) == (",", '"')
    read = [cells for _, cells, _ in read_all(text, guess.dialect)]
    assert read[0] == ["row", "status", "note"]
    assert read[1] == ["row 1", "open", "call back on day 1, after 9 h"]
    assert [len(row) for row in read] == [3] * len(rows)


def test_the_space_after_a_spaced_delimiter_is_no_delimiter_of_its_own() -> None:
    # Every space follows a ':', whose times hold more ':' (tests/exports.py's random
    # tables, seed 1, table 282, read with ' ' before).
    text = "".join(
        f"'{email}': '{seen}': '{city}'\r"
        for email, seen, city in [
            ("email", "seen", "city"),
            ("ana@x.pt", "21:45:31", "Lisboa"),
            ("bo@x.pt", "14:44:57", "Porto"),
            ("cy@x.pt", "09:42:37", "Faro"),
        ]
    )
    guess = detect_dialect(text, complete=True)
    assert (guess.dialect.delimiter, guess.dialect.quotechar) == (":", "'")
    assert guess.dialect.skipinitialspace
    rows = [cells for _, cells, _ in read_all(text, guess.dialect)]
    assert rows[1] == ["ana@x.pt", "21:45:31", "Lisboa"]


_SYMBOLS = "€£©®°±§¶µ²³¼½«»–—…•™‰¢¥×÷¿¡"  # noqa: RUF001 - these very symbols


def _notes_with_symbols(seed: int) -> str:
    """A Western list whose only characters beyond ASCII are symbols in its notes (prices,
    units, quotes, dashes), and now and then a name with an accent."""
    rng = random.Random(seed)
    rows = ["email;name;note"]
    for number in range(rng.choice([2, 5, 20, 100])):
        words = ["Acme", "12", "x", rng.choice(_SYMBOLS), f"{rng.choice(_SYMBOLS)}{number}"]
        note = " ".join(rng.choice(words) for _ in range(rng.randint(1, 4)))
        name = rng.choice(["Anna", "Bob", "Zoë" if rng.random() < 0.1 else "Lee"])
        rows.append(f"p{number}@x.de;{name};{note}")
    return "\n".join(rows) + "\n"


@pytest.mark.parametrize("seed", range(40))
def test_symbols_in_a_western_file_keep_it_western(seed: int) -> None:
    # A symbol that another code page has as a letter (¥ -> Ą, ¿ -> ż, ¼ -> Ľ in cp1250)
    # made those readings look like Polish or Slovak; micro and ordinal signs counted as
    # letters no language writes.
    text = _notes_with_symbols(seed)
    data = text.encode("cp1252")
    guess = detect_encoding(data, complete=True)
    assert data.decode(guess.python_codec) == text, guess


@pytest.mark.parametrize(
    "text",
    [
        "email;name;price\n" + "".join(f"p{n}@x.de;Anna;€ {n}.50\n" for n in range(20)),
        "email,name,note\n" + "".join(f"p{n}@x.de,Anna,plain\n" for n in range(50)),
    ],
)
def test_a_few_symbols_are_no_evidence_of_another_script(text: str) -> None:
    # A symbol that another script's code page has as a letter (€ is a Cyrillic A in cp866)
    # does not make the file that script: a lone letter is no word.
    data = text.replace("plain\n", "„plain“\n", 2).encode("cp1252")
    guess = detect_encoding(data, complete=True)
    assert data.decode(guess.python_codec) == data.decode("cp1252"), guess


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("region", ["west", "central"])
def test_lists_mixing_the_languages_of_a_region_are_read_in_their_code_page(
    seed: int, region: str
) -> None:
    # A company's contacts across a region: Polish, Czech, Slovak and Hungarian names in
    # one cp1250 or iso8859-2 file (Štefan in iso8859-2 read as cp1250 is ©tefan), or
    # German, French, Spanish and Nordic ones in cp1252, mac_roman or cp850 (cp850's
    # Jürgen read as mac_roman is JÅrgen). Each of tests/exports.py's lists of 40 rows or
    # more must be read right; a shorter one may hold only names that read as well in
    # another code page (Sæther and Sľther, Ľubica and Ąubica).
    exports = legacy_contact_lists(20, seed=seed)
    wrong = []
    for export in exports:
        if not export.name.startswith(f"{region}-") or len(export.rows) < 40:
            continue
        guess = detect_encoding(export.data, complete=True)
        if export.data.decode(guess.python_codec) != export.data.decode(export.encoding):
            wrong.append((export.name, guess.python_codec))
    assert wrong == []


_CONTACT_LABELS = {
    "email": "Email",
    "first": "First Name",
    "last": "Last Name",
    "company": "Company",
    "phone": "Phone",
    "city": "City",
}


def _short_contact_list(seed: int) -> tuple[str, str]:
    """A list of 2-20 contacts, 2-6 of their fields in any order (an email among them),
    with any common delimiter: (its header line, its rows)."""
    rng = random.Random(seed)
    fields = rng.sample(list(_CONTACT_LABELS), rng.randint(2, 6))
    if "email" not in fields:
        fields[0] = "email"
    delimiter = rng.choice([",", ";", "\t"])
    people = [_person(rng, number) for number in range(rng.choice([2, 3, 5, 20]))]
    body = "".join(delimiter.join(p[field] for field in fields) + "\n" for p in people)
    return delimiter.join(_CONTACT_LABELS[field] for field in fields) + "\n", body


@pytest.mark.parametrize("seed", range(60))
def test_a_contact_list_without_a_header_has_its_first_contact_read_as_data(seed: int) -> None:
    # A row with an email address in it names no columns; a body of one row gives no
    # evidence by its cells' lengths (44 of 400 such lists lost their first contact).
    header, body = _short_contact_list(seed)
    assert not detect_dialect(body, complete=True).dialect.has_header
    assert detect_dialect(header + body, complete=True).dialect.has_header


def _one_name_files(name: str) -> tuple[str, ...]:
    """A test suite's files of one name: under a header, alone, and among ASCII rows."""
    return (f"id,name\n1,{name}\n", f"{name},x\n", f"name;city\nAna;{name}\nBo;Porto\n")


def _read_back(text: str, codec: str) -> str:
    """``text`` written in ``codec``, read back in the encoding detected."""
    data = text.encode(codec)
    return data.decode(detect_encoding(data, complete=True).python_codec)


@pytest.mark.parametrize("seed", range(8))
def test_names_with_initials_over_addresses_with_commas_split_at_the_semicolon(seed: int) -> None:
    # An address book of "name;street, town, country" lines (a course's adressen.csv): the
    # semicolon splits every line in two, the commas of the addresses two or three ways.
    # Names with an initial (Thomas A. Edison) were no words, so the typed cells of the
    # comma's reading (the towns, the countries) outweighed the semicolon's regular shape.
    rng = random.Random(seed)
    first = ["Thomas", "Mary", "John", "Ana", "Jules", "Harry", "Grace", "Oskar"]
    last = ["Edison", "Shelley", "Kennedy", "Silva", "Maigret", "Potter", "Hopper", "Schindler"]
    towns = ["Menlo Park, NJ", "Paris", "London", "Little Whinging", "Duckburg", "Lisbon"]
    lines = []
    for n in range(rng.randint(5, 9)):
        initial = f" {rng.choice('ABCDEFGHJK')}." if n % 2 == 0 else ""
        name = f"{rng.choice(first)}{initial} {rng.choice(last)}"
        street = f"{rng.choice(['Baker Street', 'Privet Drive', 'Rua Augusta'])} {n + 2}"
        lines.append(f"{name};{street}, {rng.choice(towns)}, {rng.choice(['UK', 'FR', 'USA'])}")
    dialect = detect_dialect("\n".join(lines) + "\n", complete=True).dialect
    assert (dialect.delimiter, dialect.has_header) == (";", False), lines


@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
@pytest.mark.parametrize("title", ["KNAB EXPORT", "Contacts export", "Kontakte 2024"])
def test_a_title_over_a_header_and_no_rows_is_a_preamble(title: str, delimiter: str) -> None:
    # A bank's or an address book's export with nothing in it: its title, padded with the
    # table's delimiters, over the header. Two rows are too few for the usual width, so
    # the title was read as the header and the header as a row of data.
    names = ["Rekeningnummer", "Transactiedatum", "Bedrag", "Tegenrekeninghouder", "Adres"]
    lines = [title + delimiter * (len(names) - 1), delimiter.join(names)]
    dialect = detect_dialect("\n".join(lines) + "\n", complete=True).dialect
    assert (dialect.delimiter, dialect.skip_rows, dialect.has_header) == (delimiter, 1, True)


def test_a_name_alone_over_a_contact_is_no_title() -> None:
    # Two rows of a headerless list, the first filling one cell: a row of data has a
    # number, a date or an address, which no header holds.
    text = "Ana Silva,,\nBo Lee,bo@x.pt,+351 912 345 678\n"
    assert detect_dialect(text, complete=True).dialect.skip_rows == 0


_CAPITALS_PT = ["LANÇAMENTO", "HISTÓRICO", "SÃO PAULO", "DÉBITO", "CRÉDITO", "TRANSFERÊNCIA"]
_CAPITALS_PT += ["JOÃO", "CONCEIÇÃO", "ASSUNÇÃO", "ÁGUA", "PAGAMENTO", "TARIFA BANCÁRIA"]


@pytest.mark.parametrize("codec", ["cp850", "cp1252"])
@pytest.mark.parametrize("seed", range(4))
def test_words_in_capitals_read_in_their_dos_code_page(seed: int, codec: str) -> None:
    # A Brazilian bank's export written by a DOS-era system, in capitals and cp850
    # (bank2ynab's Extrato.csv is one header line): read as cp1252, Ó is à between two
    # capitals (HISTàRICO) and Ç a euro sign. A small letter inside a word in capitals is
    # a mark of a wrong reading, as a capital inside a word in small letters is.
    rng = random.Random(seed)
    lines = ["DATA LANÇAMENTO;HISTÓRICO;VALOR;SALDO"][: rng.randint(0, 1)]
    for n in range(rng.randint(1, 4)):
        words = " ".join(rng.sample(_CAPITALS_PT, 2))
        lines.append(f"{n + 1:02d}/03/2019;{words};-{n}5,00;1.2{n}0,00")
    text = "\n".join(lines) + "\n"
    assert _read_back(text, codec) == text


_SPANISH_CAPITALS = ["SEÑORA", "SEÑOR", "PEÑA", "CAÑAMERAS", "ESPAÑON", "MUÑOZ", "NUÑEZ"]
_SPANISH_CAPITALS += ["IBAÑEZ", "ACUÑA", "OÑATE", "YAÑEZ", "BRIONES", "ACOSTA", "GALLO"]


@pytest.mark.parametrize("codec", ["cp850", "cp1252"])
@pytest.mark.parametrize("seed", range(8))
def test_an_n_with_a_tilde_in_words_in_capitals_reads_in_its_dos_code_page(
    seed: int, codec: str
) -> None:
    # An Argentine client list dumped by a DOS program, in capitals and cp850, its only
    # letter beyond ASCII Ñ (0xA5): cp1250 reads it as Ą (SEĄORA, PEĄA), a letter no
    # language writes between those, and its Windows page kept its place over DOS's.
    rng = random.Random(seed)
    lines = []
    for n in range(rng.randint(3, 8)):
        name, partner = rng.sample(_SPANISH_CAPITALS[:11], 2)
        title = rng.choice(["SEÑORA", "SEÑOR", "DOCTOR"])
        lines.append(
            f'{600 + n},"{name}, JUAN","{partner} {rng.choice(_SPANISH_CAPITALS)}",'
            f'"CALLE {n} N  902","{title}","S",/  /'
        )
    text = "\n".join(lines) + "\n"
    if text.isascii() or text.count("Ñ") < 4:
        lines.append('700,"PEÑA, ANA","IBAÑEZ","AVDA. MUÑOZ 1","SEÑORA","S",/  /')
        text = "\n".join(lines) + "\n"
    assert _read_back(text, codec) == text


def test_a_polish_list_with_its_nasal_a_stays_in_its_windows_code_page() -> None:
    # The other side: Ą where Polish writes it (Ząbki, Dąbrowska) keeps cp1250.
    text = "nazwisko;miasto\nDąbrowska;Ząbki\nWąsik;Gdańsk\nMączyński;Łódź\n"
    assert _read_back(text, "cp1250") == text


_GERMAN_BUSINESSES = ["Getränkehaus Heussinger", "Metallbau Zöphel GmbH", "Gärtnerei Kühn"]
_GERMAN_BUSINESSES += ["Kieferorthopädische Praxis", "Fleischerei Jäger", "Möbelhaus Bäumer"]
_GERMAN_BUSINESSES += ["Autohaus Schäfer", "Bäckerei Brück"]
_GERMAN_CITIES = ["München", "Lütjensee", "Tübingen", "Höchstadt", "Düsseldorf", "Göttingen"]


def _ascii_upper(words: str) -> str:
    """Words put in capitals the way C's toupper does, in ASCII only (GETRäNKEHAUS)."""
    return "".join(char.upper() if char.isascii() else char for char in words)


def _directory(pairs: list[tuple[str, str]], end: str = "\r") -> str:
    """A business directory's export: its header, then a row for each name and town."""
    rows = ["DUNS,POI_NAME,STREET_ADDRESS,CITY,POSTALCODE"]
    for n, (name, town) in enumerate(pairs):
        rows.append(f"{330000000 + n},{name},HAUPTSTR. {n},{town},1{n}")
    return end.join(rows) + end


@pytest.mark.parametrize("codec", ["mac_roman", "cp850", "cp1252"])
@pytest.mark.parametrize("seed", range(8))
def test_words_put_in_capitals_in_ascii_only_read_in_their_code_page(seed: int, codec: str) -> None:
    # A business directory from a program that put its words in capitals the way C's
    # toupper does, in ASCII only (GETRäNKEHAUS, MüNCHEN), with a Mac's CR line ends: the
    # small letters between capitals marked the right reading, and one that turned them
    # into capitals or symbols won (cp852's MŘNCHEN, cp1252's BŠCKEREI).
    rng = random.Random(seed)
    pairs = [
        (_ascii_upper(rng.choice(_GERMAN_BUSINESSES)), _ascii_upper(rng.choice(_GERMAN_CITIES)))
        for _ in range(rng.randint(3, 10))
    ]
    text = _directory(pairs)
    assert _read_back(text, codec) == text


@pytest.mark.parametrize("seed", range(16))
def test_a_mac_directory_mixing_both_kinds_of_capitals_reads_as_mac_roman(seed: int) -> None:
    # Names put in capitals in ASCII only (GETRäNKEHAUS), towns in full (GÖTTINGEN), from
    # a Mac: cp850 reads every accented letter small (GàTTINGEN, LåBECK), which looked like
    # capitals put in ASCII only, but no language writes à and å together.
    rng = random.Random(seed)
    pairs = [
        (_ascii_upper(rng.choice(_GERMAN_BUSINESSES)), rng.choice(_GERMAN_CITIES).upper())
        for _ in range(rng.randint(3, 10))
    ]
    text = _directory(pairs)
    assert _read_back(text, "mac_roman") == text


_GERMAN_SHOPS = ["Getränkehaus Heussinger", "Metallbau Zöphel GmbH", "Bäckerei Müller"]
_GERMAN_SHOPS += ["Kieferorthopädische Praxis", "Schön & Söhne", "Gärtnerei Kühn", "Blumen Größ"]
_GERMAN_SHOPS += ["Fleischerei Jäger", "Hotel Zur Brücke", "Möbelhaus Bäumer"]
_GERMAN_TOWNS = ["München", "Köln", "Düsseldorf", "Lübeck", "Tübingen", "Göttingen", "Bonn"]


@pytest.mark.parametrize("seed", range(40))
def test_words_in_capitals_some_in_ascii_only_read_in_cp1252(seed: int) -> None:
    # A cp1252 directory whose names went through an ASCII-only toupper and some through
    # a full one (MüNCHEN beside KÖLN): cp852 reads ü as Ř and ö as ÷ (MŘNCHEN, GR÷▀),
    # clean capitals against cp1252's small letters, but with symbols glued to words,
    # which weigh more.
    rng = random.Random(seed)
    pairs = []
    for _ in range(rng.randint(2, 12)):
        upper = _ascii_upper if rng.random() < 0.7 else str.upper
        pairs.append((upper(rng.choice(_GERMAN_SHOPS)), upper(rng.choice(_GERMAN_TOWNS))))
    text = _directory(pairs, end="\r\n")
    assert _read_back(text, "cp1252") == text


def test_a_header_alone_in_capitals_reads_in_its_dos_code_page() -> None:
    # The header-only export itself: HISTÓRICO read as cp1252 was HISTàRICO.
    text = "DATA LANÇAMENTO;HISTÓRICO;VALOR;SALDO\n"
    assert _read_back(text, "cp850") == text


def test_a_capital_word_with_a_sharp_s_stays_in_its_code_page() -> None:
    # ß has no capital of its own: STRAßE is how a word in capitals writes it.
    text = "NAME;STRAßE;ORT\nANNA MÜLLER;HAUPTSTRAßE 5;MÜNCHEN\nJÖRG WEIß;GROßE GASSE 2;KÖLN\n"
    assert _read_back(text, "cp1252") == text


_CZECH_PAYEES = [
    "Jiří Dvořák", "Přemysl Kuchař", "Lidl Plzeň", "Pekárna Bečva", "Zdeněk Kříž",
    "Potraviny U Zvonařky", "Kateřina Nováčková", "Hořice Černý", "Bohumil Hrabě",
]  # fmt: skip


@pytest.mark.parametrize("seed", range(6))
def test_a_statement_whose_names_are_masked_with_x_reads_in_its_code_page(seed: int) -> None:
    # An anonymised Czech bank export (bank2ynab's test data): every ASCII letter of the
    # payees masked as X, the accented ones left, in cp1250. Masked words have no vowel
    # (XčXXXčXXXX) and were taken for a wrong reading's, so cp1252 (XèXXXèXXXX) won.
    rng = random.Random(seed)
    lines = ['"Item";"Posting date";"Amount CZK";"Counteraccount name";"Message for me"']
    for n in range(rng.randint(4, 9)):
        payee = "".join(
            "X" if c.isascii() and c.isalpha() else c for c in rng.choice(_CZECH_PAYEES)
        )
        note = "".join("X" if c.isascii() and c.isalpha() else c for c in rng.choice(_CZECH_PAYEES))
        lines.append(f'"XXXXXX XXXXXX  {n}";"2018/05/{n + 1:02d}";"-{n}11,11";"{payee}";"{note}"')
    text = "\n".join(lines) + "\n"
    assert _read_back(text, "cp1250") == text


@pytest.mark.parametrize(
    ("text", "codec"),
    [
        ("nome,registro,data,tipo\njucy,r1,2022-07-19,Pessoa física\n", "cp850"),
        ("nome,registro,data,tipo\nnete,r35,2014-12-22,Pessoa jurídica\n", "cp852"),
        ("zakaznik, mesic, castka\nBrouk Pytlík, duben, 457\nVíla Amálka, duben, 12\n", "cp852"),
        ("Date;Libellé;Montant\n24/09/2026;Café;-3,50\n25/09/2026;VIR ACME;120,00\n", "cp850"),
        ("Date;Libellé;Montant;Devise\n15/01/2025;RETRAIT;-100,00;EUR\n", "cp852"),
        ("Dátum;Összeg\n2026-01-05;15484,50\n2026-01-06;(1 200)\n", "cp852"),
        ("Imię;Nazwisko;Wiek\nMaria;Wiśniewska;35\n", "iso8859_2"),
        ("nome,cognome\nNiccolò,Forlì\n", "mac_roman"),
        ("nome;città\nAnna;Città di Castello\nLuca;Però\n", "mac_roman"),
        (
            "Nom;Prénom;cotisation\nAPOLINAR FERNÁNDEZ;ALEJANDRO;29.00 €\n"
            "LÖFFEL;FABIAN;118.00 €\nCHACÓN COSTI;GONZALO;29.00 €\n",
            "iso8859_15",
        ),
    ],
)
def test_dos_and_iso_letters_read_as_cp1252_symbols_are_a_wrong_reading(
    text: str, codec: str
) -> None:
    # The í of DOS cp850 and cp852 read as cp1252 is ¡ (f¡sica), and as Mac Roman a degree
    # sign (f°sica): neither ever comes after a letter, nor the degree sign before one.
    # DOS's é read as cp1252 is a low quotation mark after a letter (Libell\u201a), which
    # only ever opens a quotation; its Ö is a trade mark sign before one (™sszeg). ISO
    # 8859-2's ś read as cp1250 is a pilcrow, which nothing glues to a letter (Wi¶niewska).
    # ISO 8859-15's € read as cp1252 is ¤, the currency sign nobody writes. Mac Roman's ò
    # and à read as cp1252 are a small tilde and a circumflex glued to the word.
    assert _read_back(text, codec) == text


@pytest.mark.parametrize(
    "text",
    [
        "Nombre;Nota\nJosé;¡Hola, qué tal!\nAna;¿Dónde está?\n",
        "Name;Lieu\nAnna Müller;N°5, 20°C\nJörg;Straße n°12\n",
        "Track;File\nMix;Where Are You¿.mp3\nJörg;Straße n°12\n",  # a mangled question mark
    ],
)
def test_exclamation_marks_and_degrees_where_text_writes_them_stay_cp1252(text: str) -> None:
    assert _read_back(text, "cp1252") == text


# Turkish words whose only letter beyond ASCII is the dotless i (its commonest letter).
_TURKISH_DOTLESS = "Kadın Yılmaz Aydın Yıldız Altın Kırmızı Yıllık Soyadı".split()  # noqa: RUF001, SIM905


@pytest.mark.parametrize("codec", ["cp1254", "iso8859_9"])
@pytest.mark.parametrize("seed", range(6))
def test_a_turkish_list_whose_only_accented_letter_is_the_dotless_i_is_turkish(
    seed: int, codec: str
) -> None:
    # A Turkish customer table (MusteriID, Cinsiyet: Erkek or Kadin with a dotless i):
    # its one byte beyond ASCII, 0xFD, read as cp1252's y acute (Kadýn) on the tie
    # between code pages that each write a letter of some language. The dotless i is half
    # of what Turkish writes beyond ASCII; y acute a small share of Czech's or Icelandic's.
    rng = random.Random(seed)
    lines = ["MusteriID;Cinsiyet;Soyadi;Sehir"]
    for n in range(rng.randint(2, 30)):
        gender = rng.choice(["Erkek", _TURKISH_DOTLESS[0]])
        lines.append(f"{n + 1};{gender};{rng.choice(_TURKISH_DOTLESS)};Ankara")
    text = "\n".join(lines) + "\n"
    assert _read_back(text, codec) == text


@pytest.mark.parametrize("codec", ["cp1254", "iso8859_9"])
def test_a_turkish_list_with_a_dotted_capital_i_is_turkish(codec: str) -> None:
    # Turkish's İ lowers to an i and a combining dot: it weighs as the plain i, and the
    # dotless i beside it decides against cp1252's Ýzmir Yýlmaz.
    text = "Email,City,Name\na@x.com,\u0130zmir,Y\u0131lmaz\nb@x.com,Paris,Lee\n"
    assert _read_back(text, codec) == text


@pytest.mark.parametrize(
    ("text", "codec"),
    [
        ("jmeno;mesto\nJan Novotný;Brno\nPetr Dvořák;Plzeň\nEva Malá;Kolín\n", "cp1250"),
        ("nafn;bær\nÞórður Guðmundsson;Reykjavík\nSigríður Ýr Jónsdóttir;Akureyri\n", "cp1252"),
        ("Name;Ort\nJürgen Müller;Köln\nAnna Weiß;München\n", "cp1252"),
    ],
)
def test_lists_with_the_y_acute_among_their_languages_letters_keep_their_code_page(
    text: str, codec: str
) -> None:
    # The counter-cases: Czech and Icelandic write ý among letters Turkish does not.
    assert _read_back(text, codec) == text


@pytest.mark.parametrize(
    ("language", "count", "accented", "codec"),
    [
        ("pl", 8, "Cichoń", "cp1250"),
        ("pl", 20, "Gdańsk", "iso8859_2"),
        ("pl", 100, "Cichoń", "cp1250"),
        ("tr", 100, "Şahin", "cp1254"),
        ("tr", 100, "Doğan", "iso8859_9"),
        ("tr", 100, "Kadın", "cp1254"),  # noqa: RUF001
        ("hu", 100, "Szőke", "cp1250"),
        ("hu", 100, "Győri", "iso8859_2"),
        ("sv", 100, "Björk", "cp850"),  # not Mac Roman's Bjîrk
        ("it", 100, "Niccolò", "cp850"),
        ("pl", 20, "Łukasz", "cp852"),
        ("hu", 100, "Szőke", "cp852"),
        ("lt", 100, "Šimkus", "cp1257"),
        ("lv", 100, "Kalniņa", "cp1257"),
        ("pl", 20, "Bălan", "cp1250"),  # a Romanian name: Polish writes no ă
        ("pl", 20, "Bălan", "iso8859_2"),
        ("pl", 20, "Szőke", "cp1250"),  # a Hungarian one
        ("hu", 20, "Bălan", "cp1250"),
        ("lt", 20, "Jonaitė", "cp1257"),
        ("lt", 20, "Kazlauskaitė", "iso8859_13"),
        ("lt", 20, "Vaičiūnas", "cp1257"),
        ("lt", 20, "Zīle", "cp1257"),  # a Latvian name: cp1252 reads Zîle
        ("sv", 20, "Łukasz", "cp852"),
        ("it", 20, "Cantù", "mac_roman"),
    ],
)
@pytest.mark.parametrize("seed", range(4))
def test_one_accented_name_is_read_in_the_language_of_the_names_around_it(
    seed: int, language: str, count: int, accented: str, codec: str
) -> None:
    # A Polish genealogy whose only letter beyond ASCII was ń (Cichoń) read as cp1252's
    # Cichoñ: letter by letter the Spanish reading is as plausible. The names around it
    # (Zbigniew Junkiewicz: cz, sz, ki) are Polish, and a language that the pairs of ASCII
    # letters of the words fit far better than any other decides the tie between code
    # pages, DOS ones too (a Swedish list in cp850 read as Mac Roman: Bjîrk). Letter by
    # letter, twenty Lithuanian names fit Latvian or Estonian as well (cp1252's
    # ``Jonaitë`` kept its place); their pairs (``ka``, ``as ``) do not. Where the plain
    # language writes none of a letter (a Romanian ``Bălan`` among Polish names), the
    # letters around it decide, not cp1252's place (``Bãlan``). A list plainly in a Baltic
    # language is in a Baltic code page where one reads a Baltic letter (a Latvian ``Zīle``
    # among Lithuanian names, not cp1252's ``Zîle``).
    text = names_with_one_accented(random.Random(seed), language, count, accented)
    assert _read_back(text, codec) == text


@pytest.mark.parametrize(
    ("language", "count", "accented"),
    [
        ("es", 8, "Muñoz"),
        ("es", 100, "Peña"),
        ("es", 20, "Ibañez"),
        ("en", 5, "Muñoz"),
        ("en", 100, "Núñez"),
        ("en", 20, "Þór"),
        ("en", 100, "Guðrún"),
        ("pl", 100, "Muñoz"),  # a Polish-American list: Muńoz is no Polish spelling
        ("pl", 20, "Ibañez"),
        ("pl", 20, "João"),  # cp1257 reads ã as ć, a Polish letter; Polish is not cp1257
    ],
)
@pytest.mark.parametrize("seed", range(3))
def test_one_accented_name_among_western_names_stays_cp1252(
    seed: int, language: str, count: int, accented: str
) -> None:
    # The counter-cases: Spanish surnames (Rodriguez, Lopez) hold as many z's as Polish
    # text, but their pairs are Spanish (ez, ue); English names tell English or no
    # language, neither of which writes ń or ş. Neither outweighs how common cp1252 is.
    # Polish names with a Spanish
    # one among them stay cp1252 too: Polish never writes ń before a vowel; nor with a
    # Portuguese one, whose ã cp1257 reads as Polish's ć: Polish is not written in cp1257.
    text = names_with_one_accented(random.Random(seed), language, count, accented)
    assert _read_back(text, "cp1252") == text


def test_a_stray_letter_in_english_notes_keeps_the_windows_western_page() -> None:
    # A comics data set's notes, plainly English, hold one stray byte 0xE6 between two
    # words (``theæM'Kraan``). English writes no letter beyond ASCII, so it tells nothing
    # of that one; the letters around (Polish ``ećm`` likelier than Danish ``eæm``) took
    # it for cp1250's ć. A Windows reading keeps its place.
    notes = [
        "Dies in Fear Itself brought back because that's kind of the whole point.",
        "Merged with Ultron in Rage of Ultron. A funeral was held.",
        "Resurrected by the Kree Empire using the\u00e6M'Kraan Crystal. Has not returned.",
        "Killed by The Hand. Later revived with The Stone of the Chaste.",
        "Died during time on Defenders. Eventually resurrected by the Grim Reaper.",
    ]
    text = "Name,Year,Notes\n" + "".join(
        f"Member {n},{1963 + n},{note}\n" for n, note in enumerate(notes)
    )
    assert _read_back(text, "cp1252") == text


_GUESTBOOK = [
    "3;22.10.03;Benny;Hallo alle zusammen, wollte euch recht herzlich grüßen",
    "4;23.10.03;Jörg;Schöne Seite, aber mehr war bei uns nicht drín. Na wie wär´s?",  # noqa: RUF001
    "5;24.10.03;Spam;http://example.com/view/DiseÃ±o-de-logotipos.php",
    "6;25.10.03;Mia;Das Café hat täglich geöffnet, Größe egal",
    "7;26.10.03;Spam;Itâ€™s the best â€“ cheap Â£10 offers",
]


@pytest.mark.parametrize(("codec", "spam"), [("cp1252", 2), ("cp1252", 4), ("cp850", 2)])
def test_utf8_read_as_cp1252_and_saved_so_is_no_mark_against_the_file(
    codec: str, spam: int
) -> None:
    # A German guestbook in cp1252 whose spam lines hold UTF-8 once read as cp1252 and
    # saved so (DiseÃ±o, â€™): ± glued to Ã marked cp1252's reading, ISO 8859-2 made
    # letters of the pair (DiseĂąo) and won, its ä, ö and ü the same bytes. The pairs are
    # in the file whatever its code page; they tell nothing about it.
    lines = ["Nr;Datum;Name;Eintrag", *_GUESTBOOK[:1], _GUESTBOOK[spam], *_GUESTBOOK[1:2]]
    lines.append(_GUESTBOOK[3])
    text = "\n".join(lines) + "\n"
    assert _read_back(text, codec) == text


@pytest.mark.parametrize(
    ("text", "codec"),
    [
        # Turkish names spelled in ASCII lean Turkish, though not plainly: cp1254's ş and
        # ğ, not cp1250's Romanian ţ (``Ayţe``) or cp1252's Icelandic ð (``Doðan``).
        ("name;surname\nMehmet;Kaya\nAhmet;Ay\u015fe\nMustafa;Demir\nKemal;Polat\n", "cp1254"),
        ("name;surname\nMehmet;Kaya\nAhmet;Do\u011fan\nMustafa;Demir\nKemal;Polat\n", "cp1254"),
        # Icelandic names keep their ð and þ.
        ("Nafn;Eftirnafn\nEinar;Jonsson\nHelga;Gu\u00f0mundur\nMagnus;Karlsson\n", "cp1252"),
        ("Nafn;Eftirnafn\nGunnar;\u00deorsteinn\nAnna;Petursdottir\n", "cp1252"),
        # A leaning is no more than the letters around: Spanish names under a German
        # header lean Slovak, and stay Mac Roman's, not cp852's ``Luc\u013aa``.
        ("Vorname;Nachname;Nr\nLuc\u00eda;N\u00fa\u00f1ez;46\n", "mac_roman"),
    ],
)
def test_the_language_the_words_lean_to_breaks_a_tie_between_windows_code_pages(
    text: str, codec: str
) -> None:
    assert _read_back(text, codec) == text


@pytest.mark.parametrize(
    ("text", "codec"),
    [
        ("Vorname;Nachname;Nr\nBj\u00f6rn;Gro\u00df;32\n", "cp850"),
        ("Vorname;Nachname;Nr\nMaximilian;Wei\u00df;18\nJ\u00f6rg;Becker;18\n", "cp850"),
        ("nom;cognom\nCol\u00b7legi Oficial;Mart\u00ed\nParal\u00b7lel;Puig\n", "cp1252"),
    ],
)
def test_a_middle_dot_touching_a_letter_marks_a_wrong_reading(text: str, codec: str) -> None:
    # DOS cp850's \u00df is Mac Roman's middle dot: ``Gro\u00b7``, ``Wei\u00b7``. Catalan
    # writes the dot between two l's only (``Col\u00b7legi``), which keeps its reading.
    assert _read_back(text, codec) == text


@pytest.mark.parametrize(
    "text",
    [
        "First,Last,Email\nSean,O\u2019Brien,sean@example.ie\nAnna,Smith,anna@example.com\n",
        "Name,Email\nLucia D\u2019Angelo,lucia@example.it\n",
        "Nom;Ville\nAisha N\u2019Diaye;Dakar\nMarie Dubois;Lyon\nPaul Martin;Nice\n",
        "Country,Code\nCote D\u2019Ivoire,CI\nFrance,FR\n",
    ],
)
@pytest.mark.parametrize("codec", ["mac_roman", "cp1252", "utf-8"])
def test_an_apostrophe_before_a_capitalised_name_reads_in_its_code_page(
    text: str, codec: str
) -> None:
    # Excel for Mac writes CSV in Mac Roman, where the typographic apostrophe of O’Brien  # noqa: RUF003
    # is 0xD5: cp1252's Õ, an accented capital between a letter and a capitalised
    # word (``OÕBrien``), which no name writes. Written in cp1252 or UTF-8 the same
    # lists keep their reading.
    assert _read_back(text, codec) == text


@pytest.mark.parametrize(
    "text",
    [
        "email,first,last\nx@example.com,François,Smith\n",
        "email;first;last\nanna@example.com;Zoë;Lee\n",
        "email,name\na@example.com,Schröder\nb@example.com,Acme\n",
        "email,name,city\na@example.com,Gonçalves,Porto\n",
        "Data;Lançamento;Valor\n01/05/2025;Salario;5000,00\n",
    ],
)
def test_a_dos_word_is_not_read_as_mac_roman_letters_no_language_writes_there(
    text: str,
) -> None:
    # cp850's ç is Mac Roman's á: ``Franáois``, ``Lanáamento``. Letter by letter both read
    # as well, and no language of the words around is plain; the letters on either side
    # of ç are what French and Portuguese write (``nço``), those of á what none does.
    assert _read_back(text, "cp850") == text


@pytest.mark.parametrize(
    ("language", "accented", "codec"), [("hu", "Szőke", "cp1250"), ("sv", "Björk", "cp850")]
)
@pytest.mark.parametrize("seed", range(3))
def test_one_accented_name_in_a_short_list_is_read_by_the_letters_around_it(
    seed: int, language: str, accented: str, codec: str
) -> None:
    # Five Hungarian names spelled in ASCII and one Szőke: cp1252 reads Szõke, a
    # Portuguese or Estonian õ among letters those languages seldom put around it.
    text = names_with_one_accented(random.Random(seed), language, 5, accented)
    assert _read_back(text, codec) == text


@pytest.mark.parametrize(
    ("text", "codec"),
    [
        ("First Name,Last Name\nBogdan,Bîrgu\nPeter,Ana\n", "cp1250"),
        ("id,name\n1,Þór\n2,Anna\n", "cp1252"),
    ],
)
def test_the_letters_around_do_not_outweigh_a_windows_code_page(text: str, codec: str) -> None:
    # Romanian's old-spelling Bîrgu reads in cp1257 as Latvian's Bīrgu, whose neighbours
    # Latvian writes more often; a word is no match for how rare cp1257 is. Icelandic has
    # no counts of its letters' neighbours here: its own þ keeps its reading.
    assert _read_back(text, codec) == text


@pytest.mark.parametrize(
    ("language", "count", "accented"),
    [("pl", 5, "Œuvre"), ("hu", 20, "Œuvre"), ("it", 2, "Œuvre"), ("es", 5, "Cœur")],
)
def test_french_oe_is_not_read_as_polish_s_with_acute(
    language: str, count: int, accented: str
) -> None:
    # cp1252's Œ and œ are cp1250's Ś and ś: ``Śuvre``, ``Cśur``. Polish writes ś before a
    # consonant or last, never before a vowel (si there); every list holding Œuvre among
    # other names was read as cp1250.
    text = names_with_one_accented(random.Random(1), language, count, accented)
    assert _read_back(text, "cp1252") == text


@pytest.mark.parametrize(
    ("text", "codec"),
    [
        ("id,name\n1,Agnieszka Cichoń\n", "cp1250"),
        ("Miasto;Kod\nGdańsk;80-001\n", "iso8859_2"),
        ("id,name\n1,José Muñoz\n", "cp1252"),
        ("Apellido;Ciudad\nIbáñez;La Coruña\n", "cp1252"),
    ],
)
def test_where_a_language_puts_its_n_with_an_accent_tells_the_code_page(
    text: str, codec: str
) -> None:
    # Byte 0xF1 is Polish's ń in cp1250 and Spanish's ñ in cp1252. Polish writes ń before
    # a consonant or last, never before a vowel; Spanish writes ñ before a vowel only. A
    # one-row Polish file read as cp1252 was Cichoñ, which no Spanish word ends with.
    assert _read_back(text, codec) == text


@pytest.mark.parametrize(
    ("text", "codec"),
    [
        ("imię;nazwisko;e-mail;rok urodzenia;klasa\nA;B;c@example.test;2008;2\n", "cp1250"),
        ("imię,nazwisko\nAnna,Nowak\n", "iso8859_2"),
        ("Soyadı;Adı;E-posta\nYilmaz;Mehmet;m@x.com\n", "cp1254"),  # noqa: RUF001
        ("Vardas;Pavardė;Klasė\nUgnė;Kazlauskaitė;8A\nMatas;Petrauskas;8A\n", "cp1257"),
        ("Prénom;Nom;Société\nAnne;Martin;Acme\n", "cp1252"),
        ("Förnamn;Efternamn;Företag\nAnna;Svensson;Acme\n", "cp1252"),
    ],
)
def test_a_known_field_name_spelt_by_one_reading_decides(text: str, codec: str) -> None:
    # A class list imported from Excel: its one letter beyond ASCII is the ę of ``imię``,
    # which cp1252 reads as ``imiê``, a name of nothing. A reading that spells a known
    # field's name in its language is the file's.
    assert _read_back(text, codec) == text


_CYRILLIC_NAMES = ["Москва", "Петров", "Сидорова", "Наталья", "Ольга", "Екатеринбург", "Смирнова"]


@pytest.mark.parametrize("codec", ["cp1251", "koi8_r"])
@pytest.mark.parametrize("name", _CYRILLIC_NAMES)
def test_a_one_name_cyrillic_list_is_never_read_as_korean_without_hangul(
    name: str, codec: str
) -> None:
    # A test suite's two-line file: one Russian name read as EUC-KR gave Chinese
    # characters (Москва in cp1251 is 輕仲循), and Korean is written in hangul.
    for text in (*_one_name_files(name), f'"column1","column2"\n1,"{name}"\n'):
        guess = detect_encoding(text.encode(codec), complete=True)
        assert guess.python_codec not in ("euc_kr", "cp949"), text


@pytest.mark.parametrize("codec", ["koi8_r", "koi8_u"])
def test_a_reading_with_a_word_final_arabic_letter_inside_a_word_is_wrong(codec: str) -> None:
    # Екатеринбург in KOI8 read as cp1256 is هثءشإزةخآصزا: ة (and ى) only end a word.
    for text in _one_name_files("Екатеринбург"):
        assert _read_back(text, codec) == text


@pytest.mark.parametrize(
    ("name", "codec"),
    [("Jiří", "cp1250"), ("Jiří", "iso8859_2"), ("Françoise", "mac_roman"), ("臺北", "big5")],
)
def test_a_one_name_file_is_not_read_in_a_script_that_breaks_its_words(
    name: str, codec: str
) -> None:
    # Jiří read as cp1255 is Jiרם (a word mixing scripts); 臺北's Big5 trail bytes are
    # ASCII letters, and its cp1250 reading »OĄ_ glues a symbol to them.
    for text in _one_name_files(name):
        assert _read_back(text, codec) == text


@pytest.mark.parametrize(
    ("name", "codec"),
    [
        *((name, codec) for name in ("김민수", "서울", "이영희") for codec in ("euc_kr", "cp949")),
        *((name, codec) for name in ("北京", "王小明") for codec in ("gbk", "gb18030")),
        ("陳大文", "big5"),
    ],
)
def test_a_one_name_korean_or_chinese_file_is_read_in_its_own_code_page(
    name: str, codec: str
) -> None:
    # 김민수 in EUC-KR is 梯團熱 in Big5, all common characters: only the frequency of
    # characters in each language tells them apart.
    for text in _one_name_files(name):
        assert _read_back(text, codec) == text


def test_a_big5_list_whose_thai_reading_glues_a_digit_to_a_letter_is_read_as_big5() -> None:
    # 李雅婷 in Big5 read as cp874 is ``ง๕ถฎด``: Thai writes its digits apart from its
    # letters, so that reading is misspelt; it was taken over Big5's.
    text = "id,name,email\n1,李雅婷,user0@example.com\n2,陳建宏,user1@example.com\n"
    assert _read_back(text, "big5") == text


@pytest.mark.parametrize("codec", ["euc_kr", "cp949"])
@pytest.mark.parametrize("name", ['"김,민수"', '"박,지훈"'])
def test_a_korean_name_with_a_one_syllable_word_is_read_as_korean(codec: str, name: str) -> None:
    # A name quoted with its surname apart: 김 is a word of one syllable, which was taken
    # for a lone symbol (as € read as a Cyrillic letter is), so no Korean reading was left
    # and the file was read as Thai (``ฑ่,นฮผ๖``).
    text = f'No,Korean Name,Affiliation\n11,{name},"Team, A"\n'
    assert _read_back(text, codec) == text


@pytest.mark.parametrize(
    ("names", "codec"),
    [(["李 娜"], "gb18030"), (["林敏"], "gbk"), (["高兰磊"], "gbk"), (["孙勇", "罗磊"], "gb18030")],
)
def test_a_short_chinese_list_is_not_read_as_korean_of_rare_syllables(
    names: list[str], codec: str
) -> None:
    # 李 娜 in GB2312 is 쟀 컹 in EUC-KR: every byte pair a syllable of KS X 1001, but
    # syllables Korean text hardly ever writes. Such a reading tied with the Chinese one,
    # and the character-frequency models, given three words, picked it.
    text = "id,name,email\n" + "".join(
        f"{i},{name},user{i}@example.com\n" for i, name in enumerate(names, 1)
    )
    assert _read_back(text, codec) == text


@pytest.mark.parametrize("codec", ["gb18030", "gbk"])
@pytest.mark.parametrize(
    "text",
    [
        "email\tfirst\tlast\tcity\tname\ncontact2@example.com\tAnna\tSmith\tParis\t王伟\n",
        "email;a;b;c\ncontact0@example.com;Ltd;王伟;Anna\n",
        "id,name\n1,王伟\n2,刘洋\n",
    ],
)
def test_a_chinese_name_of_frequent_characters_is_not_read_as_japanese(
    codec: str, text: str
) -> None:
    # 王伟 in GB2312 is 藍琉 in EUC-JP. Chinese and Japanese readings of kanji alone tie,
    # and a Japanese reading the detector ranked first was kept over the character models'
    # Chinese one; a Chinese reading every character of which Chinese writes often wins.
    assert _read_back(text, codec) == text


@pytest.mark.parametrize("codec", ["euc_kr", "cp949"])
@pytest.mark.parametrize(
    "names", [["황석윤"], ["윤호준"], ["홍희도", "임민우"], ["박현석", "홍태경"]]
)
def test_a_short_korean_list_is_not_read_as_chinese_of_rare_characters(
    codec: str, names: list[str]
) -> None:
    # 황석윤 in EUC-KR is 炔籍辣 in GB2312: characters of GB2312's first level, so the
    # readings tie, and the character models, given a name or two, leaned Chinese. The
    # Chinese reading holds characters Chinese seldom writes; the Korean one syllables
    # Korean writes often.
    text = "id,name,email\n" + "".join(
        f"{i},{name},user{i}@example.com\n" for i, name in enumerate(names, 1)
    )
    assert _read_back(text, codec) == text


@pytest.mark.parametrize(
    "names", [["김똠", "박쌰", "이민수"], ["최뷁", "정수빈", "강지훈", "윤서연"]]
)
def test_korean_names_beyond_ks_x_1001_are_read_as_cp949(names: list[str]) -> None:
    # Korean Excel saves CSV in cp949 (Unified Hangul Code): 8,822 syllables beyond the
    # 2,350 of KS X 1001 that EUC-KR holds (똠, 쌰, 뷁). Such a list was read as GB18030.
    text = "이름,이메일\n" + "".join(f"{name},p{i}@example.kr\n" for i, name in enumerate(names))
    assert _read_back(text, "cp949") == text


@pytest.mark.parametrize("codec", ["cp874", "tis_620"])
@pytest.mark.parametrize(
    "names", [["สมชาย ใจดี", "สมหญิง รักไทย"], ["วิไล ศรีสุข", "Anna Smith", "ประเสริฐ มั่นคง"]]
)
def test_a_thai_list_is_read_in_its_code_page(codec: str, names: list[str]) -> None:
    # Thai Excel saves CSV in cp874 (TIS-620 and a few symbols): it was read as Shift JIS.
    text = "ชื่อ,อีเมล\n" + "".join(f"{name},p{i}@example.co.th\n" for i, name in enumerate(names))
    assert _read_back(text, codec) == text


def test_a_thai_word_is_no_utf8_with_stray_bytes() -> None:
    # จำกัด in cp874 holds two valid UTF-8 sequences by chance (ӡ and the izhitsa, letters of
    # Abkhaz and Church Slavonic) beside one stray byte: no common letters, no UTF-8.
    text = "Email;Name;Company\nana@x.co.th;Smith;จำกัด\nbo@x.co.th;Lee;Acme\n"
    assert _read_back(text, "cp874") == text


@pytest.mark.parametrize("codec", ["koi8_u", "cp1251"])
def test_a_ukrainian_list_is_read_in_koi8_u_or_cp1251(codec: str) -> None:
    # KOI8-U writes the Ukrainian letters where KOI8-R has box-drawing signs: a Ukrainian
    # list in it read as nothing at all (Mac Roman, by the fallback).
    text = (
        "Ім'я,Email\nОлександр Шевченко,a@x.ua\nҐалина Їжакевич,b@x.ua\n"  # noqa: RUF001
        "Ірина Євтушенко,c@x.ua\n"
    )
    assert _read_back(text, codec) == text


@pytest.mark.parametrize(
    ("text", "codec"),
    [
        # DOS's Central European code page (old accounting and POS exports): read as
        # cp850, Dvořák as Dvo²ák.
        ("Imię,Nazwisko,Email\nŁukasz,Wójcik,a@x.pl\nMałgorzata,Kowalczyk,b@x.pl\n", "cp852"),
        ("Jméno,Příjmení,Email\nJiří,Dvořák,a@x.cz\nKateřina,Nováková,b@x.cz\n", "cp852"),
        # Russian in ISO 8859-5 (read as nothing at all) and in the Mac's Cyrillic.
        ("Имя,Город,Email\nИван,Москва,a@x.ru\nМария,Санкт-Петербург,b@x.ru\n", "iso8859_5"),  # noqa: RUF001
        ("Имя,Город,Email\nИван,Москва,a@x.ru\nМария,Санкт-Петербург,b@x.ru\n", "mac_cyrillic"),  # noqa: RUF001
    ],
)
def test_dos_central_european_iso_and_mac_cyrillic_lists_are_read(text: str, codec: str) -> None:
    assert _read_back(text, codec) == text


def test_a_list_of_japanese_names_is_not_taken_for_chinese() -> None:
    # Kanji alone are Chinese characters too; the frequency models lean Chinese on them.
    # The price, known: 上海市 alone in GBK is read as EUC-JP 貧今偏, as before.
    text = "氏名,メール,住所\n" + "山田太郎,yamada@example.jp,東京都港区\n" * 3000
    data = text.encode("euc_jp")
    assert detect_encoding(data, complete=True).python_codec == "euc_jp"


@pytest.mark.parametrize(
    ("name", "codec"),
    [
        ("高雄", "big5"),
        ("新竹", "big5"),
        ("דוד", "cp1255"),
        ("李娜", "gb18030"),
        ("广州", "gb18030"),
        ("田中", "shift_jis"),
        ("Μαρία", "iso8859_7"),
    ],
)
def test_one_name_in_another_script_among_ascii_fields_is_not_read_as_latin_symbols(
    name: str, codec: str
) -> None:
    # 高雄 in Big5 read as cp1252 is °ª¶¯, דוד in cp1255 as mac_roman „Â„: a value made
    # of symbols beyond ASCII alone, too short to count as symbol soup. (Still missed:
    # 渡辺 in Shift JIS, whose mac_roman reading ìnï” is mostly letters.)
    rows = [f"contact{n}@example.com;Smith;Lee;Paris\n" for n in range(3)]
    text = "email;last;first;city\n" + "".join(rows) + f"contact9@example.com;Lee;Anna;{name}\n"
    assert _read_back(text, codec) == text


@pytest.mark.parametrize("name", ["Peña", "Muñoz", "Ibáñez Peña", "Niño"])
def test_a_dash_inside_a_word_marks_a_wrong_reading(name: str) -> None:
    # ñ in mac_roman is cp1252's en dash (Pe\u2013a): real text puts no dash between letters.
    text = f"email;name\nana@x.es;{name}\nbo@x.es;Lee\n"
    assert _read_back(text, "mac_roman") == text


def test_a_list_mixing_many_languages_keeps_the_common_western_code_page() -> None:
    # A customer list from twenty countries in cp1252 (Berlín, Luleå, København, São
    # Paulo, Århus): Czech writes more of its accented letters than any one language
    # does in cp1252, once å reads as Slovak ĺ and ø as ř. No language writes nearly
    # all of them in either reading: a mix, which is no evidence against cp1252.
    cities = ["Berlín", "México D.F.", "Taquería", "Luleå", "Bólido", "Canadá", "Comércio"]
    cities += ["Atlántico", "Océano", "Bélgica", "København", "Århus", "Génova", "Clásicas"]
    text = "id;city\n" + "".join(f"{n};{city}\n" for n, city in enumerate(cities))
    assert _read_back(text, "cp1252") == text


@pytest.mark.parametrize("name", ["Müller", "Württemberg", "Zürich", "Nürnberg"])
def test_a_polish_z_acute_after_a_consonant_marks_a_wrong_reading(name: str) -> None:
    # ü in Mac Roman is cp1250's ź: Mźller. Polish writes ź first in a word, after a
    # vowel or in dź (źle, groźny, dźwięk), never after another consonant. (Düsseldorf
    # stays ambiguous: Dźsseldorf opens with Polish dź.)
    text = f"email;name\nana@x.de;{name}\nbo@x.de;Lee\n"
    assert _read_back(text, "mac_roman") == text
    for polish in ("Koźmiński", "Źródło", "Dźwięk"):
        text = f"email;name\nana@x.pl;{polish}\nbo@x.pl;Lee\n"
        assert _read_back(text, "cp1250") == text


@pytest.mark.parametrize("name", ["João", "Conceição", "Adão"])
def test_mac_romans_mathematics_inside_a_word_marks_a_wrong_reading(name: str) -> None:
    # ã in cp850 is Mac Roman's ∆ (Jo∆o): no text glues a mathematical sign to a letter.
    text = f"email;name\nana@x.pt;{name}\nbo@x.pt;Lee\n"
    assert _read_back(text, "cp850") == text


@pytest.mark.parametrize("codec", ["cp1252", "latin-1"])
def test_a_lone_sharp_s_is_read_as_itself(codec: str) -> None:
    # ß first in a word marks a wrong reading (``ßk``), but a cell may hold the letter
    # alone: cp850 read it as a block character, mac_roman as a ligature.
    for text in ("ß\n", "id,name\n1,english\n2,ß\n"):
        assert _read_back(text, codec) == text


@pytest.mark.parametrize(
    ("family", "given", "address", "codec"),
    [
        ("加藤", "亮", "東京都東京区東京", "cp932"),
        ("渡辺", "拓也", "東京都東京区東京", "shift_jis"),
        ("佐藤", "花子", "大阪府大阪市北区", "euc_jp"),
        ("王", "伟", "北京市朝阳区", "gb18030"),
        ("陳", "偉", "臺北市信義區", "big5"),
        ("김", "민수", "서울특별시 강남구", "cp949"),
        ("이", "영희", "부산광역시 해운대구", "euc_kr"),
    ],
)
def test_ascii_letters_glued_to_everyday_characters_are_no_wrong_reading(
    family: str, given: str, address: str, codec: str
) -> None:
    # A layout tool's Japanese sample address book in Shift JIS numbers its people and
    # places by a letter (``加藤,亮a,...,東京都東京区東京a-a-a``): read as Mac Roman, for
    # its words mixing ASCII letters and kanji counted as words mixing scripts, a mark of
    # a wrong reading that left no Japanese reading standing. Latin text read as Big5 or
    # GBK glues its letters to rare characters; these are everyday ones.
    rows = [
        f"{family},{given}{c},03-{c * 4}-{c * 4},{address}{c}-{c}-{c},{c * 2}@mail.example"
        for c in "abcdefghijklmnopqrstuvwxyz0123456789"
    ]
    text = "\n".join(rows) + "\n"
    assert _read_back(text, codec) == text


@pytest.mark.parametrize("codec", ["cp850", "cp437"])
def test_a_block_typed_between_numbers_is_no_mark_of_a_wrong_reading(codec: str) -> None:
    # A DOS supplier list (Nº 1520, ACUÑA in cp850) whose clerk typed a full block between
    # two phone numbers: a lone box-drawing character is how a Latin letter reads in the
    # wrong DOS code page (``2,▀``: a ß alone), and it weighed as much as Mac Roman's
    # ``ACU•A``, so Mac Roman won the tie. No letter stands alone between two digits or
    # two spaces.
    text = (
        '"NUMERO","NOMBRE","DOMICILIO","LOCALIDAD","TELEFONO","CONTACTO"\n'
        '"3","METALURGICA DEL SUR S.A.","CALLE 44 Nº1520","LANUS","4241-0098/0099","RICARDO"\n'
        '"8","PLASTICOS ACUÑA","AV. MITRE 2210","AVELLANEDA","4201-5530","MARTA"\n'
        '"11","TRANSPORTES DEL OESTE","RUTA 3 Nº7701","SAN JUSTO","4482-1100/1101█4482-1102",\n'
        '"14","GRAFICA MODELO","AV. RIVADAVIA 5400 2º PISO","CAPITAL","4903-2121","JORGE"\n'
        '"19","CAJA CHICA (P1)",,,"4761-3000 █ 4761-3001",\n'
        '"23","LIBRERIA EL CAÑON","SARMIENTO 88","MORON","4629-0101","ANA"\n'
    )
    assert _read_back(text, codec) == text


# A file whose first MiB is ASCII (a list sorted so that its accented names come late).
_ASCII_HEAD = "email,first_name,last_name\n" + "".join(
    f"user{i}@example.com,Ann,Lee\n" for i in range(45_000)
)
_LATE_NAMES = {
    "utf-8": ["Zoë", "Šárka", "Ørjan"],
    "cp1252": ["José", "Müller", "Françoise"],
    "cp1250": ["Šárka", "Dvořák", "Łukasz"],
}


def _late_file(codec: str) -> tuple[bytes, str]:
    names = _LATE_NAMES[codec]
    late = "".join(f"late{i}@example.com,{names[i % 3]},{names[(i + 1) % 3]}\n" for i in range(40))
    text = _ASCII_HEAD + late
    return text.encode(codec), text


@pytest.mark.parametrize("codec", sorted(_LATE_NAMES))
def test_a_file_ascii_in_its_first_chunk_is_decided_where_it_stops_being_ascii(
    codec: str,
) -> None:
    data, text = _late_file(codec)
    assert data[: 1 << 20].isascii()
    guess = detect_encoding(data[: 1 << 20], complete=False)
    # However the bytes come in, the text and the decision are the same (a resumed read
    # meets other chunk boundaries).
    for sizes in ((1 << 20, 1 << 16), (1 << 20, 7919), (1 << 20, 1 << 18, 3)):
        decoder = IncrementalTextDecoder(guess)
        read, start, step = [], 0, 0
        while start < len(data):
            size = sizes[min(step, len(sizes) - 1)]
            read.append(decoder.decode(data[start : start + size], start + size >= len(data)))
            start, step = start + size, step + 1
        assert "".join(read) == text, sizes
        assert decoder.bad_bytes == 0
        assert decoder.guess.python_codec == codec
        assert decoder.guess.method.startswith("ascii, then")


def test_a_file_that_stays_ascii_stays_ascii() -> None:
    data = _ASCII_HEAD.encode()
    decoder = IncrementalTextDecoder(detect_encoding(data[: 1 << 20], complete=False))
    assert decoder.decode(data, final=True) == _ASCII_HEAD
    assert decoder.guess.encoding == "ascii"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_hebrew_lists_are_read_in_their_code_page(seed: int) -> None:
    # Hebrew's letters are the small letters of cp1251 and cp1253 (שרה is щшд, or ωψδ),
    # readings the detector prefers: 20 of 60 lists were read so. A Cyrillic or Greek
    # reading whose words have no vowel, whose final sigma is inside a word, or which has
    # not one capital in a list of names, gives way. Every list of 10 rows or more must be
    # right; of the shorter ones, with one or two Hebrew names, at most one in three wrong.
    wrong, short = [], 0
    for export in legacy_contact_lists(20, seed=seed):
        if not export.name.startswith("he-"):
            continue
        short += len(export.rows) < 10
        guess = detect_encoding(export.data, complete=True)
        if export.data.decode(guess.python_codec) != export.data.decode(export.encoding):
            wrong.append((export.name, len(export.rows), guess.python_codec))
    assert [name for name, rows, _ in wrong if rows >= 10] == []
    assert len(wrong) <= short / 3, wrong


@pytest.mark.parametrize(
    ("text", "codec"),
    [
        ("name,city\nMüller,Köln\n", "cp850"),  # read as cp932: M〕ler,K罵n  # noqa: RUF003
        ("שם,עיר\nדוד,תל אביב\n", "cp1255"),  # read as cp1251: щн,тйш  # noqa: RUF001
        ("שם,עיר\nמרים,חיפה\nשרה,נתניה\n", "cp1255"),  # noqa: RUF001
    ],
)
def test_tiny_files_in_a_legacy_code_page(text: str, codec: str) -> None:
    data = text.encode(codec)
    guess = detect_encoding(data, complete=True)
    assert data.decode(guess.python_codec) == text, guess


@pytest.mark.parametrize(
    ("names", "codec"),
    [
        # Turkish's ş read as cp1252 is Icelandic's þ, where Icelandic never writes it:
        # last in a word, or between vowels (Ayþe, Güneþ).
        ("Ayşe Güneş;Barış Demir;Ayşe Kaya", "cp1254"),  # noqa: RUF001
        ("Ayşe Yılmaz;Fatma Şahin;Ayşe Demir", "iso8859_9"),  # noqa: RUF001
        # Turkish's ğ never starts a word: Šiauliai in cp1257 read as cp1254 is Ğiauliai.
        ("Jonas Šiauliai;Anna Žemaitis;Jonas Smith", "cp1257"),
        # Icelandic keeps its þ and ð (first in a word, after a consonant; ð never first).
        ("Sigþór Guðmundsson;Þórður Jónsson;Guðrún Arnþórsdóttir", "cp1252"),
    ],
)
def test_letters_where_their_language_never_writes_them_mark_a_wrong_reading(
    names: str, codec: str
) -> None:
    rows = [["email", "name", "last"]] + [
        [f"p{i}@example.com", *name.split()] for i, name in enumerate(names.split(";"))
    ]
    data = _text(rows).encode(codec)
    guess = detect_encoding(data, complete=True)
    assert data.decode(guess.python_codec) == _text(rows), guess


def test_a_capital_after_small_letters_marks_a_reading_in_another_script() -> None:
    # Ten contacts, one of them in Θεσσαλονίκη, in iso8859-7: read as cp1251 the city is
    # ИеуублпнЯкз, a capital after small letters inside a word (legacy_contact_lists,
    # seed 3).
    export = {e.name: e for e in legacy_contact_lists(20, seed=3)}["el-iso8859_7-0013.csv"]
    guess = detect_encoding(export.data, complete=True)
    assert export.data.decode(guess.python_codec) == export.data.decode(export.encoding), guess


@pytest.mark.parametrize(
    ("seed", "name"),
    [
        # One محمد in ten contacts: read as mac_roman it is „Õ„œ, a quotation mark inside a
        # word; read as cp932 it is two kanji that are not everyday Japanese ones.
        (2, "ar-cp1256-0015.csv"),
        # João in mac_roman read as cp1252 is Jo‹o: a quotation mark inside a word.  # noqa: RUF003
        (3, "pt-mac_roman-0007.csv"),
        # Köln and Jörg in mac_roman read as cp1252 are Kšln and Jšrg: no vowel left.
        (2, "de-mac_roman-0005.csv"),
        (2, "de-mac_roman-0006.csv"),
        # Иванов in cp1251, Иван in koi8_r, Харків in cp1251 read as EUC-KR are 흄陝荻,
        # 愚죔 and 輛簇년: hangul and Chinese characters in one word, which Korean never
        # writes.
        (1, "ru-cp1251-0010.csv"),
        (1, "ru-koi8_r-0006.csv"),
        (1, "uk-cp1251-0007.csv"),
    ],
)
def test_marks_of_a_wrong_reading_in_short_generated_lists(seed: int, name: str) -> None:
    export = {e.name: e for e in legacy_contact_lists(20, seed=seed)}[name]
    guess = detect_encoding(export.data, complete=True)
    assert export.data.decode(guess.python_codec) == export.data.decode(export.encoding), guess


@pytest.mark.parametrize(
    ("text", "header"),
    [
        # Years, or a count of three or more, across the first row name the columns...
        ("Country,2019,2020,2021\nPortugal,1.2,3.4,5.6\nSpain,2.2,3.1,4.4\n", True),
        ("region,2019,2020\nnorth,100,120\nsouth,90,95\neast,80,99\n", True),
        ("x,1,2,3\na,0.5,0.7,0.1\nb,0.2,0.3,0.9\n", True),
        # ...unless the rows below count the same way, or the run is two small numbers.
        ("1,2,3\n4,5,6\n7,8,9\n", False),
        ("0,1\n5,7\n8,1\n3,3\n", False),
    ],
)
def test_consecutive_numbers_across_the_first_row_are_column_names(text: str, header: bool) -> None:
    assert detect_dialect(text, complete=True).dialect.has_header is header


@pytest.mark.parametrize(
    "text",
    [
        "fruit,color\napple,red\nbanana,yellow\ncherry,red\n",
        "title,author\nDune,Frank Herbert\nEmma,Jane Austen\nBeloved,Toni Morrison\n",
        "product,brand\nLamp,Acme\nLaptop,Initech\nDesk,Globex\n",
    ],
)
def test_common_column_names_over_text_are_a_header(text: str) -> None:
    # All text, no type to tell the header by: the names columns are given decide.
    assert detect_dialect(text, complete=True).dialect.has_header is True
    headerless = text.split("\n", 1)[1]
    assert detect_dialect(headerless, complete=True).dialect.has_header is False


def test_brackets_are_never_delimiters() -> None:
    # Mailboxes pasted from a mail program: every line ends in '>', which read as a
    # delimiter cut each address open (ana@x.pt> and an empty column).
    text = "".join(
        f"{name} <{name.split()[0].lower()}@example.com>\n"
        for name in ("Ana Silva", "Bo Ng", "Maria da Graca Santos", "Zoe", "Jean-Luc Picard")
    )
    assert detect_dialect(text, complete=True).dialect.delimiter not in "<>()[]{}"
    phones = "".join(f"(555) 01{n:02d}\n" for n in range(20))
    assert detect_dialect(phones, complete=True).dialect.delimiter not in "<>()[]{}"


def _cells(text: str) -> list[list[str]]:
    """``text``'s rows as the worker reads them: detected dialect, header and all."""
    dialect = detect_dialect(text, complete=True).dialect
    return [
        cells
        for _, cells, _ in read_all(text, dialect)
        if any(cells) and not dialect.is_comment(cells)
    ]


@pytest.mark.parametrize("padded_end", [False, True])
@pytest.mark.parametrize("seed", range(1, 11))
def test_columns_aligned_with_runs_of_spaces_are_one_column_each(
    seed: int, padded_end: bool
) -> None:
    # A console table or plain-text report: a run of spaces is one delimiter, and the
    # spaces padding a line's end are no column. Read a space at a time, every row split
    # into as many columns as its padding made.
    export = aligned(random.Random(seed), 12, padded_end=padded_end)
    text = export.data.decode()
    dialect = detect_dialect(text, complete=True).dialect
    assert (dialect.delimiter, dialect.has_header) == (" ", True)
    header, *rows = _cells(text)
    assert len(header) == len(export.header or [])
    assert [row[: len(header)] for row in rows] == export.rows
    assert all(not cell for row in rows for cell in row[len(header) :])


def test_single_spaces_keep_their_empty_fields() -> None:
    # One space a delimiter and no runs: nothing to collapse, so empty fields stay.
    text = "".join(f"{n} u{n}@x.io {n % 7}\n" for n in range(20))
    assert detect_dialect(text, complete=True).dialect.skipinitialspace is False


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "^"])
@pytest.mark.parametrize("seed", range(1, 6))
def test_rows_commented_out_with_a_marker_are_no_rows(seed: int, delimiter: str) -> None:
    # "#" put before a few rows to take them out of the list, beside a note that uses it
    # as a comment marker: comments, though they hold the delimiter (notes among the rows
    # hold none, and were comments already).
    rng = random.Random(seed)
    people = [_person(rng, index) for index in range(30)]
    rows = [[str(i + 1), p["email"], p["first"], p["last"]] for i, p in enumerate(people)]
    out = sorted(rng.sample(range(30), 3))
    lines = ["id,email,first_name,last_name", *(",".join(row) for row in rows)]
    text = "".join(
        ("# left the club:\n" if index - 1 == out[0] else "")
        + ("#" if index - 1 in out else "")
        + line.replace(",", delimiter)
        + "\n"
        for index, line in enumerate(lines)
    )
    assert detect_dialect(text, complete=True).dialect.comment == "#"
    assert _cells(text)[1:] == [row for i, row in enumerate(rows) if i not in out]


@pytest.mark.parametrize(
    "first",
    [
        ["#1 Chinese Kitchen", "#1 Chinese Restaurant", "#9 Pub"],  # names, a few
        [f"#{1000 + n}" for n in range(18)],  # order numbers, most rows
    ],
)
def test_values_that_start_with_the_marker_stay_rows(first: list[str]) -> None:
    # With no note to show "#" is a comment marker here, lines that start with it and
    # hold the delimiter are rows: a business named "#1 Chinese Kitchen", order numbers.
    rows = [[f"Shop {n}", f"p{n}@x.pt", f"2{n:04d}"] for n in range(20)]
    for index, value in enumerate(first):
        rows[index * (20 // len(first))][0] = value
    text = "name,email,zip\n" + "".join(",".join(row) + "\n" for row in rows)
    assert detect_dialect(text, complete=True).dialect.comment is None
    assert _cells(text)[1:] == rows


@pytest.mark.parametrize(
    "text",
    [
        "Email\tFirst name\tLast name\tCity\tCompany\n"
        "contact0@example.com\tירושלים\tירושלים\tיוסף\tפרץ\n"  # noqa: RUF001
        "contact1@example.com\tפרץ\tיוסף\tאברהם\tAnna\n",  # noqa: RUF001
        "Email,First name,Last name,City,Company\n"
        "contact0@example.com,לוי,דוד,כהן,רחוב\n"
        "contact1@example.com,אברהם,פרץ,ביטון,לוי\n"
        "contact2@example.com,יוסף,כהן,ביטון,לוי\n",
    ],
)
def test_hebrew_is_not_read_as_capital_cyrillic(text: str) -> None:
    # cp1255's letters are KOI8-R's capitals: ירושלים reads ИЬЕЫЛИМ, a soft sign after a
    # vowel, which no Cyrillic word writes.
    assert _read_back(text, "cp1255") == text


@pytest.mark.parametrize("codec", ["cp1253", "iso8859_7"])
def test_a_greek_name_is_not_read_as_cyrillic_with_a_short_i_after_a_consonant(
    codec: str,
) -> None:
    # Γιώργος in cp1253 read as cp1251 is Гйюсгпт: й follows vowels only in Russian,
    # Ukrainian or Bulgarian words, never a consonant (--languages 20, seed 1).
    text = (
        "Email;First name;Last name;City;Company\n"
        "contact0@example.com;Γιώργος;Anna;O'Brien;Ltd\n"
        "contact1@example.com;Ltd;O'Brien;Paris;Lee\n"
    )
    assert _read_back(text, codec) == text


def test_utf8_with_a_stray_byte_is_utf8_and_chance_sequences_are_not() -> None:
    # A UTF-8 list with one cp1252 byte pasted in: UTF-8, the byte an ENCODING issue.
    data = "email,name\na@x.io,Zoë\nb@x.io,José\n".encode() + b"c@x.io,Ren\xe9\n"
    assert detect_encoding(data, complete=True).method == "utf-8-with-errors"
    # A few bytes of Shift JIS may hold valid UTF-8 sequences by chance (ひろし holds
    # "Ђ낵"): a Cyrillic letter and a hangul syllable are no word; Shift JIS reads it.
    for codec in ("shift_jis", "cp932"):
        for text in ("name,email\nひろし,a@x.io\n", "ひろし\n"):
            assert _read_back(text, codec) == text


@pytest.mark.parametrize(
    ("text", "codec"),
    [
        ("email,first,last\na@x.cz,Kateřina,Nováková\n", "cp1250"),  # cp1252: Kateøina
        ("email,first,last\na@x.cz,Kateřina,Petr\n", "iso8859_2"),
        ("Email\tName\tCompany\nb@x.sk\tĽubica\tSzőke\n", "cp1250"),  # mac_roman: ºubica
        # And the letters those readings made stay where they belong.
        ("email,first,last\na@x.no,Søren,Høie\nb@x.no,Bjørn,Løkke\n", "cp1252"),
        ("email,address\na@x.pt,Rua da Paz nº 12 1º andar\n", "cp1252"),
    ],
)
def test_an_o_slash_between_vowels_or_an_ordinal_opening_a_word_is_a_wrong_reading(
    text: str, codec: str
) -> None:
    # Danish and Norwegian put ø next to a consonant (Søren, Høie); between two vowels it
    # is Czech ř read as cp1252 (Kateøina). º and ª follow a number or an n (1º, nº);
    # opening a word, they are Slovak Ľ read as mac_roman (ºubica).
    assert _read_back(text, codec) == text


@pytest.mark.parametrize("delimiter", ["§", "¦", "¬", "·"])
@pytest.mark.parametrize("codec", ["latin-1", "cp1252"])
def test_a_delimiter_beyond_ascii_is_read_as_that_symbol(delimiter: str, codec: str) -> None:
    # A field delimiter a byte beyond ASCII (polars' latin-1 test file uses §): the
    # reading that makes it a letter (Mac Roman's ß for §) glues the fields into words.
    rows = [["category", "calories", "email"]] + [
        [word, str(n * 10), f"p{n}@x.io"] for n, word in enumerate(["meat", "fish", "fruit"] * 5)
    ]
    text = "".join(delimiter.join(row) + "\n" for row in rows)
    assert _read_back(text, codec) == text
    dialect = detect_dialect(text, complete=True).dialect
    assert (dialect.delimiter, dialect.has_header) == (delimiter, True)


def test_an_accented_letter_on_every_line_is_no_delimiter() -> None:
    # Each line holds one ü (and ':' delimits, which is no common delimiter): a letter
    # that every row holds once, not a byte that delimits fields.
    text = (
        "Inc:Müller:alpha316@example.com:café::'07:47:53'\n"
        "café:Inc:müller313@example.com:Smith::'16:11:52'\n"
        "alpha:Smith Müller:smith710@example.com:café::'07:57:21'\n"
    )
    assert _read_back(text, "cp1252") == text


@pytest.mark.parametrize("seed", range(1, 6))
def test_a_title_over_a_short_ragged_table_is_a_preamble(seed: int) -> None:
    # A few rows, of no one width (extra empty cells on some, cut short on others): the
    # title line of one cell above the header is no header (Spark's cars-malformed.csv).
    rng = random.Random(seed)
    header = ["email", "first_name", "last_name", "company", "phone"]
    lines = ["Exported contacts, all of them (see notes below)", ",".join(header)]
    for index in range(rng.randint(3, 5)):
        p = _person(rng, index)
        cells = [p["email"], p["first"], p["last"], p["company"].replace(",", ""), p["phone"]]
        cells = cells[: rng.randint(3, 5)] + [""] * rng.choice([0, 0, 2])
        lines.append(",".join(cells))
    dialect = detect_dialect("\n".join(lines) + "\n", complete=True).dialect
    assert (dialect.skip_rows, dialect.has_header) == (1, True), lines


def test_a_thorn_that_delimits_is_read_as_a_thorn() -> None:
    # Spark's cars_iso-8859-1.csv: þ delimits (once more inside a quoted value), in
    # latin-1. A delimiter is weighed as no letter glued to others, so the most common
    # code page reads it, not cp1250 (ţ) or Mac Roman (an ogonek).
    text = (
        "yearþmakeþmodelþcommentþblank\n"
        '"2012"þ"Tesla"þ"S"þ"No comment"þ\n\n'
        '1997þFordþE350þ"Go get one now they are þoing fast"þ\n'
        "2015þChevyþVoltþþ\n\n"
    )
    assert _read_back(text, "latin-1") == text


_STAMPS = {
    "day first": lambda i: f"{i % 28 + 1:02d}/{i % 12 + 1:02d}/2015 {i % 24:02d}:{i % 60:02d}",
    "iso": lambda i: f"2016-{i % 12 + 1:02d}-{i % 28 + 1:02d} {i % 24:02d}:00:{i % 60:02d}",
    "am/pm": lambda i: f"{i % 12 + 1}/{i % 28 + 1}/2016 {i % 12 + 1}:{i % 60:02d} PM",
}


@pytest.mark.parametrize("stamp", sorted(_STAMPS))
def test_a_column_of_timestamps_is_one_column_under_its_name(stamp: str) -> None:
    # Spark's dates.csv: "date" over "26/08/2015 18:00". The space between a date and its
    # time is part of the value; split there, the header line was taken for a title.
    values = [_STAMPS[stamp](i) for i in range(3, 23)]
    text = "date\n" + "".join(value + "\n" for value in values)
    dialect = detect_dialect(text, complete=True).dialect
    assert (dialect.skip_rows, dialect.has_header) == (0, True)
    assert _cells(text) == [["date"], *([value] for value in values)]


def test_spaces_between_columns_of_dates_and_times_still_delimit() -> None:
    rows = [f"{n} 2016-03-{n % 28 + 1:02d} 1{n % 10}:30 user{n}" for n in range(20)]
    text = "id day time who\n" + "".join(row + "\n" for row in rows)
    assert detect_dialect(text, complete=True).dialect.delimiter == " "


@pytest.mark.parametrize("delimiter", ["ê", "þ", "ñ"])
def test_a_letter_beyond_ascii_that_splits_every_line_alike_is_the_delimiter(
    delimiter: str,
) -> None:
    # agate's test_unicode_delimiter.csv (ê), Spark's cars_iso-8859-1.csv (þ): a letter
    # that splits every line into the same fields is a delimiter there.
    rows = [["number", "text", "boolean", "date"]] + [
        [str(n), word, str(n % 2 == 0), f"2015-11-{n % 28 + 1:02d}"]
        for n, word in enumerate(["a", "b", "ok", "x"] * 4)
    ]
    text = "".join(delimiter.join(row) + "\n" for row in rows)
    dialect = detect_dialect(text, complete=True).dialect
    assert (dialect.delimiter, dialect.has_header) == (delimiter, True)
    assert _cells(text) == rows


@pytest.mark.parametrize(
    "names",
    [
        ["Weißstraße", "Großmannstraße", "Meißner Straße", "Süßstraße", "Gießener Straße"],
        ["山田の家の前", "田中の庭の木", "佐藤の店の奥", "鈴木の車の中"],
    ],
)
def test_letters_in_a_list_of_names_are_no_delimiter(names: list[str]) -> None:
    # The same letter twice on every line of a list of names is part of the names: no
    # column between them holds values of a type.
    text = "".join(name + "\n" for name in names * 3)
    assert not detect_dialect(text, complete=True).dialect.delimiter.isalpha()


@pytest.mark.parametrize("marker", ["//", "~"])
def test_notes_opening_the_file_behind_other_markers_are_comments(marker: str) -> None:
    # Spark's comments.csv opens with "~ Version 1.0" and a second "~ ..." line; C-style
    # tools write "// ...". Those notes, and the rows taken out with the marker, are no rows.
    rows = [[str(n), f"p{n}@x.io", f"2015-08-{n % 28 + 1:02d}"] for n in range(1, 9)]
    text = (
        f"{marker} Version 1.0\n{marker} exported by a script\n"
        + "".join(",".join(row) + "\n" for row in rows[:4])
        + f"{marker}0,p0@x.io,2015-08-01\n"
        + "".join(",".join(row) + "\n" for row in rows[4:])
        + f"{marker} the end\n"
    )
    dialect = detect_dialect(text, complete=True).dialect
    assert (dialect.comment, dialect.has_header) == (marker, False)
    assert _cells(text) == rows


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("tail", ["", " ({votes} / {wins})", " p{votes}@example.com"])
def test_names_of_more_or_fewer_words_a_line_are_one_column(seed: int, tail: str) -> None:
    # A parliament's members with their trips (``Acas Remigijus (3 / 0)``, ``Aleknaite
    # Abramikiene Vilija (20 / 4)``), a plain list of names (``Bo da Cunha``): split at
    # their spaces, rows as long as their names have words, every other row ragged and
    # ``da`` read as a last name; a name and an address a line (``Bo da Cunha bo@x.pt``),
    # the address in the third column or the fourth. One value a line: the names'
    # splitter parts them, an address after a name is a mailbox's.
    rng = random.Random(seed)
    given = ["Ana", "Vilija", "Petras", "Bo", "Carla", "Rimantas Jonas", "Vida Marija"]
    family = ["Silva", "da Cunha", "van Dijk", "Acas", "Aleknaite Abramikiene", "Ng"]
    lines = [
        f"{rng.choice(family)} {rng.choice(given)}"
        + tail.format(votes=rng.randrange(60), wins=rng.randrange(9))
        for _ in range(30)
    ]
    text = "\n".join(lines) + "\n"
    detection = detect_dialect(text, complete=True)
    assert detection.method == "single-column"
    rows = parse_sample(text.splitlines(keepends=True), detection.dialect)
    assert rows == [[line] for line in lines]


def test_an_address_after_names_of_two_words_mostly_is_still_one_value_a_line() -> None:
    # Four names in five of two words: the address sits in the third column of most rows,
    # which made it a column of addresses; the rows with a longer name shift it to the
    # fourth (``Bo da Cunha bo@x.pt``), ragged and their address under another column.
    lines = [
        (f"Bo da Cunha p{n}@example.com" if n % 5 == 0 else f"Ana Silva p{n}@example.com")
        for n in range(30)
    ]
    text = "\n".join(lines) + "\n"
    detection = detect_dialect(text, complete=True)
    assert detection.method == "single-column"
    rows = parse_sample(text.splitlines(keepends=True), detection.dialect)
    assert map_columns([], rows).columns == {"email": 0}


def test_a_table_written_with_single_spaces_keeps_its_columns_however_long_its_rows() -> None:
    # A letter and its strokes' coordinates, as many a row as the letter has strokes: the
    # columns hold numbers, whatever the rows' lengths.
    rng = random.Random(3)
    lines = [
        f"{letter} " + " ".join(str(rng.randrange(11)) for _ in range(rng.choice((6, 8, 10))))
        for letter in "ABCDEFGHIJKLMNOPQRST"
    ]
    detection = detect_dialect("\n".join(lines) + "\n", complete=True)
    assert (detection.dialect.delimiter, detection.method) == (" ", "detected")


def test_a_value_starting_with_a_tilde_is_no_comment() -> None:
    text = "~Ana,ana@x.io\n~Bo,bo@x.io\nCy,cy@x.io\n"
    assert detect_dialect(text, complete=True).dialect.comment is None


def test_rows_whose_first_cell_is_empty_before_a_tilde_delimiter_are_rows() -> None:
    # "~ alpha~ -308.75~ Smith": the first field empty, '~' the delimiter (with a space
    # after it); the marker is again further on, so these are rows, not notes.
    rows = [["", f" w{n}", f" {n * 7}.25", f" p{n}@x.io"] for n in range(12)]
    text = "".join("~".join(row) + "\n" for row in rows)
    assert detect_dialect(text, complete=True).dialect.comment is None


@pytest.mark.parametrize("codec", ["euc_jp", "shift_jis"])
def test_japanese_prose_with_long_vowels_and_latin_letters_is_japanese(codec: str) -> None:
    # OpenRefine's euc-jp.txt: katakana words hold the long vowel ー, and Japanese writes
    # Latin letters inside a word (SNSというサービス). Those were counted as misspelt
    # words, and a GB18030 reading (its kana are EUC-JP's) won.
    text = (
        "mixi(ミクシィ)は、友人・知人とのコミュニケーションをさらに便利に楽しくする"
        "SNSというサービスです。\n友人とコミュニケーションを楽しもう！\n"  # noqa: RUF001
    )
    assert _read_back(text, codec) == text


@pytest.mark.parametrize("codec", ["utf-32-le", "utf-32-be"])
def test_utf32_without_its_byte_order_mark_is_read(codec: str) -> None:
    # PhpSpreadsheet's premiere.utf32le.csv and encoding.utf32be.csv: UTF-32 with no
    # byte-order mark was refused as binary data, for all its NULs.
    for text in (
        "première,second,troisième\nQuatrième,cinquième,sixième\n",
        "Å,1\n2,3\n",
        "email,first_name\nana@x.pt,Conceição 😀\n",
    ):
        data = text.encode(codec)
        guess = detect_encoding(data, complete=True)
        assert IncrementalTextDecoder(guess).decode(data, final=True) == text, guess
    # UTF-16 is not taken for it.
    data = "email,name\nana@x.pt,Ana\n".encode("utf-16-le")
    assert detect_encoding(data, complete=True).encoding == "utf-16-le"


@pytest.mark.parametrize(
    "text",
    [
        'Direct_Error;"Ein Fehler ist w\u00e4hrend der Server-Anfrage aufgetreten. Bitte '
        'versuchen Sie es sp\u00e4ter noch einmal."\nExt_Loading;"Lade Daten..."',
        "save_button;Save all changes now\ncancel_button;Cancel and go back...\n",
        "order_status,Waiting for the payment to arrive from the bank\n"
        "in_progress,The order is being packed in our warehouse\n",
    ],
)
def test_keys_joined_by_underscores_over_sentences_split_at_their_delimiter(text: str) -> None:
    # A translation file of a web framework: a key, then a sentence. Read at the spaces,
    # every word is a cell of some type; read at the delimiter, a sentence is no typed
    # value and the key (``Direct_Error``) was none either, as an identifier needed a
    # digit. Words joined by underscores are a key or a code: a type.
    delimiter = ";" if ";" in text else ","
    assert detect_dialect(text, complete=True).dialect.delimiter == delimiter


_UI_STRINGS = [
    ("create_lobby", "Create lobby", "Создать комнату", "Raum erstellen", "创建房间"),
    ("join_lobby", "Join lobby", "Присоединиться", "Raum betreten", "加入房间"),
    ("leave_lobby", "Leave lobby", "Покинуть комнату", "Raum verlassen", "离开房间"),
    ("start_game", "Start game", "Начать игру", "Spiel starten", "开始游戏"),
    ("friends", "Friends", "Друзья", "Freunde", "好友"),
    ("settings", "Lobby settings", "Настройки комнаты", "Einstellungen", "房间设置"),
    ("close", "Close", "Закрыть", "Schließen", "关闭"),
]


@pytest.mark.parametrize("seed", range(6))
def test_a_translation_table_with_an_empty_corner_and_an_empty_column_has_a_header(
    seed: int,
) -> None:
    # A game's translations.csv: ",en,ru,de,zh-cn,,notes" over keys and their strings.
    # Its corner is empty over the keys, and a spacer column empty top to bottom; no
    # column's kind told the header, and the names-row check wanted no cell empty.
    rng = random.Random(seed)
    rows = [["", "en", "ru", "de", "zh-cn", "", "notes"]]
    for key, *strings in rng.sample(_UI_STRINGS, rng.randint(3, len(_UI_STRINGS))):
        rows.append([key, *strings, "", rng.choice(["", "", "max 20"])])
    assert detect_header(rows)
    text = "\n".join(",".join(row) for row in rows) + "\n"
    assert detect_dialect(text, complete=True).dialect.has_header


_KANA_CHART = {
    "katakana": [
        ("", "ア", "イ", "ウ", "エ", "オ"),
        ("K", "カ", "キ", "ク", "ケ", "コ"),
        ("S", "サ", "シ", "ス", "セ", "ソ"),
        ("T", "タ", "チ", "ツ", "テ", "ト"),
        ("N", "ナ", "ニ", "ヌ", "ネ", "ノ"),  # noqa: RUF001
        ("H", "ハ", "ヒ", "フ", "ヘ", "ホ"),
        ("M", "マ", "ミ", "ム", "メ", "モ"),
        ("R", "ラ", "リ", "ル", "レ", "ロ"),
    ],
    "hiragana": [
        ("", "あ", "い", "う", "え", "お"),
        ("K", "か", "き", "く", "け", "こ"),
        ("S", "さ", "し", "す", "せ", "そ"),
        ("T", "た", "ち", "つ", "て", "と"),
        ("N", "な", "に", "ぬ", "ね", "の"),
        ("H", "は", "ひ", "ふ", "へ", "ほ"),
        ("M", "ま", "み", "む", "め", "も"),
        ("R", "ら", "り", "る", "れ", "ろ"),
    ],
}


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("kana", sorted(_KANA_CHART))
def test_names_in_another_script_than_the_cells_below_are_a_header(kana: str, seed: int) -> None:
    # A learner's katakana.csv: the vowels a, i, u, e, o over a chart of kana, the
    # consonants down the first column, an empty corner at each end of the first row.
    # Each name and the cell below it are one letter, and no kind tells them apart;
    # only the script does: Latin names over Japanese values.
    rng = random.Random(seed)
    chart = _KANA_CHART[kana]
    rows = [[" ", "a", "i", "u", "e", "o", " "]]
    rows += [[*row, rng.choice(["", "", "ン"])] for row in chart[: rng.randint(3, len(chart))]]
    assert detect_header(rows)
    text = "\n".join(",".join(f'"{cell}"' for cell in row) for row in rows) + "\n"
    assert detect_dialect(text, complete=True).dialect.has_header


@pytest.mark.parametrize("seed", range(6))
def test_rows_of_names_with_an_empty_first_cell_stay_data(seed: int) -> None:
    # The counter-case: a headerless list whose rows all leave the first cell empty; its
    # first row is one more row like the others.
    rng = random.Random(seed)
    rows = [
        ["", first, last, rng.choice(["London", "Paris", "Berlin", "Madrid"])]
        for first, last in rng.sample(
            [("Alice", "Smith"), ("Bob", "Jones"), ("Carla", "Brown"), ("Dan", "Lee"),
             ("Eve", "Clark"), ("Finn", "Hall")],
            4,
        )
    ]  # fmt: skip
    assert not detect_header(rows)


_FIELD_IDS = [
    ("Anrede", "ADR_strSalut"), ("Vorname", "ADR_strFirstName"),
    ("Nachname", "ADR_strLastName"), ("E-Mail-Adresse", "ADR_strMailAddress"),
    ("Straße (privat)", "ADR_strStreet"), ("Ort (privat)", "ADR_strCity"),
    ("Mobiltelefon", "ADR_strMobileAddress"), ("Firma", "ADR_strWorkCompany"),
    ("Kommentare", "ADR_mAnnotation"), ("Geburtstag", "ADR_strBirthday"),
]  # fmt: skip


@pytest.mark.parametrize("seed", range(6))
def test_a_first_row_opening_like_the_cells_below_is_data(seed: int) -> None:
    # A webmail's field mapping: "Anrede, ADR_strSalut" and so on, no header. Every
    # column is text; the first row passed for names, half its columns unlike the rows
    # below, though its ADR_strSalut opens as every cell under it does.
    rng = random.Random(seed)
    rows = [list(pair) for pair in rng.sample(_FIELD_IDS, rng.randint(4, len(_FIELD_IDS)))]
    assert not detect_header(rows)
    named = [["Feld", "Kennung"], *rows]  # the counter-case: names over the same rows
    assert detect_header(named)
