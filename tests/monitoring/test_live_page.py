"""The live monitoring page (/monitoring/): who may watch, what each sees, and that every
figure equals a count made here from the rows, independently of the page's queries."""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from helpdesk.models import Question, Reply
from helpdesk.monitoring.queries import snapshot
from helpdesk.states import QuestionState, ReplyState
from routing.models import Shift
from tests.factories import make_account, make_brand, make_store, make_topic, make_volunteer
from tests.people import AGENCY, People
from tests.reports.factories import answer, make_question

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert("x")</script>'


def away_from_midnight(now: datetime) -> datetime:
    """``now``, or an hour before today began (UTC, the brand's zone) when today is younger
    than four hours: the desk's rows go back three hours, and "today" and "this month" must
    hold all of them whenever the tests run (a run at 00:01 UTC split them)."""
    midnight = now.replace(hour=0, minute=0, second=0)
    return now if now - midnight >= timedelta(hours=4) else midnight - timedelta(hours=1)


@pytest.fixture
def desk() -> dict[str, Any]:
    """Two stores' questions in every state that matters, at a frozen moment."""
    now = away_from_midnight(timezone.now().replace(microsecond=0))
    brand = make_brand()
    account = make_account(brand)
    store_a = make_store(brand, code="A1", name="Alpha")
    store_b = make_store(brand, code="B2", name=HOSTILE)
    billing = make_topic(brand, name="Billing " + HOSTILE)
    alice = make_volunteer(brand, store=store_a, display_name="Alice")
    bruno = make_volunteer(brand, store=store_b, display_name="Bruno")
    people = People(brand, store=store_a, other_store=store_b, other_brand=make_brand())
    minutes = [5, 50, 12, 30, 3]
    for i, late in enumerate(minutes):  # answered within the last hour
        received = now - timedelta(minutes=55 - i)
        q = make_question(brand, received_at=received, tweeted_at=received, store=store_a)
        answer(q, alice.user, account, sent_at=received + timedelta(minutes=late), store=store_a)
    old = make_question(brand, received_at=now - timedelta(hours=3), store=store_a)
    answer(old, alice.user, account, sent_at=now - timedelta(hours=2), store=store_a)
    waiting = [
        make_question(
            brand,
            received_at=now - timedelta(minutes=40),
            topic=billing,
            priority=1,
            store=store_a,
            sla_due_at=now - timedelta(minutes=1),
        ),
        make_question(
            brand,
            received_at=now - timedelta(minutes=20),
            lang="fr",
            priority=2,
            sla_due_at=now + timedelta(minutes=10),
        ),
        make_question(
            brand,
            received_at=now - timedelta(minutes=90),
            lang="fr-CA",
            priority=0,
            store=store_b,
            sla_due_at=now + timedelta(hours=2),
        ),
        make_question(brand, received_at=now - timedelta(minutes=2), state=QuestionState.NEW),
    ]
    make_question(
        brand,
        received_at=now - timedelta(minutes=70),
        state=QuestionState.CLAIMED,
        store=store_b,
        sla_due_at=now - timedelta(minutes=30),
    )
    make_question(brand, received_at=now - timedelta(days=2), state=QuestionState.DISMISSED)
    for author, store in ((alice, store_a), (bruno, store_b), (bruno, store_b)):
        q = make_question(
            brand,
            received_at=now - timedelta(minutes=15),
            state=QuestionState.IN_REVIEW,
            store=store,
        )
        Reply.objects.create(
            question=q,
            author=author.user,
            account=account,
            store=store,
            text="Hello ^AB",
            state=ReplyState.PENDING_REVIEW,
            submitted_at=now - timedelta(minutes=9),
        )
    Shift.objects.create(user=alice.user, brand=brand, started_at=now - timedelta(hours=1))
    Shift.objects.create(user=bruno.user, brand=brand, started_at=now - timedelta(hours=1))
    Shift.objects.create(
        user=people.user("certified"),
        brand=brand,
        started_at=now - timedelta(hours=3),
        ended_at=now - timedelta(hours=2),
    )
    return {
        "brand": brand,
        "now": now,
        "store_a": store_a,
        "store_b": store_b,
        "people": people,
        "minutes": minutes,
        "waiting": waiting,
        "topic": billing,
    }


def percentile(values: list[float], fraction: float) -> float:
    """Linear interpolation between closest ranks, as docs/metrics.md defines it."""
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def test_the_brands_figures_equal_a_count_of_the_rows(desk: dict[str, Any]) -> None:
    brand, now = desk["brand"], desk["now"]
    snap = snapshot(brand.pk, None, now)
    rows = list(Question.objects.filter(brand=brand))
    waiting = [q for q in rows if q.state in ("new", "queued")]
    assert snap.waiting == len(waiting) == 4
    assert {t.key: t.count for t in snap.by_topic} == {desk["topic"].pk: 1, None: 3}
    assert {t.key: t.count for t in snap.by_language} == {"en": 2, "fr": 2}
    assert {t.key: t.count for t in snap.by_priority} == {0: 1, 1: 1, 2: 2}
    assert snap.oldest_waiting_id == min(waiting, key=lambda q: q.received_at).pk
    assert snap.oldest_waiting_seconds == 90 * 60
    durations = [m * 60.0 for m in desk["minutes"]]
    assert snap.response_count == 5
    assert snap.response_p50 == pytest.approx(statistics.median(durations))
    assert snap.response_p90 == pytest.approx(percentile(durations, 0.9))
    assert (snap.past_deadline, snap.near_deadline) == (2, 1)
    assert [d.past for d in snap.deadlines] == [True, True, False]
    assert snap.on_shift == 2
    assert {s.store: s.on_shift for s in snap.shifts_by_store} == {"Alpha": 1, HOSTILE: 1}
    assert snap.in_review == 3
    assert snap.oldest_review_since == now - timedelta(minutes=9)


def test_a_supervisor_sees_their_store_and_the_shared_queue(desk: dict[str, Any]) -> None:
    snap = snapshot(desk["brand"].pk, frozenset({desk["store_a"].pk}), desk["now"])
    # Store A's waiting question and the two in the shared pool; not store B's.
    assert snap.waiting == 3
    assert snap.past_deadline == 1  # store B's claimed question is not theirs to watch
    assert snap.on_shift == 1
    assert snap.in_review == 1


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        ("anonymous", 302),
        ("no-desk-record", 403),
        ("untrained", 403),
        ("trainee", 403),
        ("certified", 403),
        ("mentor", 403),
        ("suspended", 403),
        ("supervisor", 200),
        ("supervisor-other-store", 200),
        ("agency", 200),
        ("admin", 200),
    ],
)
@pytest.mark.parametrize("url", ["/monitoring/", "/monitoring/live/"])
def test_who_may_watch(desk: dict[str, Any], kind: str, status: int, url: str) -> None:
    client = Client()
    desk["people"].log_in(client, kind)
    response = client.get(url)
    assert response.status_code == status
    if status == 403:
        page = response.content.decode()
        assert "<html" in page  # a page in the site's layout, not a bare refusal
        assert "Live monitoring is for the agency" in page


def test_the_page_shows_the_figures_escaped(desk: dict[str, Any]) -> None:
    client = Client()
    desk["people"].log_in(client, AGENCY)
    with time_machine.travel(desk["now"], tick=False):
        page = client.get("/monitoring/").content.decode()
    assert 'data-figure="waiting">4<' in page
    assert 'data-figure="on-shift">2<' in page
    assert 'data-figure="in-review">3<' in page
    assert HOSTILE not in page
    assert "&lt;script&gt;" in page
    # Without JavaScript the page refreshes itself.
    assert '<noscript><meta http-equiv="refresh" content="30"></noscript>' in page


def test_another_brands_staff_see_only_their_own_brand(desk: dict[str, Any]) -> None:
    client = Client()
    desk["people"].log_in(client, "other-brand-agency")
    page = client.get("/monitoring/live/").content.decode()
    assert 'data-figure="waiting">0<' in page
    assert "Alpha" not in page


def test_a_crisis_shows_on_the_page_with_the_switch_for_those_who_may(
    desk: dict[str, Any],
) -> None:
    from routing.crisis import start_crisis

    people = desk["people"]
    start_crisis(desk["brand"].pk, desk["topic"].pk, people.user("supervisor"), reason="Outage <b>")
    for kind, switch in (("agency", False), ("supervisor", True)):
        client = Client()
        people.log_in(client, kind)
        page = client.get("/monitoring/live/").content.decode()
        assert "On for the topic Billing &lt;script&gt;" in page
        assert "Outage &lt;b&gt;" in page
        assert ('href="/crisis/"' in page) is switch


def test_the_x_bill_on_the_page_equals_the_calls_recorded(desk: dict[str, Any]) -> None:
    from decimal import Decimal

    from helpdesk.models import XApiCall
    from helpdesk.reports.templatetags.reports import dollars

    brand, now = desk["brand"], desk["now"]
    brand.x_monthly_budget = Decimal("10.00")
    brand.save()
    account = brand.x_accounts.get()
    month_start = now.replace(day=1, hour=0, minute=0, second=0)
    costs = [(now - timedelta(minutes=5), 15_000), (now - timedelta(minutes=1), 200_000)]
    if now - month_start > timedelta(days=1):
        costs.append((month_start + timedelta(hours=1), 8_500_000))
    for at, micros in costs:
        XApiCall.objects.create(
            at=at,
            brand=brand,
            account=account,
            endpoint="POST /2/tweets",
            category="post_create",
            units=1,
            unit_price_micros=micros,
            cost_micros=micros,
        )
    client = Client()
    desk["people"].log_in(client, AGENCY)
    with time_machine.travel(now, tick=False):
        page = client.get("/monitoring/live/").content.decode()
    month = sum(m for _, m in costs)
    assert 'data-figure="spend-today">$0.215<' in page
    assert f'data-figure="spend-month">{dollars(month)}<' in page
    answered = Question.objects.filter(brand=brand, first_response_at__gte=month_start).count()
    assert answered == 6
    assert f'data-figure="spend-per-answered">{dollars(round(month / answered))}<' in page
