"""Reading PostgreSQL plans (EXPLAIN ... FORMAT JSON) for the work they did, and for per-row
probes over per-row sets: the shape of a quadratic plan."""

from __future__ import annotations

from typing import Any


def plan_work(node: dict[str, Any]) -> int:
    """The rows a plan node and its children produced or threw away, over all loops."""
    loops = max(int(node.get("Actual Loops", 1)), 1)
    rows = float(node.get("Actual Rows", 0))
    removed = sum(float(node.get(key, 0)) for key in node if key.startswith("Rows Removed by"))
    work = int((rows + removed) * loops) if loops > 1 else int(rows + removed)
    return work + sum(plan_work(child) for child in node.get("Plans", []))


def nested_probes(node: dict[str, Any]) -> list[str]:
    """Nested loops whose inner side ran more than 1000 times and each time returned or
    threw away more than one row on average (per-row probes over a per-row set)."""
    found: list[str] = []
    children = node.get("Plans", [])
    if node.get("Node Type") == "Nested Loop" and len(children) == 2:
        inner = children[1]
        loops = int(inner.get("Actual Loops", 1))
        touched = float(inner.get("Actual Rows", 0)) + sum(
            float(inner.get(key, 0)) for key in inner if key.startswith("Rows Removed by")
        )
        if loops > 1000 and touched > 1.5:
            found.append(f"{inner.get('Node Type')} x{loops} ({touched:.1f} rows a loop)")
    for child in children:
        found.extend(nested_probes(child))
    return found
