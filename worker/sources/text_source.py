"""What the row sources of text (CSV, vCard) share: the head of the file already read and
the encoding decided on it, the rest of the stream still to come, and the file's text
handed out a slice at a time, so that memory stays flat whatever the file's size."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Self

from worker.sources.encoding import EncodingGuess, IncrementalTextDecoder, detect_encoding
from worker.sources.rows import Detection, RowSource, str_option
from worker.sources.s3 import ByteStream

# Bytes decoded and parsed at a time (the S3 stream hands out larger chunks): the text and
# records of a whole S3 chunk (1 MiB of bytes, up to 4 MiB of text) are never alive at once.
FEED_BYTES = 1 << 16


@dataclass(frozen=True)
class Head:
    """The head of the file as read for detection."""

    text: str  # decoded
    complete: bool  # the head is the whole file
    size: int  # in bytes
    encoding: EncodingGuess


class TextSource(RowSource):
    """A row source of decoded text; a subclass opens it and reads :meth:`_texts`."""

    def __init__(  # noqa: PLR0917 - the detection and the stream's state
        self,
        stream: ByteStream,
        detection: Detection,
        batch_rows: int,
        max_row_chars: int,
        head: list[bytes],
        chunks: AsyncIterator[bytes],
        head_complete: bool,
        encoding: EncodingGuess,
    ) -> None:
        super().__init__(stream, detection, batch_rows, max_row_chars)
        self._head = head
        self._chunks = chunks
        self._head_complete = head_complete
        self._encoding = encoding

    @classmethod
    async def open(
        cls,
        stream: ByteStream,
        head: list[bytes],
        chunks: AsyncIterator[bytes],
        complete: bool,
        options: dict[str, Any],
        *,
        batch_rows: int,
        max_row_chars: int,
    ) -> Self:
        """Decide the encoding on the head of the file (``complete``: the head is the whole
        file), decode it, and detect the rest from that text (:meth:`_detect`)."""
        head_bytes = b"".join(head)
        encoding = detect_encoding(head_bytes, complete, str_option(options.get("encoding")))
        text = IncrementalTextDecoder(encoding).decode(head_bytes, final=complete)
        detection = cls._detect(Head(text, complete, len(head_bytes), encoding), options)
        detection.encoding = encoding
        return cls(stream, detection, batch_rows, max_row_chars, head, chunks, complete, encoding)

    @classmethod
    def _detect(cls, head: Head, options: dict[str, Any]) -> Detection:
        """The header, columns and mapping from the head's text."""
        raise NotImplementedError

    async def _texts(self, decoder: IncrementalTextDecoder) -> AsyncIterator[str]:
        """The file's text from its start, ``FEED_BYTES`` of bytes at a time (``decoder``
        a fresh one: the one that read the head for detection has consumed it)."""
        head, self._head = self._head, []
        while head:
            chunk = head.pop(0)
            final = self._head_complete and not head
            for start in range(0, len(chunk), FEED_BYTES):
                last = final and start + FEED_BYTES >= len(chunk)
                yield decoder.decode(chunk[start : start + FEED_BYTES], last)
        if not self._head_complete:
            async for chunk in self._chunks:
                for start in range(0, len(chunk), FEED_BYTES):
                    yield decoder.decode(chunk[start : start + FEED_BYTES], False)
            tail = decoder.decode(b"", final=True)
            if tail:
                yield tail
