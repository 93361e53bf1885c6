"""Issue 11, finding 13: the admin never shows a care account's decrypted credentials, and
every change of a person's role, brand or store there is in the audit log."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from helpdesk.audit import events
from helpdesk.models import Brand, Role, XAccount
from tests.factories import make_account, make_store, make_volunteer

pytestmark = pytest.mark.django_db

SECRETS = ("bearer_token", "consumer_key", "consumer_secret", "access_token", "access_token_secret")


@pytest.fixture
def admin_client() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw-root-123"))
    return client


def form_data(account: XAccount, **overrides: Any) -> dict[str, Any]:
    data = {
        "brand": account.brand_id,
        "username": account.username,
        "x_user_id": account.x_user_id,
        "language": account.language,
        "is_active": "on",
        "poll_interval_seconds": account.poll_interval_seconds,
        "post_limit_per_window": account.post_limit_per_window,
        "post_window_seconds": account.post_window_seconds,
        **{name: "" for name in SECRETS},
        "queries-TOTAL_FORMS": "0",
        "queries-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return data


def test_the_change_page_shows_no_credential(admin_client: Client, brand: Brand) -> None:
    account = make_account(brand)
    page = admin_client.get(f"/admin/helpdesk/xaccount/{account.pk}/change/").content.decode()
    for name in SECRETS:
        assert getattr(account, name) not in page
    assert "Stored; leave empty to keep it." in page


def test_saving_with_empty_fields_keeps_them_and_a_new_value_replaces_one(
    admin_client: Client, brand: Brand
) -> None:
    account = make_account(brand)
    before = {name: getattr(account, name) for name in SECRETS}
    url = f"/admin/helpdesk/xaccount/{account.pk}/change/"
    response = admin_client.post(url, form_data(account, consumer_secret="rotated-secret"))
    assert response.status_code == 302, response.content.decode()[:2000]
    account.refresh_from_db()
    assert account.consumer_secret == "rotated-secret"
    assert {n: getattr(account, n) for n in SECRETS if n != "consumer_secret"} == {
        n: v for n, v in before.items() if n != "consumer_secret"
    }


def test_a_role_or_store_change_is_audited(admin_client: Client, brand: Brand) -> None:
    store_a, store_b = make_store(brand), make_store(brand)
    person = make_volunteer(brand, store=store_a)
    response = admin_client.post(
        f"/admin/helpdesk/volunteer/{person.pk}/change/",
        {
            "user": person.user_id,
            "brand": brand.pk,
            "store": store_b.pk,
            "role": Role.SUPERVISOR,
            "employee_number": person.employee_number,
            "display_name": person.display_name,
            "signature": person.signature,
            "languages": '["en"]',
            "skills": "[]",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    [event] = list(events().filter(kind="person.changed"))
    assert event.actor is not None and event.actor.username == "root"
    assert event.brand_id == brand.pk
    assert event.data == {
        "user_id": person.user_id,
        "changes": {
            "role": [Role.VOLUNTEER, Role.SUPERVISOR],
            "store_id": [store_a.pk, store_b.pk],
        },
    }
