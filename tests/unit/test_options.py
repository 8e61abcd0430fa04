"""Job options: checked where they are given and where a job starts; never a traceback."""

from __future__ import annotations

import asyncio
import string
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from worker.errors import JobInvalid, PermanentError
from worker.inspect import inspect_local
from worker.options import OPTION_NAMES, check_job_options

# Every kind of JSON value a producer could send.
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False)
    | st.text(max_size=8)
    | st.sampled_from(["utf-16", "utf-32", "utf-8", "\\t", ";", ";;", "", "0", "1", "Other"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=6,
)
OPTIONS = st.dictionaries(st.sampled_from(sorted(OPTION_NAMES)), JSON, max_size=4)
FILES = {
    "utf8.csv": b"email;name\r\na@x.io;Ana\r\nb@x.io;Bo\r\n",
    "utf16.csv": "email,name\na@x.io,Ana\n".encode("utf-16"),
    "utf16-nobom.csv": "email,name\na@x.io,Ana\n".encode("utf-16-le"),
}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("options")
    paths = []
    for name, data in FILES.items():
        path = folder / name
        path.write_bytes(data)
        paths.append(path)
    return paths


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(options=OPTIONS, which=st.integers(0, len(FILES) - 1))
def test_any_option_values_read_or_fail_with_one_line(
    options: dict[str, Any], which: int, files: list[Path]
) -> None:
    try:
        asyncio.run(inspect_local(files[which], options, rows=2, read_all=True))
    except PermanentError as error:
        assert "\n" not in error.message and error.message


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"delimiter": ";;"}, "delimiter=';;': must be one character"),
        ({"header_row": "abc"}, "header_row='abc': must be a row number"),
        ({"quotechar": "ab"}, "quotechar='ab'"),
        ({"encoding": "klingon"}, "unknown encoding"),
        ({"encoding": "\x00"}, "unknown encoding"),  # a NUL made codecs raise ValueError
        ({"mapping": {"mail": "E-mail"}}, "unknown field 'mail'"),
        ({"required_fields": ["emial"]}, "unknown field(s) 'emial'"),
        ({"default_country": "Portugal"}, "two-letter country code"),
        ({"has_header": "maybe"}, "must be true or false"),
        ({"delimiter": ",", "quotechar": ","}, "both ','"),
        ({"colour": "red"}, "unknown job option(s) colour"),
    ],
)
def test_bad_values_are_named(options: dict[str, Any], message: str) -> None:
    with pytest.raises(JobInvalid) as caught:
        check_job_options(options)
    assert message in caught.value.message


def test_a_whole_name_column_may_be_mapped(tmp_path: Path) -> None:
    # A column nobody's aliases know ("Cliente") named as the whole name: split into both.
    options = check_job_options({"mapping": {"full_name": "Cliente", "email": "Correio"}})
    path = tmp_path / "clientes.csv"
    path.write_text("Cliente;Correio;Empresa\nAna Silva;ana@x.pt;Acme\nBo Ng;bo@x.pt;Beta\n")
    report = asyncio.run(inspect_local(path, options, rows=1, read_all=True))
    assert report["mapping"]["fields"]["full_name"]["header"] == "Cliente"
    assert report["file_problem"] is None


def test_values_are_normalised() -> None:
    assert check_job_options(
        {"delimiter": "\\t", "header_row": "3", "has_header": "true", "default_country": "pt"}
    ) == {"delimiter": "\t", "header_row": 3, "has_header": True, "default_country": "PT"}


@pytest.mark.parametrize("forced", ["utf-16", "UTF16", "utf-16-le"])
def test_forcing_utf16_reads_a_file_with_or_without_its_mark(
    forced: str, files: list[Path]
) -> None:
    for path in files[1:]:
        report = asyncio.run(inspect_local(path, {"encoding": forced}, rows=1, read_all=True))
        assert report["rows"][0]["cells"] == ["a@x.io", "Ana"], path.name


def test_a_unicode_encoding_the_byte_order_mark_contradicts_is_refused(files: list[Path]) -> None:
    said = r"UTF-16 LE byte-order mark.*cannot be read as utf-32"
    with pytest.raises(PermanentError, match=said):
        asyncio.run(inspect_local(files[1], {"encoding": "utf-32"}, rows=1))


def test_printable_delimiters_are_accepted() -> None:
    for char in string.punctuation + " \t":
        assert check_job_options({"delimiter": char})["delimiter"] == char


def test_a_character_written_as_inspect_shows_it_is_that_character() -> None:
    # inspect shows a control delimiter as '\x1f'; typed back, it is the unit separator.
    assert check_job_options({"delimiter": "\\x1f"})["delimiter"] == "\x1f"
    assert check_job_options({"quotechar": "\\u00b4"})["quotechar"] == "\u00b4"
    for text in ("\\x1", "\\x1g", "\\u12"):
        with pytest.raises(JobInvalid, match="must be one character"):
            check_job_options({"delimiter": text})
