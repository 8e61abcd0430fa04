"""Every query Python names exists in db/queries, has a doc line, and is used."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT
from worker.errors import ConfigError
from worker.store.queries import all_queries, parse_queries, sql

_USE = re.compile(r"""\bsql\(\s*["']([a-z0-9_]+)["']\s*\)""")


def _names_used_in_worker() -> set[str]:
    used: set[str] = set()
    for path in (ROOT / "worker").rglob("*.py"):
        used.update(_USE.findall(path.read_text(encoding="utf-8")))
    return used


def test_every_query_used_in_the_code_exists() -> None:
    used = _names_used_in_worker()
    assert used, "the scan found no sql(...) calls: the pattern is out of date"
    assert sorted(used - set(all_queries())) == []


def test_every_defined_query_is_used() -> None:
    assert sorted(set(all_queries()) - _names_used_in_worker()) == []


def test_every_query_says_what_it_does() -> None:
    for query in all_queries().values():
        assert len(query.doc) > 10, query.name


def test_an_unknown_name_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="no query named 'nope'"):
        sql("nope")


def test_parse_splits_blocks_and_keeps_docs() -> None:
    text = (
        "-- name: first\n-- Says what it does.\nSELECT 1;\n\n"
        "-- name: second\n-- Another one,\n-- on two lines.\nSELECT $1\nFROM t;\n"
    )
    first, second = parse_queries(text, "x.sql")
    assert (first.name, first.doc, first.sql) == ("first", "Says what it does.", "SELECT 1")
    assert second.doc == "Another one, on two lines."
    assert second.sql == "SELECT $1\nFROM t"


def test_a_query_without_a_doc_line_is_refused() -> None:
    with pytest.raises(ConfigError, match="has no line saying what it does"):
        parse_queries("-- name: bare\nSELECT 1;\n", "x.sql")
