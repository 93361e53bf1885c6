"""Issue 11, finding 12: one rule for where a supervisor of a store acts (the brand's
``supervision_scope``), the same for review, moderation and the people pages."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from helpdesk.models import Brand, Reply, Role
from helpdesk.states import QuestionState, ReplyState
from tests.factories import make_account, make_standing, make_store, make_volunteer
from tests.reports.factories import make_question

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_stores(brand: Brand) -> dict[str, Any]:
    """A supervisor of store A; a reply in review and a sent reply from store B's volunteer."""
    store_a, store_b = make_store(brand, code="A"), make_store(brand, code="B")
    account = make_account(brand)
    supervisor = make_volunteer(brand, role=Role.SUPERVISOR, store=store_a)
    bruno = make_volunteer(brand, store=store_b, display_name="Bruno")
    make_standing(bruno.user, brand, level="certified")
    from django.utils import timezone

    now = timezone.now()
    asked = make_question(brand, received_at=now, state=QuestionState.IN_REVIEW)
    pending = Reply.objects.create(
        question=asked,
        author=bruno.user,
        account=account,
        store=store_b,
        text="Pending ^BR",
        state=ReplyState.PENDING_REVIEW,
        submitted_at=now,
    )
    client = Client()
    client.force_login(supervisor.user)
    return {"brand": brand, "client": client, "pending": pending, "bruno": bruno}


def scope(brand: Brand, value: str) -> None:
    brand.supervision_scope = value
    brand.save(update_fields=["supervision_scope"])


def test_by_store_another_stores_reply_is_neither_listed_nor_approvable(
    two_stores: dict[str, Any],
) -> None:
    scope(two_stores["brand"], "store")
    client, pending = two_stores["client"], two_stores["pending"]
    assert f'id="reply-{pending.pk}"' not in client.get("/desk/review/").content.decode()
    assert client.post(f"/desk/review/{pending.pk}/approve/").status_code == 404
    assert client.post(f"/desk/review/{pending.pk}/reject/", {"feedback": "no"}).status_code == 404
    assert Reply.objects.get(pk=pending.pk).state == ReplyState.PENDING_REVIEW
    # and the people pages say the same: Bruno is not theirs to suspend
    bruno = two_stores["bruno"]
    response = client.post(f"/supervision/people/{bruno.pk}/suspend/", {"reason": "x"})
    assert response.status_code == 404


def test_by_brand_the_same_supervisor_reviews_and_manages_every_store(
    two_stores: dict[str, Any],
) -> None:
    scope(two_stores["brand"], "brand")
    client, pending = two_stores["client"], two_stores["pending"]
    assert f'id="reply-{pending.pk}"' in client.get("/desk/review/").content.decode()
    response = client.post(f"/desk/review/{pending.pk}/reject/", {"feedback": "Say sorry"})
    assert response.status_code == 302
    assert Reply.objects.get(pk=pending.pk).state == ReplyState.REJECTED
    bruno = two_stores["bruno"]
    response = client.post(f"/supervision/people/{bruno.pk}/suspend/", {"reason": "Rude"})
    assert response.status_code == 302
    from charter.models import Standing

    assert Standing.objects.get(user=bruno.user).suspended_at is not None
