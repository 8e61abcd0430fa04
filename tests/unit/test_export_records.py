"""Cutting the server's tagged CSV stream into whole records, whatever its chunks."""

from __future__ import annotations

import csv
import io
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from worker.flows.export import TaggedRecords, split_records

# Cells that stress the cut: quotes, doubled quotes, commas, line ends inside fields.
_CELL = st.text(alphabet='ab,"\n é', max_size=8)
_ROW = st.tuples(st.sampled_from("vio"), st.lists(_CELL, min_size=1, max_size=4))


def _csv(rows: list[tuple[str, list[str]]]) -> bytes:
    """Rows as COPY's CSV writes them: minimal quoting, LF after every record."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    for tag, cells in rows:
        writer.writerow([tag, *cells])
    return text.getvalue().encode()


def _record(tag: str, cells: list[str]) -> bytes:
    return _csv([(tag, cells)])[:-1]


@settings(max_examples=300, deadline=None)
@given(rows=st.lists(_ROW, max_size=30), cuts=st.lists(st.integers(0, 400), max_size=12))
def test_records_come_out_whole_wherever_the_chunks_end(
    rows: list[tuple[str, list[str]]], cuts: list[int]
) -> None:
    data = _csv(rows)
    bounds = sorted({0, len(data), *(cut for cut in cuts if cut < len(data))})
    records = TaggedRecords()
    found: list[bytes] = []
    for start, end in pairwise(bounds):
        found += records.feed(data[start:end])
    records.close()
    assert found == [_record(tag, cells) for tag, cells in rows]
    # The records parse back to the rows they were.
    parsed = list(csv.reader(io.StringIO(b"\n".join(found).decode(), newline="")))
    assert [(line[0], line[1:]) for line in parsed] == rows


def test_each_file_gets_its_rows_without_the_tag() -> None:
    rows = [("v", ["a"]), ("i", ['x,"y"']), ("o", ["line\nbreak"]), ("v", ["b"])]
    records = TaggedRecords().feed(_csv(rows))
    files = split_records(records)
    assert files["all"] == [_record(tag, cells)[2:] for tag, cells in rows]
    assert files["valid"] == [b"a", b"b"]
    assert files["issues"] == [b'"x,""y"""']


def test_a_stream_that_ends_inside_a_record_is_an_error() -> None:
    records = TaggedRecords()
    assert records.feed(b'v,"open\nstill open') == []
    with pytest.raises(ValueError, match="inside a record"):
        records.close()
