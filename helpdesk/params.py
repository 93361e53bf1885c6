"""Reading ids people send in query strings and forms.

``str.isdigit()`` accepts digits ``int()`` refuses ("²") and ``int()`` accepts ids no
database column holds; an id here is 1 to 18 ASCII digits, and anything else is no id."""

from __future__ import annotations

MAX_ID_DIGITS = 18  # below 2**63: every database's bigint holds it
MAX_ID = 10**MAX_ID_DIGITS - 1  # the largest: a form's ``IntegerField(max_value=MAX_ID)``


def parse_id(value: object) -> int | None:
    """``value`` as a positive id, or None when it is not one."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > MAX_ID_DIGITS:
        return None
    number = int(text)
    return number if number > 0 else None


def parse_ids(values: list[str]) -> list[int]:
    """The ids among ``values``, in order, each once; the rest is dropped."""
    seen: dict[int, None] = {}
    for value in values:
        number = parse_id(value)
        if number is not None:
            seen.setdefault(number, None)
    return list(seen)
