"""vCard files read as rows: the fields people put on a contact card, whatever the version
and however the text is cut."""

from __future__ import annotations

import random

import pytest

from worker.sources.vcard_source import COLUMNS, VcardReader

CARDS = (
    "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Silva;Ana Maria;;;\r\nFN:Ana Maria Silva\r\n"
    "ORG:Acme\\, Lda;Sales\r\nTITLE:Director\r\n"
    "item1.EMAIL;type=INTERNET;type=HOME:ana@home.pt\r\n"
    "EMAIL;type=INTERNET;type=WORK;type=pref:ana@acme.pt\r\n"
    "TEL;type=CELL:+351 912 345 678\r\nTEL;type=WORK;type=pref:+351 213 456 789\r\n"
    "NOTE:a long note that was\r\n  folded by the phone\r\nEND:VCARD\r\n"
    "BEGIN:VCARD\r\nVERSION:2.1\r\n"
    "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Gon=C3=A7alves;In=C3=AAs;;;\r\n"
    "FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:In=C3=AAs =\r\nGon=C3=A7alves\r\n"
    "EMAIL;HOME:ines@x.pt\r\nEND:VCARD\r\n"
    "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:João da Costa\r\nEMAIL;PREF=1:joao@beta.pt\r\n"
    "TEL;VALUE=uri:tel:+351-933-333-333\r\n"
    "PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQEASABIAAD\r\n /2wBDAAMCAgMCAgMDAwMEAw\r\n"
    "END:VCARD\r\n"
)
EXPECTED = [
    (
        1,
        [
            "Ana Maria",
            "Silva",
            "Ana Maria Silva",
            "ana@acme.pt",
            "+351 213 456 789",
            "Acme, Lda",
            "Director",
            "ana@home.pt",
            "+351 912 345 678",
        ],
    ),
    (14, ["Inês", "Gonçalves", "Inês Gonçalves", "ines@x.pt", "", "", "", "", ""]),
    (21, ["João", "da Costa", "João da Costa", "joao@beta.pt", "+351-933-333-333", *[""] * 4]),
]


def _read(text: str, cuts: list[int]) -> list[tuple[int, list[str]]]:
    reader = VcardReader("utf-8")
    cards = []
    start = 0
    for end in [*cuts, len(text)]:
        cards += reader.feed(text[start:end], final=end == len(text))
        start = end
    return [(card.line, card.row()) for card in cards]


def test_cards_read_as_the_person_wrote_them() -> None:
    assert len(COLUMNS) == len(EXPECTED[0][1])
    assert _read(CARDS, []) == EXPECTED


@pytest.mark.parametrize("seed", range(20))
def test_cards_and_their_line_numbers_are_the_same_however_the_text_is_cut(seed: int) -> None:
    # A resumed read cuts the text elsewhere: between a CR and its LF, inside a folded or
    # quoted-printable line.
    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(1, len(CARDS)), rng.randint(1, 40)))
    assert _read(CARDS, cuts) == EXPECTED
    bare = CARDS.replace("\r\n", "\n")
    assert _read(bare, cuts[: len(cuts) // 2]) == EXPECTED


def test_a_file_that_ends_inside_a_card_gives_what_the_card_holds() -> None:
    text = "BEGIN:VCARD\nVERSION:3.0\nFN:Ana Silva\nEMAIL:ana@x.pt"
    assert _read(text, [10]) == [(1, ["Ana", "Silva", "Ana Silva", "ana@x.pt", "", "", "", "", ""])]


def test_a_photo_folded_over_thousands_of_lines_is_read_past() -> None:
    # iPhone and Outlook cards carry their photo: megabytes of base64 folded in lines of
    # 75. The card's fields around it are read, and the line numbers stay right.
    photo = "\r\n ".join(["QUJD" * 18] * 40_000)  # 2.9 MB, past the bound kept of a line
    text = (
        f"BEGIN:VCARD\r\nN:Silva;Ana;;;\r\nPHOTO;ENCODING=b:{photo}\r\nEMAIL:ana@x.pt\r\n"
        "END:VCARD\r\nBEGIN:VCARD\r\nFN:Bo Ng\r\nEND:VCARD\r\n"
    )
    reader = VcardReader("utf-8")
    cards = reader.feed(text[:1_000_000]) + reader.feed(text[1_000_000:], final=True)
    assert [(card.line, card.row()[:4]) for card in cards] == [
        (1, ["Ana", "Silva", "Ana Silva", "ana@x.pt"]),
        (40_005, ["Bo", "Ng", "Bo Ng", ""]),
    ]
