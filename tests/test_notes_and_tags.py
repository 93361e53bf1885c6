"""Internal notes and tags on a question (issue 14, item 4): written by the brand's desk from
the question's page or the inbox's pane, seen by colleagues and supervisors of the brand,
never by another brand (404) nor the agency (403); refused input writes nothing; note text
and tag names are escaped; every write is audited and announced after commit."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.test import Client

from helpdesk.audit import events
from helpdesk.events import EVENTS_LAYER, brand_queue_group, monitoring_group
from helpdesk.models import Question, QuestionNote, Role, Tag
from helpdesk.notes.actions import NoteError, add_note, tag_question, untag_question
from tests.factories import make_brand, make_volunteer, publish_charter
from tests.replies.conftest import Desk, _desk
from tests.routing.onshift import question as make_question

PANE = {"HX-Request": "true", "HX-Target": "pane"}


@pytest.fixture
def desk(db: None) -> Desk:
    return _desk()


def _audit(question: Question) -> list[tuple[str, int | None, dict[str, Any]]]:
    return [
        (event.kind, event.actor_id, event.data)
        for event in events().filter(question=question).order_by("pk")
    ]


def test_a_note_is_seen_by_a_colleague_and_a_supervisor_of_the_brand(
    client: Client, desk: Desk
) -> None:
    # Given a question and a volunteer of the brand
    writer = desk.member("certified", display_name="Ada")
    colleague = desk.member("trainee")
    question = desk.question()
    client.force_login(writer.user)

    # When they leave a note from the question's page (a plain POST)
    response = client.post(
        f"/desk/questions/{question.pk}/notes/", {"text": "  Customer called the store too.  "}
    )

    # Then they are sent back to the page, the note is stored trimmed and audited, and a
    # colleague and a supervisor of the brand read it with its author's name
    assert response.status_code == 302
    assert response["Location"] == f"/desk/questions/{question.pk}/"
    note = QuestionNote.objects.get()
    assert (note.question_id, note.author_id, note.text) == (
        question.pk,
        writer.user.pk,
        "Customer called the store too.",
    )
    assert _audit(question) == [("question.noted", writer.user.pk, {"note_id": note.pk})]
    client.force_login(colleague.user)
    page = client.get(f"/desk/questions/{question.pk}/").content.decode()
    client.force_login(desk.supervisor.user)
    pane = client.get(f"/queue/{question.pk}/", headers=PANE).content.decode()
    for html in (page, pane):
        assert "Customer called the store too." in html
        assert '<span class="author">Ada</span>' in html


def test_another_brand_the_agency_and_anonymous_do_not_reach_the_notes(
    client: Client, desk: Desk
) -> None:
    # Given a question with a note, and people outside the brand's desk
    question = desk.question()
    add_note(question, by=desk.member("certified").user, text="Only for us")
    other = make_brand()
    publish_charter(other)
    outsider = make_volunteer(other)
    agency = make_volunteer(desk.brand, role=Role.AGENCY)
    url = f"/desk/questions/{question.pk}/notes/"

    # When each of them reads the question and tries to add a note
    answers = {}
    for name, who in (("other brand", outsider), ("agency", agency), ("anonymous", None)):
        client.logout()
        if who is not None:
            client.force_login(who.user)
        read = client.get(f"/desk/questions/{question.pk}/")
        wrote = client.post(url, {"text": "sneaky"})
        answers[name] = (read.status_code, wrote.status_code)
        assert "Only for us" not in read.content.decode()

    # Then another brand's volunteer finds nothing, the agency is refused, anonymous is
    # sent to sign in, and nothing was written
    assert answers == {"other brand": (404, 404), "agency": (403, 403), "anonymous": (302, 302)}
    assert list(QuestionNote.objects.values_list("text", flat=True)) == ["Only for us"]
    assert [kind for kind, _actor, _data in _audit(question)] == ["question.noted"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Write something in the note."),
        ("   \n  ", "Write something in the note."),
        ("x" * 1001, "A note is at most 1000 characters; this one has 1001."),
    ],
    ids=["empty", "blank", "1001-characters"],
)
def test_a_blank_or_too_long_note_is_refused_and_nothing_is_written(
    client: Client, desk: Desk, text: str, message: str
) -> None:
    # Given a volunteer on a question's page
    volunteer = desk.member("certified")
    question = desk.question()
    client.force_login(volunteer.user)

    # When they send the note, from the page and from the inbox's pane
    page = client.post(f"/desk/questions/{question.pk}/notes/", {"text": text})
    pane = client.post(
        f"/desk/questions/{question.pk}/notes/", {"text": text, "inbox": "1"}, headers=PANE
    )

    # Then both say why with the form (400), and no note and no audit row was written
    assert (page.status_code, pane.status_code) == (400, 400)
    for response in (page, pane):
        assert f'<p class="errors" id="note-error" role="alert">{message}</p>' in (
            response.content.decode()
        )
    assert "<html" not in pane.content.decode()
    assert QuestionNote.objects.count() == 0
    assert _audit(question) == []


def test_the_action_keeps_1000_characters_and_refuses_an_outsider(desk: Desk) -> None:
    question = desk.question()
    volunteer = desk.member("certified")
    outsider = make_volunteer(make_brand())

    kept = add_note(question, by=volunteer.user, text="y" * 1000)
    with pytest.raises(NoteError) as refused:
        add_note(question, by=outsider.user, text="hello")

    assert len(kept.text) == 1000
    assert refused.value.code == "forbidden"
    assert QuestionNote.objects.count() == 1


def test_hostile_note_text_and_tag_names_come_back_escaped(client: Client, desk: Desk) -> None:
    # Given a volunteer who writes script into a note and a tag
    volunteer = desk.member("certified")
    question = desk.question()
    client.force_login(volunteer.user)
    client.post(f"/desk/questions/{question.pk}/notes/", {"text": "<script>alert(1)</script>"})
    client.post(f"/desk/questions/{question.pk}/tags/", {"name": "<b onmouseover=x>t</b>"})

    # When the page, the pane and the queue are read
    page = client.get(f"/desk/questions/{question.pk}/").content.decode()
    pane = client.get(f"/queue/{question.pk}/", headers=PANE).content.decode()
    queue = client.get("/queue/").content.decode()

    # Then the text is stored as written and shown escaped everywhere
    assert QuestionNote.objects.get().text == "<script>alert(1)</script>"
    for html in (page, pane):
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<script>alert(1)" not in html
    for html in (page, pane, queue):
        assert "&lt;b onmouseover=x&gt;t&lt;/b&gt;" in html
        assert "<b onmouseover" not in html


def test_a_tag_is_made_once_and_reused_whatever_its_case_and_spacing(
    client: Client, desk: Desk
) -> None:
    # Given two questions and a volunteer
    volunteer = desk.member("certified")
    first, second = desk.question(), desk.question()
    client.force_login(volunteer.user)

    # When they tag the first "Late  delivery", the second " late DELIVERY", and the first
    # again "LATE delivery"
    answers = [
        client.post(f"/desk/questions/{first.pk}/tags/", {"name": "Late  delivery"}),
        client.post(f"/desk/questions/{second.pk}/tags/", {"name": " late DELIVERY"}),
        client.post(f"/desk/questions/{first.pk}/tags/", {"name": "LATE delivery"}),
    ]

    # Then the brand has one tag, named as first written (spaces made one), on both
    # questions; the third changed nothing and wrote no audit row
    assert [a.status_code for a in answers] == [302, 302, 302]
    tag = Tag.objects.get()
    assert (tag.brand_id, tag.name, tag.key) == (desk.brand.pk, "Late delivery", "late delivery")
    assert sorted(tag.questions.values_list("pk", flat=True)) == sorted([first.pk, second.pk])
    assert _audit(first) == [
        (
            "question.tagged",
            volunteer.user.pk,
            {"tag_id": tag.pk, "tag": "Late delivery", "new_tag": True},
        )
    ]
    assert _audit(second) == [
        (
            "question.tagged",
            volunteer.user.pk,
            {"tag_id": tag.pk, "tag": "Late delivery", "new_tag": False},
        )
    ]
    page = client.get(f"/desk/questions/{first.pk}/").content.decode()
    assert '<span class="question-tag">Late delivery</span>' in page
    assert f'action="/desk/questions/{first.pk}/tags/{tag.pk}/remove/"' in page


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("  ", "Write the tag&#x27;s name."),
        ("t" * 41, "A tag is at most 40 characters; this one has 41."),
    ],
    ids=["blank", "41-characters"],
)
def test_a_blank_or_too_long_tag_is_refused_and_nothing_is_written(
    client: Client, desk: Desk, name: str, message: str
) -> None:
    volunteer = desk.member("certified")
    question = desk.question()
    client.force_login(volunteer.user)

    response = client.post(f"/desk/questions/{question.pk}/tags/", {"name": name})

    assert response.status_code == 400
    assert f'<p class="errors" id="tag-error" role="alert">{message}</p>' in (
        response.content.decode()
    )
    assert Tag.objects.count() == 0
    assert _audit(question) == []


def test_removing_a_tag_takes_it_off_the_question_only(client: Client, desk: Desk) -> None:
    # Given two questions with the tag "refund"
    volunteer = desk.member("certified")
    first, second = desk.question(), desk.question()
    tag, _ = tag_question(first, "refund", by=volunteer.user)
    tag_question(second, "Refund", by=volunteer.user)
    client.force_login(desk.supervisor.user)

    # When a supervisor removes it from the first, twice
    url = f"/desk/questions/{first.pk}/tags/{tag.pk}/remove/"
    answers = [client.post(url).status_code, client.post(url).status_code]

    # Then it is off the first, still on the second and still the brand's; one audit row
    assert answers == [302, 302]
    assert list(tag.questions.values_list("pk", flat=True)) == [second.pk]
    assert Tag.objects.count() == 1
    assert [(kind, actor) for kind, actor, _data in _audit(first)] == [
        ("question.tagged", volunteer.user.pk),
        ("question.untagged", desk.supervisor.user.pk),
    ]


def test_another_brands_tag_is_not_found(client: Client, desk: Desk) -> None:
    volunteer = desk.member("certified")
    question = desk.question()
    other = make_brand()
    theirs = make_question(other)
    their_tag, _ = tag_question(theirs, "vip", by=make_volunteer(other).user)
    client.force_login(volunteer.user)

    response = client.post(f"/desk/questions/{question.pk}/tags/{their_tag.pk}/remove/")

    assert response.status_code == 404
    assert list(their_tag.questions.values_list("pk", flat=True)) == [theirs.pk]
    with pytest.raises(NoteError):
        untag_question(question, their_tag, by=volunteer.user)


def test_the_queue_lists_the_brands_tags_and_filters_by_one(client: Client, desk: Desk) -> None:
    # Given three queued questions, two tagged, and another brand's tag
    volunteer = desk.member("certified")
    refund, late, plain = desk.question(), desk.question(), desk.question()
    refund_tag, _ = tag_question(refund, "Refund", by=volunteer.user)
    tag_question(late, "Late", by=volunteer.user)
    other = make_brand()
    tag_question(make_question(other), "Elsewhere", by=make_volunteer(other).user)
    client.force_login(desk.supervisor.user)

    # When a supervisor opens the queue, then filters it by "Refund"
    whole = client.get("/queue/").content.decode()
    filtered = client.get(f"/queue/?tag={refund_tag.pk}").content.decode()

    # Then the filter lists the brand's tags by name, the rows show their tags, and the
    # filtered queue has only the tagged question, its filter chosen
    select = re.search(r'<select name="tag"[^>]*>(.*?)</select>', whole, re.S)
    assert select is not None
    assert re.findall(r">([^<]*)</option>", select.group(1)) == ["All tags", "Late", "Refund"]
    assert '<span class="question-tag">Refund</span>' in whole
    rows = re.findall(r'data-question-id="(\d+)"', whole)
    assert sorted(rows) == sorted(str(q.pk) for q in (refund, late, plain))
    assert re.findall(r'data-question-id="(\d+)"', filtered) == [str(refund.pk)]
    assert f'<option value="{refund_tag.pk}" selected>Refund</option>' in filtered


def test_a_tag_that_is_not_the_brands_is_ignored_as_a_filter(client: Client, desk: Desk) -> None:
    question = desk.question()
    other = make_brand()
    their_tag, _ = tag_question(make_question(other), "x", by=make_volunteer(other).user)
    client.force_login(desk.supervisor.user)

    page = client.get(f"/queue/?tag={their_tag.pk}").content.decode()

    assert re.findall(r'data-question-id="(\d+)"', page) == [str(question.pk)]
    assert "were not understood and were ignored: Tag" in page


def test_with_htmx_the_inbox_pane_comes_back_in_place(client: Client, desk: Desk) -> None:
    # Given a volunteer with a question open in the inbox
    volunteer = desk.member("certified", display_name="Bea")
    question = desk.question()
    client.force_login(volunteer.user)

    # When they add a note and a tag from the pane with htmx
    noted = client.post(
        f"/desk/questions/{question.pk}/notes/",
        {"text": "Asked for the order number", "inbox": "1"},
        headers=PANE,
    )
    tagged = client.post(
        f"/desk/questions/{question.pk}/tags/", {"name": "order", "inbox": "1"}, headers=PANE
    )

    # Then each answer is the pane alone (no page around it), with the note or the tag,
    # and the address stays the question's in the inbox
    for response in (noted, tagged):
        html = response.content.decode()
        assert response.status_code == 200
        assert f'data-pane-question="{question.pk}"' in html
        assert "<html" not in html and 'id="queue"' not in html
        assert response["HX-Replace-Url"] == f"/queue/{question.pk}/"
        assert f'hx-post="/desk/questions/{question.pk}/notes/"' in html
    assert "Asked for the order number" in noted.content.decode()
    assert '<span class="question-tag">order</span>' in tagged.content.decode()


def test_without_javascript_the_inbox_form_comes_back_to_the_inbox(
    client: Client, desk: Desk
) -> None:
    volunteer = desk.member("certified")
    question = desk.question()
    client.force_login(volunteer.user)

    response = client.post(f"/desk/questions/{question.pk}/notes/", {"text": "Seen", "inbox": "1"})

    assert response.status_code == 302
    assert response["Location"] == f"/queue/{question.pk}/"


def test_notes_and_tags_are_announced_to_the_brand_after_commit(
    desk: Desk, django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    # Given channels of the test's own listening to the brand's queue and its monitoring
    settings.CHANNEL_LAYERS = {EVENTS_LAYER: {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    layer = get_channel_layer(EVENTS_LAYER)
    assert layer is not None
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(brand_queue_group(desk.brand.pk), channel)
    monitor = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(monitoring_group(desk.brand.pk), monitor)
    volunteer = desk.member("certified")
    question = desk.question()

    # When a note is added and a tag put on and taken off
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        add_note(question, by=volunteer.user, text="hi")
        tag, _ = tag_question(question, "vip", by=volunteer.user)
        untag_question(question, tag, by=volunteer.user)

    # Then each was announced to the queue once committed, with the question and who did
    # it; the monitoring screens, which show no notes, heard nothing
    received = [async_to_sync(layer.receive)(channel) for _ in range(3)]
    assert len(callbacks) == 3
    assert [(m["kind"], json.loads(m["frame"])["payload"]) for m in received] == [
        (
            kind,
            {"brand_id": desk.brand.pk, "question_id": question.pk, "user_id": volunteer.user.pk},
        )
        for kind in ("question.noted", "question.tagged", "question.untagged")
    ]
    with pytest.raises(TimeoutError):
        async_to_sync(asyncio.wait_for)(layer.receive(monitor), 0.2)
