"""Filters for the desk's log (settings.LOGGING)."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied


class PermissionDeniedOneLine(logging.Filter):
    """A refused page is one line, not a traceback.

    Django logs every ``PermissionDenied`` with its traceback (``exc_info``); on the desk a
    403 is ordinary (a role opening another role's page, a stale link), and the tracebacks
    buried the errors that matter. The line keeps the path and the status."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], PermissionDenied):
            record.exc_info = None
            record.exc_text = None
        return True
