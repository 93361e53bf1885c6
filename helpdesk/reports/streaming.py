"""Responses streamed as they are made, under the ASGI server as under WSGI.

Django serves a ``StreamingHttpResponse`` over ASGI by iterating it asynchronously; handed
a plain (synchronous) iterator, it first reads the whole of it into a list, so a streamed
export of a million rows would sit in memory before the first byte left. Under ASGI the
chunks are therefore pulled a batch at a time in the thread the view ran in (where its
database connection and cursor live); under WSGI they are handed over as they are.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
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


def file_chunks(path: Any, size: int = 64 * 1024) -> Iterator[bytes]:
    """A file's bytes in blocks, the file removed once read (or abandoned)."""
    try:
        with open(path, "rb") as handle:
            while block := handle.read(size):
                yield block
    finally:
        path.unlink(missing_ok=True)
