"""The inbox (issue 14): the queue on the left, the picked question on the right, and the
question's actions done in place. The same server checks as the question's and the
composer's own pages (DESIGN invariant 8); tweet text escaped (invariant 6)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from helpdesk.models import Customer, Reply
from helpdesk.states import QuestionState, ReplyState
from routing.presence import start_shift
from tests.factories import make_brand
from tests.replies.conftest import Desk, _desk
from tests.routing.onshift import question as make_question

PANE = {"HX-Request": "true", "HX-Target": "pane"}


@pytest.fixture
def desk(db: None) -> Desk:
    return _desk()


def test_a_question_opens_in_the_inbox_beside_the_queue(client: Client, desk: Desk) -> None:
    # Given a queued question from a customer with followers, and a volunteer on shift
    volunteer = desk.member("certified", languages=["en"])
    start_shift(volunteer.user, desk.brand.pk)
    question = desk.question()
    assert question.customer is not None
    Customer.objects.filter(pk=question.customer.pk).update(
        name="<b>Rosa</b>", followers_count=1234, description="<script>bio()</script>"
    )
    client.force_login(volunteer.user)

    # When they open it in the inbox, as a page and as the pane alone
    page = client.get(f"/queue/{question.pk}/").content.decode()
    pane = client.get(f"/queue/{question.pk}/", headers=PANE).content.decode()

    # Then the page has the list and the pane; the pane alone has no list, and both show
    # the customer's context escaped and offer the claim in place
    assert f'data-question-id="{question.pk}"' in page
    assert f'data-pane-question="{question.pk}"' in page
    assert 'id="queue"' not in pane and "<html" not in pane
    assert "{#" not in page and "{%" not in page  # no template comment shown as text
    for html in (page, pane):
        assert "&lt;b&gt;Rosa&lt;/b&gt;" in html and "<b>Rosa" not in html
        assert "&lt;script&gt;bio()" in html and "<script>bio" not in html
        assert "1234 followers" in html
        assert f'hx-post="/desk/questions/{question.pk}/claim/"' in html
        assert 'name="inbox" value="1"' in html


def test_the_title_names_the_open_question_on_the_page_and_in_the_pane(
    client: Client, desk: Desk
) -> None:
    # Given a queued question whose words and customer handle are hostile text
    volunteer = desk.member("certified", languages=["en"])
    start_shift(volunteer.user, desk.brand.pk)
    question = desk.question()
    assert question.customer is not None
    Customer.objects.filter(pk=question.customer.pk).update(username="<i>rosa</i>")
    question.text = (
        "@NorthwindHelp @other  <script>x()</script> where is   my parcel, it has been weeks"
    )
    question.save(update_fields=["text"])
    client.force_login(volunteer.user)

    # When the inbox is opened on it, as a page and as the pane alone, and on nothing
    page = client.get(f"/queue/{question.pk}/").content.decode()
    pane = client.get(f"/queue/{question.pk}/", headers=PANE).content.decode()
    empty_pane = client.get("/queue/", headers=PANE).content.decode()

    # Then the page's title and the pane's data-page-title name the customer and the first
    # words (mentions dropped, blank space collapsed, cut at 40 characters), escaped
    title = (
        "@&lt;i&gt;rosa&lt;/i&gt; — &lt;script&gt;x()&lt;/script&gt; where is my parcel…"
        " · Queue · Helpforce"
    )
    assert f"<title>{title}</title>" in page
    assert f'data-page-title="{title}"' in pane
    assert "<title>" not in pane  # htmx would set it over notify.js's count
    assert 'data-page-title="Queue · Helpforce"' in empty_pane


def test_another_brands_question_is_not_found_in_the_inbox(client: Client, desk: Desk) -> None:
    volunteer = desk.member("certified")
    elsewhere = make_question(make_brand())
    client.force_login(volunteer.user)

    assert client.get(f"/queue/{elsewhere.pk}/").status_code == 404
    assert client.get(f"/queue/{elsewhere.pk}/", headers=PANE).status_code == 404


def test_claim_from_the_inbox_comes_back_to_it_with_the_composer(
    client: Client, desk: Desk
) -> None:
    # Given a volunteer on shift and a queued question
    volunteer = desk.member("certified", signature="^AM", languages=["en"])
    start_shift(volunteer.user, desk.brand.pk)
    question = desk.question()
    client.force_login(volunteer.user)

    # When they claim it from the inbox's pane (htmx follows the redirect)
    response = client.post(
        f"/desk/questions/{question.pk}/claim/", {"inbox": "1"}, follow=True, headers=PANE
    )

    # Then they hold it and the pane has the composer, started with the handle and signature
    question.refresh_from_db()
    assert (question.state, question.claimed_by_id) == (QuestionState.CLAIMED, volunteer.user_id)
    assert response.redirect_chain == [(f"/queue/{question.pk}/", 302)]
    pane = response.content.decode()
    assert "<html" not in pane
    assert "You hold this question now." in pane
    assert f'hx-post="/desk/questions/{question.pk}/compose/"' in pane
    assert f'data-default-draft="@{question.customer.username}  ^AM"' in pane  # type: ignore[union-attr]
    assert f'hx-post="/desk/questions/{question.pk}/release/"' in pane


def test_submitting_in_the_inbox_answers_with_the_pane_and_its_address(
    client: Client, desk: Desk
) -> None:
    holder = desk.member("certified", signature="^AM")
    question = desk.question(holder)
    client.force_login(holder.user)
    handle = question.customer.username  # type: ignore[union-attr]
    text = f"@{handle} We are on it. ^AM"

    response = client.post(
        f"/desk/questions/{question.pk}/compose/", {"text": text, "inbox": "1"}, headers=PANE
    )

    reply = Reply.objects.get(question=question)
    assert (reply.state, reply.text) == (ReplyState.QUEUED, text)
    assert response.status_code == 200
    assert response["HX-Replace-Url"] == f"/queue/{question.pk}/"
    pane = response.content.decode()
    assert "data-just-sent" in pane and "Your reply is in the send queue" in pane


def test_a_refused_draft_comes_back_in_the_pane_with_its_reasons(
    client: Client, desk: Desk
) -> None:
    holder = desk.member("certified", signature="^AM")
    question = desk.question(holder)
    client.force_login(holder.user)

    response = client.post(
        f"/desk/questions/{question.pk}/compose/",
        {"text": "<b>mail</b> me at jane@example.com ^AM", "inbox": "1"},
        headers=PANE,
    )

    pane = response.content.decode()
    assert response.status_code == 400
    assert "Nothing was sent" in pane and "<html" not in pane
    assert "&lt;b&gt;mail&lt;/b&gt;" in pane and "<b>mail" not in pane
    assert not Reply.objects.exists()


def test_without_javascript_the_inbox_forms_come_back_to_the_inbox(
    client: Client, desk: Desk
) -> None:
    holder = desk.member("certified", signature="^AM")
    first, second, third = desk.question(holder), desk.question(holder), desk.question(holder)
    client.force_login(holder.user)
    handle = third.customer.username  # type: ignore[union-attr]

    released = client.post(f"/desk/questions/{first.pk}/release/", {"inbox": "1"})
    escalated = client.post(
        f"/desk/questions/{second.pk}/escalate/", {"note": "Needs a refund", "inbox": "1"}
    )
    sent = client.post(
        f"/desk/questions/{third.pk}/compose/", {"text": f"@{handle} Done. ^AM", "inbox": "1"}
    )

    assert released["Location"] == f"/queue/{first.pk}/"
    assert escalated["Location"] == f"/queue/{second.pk}/"
    assert sent["Location"] == f"/queue/{third.pk}/"
    page = client.get(sent["Location"]).content.decode()
    assert 'id="queue"' in page and f'data-pane-question="{third.pk}"' in page


def test_the_composer_in_the_inbox_is_only_for_the_holder(client: Client, desk: Desk) -> None:
    holder = desk.member("certified")
    other = desk.member("certified")
    question = desk.question(holder)
    client.force_login(other.user)

    pane = client.get(f"/queue/{question.pk}/", headers=PANE).content.decode()
    refused = client.post(
        f"/desk/questions/{question.pk}/compose/", {"text": "hi", "inbox": "1"}, headers=PANE
    )

    assert 'id="reply-text"' not in pane
    assert refused.status_code == 403
    assert not Reply.objects.exists()


def test_the_language_filter_lists_the_languages_in_the_queue(client: Client, desk: Desk) -> None:
    boss = desk.supervisor
    make_question(desk.brand, lang="fr")
    make_question(desk.brand, lang="en")
    make_question(desk.brand, lang="en", state=QuestionState.ANSWERED)
    make_question(desk.brand, lang="de", state=QuestionState.ANSWERED)  # not waiting
    client.force_login(boss.user)

    page = client.get("/queue/").content.decode()

    select = re.search(r'<select name="lang"[^>]*>(.*?)</select>', page, re.DOTALL)
    assert select is not None
    assert re.findall(r'<option value="([^"]*)"', select.group(1)) == ["", "en", "fr"]
    assert 'name="topic"' in page and '<input type="text" name="lang"' not in page
