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


def make_standing(user: Any, brand: Brand, **fields: Any) -> Any:
    """A person's standing in ``brand``'s programme (``enrolled`` unless told)."""
    from charter.models import Standing

    return Standing.objects.create(user=user, brand=brand, **fields)


def make_module(brand: Brand, *, n_questions: int = 8, **fields: Any) -> Any:
    """A training module with a bank of ``n_questions``: odd ones single choice (right answer
    index 0), even ones multiple choice (right answers 0 and 2), four choices each."""
    from charter.models import QuestionKind, QuizQuestion, TrainingModule

    n = next(_seq)
    values: dict[str, Any] = {
        "brand": brand,
        "slug": f"module-{n}",
        "title": f"Module {n}",
        "content": f"Content of module {n}.",
        "position": n,
        "pass_mark_percent": 80,
        "questions_per_attempt": 5,
        "retake_cooldown_minutes": 60,
    }
    values.update(fields)
    module = TrainingModule.objects.create(**values)
    for i in range(1, n_questions + 1):
        single = i % 2 == 1
        QuizQuestion.objects.create(
            module=module,
            prompt=f"Question {i} of module {n}",
            kind=QuestionKind.SINGLE if single else QuestionKind.MULTIPLE,
            choices=["A", "B", "C", "D"],
            correct=[0] if single else [0, 2],
            explanation=f"Explanation {i}",
        )
    return module


def make_store(brand: Brand, **fields: Any) -> Store:
    n = next(_seq)
    values: dict[str, Any] = {"brand": brand, "code": f"S{n:03d}", "name": f"Store {n}"}
    values.update(fields)
    return Store.objects.create(**values)


def publish_charter(brand: Brand, **fields: Any) -> Any:
    """The next version of ``brand``'s charter, in effect now (material unless told)."""
    from charter.acceptance import publish_version

    values: dict[str, Any] = {
        "title": "Usage charter",
        "body": "Be kind. Never share personal data.",
        "is_material": True,
        "actor": None,
    }
    values.update(fields)
    return publish_version(brand.pk, **values)


STANDING_STATES = (
    "enrolled",
    "trainee",
    "certified",
    "mentor",
    "suspended",
    "lapsed-charter",
    "expired-certification",
)


def make_member(
    brand: Brand, state: str, *, now: Any, store: Store | None = None, **fields: Any
) -> Volunteer:
    """A volunteer of ``brand`` in one of ``STANDING_STATES`` at ``now``. The brand's charter
    must be published; "lapsed-charter" accepted only a version before the newest material
    one (publish two)."""
    from datetime import timedelta

    from charter.acceptance import binding_version
    from charter.models import CharterAcceptance, CharterVersion, Level

    volunteer = make_volunteer(brand, store=store, **fields)
    trained = {
        "trained_at": now - timedelta(days=30),
        "training_expires_at": now + timedelta(days=335),
    }
    standing: dict[str, Any] = {
        "enrolled": {"level": Level.ENROLLED},
        "trainee": {"level": Level.TRAINEE, "trainee_approved": 3, "trainee_rejected": 1},
        "certified": {"level": Level.CERTIFIED},
        "mentor": {"level": Level.MENTOR},
        "suspended": {
            "level": Level.CERTIFIED,
            "is_suspended": True,
            "suspended_reason": "Shared an order number",
            "suspended_at": now - timedelta(days=1),
        },
        "lapsed-charter": {"level": Level.CERTIFIED},
        "expired-certification": {
            "level": Level.CERTIFIED,
            "trained_at": now - timedelta(days=400),
            "training_expires_at": now - timedelta(days=35),
        },
    }
    values: dict[str, Any] = {} if state == "enrolled" else dict(trained)
    values.update(standing[state])
    make_standing(volunteer.user, brand, **values)
    binding = binding_version(brand.pk, now)
    assert binding is not None, "publish the brand's charter first"
    accepted: CharterVersion | None = binding
    if state == "lapsed-charter":
        accepted = CharterVersion.objects.filter(brand=brand, number__lt=binding.number).first()
    assert accepted is not None, "publish two material versions for a lapsed charter"
    CharterAcceptance.objects.create(user=volunteer.user, version=accepted, accepted_at=now)
    return volunteer


def make_topic(brand: Brand, **fields: Any) -> Any:
    from routing.models import Topic

    n = next(_seq)
    values: dict[str, Any] = {"brand": brand, "slug": f"topic-{n}", "name": f"Topic {n}"}
    values.update(fields)
    return Topic.objects.create(**values)


def make_saved_reply(brand: Brand, **fields: Any) -> Any:
    """An active saved reply, written straight to the table (no checks, no audit)."""
    from helpdesk.models import SavedReply

    n = next(_seq)
    values: dict[str, Any] = {
        "brand": brand,
        "title": f"Saved reply {n}",
        "body": f"{{customer}} Thanks for asking, we are on it. {{signature}} ({n})",
    }
    values.update(fields)
    return SavedReply.objects.create(**values)
