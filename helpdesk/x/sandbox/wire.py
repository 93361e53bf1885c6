"""Requests and replies as the sandbox's handlers see them, independent of http.server."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from .errors import ApiError, invalid_request

JSON = dict[str, Any]


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    client_host: str

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    def json(self) -> JSON:
        """The body as a JSON object, or the 400 X answers for anything else."""
        try:
            value = json.loads(self.body.decode("utf-8") or "null")
        except (UnicodeDecodeError, ValueError) as error:
            raise invalid_request(f"The request body is not valid JSON: {error}") from error
        if not isinstance(value, dict):
            raise invalid_request("The request body must be a JSON object")
        return value

    def form(self) -> dict[str, str]:
        try:
            pairs = parse_qs(self.body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError as error:
            raise invalid_request("The request body is not valid UTF-8") from error
        return {name: values[-1] for name, values in pairs.items()}

    def form_pairs(self) -> list[tuple[str, str]]:
        if "application/x-www-form-urlencoded" not in self.header("content-type"):
            return []
        try:
            text = self.body.decode("utf-8")
        except UnicodeDecodeError:
            return []
        return [(k, v) for k, vs in parse_qs(text, keep_blank_values=True).items() for v in vs]


@dataclass
class Reply:
    status: int
    body: JSON | list[Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # Seconds to wait, after the work is done, before answering (timeout_after_accept).
    delay: float = 0.0
    # A page for people (``pages``) instead of JSON.
    html: str | None = None

    @classmethod
    def from_error(cls, error: ApiError) -> Reply:
        return cls(error.status, error.body, dict(error.headers))


def text_field(body: JSON, name: str, *, required: bool = True) -> str | None:
    """A string (or id-like number) field of a JSON body."""
    value = body.get(name)
    if value is None:
        if required:
            raise invalid_request(f"The `{name}` field is required", name, "")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise invalid_request(f"The `{name}` field must be a string", name, str(value))
    return str(value)
