"""The named-query loader: SQL lives in ``db/queries/*.sql``, Python asks for it by name.

A file holds blocks like::

    -- name: fetch_job
    -- Fetch one job by id.
    SELECT * FROM jobs WHERE id = $1;

The line after the name says what the query does; it is required. ``db/`` is found inside
the installed package (the wheel carries it as ``worker/_db``) or, in a source checkout,
beside the package.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from worker.errors import ConfigError

_NAME_LINE = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$")


@dataclass(frozen=True)
class Query:
    """One named SQL block."""

    name: str
    doc: str
    sql: str
    source: str


def db_dir() -> Path:
    """The folder holding ``migrations/`` and ``queries/``."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "_db", package.parent / "db"):
        if (candidate / "migrations").is_dir():
            return candidate
    raise ConfigError(f"the db/ folder (migrations and queries) was not found near {package}")


def parse_queries(text: str, source: str) -> list[Query]:
    """Split ``text`` into its named blocks; raise ConfigError on a block with no doc line."""
    found: list[Query] = []
    name: str | None = None
    lines: list[str] = []

    def close() -> None:
        if name is None:
            return
        doc_lines = []
        body = list(lines)
        while body and (body[0].startswith("--") or not body[0].strip()):
            line = body.pop(0)
            if line.startswith("--"):
                doc_lines.append(line.lstrip("-").strip())
        sql = "\n".join(body).strip().rstrip(";").strip()
        doc = " ".join(doc_lines).strip()
        if not doc:
            raise ConfigError(f"{source}: query {name!r} has no line saying what it does")
        if not sql:
            raise ConfigError(f"{source}: query {name!r} is empty")
        found.append(Query(name=name, doc=doc, sql=sql, source=source))

    for line in text.splitlines():
        match = _NAME_LINE.match(line.strip())
        if match:
            close()
            name, lines = match.group(1), []
        elif name is not None:
            lines.append(line)
    close()
    return found


def load_queries(directory: Path) -> dict[str, Query]:
    """Every named query under ``directory``; a name defined twice is an error."""
    queries: dict[str, Query] = {}
    for path in sorted(directory.glob("*.sql")):
        for query in parse_queries(path.read_text(encoding="utf-8"), path.name):
            if query.name in queries:
                raise ConfigError(
                    f"query {query.name!r} is defined in both "
                    f"{queries[query.name].source} and {query.source}"
                )
            queries[query.name] = query
    return queries


@cache
def all_queries() -> dict[str, Query]:
    """The project's queries, loaded once."""
    return load_queries(db_dir() / "queries")


def sql(name: str) -> str:
    """The SQL text of the query called ``name``."""
    try:
        return all_queries()[name].sql
    except KeyError:
        raise ConfigError(f"no query named {name!r} in db/queries") from None
