"""X Account Activity webhook: the CRC challenge and signed deliveries."""

from __future__ import annotations

import base64
import hashlib
import hmac


def _sign(secret: str, message: bytes) -> str:
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode("ascii")


def crc_response_token(consumer_secret: str, crc_token: str) -> str:
    """The ``response_token`` X expects for a CRC challenge."""
    return _sign(consumer_secret, crc_token.encode("utf-8"))


def signature_for(consumer_secret: str, body: bytes) -> str:
    """What ``x-twitter-webhooks-signature`` must be for ``body``."""
    return _sign(consumer_secret, body)


def is_signature_valid(consumer_secret: str, body: bytes, signature: str | None) -> bool:
    """Constant-time check of a delivery's signature; no secret configured means no."""
    if not consumer_secret or not signature or not signature.isascii():
        return False  # compare_digest takes ASCII text only; a signature is base64
    return hmac.compare_digest(signature_for(consumer_secret, body), signature)
