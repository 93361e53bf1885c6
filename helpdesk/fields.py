"""Model fields of our own."""

from __future__ import annotations

from typing import Any

from django.db import models

from helpdesk.crypto import decrypt_token, encrypt_token


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    """A secret kept encrypted at rest with :mod:`helpdesk.crypto` (Fernet); code reads and
    writes plain text. The empty string stays empty (no secret set). Fernet is randomised,
    so the column cannot be used in lookups. A value that was altered, or encrypted under
    another key, raises ``TokenDecryptionError`` when the row is loaded."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if not value:
            return value
        return decrypt_token(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if not value:
            return value
        return encrypt_token(str(value))
