"""Small factories for the desk's records."""

from __future__ import annotations

import itertools
from typing import Any

from django.contrib.auth import get_user_model

from helpdesk.models import Brand, Role, Store, Volunteer, XAccount

_seq = itertools.count(1)


def make_brand(**fields: Any) -> Brand:
    n = next(_seq)
    values: dict[str, Any] = {"name": f"Brand {n}", "slug": f"brand-{n}"}
    values.update(fields)
    return Brand.objects.create(**values)


def make_account(brand: Brand, **fields: Any) -> XAccount:
    n = next(_seq)
    values: dict[str, Any] = {
        "brand": brand,
        "username": f"CareDesk{n}",
        "x_user_id": str(9_000_000_000 + n),
        "bearer_token": f"bearer-{n}",
        "consumer_key": f"ck-{n}",
        "consumer_secret": f"cs-{n}",
        "access_token": f"{9_000_000_000 + n}-at",
        "access_token_secret": f"ats-{n}",
        "poll_interval_seconds": 15,
    }
    values.update(fields)
    return XAccount.objects.create(**values)


def sandbox_account_for(account: XAccount) -> Any:
    """The sandbox's twin of a desk account, with the same credentials."""
    from helpdesk.management.commands.xsandbox import sandbox_account_from

    return sandbox_account_from(account)


def make_volunteer(
    brand: Brand, *, role: str = Role.VOLUNTEER, store: Store | None = None, **fields: Any
) -> Volunteer:
    n = next(_seq)
    user = get_user_model().objects.create_user(
        username=fields.pop("username", f"user{n}"), password="correct horse battery"
    )
    return Volunteer.objects.create(user=user, brand=brand, role=role, store=store, **fields)
