"""Issue 14, item 4: supervisors' bulk triage (dismiss, assign, merge a customer's
duplicates), grouped by customer; only the brand's queued questions move, one transaction,
audited, announced once; nobody else may (DESIGN invariants 5 and 8)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.db import transaction
from django.test import Client
from time_machine import TimeMachineFixture

from helpdesk.audit import events
from helpdesk.models import AuditEvent, Brand, Customer, Question, Volunteer
from helpdesk.states import QuestionState
from routing.actions import undo_dismissal
from routing.claims import claim_question
from tests.factories import make_brand, publish_charter
from tests.people import People
from tests.routing.onshift import member, question

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
URL = "/desk/triage/"
_seq = itertools.count(1)


@pytest.fixture
def charter(brand: Brand, time_machine: TimeMachineFixture) -> Brand:
    time_machine.move_to(NOW, tick=False)
    publish_charter(brand)
    return brand


def customer(handle: str = "") -> Customer:
    n = next(_seq)
    return Customer.objects.create(
        x_user_id=str(700_000 + n), username=handle or f"cust{n}", name=f"Customer {n}"
    )


def asked(brand: Brand, who: Customer | None, minutes_ago: int, text: str = "") -> Question:
    """A queued question of ``who``, received ``minutes_ago`` before NOW."""
    fields: dict[str, Any] = {"text": text} if text else {}
    return question(brand, customer=who, received_at=NOW - timedelta(minutes=minutes_ago), **fields)


def supervisor_client(people: People) -> tuple[Client, Volunteer]:
    client = Client()
    supervisor = people.log_in(client, "supervisor")
    assert supervisor is not None
    return client, supervisor


def states(*questions: Question) -> list[str]:
    return [Question.objects.get(pk=q.pk).state for q in questions]


def texts(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def row_of(page: str, key: str) -> str:
    """The HTML of the page's row ``key`` (``c<customer id>`` or ``q<question id>``)."""
    match = re.search(
        rf'<li class="card triage-row" id="row-{key}".*?</details>|'
        rf'<li class="card triage-row" id="row-{key}".*?</li>',
        page,
        re.S,
    )
    assert match is not None, f"no row {key}"
    return match.group(0)


@pytest.fixture
def announced(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """What the moves announce once their transaction commits: (kind, payload)."""
    sent: list[tuple[str, dict[str, Any]]] = []

    def announce(groups: list[str], kind: str, payload: dict[str, Any]) -> None:
        transaction.on_commit(lambda: sent.append((kind, payload)))

    monkeypatch.setattr("helpdesk.moves.announce", announce)
    return sent


# --- the page --------------------------------------------------------------------------------


def test_a_customers_waiting_questions_are_one_row_ticking_only_the_queued(
    charter: Brand, people: People
) -> None:
    # given a customer with three queued questions and one claimed, and another customer
    repeat, once = customer("repeat"), customer("once")
    first = asked(charter, repeat, 30, "first <b>try</b>")
    second = asked(charter, repeat, 20)
    newest = asked(charter, repeat, 10, "newest & last")
    holder = member(charter, "certified", now=NOW)
    held = asked(charter, repeat, 25)
    assert claim_question(held.pk, holder.user, now=NOW).won
    alone = asked(charter, once, 5)
    client, _supervisor = supervisor_client(people)

    # when the supervisor opens the triage page
    page = client.get(URL).content.decode()

    # then the customer is one row of four questions, newest text shown, whose box sends
    # the three queued ones, each also with its own box; the other customer is a row alone
    group = row_of(page, f"c{repeat.pk}")
    assert 'data-count="4"' in group
    assert '<span class="badge group-count">4 questions</span>' in group
    assert '<blockquote class="text" dir="auto">newest &amp; last</blockquote>' in group
    assert f'name="question" value="{first.pk},{second.pk},{newest.pk}"' in group
    for item in (first, second, newest):
        assert f'id="tick-q{item.pk}"' in group
    assert f'id="tick-q{held.pk}"' not in group  # claimed: shown, not tickable
    assert f'id="keep-{held.pk}"' in group
    assert "first &lt;b&gt;try&lt;/b&gt;" in group and "<b>try</b>" not in page
    single = row_of(page, f"c{once.pk}")
    assert 'data-count="1"' in single
    assert f'name="question" value="{alone.pk}"' in single
    assert page.count('class="card triage-row"') == 2
    assert f'href="{URL}"' in page  # in the supervisors' menu


def test_another_brands_questions_are_not_on_the_page(charter: Brand, people: People) -> None:
    other = make_brand()
    foreign = question(other, text="another brand's words")
    client, _supervisor = supervisor_client(people)

    page = client.get(URL).content.decode()

    assert "another brand&#x27;s words" not in page and f"tick-q{foreign.pk}" not in page
    assert "No question is waiting." in page


def test_filters_by_topic_and_language(charter: Brand, people: People) -> None:
    from tests.factories import make_topic

    billing = make_topic(charter, slug="billing", name="Billing")
    french = question(charter, customer=customer(), lang="fr", topic=billing)
    english = question(charter, customer=customer(), lang="en", topic=billing)
    client, _supervisor = supervisor_client(people)

    page = client.get(URL, {"topic": "billing", "lang": "fr"}).content.decode()

    assert f'id="question-{french.pk}"' in page
    assert f'id="question-{english.pk}"' not in page
    assert '<option value="billing" selected>Billing</option>' in page


# --- dismiss ---------------------------------------------------------------------------------


def test_bulk_dismiss_moves_exactly_the_ticked_queued_questions_audits_and_announces_once(
    charter: Brand,
    people: People,
    announced: list[tuple[str, dict[str, Any]]],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    # given three queued questions, two of one customer
    spammer = customer()
    a, b = asked(charter, spammer, 20), asked(charter, spammer, 10)
    untouched = asked(charter, customer(), 5)
    client, supervisor = supervisor_client(people)

    # when the supervisor ticks the customer's row and dismisses it as spam
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            URL, {"question": [f"{a.pk},{b.pk}"], "action": "dismiss", "reason": "  Spam  "}
        )

    # then exactly those two are dismissed with the reason, each audited by the supervisor,
    # and the queue hears one announcement with both ids
    assert response.status_code == 302
    assert states(a, b, untouched) == ["dismissed", "dismissed", "queued"]
    assert [Question.objects.get(pk=q.pk).dismissed_reason for q in (a, b)] == ["Spam", "Spam"]
    rows = list(
        events()
        .filter(kind="question.dismissed")
        .order_by("question_id")
        .values_list("question_id", "actor_id", "from_state", "to_state", "data")
    )
    assert rows == [
        (a.pk, supervisor.user_id, "queued", "dismissed", {"reason": "Spam", "bulk": True}),
        (b.pk, supervisor.user_id, "queued", "dismissed", {"reason": "Spam", "bulk": True}),
    ]
    assert announced == [
        ("questions.dismissed", {"brand_id": charter.pk, "question_ids": [a.pk, b.pk]})
    ]
    assert texts(response) == ["2 questions dismissed."]


def test_a_question_claimed_meanwhile_is_skipped_and_said_so(
    charter: Brand, people: People
) -> None:
    # given two queued questions, one of which a volunteer claims after the page was drawn
    waiting, taken = asked(charter, customer(), 20), asked(charter, customer(), 10)
    holder = member(charter, "certified", now=NOW)
    client, _supervisor = supervisor_client(people)
    client.get(URL)
    assert claim_question(taken.pk, holder.user, now=NOW).won

    # when the supervisor dismisses both
    response = client.post(
        URL, {"question": [str(waiting.pk), str(taken.pk)], "action": "dismiss", "reason": "x"}
    )

    # then only the still-queued one moved; the claim stands, and the message says so
    assert states(waiting, taken) == ["dismissed", "claimed"]
    assert Question.objects.get(pk=taken.pk).claimed_by_id == holder.user_id
    assert texts(response) == [
        "1 question dismissed.",
        "1 skipped: it was no longer waiting in the queue (claimed, dismissed or answered "
        "meanwhile).",
    ]


def test_another_brands_id_in_the_form_is_left_alone(charter: Brand, people: People) -> None:
    own = asked(charter, customer(), 10)
    foreign = question(make_brand(), customer=customer())
    client, _supervisor = supervisor_client(people)

    response = client.post(
        URL, {"question": [f"{own.pk},{foreign.pk}"], "action": "dismiss", "reason": "Spam"}
    )

    assert states(own, foreign) == ["dismissed", "queued"]
    assert not events().filter(question_id=foreign.pk).exists()
    assert texts(response) == ["1 question dismissed."]


def test_only_another_brands_ids_is_nothing_ticked(charter: Brand, people: People) -> None:
    foreign = question(make_brand(), customer=customer())
    client, _supervisor = supervisor_client(people)

    response = client.post(
        URL, {"question": [str(foreign.pk)], "action": "dismiss", "reason": "Spam"}
    )

    assert response.status_code == 400
    assert "Tick the questions first." in response.content.decode()
    assert states(foreign) == ["queued"]


@pytest.mark.parametrize("who", ["certified", "agency", "untrained", "suspended"])
def test_someone_who_does_not_supervise_is_refused_and_nothing_changes(
    charter: Brand, people: People, who: str
) -> None:
    target = asked(charter, customer(), 10)
    client = Client()
    people.log_in(client, who)
    audit_before = AuditEvent.objects.count()

    response = client.post(
        URL, {"question": [str(target.pk)], "action": "dismiss", "reason": "Spam"}
    )

    assert response.status_code == 403
    assert states(target) == ["queued"]
    assert AuditEvent.objects.count() == audit_before


def test_another_brands_supervisor_cannot_touch_this_brands_questions(
    charter: Brand, people: People
) -> None:
    target = asked(charter, customer(), 10)
    client = Client()
    people.log_in(client, "other-brand-supervisor")

    response = client.post(
        URL, {"question": [str(target.pk)], "action": "dismiss", "reason": "Spam"}
    )

    assert response.status_code == 400
    assert states(target) == ["queued"]


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"action": "dismiss", "reason": "Spam"}, "Tick the questions first."),
        (
            {"question": ["TICKED"], "action": "shred"},
            "Choose what to do: dismiss, assign or merge.",
        ),
        ({"question": ["TICKED"]}, "Choose what to do: dismiss, assign or merge."),
        (
            {"question": ["TICKED"], "action": "dismiss", "reason": " "},
            "Say why the questions are dismissed.",
        ),
        (
            {"question": ["TICKED"], "action": "dismiss", "reason": "x" * 201},
            "Keep the reason under 200 characters.",
        ),
        (
            {"question": ["TICKED"], "action": "assign", "to": "²"},
            "Choose the person to give the questions to.",
        ),
    ],
)
def test_a_refused_form_is_the_page_again_with_the_error_and_nothing_changes(
    charter: Brand, people: People, form: dict[str, Any], error: str
) -> None:
    target = asked(charter, customer(), 10)
    client, _supervisor = supervisor_client(people)
    if "question" in form:
        form = {**form, "question": [str(target.pk)]}
    audit_before = AuditEvent.objects.count()

    response = client.post(URL, form)

    page = response.content.decode()
    assert response.status_code == 400
    assert f'<li class="error">{error}</li>' in page
    assert f'id="row-c{target.customer_id}"' in page
    assert states(target) == ["queued"]
    assert AuditEvent.objects.count() == audit_before


# --- assign ----------------------------------------------------------------------------------


def test_assign_gives_the_ticked_questions_to_an_eligible_person(
    charter: Brand,
    people: People,
    announced: list[tuple[str, dict[str, Any]]],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    a, b = asked(charter, customer(), 20), asked(charter, customer(), 10)
    helper = member(charter, "certified", now=NOW, display_name="Helper")
    client, supervisor = supervisor_client(people)
    assert f'<option value="{helper.user_id}">Helper</option>' in client.get(URL).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            URL, {"question": [str(a.pk), str(b.pk)], "action": "assign", "to": helper.user_id}
        )

    assert states(a, b) == ["claimed", "claimed"]
    held = Question.objects.filter(pk__in=[a.pk, b.pk])
    assert {q.claimed_by_id for q in held} == {helper.user_id}
    assert all(q.lease_expires_at is not None and q.lease_expires_at > NOW for q in held)
    assert sorted(
        events()
        .filter(kind="question.reassigned")
        .values_list("question_id", "actor_id", "from_state", "to_state")
    ) == [
        (a.pk, supervisor.user_id, "queued", "claimed"),
        (b.pk, supervisor.user_id, "queued", "claimed"),
    ]
    assert announced == [
        ("questions.assigned", {"brand_id": charter.pk, "question_ids": [a.pk, b.pk]})
    ]
    assert texts(response) == ["2 questions now go to Helper."]


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"on_shift": False}, "not_on_shift"),
        ({"languages": ["de"]}, "language"),
    ],
)
def test_assign_to_an_ineligible_person_changes_nothing(
    charter: Brand, people: People, fields: dict[str, Any], why: str
) -> None:
    a, b = asked(charter, customer(), 20), asked(charter, customer(), 10)
    outsider = member(charter, "certified", now=NOW, **fields)
    client, _supervisor = supervisor_client(people)
    audit_before = AuditEvent.objects.count()

    response = client.post(
        URL, {"question": [str(a.pk), str(b.pk)], "action": "assign", "to": outsider.user_id}
    )

    assert response.status_code == 400
    assert (
        f"They may not take these questions: {why} (#{a.pk}, #{b.pk})" in response.content.decode()
    )
    assert states(a, b) == ["queued", "queued"]
    assert not Question.objects.filter(claimed_by_id=outsider.user_id).exists()
    assert AuditEvent.objects.count() == audit_before


def test_assign_to_another_brands_person_is_refused(charter: Brand, people: People) -> None:
    target = asked(charter, customer(), 10)
    other = people.volunteer("other-brand-volunteer")
    client, _supervisor = supervisor_client(people)

    response = client.post(
        URL, {"question": [str(target.pk)], "action": "assign", "to": other.user_id}
    )

    assert response.status_code == 400
    assert "Choose the person to give the questions to." in response.content.decode()
    assert states(target) == ["queued"]


# --- merge -----------------------------------------------------------------------------------


def test_merge_keeps_the_earliest_and_dismisses_the_rest_naming_it(
    charter: Brand, people: People
) -> None:
    # given a customer who asked the same thing three times
    repeat = customer()
    first = asked(charter, repeat, 30, "where is my order")
    again = asked(charter, repeat, 20, "where is my order??")
    third = asked(charter, repeat, 10, "hello?? <script>x()</script>")
    client, supervisor = supervisor_client(people)

    # when the supervisor ticks the customer's row and merges
    response = client.post(
        URL, {"question": [f"{first.pk},{again.pk},{third.pk}"], "action": "merge"}
    )

    # then the earliest stays queued; the others are dismissed as merged into it, audited
    assert states(first, again, third) == ["queued", "dismissed", "dismissed"]
    reason = f"merged into #{first.pk}"
    assert [Question.objects.get(pk=q.pk).dismissed_reason for q in (again, third)] == [
        reason,
        reason,
    ]
    assert sorted(
        events().filter(kind="question.merged").values_list("question_id", "actor_id", "data")
    ) == [
        (again.pk, supervisor.user_id, {"reason": reason, "merged_into": first.pk}),
        (third.pk, supervisor.user_id, {"reason": reason, "merged_into": first.pk}),
    ]
    kept_row = events().get(kind="question.duplicates_merged")
    assert (kept_row.question_id, kept_row.data) == (first.pk, {"merged": [again.pk, third.pk]})
    assert texts(response) == [f"2 duplicates merged into #{first.pk}."]

    # and the kept question's page lists what was merged into it, escaped
    page = client.get(f"/desk/questions/{first.pk}/").content.decode()
    assert "Duplicates merged into this question" in page
    assert f'id="merged-{again.pk}"' in page and f'id="merged-{third.pk}"' in page
    assert "&lt;script&gt;x()&lt;/script&gt;" in page and "<script>x()" not in page
    merged_page = client.get(f"/desk/questions/{third.pk}/").content.decode()
    assert f"Dismissed: {reason}" in merged_page


def test_merge_keeps_the_chosen_question_even_a_claimed_one(charter: Brand, people: People) -> None:
    repeat = customer()
    held = asked(charter, repeat, 30)
    holder = member(charter, "certified", now=NOW)
    assert claim_question(held.pk, holder.user, now=NOW).won
    a, b = asked(charter, repeat, 20), asked(charter, repeat, 10)
    client, _supervisor = supervisor_client(people)

    client.post(URL, {"question": [f"{a.pk},{b.pk}"], "action": "merge", "keep": held.pk})

    assert states(held, a, b) == ["claimed", "dismissed", "dismissed"]
    page = client.get(f"/desk/questions/{held.pk}/").content.decode()
    assert f'id="merged-{a.pk}"' in page and f'id="merged-{b.pk}"' in page


def test_merge_refuses_two_customers_questions(charter: Brand, people: People) -> None:
    a, b = asked(charter, customer(), 20), asked(charter, customer(), 10)
    client, _supervisor = supervisor_client(people)
    audit_before = AuditEvent.objects.count()

    response = client.post(URL, {"question": [str(a.pk), str(b.pk)], "action": "merge"})

    assert response.status_code == 400
    assert "Only one customer&#x27;s questions can be merged together." in (
        response.content.decode()
    )
    assert states(a, b) == ["queued", "queued"]
    assert AuditEvent.objects.count() == audit_before


def test_a_merged_duplicate_is_restored_by_the_existing_undo(
    charter: Brand, people: People
) -> None:
    # given a duplicate merged into the customer's first question
    repeat = customer()
    first, again = asked(charter, repeat, 30), asked(charter, repeat, 20)
    client, supervisor = supervisor_client(people)
    client.post(URL, {"question": [f"{first.pk},{again.pk}"], "action": "merge"})
    assert states(again) == ["dismissed"]

    # when a supervisor undoes the dismissal
    restored = undo_dismissal(Question.objects.get(pk=again.pk), by_user=supervisor.user)

    # then it waits again, without the reason, and the kept question no longer lists it
    assert (restored.state, restored.dismissed_reason) == (QuestionState.QUEUED, "")
    assert events().get(kind="question.restored", question_id=again.pk).data == {
        "reason": f"merged into #{first.pk}"
    }
    page = client.get(f"/desk/questions/{first.pk}/").content.decode()
    assert f'id="merged-{again.pk}"' not in page
    assert "Duplicates merged into this question" not in page


def test_the_page_reads_in_a_bounded_number_of_queries(charter: Brand, people: People) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client, _supervisor = supervisor_client(people)

    def queries_for_the_page() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL).status_code == 200
        return len(captured)

    def a_customer_with_a_claimed_question(n: int) -> None:
        who = customer()
        asked(charter, who, 30 + n)
        held = asked(charter, who, 20 + n)
        holder = member(charter, "certified", now=NOW)  # each their own: claims are capped
        assert claim_question(held.pk, holder.user, now=NOW).won

    a_customer_with_a_claimed_question(0)
    one = queries_for_the_page()
    for n in range(1, 10):
        a_customer_with_a_claimed_question(n)
    ten = queries_for_the_page()

    assert client.get(URL).content.decode().count('class="card triage-row"') == 10
    assert ten == one
