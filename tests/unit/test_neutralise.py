"""The formula guard of the exports, in Python (the server's is checked against it in
tests/integration/test_exports.py)."""

from __future__ import annotations

from worker.flows.export import neutralise

FORMULA_CASES = [
    ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
    ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
    ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
    ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
    ("=1+1", "'=1+1"),
    ("\tx", "'\tx"),
    ("\rx", "'\rx"),
    ("\t123", "'\t123"),
    ("+351 912 345 678", "+351 912 345 678"),
    ("+1 (555) 123-4567", "+1 (555) 123-4567"),
    ("-5", "-5"),
    ("-12.50", "-12.50"),
    ("2024-01-31", "2024-01-31"),
    ("a=b", "a=b"),
    ("", ""),
]


def test_neutralise_formula_cells() -> None:
    assert [neutralise(cell) for cell, _ in FORMULA_CASES] == [out for _, out in FORMULA_CASES]
