"""Which encoding a file is in, and decoding it incrementally without ever garbling silently.

Detection, in order: a byte-order mark decides; otherwise the sample is strict UTF-8 (a
multi-byte character cut at the sample's end is allowed); otherwise charset-normalizer
weighs the encodings real contact exports use, and a Western European reading (cp1252) is
preferred where it is as plausible as a Central European one, because detectors confuse
the two and Western files are far more common.

Decoding uses ``surrogateescape``: a byte that does not decode later in the file becomes a
lone surrogate, which :func:`repair` turns into readable text while the row that held it is
reported (an ENCODING issue), so the rest of the file goes on.
"""

from __future__ import annotations

import codecs
import functools
import itertools
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace

from worker.errors import UnreadableFile, UnsupportedFile
from worker.sources.ascii_bigrams import PAIR_RARITY
from worker.sources.hangul import FREQUENT_HANGUL
from worker.sources.hanzi import FREQUENT_HANZI

_BOMS: tuple[tuple[bytes, str], ...] = (
    # UTF-32 first: its LE mark begins with UTF-16 LE's.
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Encodings that contact exports come in, in the order ties are broken.
CANDIDATES = (
    "cp1252",
    "iso8859_15",
    "latin_1",
    "cp1250",
    "iso8859_2",
    "cp1251",
    "koi8_u",  # KOI8-R and the Ukrainian letters KOI8-R has box-drawing signs for
    "shift_jis",
    "cp932",
    "euc_jp",
    "gb18030",
    "big5",
    "cp949",  # Korean Excel's code page: EUC-KR and 8,822 syllables more
    "cp1253",
    "cp1254",
    "cp1257",
    "iso8859_7",
    "iso8859_9",
    "mac_roman",
    "cp1255",
    "cp1256",
    "cp850",
    "cp866",
    "cp874",  # Thai Windows (TIS-620 and a few symbols)
    "cp852",  # DOS Central European
    "iso8859_5",
    "mac_cyrillic",
)

_CANDIDATE_NAMES = frozenset(codecs.lookup(name).name for name in CANDIDATES)
_SURROGATE = re.compile("[\udc80-\udcff]")
_MULTIBYTE_CJK = frozenset({"shift_jis", "cp932", "euc_jp", "gb18030", "big5", "euc_kr", "cp949"})
# The bytes encoding detection looks at: the first chunk, so that a file whose first
# non-ASCII character comes late (a name at row 3,000) is still read right.
ENCODING_SAMPLE_BYTES = 1 << 20


@dataclass(frozen=True)
class EncodingGuess:
    """The encoding to decode with, how long the BOM is, and how it was decided."""

    encoding: str
    bom_bytes: int
    method: str  # "bom", "bom-over-legacy", "utf-8", "ascii", "detector", "override"
    confidence: float

    @property
    def python_codec(self) -> str:
        """The codec name Python knows (normalised)."""
        return codecs.lookup(self.encoding).name


def _strict_utf8(sample: bytes, complete: bool) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    try:
        decoder.decode(sample, final=complete)
    except UnicodeDecodeError:
        return False
    return True


def _mostly_utf8(sample: bytes) -> bool:
    """More valid multi-byte UTF-8 characters than bytes that do not decode, and they
    spell words of one script: in a few bytes of another encoding a valid sequence or two
    turns up by chance (ひろし in Shift JIS holds UTF-8's ``Ђ낵``, a Cyrillic letter and
    a hangul syllable in one word), and the common letters of that script (จำกัด in cp874
    holds ``ӡ`` and the izhitsa, letters of Abkhaz and Church Slavonic)."""
    text = sample.decode("utf-8", errors="surrogateescape")
    bad = len(_SURROGATE.findall(text))
    valid = sum(1 for char in text if ord(char) > 0x7F) - bad
    cleaned = _SURROGATE.sub(" ", text)
    return (
        valid > bad
        and not _mixed_script_words(cleaned)
        and _common_share(cleaned) >= _COMMON_UTF8_SHARE
    )


# Of the characters a UTF-8 file with stray bytes decodes to, at least this share are the
# common ones of their script.
_COMMON_UTF8_SHARE = 0.5


def looks_binary(sample: bytes) -> bool:
    """NUL bytes (outside a UTF-16/32 text) or many control bytes: not a text file. Text
    whose fields are separated by NUL or by one of ASCII's separators (the same number on
    every line, nothing else odd) is text."""
    if not sample:
        return False
    # NULs that only pad the text's end (a file written into space allocated before, a
    # copy cut short) are no data: the row source reads them as a blank line.
    head = sample[:4096].rstrip(b"\x00")
    # Stray NULs happen in real CSV exports (one per line, even); images, archives and
    # executables have far more, and known formats are caught by their magic bytes first.
    controls = sum(1 for byte in head if byte < 9 or 13 < byte < 32)
    if controls <= max(len(head) * 0.05, _STRAY_CONTROLS):
        return False
    return not _control_delimited(head)


# As many control bytes as a short text may hold astray (one NUL in a 20-byte test file
# is 5% of it); a binary file has far more in its first 4 KiB.
_STRAY_CONTROLS = 4


# Control bytes that delimit fields in text: NUL, and ASCII's file, group, record and unit
# separators (0x1C-0x1F, written by mainframe and database exports).
CONTROL_DELIMITERS = b"\x00\x1c\x1d\x1e\x1f"


def _control_delimited(head: bytes) -> bool:
    """Lines with the same number (>= 1) of one of :data:`CONTROL_DELIMITERS` and no
    other control bytes."""
    controls = {byte for byte in head if byte < 9 or 13 < byte < 32}
    if len(controls) != 1 or not controls <= set(CONTROL_DELIMITERS):
        return False
    (delimiter,) = controls
    lines = [line for line in head.split(b"\n")[:-1] if line.strip(b"\r")]
    if len(lines) < 2:
        return False
    counts = {line.count(delimiter) for line in lines}
    return len(counts) == 1 and counts.pop() >= 1


def _utf32_without_bom(sample: bytes) -> str | None:
    """UTF-32 text without a byte-order mark: every character's highest byte is NUL and
    its next one nearly always (the characters past U+FFFF are few), its lowest byte
    rarely; the text decodes. It was refused as binary data (all those NULs)."""
    head = sample[: 4096 - 4096 % 4][: len(sample) - len(sample) % 4]
    if len(head) < 8:
        return None
    lanes = [head[offset::4] for offset in range(4)]
    nuls = [lane.count(0) / len(lane) for lane in lanes]
    for codec, (low, next_up, top) in (("utf-32-le", (0, 2, 3)), ("utf-32-be", (3, 1, 0))):
        if nuls[top] == 1.0 and nuls[next_up] > 0.9 and nuls[low] < 0.05:
            try:
                head.decode(codec)
            except UnicodeDecodeError:
                continue
            return codec
    return None


def _utf16_without_bom(sample: bytes) -> str | None:
    """UTF-16 text without a byte-order mark: ASCII characters leave a NUL in every other
    byte (the odd ones in little-endian, the even ones in big-endian)."""
    head = sample[:4096]
    if len(head) < 8:
        return None
    even, odd = head[0::2], head[1::2]
    even_nuls, odd_nuls = even.count(0) / len(even), odd.count(0) / len(odd)
    if odd_nuls > 0.6 and even_nuls < 0.05:
        return "utf-16-le"
    if even_nuls > 0.6 and odd_nuls < 0.05:
        return "utf-16-be"
    return None


def detect_encoding(sample: bytes, complete: bool, override: str | None = None) -> EncodingGuess:
    """Guess the encoding of a file from its first bytes (``complete``: the whole file)."""
    for bom, name in _BOMS:
        if sample.startswith(bom):
            if override:
                return EncodingGuess(_with_bom(_known(override), name), len(bom), "override", 1.0)
            body = sample[len(bom) :]
            if name == "utf-8" and not _strict_utf8(body, complete) and not _mostly_utf8(body):
                # A UTF-8 mark over a legacy body (an exporter that writes the mark, then
                # cp1252): the mark is skipped, the body's own encoding read, or every
                # accented row would be an ENCODING issue.
                guess = _weigh_candidates(body)
                return EncodingGuess(guess.encoding, len(bom), "bom-over-legacy", guess.confidence)
            return EncodingGuess(name, len(bom), "bom", 1.0)
    if override:
        return EncodingGuess(_without_bom(_known(override), sample), 0, "override", 1.0)
    wide = _utf32_without_bom(sample)
    if wide is not None:
        return EncodingGuess(wide, 0, "utf-32-pattern", 0.9)
    unmarked = _utf16_without_bom(sample)
    if unmarked is not None:
        return EncodingGuess(unmarked, 0, "utf-16-pattern", 0.9)
    if looks_binary(sample):
        raise UnsupportedFile(
            "the file holds binary data (NUL or control bytes), not CSV text; if it is a "
            "spreadsheet, upload it as .xlsx, or export it as CSV"
        )
    if sample.isascii():
        return EncodingGuess("ascii", 0, "ascii", 1.0)
    if _strict_utf8(sample, complete):
        return EncodingGuess("utf-8", 0, "utf-8", 1.0)
    if _mostly_utf8(sample):
        # Valid UTF-8 characters outnumber the stray bytes: reading it as anything else
        # would garble every one of them; the stray bytes become ENCODING issues instead.
        return EncodingGuess("utf-8", 0, "utf-8-with-errors", 0.8)
    return _weigh_candidates(sample)


def _with_bom(forced: str, bom_codec: str) -> str:
    """A forced encoding on a file with a byte-order mark: ``utf-16`` / ``utf-32`` take
    the mark's byte order; a Unicode encoding the mark contradicts is refused (it would
    read every character wrong)."""
    family = forced.removesuffix("-le").removesuffix("-be")
    if bom_codec.startswith(family) and family in ("utf-16", "utf-32"):
        return bom_codec
    if family in ("utf-8", "utf-16", "utf-32") and not bom_codec.startswith(family):
        shown = bom_codec.upper().replace("-LE", " LE").replace("-BE", " BE")
        raise UnsupportedFile(
            f"the file starts with a {shown} byte-order mark, so it cannot be read as "
            f"{forced}; remove the encoding option (the mark decides) or correct it"
        )
    return forced


def _without_bom(forced: str, sample: bytes) -> str:
    """``utf-16`` / ``utf-32`` forced on a file without a mark: the byte order its NULs
    show (ASCII characters have their zero bytes first in big-endian)."""
    if forced == "utf-16":
        return "utf-16-be" if sample[:1] == b"\x00" and sample[1:2] != b"\x00" else "utf-16-le"
    if forced == "utf-32":
        return "utf-32-be" if sample[:2] == b"\x00\x00" else "utf-32-le"
    return forced


def _known(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise UnsupportedFile(f"unknown encoding {name!r} in the job's options") from None


def _weigh_candidates(sample: bytes) -> EncodingGuess:
    # Imported here: most uploads are UTF-8 and never need it (3 MB of a worker's memory).
    from charset_normalizer import from_bytes  # noqa: PLC0415

    results = from_bytes(sample, cp_isolation=list(CANDIDATES), explain=False)
    best = results.best()
    if best is None:
        # No encoding reads it plausibly. Text that is nearly all printable is read as
        # cp1252 (its rows will show what went wrong); anything else is not text.
        text = sample.decode("cp1252", errors="replace")
        printable = sum(char.isprintable() or char in "\r\n\t" for char in text)
        if printable < len(text) * 0.97:
            raise UnsupportedFile(
                "the file is not text in any encoding the worker knows (binary data?); "
                "if it is text, give its encoding in the job's options"
            )
        # Mostly printable: the best Latin reading, or another script's that reads as
        # real text (a long Hebrew list can be too much for the detector).
        evidence = _high_byte_lines(sample)
        return EncodingGuess(_latin_or_other(sample, evidence, []), 0, "fallback", 0.2)
    encoding = codecs.lookup(best.encoding).name
    confidence = max(0.0, min(1.0, 1.0 - float(best.chaos)))
    evidence = _high_byte_lines(sample)
    if encoding in _SINGLE_BYTE_LATIN:
        ranked = [codecs.lookup(match.encoding).name for match in results]
        return EncodingGuess(_latin_or_other(sample, evidence, ranked), 0, "detector", confidence)
    if encoding.replace("-", "_") in _MULTIBYTE_CJK and _isolated_high_bytes(sample) > 0.5:
        # CJK text is runs of high bytes; lone ones between ASCII letters are accented
        # Latin letters that a double-byte reading swallows together with their neighbour
        # (in any Latin code page: cp850's ü is a byte cp1252 lacks).
        # Big5, GBK and Shift JIS trail bytes may be ASCII (臺北 is BB 4F A5 5F): the Latin
        # reading must then read as letters, not as ``»OĄ_``.
        latin = _best_latin_reading(evidence, sample)
        text = _as_fields(evidence, latin)
        if not _odd_marks(text) and not _SYMBOL_AGAINST_LETTER.search(text):
            return EncodingGuess(latin, 0, "detector", confidence)
    if encoding not in _OTHER_NAMES:
        return EncodingGuess(encoding, 0, "detector", confidence)
    ranked = [encoding, *(codecs.lookup(match.encoding).name for match in results)]
    other = _best_other_reading(sample, evidence, ranked, strict=False) or encoding
    if _mixed_script_words(evidence.decode(other, errors="replace"), other):
        # ``Jiרם``: Jiří read as cp1255. Words mixing scripts are no reading; a Latin one
        # with no mark of a wrong reading is taken instead.
        latin = _best_latin_reading(evidence, sample)
        text = _as_fields(evidence, latin)
        if not _odd_marks(text) and not _mixed_script_words(text):
            return EncodingGuess(latin, 0, "detector", confidence)
    return EncodingGuess(other, 0, "detector", confidence)


# A symbol beyond ASCII against an ASCII letter (``»O``): how a double-byte character
# whose trail byte is a letter reads in a Latin code page.
_SYMBOL_AGAINST_LETTER = re.compile(r"[^\x00-\x7f\w][A-Za-z_]|[A-Za-z_][^\x00-\x7f\w]")


def _latin_or_other(sample: bytes, evidence: bytes, ranked: list[str]) -> str:
    """The best Latin reading of the sample (``evidence``: its lines beyond ASCII); unless
    it is not how Latin-script text reads (Greek, Arabic, Chinese... read as accented
    letters), and a reading in another script reads as real text of its own (``ranked``:
    the detector's order, if any)."""
    latin = _best_latin_reading(evidence, sample)
    text = _as_fields(evidence, latin)
    if _letter_soup(text) or _odd_marks(text) or _symbol_soup(text) or _beyond_ascii_cells(text):
        other = _best_other_reading(sample, evidence, ranked, strict=True)
        if other is not None:
            return other
    return latin


# The single-byte Latin encodings a file may be in, in the order a tie is broken (cp1252,
# Windows' Western code page, is the most common by far).
_LATIN_READINGS = (
    "cp1252",
    "cp1250",
    "iso8859_2",
    "cp1254",
    "cp1257",
    "mac_roman",
    "iso8859_15",
    "latin_1",
    "cp850",
    "cp852",
)


def _shares(line: str) -> dict[str, int]:
    """``"à49 â5"``: each letter and its share."""
    return {entry[0]: int(entry[1:]) for entry in line.split()}


# The letters beyond ASCII that each Latin-script language writes (lower case), with how
# often it writes each (per ten thousand letters of running text, as letter-frequency
# tables give them; rounded, and a small share for the rare ones): which letters a language
# writes tells the readings apart, how often it writes them breaks the ties left.
_LETTER_SHARES = {
    "French": _shares("à49 â5 æ1 ç9 é150 è27 ê22 ë1 î5 ï1 ô2 œ2 ù6 û6 ü1 ÿ1"),
    "German": _shares("ä58 ö44 ü100 ß31"),
    "Spanish": _shares("á50 é43 í73 ñ31 ó83 ú17 ü1"),
    "Portuguese": _shares("á12 â56 ã73 à7 ç53 é34 ê45 í13 ó30 ô64 õ12 ú21"),
    "Italian": _shares("à64 è26 é10 ì3 í1 î1 ò10 ó1 ù17 ú1"),
    "Catalan": _shares("à50 ç10 è30 é40 í20 ï5 ò15 ó30 ú5 ü2"),
    "Dutch": _shares("á1 é5 í1 ó1 ú1 ë5 ï2 ö1 ü1 è1 à1"),
    "Danish": _shares("æ87 ø94 å119 é2 ó1"),  # Danish, Norwegian
    "Swedish": _shares("å134 ä180 ö131 é2"),  # Swedish, Finnish
    "Icelandic": _shares("á180 ð439 é65 í157 ó99 ú61 ý23 þ146 æ87 ö78"),
    "Polish": _shares("ą70 ć74 ę104 ł211 ń36 ó114 ś81 ź8 ż71"),
    "Czech": _shares("á87 č46 ď2 é63 ě122 í164 ň1 ó2 ř38 š69 ť1 ú5 ů20 ý100 ž72"),
    "Slovak": _shares("á200 ä10 č80 ď10 é80 í140 ĺ1 ľ40 ň10 ó10 ô20 ŕ1 š70 ť20 ú40 ý120 ž80"),
    "Hungarian": _shares("á370 é360 í60 ó90 ö100 ő80 ú30 ü60 ű20"),
    "Romanian": _shares("ă250 â100 î100 ș150 ț100 ş150 ţ100"),
    "Croatian": _shares("č110 ć90 đ20 š90 ž90"),  # Croatian, Slovene, Bosnian
    "Turkish": _shares("ç146 ğ113 ı511 ö78 ş178 ü185 â10 î5"),  # noqa: RUF001
    "Lithuanian": _shares("ą60 č40 ę20 ė140 į60 š130 ų100 ū50 ž80"),
    "Latvian": _shares("ā380 č30 ē180 ģ10 ī160 ķ20 ļ40 ņ40 š140 ū40 ž30"),
    "Estonian": _shares("ä100 ö50 õ100 ü110 š1 ž1"),
    "Albanian": _shares("ç80 ë800"),
    "Maltese": _shares("ċ30 ġ40 ħ130 ż80 à20 è10 ì10 ò5 ù20"),
}
_ALPHABETS = tuple(frozenset(shares) for shares in _LETTER_SHARES.values())
# How often each language writes each letter of ASCII, a to z, per thousand of its ASCII
# letters (rounded from the letter counts of Wikipedia text in language-detection's
# profiles, Icelandic's from transcribed speech; at least one): how well the words fit a
# language with no counts of pairs of letters (Icelandic) against the best one with.
_ASCII_SHARES = {
    name: [int(share) for share in line.split()]
    for name, line in {
        "English": "97 15 33 36 116 22 18 41 85 1 6 44 26 80 76 19 1 69 66 78 27 9 14 2 17 2",
        "French": "86 9 31 48 151 10 14 12 79 2 3 60 27 83 59 26 7 68 74 72 57 11 2 3 5 2",
        "German": "65 16 29 46 160 13 25 39 96 1 13 40 27 99 35 9 1 81 65 67 38 8 10 1 4 11",
        "Spanish": "121 13 44 60 135 10 13 8 76 3 2 59 26 78 83 24 4 65 63 47 40 8 1 2 9 4",
        "Portuguese": "128 11 38 65 119 10 14 10 78 2 3 37 45 61 104 25 5 68 64 51 41 10 1 2 2 4",
        "Italian": "116 10 40 45 113 10 18 9 113 1 2 72 25 77 87 24 2 62 46 71 33 11 1 1 3 9",
        "Catalan": "130 13 41 52 123 10 15 6 82 2 2 71 29 72 52 24 6 71 72 63 42 11 1 4 5 2",
        "Dutch": "79 13 22 51 173 8 28 23 88 8 15 46 24 83 63 23 1 63 59 63 24 24 11 1 5 4",
        "Danish": "67 18 7 54 157 25 38 13 68 5 31 54 32 83 54 15 1 93 63 69 21 20 1 1 10 1",
        "Swedish": "97 17 27 26 100 18 25 25 80 11 29 56 36 73 58 18 1 89 79 67 25 27 1 4 10 1",
        "Icelandic": "116 12 2 20 73 35 46 21 89 13 35 53 45 89 24 10 1 100 63 60 56 25 1 1 12 1",
        "Polish": "98 11 44 33 85 4 18 15 92 23 37 28 27 64 85 26 1 57 46 42 28 1 53 1 36 45",
        "Czech": "81 18 33 35 96 5 7 27 55 23 46 47 34 77 93 29 1 55 55 58 36 47 1 1 20 22",
        "Slovak": "99 17 30 33 106 6 9 25 60 25 43 38 30 72 94 26 1 67 52 53 28 47 1 2 15 21",
        "Hungarian": "109 24 13 23 108 11 35 14 55 15 48 72 33 62 51 14 1 58 69 75 15 21 1 1 26 46",
        "Romanian": "107 9 46 39 127 15 13 8 113 3 2 57 30 76 59 28 1 71 49 66 61 8 1 2 4 7",
        "Croatian": "122 13 14 31 91 4 18 11 104 53 43 38 28 70 87 27 1 58 50 43 43 30 1 1 2 18",
        "Turkish": "130 21 11 45 103 8 13 11 102 1 42 80 35 91 33 11 1 83 40 44 35 14 1 1 33 13",
        "Lithuanian": "124 12 7 24 68 3 17 3 140 27 44 37 33 60 75 26 1 62 89 54 49 26 1 1 17 4",
        "Latvian": "130 16 13 33 71 4 16 3 108 23 42 39 38 52 48 29 1 68 96 64 57 27 1 1 1 20",
        "Estonian": "127 9 3 35 106 3 19 16 105 16 46 66 36 64 56 15 1 44 87 65 55 23 1 1 1 1",
        "Albanian": "86 10 9 31 105 9 15 44 94 29 28 34 34 91 51 24 10 81 60 91 35 14 1 1 7 6",
    }.items()
}


def _best_latin_reading(sample: bytes, context: bytes | None = None) -> str:
    """Which single-byte Latin encoding reads the sample as real text. Detectors confuse
    these (the bytes decode in all of them); the readings are weighed by the symbols they
    glue to letters and the capitals they put inside words (``SociÈtÈ``: fewer wins), then
    by the small letters they put between capitals (``HISTàRICO``; none where words were
    put in capitals in ASCII only, ``GETRäNKEHAUS``: in every reading, or in one with no
    other mark and no accented capital in its words in capitals), then
    by the known names of fields their first lines spell (``imię``, not ``imiê``), then
    by how many of their words' accented letters one language writes (``Jiří Dvořák`` read
    as cp1252 is ``Jiøí Dvoøák``: no language has ø with ř's neighbours), then by whether
    one language writes all their accented letters (a list in one language; a list mixing
    many, Berlín, Luleå and København, is no evidence: read as cp1250 it looked more Czech
    than anything looked in cp1252), then by how common the encoding is; but among
    Windows' Western, Central European and Turkish code pages, a reading whose letters a
    language writes far more often wins over a commoner one (Turkish's dotless i over
    cp1252's ``Kadýn``, a letter Czech and Icelandic write among many commoner ones), and
    where those letters tie, the language the ASCII letters of ``context`` (the whole
    sample; else ``sample``) are plainly in weighs any tied readings, DOS and Mac ones
    too, by the letters it writes; and where no language is plain, the letters around
    the accented ones (:func:`_likeliest_around`).
    mac_roman and cp850 decode any bytes, so there is always an answer. A byte that
    delimits the lines' fields (``§`` in latin-1, Mac Roman's ``ß``) is read as a comma
    while they are weighed: no reading is marked for gluing it to the fields, and the most
    common encoding reads it (a thorn, ``þ``, delimits some exports too)."""
    delimiters = _delimiter_bytes(sample)
    readings = []
    for index, name in enumerate(_LATIN_READINGS):
        try:
            text = sample.decode(name)
        except UnicodeDecodeError:
            continue
        if _C1_CONTROLS.search(text):  # ISO 8859 readings of Windows' 0x80-0x9F
            continue
        if delimiters:
            text = _as_fields(sample, name, delimiters)
        readings.append((index, name, text))
    smalls = [_small_between_capitals(text) for _, _, text in readings]
    everywhere = min(smalls, default=0) > 0
    scored = []
    for (index, name, text), between in zip(readings, smalls, strict=True):
        # Small accented letters between capitals weigh after the other marks: a symbol
        # glued to a word (cp1252's ``G…TTINGEN`` of Mac Roman bytes) is surer than
        # ``HISTàRICO``, which a program putting words in capitals in ASCII only writes.
        marks = _odd_marks(text) - between
        # Small accented letters between capitals in every reading, or the only mark of
        # one whose words in capitals hold no accented capital and whose accented letters
        # one language writes: the words were put in capitals in ASCII only
        # (``GETRäNKEHAUS``, ``MüNCHEN``; not cp850's ``GàTTINGEN``, ``LåBECK``), no mark.
        in_ascii_only = between and (
            everywhere or (not marks and _one_language(text) and _capitalised_in_ascii_only(text))
        )
        scored.append(
            (
                (
                    marks,
                    0 if in_ascii_only else between,
                    -_field_names(text),
                    _vowelless_words(text),
                    -_one_language_words(text),
                    -_one_language(text),
                ),
                index,
                name,
                text,
            )
        )
    if not scored:
        return "cp1252"
    evidence, _, name, text = min(scored)
    tied = [
        (other_name, other)
        for other_evidence, _, other_name, other in scored
        if other_evidence == evidence
        and other_name != name
        and _letter_count(other) == _letter_count(text)
    ]
    chosen = name
    if name in _WEIGHED_READINGS:
        # Among the readings the evidence ties, the code page's commonness decides; unless
        # another of Windows' three Latin code pages reads the same bytes as letters that
        # a language writes far more often (Turkish's dotless i, where cp1252 reads the ý
        # that Icelandic writes among many commoner letters).
        chosen = _far_likelier(
            name, text, tied, _likeliest_letters, margin=_FAR_LIKELIER, allowed=_WEIGHED_READINGS
        )
    if chosen != name or not tied:
        return chosen
    # Still tied: the language that the ASCII letters of the file's words are in, when
    # they tell it plainly, weighs the readings (``Zbigniew Junkiewicz, Agnieszka Cichoń``:
    # ń, not the ñ of cp1252's ``Cichoñ``, in a list whose w, k and z are Polish; a
    # Swedish statement's ö in DOS cp850, not Mac Roman's î).
    fits = _language_fits(sample if context is None else context)
    language = _plain_language(fits)
    if language is None:
        around = _likeliest_around(name, text, tied, _leaning_languages(fits))
        if around != name:
            return around
        # Still tied: the language the words lean to, though not plainly, where it writes
        # every accented letter of one tied reading and not those of the chosen one
        # (``Ayşe`` among Turkish names spelled in ASCII, not cp1250's Romanian ``Ayţe``;
        # ``Doğan``, not cp1252's Icelandic ``Doðan``).
        return _leaning_reading(name, text, tied, fits[-1][1])
    shares = _LETTER_SHARES.get(language, {})

    def in_language(reading: str) -> float:
        # Its accented letters, and the letters around them, in the language.
        return _letter_likelihood(_accented_letters(reading), shares) + _surroundings_in(
            reading, language
        )

    # Only the code pages the language is written in (a Polish list's ć read in cp1257,
    # João's ã: no Polish code page).
    chosen = _far_likelier(
        name,
        text,
        tied,
        in_language,
        margin=_FAR_LIKELIER,
        allowed=_WRITTEN_IN.get(language, _LATIN_READINGS),
    )
    if (
        chosen != name
        or (not shares and name in _WEIGHED_READINGS & _WRITTEN_IN.get(language, frozenset()))
        or _writes_all(language, text)
    ):
        # A language that writes no letter beyond ASCII (English) tells nothing of one
        # among its words: a reading in its Windows code page keeps its place
        # (``theæM'Kraan`` in an English note, not cp1250's ``thećM'Kraan``).
        return chosen
    # The language writes none of some letter of the reading (a Romanian Bălan among
    # Polish names, cp1252's Bãlan): no evidence of its; the letters around decide, as
    # where no language is plain.
    around = _likeliest_around(name, text, tied, [language])
    if around != name:
        return around
    return _home_reading(name, text, tied, language) or _leaning_reading(name, text, tied, language)


def _home_reading(name: str, text: str, tied: list[tuple[str, str]], language: str) -> str | None:
    """Where ``name``'s code page is none the plain ``language`` is written in, a tied
    reading in a Windows code page that it is, whose accented letters a language written
    in that page writes among letters no less likely there than ``name``'s are anywhere (a
    Latvian ``Zīle`` among Lithuanian names in cp1257, not cp1252's ``Zîle``: a list in
    Lithuanian is in a Baltic code page, and :func:`_likeliest_around` never reads one);
    not where the letters around say otherwise (``Muñoz`` among Polish names: ``Muńoz`` is
    no Polish spelling). A DOS or ISO page is too rare to be chosen so."""
    pages = _WRITTEN_IN.get(language, frozenset()) & _WINDOWS_READINGS
    if name in pages:
        return None
    around = _likeliest_surroundings(text)
    for other_name, other in tied:
        if other_name in pages and any(
            other_name in kin_pages
            and _writes_all(kin, other)
            and _surroundings_in(other, kin) >= around
            for kin, kin_pages in _WRITTEN_IN.items()
        ):
            return other_name
    return None


def _far_likelier(
    name: str,
    text: str,
    tied: list[tuple[str, str]],
    likelihood: Callable[[str], float],
    *,
    margin: float,
    allowed: Collection[str],
) -> str:
    """``name`` (whose reading is ``text``), unless a ``tied`` reading in an ``allowed``
    code page is likelier by more than ``margin``: then the likeliest such one."""
    chosen, best = name, likelihood(text)
    for other_name, other in tied:
        if other_name in allowed:
            score = likelihood(other)
            if score - best > margin:
                chosen, best = other_name, score
    return chosen


# The code pages each language's text is written in, of those read here: where the words
# are plainly in a language, only a reading in one of them can win by its letters.
_WESTERN_PAGES = frozenset({"cp1252", "latin_1", "iso8859_15", "mac_roman", "cp850"})
_CENTRAL_PAGES = frozenset({"cp1250", "iso8859_2", "cp852"})
_WRITTEN_IN = {
    **dict.fromkeys(
        [
            "English",
            "French",
            "German",
            "Spanish",
            "Portuguese",
            "Italian",
            "Catalan",
            "Dutch",
            "Danish",
            "Swedish",
            "Icelandic",
        ],
        _WESTERN_PAGES,
    ),
    **dict.fromkeys(
        ["Polish", "Czech", "Slovak", "Hungarian", "Croatian", "Romanian"], _CENTRAL_PAGES
    ),
    "Turkish": frozenset({"cp1254"}),
    "Lithuanian": frozenset({"cp1257"}),
    "Latvian": frozenset({"cp1257"}),
    "Estonian": frozenset({"cp1257"}) | _WESTERN_PAGES,
    "Albanian": _WESTERN_PAGES | _CENTRAL_PAGES,
}


# The code pages weighed by how often languages write their letters: Windows' Western,
# Central European and Turkish, the commonest by far (a DOS, Mac or Baltic reading is
# weighed only by the language its words plainly are in: one letter some language writes
# often is no match for how rare those code pages are, nor is a tie of ESPAÑA with an
# Icelandic ESPAÐA in cp850).
_WEIGHED_READINGS = frozenset({"cp1252", "cp1250", "cp1254"})
_WINDOWS_READINGS = _WEIGHED_READINGS | {"cp1257"}
# How much likelier, in log share summed over the words, another reading's letters must
# be to outweigh the order of those code pages: a factor of e squared (Turkish's dotless i
# against the ý Czech writes is a factor of three a word; Portuguese's ã against
# Romanian's ă, not two).
_FAR_LIKELIER = 2.0


def _likeliest_around(
    name: str, text: str, tied: list[tuple[str, str]], lean: Collection[str]
) -> str:
    """Among readings still tied and no language of the words plain, the one whose
    letters beyond ASCII sit among letters that some language writes around them far
    more often (``François``, not Mac Roman's ``Franáois`` of DOS bytes; a Hungarian
    ``Szőke``, not cp1252's ``Szõke``). A Windows reading gives way to another Windows
    reading, and to a DOS, Mac or ISO one only by twice the margin (an Argentine DOS
    export's ``SEÑORA``, ``PEÑA``, ``CAÑAMERAS``, not cp1250's ``SEĄORA``), preferring
    a code page one of the languages the words lean to (``lean``) is written in and
    whose accented letters it writes: the letters of a word or two are no match for how
    rare those code pages are; never to cp1257.
    Icelandic has no counts of its letters'
    neighbours, so a reading with its own ð or þ keeps its place (which leaves Turkish's
    ğ, cp1252's ð, to the other marks)."""
    if not _ICELANDIC_ONLY.isdisjoint(text.lower()):
        return name
    allowed = _WEIGHED_READINGS if name in _WEIGHED_READINGS else _NOT_BALTIC
    chosen = _far_likelier(
        name, text, tied, _likeliest_surroundings, margin=_FAR_LIKELIER_AROUND, allowed=allowed
    )
    if chosen == name and name in _WEIGHED_READINGS:
        # Still a Windows page: a DOS, Mac or ISO reading whose letters sit far more
        # plausibly (by twice the margin) takes its place; of several, one in a code page
        # a language the words lean to is written in, with letters it writes (a Spanish
        # list's cp850 Ñ, not ISO 8859-2's Slovak Ľ, as likely around, though its words
        # fit Romanian nearly as well), then the likeliest.
        bar = _likeliest_surroundings(text) + _OUTWEIGHS_WINDOWS

        def leaned(other_name: str, other: str) -> bool:
            return any(
                other_name in _WRITTEN_IN.get(language, frozenset())
                and _writes_all(language, other)
                for language in lean
            )

        passing = [
            (leaned(other_name, other), score, other_name)
            for other_name, other in tied
            if other_name in _NOT_BALTIC and (score := _likeliest_surroundings(other)) > bar
        ]
        if passing:
            chosen = max(passing)[2]
    return chosen


_ICELANDIC_ONLY = frozenset("ðþ")
_NOT_BALTIC = frozenset(_LATIN_READINGS) - {"cp1257"}
# How much likelier, in log share, the letters around another reading's accented letters
# must be: a factor of e to the sixth (``ço`` against ``áo`` is one of e to the ninth).
_FAR_LIKELIER_AROUND = 6.0
# How much likelier the letters around must be for a DOS, Mac or ISO reading to outweigh
# a Windows one's place: twice the margin between Windows readings, as those pages are
# that much rarer (``SEÑORA`` in a DOS export, not cp1250's ``SEĄORA``).
_OUTWEIGHS_WINDOWS = 2 * _FAR_LIKELIER_AROUND
# How many of the text's words beyond ASCII are weighed (each once): ties are between
# readings of a few such words; a text of thousands is decided before.
_AROUND_WORDS = 256


def _likeliest_surroundings(text: str) -> float:
    """How likely the letters on either side of each accented letter of the text's words
    (each word once; a space at a word's edge) are, in the language likeliest to write
    them: the sum of the log shares of each pair and triple in that language's text (one
    in e to the seventeenth where it writes none)."""
    from worker.sources.accent_grams import RARENESS  # noqa: PLC0415 - ties only

    grams = _around_grams(text)
    if not grams:
        return 0.0
    return max(_around_likelihood(grams, rareness) for rareness in RARENESS.values())


def _surroundings_in(text: str, language: str) -> float:
    """:func:`_likeliest_surroundings` in one language; 0.0, no evidence, for a language
    with no counts of its letters' neighbours (Icelandic: another language's counts would
    favour its letters, ``Žvar`` over ``Ævar``)."""
    from worker.sources.accent_grams import RARENESS  # noqa: PLC0415 - ties only

    rareness = RARENESS.get(language)
    return 0.0 if rareness is None else _around_likelihood(_around_grams(text), rareness)


def _around_likelihood(grams: list[str], rareness: dict[str, int]) -> float:
    """How likely the grams are in one language: minus their rareness summed (a gram it
    does not count as e to the seventeenth)."""
    return -float(sum(rareness.get(gram, 17) for gram in grams))


def _around_grams(text: str) -> list[str]:
    """The pairs and triples around each accented letter of the text's words (each word
    once, the first ``_AROUND_WORDS`` of them; a space at a word's edge)."""
    words = []
    for word in _WORD.findall(text.lower()):
        if not word.isascii() and word not in words:
            words.append(word)
            if len(words) == _AROUND_WORDS:
                break
    grams = []
    for word in words:
        padded = f" {word} "
        for index, char in enumerate(padded):
            if char > "\x7f" and _is_letter(char):
                grams += [
                    padded[index - 1 : index + 1],
                    padded[index : index + 2],
                    padded[index - 1 : index + 2],
                ]
    return grams


def _field_names(text: str) -> int:
    """How many known names of fields spelt beyond ASCII the text's first lines (where a
    header is) hold whole, each once (``imię;nazwisko``: cp1252 reads ``imiê``, which
    names nothing)."""
    return len({match.lower() for match in _field_name_pattern().findall(text[:4096])})


@functools.cache
def _field_name_pattern() -> re.Pattern[str]:
    # Imported here: the names live with the column mapping, which reading does not need.
    from worker.sources.mapping import ACCENTED_FIELD_NAMES  # noqa: PLC0415

    names = sorted(ACCENTED_FIELD_NAMES, key=len, reverse=True)
    return re.compile(
        r"(?<![^\W\d_])(?:" + "|".join(map(re.escape, names)) + r")(?![^\W\d_])", re.IGNORECASE
    )


def _as_fields(sample: bytes, encoding: str, delimiters: bytes | None = None) -> str:
    """The sample read in ``encoding``, its delimiting bytes beyond ASCII (if any) read as
    commas: a delimiter is no symbol glued to the fields around it."""
    if delimiters is None:
        delimiters = _delimiter_bytes(sample)
    for byte in delimiters:
        sample = sample.replace(bytes((byte,)), b",")
    return sample.decode(encoding, errors="replace")


_DELIMITER_LINES = 500  # lines enough to see a delimiter's regularity


def _delimiter_bytes(sample: bytes) -> bytes:
    """The bytes beyond ASCII that delimit fields: each occurs the same number of times,
    twice or more (three fields or more), on three lines in four or more (a quoted value
    may hold it too), three lines or more, where no common ASCII delimiter does. (A
    letter does that only in a list whose every row holds the same accented name twice.)"""
    lines = [line for line in sample.splitlines()[:_DELIMITER_LINES] if line.strip()]
    if len(lines) < 3:
        return b""

    def regular(byte: int, least: int) -> bool:
        count, hits = Counter(line.count(byte) for line in lines).most_common(1)[0]
        return count >= least and hits >= 0.75 * len(lines)

    if any(regular(ord(delimiter), 1) for delimiter in ";,\t|"):
        return b""
    return bytes(sorted(byte for byte in set(lines[0]) if byte >= 0x80 and regular(byte, 2)))


# How much more of a reading's characters must be common ones for it to overrule the
# detector's choice: near ties stay with the detector.
_COMMON_MARGIN = 0.1


def _best_other_reading(
    sample: bytes, evidence: bytes, ranked: list[str], *, strict: bool
) -> str | None:
    """The reading of the sample in another script whose characters are most often the
    common ones of their script (the Chinese characters of everyday text, the Korean
    syllables of KS X 1001, the letters of the Cyrillic alphabets...): a wrong reading of
    Chinese, Japanese, Korean or Cyrillic bytes as one another is mostly rare characters.
    ``ranked`` is the detector's order; its first reading keeps the answer unless another
    is clearly more common. ``strict``: only readings with no mark of a wrong reading
    (symbols glued to letters, words mixing scripts), and None if there is none."""
    text_of: dict[str, str] = {}
    lines = _whole_lines(evidence)
    names = [*(name for name in ranked if name in _OTHER_NAMES), *_OTHER_NAMES]
    for name in dict.fromkeys(names):
        try:
            text = lines.decode(name)
        except UnicodeDecodeError:
            continue
        if strict and (
            _odd_marks(text)
            or _mixed_script_words(text, name)
            or _letters_share(text) < 0.8
            or _letters_per_word(text) < 2
        ):
            continue
        text_of[name] = text
    if not text_of:
        return None
    shares = {
        name: _common_share(text, name) * _spelt_share(text) * _korean_with_hangul(text, name)
        for name, text in text_of.items()
    }
    first = next(iter(shares))
    best = max(shares, key=lambda name: shares[name])  # the first of equals
    choice = best if shares[best] >= shares[first] + _COMMON_MARGIN else first
    choice = _by_frequency(lines, text_of, shares, choice)
    if _lower_only(text_of[choice]):
        # A reading in a cased script without one capital (names are capitalised) gives
        # way to an equal one in a script without case: Hebrew read as cp1251 or cp1253
        # lands on the small letters only.
        caseless = [name for name in shares if _caseless(text_of[name])]
        if caseless:
            other = max(caseless, key=lambda name: shares[name])
            choice = other if shares[other] >= shares[choice] else choice
    if choice != first and not _decodes(sample, choice):
        choice = first
    if strict and not _decodes(sample, choice):
        return None
    return choice


def _by_frequency(
    lines: bytes, text_of: dict[str, str], shares: dict[str, float], choice: str
) -> str:
    """Between Chinese, Japanese and Korean readings that this module's marks cannot tell
    apart (a short name: 김민수 in EUC-KR is 梯團熱 in Big5, all common characters), the one
    chardet's character-frequency models rank first; ``choice`` where they do tell, or
    where chardet picks a reading with words mixing scripts."""
    if codecs.lookup(choice).name not in _CJK_NAMES:
        return choice
    tied = [
        name
        for name, share in shares.items()
        if name in _CJK_NAMES and share >= shares[choice] - _COMMON_MARGIN / 2
    ]
    # A Korean reading that spells many rare syllables is Chinese or Japanese bytes (李 娜
    # in GB2312 is 쟀 컹): Korean text is written 99.8 % in the syllables of FREQUENT_HANGUL.
    # The reading ranked next takes its place, without the benefit of the doubt that a
    # Japanese reading the detector ranked first has below.
    japanese_first = choice in _JAPANESE
    korean = [name for name in tied if name in _KOREAN]
    if korean and len(korean) < len(tied) and _rare_hangul_share(text_of[korean[0]]) >= 0.25:
        tied = [name for name in tied if name not in _KOREAN]
        korean = []
        choice = choice if choice in tied else tied[0]
    if len(tied) < 2:
        return choice
    import chardet  # noqa: PLC0415 - only for these ties

    found = chardet.detect(
        lines[:_FREQUENCY_BYTES],
        include_encodings=[name.replace("_", "-") for name in tied],
        no_match_encoding=tied[0].replace("_", "-"),
    )["encoding"]
    name = _known_name(found)
    if name not in tied or _mixed_script_words(text_of[name]):
        return choice
    # Where the models say Chinese but the Chinese reading holds a character Chinese
    # seldom writes and the Korean one only syllables Korean writes often, it is Korean
    # (황석윤 in EUC-KR is GB2312's 炔籍辣: given one name, the models lean Chinese).
    if (
        name in _CHINESE
        and korean
        and not _all_frequent_hanzi(text_of[name])
        and _rare_hangul_share(text_of[korean[0]]) == 0.0
    ):
        return korean[0]
    if (
        japanese_first
        and name not in _JAPANESE
        and name not in _KOREAN
        and not (name in _CHINESE and _all_frequent_hanzi(text_of[name]))
    ):
        # Kanji alone are Chinese characters too, and the models lean Chinese on them (a
        # list of Japanese names in EUC-JP ranked GB18030 first); unless every character
        # of the Chinese reading is one Chinese text writes often (王伟, not its EUC-JP
        # reading 藍琉).
        return choice
    return name


def _all_frequent_hanzi(text: str) -> bool:
    """Whether the text holds Chinese characters and every one is of FREQUENT_HANZI."""
    han = [char for char in text if "\u4e00" <= char <= "\u9fff"]
    return bool(han) and all(char in FREQUENT_HANZI for char in han)


def _rare_hangul_share(text: str) -> float:
    """The share of the text's hangul syllables that Korean text seldom writes."""
    syllables = [char for char in text if "\uac00" <= char <= "\ud7a3"]
    rare = sum(1 for char in syllables if char not in FREQUENT_HANGUL)
    return rare / len(syllables) if syllables else 0.0


def _known_name(encoding: str | None) -> str | None:
    try:
        return codecs.lookup(encoding).name if encoding else None
    except LookupError:
        return None


_CJK_NAMES = frozenset(
    codecs.lookup(name).name
    for name in ("shift_jis", "cp932", "euc_jp", "gb18030", "big5", "euc_kr", "cp949")
)
_JAPANESE = frozenset(codecs.lookup(name).name for name in ("shift_jis", "cp932", "euc_jp"))
_CHINESE = frozenset(codecs.lookup(name).name for name in ("gb18030", "gbk", "gb2312"))
_FREQUENCY_BYTES = 1 << 16


# What every word of a script's languages obeys, so that a reading whose words break it
# is a wrong one. Cyrillic and Greek words hold a vowel (Bulgarian's ъ is one); no word
# starts with ь or ы; Greek's final sigma ends a word and only ends one; Hebrew's five
# final letters end a word, and their other forms never do. Hebrew and Arabic write
# consonants only: read in a Cyrillic code page they are words without a vowel (שרה as
# cp1251 is щшд), and Cyrillic read as Hebrew puts final letters first (улица: ףכטצא).
_CYRILLIC_GREEK_VOWELS = frozenset("аеёиоуыэюяіїєъαεηιουωάέήίόύώϊϋΐΰ")
# The soft and hard signs follow consonants only (``иь``, ``аъ``: Hebrew read as KOI8-R);
# the short i follows vowels (``Гй``: Γι in cp1253 read as cp1251).
_SIGN_AFTER_VOWEL = re.compile("[аеёиоуыэюяіїє][ьъ]|[бвгґджзклмнпрстфхцчшщ]й")
_FINAL_SIGMA, _SIGMA = "\u03c2", "\u03c3"  # the first ends a word, the second never does
_HEBREW_FINAL = frozenset("ךםןףץ")
_ARABIC_FINAL = frozenset("\u0629\u0649")  # taa marbuta, alef maksura
_HEBREW_NOT_FINAL = frozenset("כמנפצ")


def _lower_only(text: str) -> bool:
    """Whether the text's letters beyond ASCII are Cyrillic or Greek, and not one of them
    is a capital (Hebrew read as cp1251 or cp1253: the letters land on the small ones)."""
    letters = [char for char in _NOT_ASCII.findall(text) if char.isalpha()]
    return (
        bool(letters)
        and all(script_of(char) in ("CYRILLIC", "GREEK") for char in letters)
        and not any(char.isupper() for char in letters)
    )


def _caseless(text: str) -> bool:
    """Whether the text's letters beyond ASCII are all of scripts without case (Hebrew,
    Arabic, Chinese, Japanese, Korean), and there are some."""
    letters = [char for char in _NOT_ASCII.findall(text) if char.isalpha()]
    return bool(letters) and all(char.lower() == char.upper() for char in letters)


def _spelt_share(text: str) -> float:
    """The share of the text's Cyrillic, Greek, Hebrew, Arabic, Chinese-Japanese and
    Korean words of two letters or more, and runs of Thai, that obey their script's
    spelling (a Cyrillic word has a vowel, no sign first or after a vowel, no short i after
    a consonant), and put no capital after a small letter (``Θεσσα`` read as cp1251 is
    ``Иеууб``...``нЯкз``); 1.0 when it has none such. Korean's hangul and the Chinese
    characters or kana of a reading never share a word."""
    total = spelt = 0
    for written in _WORD.findall(text):
        if len(written) < 2:
            continue
        word = written.lower()
        script = script_of(word[0])
        if script == "CYRILLIC":
            right = (
                not _CYRILLIC_GREEK_VOWELS.isdisjoint(word)
                and word[0] not in "ьыъ"
                and not _SIGN_AFTER_VOWEL.search(word)
            )
        elif script == "GREEK":
            right = (
                not _CYRILLIC_GREEK_VOWELS.isdisjoint(word)
                and _FINAL_SIGMA not in word[:-1]
                and word[-1] != _SIGMA
            )
        elif script == "HEBREW":
            right = _HEBREW_FINAL.isdisjoint(word[:-1]) and word[-1] not in _HEBREW_NOT_FINAL
        elif script == "ARABIC":
            right = _ARABIC_FINAL.isdisjoint(word[:-1])  # ة and ى end a word
        elif script in ("CJK", "HANGUL"):
            # 흄陝荻 is no word; SNSという is (Japanese writes Latin letters in a word).
            right = all(script_of(char) == script for char in word if not char.isascii())
        else:
            continue
        total += 1
        spelt += right and not _capital_after_small(written)
    for run in _THAI_RUN.findall(text):
        total += 1
        spelt += not _THAI_MISSPELT.search(run)
    return spelt / total if total else 1.0


# Thai is written without spaces between words, its vowel and tone marks above or below
# a consonant: a run of Thai is one "word" here. No run starts with a mark or a vowel
# that follows a consonant; a leading vowel (เ แ โ ใ ไ) is followed by a consonant; no
# two tone marks meet; Thai digits stand apart from letters (``ม.๖``, not ``ม๖``).
# KOI8-R's Иванов read as cp874 starts with a tone mark; EUC-KR's 민수 is ``นฮผ๖``.
_THAI_DIGITS = "\u0e50-\u0e59"
_THAI_RUN = re.compile(f"[{_THAI_DIGITS}]*[\u0e01-\u0e4e][\u0e01-\u0e4e{_THAI_DIGITS}]*")
_THAI_CONSONANT = "\u0e01-\u0e2e"
# The vowel and tone marks Thai writes above or below its letters: no word characters
# to Python, which would cut สมหญิง into สมหญ and ง.
_THAI_MARKS = "\u0e31\u0e34-\u0e3a\u0e47-\u0e4e"
_THAI_MARK = re.compile(f"[{_THAI_MARKS}]")
_THAI_MISSPELT = re.compile(
    f"^[{_THAI_MARKS}\u0e2f\u0e30\u0e32\u0e33\u0e45\u0e46]"
    f"|[\u0e40-\u0e44](?![{_THAI_CONSONANT}])"
    "|[\u0e48-\u0e4b]{2}"
    f"|[\u0e01-\u0e4e][{_THAI_DIGITS}]|[{_THAI_DIGITS}][\u0e01-\u0e4e]"
)


def _korean_with_hangul(text: str, encoding: str) -> float:
    """0.0 for a Korean reading that gives Chinese characters and not one hangul syllable:
    Korean is written in hangul (Москва in cp1251 read as EUC-KR is 輕仲循); else 1.0."""
    if codecs.lookup(encoding).name not in _KOREAN:
        return 1.0
    scripts = {script_of(char) for char in text if not char.isascii()}
    return 0.0 if "CJK" in scripts and "HANGUL" not in scripts else 1.0


_KOREAN = frozenset(codecs.lookup(name).name for name in ("euc_kr", "cp949"))


def _capital_after_small(word: str) -> bool:
    return any(a.islower() and b.isupper() for a, b in itertools.pairwise(word))


def _symbol_soup(text: str) -> bool:
    """Whether the text's characters beyond ASCII are mostly symbols, and enough of them
    to tell (two German quotes „ are no evidence; six symbols where names are, are)."""
    return len(_NOT_ASCII.findall(text)) >= _SOUP_AT_LEAST and _letters_share(text) < 0.5


# Characters beyond ASCII a reading must have before its symbols count against it.
_SOUP_AT_LEAST = 6


def _letters_per_word(text: str) -> float:
    """How many letters beyond ASCII the text's words that have any hold, on average:
    names are written in words; lone letters are a symbol read as one (``€ 12`` read as
    cp866 is a Cyrillic ``A 12``). A Chinese character, kana or hangul syllable counts as
    two: one is a word or a syllable of its own (the surname 김), and two bytes."""
    counts = [
        sum(2 if script_of(char) in ("CJK", "HANGUL") else 1 for char in word if char > "\x7f")
        for word in _WORD.findall(text)
        if not word.isascii()
    ]
    return sum(counts) / len(counts) if counts else 0.0


def _letters_share(text: str) -> float:
    """The share of the text's characters beyond ASCII that are letters (1.0 when there
    are none): names and places are written in letters; a reading that makes them mostly
    symbols (Arabic read as mac_roman: ``«·—Ì«÷``) is a wrong one."""
    return _share_beyond_ascii(text, _is_letter_or_mark)


def _is_letter_or_mark(char: str) -> bool:
    return char.isalpha() or bool(_THAI_MARK.fullmatch(char))


def _share_beyond_ascii(text: str, counts: Callable[[str], bool]) -> float:
    """The share of the text's characters beyond ASCII (U+FFFD, an undecodable byte, left
    out) for which ``counts`` holds; 1.0 when there are none."""
    chars = Counter(_NOT_ASCII.findall(text))
    del chars["\ufffd"]
    total = sum(chars.values())
    if not total:
        return 1.0
    return sum(count for char, count in chars.items() if counts(char)) / total


def _whole_lines(evidence: bytes) -> bytes:
    """The evidence without a last line cut at its size bound (a character cut in two
    would fail every multi-byte reading)."""
    if len(evidence) < 1 << 16:
        return evidence
    cut = evidence.rfind(b"\n")
    return evidence[:cut] if cut > 0 else evidence


def _common_share(text: str, encoding: str | None = None) -> float:
    """The share of the text's characters beyond ASCII that are common ones of their
    script (1.0 when there are none). Read in a Japanese, Chinese or Taiwanese code page,
    a Chinese character is common if that country's everyday set has it (two rare kanji
    are no reading of محمد in cp1256)."""
    han = _HAN_OF.get(codecs.lookup(encoding).name if encoding else "")
    if han is None:
        return _share_beyond_ascii(text, _is_common)
    common = _common_han(han)
    return _share_beyond_ascii(
        text, lambda char: char in common if 0x4E00 <= ord(char) <= 0x9FFF else _is_common(char)
    )


_CYRILLIC = frozenset("абвгдеёжзийклмнопрстуфхцчшщъыьэюяіїєґў")
_THAI_RARE = frozenset("\u0e03\u0e05\u0e26\u0e3a")
_GREEK = frozenset("αβγδεζηθικλμνξοπρσςτυφχψωάέήίόύώϊϋΐΰ")
_LATIN_LETTERS = frozenset().union(*_ALPHABETS)


@functools.cache
def _is_common(char: str) -> bool:
    code = ord(char)
    if 0x4E00 <= code <= 0x9FFF:  # Chinese characters (also Japanese kanji, Korean hanja)
        return any(char in _common_han(name) for name in _HAN_LEVEL_1)
    if 0x3000 <= code <= 0x30FF or 0xFF01 <= code <= 0xFF5E:
        return True  # CJK punctuation, hiragana, katakana, full-width forms
    if 0xAC00 <= code <= 0xD7A3:  # Korean syllables: the 2,350 of KS X 1001 are common
        # Two bytes in EUC-KR; Python writes the others as an eight-byte composition.
        return _encodes(char, "euc_kr") and len(char.encode("euc_kr")) == 2
    if 0x0590 <= code <= 0x06FF:
        return unicodedata.category(char) == "Lo"  # Hebrew and Arabic letters
    if 0x0E01 <= code <= 0x0E4D:
        # Thai letters, vowels and tone marks; not the obsolete letters (ฃ ฅ ฦ) nor the
        # marks of Pali and Sanskrit (the phinthu ฺ).
        return char not in _THAI_RARE
    lower = char.lower()
    return lower in _CYRILLIC or lower in _GREEK or lower in _LATIN_LETTERS


def _encodes(char: str, encoding: str) -> bool:
    try:
        char.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


@functools.cache
def _common_han(encoding: str) -> frozenset[str]:
    """The Chinese characters of everyday text in ``encoding``'s country: level 1 of
    GB 2312 (3,755), of Big5 (5,401) or of JIS X 0208 (2,965, Japanese kanji)."""
    leads, trails = _HAN_LEVEL_1[encoding]
    chars: set[str] = set()
    for lead in leads:
        for trail in trails:
            chars.update(bytes((lead, trail)).decode(encoding, errors="ignore"))
    return frozenset(chars)


# Where each country's everyday characters sit in its code page: lead and trail bytes.
_HAN_LEVEL_1 = {
    "gb2312": (range(0xB0, 0xD8), range(0xA1, 0xFF)),
    "big5": (range(0xA4, 0xC7), [*range(0x40, 0x7F), *range(0xA1, 0xFF)]),
    "euc_jp": (range(0xB0, 0xD0), range(0xA1, 0xFF)),
}
# The code pages a reading may be in, by the set their country's text is written with.
_HAN_OF = {
    codecs.lookup(name).name: han
    for name, han in (
        ("gb18030", "gb2312"),
        ("big5", "big5"),
        ("shift_jis", "euc_jp"),
        ("cp932", "euc_jp"),
        ("euc_jp", "euc_jp"),
    )
}


def _odd_marks(text: str) -> int:
    """Symbols glued to letters, accented capitals inside words and letters where no word
    has them (ß first): marks of a wrong reading. UTF-8 text that was read as cp1252 and
    saved so (``DiseÃ±o``, ``â€™``, ``Â£``) is no mark: it is in the file whatever its code
    page, and it reads so only where the rest reads as it was written (ISO 8859-2 turns it
    into letters, ``DiseĂąo``, and with them a German guestbook's own ä and ö)."""
    text = _SAVED_MOJIBAKE.sub(" ", text)
    return (
        _glued_symbols(text)
        + _capitals_inside_words(text)
        + len(_MISPLACED.findall(text))
        + len(_LONE_GRAPHIC.findall(text))
    )


# UTF-8's two- and three-byte letters and punctuation as cp1252 or Latin-1 reads them:
# Ã or Â and the character of the continuation byte, â€ and the one of the third.
_CONTINUATION = bytes(range(0x80, 0xC0)).decode("cp1252", "ignore") + "".join(
    map(chr, range(0x80, 0xC0))
)
_SAVED_MOJIBAKE = re.compile(f"[ÃÂ][{re.escape(_CONTINUATION)}]|â€[{re.escape(_CONTINUATION)}]")


# A box-drawing or block character alone (``▀``: ß read as cp850); a DOS frame draws runs,
# and a DOS user types a block between two numbers or two spaces as a separator
# (``4764-2445█4768-8074``, ``768-7158 █ 767-1380``), where no letter stands.
_GRAPHIC = "[\u2500-\u259f]"
_LONE_GRAPHIC = re.compile(
    f"(?<!{_GRAPHIC})"  # no run
    r"(?<!\d(?=.\d))(?<! (?=. ))"  # not between two digits, nor two spaces
    f"{_GRAPHIC}(?!{_GRAPHIC})"
)


# Letters where the languages that write them never put them: ß, ð and Turkish's ğ first
# in a word (``ßk``: the end of Dvořák read as cp850; ``Ğiauliai``: Lithuanian's Šiauliai
# read as cp1254; not a cell holding the letter alone); þ, which Icelandic writes first in a word
# or after a consonant, last in one or between vowels (Turkish's ş read as cp1252:
# ``Ayþe``, ``Güneþ``); ø, which Danish and Norwegian put beside a consonant, between
# two vowels (Czech ř read as cp1252: ``Kateøina``). Czech ě, ň and ů and the ę of Polish
# and Lithuanian never start a word either (``ědegňrd``: Ødegård in cp1252 read as cp852);
# ą does, in Lithuanian (Ąžuolas). Polish puts ź first, after a vowel or in dź, not
# after another consonant (``Mźller``: Müller in mac_roman read as cp1250). Spanish opens
# an exclamation with ¡, never after a letter (``f¡sica``, ``Pytl¡k``: the í of DOS cp850
# and cp852 read as cp1252; a ¿ after a word is how some tools mangle a question mark,
# ``You¿.mp3``). A degree sign follows a number or an N (``N°5``, ``20°C``), never two
# letters (``f°sica``: the same í read as Mac Roman). The generic currency sign ¤ is
# written nowhere (``118.00 ¤``: ISO 8859-15's € read as cp1252).
def _latin_vowels() -> frozenset[str]:
    """Latin vowels: a, e, i, o, u, y with any accent, æ, ø, œ and the dotless i."""
    vowels = set("æøœ\u0131")
    for code in range(0x80, 0x250):
        char = chr(code)
        base = unicodedata.normalize("NFD", char)[:1]
        if char.isalpha() and base in "aeiouyAEIOUY":
            vowels.add(char.lower())
    return frozenset(vowels | set("aeiouy"))


_LATIN_VOWELS = _latin_vowels()
_VOWEL = re.escape("".join(sorted(_LATIN_VOWELS | {char.upper() for char in _LATIN_VOWELS})))
_MISPLACED = re.compile(
    rf"(?<![^\W\d_])[ßðÐğĞěĚňŇůŮęĘ](?=[^\W\d_])|[þÞ](?![^\W\d_])"
    rf"|(?<=[{_VOWEL}])[þÞøØ](?=[{_VOWEL}])"
    rf"|(?<=[^\W\d_])(?<![{_VOWEL}dD])[źŹ]"
    r"|(?<=[^\W\d_])¡|(?<=[^\W\d_])°(?=[^\W\d_])|¤"
    # Polish writes ń, ś and ź before a consonant or last, never before a vowel (it writes
    # ni, si, zi there): ``Muńoz`` is Spanish in cp1252 read as cp1250, ``Śuvre`` and
    # ``cśur`` French's Œuvre and cœur. Spanish writes ñ before a vowel, never last or
    # before a consonant (``Cichoñ``, ``Gdañsk``: Polish in cp1250 read as cp1252).
    rf"|[ńŃśŚźŹ](?=[{_VOWEL}])|[ñÑ](?![{_VOWEL}])"
)


def _mixed_script_words(text: str, reading: str | None = None) -> int:
    """Words whose letters come from two scripts (``Zoл``: Latin and Cyrillic), which
    real text never writes; Chinese characters and kana count as one script (Japanese
    writes them in one word), Korean's hangul as another (``흄陝荻``, Иванов in cp1251
    read as EUC-KR, is no Korean word). In a Chinese, Japanese or Korean ``reading``,
    ASCII letters beside characters that are all everyday ones of its country are a word
    of that language (``NTTドコモ``, ``LG전자``, a test file's ``亮a``); Latin text read so
    glues its letters to rare ones (``Müller`` in Big5, ``Ãlex`` in GBK)."""
    count = 0
    for word in _WORD.findall(text):
        if word.isascii():
            continue
        scripts = {script_of(char) for char in word}
        if len(scripts) > 1 and not _everyday_beside_ascii(word, scripts, reading):
            count += 1
    return count


def _everyday_beside_ascii(word: str, scripts: set[str], reading: str | None) -> bool:
    return (
        reading in _CJK_NAMES
        and "LATIN" in scripts
        and len(scripts) == 2
        and _common_share(word, reading) == 1.0
    )


def script_of(char: str) -> str:
    if char.isascii():
        return "LATIN"
    full = unicodedata.name(char, "UNKNOWN")
    name = full.split(" ", 1)[0]
    # Chinese characters and kana (half-width ones too), with the marks Japanese writes
    # inside words: the long vowel ー (KATAKANA-HIRAGANA PROLONGED SOUND MARK), the
    # repeat 々 (IDEOGRAPHIC ITERATION MARK).
    if name in _CJK_SCRIPT_NAMES or full.startswith("HALFWIDTH KATAKANA"):
        return "CJK"
    return name


_CJK_SCRIPT_NAMES = frozenset(("CJK", "HIRAGANA", "KATAKANA", "KATAKANA-HIRAGANA", "IDEOGRAPHIC"))


_C1_CONTROLS = re.compile("[\x80-\x9f]")
_HIGH_BYTE_LINE = re.compile(rb"[^\n]*[\x80-\xff][^\n]*")


def _high_byte_lines(sample: bytes) -> bytes:
    """The lines that hold bytes beyond ASCII, up to 64 KiB of them: the evidence of
    which reading is right (the rest reads the same in every one)."""
    return b"\n".join(_HIGH_BYTE_LINE.findall(sample))[: 1 << 16] or sample


_WORD = re.compile(f"(?:[^\\W\\d_]|[{_THAI_MARKS}])+")  # letters, and Thai's marks


def _letter_soup(text: str) -> bool:
    """Whether most accented letters sit in words of three or more made of nothing else
    (``Ãéþñãïò``): how another script reads as Latin. Latin-script words hold ASCII
    letters too (``Łódź``, ``Ålesund``, ``Öztürk``)."""
    in_soup = total = 0
    for word in _WORD.findall(text):
        accented = sum(1 for char in word if char > "\x7f")
        total += accented
        if accented == len(word) >= 3:
            in_soup += accented
    return total > 0 and in_soup * 2 > total


_NOT_ASCII = re.compile("[^\x00-\x7f]")


def _beyond_ascii_cells(text: str) -> bool:
    """Whether most characters beyond ASCII sit in values of two or more that hold at most
    one ASCII letter and symbols among them (``°ª¶¯``: 高雄 in Big5 read as cp1252; ``„Â„``:
    דוד in cp1255 read as mac_roman): a name in a Latin script holds ASCII letters too."""
    alien = total = 0
    for value in _VALUE_SPLIT.split(text):
        beyond = _NOT_ASCII.findall(value)
        total += len(beyond)
        if len(beyond) < 2 or len(_ASCII_LETTER.findall(value)) > 1:
            continue
        # All beyond ASCII: any symbol among them; beside an ASCII letter or digit (a
        # double-byte character's trail byte: 新竹 in Big5 as mac_roman is ∑s¶À): mostly
        # symbols.
        letters_needed = len(beyond) if len(beyond) == len(value) else len(beyond) / 2
        if sum(char.isalpha() for char in beyond) < letters_needed:
            alien += len(beyond)
    return total > 0 and alien * 2 > total


_ASCII_LETTER = re.compile("[A-Za-z]")
_VALUE_SPLIT = re.compile(r"[\s,;|\"'()]+")


def _capitals_inside_words(text: str) -> int:
    """Accented capitals inside a word that is not written in capitals: right after a
    small letter (``CafÈ``, ``ZoÎ``: mac_roman read as a Windows code page, or the
    reverse), or between a letter and a small one (``JÅrgen``: cp850's ü read as
    mac_roman), or between a letter and a capitalised word (``OÕBrien``, ``DÕIvoire``:
    Mac Roman's apostrophe read as a Windows code page). Real names put capitals there
    only in ASCII (``McDonald``, ``DeLuca``); a word in capitals (``MÜLLER``) has them
    everywhere, and no small letter after them. And the reverse: a small accented
    letter between two capitals (``HISTàRICO``: cp850's Ó read as cp1252), which a word in
    capitals never writes (but ß, which has no capital of its own)."""
    capitals, smalls = _inside_word_marks(text)
    return capitals + smalls


def _small_between_capitals(text: str) -> int:
    """How many small accented letters sit between two capitals (``HISTàRICO``)."""
    return _inside_word_marks(text)[1]


def _capitalised_in_ascii_only(text: str) -> bool:
    """Whether the words in capitals were put in capitals letter by letter in ASCII only,
    as a C program's ``toupper`` does (``MüNCHEN``, ``GETRäNKEHAUS``): two of them or more
    hold a small accented letter and none an accented capital."""
    words = {word for word in _WORD.findall(text) if not word.isascii()}
    capitalised = [word for word in words if all(c.isupper() for c in word if c.isascii())]
    if any(c.isupper() for word in capitalised for c in word if not c.isascii()):
        return False
    return sum(any(c.islower() for c in word) for word in capitalised) >= 2


def _inside_word_marks(text: str) -> tuple[int, int]:
    """The accented capitals inside words and the small accented letters between two
    capitals that :func:`_capitals_inside_words` counts, apart."""
    capitals = smalls = 0
    last = len(text) - 1
    for match in _NOT_ASCII.finditer(text):
        start = match.start()
        char = match.group()
        if not start:
            continue
        before, after = text[start - 1], text[start + 1] if start < last else ""
        if char.isupper():
            then = text[start + 2 : start + 3]
            if before.islower() or (
                before.isalpha() and (after.islower() or (after.isupper() and then.islower()))
            ):
                capitals += 1
        elif (
            char.islower()
            and len(char.upper()) == 1
            and before.isupper()
            and after.isupper()
            and "X" not in (before, after)  # an anonymised name's mask: ``XřXXXXX``
        ):
            smalls += 1
    return capitals, smalls


def _vowelless_words(text: str) -> int:
    """Words of three letters or more with letters beyond ASCII and no vowel (``Kšln``:
    Köln in mac_roman read as cp1252): a reading that turned the word's only vowel into a
    consonant. (An initial, ``Ł.``, is no word; nor is a word masked with ``XX``, as
    anonymised exports write names, ``XčXXXčXXXX``: the mask hid its vowels.)"""
    return sum(
        1
        for word in set(_WORD.findall(text))
        if len(word) > 2
        and not word.isascii()
        and "xx" not in word.lower()
        and _LATIN_VOWELS.isdisjoint(word.lower())
    )


def _one_language_words(text: str) -> float:
    """The share of the text's words with accented letters (each word counted once) whose
    accented letters one Latin-script language writes together: a name is written in one
    language, a list may mix many (``Jiří`` read as cp1252 is ``Jiøí``: no language has ø
    and í). 1.0 when there are none; rounded, as the share below."""
    words = {word for word in _WORD.findall(text.lower()) if not word.isascii()}
    if not words:
        return 1.0
    fitting = 0
    for word in words:
        accented = {char for char in word if char > "\x7f" and _is_letter(char)}
        fitting += any(accented <= alphabet for alphabet in _ALPHABETS)
    return round(fitting / len(words), 3)


def _one_language(text: str) -> bool:
    """Whether one Latin-script language writes all the text's accented letters (or there
    are none): text of one language. The share is rounded to three places, so that a stray
    letter in two thousand (a foreign name in a long list) does not count against it."""
    letters = Counter(_NOT_ASCII.findall(text.lower()))
    for char in [char for char in letters if not _is_letter(char)]:
        del letters[char]
    total = sum(letters.values())
    if not total:
        return True
    best = max(sum(n for char, n in letters.items() if char in alphabet) for alphabet in _ALPHABETS)
    return round(best / total, 3) == 1.0


def _language_fits(sample: bytes) -> list[tuple[float, str]]:
    """How well each language's pairs of ASCII letters fit the sample's words (each word
    once, its edges counted: ``Giovedi`` is `` g``, ``gi``... ``i ``; no pair holds a byte
    beyond ASCII), as log likelihoods,
    the best last. Pairs tell a language from one whose letters alone are as frequent
    (Italian from Dutch, Polish from Croatian), in a list of a few names too. A language
    with no counts of pairs (Icelandic) is placed by its letters alone: above the best by
    as much as its letters fit better than the best one's."""
    words = set(_PAIR_WORD.findall(sample[:_CONTEXT_BYTES].decode("latin-1").lower()))
    pairs: Counter[str] = Counter()
    for word in words:
        padded = f" {word} "
        pairs.update(
            first + second
            for first, second in itertools.pairwise(padded)
            if first in _PAIR_LETTERS and second in _PAIR_LETTERS
        )
    fits = sorted(
        (-sum(n * rarity.get(pair, _UNSEEN_PAIR) for pair, n in pairs.items()) / 2, name)
        for name, rarity in PAIR_RARITY.items()
    )
    letters = Counter(char for word in words for char in word if "a" <= char <= "z")

    def letter_fit(language: str) -> float:
        shares = _ASCII_SHARES[language]
        return sum(n * math.log(shares[ord(char) - ord("a")]) for char, n in letters.items())

    best, best_language = fits[-1]
    for language in _ASCII_SHARES.keys() - PAIR_RARITY.keys():
        lead = letter_fit(language) - letter_fit(best_language)
        if lead > 0:
            fits.append((best + lead, language))
    return sorted(fits)


_PAIR_LETTERS = frozenset(" abcdefghijklmnopqrstuvwxyz")
# A word: ASCII letters and the bytes beyond ASCII, whatever they read as (``NU¥EZ`` is
# Spanish's NUÑEZ in cp850, one word, not ``NU`` and ``EZ`` with edges that are none).
_PAIR_WORD = re.compile("[A-Za-z\x80-\xff]+")
# A pair a language's profile does not count: rarer than any it does (in half units).
_UNSEEN_PAIR = 25


def _plain_language(fits: list[tuple[float, str]]) -> str | None:
    """The best-fitting language, if it fits far better than the next (``_PLAINLY``)."""
    (runner_up, _), (best, language) = fits[-2:]
    return language if best - runner_up > _PLAINLY else None


def _leaning_languages(fits: list[tuple[float, str]]) -> list[str]:
    """The languages that fit the words as well as the best one but for ``_PLAINLY``
    (the best first): those the words may be in where none is plain."""
    best = fits[-1][0]
    return [language for score, language in reversed(fits) if best - score <= _PLAINLY]


def _writes_all(language: str, reading: str) -> bool:
    """Whether ``language`` writes every accented letter of the reading's words (a
    language that writes none, English, writes those of a reading that has none)."""
    shares = _LETTER_SHARES.get(language, {})
    return all(shares.get(char, 0) for char in _accented_letters(reading))


def _leaning_reading(name: str, text: str, tied: list[tuple[str, str]], language: str) -> str:
    """Among Windows' Latin code pages, the first tied reading in one ``language`` is
    written in, whose accented letters it all writes and whose letters around them are no
    less likely, where ``language`` does not write all those of ``name``'s reading (else
    ``name``): the words' language, even where not plain, is more than the code pages'
    order; no more than the letters around."""
    shares = _LETTER_SHARES.get(language, {})
    pages = _WRITTEN_IN.get(language, frozenset()) & _WEIGHED_READINGS
    if name in pages or name not in _WEIGHED_READINGS or not shares or _writes_all(language, text):
        return name
    around = _likeliest_surroundings(text)
    return next(
        (
            other
            for other, reading in tied
            if other in pages
            and _writes_all(language, reading)
            and _likeliest_surroundings(reading) >= around
        ),
        name,
    )


# How much better the language of the words must fit them than any other, in log
# likelihood: a factor of e to the fifth.
_PLAINLY = 5.0
# How much of the sample tells the language of its words: thousands of distinct words.
_CONTEXT_BYTES = 1 << 16


def _accented_letters(text: str) -> Counter[str]:
    """The letters beyond ASCII of the text's words, each word once."""
    words = {word for word in _WORD.findall(text.lower()) if not word.isascii()}
    return Counter(char for word in words for char in word if char > "\x7f" and _is_letter(char))


def _letter_likelihood(letters: Counter[str], shares: dict[str, int]) -> float:
    """How likely these accented letters are in the language whose accented letters have
    these shares: the sum of the log share each has among them (a letter it does not write
    counts as one in a thousand, and every letter where it writes none: English), to a
    tenth; 0.0 for no letters."""
    total = sum(shares.values()) or 1
    return round(
        sum(n * math.log(max(shares.get(char, 0) / total, 0.001)) for char, n in letters.items()),
        1,
    )


def _likeliest_letters(text: str) -> float:
    """How likely the accented letters of the text's words (each word once) are in the
    language likeliest to write them: the sum of the log share each has among that
    language's accented letters (a letter it does not write counts as one in a thousand),
    rounded to a tenth; 0.0 when there are none. Turkish's İ lowers to an i and a combining
    dot: it weighs as the plain i it capitalises. A list whose only such byte is 0xFD is
    Turkish's ı, half of what Turkish writes beyond ASCII, far likelier than the ý that
    Czech writes among commoner letters and Icelandic seldom."""  # noqa: RUF002
    letters = _accented_letters(text)
    return max(_letter_likelihood(letters, shares) for shares in _LETTER_SHARES.values())


def _letter_count(text: str) -> int:
    """How many letters beyond ASCII the text holds."""
    return sum(1 for char in _NOT_ASCII.findall(text) if _is_letter(char))


# Letters to Unicode that text uses as symbols: micro, the ordinal indicators.
_SYMBOL_LETTERS = frozenset("µªº")


def _is_letter(char: str) -> bool:
    """A letter of some word: not a modifier letter (a caron ``ˇ`` alone) nor one of the
    letters used as symbols (``µ``, ``º``)."""
    return char.isalpha() and char not in _SYMBOL_LETTERS and unicodedata.category(char) != "Lm"


_NEVER_GLUED = frozenset(
    "£¤¥¦§¨¯±³¸¹¼½¾×÷˘˛˝˙ˇ¬¢‰†‡•¶"  # noqa: RUF001 - these very symbols
    "∂∑∏∫√≈∆≠∞≤≥◊"  # Mac Roman's mathematics (``Jo∆o``: João in cp850 read as Mac Roman)
    # cp1252's spacing circumflex and tilde (Mac Roman's à and ò: città, Niccolò)
    "\u02c6\u02dc"
)
# Marks that follow a name (``Acme®``, ``©2024``) but never come before a letter
# (``©tefan``: iso8859-2's Š read as cp1250), box-drawing characters touching one
# (``╚ern``: cp1250's Č read as cp850), and quotation marks inside a word, a letter on
# each side (``Õ„œ``: Arabic read as mac_roman; apostrophes are letters' neighbours).
_MARK_BEFORE_LETTER = re.compile(
    r"[©®™](?=[^\W\d_])|[\u2500-\u259f](?=[^\W\d_])|(?<=[^\W\d_])[\u2500-\u259f]"
    r"|(?<=[^\W\d_])[„“”«»‹›‚](?=[^\W\d_])"  # noqa: RUF001 - these very quotation marks
    # The low quotation marks open a quotation, never after a letter (``Libell\u201a``:
    # DOS cp850's é read as cp1252).
    r"|(?<=[^\W\d_])[„‚]"  # noqa: RUF001 - these very quotation marks
    # A dash inside a word (Peña in mac_roman read as cp1252: Pe\u2013a).
    r"|(?<=[^\W\d_])[\u2013\u2014](?=[^\W\d_])"
    # An ordinal indicator opening a word (``ºubica``: Ľubica in cp1250 read as
    # mac_roman); it follows a number, or the n of nº.
    r"|(?<![\dnN])[ºª](?=[^\W\d_])"
    # A superscript two inside a word (``Dvo²ák``: cp852's ř read as cp850); it ends a
    # unit (``m²``).
    r"|(?<=[^\W\d_])²(?=[^\W\d_])"
    # A euro sign inside a word (``CONCEI€ÇO``: cp850's ÇÃ read as cp1252); it sits beside
    # a number, or a word's end (``5€``, ``EUR€``). £ ¤ ¥ are never glued at all (above).
    r"|(?<=[^\W\d_])€(?=[^\W\d_])"
    # A middle dot touching a letter but in Catalan's l·l (``Wei·``: cp850's ß read as Mac
    # Roman; ``M·rquez``: cp1252's á read as Mac Roman).
    r"|(?<![lL])·(?=[^\W\d_])|(?<=[^\W\d_])·(?![lL])"
)
_NEVER_GLUED_CHAR = re.compile("[" + re.escape("".join(sorted(_NEVER_GLUED))) + "]")
_SINGLE_BYTE_LATIN = frozenset(
    codecs.lookup(name).name for name in (*_LATIN_READINGS, "iso8859_9", "iso8859_13")
)
# The candidates of other scripts: Cyrillic, Greek, Hebrew, Arabic, Japanese, Chinese,
# Korean (a tie goes to the detector's order, then to this one).
_OTHER_NAMES = tuple(
    name
    for name in dict.fromkeys(codecs.lookup(candidate).name for candidate in CANDIDATES)
    if name not in _SINGLE_BYTE_LATIN
)


def _isolated_high_bytes(sample: bytes) -> float:
    """The share of bytes >= 0x80 with no such byte on either side."""
    high = [index for index, byte in enumerate(sample) if byte >= 0x80]
    if not high:
        return 0.0
    positions = set(high)
    lonely = sum(1 for index in high if index - 1 not in positions and index + 1 not in positions)
    return lonely / len(high)


def _glued_symbols(text: str) -> int:
    """Symbols that real text never glues to a letter, touching one (``£ukasz``,
    ``Wro¹ski``, ``Bia³ystok``): where one reading has them, a reading with letters there is
    the right one; so is ``©`` or ``®`` before a letter (``©tefan``). Punctuation that does
    touch letters (``¿Qué``, ``Acme®``, ``m²``) is not counted, and neither is U+FFFD."""
    count = len(_MARK_BEFORE_LETTER.findall(text))
    last = len(text) - 1
    for match in _NEVER_GLUED_CHAR.finditer(text):  # a C-level search: symbols are rare
        index = match.start()
        if (index > 0 and text[index - 1].isalpha()) or (
            index < last and text[index + 1].isalpha()
        ):
            count += 1
    return count


def _decodes(sample: bytes, encoding: str) -> bool:
    try:
        sample.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


# After a first chunk of ASCII only, the bytes from the first that is not ASCII that decide
# what the rest is (or fewer, up to the file's end).
LATE_SAMPLE_BYTES = 256 << 10
_BEYOND_ASCII = re.compile(rb"[\x80-\xff]")


class IncrementalTextDecoder:
    """Bytes in, text out, across chunk boundaries; undecodable bytes become surrogates and
    are counted (``bad_bytes``), never raised.

    A file whose first chunk is ASCII only (``method`` "ascii") is not ASCII for that: its
    first other byte, wherever it comes, starts a sample (:data:`LATE_SAMPLE_BYTES` from
    there, held back until it is complete) that decides the encoding of the rest, as the
    first chunk decides it for other files; ``guess`` then says so. ASCII reads the same
    in every candidate, so the text before is what it was. The sample starts at a byte of
    the file, not of a chunk: a resumed read decides the same."""

    def __init__(self, guess: EncodingGuess) -> None:
        self.guess = guess
        self._decoder = codecs.getincrementaldecoder(guess.python_codec)("surrogateescape")
        self._skip_bom = guess.bom_bytes
        self._undecided = guess.method == "ascii"
        self._held = bytearray()
        self.bad_bytes = 0

    def decode(self, data: bytes, final: bool = False) -> str:
        """Decode the next chunk (``final`` for the last one)."""
        if self._undecided:
            return self._decode_undecided(data, final)
        return self._decode(data, final)

    def _decode_undecided(self, data: bytes, final: bool) -> str:
        text = ""
        if not self._held:
            first = _BEYOND_ASCII.search(data)
            if first is None:
                return data.decode("ascii")
            text = data[: first.start()].decode("ascii")
            data = data[first.start() :]
        self._held += data
        if len(self._held) < LATE_SAMPLE_BYTES and not final:
            return text
        held, self._held = bytes(self._held), bytearray()
        self._undecided = False
        self.guess = _late_guess(held[:LATE_SAMPLE_BYTES], final and len(held) < LATE_SAMPLE_BYTES)
        self._decoder = codecs.getincrementaldecoder(self.guess.python_codec)("surrogateescape")
        return text + self._decode(held, final)

    def _decode(self, data: bytes, final: bool) -> str:
        if self._skip_bom:
            skipped = min(self._skip_bom, len(data))
            data = data[skipped:]
            self._skip_bom -= skipped
        try:
            text = self._decoder.decode(data, final)
        except UnicodeError as error:  # an error surrogateescape cannot carry (UTF-16/32)
            raise UnreadableFile(
                f"the file is not {self.guess.encoding} text ({error.__class__.__name__}: "
                f"{str(error)[:80]}); check the file's encoding, or the job's encoding option"
            ) from None
        # A regex scan runs in C (a few ms per MB); builtin max() would walk the text
        # one Python object at a time.
        if _SURROGATE.search(text):
            self.bad_bytes += len(_SURROGATE.findall(text))
        return text


def _late_guess(sample: bytes, complete: bool) -> EncodingGuess:
    """The encoding of what follows a first chunk of ASCII, from ``sample`` (which starts
    at the first byte that is not ASCII): as for a file's first chunk, but only among the
    encodings ASCII reads the same in (UTF-8 when nothing else reads it)."""
    try:
        guess = detect_encoding(sample, complete)
    except (UnsupportedFile, UnreadableFile):
        guess = EncodingGuess("utf-8", 0, "utf-8", 0.0)
    if guess.bom_bytes or guess.python_codec.startswith(("utf-16", "utf-32")):
        guess = EncodingGuess("utf-8", 0, "utf-8", 0.0)
    return replace(guess, method=f"ascii, then {guess.method}")


def has_undecodable(text: str) -> bool:
    """Whether ``text`` holds bytes that did not decode (as surrogates)."""
    return _SURROGATE.search(text) is not None


def repair(text: str) -> str:
    """Undecodable bytes shown as their cp1252 reading (the usual culprit), else U+FFFD;
    the row is reported, so a person checks the value."""

    def readable(match: re.Match[str]) -> str:
        byte = bytes([ord(match.group()) - 0xDC00])
        try:
            return byte.decode("cp1252")
        except UnicodeDecodeError:
            return "\ufffd"

    return _SURROGATE.sub(readable, text)
