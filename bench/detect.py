"""Detection accuracy on a corpus of real CSV files, ours beside csv.Sniffer and CleverCSV.

    python bench/detect.py CORPUS_DIR [--verbose]

CORPUS_DIR holds ``manifest.json`` (entries with ``file``, ``encoding``, ``delimiter``,
``quotechar``, ``has_header``) and the files it names. Every tool gets the same first
64 KiB of each file for the dialect (the worker's sample size); ours decides the encoding
on the first 1 MiB, as the worker does. A manifest value of null is not scored.
An ``ascii`` file read as ``utf-8`` counts as right (the bytes decode identically).

Ends with one line:
RESULT files=N ours_encoding=F ours_delimiter=F ours_quote=F ours_header=F
sniffer_delimiter=F sniffer_header=F clevercsv_delimiter=F clevercsv_header=F
"""

from __future__ import annotations

import argparse
import codecs
import csv
import json
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from worker.sources.dialect import detect_dialect
from worker.sources.encoding import ENCODING_SAMPLE_BYTES, detect_encoding

SAMPLE_BYTES = 64 * 1024


def _codec(name: str | None) -> str | None:
    return None if name is None else codecs.lookup(name).name


def _ours(raw: bytes, complete: bool, encoding_sample: bytes) -> dict[str, Any]:
    # The worker decides the encoding on its first chunk (1 MiB), the dialect on 64 KiB.
    guess = detect_encoding(encoding_sample, len(encoding_sample) < ENCODING_SAMPLE_BYTES)
    text = raw[guess.bom_bytes :].decode(guess.python_codec, errors="replace")
    dialect = detect_dialect(text, complete).dialect
    return {
        "encoding": guess.encoding,
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
    try:
        result["has_header"] = detector.has_header(text)
    except Exception:
        result["has_header"] = None
    return result


def _same_encoding(truth: str, answer: str | None) -> bool:
    truth_codec, answer_codec = _codec(truth), _codec(answer)
    if truth_codec == answer_codec:
        return True
    return truth_codec == "ascii" and answer_codec == "utf-8"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--verbose", action="store_true", help="print every miss")
    args = parser.parse_args()
    manifest = json.loads((args.corpus / "manifest.json").read_text(encoding="utf-8"))
    entries = manifest["entries"]

    tools: dict[str, Callable[..., dict[str, Any]]] = {
        "ours": _ours,
        "sniffer": _sniffer,
        "clevercsv": _clevercsv,
    }
    hits: dict[tuple[str, str], list[bool]] = {}
    seconds = dict.fromkeys(tools, 0.0)
    for entry in entries:
        raw_full = (args.corpus / entry["file"]).read_bytes()
        raw = raw_full[:SAMPLE_BYTES]
        complete = len(raw_full) <= SAMPLE_BYTES
        truth_encoding = entry["encoding"]
        text = raw.decode(truth_encoding, errors="replace")
        for name, tool in tools.items():
            started = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    answer = (
                        tool(raw, complete, raw_full[:ENCODING_SAMPLE_BYTES])
                        if name == "ours"
                        else tool(text)
                    )
                except Exception as error:  # a tool that crashes gave no answer
                    if args.verbose:
                        print(f"error {name}: {entry['file']}: {error}")
                    answer = {}
            seconds[name] += time.perf_counter() - started
            checks = {
                "delimiter": (entry["delimiter"], answer.get("delimiter")),
                "quote": (entry["quotechar"], answer.get("quotechar")),
                "header": (entry["has_header"], answer.get("has_header")),
            }
            if name == "ours":
                checks["encoding"] = (truth_encoding, answer.get("encoding"))
            for key, (truth, given) in checks.items():
                if truth is None:
                    continue
                right = _same_encoding(truth, given) if key == "encoding" else truth == given
                hits.setdefault((name, key), []).append(right)
                if args.verbose and not right and name == "ours":
                    print(f"miss {name} {key}: {entry['file']} truth={truth!r} got={given!r}")

    def rate(name: str, key: str) -> float:
        values = hits.get((name, key), [])
        return sum(values) / len(values) if values else 0.0

    print(
        f"{'tool':<10} {'encoding':>9} {'delimiter':>10} {'quote':>7} {'header':>7} {'ms/file':>8}"
    )
    for name in tools:
        encoding = f"{rate(name, 'encoding'):.3f}" if name == "ours" else "-"
        print(
            f"{name:<10} {encoding:>9} {rate(name, 'delimiter'):>10.3f} "
            f"{rate(name, 'quote'):>7.3f} {rate(name, 'header'):>7.3f} "
            f"{1000 * seconds[name] / len(entries):>8.1f}"
        )
    scored = {
        key: len(hits.get(("ours", key), []))
        for key in ("encoding", "delimiter", "quote", "header")
    }
    print("scored files per fact:", scored)
    print(
        f"RESULT files={len(entries)} ours_encoding={rate('ours', 'encoding'):.3f} "
        f"ours_delimiter={rate('ours', 'delimiter'):.3f} ours_quote={rate('ours', 'quote'):.3f} "
        f"ours_header={rate('ours', 'header'):.3f} "
        f"sniffer_delimiter={rate('sniffer', 'delimiter'):.3f} "
        f"sniffer_header={rate('sniffer', 'header'):.3f} "
        f"clevercsv_delimiter={rate('clevercsv', 'delimiter'):.3f} "
        f"clevercsv_header={rate('clevercsv', 'header'):.3f}"
    )


if __name__ == "__main__":
    main()
