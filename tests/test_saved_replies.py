"""Saved replies: variables, the linter on save, filling in, which ones a volunteer gets,
the supervisors' pages and the composer's picker, for every role (DESIGN invariants 5, 6, 8
and 9)."""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone, translation

from charter.models import LinterSettings
from helpdesk.models import AuditEvent, Question, Reply, Role, SavedReply
from helpdesk.saved_replies.actions import (
    SavedReplyError,
    SavedReplyFields,
    archive_saved_reply,
    create_saved_reply,
    restore_saved_reply,
    update_saved_reply,
)
from helpdesk.saved_replies.queries import saved_replies_for
from helpdesk.saved_replies.variables import fill_in, lint_body, values_for, variable_errors
from tests.factories import (
    make_brand,
    make_member,
    make_saved_reply,
    make_store,
    make_topic,
    make_volunteer,
    publish_charter,
)
from tests.people import People
from tests.replies.conftest import Desk, _desk

PASSWORD = "correct horse battery"
ALLOWED = "{customer}, {signature}, {store}, {first_name}"


@pytest.fixture
def desk(db: None) -> Desk:
    return _desk()


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    """Messages in English unless a test asks otherwise (a French request before this test
    leaves French active in the thread)."""
    with translation.override("en"):
        yield


def fields(body: str, **values: Any) -> SavedReplyFields:
    return SavedReplyFields(title=values.pop("title", "Where is my order"), body=body, **values)


def audit_kinds() -> list[str]:
    return list(
        AuditEvent.objects.filter(kind__startswith="saved_reply.")
        .order_by("pk")
        .values_list("kind", flat=True)
    )


def staff(desk: Desk) -> People:
    """The desk's people; its supervisors and admins also answer questions (certified)."""
    return People(desk.brand, staff_level="certified")


# --- variables -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "{customer} Thanks! {signature}",
        "{customer} {first_name} from {store} here. {signature}",
        "Plain text, no variable at all.",
        "{{braces}} of my own {customer}",
    ],
)
def test_allowed_variables_pass(body: str) -> None:
    assert variable_errors(body) == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "{customer} your {order_id} {signature}",
            [f"Unknown variable: {{order_id}}. The variables are {ALLOWED}."],
        ),
        (
            "{name} and {Customer} and {name}",
            [f"Unknown variables: {{name}}, {{Customer}}. The variables are {ALLOWED}."],
        ),
        ("{ customer }", [f"Unknown variable: {{ customer }}. The variables are {ALLOWED}."]),
        (
            "{customer thanks",
            [
                "A brace opens or closes no variable (near “{customer ”). Variables look like "
                "{customer}; write {{ or }} for a brace of your own."
            ],
        ),
        (
            "thanks} {signature}",
            [
                "A brace opens or closes no variable (near “thanks} {signatu”). Variables look "
                "like {customer}; write {{ or }} for a brace of your own."
            ],
        ),
    ],
)
def test_unknown_and_malformed_variables_are_named(body: str, expected: list[str]) -> None:
    assert variable_errors(body) == expected


def test_a_body_with_an_unknown_variable_is_refused_and_nothing_is_saved(desk: Desk) -> None:
    # Given a supervisor of the brand
    supervisor = desk.supervisor

    # When they save a body with a variable that does not exist
    with pytest.raises(SavedReplyError) as refused:
        create_saved_reply(supervisor, fields("{customer} order {order} {signature}"))

    # Then the body's error lists the allowed names, and nothing was written
    assert refused.value.code == "invalid"
    assert refused.value.field_errors == {
        "body": [f"Unknown variable: {{order}}. The variables are {ALLOWED}."]
    }
    assert SavedReply.objects.count() == 0
    assert audit_kinds() == []


def test_a_body_the_linter_blocks_is_refused_with_its_findings_and_nothing_is_saved(
    desk: Desk,
) -> None:
    # Given a supervisor
    supervisor = desk.supervisor

    # When they save a body that asks for an email address in public
    with pytest.raises(SavedReplyError) as refused:
        create_saved_reply(
            supervisor, fields("{customer} write to ann.smith@gmail.com please {signature}")
        )

    # Then it is refused with the linter's blocking finding, and nothing was written
    assert refused.value.code == "blocked"
    assert [(f.rule, f.severity.value) for f in refused.value.findings] == [
        ("email_address", "block")
    ]
    assert list(refused.value.field_errors) == ["body"]
    assert refused.value.field_errors["body"][0].startswith("The charter's rules block this text: ")
    assert SavedReply.objects.count() == 0
    assert audit_kinds() == []


def test_a_body_over_length_once_filled_in_is_refused(desk: Desk) -> None:
    # Given a body of 270 characters plus the customer's handle (at most 16 with its @)
    body = "{customer} " + "x" * 270

    # When a supervisor saves it
    with pytest.raises(SavedReplyError) as refused:
        create_saved_reply(desk.supervisor, fields(body))

    # Then it is refused: filled in, it is over X's limit
    assert [f.rule for f in refused.value.findings if f.severity == "block"] == ["over_length"]
    assert SavedReply.objects.count() == 0


def test_a_body_that_only_needs_review_is_saved(desk: Desk) -> None:
    saved = create_saved_reply(
        desk.supervisor, fields("{customer} We will refund the $20 shipping fee. {signature}")
    )

    assert SavedReply.objects.get().pk == saved.pk
    assert (saved.is_active, saved.created_by_id, saved.updated_by_id) == (
        True,
        desk.supervisor.user_id,
        desk.supervisor.user_id,
    )


def test_another_brand_s_topic_and_an_unknown_language_are_refused(desk: Desk) -> None:
    foreign_topic = make_topic(make_brand())

    with pytest.raises(SavedReplyError) as refused:
        create_saved_reply(
            desk.supervisor, fields("{customer} hi {signature}", topic=foreign_topic, language="de")
        )

    assert refused.value.field_errors == {
        "topic": ["Choose one of the brand's topics."],
        "language": ["Choose a language of the desk."],
    }
    assert SavedReply.objects.count() == 0


# --- filling in ------------------------------------------------------------------------------


def test_each_variable_is_filled_in_for_the_question_and_the_volunteer(desk: Desk) -> None:
    # Given a volunteer with a store, a first name and a signature, and a customer's question
    store = make_store(desk.brand, name="Northwind Chicago Loop")
    volunteer = desk.member("certified", store=store, display_name="Ann Moreau", signature="^AM")
    question = desk.question(volunteer)
    handle = question.customer.username if question.customer else ""

    # When a body with every variable is filled in
    rendered = fill_in(
        "{customer} {first_name} from {store} here: {{sorted}}. {signature}",
        values_for(question, volunteer),
    )

    # Then every variable has its value and nothing is missing
    assert rendered.text == f"@{handle} Ann from Northwind Chicago Loop here: {{sorted}}. ^AM"
    assert rendered.missing == ()


def test_first_name_comes_from_the_account_before_the_display_name(desk: Desk) -> None:
    volunteer = desk.member("certified", display_name="Ann Moreau")
    volunteer.user.first_name = "Annie"
    volunteer.user.save()
    question = desk.question(volunteer)

    assert values_for(question, volunteer)["first_name"] == "Annie"


def test_variables_without_a_value_render_empty_and_are_named(desk: Desk) -> None:
    # Given a volunteer without a store, a name or a signature, and a question without customer
    volunteer = desk.member("certified", signature="")
    question = desk.question(volunteer)
    Question.objects.filter(pk=question.pk).update(customer=None)
    question.refresh_from_db()

    # When a body with every variable is filled in
    rendered = fill_in(
        "{customer} Hi, {first_name} from {store} here.\nThanks {signature}",
        values_for(question, volunteer),
    )

    # Then the empty ones leave no double space and are named in the order they appear
    assert rendered.text == "Hi, from here.\nThanks"
    assert rendered.missing == ("customer", "first_name", "store", "signature")


# --- which ones a volunteer gets -------------------------------------------------------------


def test_saved_replies_for_a_question_filter_by_brand_topic_language_and_state(
    desk: Desk,
) -> None:
    # Given saved replies of the brand for several topics and languages, and another brand's
    delivery = make_topic(desk.brand, name="Delivery")
    returns = make_topic(desk.brand, name="Returns")
    make = make_saved_reply
    any_topic_any_lang = make(desk.brand, title="A general")
    any_topic_en = make(desk.brand, title="B general in English", language="en")
    make(desk.brand, title="C general in French", language="fr")
    delivery_any = make(desk.brand, title="D delivery", topic=delivery)
    delivery_en = make(desk.brand, title="E delivery in English", topic=delivery, language="en")
    make(desk.brand, title="F returns", topic=returns)
    make(desk.brand, title="G archived", is_active=False)
    make_saved_reply(make_brand(), title="H another brand's")
    volunteer = desk.member("certified")
    question = desk.question(volunteer, lang="en")
    Question.objects.filter(pk=question.pk).update(topic=delivery)
    question.refresh_from_db()

    # When the volunteer's saved replies for an English delivery question are listed
    found = saved_replies_for(question, volunteer)

    # Then: the topic's own first (in the question's language first), then the topic-less
    assert [saved.pk for saved in found] == [
        delivery_en.pk,
        delivery_any.pk,
        any_topic_en.pk,
        any_topic_any_lang.pk,
    ]


def test_a_question_without_topic_gets_the_topic_less_ones_and_a_regional_language_matches(
    desk: Desk,
) -> None:
    general_fr = make_saved_reply(desk.brand, title="French", language="fr")
    make_saved_reply(desk.brand, title="English", language="en")
    make_saved_reply(desk.brand, title="Delivery", topic=make_topic(desk.brand))
    volunteer = desk.member("certified")
    question = desk.question(volunteer, lang="fr-CA")

    assert [saved.pk for saved in saved_replies_for(question, volunteer)] == [general_fr.pk]


def test_a_question_in_an_unknown_language_gets_every_language(desk: Desk) -> None:
    english = make_saved_reply(desk.brand, title="English", language="en")
    french = make_saved_reply(desk.brand, title="French", language="fr")
    volunteer = desk.member("certified")
    question = desk.question(volunteer, lang="und")

    assert [saved.pk for saved in saved_replies_for(question, volunteer)] == [french.pk, english.pk]


@pytest.mark.parametrize(
    ("state", "count"),
    [
        ("enrolled", 0),
        ("trainee", 1),
        ("certified", 1),
        ("mentor", 1),
        ("suspended", 0),
        ("lapsed-charter", 0),
        ("expired-certification", 0),
    ],
)
def test_only_people_who_may_claim_get_saved_replies(desk: Desk, state: str, count: int) -> None:
    if state == "lapsed-charter":
        publish_charter(desk.brand)
    make_saved_reply(desk.brand)
    volunteer = desk.member(state)
    question = desk.question(volunteer)

    assert len(saved_replies_for(question, volunteer)) == count


def test_another_brand_s_volunteer_gets_nothing(desk: Desk) -> None:
    make_saved_reply(desk.brand)
    other = make_brand()
    publish_charter(other)
    outsider = make_member(other, "certified", now=timezone.now())

    assert saved_replies_for(desk.question(), outsider) == []


# --- actions and audit -----------------------------------------------------------------------


def test_create_update_archive_restore_are_audited(desk: Desk) -> None:
    # Given a supervisor and a topic
    supervisor = desk.supervisor
    topic = make_topic(desk.brand, slug="delivery", name="Delivery")

    # When they create, edit, archive and restore a saved reply
    saved = create_saved_reply(supervisor, fields("{customer} On its way. {signature}"))
    saved = update_saved_reply(
        supervisor,
        saved,
        fields("{customer} On its way, usually 2 days. {signature}", topic=topic, language="en"),
    )
    saved = archive_saved_reply(supervisor, saved)
    archived = saved.is_active
    saved = restore_saved_reply(supervisor, saved)

    # Then each step is one audit event of the brand by the supervisor, saying what changed
    assert (archived, saved.is_active) == (False, True)
    events = list(AuditEvent.objects.filter(kind__startswith="saved_reply.").order_by("pk"))
    assert [e.kind for e in events] == [
        "saved_reply.created",
        "saved_reply.updated",
        "saved_reply.archived",
        "saved_reply.restored",
    ]
    assert {(e.actor_id, e.brand_id) for e in events} == {(supervisor.user_id, desk.brand.pk)}
    assert events[0].data == {
        "saved_reply_id": saved.pk,
        "title": "Where is my order",
        "topic": None,
        "language": "",
    }
    assert events[1].data == {
        "saved_reply_id": saved.pk,
        "title": "Where is my order",
        "topic": "delivery",
        "language": "en",
        "changed": ["body", "topic", "language"],
    }


def test_saving_without_a_change_and_archiving_twice_write_nothing(desk: Desk) -> None:
    saved = create_saved_reply(desk.supervisor, fields("{customer} Hi {signature}"))
    before = saved.updated_at

    update_saved_reply(desk.supervisor, saved, fields("{customer} Hi {signature}"))
    archive_saved_reply(desk.supervisor, saved)
    archive_saved_reply(desk.supervisor, saved)

    saved.refresh_from_db()
    assert audit_kinds() == ["saved_reply.created", "saved_reply.archived"]
    assert saved.updated_at >= before


def test_restoring_a_saved_reply_the_rules_now_block_is_refused(desk: Desk) -> None:
    # Given an archived saved reply, and a word the brand has blocked since
    saved = create_saved_reply(desk.supervisor, fields("{customer} Try the gizmo. {signature}"))
    archive_saved_reply(desk.supervisor, saved)
    LinterSettings.objects.create(brand=desk.brand, blocked_terms=["gizmo"])

    # When a supervisor restores it
    with pytest.raises(SavedReplyError) as refused:
        restore_saved_reply(desk.supervisor, saved)

    # Then it stays archived
    saved.refresh_from_db()
    assert (refused.value.code, saved.is_active) == ("blocked", False)
    assert audit_kinds() == ["saved_reply.created", "saved_reply.archived"]


@pytest.mark.parametrize("role", [Role.VOLUNTEER, Role.AGENCY])
def test_only_supervisors_and_admins_manage_saved_replies(desk: Desk, role: str) -> None:
    saved = make_saved_reply(desk.brand)
    someone = make_volunteer(desk.brand, role=role)

    with pytest.raises(SavedReplyError) as create_refused:
        create_saved_reply(someone, fields("{customer} hi"))
    with pytest.raises(SavedReplyError) as archive_refused:
        archive_saved_reply(someone, saved)

    saved.refresh_from_db()
    assert (create_refused.value.code, archive_refused.value.code) == ("forbidden", "forbidden")
    assert (SavedReply.objects.count(), saved.is_active, audit_kinds()) == (1, True, [])


def test_another_brand_s_supervisor_cannot_touch_a_saved_reply(desk: Desk) -> None:
    saved = make_saved_reply(desk.brand)
    outsider = make_volunteer(make_brand(), role=Role.SUPERVISOR)

    with pytest.raises(SavedReplyError) as refused:
        update_saved_reply(outsider, saved, fields("{customer} mine now"))

    saved.refresh_from_db()
    assert (refused.value.code, saved.title.startswith("Saved reply")) == ("forbidden", True)


# --- the supervisors' pages ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 302),
        ("no-desk-record", 403),
        ("agency", 403),
        ("trainee", 403),
        ("untrained", 403),
        ("certified", 403),
        ("mentor", 403),
        ("suspended", 403),
        ("supervisor", 200),
        ("admin", 200),
    ],
)
def test_management_pages_by_role(client: Client, desk: Desk, role: str, expected: int) -> None:
    saved = make_saved_reply(desk.brand)
    staff(desk).log_in(client, role)

    responses = [
        client.get("/desk/saved-replies/"),
        client.get("/desk/saved-replies/new/"),
        client.get(f"/desk/saved-replies/{saved.pk}/edit/"),
    ]

    assert [r.status_code for r in responses] == [expected] * 3
    if expected == 302:
        assert all(r["Location"].startswith("/accounts/login/") for r in responses)


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 302),
        ("no-desk-record", 403),
        ("agency", 403),
        ("trainee", 403),
        ("untrained", 403),
        ("certified", 403),
        ("mentor", 403),
        ("suspended", 403),
        ("other-brand-supervisor", 404),
        ("supervisor", 302),
        ("admin", 302),
    ],
)
def test_management_actions_by_role(client: Client, desk: Desk, role: str, expected: int) -> None:
    # Given a saved reply of the brand
    saved = make_saved_reply(desk.brand, title="Original")
    staff(desk).log_in(client, role)

    # When the person creates one, edits it and archives it
    body = {"title": "New", "body": "{customer} Hello {signature}", "action": "save"}
    created = client.post("/desk/saved-replies/new/", body)
    edited = client.post(f"/desk/saved-replies/{saved.pk}/edit/", {**body, "title": "Edited"})
    archived = client.post(f"/desk/saved-replies/{saved.pk}/archive/")

    # Then only supervisors and admins of the brand got through; nobody else wrote anything
    saved.refresh_from_db()
    if role in ("supervisor", "admin"):
        assert [r.status_code for r in (created, edited, archived)] == [302, 302, 302]
        assert (saved.title, saved.is_active) == ("Edited", False)
        assert audit_kinds() == [
            "saved_reply.created",
            "saved_reply.updated",
            "saved_reply.archived",
        ]
        return
    statuses = [r.status_code for r in (created, edited, archived)]
    if role == "other-brand-supervisor":
        # Their own brand gets the new one; this brand's saved reply looks absent.
        assert statuses == [302, 404, 404]
        assert SavedReply.objects.exclude(brand=desk.brand).count() == 1
    else:
        assert statuses == [expected] * 3
        assert SavedReply.objects.count() == 1
    assert (saved.title, saved.is_active) == ("Original", True)


def test_another_brand_s_saved_reply_is_not_there_for_a_supervisor(
    client: Client, desk: Desk
) -> None:
    # Given a saved reply of another brand
    foreign = make_saved_reply(make_brand(), title="Foreign")
    client.force_login(desk.supervisor.user)

    # When this brand's supervisor looks for it
    listing = client.get("/desk/saved-replies/?status=all")
    editing = client.get(f"/desk/saved-replies/{foreign.pk}/edit/")
    restoring = client.post(f"/desk/saved-replies/{foreign.pk}/restore/")

    # Then it is not listed and answers 404; nothing was written
    assert listing.context["saved_replies"] == []
    assert (editing.status_code, restoring.status_code) == (404, 404)
    assert audit_kinds() == []


def test_the_form_shows_variable_errors_with_the_allowed_names(client: Client, desk: Desk) -> None:
    client.force_login(desk.supervisor.user)

    response = client.post(
        "/desk/saved-replies/new/",
        {"title": "Order", "body": "{customer} {order} {signature}", "action": "save"},
    )

    assert response.status_code == 400
    assert "Unknown variable: {order}. The variables are " in response.text
    assert "{customer}, {signature}, {store}, {first_name}" in response.text
    assert SavedReply.objects.count() == 0


def test_the_form_shows_the_linter_s_blocking_findings(client: Client, desk: Desk) -> None:
    client.force_login(desk.supervisor.user)

    response = client.post(
        "/desk/saved-replies/new/",
        {"title": "Call", "body": "{customer} call 206-555-0199 {signature}", "action": "save"},
    )

    assert response.status_code == 400
    assert "<code>phone_number</code>" in response.text
    assert SavedReply.objects.count() == 0


def test_checking_shows_the_filled_in_text_and_saves_nothing(client: Client, desk: Desk) -> None:
    client.force_login(desk.supervisor.user)

    response = client.post(
        "/desk/saved-replies/new/",
        {
            "title": "Refund",
            "body": "{customer} We will refund you. {signature}",
            "action": "check",
        },
    )

    assert response.status_code == 200
    assert "@customer_handle We will refund you. ^AB" in response.text
    assert "<code>promise</code>" in response.text
    assert SavedReply.objects.count() == 0


def test_the_list_filters_by_topic_language_and_status(client: Client, desk: Desk) -> None:
    # Given saved replies for two topics and languages, one archived
    delivery = make_topic(desk.brand, name="Delivery")
    make_saved_reply(desk.brand, title="Delivery EN", topic=delivery, language="en")
    make_saved_reply(desk.brand, title="Delivery FR", topic=delivery, language="fr")
    make_saved_reply(desk.brand, title="General", language="")
    make_saved_reply(desk.brand, title="Old", is_active=False)
    make_saved_reply(make_brand(), title="Foreign")
    client.force_login(desk.supervisor.user)

    def titles(query: str) -> list[str]:
        response = client.get(f"/desk/saved-replies/{query}")
        assert response.status_code == 200
        return [saved.title for saved in response.context["saved_replies"]]

    # Then each filter keeps what it says, within the brand only
    assert titles("") == ["General", "Delivery EN", "Delivery FR"]
    assert titles(f"?topic={delivery.pk}&language=fr") == ["Delivery FR"]
    assert titles("?topic=none") == ["General"]
    assert titles("?language=any&status=all") == ["General", "Old"]
    assert titles("?status=archived") == ["Old"]
    assert titles("?topic=nonsense") == ["General", "Delivery EN", "Delivery FR"]


def test_hostile_text_is_escaped_on_the_management_pages(client: Client, desk: Desk) -> None:
    saved = make_saved_reply(
        desk.brand, title="<script>alert(1)</script>", body="<img src=x onerror=alert(2)>"
    )
    client.force_login(desk.supervisor.user)

    listing = client.get("/desk/saved-replies/")
    editing = client.get(f"/desk/saved-replies/{saved.pk}/edit/")

    for page in (listing.text, editing.text):
        assert "<script>alert(1)" not in page
        assert "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in listing.text
    assert "&lt;img src=x onerror=alert(2)&gt;" in editing.text


def test_the_management_page_in_french(client: Client, desk: Desk) -> None:
    make_saved_reply(desk.brand, title="Livraison", language="fr")
    client.force_login(desk.supervisor.user)

    page = client.get("/desk/saved-replies/", HTTP_ACCEPT_LANGUAGE="fr")
    form = client.get("/desk/saved-replies/new/", HTTP_ACCEPT_LANGUAGE="fr")

    assert '<html lang="fr">' in page.text
    assert "<title>Réponses types · Helpforce</title>" in page.text
    assert "Nouvelle réponse type" in page.text
    assert "Toutes les langues" in page.text
    assert "jamais utilisée" in page.text
    assert "<title>Nouvelle réponse type · Helpforce</title>" in form.text
    assert "le @pseudo du client" in form.text


def test_every_page_has_a_title_and_labelled_inputs(client: Client, desk: Desk) -> None:
    saved = make_saved_reply(desk.brand)
    client.force_login(desk.supervisor.user)

    for url in ("/desk/saved-replies/", "/desk/saved-replies/new/"):
        page = client.get(url).text
        assert "<title>" in page
        for name in ("topic", "language"):
            assert f'<label for="id_{name}">' in page
    edit = client.get(f"/desk/saved-replies/{saved.pk}/edit/").text
    assert '<label for="id_body">' in edit and '<label for="id_title">' in edit


# --- the composer ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 302),
        ("no-desk-record", 403),
        ("agency", 403),
        ("untrained", 404),
        ("trainee", 200),
        ("certified", 200),
        ("mentor", 200),
        ("supervisor", 200),
        ("admin", 200),
        ("suspended", 404),
        ("other-brand-supervisor", 404),
    ],
)
def test_using_a_saved_reply_in_the_composer_by_role(
    client: Client, desk: Desk, role: str, expected: int
) -> None:
    # Given a saved reply, and the person holding a question of the brand when they can
    saved = make_saved_reply(desk.brand, body="{customer} Here to help. {signature}")
    volunteer = staff(desk).log_in(client, role)
    holds = volunteer is not None and volunteer.brand_id == desk.brand.pk
    question = desk.question(volunteer if holds and role != "agency" else desk.member())

    # When they open the composer with the saved reply
    response = client.get(f"/desk/questions/{question.pk}/compose/?saved={saved.pk}")

    # Then only people who may claim get it, filled in for them
    assert response.status_code == expected
    if expected == 200:
        assert volunteer is not None and question.customer is not None
        draft = f"@{question.customer.username} Here to help. {volunteer.signature}"
        assert response.context["draft"] == draft
        assert f">{draft}</textarea>" in response.text
    assert Reply.objects.count() == 0


def test_the_composer_shows_the_picker_filled_in_for_the_question(
    client: Client, desk: Desk
) -> None:
    # Given two saved replies and a holder without a store
    general = make_saved_reply(desk.brand, title="General", body="{customer} Hi! {signature}")
    make_saved_reply(desk.brand, title="Store", body="{customer} Come to {store}. {signature}")
    holder = desk.member("certified", signature="^AM")
    question = desk.question(holder)
    handle = question.customer.username if question.customer else ""
    client.force_login(holder.user)

    # When they open the composer
    response = client.get(f"/desk/questions/{question.pk}/compose/")

    # Then the labelled picker offers both, filled in; the draft is the usual start
    assert response.status_code == 200
    assert '<label for="saved-select">' in response.text
    assert '<label for="saved-filter">' in response.text
    assert f'value="{general.pk}" data-text="@{handle} Hi! ^AM"' in response.text
    assert f'data-text="@{handle} Come to . ^AM"' in response.text
    assert "{store} had no value: it was left empty." in response.text
    assert response.context["draft"] == f"@{handle}  ^AM"
    assert "helpdesk/saved_replies.js" in response.text


def test_prefilling_says_which_variable_was_empty_and_lints_the_draft(
    client: Client, desk: Desk
) -> None:
    saved = make_saved_reply(desk.brand, title="Visit", body="{customer} See {store}. {signature}")
    holder = desk.member("certified")
    question = desk.question(holder)
    client.force_login(holder.user)

    response = client.get(f"/desk/questions/{question.pk}/compose/?saved={saved.pk}")

    assert response.status_code == 200
    assert (
        "Saved reply “Visit” inserted into your draft. {store} had no value: it was left empty."
        in response.text
    )
    assert response.context["result"].text == response.context["draft"]
    assert f'name="saved" id="saved-used" value="{saved.pk}"' in response.text


@pytest.mark.parametrize("which", ["other-brand", "archived", "other-topic", "missing", "junk"])
def test_a_saved_reply_the_holder_may_not_use_looks_absent(
    client: Client, desk: Desk, which: str
) -> None:
    holder = desk.member("certified")
    question = desk.question(holder)
    pk: object
    if which == "other-brand":
        pk = make_saved_reply(make_brand()).pk
    elif which == "archived":
        pk = make_saved_reply(desk.brand, is_active=False).pk
    elif which == "other-topic":
        pk = make_saved_reply(desk.brand, topic=make_topic(desk.brand)).pk
    elif which == "missing":
        pk = 999_999
    else:
        pk = "1;DROP"
    client.force_login(holder.user)

    response = client.get(f"/desk/questions/{question.pk}/compose/?saved={pk}")

    assert response.status_code == 404


def test_hostile_handle_and_body_are_escaped_in_the_composer(client: Client, desk: Desk) -> None:
    # Given a customer whose handle is markup, and a saved reply with markup in it
    saved = make_saved_reply(
        desk.brand, title='"><b>bold</b>', body='{customer} "><script>alert(1)</script>'
    )
    holder = desk.member("certified")
    question = desk.question(holder)
    assert question.customer is not None
    question.customer.username = "<img src=x onerror=alert(2)>"
    question.customer.save()
    client.force_login(holder.user)

    # When the composer shows the picker and the pre-filled draft
    response = client.get(f"/desk/questions/{question.pk}/compose/?saved={saved.pk}")

    # Then nothing of it is markup
    assert response.status_code == 200
    page = response.text
    assert "<script>alert(1)" not in page
    assert "<img src=x" not in page
    assert "<b>bold</b>" not in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page
    assert "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_submitting_a_reply_from_a_saved_reply_counts_one_use(client: Client, desk: Desk) -> None:
    saved = make_saved_reply(desk.brand, body="{customer} Thanks, usually 2 days. {signature}")
    other = make_saved_reply(make_brand())
    holder = desk.member("certified")
    question = desk.question(holder)
    handle = question.customer.username if question.customer else ""
    client.force_login(holder.user)

    checked = client.post(
        f"/desk/questions/{question.pk}/compose/",
        {"text": "draft", "action": "check", "saved": str(saved.pk)},
    )
    sent = client.post(
        f"/desk/questions/{question.pk}/compose/",
        {
            "text": f"@{handle} Thanks, usually 2 days. {holder.signature}",
            "action": "submit",
            "saved": str(saved.pk),
        },
    )

    saved.refresh_from_db()
    other.refresh_from_db()
    assert (checked.status_code, sent.status_code) == (200, 302)
    assert (saved.use_count, other.use_count) == (1, 0)
    assert Reply.objects.filter(question=question).count() == 1


def test_a_holder_who_may_not_claim_sees_no_picker(client: Client, desk: Desk) -> None:
    make_saved_reply(desk.brand)
    holder = desk.member("suspended")
    question = desk.question(holder)
    client.force_login(holder.user)

    response = client.get(f"/desk/questions/{question.pk}/compose/")

    assert response.status_code == 200
    assert 'id="saved-select"' not in response.text


def test_the_composer_s_picker_in_french(client: Client, desk: Desk) -> None:
    make_saved_reply(desk.brand, body="{customer} Bonjour de {store} ! {signature}", language="fr")
    holder = desk.member("certified")
    question = desk.question(holder, lang="fr")
    client.force_login(holder.user)

    response = client.get(f"/desk/questions/{question.pk}/compose/", HTTP_ACCEPT_LANGUAGE="fr")

    assert "Insérer dans mon brouillon" in response.text
    assert "{store} n\u2019avait pas de valeur : laissée vide." in response.text


# --- the demo --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_seed_demo_adds_saved_replies_once(settings: Any) -> None:
    settings.DEBUG = True
    call_command("seed_demo", "--no-history", stdout=StringIO(), stderr=StringIO())
    first = list(SavedReply.objects.order_by("pk").values("title", "language", "body"))

    out = StringIO()
    call_command("seed_demo", "--no-history", stdout=out, stderr=StringIO())

    assert list(SavedReply.objects.order_by("pk").values("title", "language", "body")) == first
    assert "nothing changed" in out.getvalue()
    assert {row["language"] for row in first} == {"en", "fr"}
    assert 4 <= len(first) <= 6
    assert all(variable_errors(row["body"]) == [] for row in first)
    brand_id = SavedReply.objects.values_list("brand_id", flat=True).first()
    assert brand_id is not None
    verdicts = {lint_body(brand_id, row["body"], row["language"]).verdict for row in first}
    assert verdicts == {"ok"}
