"""Opening a command's input file (or stdin) with plain errors. Shared by the management
commands that read drafts or tweets; it lives here because ``charter`` may import nothing of
``helpdesk``, while ``helpdesk`` may use ``charter``."""

from __future__ import annotations

import io
import sys
from contextlib import AbstractContextManager, nullcontext
from typing import IO, Any

from django.core.management.base import CommandError


def open_input(path: str) -> AbstractContextManager[IO[bytes]]:
    """``path`` opened for reading bytes, or stdin for ``-``; a missing, unreadable or
    directory path is a CommandError that says which."""
    if path == "-":
        stdin: Any = sys.stdin
        if hasattr(stdin, "buffer"):
            return nullcontext(stdin.buffer)  # not ours to close
        return io.BytesIO(stdin.read().encode("utf-8"))  # a text-only stand-in
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise CommandError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CommandError(f"{path} is a directory, not a file") from None
    except OSError as error:
        raise CommandError(f"{path} cannot be read: {error.strerror or error}") from None
