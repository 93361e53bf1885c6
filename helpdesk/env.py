"""Small, strict readers of environment variables.

Settings come only from the environment; a value that is present but malformed raises
``ImproperlyConfigured`` at start-up instead of being silently replaced by a default.
"""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def env_str(name: str, default: str = "", environ: Mapping[str, str] | None = None) -> str:
    environ = os.environ if environ is None else environ
    return environ.get(name, default).strip()


def env_bool(name: str, default: bool, environ: Mapping[str, str] | None = None) -> bool:
    raw = env_str(name, environ=environ).lower()
    if raw == "":
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of {sorted(_TRUE | _FALSE)}, not {raw!r}")


def env_choice(
    name: str, choices: tuple[str, ...], default: str, environ: Mapping[str, str] | None = None
) -> str:
    """One of ``choices`` (case-insensitive), ``default`` when unset."""
    raw = env_str(name, environ=environ).lower()
    if raw == "":
        return default
    if raw not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {list(choices)}, not {raw!r}")
    return raw


def env_int(
    name: str,
    default: int,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    raw = env_str(name, environ=environ)
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}")
    if maximum is not None and value > maximum:
        raise ImproperlyConfigured(f"{name} must be at most {maximum}, not {value}")
    return value


def env_float(
    name: str, default: float, *, minimum: float = 0.0, environ: Mapping[str, str] | None = None
) -> float:
    raw = env_str(name, environ=environ)
    if raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}")
    return value


def env_list(name: str, default: list[str], environ: Mapping[str, str] | None = None) -> list[str]:
    raw = env_str(name, environ=environ)
    if raw == "":
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_networks(name: str, environ: Mapping[str, str] | None = None) -> list[Network]:
    """Comma-separated addresses or CIDR networks (``127.0.0.1, 10.0.0.0/24``); none when
    unset."""
    networks: list[Network] = []
    for value in env_list(name, [], environ=environ):
        try:
            networks.append(ipaddress.ip_network(value, strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"{name} must list addresses or networks (e.g. 127.0.0.1, 10.0.0.0/24), "
                f"comma-separated; {value!r} is neither"
            ) from None
    return networks


def env_url(
    name: str, schemes: set[str], default: str = "", environ: Mapping[str, str] | None = None
) -> str:
    """A URL with one of ``schemes`` and a host, or '' when unset."""
    raw = env_str(name, default, environ=environ)
    if raw == "":
        return ""
    parts = urlsplit(raw)
    if parts.scheme not in schemes or not (parts.hostname or parts.path):
        raise ImproperlyConfigured(
            f"{name} must be a URL with scheme {' or '.join(sorted(schemes))}, not {raw!r}"
        )
    return raw


# X's pay-per-use prices in dollars (2026), per post read or written; keys are
# ``helpdesk.models.PriceCategory`` values (settings may not import models).
X_DEFAULT_PRICES = {
    "owned_read": Decimal("0.001"),
    "post_read": Decimal("0.005"),
    "post_create": Decimal("0.015"),
    "post_create_url": Decimal("0.20"),
    "post_delete": Decimal("0.010"),
}


def env_prices(
    name: str,
    defaults: Mapping[str, Decimal] = X_DEFAULT_PRICES,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Decimal]:
    """A price table: a JSON object of category → dollars (a number or a numeric string,
    at least 0, at most six decimals: the desk counts micro-dollars) that overrides some
    of ``defaults``; unknown categories are refused."""
    raw = env_str(name, environ=environ)
    prices = dict(defaults)
    if raw == "":
        return prices
    try:
        given = json.loads(raw, parse_float=Decimal, parse_int=Decimal)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a JSON object, not {raw!r}") from None
    if not isinstance(given, dict):
        raise ImproperlyConfigured(f"{name} must be a JSON object of category: dollars")
    for category, value in given.items():
        if category not in defaults:
            raise ImproperlyConfigured(
                f"{name}: unknown category {category!r}; known: {', '.join(sorted(defaults))}"
            )
        try:
            price = Decimal(value) if isinstance(value, Decimal | str) else None
        except InvalidOperation:
            price = None
        if price is None or not price.is_finite() or price < 0:
            raise ImproperlyConfigured(
                f"{name}: the price of {category} must be a number of dollars >= 0, not {value!r}"
            )
        if (price * 1_000_000) % 1 != 0:
            raise ImproperlyConfigured(
                f"{name}: the price of {category} has more than six decimals: {value!r}"
            )
        prices[category] = price
    return prices
