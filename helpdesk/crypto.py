"""Encryption of the secrets we keep at rest (linked X accounts' OAuth tokens).

Fernet (AES-128-CBC with HMAC-SHA256): a token that was changed, or encrypted under another
key, fails its check instead of decrypting to garbage.
"""

from __future__ import annotations

import base64
import binascii

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

KEY_INFO = b"helpforce-token-v1"


class TokenDecryptionError(ValueError):
    """The stored value was altered, truncated, or encrypted under another key."""


def _key() -> bytes:
    configured = settings.TOKEN_ENCRYPTION_KEY
    if configured:
        try:
            raw = base64.urlsafe_b64decode(configured.encode("ascii"))
        except (binascii.Error, UnicodeEncodeError) as error:
            raise ImproperlyConfigured(
                "HELPFORCE_TOKEN_KEY must be a Fernet key (32 url-safe base64-encoded bytes)"
            ) from error
        if len(raw) != 32:
            raise ImproperlyConfigured(
                "HELPFORCE_TOKEN_KEY must be a Fernet key (32 url-safe base64-encoded bytes)"
            )
        return configured.encode("ascii")
    # No key of its own: derive one from SECRET_KEY, bound to this purpose by ``info`` so the
    # same secret never serves two uses directly.
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=KEY_INFO).derive(
        settings.SECRET_KEY.encode("utf-8")
    )
    return base64.urlsafe_b64encode(derived)


def _fernet() -> Fernet:
    return Fernet(_key())


def encrypt_token(plaintext: str) -> str:
    """The encrypted form of ``plaintext``, as ASCII text safe to store in a text column."""
    return _fernet().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt_token(ciphertext: str) -> str:
    """The plaintext of a value made by ``encrypt_token``; ``TokenDecryptionError`` if the
    value was tampered with or made under another key."""
    try:
        return _fernet().decrypt(ciphertext.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError) as error:
        raise TokenDecryptionError(
            "the stored token cannot be decrypted: it was altered or encrypted under another key"
        ) from error
