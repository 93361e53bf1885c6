"""Responses streamed as they are made, under the ASGI server as under WSGI.

Django serves a ``StreamingHttpResponse`` over ASGI by iterating it asynchronously; handed
a plain (synchronous) iterator, it first reads the whole of it into a list, so a streamed
export of a million rows would sit in memory before the first byte left. Under ASGI the
chunks are therefore pulled a batch at a time in the thread the view ran in (where its
database connection and cursor live); under WSGI they are handed over as they are.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, StreamingHttpResponse

BATCH = 200


def _next_batch(chunks: Iterator[bytes], size: int) -> bytes:
    out = []
    for chunk in chunks:
        out.append(chunk)
        if len(out) == size:
            break
    return b"".join(out)


def _close(chunks: Iterator[bytes]) -> None:
    close = getattr(chunks, "close", None)
    if close is not None:
        close()


async def _pulled(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    take = sync_to_async(_next_batch, thread_sensitive=True)
    try:
        while batch := await take(chunks, BATCH):
            yield batch
    finally:
        await sync_to_async(_close, thread_sensitive=True)(chunks)


def streamed(request: HttpRequest, chunks: Iterator[bytes], **kwargs: Any) -> StreamingHttpResponse:
    """A response that sends ``chunks`` as they come, whichever server runs the desk."""
    if isinstance(request, ASGIRequest):
        return StreamingHttpResponse(_pulled(chunks), **kwargs)
    return StreamingHttpResponse(chunks, **kwargs)


def file_chunks(path: Path, size: int = 64 * 1024) -> Iterator[bytes]:
    """A temporary file's bytes in blocks. The file is opened and removed at once: its
    blocks stay readable through the open descriptor, and nothing stays on disk whether
    the response is read, abandoned halfway, or never started (a generator that never ran
    never reached its ``finally``: each such download left its file behind)."""
    descriptor = os.open(path, os.O_RDONLY)
    path.unlink(missing_ok=True)
    return FileBlocks(descriptor, size)


class FileBlocks(Iterator[bytes]):
    """An open file's blocks, the file closed at its end, by ``close()`` (a WSGI response
    calls it when done, and :func:`_pulled` under ASGI) or when dropped unread. A bare
    descriptor, not a file object: dropped with a response's reference cycle, a file object
    may be finalized first, and warns that nobody closed it."""

    def __init__(self, descriptor: int, size: int) -> None:
        self.descriptor = descriptor
        self.size = size

    def __next__(self) -> bytes:
        block = os.read(self.descriptor, self.size) if self.descriptor >= 0 else b""
        if not block:
            self.close()
            raise StopIteration
        return block

    def close(self) -> None:
        descriptor, self.descriptor = self.descriptor, -1
        if descriptor >= 0:
            os.close(descriptor)

    def __del__(self) -> None:
        self.close()
