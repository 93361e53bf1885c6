"""Submitting through the gate, and supervisors' review: approve, edit, reject, bulk."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone, translation

from charter.models import Standing
from helpdesk.events import EVENTS_LAYER, brand_queue_group, monitoring_group
from helpdesk.models import AuditEvent, Question, Reply, Role
from helpdesk.replies import (
    ReplyError,
    approve_reply,
    bulk_approve,
    reject_reply,
    send_queue_position,
    submit_reply,
)
from helpdesk.states import QuestionState, ReplyState
from tests.factories import publish_charter
from tests.people import People
from tests.replies.conftest import Desk

pytestmark = pytest.mark.django_db

OK_TEXT = "@{handle} Thanks for the wait, we are looking into it now. {signature}"


def ok_text(question: Question, signature: str) -> str:
    handle = question.customer.username if question.customer else ""
    return OK_TEXT.format(handle=handle, signature=signature)


def kinds(question: Question) -> list[str]:
    return list(
        AuditEvent.objects.filter(question=question).order_by("pk").values_list("kind", flat=True)
    )


def pending(desk: Desk) -> Reply:
    trainee = desk.member("trainee")
    question = desk.question(trainee)
    reply = submit_reply(
        question, trainee.user, ok_text(question, trainee.signature), language="en"
    )
    assert reply.state == ReplyState.PENDING_REVIEW
    return reply


def test_a_certified_volunteers_reply_goes_straight_to_the_outbox(desk: Desk) -> None:
    author = desk.member("certified")
    question = desk.question(author)

    reply = submit_reply(question, author.user, ok_text(question, author.signature), language="en")

    reply.refresh_from_db()
    question.refresh_from_db()
    assert reply.state == ReplyState.QUEUED and reply.needs_review is False
    assert reply.account_id == desk.account.pk and reply.author_id == author.user.pk
    assert reply.submitted_at is not None and reply.queued_at is not None
    assert reply.scheduled_for == reply.queued_at and reply.sending_since is None
    assert reply.priority == question.priority and reply.lint["verdict"] == "ok"
    assert question.state == QuestionState.APPROVED
    assert question.claimed_by_id == author.user.pk
    assert kinds(question) == [
        "question.drafting",
        "reply.submitted",
        "reply.queued",
        "question.approved",
    ]
    submitted = AuditEvent.objects.get(question=question, kind="reply.submitted")
    assert (submitted.actor_id, submitted.from_state, submitted.to_state) == (
        author.user.pk,
        ReplyState.DRAFT,
        ReplyState.APPROVED,
    )
    assert submitted.data == {"reply_id": reply.pk}


def test_a_trainees_reply_waits_for_review(desk: Desk) -> None:
    trainee = desk.member("trainee")
    question = desk.question(trainee)

    reply = submit_reply(
        question, trainee.user, ok_text(question, trainee.signature), language="en"
    )

    question.refresh_from_db()
    assert reply.state == ReplyState.PENDING_REVIEW and reply.needs_review is True
    assert [r["code"] for r in reply.review_reasons] == ["trainee_review"]
    assert question.state == QuestionState.IN_REVIEW
    assert kinds(question) == ["question.drafting", "reply.submitted", "question.in_review"]


def test_a_finding_that_forces_review_sends_a_certified_reply_to_review(desk: Desk) -> None:
    author = desk.member("certified")
    question = desk.question(author)

    reply = submit_reply(
        question, author.user, f"@x It costs $49 to fix it. {author.signature}", language="en"
    )

    assert reply.state == ReplyState.PENDING_REVIEW
    assert "finding_requires_review" in [r["code"] for r in reply.review_reasons]


def test_a_blocked_draft_is_refused_and_writes_nothing(desk: Desk) -> None:
    author = desk.member("certified")
    question = desk.question(author)
    handle = question.customer.username if question.customer else ""

    with pytest.raises(ReplyError) as refused:
        submit_reply(
            question,
            author.user,
            f"@{handle} write to me at bob@example.com {author.signature}",
            language="en",
        )

    assert refused.value.code == "refused"
    assert "draft_blocked" in [reason["code"] for reason in refused.value.reasons]
    question.refresh_from_db()
    assert question.state == QuestionState.CLAIMED
    assert Reply.objects.count() == 0 and kinds(question) == []


@pytest.mark.parametrize("member", ["certified", "trainee"])
@pytest.mark.parametrize("body", ["{signature}", ""], ids=["signature", "bare-handle"])
def test_a_reply_with_no_words_of_its_own_is_refused_and_writes_nothing(
    desk: Desk, member: str, body: str
) -> None:
    # Given a claim holder (certified: would go out; trainee: would go to review)
    author = desk.member(member)
    question = desk.question(author)
    handle = question.customer.username if question.customer else ""
    text = f"@{handle} {body.format(signature=author.signature)}"

    # When they submit nothing but the customer's handle (and their signature)
    with pytest.raises(ReplyError) as refused:
        submit_reply(question, author.user, text, language="en")
    with translation.override("fr"), pytest.raises(ReplyError) as refused_fr:
        submit_reply(question, author.user, text, language="fr")

    # Then it is refused, saying why in the volunteer's language, and nothing is written
    assert refused.value.code == "refused"
    assert [r["code"] for r in refused.value.reasons] == ["draft_blocked"]
    assert refused.value.message == (
        "The draft breaks a rule that cannot be approved: This reply has no words of its "
        "own: only mentions, your signature, hashtags or links. Write the answer itself "
        "before sending it."
    )
    assert refused_fr.value.message == (
        "Le brouillon enfreint une règle qui ne peut pas être approuvée : Cette réponse ne "
        "contient aucun mot à elle : seulement des mentions, votre signature, des hashtags "
        "ou des liens. Écrivez la réponse elle-même avant de l'envoyer."
    )
    question.refresh_from_db()
    assert question.state == QuestionState.CLAIMED
    assert Reply.objects.count() == 0 and kinds(question) == []


@pytest.mark.parametrize(
    ("state", "code"),
    [("suspended", "suspended"), ("expired-certification", "training_expired")],
)
def test_a_lapsed_standing_refuses_the_submit_and_releases_the_claim(
    desk: Desk, state: str, code: str
) -> None:
    # Given a volunteer whose standing lapsed while they held the question
    author = desk.member(state)
    question = desk.question(author)

    # When they submit
    with pytest.raises(ReplyError) as refused:
        submit_reply(question, author.user, ok_text(question, author.signature), language="en")

    # Then nothing is sent, and the question goes back to the queue for someone who can
    assert code in [reason["code"] for reason in refused.value.reasons]
    assert refused.value.message.endswith("The question went back to the queue.")
    question.refresh_from_db()
    assert (question.state, question.claimed_by_id) == (QuestionState.QUEUED, None)
    assert Reply.objects.count() == 0
    assert kinds(question) == ["question.released"]


def test_a_lapsed_charter_refuses_the_submit(desk: Desk) -> None:
    publish_charter(desk.brand)
    author = desk.member("lapsed-charter")
    question = desk.question(author)

    with pytest.raises(ReplyError) as refused:
        submit_reply(question, author.user, ok_text(question, author.signature), language="en")

    assert "charter_not_accepted" in [r["code"] for r in refused.value.reasons]
    assert Reply.objects.count() == 0


def test_only_the_claim_holder_may_submit(desk: Desk) -> None:
    holder = desk.member("certified")
    other = desk.member("certified")
    question = desk.question(holder)
    lapsed = desk.question(holder)
    Question.objects.filter(pk=lapsed.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )

    for who, which in ((other, question), (holder, lapsed)):
        with pytest.raises(ReplyError) as refused:
            submit_reply(which, who.user, ok_text(which, who.signature), language="en")
        assert refused.value.code == "not_holder"
    assert Reply.objects.count() == 0


def test_a_refusal_speaks_the_persons_language(desk: Desk) -> None:
    holder = desk.member("certified")
    other = desk.member("certified")
    question = desk.question(holder)

    with translation.override("fr"):
        with pytest.raises(ReplyError) as empty:
            submit_reply(question, holder.user, "   ", language="fr")
        with pytest.raises(ReplyError) as not_holder:
            submit_reply(question, other.user, ok_text(question, other.signature), language="fr")

    apostrophe = "\N{RIGHT SINGLE QUOTATION MARK}"
    assert (empty.value.code, empty.value.message) == (
        "empty",
        f"Rédigez d{apostrophe}abord une réponse.",
    )
    assert not_holder.value.message.startswith("Vous ne détenez pas cette question")


def test_a_supervisor_approves_and_the_reply_is_queued(desk: Desk) -> None:
    reply = pending(desk)

    approved = approve_reply(reply, by=desk.supervisor.user)

    question = Question.objects.get(pk=reply.question_id)
    assert approved.state == ReplyState.QUEUED and approved.queued_at is not None
    assert approved.reviewed_by_id == desk.supervisor.user.pk
    assert approved.edited_by_reviewer is False
    assert question.state == QuestionState.APPROVED
    event = AuditEvent.objects.get(question=question, kind="reply.approved")
    assert (event.actor_id, event.from_state, event.to_state) == (
        desk.supervisor.user.pk,
        ReplyState.PENDING_REVIEW,
        ReplyState.APPROVED,
    )
    assert kinds(question)[-3:] == ["reply.approved", "reply.queued", "question.approved"]
    standing = Standing.objects.get(user_id=reply.author_id, brand=desk.brand)
    assert (standing.trainee_approved, standing.trainee_rejected) == (4, 1)


def test_an_edited_approval_is_linted_again(desk: Desk) -> None:
    reply = pending(desk)
    original = reply.text
    blocked = original.replace("Thanks", "Mail bob@example.com, thanks")

    with pytest.raises(ReplyError) as refused:
        approve_reply(reply, by=desk.supervisor.user, edited_text=blocked)
    assert refused.value.code == "edit_blocked"
    assert "email_address" in [f["rule"] for f in refused.value.reasons]
    reply.refresh_from_db()
    assert (reply.state, reply.text) == (ReplyState.PENDING_REVIEW, original)

    edited = original.replace("Thanks for the wait", "Sorry for the wait")
    approved = approve_reply(reply, by=desk.supervisor.user, edited_text=edited)

    assert approved.state == ReplyState.QUEUED and approved.text == edited
    assert approved.original_text == original and approved.edited_by_reviewer is True
    event = AuditEvent.objects.get(kind="reply.approved", question_id=reply.question_id)
    assert event.data == {"reply_id": reply.pk, "edited": True}


def test_a_rejection_needs_feedback_and_gives_the_question_back_to_its_author(
    desk: Desk,
) -> None:
    reply = pending(desk)
    before = AuditEvent.objects.count()

    with pytest.raises(ReplyError) as refused:
        reject_reply(reply, by=desk.supervisor.user, feedback="  ")
    assert refused.value.code == "feedback_required"
    assert AuditEvent.objects.count() == before

    rejected = reject_reply(reply, by=desk.supervisor.user, feedback="Say sorry first.")

    question = Question.objects.get(pk=reply.question_id)
    assert rejected.state == ReplyState.REJECTED
    assert rejected.review_feedback == "Say sorry first."
    assert question.state == QuestionState.DRAFTING
    assert question.claimed_by_id == reply.author_id
    assert question.lease_expires_at is not None and question.lease_expires_at > timezone.now()
    standing = Standing.objects.get(user_id=reply.author_id, brand=desk.brand)
    assert (standing.trainee_approved, standing.trainee_rejected) == (3, 2)
    # The author tries again
    again = submit_reply(question, rejected.author, "@x Sorry for the wait! ^V", language="en")
    assert again.state == ReplyState.PENDING_REVIEW


def test_a_rejection_for_an_author_who_may_no_longer_reply_requeues_the_question(
    desk: Desk,
) -> None:
    reply = pending(desk)
    Standing.objects.filter(user_id=reply.author_id).update(is_suspended=True, suspended_reason="x")

    reject_reply(reply, by=desk.supervisor.user, feedback="No.")

    question = Question.objects.get(pk=reply.question_id)
    assert question.state == QuestionState.QUEUED and question.claimed_by_id is None
    event = AuditEvent.objects.get(question=question, kind="question.queued")
    assert event.data == {"reply_id": reply.pk, "claim_lapsed": True}


def test_bulk_approve_approves_what_it_can_and_says_why_not_for_the_rest(desk: Desk) -> None:
    replies = [pending(desk) for _ in range(3)]
    approve_reply(replies[0], by=desk.supervisor.user)

    outcome = bulk_approve([r.pk for r in replies] + [999_999], by=desk.supervisor.user)

    assert outcome.approved == [replies[1].pk, replies[2].pk]
    assert outcome.refused == {
        replies[0].pk: "This reply is queued, not in review.",
        999_999: "No such reply.",
    }
    assert Reply.objects.filter(state=ReplyState.QUEUED).count() == 3


@pytest.mark.parametrize(
    "who",
    [
        "anonymous",
        "no-desk-record",
        "untrained",
        "trainee",
        "certified",
        "mentor",
        "suspended",
        "agency",
        "other-brand-supervisor",
        "author-supervisor",
    ],
)
def test_only_the_brands_supervisors_review(desk: Desk, who: str) -> None:
    reply = pending(desk)
    if who == "author-supervisor":
        from helpdesk.models import Volunteer

        Volunteer.objects.filter(user_id=reply.author_id).update(role=Role.SUPERVISOR)
        user: Any = reply.author
    else:
        user = People(desk.brand).user(who) or AnonymousUser()
    before = AuditEvent.objects.count()

    acts: list[Callable[[], Any]] = [
        lambda: approve_reply(reply, by=user),
        lambda: approve_reply(reply, by=user, edited_text="@x Hello ^V"),
        lambda: reject_reply(reply, by=user, feedback="No."),
    ]
    for act in acts:
        with pytest.raises(ReplyError) as refused:
            act()
        assert refused.value.code in ("not_found", "own_reply")
    assert bulk_approve([reply.pk], by=user).approved == []

    reply.refresh_from_db()
    assert reply.state == ReplyState.PENDING_REVIEW and reply.reviewed_by_id is None
    assert AuditEvent.objects.count() == before
    assert Question.objects.get(pk=reply.question_id).state == QuestionState.IN_REVIEW


def test_an_approval_after_the_authors_charter_lapsed_still_goes(desk: Desk) -> None:
    # Invariant 4: the author passed the gate when submitting; the supervisor approves.
    reply = pending(desk)
    publish_charter(desk.brand)

    approved = approve_reply(reply, by=desk.supervisor.user)

    assert approved.state == ReplyState.QUEUED


def test_the_volunteer_sees_when_their_reply_will_go(desk: Desk) -> None:
    desk.account.post_limit_per_window = 2
    desk.account.save()
    replies = [desk.queued_reply() for _ in range(3)]
    now = timezone.now()

    positions = [send_queue_position(r, now=now) for r in replies]

    assert [p.ahead for p in positions] == [0, 1, 2]
    assert positions[0].expected_at == positions[1].expected_at
    assert positions[1].expected_at is not None and positions[1].expected_at <= now
    first = positions[0].expected_at
    assert first is not None
    assert positions[2].expected_at == first + timedelta(seconds=900)


def test_a_rejections_feedback_is_not_broadcast_to_the_brands_screens(
    desk: Desk, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    # The supervisor's words about one volunteer's draft are for that volunteer's own
    # feedback page; every volunteer's queue socket and the monitoring screens only need to
    # know that a reply moved.
    settings.CHANNEL_LAYERS = {EVENTS_LAYER: {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    reply = pending(desk)
    layer = get_channel_layer(EVENTS_LAYER)
    channel = async_to_sync(layer.new_channel)()
    for group in (brand_queue_group(desk.brand.pk), monitoring_group(desk.brand.pk)):
        async_to_sync(layer.group_add)(group, channel)

    with django_capture_on_commit_callbacks(execute=True):
        reject_reply(reply, by=desk.supervisor.user, feedback="Say sorry first, Pat.")

    heard = [async_to_sync(layer.receive)(channel) for _ in range(2)]
    assert [m["kind"] for m in heard] == ["reply.rejected"] * 2
    assert all("Say sorry" not in json.dumps(m) for m in heard)
    assert heard[0]["payload"]["reply_id"] == reply.pk
