"""Opening an uploaded file as rows: the head of the object decides the format (magic
bytes), then the CSV, the Excel or the vCard source detects the rest. Errors are permanent ones with
the reason (empty, binary, unsupported, unreadable)."""

from __future__ import annotations

from typing import Any

from worker.errors import UnreadableFile
from worker.options import check_job_options
from worker.sources.csv_source import CsvSource
from worker.sources.encoding import ENCODING_SAMPLE_BYTES
from worker.sources.formats import sniff_format
from worker.sources.rows import RowSource
from worker.sources.s3 import ByteStream
from worker.sources.vcard_source import VcardSource
from worker.sources.workbook_source import WorkbookSource


async def open_source(
    stream: ByteStream,
    options: dict[str, Any] | None = None,
    *,
    batch_rows: int = 5000,
    max_row_chars: int = 1 << 20,
) -> RowSource:
    """Read the head of the object and detect everything; the source of its rows."""
    options = check_job_options(options)
    chunks = stream.chunks()
    head: list[bytes] = []
    size = 0
    complete = False
    while size < ENCODING_SAMPLE_BYTES:
        try:
            chunk = await anext(chunks)
        except StopAsyncIteration:
            complete = True
            break
        head.append(chunk)
        size += len(chunk)
    head_bytes = b"".join(head)
    if not head_bytes:
        raise UnreadableFile("the file is empty (0 bytes)")
    kind = sniff_format(head_bytes)
    if kind == "xlsx":
        return await WorkbookSource.open(
            stream, head_bytes, chunks, options, batch_rows=batch_rows, max_row_chars=max_row_chars
        )
    opener = VcardSource.open if kind == "vcard" else CsvSource.open
    return await opener(
        stream,
        head,
        chunks,
        complete,
        options,
        batch_rows=batch_rows,
        max_row_chars=max_row_chars,
    )
