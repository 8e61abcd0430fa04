"""Detection accuracy on a corpus of CSV files: ours beside csv.Sniffer, CleverCSV, DuckDB.

    python bench/detect.py CORPUS_DIR [--verbose]
    python bench/detect.py --generated [--verbose]
    python bench/detect.py --random N [--seed S] [--verbose]
    python bench/detect.py --languages N [--seed S] [--verbose]

CORPUS_DIR holds ``manifest.json`` (entries with ``file``, ``encoding``, ``delimiter``,
``quotechar``, ``has_header``, ``n_rows``, ``skip_rows``) and the files it names;
``--generated`` scores the exports that ``tests/exports.py`` writes instead, ``--random``
N random tables it writes (any typed columns, any delimiter, quote, quoting and line end),
``--languages`` N contact lists for each language and legacy encoding it knows (Czech in
cp1250, Turkish in cp1254, German in mac_roman or cp850, Russian in koi8_r, Hebrew in
cp1255, Thai in cp874, Japanese in Shift JIS...: names in the language, in some rows or
all; and lists that mix the names of a region: Western European in cp1252, mac_roman or
cp850, Central European in cp1250 or iso8859-2).
A manifest value of null is not scored.

- **dialect**: every tool gets the same first 64 KiB of each file, decoded with the true
  encoding (ours decides the encoding itself on the first 1 MiB, as the worker does).
  ``delimiter`` is the delimiter; ``quote`` the quote character where the file quotes;
  ``dialect`` both at once.
- **header**: whether the first row (after any preamble) names the columns.
- **rows_exact**: the number of data rows read from the whole file equals the truth. Ours
  reads it through the worker's own row source; the others parse it with their dialect,
  header and (DuckDB) skipped rows, leaving blank lines out.
- **encoding** (ours): the whole file decodes to the same text as with the true encoding
  (so ``utf-16`` and ``utf-16-le`` of a BOM file are the same answer).

Ends with one line:
RESULT files=N ours_encoding=F ours_dialect=F ours_delimiter=F ours_quote=F ours_header=F
ours_rows_exact=F sniffer_dialect=F ... clevercsv_... duckdb_... ours_ms=F clevercsv_ms=F
"""

from __future__ import annotations

import argparse
import asyncio
import codecs
import csv
import io
import json
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.exports

from worker.sources.dialect import detect_dialect
from worker.sources.encoding import (
    ENCODING_SAMPLE_BYTES,
    IncrementalTextDecoder,
    detect_encoding,
)
from worker.sources.s3 import LocalFileStream
from worker.sources.source import open_source

SAMPLE_BYTES = 64 * 1024
KEYS = ("dialect", "delimiter", "quote", "header", "rows_exact")


def _ours(raw: bytes, complete: bool, encoding_sample: bytes, path: Path) -> dict[str, Any]:
    # The worker decides the encoding on its first chunk (1 MiB), the dialect on 64 KiB.
    guess = detect_encoding(encoding_sample, len(encoding_sample) < ENCODING_SAMPLE_BYTES)
    text = raw[guess.bom_bytes :].decode(guess.python_codec, errors="replace")
    # The whole file through the worker's decoder: a file ASCII in its first MiB has its
    # encoding decided where it stops being ASCII (the ASCII before reads the same).
    decoder = IncrementalTextDecoder(guess)
    whole = path.read_bytes()
    for start in range(0, len(whole), 1 << 16):
        decoder.decode(whole[start : start + (1 << 16)], start + (1 << 16) >= len(whole))
    dialect = detect_dialect(text, complete).dialect
    return {
        "encoding": decoder.guess.python_codec,
        "bom_bytes": guess.bom_bytes,
        "delimiter": dialect.delimiter,
        "quotechar": dialect.quotechar,
        "has_header": dialect.has_header,
    }


def _sniffer(text: str) -> dict[str, Any]:
    sniffer = csv.Sniffer()
    result: dict[str, Any] = {}
    try:
        dialect = sniffer.sniff(text)
        result["delimiter"] = dialect.delimiter
        result["quotechar"] = dialect.quotechar
    except csv.Error:
        result["delimiter"] = None
    try:
        result["has_header"] = sniffer.has_header(text)
    except csv.Error:
        result["has_header"] = None
    return result


def _clevercsv(text: str) -> dict[str, Any]:
    import clevercsv

    detector = clevercsv.Detector()
    result: dict[str, Any] = {}
    dialect = detector.detect(text)
    result["delimiter"] = dialect.delimiter if dialect else None
    result["quotechar"] = (dialect.quotechar or None) if dialect else None
    result["escapechar"] = (dialect.escapechar or None) if dialect else None
    try:
        result["has_header"] = detector.has_header(text)
    except Exception:
        result["has_header"] = None
    return result


def _duckdb(text: str) -> dict[str, Any]:
    import duckdb

    with tempfile.NamedTemporaryFile("w", suffix=".csv", encoding="utf-8") as sample:
        sample.write(text)
        sample.flush()
        found = duckdb.sql(
            f"SELECT Delimiter, Quote, Escape, HasHeader, SkipRows "
            f"FROM sniff_csv('{sample.name}', sample_size = -1)"
        ).fetchall()
    if not found:
        return {}
    delimiter, quote, escape, has_header, skip_rows = found[0]

    def char(value: str | None) -> str | None:  # DuckDB says "(empty)" for none
        return value if value and len(value) == 1 and value != "\x00" else None

    return {
        "delimiter": delimiter,
        "quotechar": char(quote),
        "escapechar": char(escape) if escape != quote else None,
        "has_header": bool(has_header),
        "skip_rows": int(skip_rows or 0),
    }


async def _worker_rows(path: Path) -> int:
    source = await open_source(LocalFileStream(path), {})
    count = 0
    try:
        async for batch in source.batches():
            count += len(batch)
    finally:
        source.close()
    return count


def _parsed_rows(text: str, answer: dict[str, Any]) -> int | None:
    """Data rows of the whole text under another tool's answer."""
    delimiter = answer.get("delimiter")
    if not delimiter or len(delimiter) != 1:
        return None
    quote = answer.get("quotechar")
    kwargs: dict[str, Any] = {"delimiter": delimiter, "strict": False}
    if quote and len(quote) == 1:
        kwargs["quotechar"] = quote
    else:
        kwargs["quoting"] = csv.QUOTE_NONE
    escape = answer.get("escapechar")
    if escape and len(escape) == 1:
        kwargs["escapechar"] = escape
    try:
        rows = [row for row in csv.reader(io.StringIO(text, newline=""), **kwargs) if any(row)]
    except csv.Error:
        return None
    rows = rows[int(answer.get("skip_rows") or 0) :]
    return len(rows) - (1 if answer.get("has_header") and rows else 0)


def _decoded(raw: bytes, encoding: str, bom_bytes: int | None = None) -> str:
    if bom_bytes is None and raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]  # the truth: a UTF-8 mark is no text, over any body
        return raw.decode(encoding, errors="replace")
    text = raw[bom_bytes or 0 :].decode(encoding, errors="replace")
    return text.removeprefix("\ufeff") if bom_bytes is None else text


def _generated_corpus(
    directory: Path, random_count: int = 0, seed: int = 1, languages: int = 0
) -> Path:
    from tests.exports import corpus, legacy_contact_lists, random_tables

    if languages:
        exports = legacy_contact_lists(languages, seed)
    else:
        exports = random_tables(random_count, seed) if random_count else corpus()
    entries = []
    for export in exports:
        (directory / export.name).write_bytes(export.data)
        entries.append(
            {
                "file": export.name,
                "encoding": export.encoding,
                "delimiter": export.delimiter,
                "quotechar": export.quotechar,
                "has_header": export.has_header,
                "n_rows": len(export.rows),
                "skip_rows": export.header_row - 1,
            }
        )
    (directory / "manifest.json").write_text(json.dumps({"entries": entries}), encoding="utf-8")
    return directory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path, nargs="?")
    parser.add_argument("--generated", action="store_true", help="score tests/exports.py")
    parser.add_argument("--random", type=int, default=0, help="score N random tables")
    parser.add_argument(
        "--languages", type=int, default=0, help="score N lists per language and encoding"
    )
    parser.add_argument("--seed", type=int, default=1, help="of the random tables")
    parser.add_argument("--verbose", action="store_true", help="print every miss of ours")
    args = parser.parse_args()
    temp = tempfile.TemporaryDirectory(prefix="detect-")
    if args.generated or args.random or args.languages:
        corpus_dir = _generated_corpus(Path(temp.name), args.random, args.seed, args.languages)
    elif args.corpus is not None:
        corpus_dir = args.corpus
    else:
        parser.error("give a corpus directory, --generated, --random N or --languages N")
    entries = json.loads((corpus_dir / "manifest.json").read_text(encoding="utf-8"))["entries"]

    tools: dict[str, Callable[..., dict[str, Any]]] = {
        "ours": _ours,
        "sniffer": _sniffer,
        "clevercsv": _clevercsv,
        "duckdb": _duckdb,
    }
    hits: dict[tuple[str, str], list[bool]] = {}
    times: dict[str, list[float]] = {name: [] for name in tools}
    for entry in entries:
        path = corpus_dir / entry["file"]
        raw_full = path.read_bytes()
        raw = raw_full[:SAMPLE_BYTES]
        complete = len(raw_full) <= SAMPLE_BYTES
        truth_encoding = entry["encoding"]
        text = _decoded(raw, truth_encoding)
        full_text = _decoded(raw_full, truth_encoding)
        for name, tool in tools.items():
            started = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    answer = (
                        tool(raw, complete, raw_full[:ENCODING_SAMPLE_BYTES], path)
                        if name == "ours"
                        else tool(text)
                    )
                except Exception as error:
                    if args.verbose:
                        print(f"error {name}: {entry['file']}: {type(error).__name__}: {error}")
                    answer = {}
            times[name].append(time.perf_counter() - started)
            delimiter_right = entry["delimiter"] == answer.get("delimiter")
            quote_right = entry["quotechar"] is None or entry["quotechar"] == answer.get(
                "quotechar"
            )
            checks: dict[str, tuple[object, object, bool]] = {}
            if entry["delimiter"] is not None:
                checks["delimiter"] = (entry["delimiter"], answer.get("delimiter"), delimiter_right)
                checks["dialect"] = (
                    (entry["delimiter"], entry["quotechar"]),
                    (answer.get("delimiter"), answer.get("quotechar")),
                    delimiter_right and quote_right,
                )
            if entry["quotechar"] is not None:
                checks["quote"] = (entry["quotechar"], answer.get("quotechar"), quote_right)
            if entry["has_header"] is not None:
                given = answer.get("has_header")
                checks["header"] = (entry["has_header"], given, entry["has_header"] == given)
            if entry.get("n_rows") is not None:
                if name == "ours":
                    try:
                        rows: int | None = asyncio.run(_worker_rows(path))
                    except Exception:
                        rows = None
                else:
                    rows = _parsed_rows(full_text, answer)
                checks["rows_exact"] = (entry["n_rows"], rows, rows == entry["n_rows"])
            if name == "ours":
                # A file ours refused (no answer) is an encoding miss, not a crash.
                same = bool(answer) and (
                    _decoded(raw_full, answer["encoding"], answer["bom_bytes"]) == full_text
                )
                checks["encoding"] = (truth_encoding, answer.get("encoding"), same)
            for key, (truth, given, right) in checks.items():
                hits.setdefault((name, key), []).append(right)
                if args.verbose and not right and name == "ours":
                    print(f"miss {name} {key}: {entry['file']} truth={truth!r} got={given!r}")

    def rate(name: str, key: str) -> float:
        values = hits.get((name, key), [])
        return sum(values) / len(values) if values else 0.0

    def median_ms(name: str) -> float:
        return 1000 * statistics.median(times[name]) if times[name] else 0.0

    print(f"{'tool':<10} {'encoding':>9}" + "".join(f" {k:>10}" for k in KEYS) + "  median ms")
    for name in tools:
        encoding = f"{rate(name, 'encoding'):.3f}" if name == "ours" else "-"
        print(
            f"{name:<10} {encoding:>9}"
            + "".join(f" {rate(name, key):>10.3f}" for key in KEYS)
            + f"  {median_ms(name):9.1f}"
        )
    scored = {key: len(hits.get(("ours", key), [])) for key in ("encoding", *KEYS)}
    print("scored files per fact:", scored)
    figures = [f"files={len(entries)}", f"ours_encoding={rate('ours', 'encoding'):.3f}"]
    figures += [f"{name}_{key}={rate(name, key):.3f}" for name in tools for key in KEYS]
    figures += [f"ours_ms={median_ms('ours'):.1f}", f"clevercsv_ms={median_ms('clevercsv'):.1f}"]
    print("RESULT " + " ".join(figures))
    temp.cleanup()


if __name__ == "__main__":
    main()
