"""Reading a plan for per-row probes, on a plan written by hand."""

from __future__ import annotations

from tests.plans import nested_probes, plan_work


def test_nested_probe_detection_reads_a_quadratic_plan() -> None:
    """The plan check itself: a nested loop re-reading 5000 rows for each of 100k outer rows
    is flagged; one unique index probe a row is not."""
    quadratic = {
        "Node Type": "Nested Loop",
        "Actual Rows": 5000,
        "Actual Loops": 1,
        "Plans": [
            {"Node Type": "Seq Scan", "Actual Rows": 100_000, "Actual Loops": 1},
            {
                "Node Type": "Materialize",
                "Actual Rows": 0,
                "Actual Loops": 100_000,
                "Rows Removed by Filter": 5000,
            },
        ],
    }
    probe = {
        "Node Type": "Nested Loop",
        "Actual Rows": 100_000,
        "Actual Loops": 1,
        "Plans": [
            {"Node Type": "Seq Scan", "Actual Rows": 100_000, "Actual Loops": 1},
            {"Node Type": "Index Scan", "Actual Rows": 1, "Actual Loops": 100_000},
        ],
    }
    assert nested_probes(quadratic) and plan_work(quadratic) > 100_000 * 5000
    assert not nested_probes(probe) and plan_work(probe) == 300_000
