"""Replies from a volunteer's own linked X account, where the brand allows it (TwelpForce's
employees answered from their own handles): posted once, as that person, under their own
limits, looked for on their own timeline after a timeout, and refused cleanly when the link
is gone."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import requests
from django.utils import timezone

from charter.models import LinkedXAccount
from helpdesk.models import AuditEvent, Brand, Question, Reply, Volunteer
from helpdesk.outbox import retry_failed_reply
from helpdesk.replies import ReplyError, delete_sent_reply, send_queue_position, submit_reply
from helpdesk.states import QuestionState, ReplyState
from helpdesk.x import posting
from tests.replies.conftest import Desk
from tests.test_linking import link


@pytest.fixture
def linked(live_desk: Desk, settings: Any, monkeypatch: pytest.MonkeyPatch) -> Volunteer:
    """A certified volunteer of a brand that allows it, who linked @vol_alex."""
    settings.X_OAUTH_CLIENT_ID = "helpforce-client"
    settings.X_OAUTH_CLIENT_SECRET = "helpforce-secret"
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    sandbox = live_desk.sandbox
    response = requests.post(
        f"{sandbox.base_url}/_sandbox/users",
        json={"username": "vol_alex", "name": "Alex B."},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    # Since 2026-02-23 only enterprise access lets an account reply where it was not
    # mentioned; the customers here mention the care account, not the volunteer.
    sandbox.world.enterprise_access = True
    Brand.objects.filter(pk=live_desk.brand.pk).update(replies_from_linked_accounts=True)
    volunteer = live_desk.member("certified", signature="^AB")
    link(sandbox, volunteer.user)
    return volunteer


def fresh(reply: Reply) -> Reply:
    return Reply.objects.select_related("question", "account").get(pk=reply.pk)


def posts_by(desk: Desk, x_user_id: str, question: Question) -> list[Any]:
    return [
        t
        for t in desk.sandbox.world.find(in_reply_to=question.tweet_id)
        if t.author_id == x_user_id
    ]


def submit_linked(desk: Desk, volunteer: Volunteer, text: str = "") -> Reply:
    question = desk.question(volunteer)
    handle = question.customer.username if question.customer else ""
    text = text or f"@{handle} I work at the store: your order ships today. ^AB"
    return submit_reply(question, volunteer.user, text, language="en", from_linked_account=True)


def test_a_reply_goes_once_from_the_volunteers_own_account(
    live_desk: Desk, linked: Volunteer
) -> None:
    link_row = LinkedXAccount.objects.get(user=linked.user)

    reply = submit_linked(live_desk, linked)
    assert reply.state == ReplyState.QUEUED
    assert (reply.from_linked_account, reply.from_x_user_id, reply.from_username) == (
        True,
        link_row.x_user_id,
        "vol_alex",
    )
    posting.dispatch_due()

    reply = fresh(reply)
    assert reply.state == ReplyState.SENT, reply.failure_reason
    posted = posts_by(live_desk, link_row.x_user_id, reply.question)
    assert [t.id for t in posted] == [reply.tweet_id]
    assert posts_by(live_desk, live_desk.account.x_user_id, reply.question) == []
    assert reply.question.state == QuestionState.ANSWERED


def test_a_timeout_after_x_accepted_is_settled_on_the_volunteers_timeline(
    live_desk: Desk, linked: Volunteer, settings: Any
) -> None:
    settings.X_HTTP_TIMEOUT_SECONDS = 0.3
    reply = submit_linked(live_desk, linked)
    live_desk.sandbox.world.add_fault("create_tweet", "timeout_after_accept", seconds=1.0)

    outcome = posting.send_reply(reply.pk)

    reply = fresh(reply)
    assert outcome == "sent" and reply.state == ReplyState.SENT
    posted = posts_by(live_desk, reply.from_x_user_id, reply.question)
    assert [t.id for t in posted] == [reply.tweet_id]
    assert live_desk.sandbox.world.requests["create_tweet"] == 1
    assert AuditEvent.objects.get(kind="reply.sent").data["found_on_x"] is True


@pytest.mark.parametrize("allowed", [False, True])
def test_without_the_brands_leave_or_a_link_nothing_is_written(
    live_desk: Desk, allowed: bool
) -> None:
    Brand.objects.filter(pk=live_desk.brand.pk).update(replies_from_linked_accounts=allowed)
    volunteer = live_desk.member("certified", signature="^AB")  # no linked account
    question = live_desk.question(volunteer)
    events = AuditEvent.objects.count()

    with pytest.raises(ReplyError) as refused:
        submit_reply(
            question, volunteer.user, "On it. ^AB", language="en", from_linked_account=True
        )

    assert refused.value.code == "no_linked_account"
    assert Reply.objects.count() == 0 and AuditEvent.objects.count() == events
    question.refresh_from_db()
    assert question.state == QuestionState.CLAIMED


def test_a_brand_that_withdraws_its_leave_refuses_new_ones(
    live_desk: Desk, linked: Volunteer
) -> None:
    Brand.objects.filter(pk=live_desk.brand.pk).update(replies_from_linked_accounts=False)

    with pytest.raises(ReplyError) as refused:
        submit_linked(live_desk, linked)

    assert refused.value.code == "no_linked_account"
    assert Reply.objects.count() == 0


def test_a_link_gone_before_sending_fails_back_to_a_supervisor(
    live_desk: Desk, linked: Volunteer
) -> None:
    reply = submit_linked(live_desk, linked)
    LinkedXAccount.objects.filter(user=linked.user).delete()

    assert posting.send_reply(reply.pk) == "failed"

    reply = fresh(reply)
    assert reply.state == ReplyState.FAILED
    assert reply.failure_reason == (
        "The author's X account @vol_alex is no longer linked to the desk."
    )
    assert reply.question.state == QuestionState.FAILED
    assert live_desk.sandbox.world.requests["create_tweet"] == 0


def test_linked_replies_do_not_wait_for_the_care_accounts_limit(
    live_desk: Desk, linked: Volunteer
) -> None:
    # The care account is blocked by X for 15 minutes; the volunteer's own account is not.
    blocked_until = timezone.now() + timedelta(minutes=15)
    live_desk.account.posts_blocked_until = blocked_until
    live_desk.account.save(update_fields=["posts_blocked_until"])
    care = live_desk.queued_reply()
    own = submit_linked(live_desk, linked)

    dispatched = posting.dispatch_due().dispatched

    assert dispatched == [own.pk]
    assert fresh(own).state == ReplyState.SENT
    care = fresh(care)
    assert care.state == ReplyState.QUEUED and care.scheduled_for == blocked_until
    assert send_queue_position(care).expected_at == blocked_until


def test_a_linked_reply_over_xs_per_user_limit_waits_its_turn(
    live_desk: Desk, linked: Volunteer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # X allows 100 posts per user in 15 minutes; 3 here keeps the test small.
    monkeypatch.setattr(posting.plan, "LINKED_POSTS_PER_WINDOW", 3)
    now = timezone.now()
    earlier = [submit_linked(live_desk, linked, text=f"Answer number {n}. ^AB") for n in range(3)]
    for minutes, reply in zip((10, 8, 6), earlier, strict=True):
        Reply.objects.filter(pk=reply.pk).update(
            state=ReplyState.SENT, sent_at=now - timedelta(minutes=minutes)
        )
    waiting = submit_linked(live_desk, linked)

    plan = dict(posting.plan_linked(linked.user.pk, now))

    assert plan == {waiting.pk: now + timedelta(minutes=5)}
    assert posting.dispatch_due(now).dispatched == []
    assert fresh(waiting).scheduled_for == now + timedelta(minutes=5)


def test_without_enterprise_access_x_refuses_and_a_supervisor_sends_it_from_the_care_account(
    live_desk: Desk, linked: Volunteer
) -> None:
    live_desk.sandbox.world.enterprise_access = False
    reply = submit_linked(live_desk, linked)

    assert posting.send_reply(reply.pk) == "failed"
    reply = fresh(reply)
    assert reply.failure_reason.startswith("403 Reply to this conversation is not allowed")

    retried = retry_failed_reply(reply, by=live_desk.supervisor.user, from_care_account=True)

    assert not retried.from_linked_account and retried.from_x_user_id == ""
    event = AuditEvent.objects.get(kind="reply.retried")
    assert event.data["from_care_account"] is True
    posting.dispatch_due()
    sent = fresh(reply)
    assert sent.state == ReplyState.SENT
    on_x = posts_by(live_desk, live_desk.account.x_user_id, sent.question)
    assert [t.id for t in on_x] == [sent.tweet_id]


def test_a_supervisor_deletes_a_linked_reply_from_the_volunteers_account(
    live_desk: Desk, linked: Volunteer
) -> None:
    reply = submit_linked(live_desk, linked)
    posting.dispatch_due()
    reply = fresh(reply)
    assert live_desk.sandbox.world.tweet(reply.tweet_id) is not None

    deleted = delete_sent_reply(reply, by=live_desk.supervisor.user, reason="Off charter")

    assert deleted.state == ReplyState.DELETED
    assert live_desk.sandbox.world.tweet(reply.tweet_id) is None


def test_the_outbox_offers_the_care_account_for_a_refused_linked_reply(
    client: Any, live_desk: Desk, linked: Volunteer
) -> None:
    live_desk.sandbox.world.enterprise_access = False
    reply = submit_linked(live_desk, linked)
    assert posting.send_reply(reply.pk) == "failed"
    client.force_login(live_desk.supervisor.user)

    page = client.get("/desk/outbox/").content.decode()
    assert "from their own account @vol_alex" in page
    assert f"Send again from @{live_desk.account.username}" in page

    client.post(f"/desk/outbox/{reply.pk}/retry/", {"from_care_account": "1"})

    retried = fresh(reply)
    assert retried.state == ReplyState.QUEUED and not retried.from_linked_account


def test_the_composer_offers_the_own_account_only_where_allowed_and_linked(
    client: Any, live_desk: Desk, linked: Volunteer
) -> None:
    question = live_desk.question(linked)
    client.force_login(linked.user)
    url = f"/desk/questions/{question.pk}/compose/"

    page = client.get(url).content.decode()
    assert "your own X account @vol_alex" in page
    assert f"the care account @{live_desk.account.username}, signed by you" in page
    assert 'value="care" id="send-from-care" checked' in page

    handle = question.customer.username if question.customer else ""
    client.post(url, {"text": f"@{handle} It ships today. ^AB", "send_from": "linked"})

    reply = Reply.objects.get(question=question)
    assert reply.from_linked_account and reply.from_username == "vol_alex"
    # Without the brand's leave the choice is not offered.
    Brand.objects.filter(pk=live_desk.brand.pk).update(replies_from_linked_accounts=False)
    other = live_desk.question(linked)
    assert "send_from" not in client.get(f"/desk/questions/{other.pk}/compose/").content.decode()


def test_a_forged_choice_without_the_brands_leave_sends_nothing(
    client: Any, live_desk: Desk, linked: Volunteer
) -> None:
    Brand.objects.filter(pk=live_desk.brand.pk).update(replies_from_linked_accounts=False)
    question = live_desk.question(linked)
    client.force_login(linked.user)

    response = client.post(
        f"/desk/questions/{question.pk}/compose/",
        {"text": "It ships today. ^AB", "send_from": "linked"},
    )

    assert response.status_code == 400
    assert "Replying from your own X account needs" in response.content.decode()
    assert not Reply.objects.filter(question=question).exists()
