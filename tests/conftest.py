"""Shared fixtures: a brand with a care account, the X sandbox, and service markers.

Tests marked ``postgres`` or ``redis`` need the real service; without it they are skipped,
unless ``HELPFORCE_REQUIRE_SERVICES=1`` (set by .ci/run), which turns the skip into a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.utils import translation

from tests.factories import make_account, make_brand
from tests.people import People


def _require(reason: str) -> None:
    if os.environ.get("HELPFORCE_REQUIRE_SERVICES") == "1":
        pytest.fail(f"required service missing: {reason}")
    pytest.skip(reason)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        _require("needs PostgreSQL: set DATABASE_URL=postgres://...")
    if item.get_closest_marker("redis") and not django_settings.REDIS_URL:
        _require("needs Redis: set REDIS_URL=redis://...")


@pytest.fixture(autouse=True)
def _celery_in_process(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tasks run in the calling thread, except in tests that bring a real worker on Redis."""
    from helpdesk.celery import app

    if request.node.get_closest_marker("redis"):
        yield
        return
    # Set under the name Django's settings give it (namespace CELERY): Celery 5.6 reads that
    # one first and ignores ``task_always_eager`` set beside it.
    previous = app.conf.task_always_eager
    app.conf["CELERY_TASK_ALWAYS_EAGER"] = True
    assert app.conf.task_always_eager, "tasks would go to the broker, with no worker to run them"
    yield
    app.conf["CELERY_TASK_ALWAYS_EAGER"] = previous


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """Tests create hundreds of users; the production hasher is slow on purpose."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _english_again_afterwards() -> Iterator[None]:
    """A request in French leaves French active in the thread (LocaleMiddleware does not
    undo it); the next test starts from the default language."""
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _no_rate_limits(request: pytest.FixtureRequest, settings: Any) -> None:
    """The public forms' rate limits count per address in a cache that outlives a test on
    Redis, and every test client comes from 127.0.0.1; tests marked ``ratelimit`` turn them
    on (from an address of their own)."""
    settings.RATELIMIT_ENABLE = bool(request.node.get_closest_marker("ratelimit"))


@pytest.fixture
def brand(db: None) -> Any:
    return make_brand()


@pytest.fixture
def people(brand: Any) -> People:
    """One person of every kind for ``brand``, made when first asked for (tests.people)."""
    return People(brand)


@pytest.fixture
def account(brand: Any) -> Any:
    return make_account(brand)


@pytest.fixture
def sandbox(settings: Any) -> Iterator[Any]:
    """A running X sandbox on a loopback port, with the desk's X calls pointed at it."""
    from helpdesk.x.sandbox import XSandbox

    with XSandbox(seed=1) as running:
        settings.X_API_BASE_URL = running.base_url
        settings.X_HTTP_TIMEOUT_SECONDS = 5.0
        yield running
