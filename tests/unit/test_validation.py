"""Row-local rules and normalisation, one by one."""

from __future__ import annotations

import random
import uuid

import pytest

from worker.model import decode_raw, encode_raw
from worker.sources.mapping import map_columns
from worker.validation import RowValidator, email_problem, name_case, phone_e164
from worker.validation.normalise import split_full_name

HEADERS = ["email", "first_name", "last_name", "company", "phone", "notes"]
JOB = uuid.UUID("6b0c3f4e-8a59-4b7e-9d7e-0d1f2a3b4c5d")


def _validator(**options: object) -> RowValidator:
    return RowValidator(JOB, map_columns(HEADERS, []).columns, HEADERS, options)


def _issues(cells: list[str], **options: object) -> list[tuple[str, str | None]]:
    _, issues = _validator(**options).validate(7, cells)
    return [(issue.type, issue.field) for issue in issues]


@pytest.mark.parametrize(
    "email",
    [
        "ana@example.com",
        "ana.maria+tag@sub.example.co.uk",
        "o'brien@example.ie",
        "x_y-z@a-b.io",
        "UPPER@EXAMPLE.COM",
        "a@b.museum",
    ],
)
def test_valid_emails(email: str) -> None:
    assert email_problem(email) is None


@pytest.mark.parametrize(
    ("email", "reason"),
    [
        ("ana.example.com", "has no @"),
        ("ana @example.com", "contains a space"),
        ("ana@@example.com", "not a valid"),
        ("ana@example", "not a valid"),
        (".ana@example.com", "not a valid"),
        ("ana..b@example.com", "not a valid"),
        ("ana@-example.com", "not a valid"),
        ("ana@example.c", "not a valid"),
        ("a" * 65 + "@example.com", "more than 64"),
        (
            "a@" + ("b" * 60 + ".") * 5 + "com",
            "more than 254",
        ),
    ],
)
def test_invalid_emails_say_why(email: str, reason: str) -> None:
    problem = email_problem(email)
    assert problem is not None and reason in problem


def test_a_valid_row_is_ready_and_normalised() -> None:
    record, issues = _validator(default_country="PT").validate(
        2, [" Ana@Example.PT ", "ANA", "SILVA  GONÇALVES", "Acme  Lda", "912 345 678", "x"]
    )
    assert issues == []
    (number, row_hash, raw, email, normalized, first, last, company, phone, e164, status) = record
    assert (number, email, normalized, first, last, company, phone, e164, status) == (
        2,
        "Ana@Example.PT",
        "ana@example.pt",
        "Ana",
        "Silva Gonçalves",
        "Acme Lda",
        "912 345 678",
        "+351912345678",
        "READY",
    )
    assert len(row_hash) == 16 and row_hash[:4] == (2).to_bytes(4, "big")
    assert decode_raw(raw) == [
        " Ana@Example.PT ",
        "ANA",
        "SILVA  GONÇALVES",
        "Acme  Lda",
        "912 345 678",
        "x",
    ]


def test_required_fields_are_each_an_issue_and_configurable() -> None:
    assert _issues(["", "", "", "", "", ""]) == [
        ("MISSING_FIELD", "email"),
        ("MISSING_FIELD", "first_name"),
        ("MISSING_FIELD", "last_name"),
        ("MISSING_FIELD", "company"),
    ]
    assert _issues(["a@x.io", "", "", "", "", ""], required_fields=["email"]) == []


def test_lengths_and_control_characters() -> None:
    assert _issues(["a@x.io", "A" * 101, "B", "C", "", ""]) == [("FIELD_TOO_LONG", "first_name")]
    record, issues = _validator().validate(3, ["a@x.io", "An\x07a", "B", "C", "", "tab\tok"])
    assert [(i.type, i.field) for i in issues] == [("CONTROL_CHARACTERS", "first_name")]
    assert record[5] == "An\ufffda"


@pytest.mark.parametrize(
    ("name", "codes"),
    [
        ("Ana\u202eavlis", "U+202E"),  # right-to-left override: shows as "Anasilva" reversed
        ("Ana\u200bSilva", "U+200B"),  # zero-width space
        ("Acme\ufeff", "U+FEFF"),  # a BOM inside the text
        ("\u2066Acme\u2069", "U+2066, U+2069"),  # isolates
    ],
)
def test_invisible_and_text_direction_characters_are_flagged(name: str, codes: str) -> None:
    record, issues = _validator().validate(3, ["a@x.io", name, "B", "C", "", ""])
    assert [(i.type, i.field) for i in issues] == [("CONTROL_CHARACTERS", "first_name")]
    assert codes in issues[0].message
    assert record[5] == name  # kept as it is, for a person to see and fix


@pytest.mark.parametrize(
    ("email", "normalized"),
    [
        ("josé@bücher.de", "josé@xn--bcher-kva.de"),
        ("Ana@Bücher.DE", "ana@xn--bcher-kva.de"),
        ("ana@xn--bcher-kva.de", "ana@xn--bcher-kva.de"),
        ("用户@例子.广告", "用户@xn--fsqu00a.xn--4rr70v"),
        ("ünïcode@example.com", "ünïcode@example.com"),
    ],
)
def test_internationalised_addresses_are_valid_and_compared_in_ascii(
    email: str, normalized: str
) -> None:
    assert email_problem(email) is None
    record, issues = _validator().validate(3, [email, "A", "B", "C", "", ""])
    assert issues == []
    assert record[4] == normalized


@pytest.mark.parametrize("email", ["a..b@ü.de", "ana@bü_cher.de", "ana maria@bücher.de"])
def test_broken_internationalised_addresses_are_still_invalid(email: str) -> None:
    assert email_problem(email) is not None


def test_the_row_hash_is_deterministic_and_content_bound() -> None:
    first, _ = _validator().validate(9, ["a@x.io", "Ana", "S", "C", "", ""])
    again, _ = _validator().validate(9, ["a@x.io", "Ana", "S", "C", "", ""])
    changed, _ = _validator().validate(9, ["a@x.io", "Ana", "S", "D", "", ""])
    other_job, _ = RowValidator(uuid.uuid4(), map_columns(HEADERS, []).columns, HEADERS).validate(
        9, ["a@x.io", "Ana", "S", "C", "", ""]
    )
    assert first[1] == again[1]
    assert len({first[1], changed[1], other_job[1]}) == 3


@pytest.mark.parametrize(
    ("name", "cased"),
    [
        ("ANA-MARIA O'BRIEN", "Ana-Maria O'Brien"),
        ("jean luc", "Jean Luc"),
        ("ZOË", "Zoë"),
        ("o\u2019neill", "O\u2019Neill"),
    ],
)
def test_name_case(name: str, cased: str) -> None:
    assert name_case(name) == cased


def test_mixed_case_names_are_kept_and_accents_stripped_only_on_request() -> None:
    record, _ = _validator().validate(2, ["a@x.io", "McDonald", "van der Berg", "C", "", ""])
    assert record[5:7] == ("McDonald", "van der Berg")
    record, _ = _validator(strip_accents=True).validate(
        2, ["a@x.io", "Zoë", "Gonçalves", "C", "", ""]
    )
    assert record[5:7] == ("Zoe", "Goncalves")


@pytest.mark.parametrize(
    ("phone", "region", "e164"),
    [
        ("+351 912 345 678", None, "+351912345678"),
        ("+1 (415) 555-2671", None, "+14155552671"),
        ("912345678", "PT", "+351912345678"),
        ("020 7946 0018", "GB", "+442079460018"),
        ("+44 (0)20 7946 0018", None, "+442079460018"),
        ("12", "PT", None),
        ("call me", "PT", None),
        ("912345678", None, None),
    ],
)
def test_phones_to_e164(phone: str, region: str | None, e164: str | None) -> None:
    assert phone_e164(phone, region) == e164


@pytest.mark.parametrize(
    "cells",
    [["a", "b"], ["has\x1fseparator", "x"], ["\x1estarts", ""], ["nul\x00byte", "y"], [""]],
)
def test_raw_round_trips(cells: list[str]) -> None:
    expected = [cell.replace("\x00", "\ufffd") for cell in cells]
    assert decode_raw(encode_raw(cells)) == expected


# Values that take each path of the batch passes: separators and NUL in raw cells, lone
# surrogates, runs of white space, ALL CAPS / lower names, long local parts, "(0)" and
# non-ASCII digits in phones, control characters, empty required fields.
_TRICKY = {
    "email": [
        *("a@x.io", " B@Y.ORG ", "", "no-at-sign", "x" * 65 + "@x.io", "d\x07@x.io", "ü@x.io"),
        *("Ana <A@x.io>", "mailto:c@x.io", "Bo <bad@x>"),
    ],
    "first_name": ["Ana", "ANA", "maría", "Jean  Luc", "An\ta", "", "A" * 101, "Zoë"],
    "last_name": ["Silva", "O'BRIEN", "van der Berg", "Gonçalves", "x\x1fy", "\ud800"],
    "company": ["Acme", "Acme  Lda", "Acme\nLda", "", "C" * 201, "\x1eC"],
    "phone": [
        *("", "+351 912 345 678", "+44 (0)20 7946 0018", "912345678", "+٣٥١٩١٢٣٤٥٦٧٨", "x"),
        *('="912345678"', '=""', '="'),
    ],
    "notes": ["", "a\x00b", "call\nback", "plain"],
}


@pytest.mark.parametrize("options", [{}, {"strip_accents": True, "default_country": "PT"}])
def test_a_batch_gives_exactly_what_its_rows_give_one_by_one(options: dict[str, object]) -> None:
    """The batch passes only decide where per-row work is needed: records and issues of a
    batch equal those of each row validated alone, whatever mix the batch holds."""
    rng = random.Random(5)
    rows = [[rng.choice(_TRICKY[name]) for name in HEADERS] for _ in range(400)]
    rows += [[value] for value in ("a@x.io", "")]  # shorter than the header
    numbers = list(range(2, len(rows) + 2))
    validator = _validator(**options)
    records, issues = validator.validate_batch(numbers, [list(row) for row in rows])
    one_by_one = [validator.validate(n, row) for n, row in zip(numbers, rows, strict=True)]
    assert records == [record for record, _ in one_by_one]
    key = lambda issue: (issue.row_number, issue.type, issue.field or "")  # noqa: E731
    assert sorted(issues, key=key) == sorted(
        (issue for _, row_issues in one_by_one for issue in row_issues), key=key
    )
    # And the values are right, not only consistent: spot checks against the rules.
    by_number = {record[0]: record for record in records}
    for number, row in zip(numbers, rows, strict=True):
        record = by_number[number]
        assert decode_raw(record[2]) == [cell.replace("\x00", "\ufffd") for cell in row]
        phone = row[4].strip() if len(row) > 4 else ""
        assert record[9] == (phone_e164(phone, validator.region) if phone else None)


@pytest.mark.parametrize(
    ("cell", "email"),
    [
        ("Ana Silva <Ana@Example.PT>", "Ana@Example.PT"),
        ('"Silva, Ana" <ana@example.pt>', "ana@example.pt"),
        ("<ana@example.pt>", "ana@example.pt"),
        ("mailto:ana@example.pt", "ana@example.pt"),
        ("MAILTO:ana@example.pt?subject=Hello", "ana@example.pt"),
        ("ana@example.pt;", "ana@example.pt"),
        ("ana@example.pt,", "ana@example.pt"),
        ("'ana@example.pt'", "ana@example.pt"),
        ('"ana@example.pt"', "ana@example.pt"),
        # A name and the address after it, a person a line, no brackets.
        ("Ana da Silva ana@example.pt", "ana@example.pt"),
        ("Ana ana@example.pt", "ana@example.pt"),
    ],
)
def test_an_address_written_as_a_mailbox_or_a_link_is_the_address(cell: str, email: str) -> None:
    record, issues = _validator().validate(2, [cell, "Ana", "Silva", "Acme", "", ""])
    assert issues == []
    assert (record[3], record[4]) == (email, email.lower())
    assert decode_raw(record[2])[0] == cell  # the file's cell, as it was


@pytest.mark.parametrize(
    "cell",
    [
        "Ana <ana@example>",
        "Ana <a@x.pt> <b@x.pt>",
        "mailto:",
        "Ana <ana@example.pt",
        "a@x.pt, b@x.pt",
        "a@x.pt; b@x.pt;",
        "'ana@example'",
        ";",
        # Words around an address, not a name before it: no mailbox.
        "Ana ana@example.pt today",
        "12 Main St ana@example.pt",
        "Silva, Ana ana@example.pt",
        "Ana Silva ana@example",
    ],
)
def test_a_mailbox_without_one_valid_address_is_still_an_invalid_email(cell: str) -> None:
    assert ("INVALID_EMAIL", "email") in _issues([cell, "Ana", "Silva", "Acme", "", ""])


def test_a_column_of_mailboxes_is_mapped_to_the_email() -> None:
    # Addresses pasted from a mail program: the content says email, as addresses do; and
    # a name and its address typed a person a line.
    rows = [[f"Person {i} <p{i}@example.com>"] for i in range(10)]
    assert map_columns([], rows).columns == {"email": 0}
    rows = [[f"Ana {'da ' * (i % 3)}Silva p{i}@example.com"] for i in range(10)]
    assert map_columns([], rows).columns == {"email": 0}


def test_a_phone_wrapped_for_excel_is_the_number_inside() -> None:
    # Files made for Excel write ="0912345678" so that Excel keeps the leading zero.
    record, issues = _validator(default_country="PT").validate(
        2, ["ana@example.pt", "Ana", "Silva", "Acme", '="912345678"', ""]
    )
    assert issues == []
    assert (record[8], record[9]) == ("912345678", "+351912345678")
    assert decode_raw(record[2])[4] == '="912345678"'  # the file's cell, as it was


@pytest.mark.parametrize("cell", ["3.51912E+11", "3,51912E+11", "9.12346e+08", " 3.5E+11 "])
def test_a_phone_in_scientific_notation_is_an_invalid_phone(cell: str) -> None:
    # A sheet showed a long number in scientific notation and the CSV kept that text: the
    # phone's last digits are gone, which only a person can put right.
    _, issues = _validator(default_country="PT").validate(
        2, ["ana@example.pt", "Ana", "Silva", "Acme", cell, ""]
    )
    assert [(issue.type, issue.field) for issue in issues] == [("INVALID_PHONE", "phone")]
    assert "scientific notation" in issues[0].message


@pytest.mark.parametrize("cell", ["+351 912 345 678", "912345678", "", "ext. 12", "E+1"])
def test_other_phones_are_no_scientific_notation(cell: str) -> None:
    _, issues = _validator(default_country="PT").validate(
        2, ["ana@example.pt", "Ana", "Silva", "Acme", cell, ""]
    )
    assert issues == []


def test_google_contacts_several_values_in_a_cell_give_the_first() -> None:
    # Google Contacts' CSV: "ana@home.pt ::: ana@acme.pt" and two phones likewise.
    record, issues = _validator(default_country="PT").validate(
        2,
        ["ana@home.pt ::: ana@acme.pt", "Ana", "Silva", "Acme", "912345678 ::: 213456789", ""],
    )
    assert issues == []
    assert (record[4], record[8], record[9]) == ("ana@home.pt", "912345678", "+351912345678")
    assert decode_raw(record[2])[0] == "ana@home.pt ::: ana@acme.pt"  # the file's cell


@pytest.mark.parametrize(
    ("whole", "parts"),
    [
        ("Ana Silva", ("Ana", "Silva")),
        ("  ana   silva ", ("ana", "silva")),
        ("Silva, Ana", ("Ana", "Silva")),
        ("Ana Maria da Silva", ("Ana Maria", "da Silva")),
        ("Ludwig van Beethoven", ("Ludwig", "van Beethoven")),
        ("Jean-Luc Picard", ("Jean-Luc", "Picard")),
        ("Dr. Ana Silva", ("Ana", "Silva")),
        ("Mr. Smith", ("", "Smith")),
        ("Madonna", ("Madonna", "")),
        ("山田 太郎", ("太郎", "山田")),
        ("", ("", "")),
    ],
)
def test_a_whole_name_splits_into_first_and_last(whole: str, parts: tuple[str, str]) -> None:
    assert split_full_name(whole) == parts


def test_a_whole_name_column_gives_the_parts_no_column_holds() -> None:
    headers = ["Name", "Email", "Company"]
    validator = RowValidator(JOB, {"full_name": 0, "email": 1, "company": 2}, headers)
    record, issues = validator.validate(2, ["ANA SILVA", "ana@example.pt", "Acme"])
    assert issues == []
    assert (record[5], record[6]) == ("Ana", "Silva")  # name-cased as any name
    # A one-word name leaves the last name empty: required, so a person is asked.
    _, issues = validator.validate(3, ["Madonna", "m@example.com", "Acme"])
    assert [(issue.type, issue.field) for issue in issues] == [("MISSING_FIELD", "last_name")]


def test_every_field_wrapped_for_excel_is_the_text_inside() -> None:
    # Some systems write every cell as ="..." so that Excel converts none of them.
    cells = ['="ana@example.pt"', '="Ana"', '="Silva"', '="Acme"', '="912345678"', ""]
    record, issues = _validator(default_country="PT").validate(2, cells)
    assert issues == []
    assert record[3:10] == (
        "ana@example.pt",
        "ana@example.pt",
        "Ana",
        "Silva",
        "Acme",
        "912345678",
        "+351912345678",
    )


@pytest.mark.parametrize("cell", ["ana@example.pt (Ana Silva)", "(work) ana@example.pt"])
def test_an_address_beside_a_comment_is_the_address(cell: str) -> None:
    record, issues = _validator().validate(2, [cell, "Ana", "Silva", "Acme", "", ""])
    assert issues == []
    assert record[3] == "ana@example.pt"
