"""The live queue page: eligible questions, filters, counts per topic, keyset pages."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from helpdesk.models import Brand, Customer, Question, Role, Volunteer
from routing.models import Topic
from tests.factories import make_account, make_brand, make_store, publish_charter
from tests.routing.onshift import member, question

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk() -> Brand:
    brand = make_brand()
    publish_charter(brand)
    return brand


def topic(brand: Brand, slug: str) -> Topic:
    return Topic.objects.create(brand=brand, slug=slug, name=slug.title())


def listed(page: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-question-id="([0-9]+)"', page)]


def open_queue(volunteer: Volunteer, url: str = "/queue/") -> str:
    client = Client()
    client.force_login(volunteer.user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_a_volunteer_on_shift_sees_only_what_they_are_eligible_for(desk: Brand) -> None:
    # Given a volunteer speaking English with the billing skill, and another on shift
    billing, returns = topic(desk, "billing"), topic(desk, "returns")
    ada = member(desk, languages=["en"], skills=["billing"])
    bob = member(desk, languages=["en"], skills=["billing"])
    later = timezone.now() + timedelta(minutes=5)
    mine = question(desk, topic=billing)
    french = question(desk, topic=billing, lang="fr")
    other_skill = question(desk, topic=returns)
    offered_to_bob = question(desk, topic=billing, offered_to=bob.user, offer_expires_at=later)
    offered_to_ada = question(
        desk, topic=returns, lang="de", offered_to=ada.user, offer_expires_at=later
    )

    # When Ada opens the queue
    page = open_queue(ada)

    # Then she sees the pool question she may take and the one offered to her, nothing else
    assert listed(page) == [mine.pk, offered_to_ada.pk]
    for absent in (french, other_skill, offered_to_bob):
        assert f'data-question-id="{absent.pk}"' not in page
    assert "2 questions waiting" in page
    assert f'href="/queue/{mine.pk}/"' in page  # opens it in the inbox
    assert "data-claim hidden" in page
    assert "Go on shift" not in page


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.ADMIN])
def test_supervisors_and_admins_see_the_whole_brand_queue(desk: Brand, role: str) -> None:
    # Given questions in a language and topic the supervisor lacks, and one offered elsewhere
    billing = topic(desk, "billing")
    bob = member(desk)
    boss = member(desk, role=role, languages=["en"], skills=[])
    ids = [
        question(desk, topic=billing, lang="fr").pk,
        question(desk).pk,
        question(
            desk, offered_to=bob.user, offer_expires_at=timezone.now() + timedelta(minutes=5)
        ).pk,
    ]
    other = question(make_brand())

    page = open_queue(boss)

    assert listed(page) == ids
    assert f'data-question-id="{other.pk}"' not in page
    assert "whole brand" in page


def test_off_shift_the_queue_is_read_only_with_a_way_onto_shift(desk: Brand) -> None:
    # Given a volunteer not on shift and a queued question
    ada = member(desk, on_shift=False)
    queued = question(desk)

    page = open_queue(ada)

    # Then the list shows, without the claim button, under a notice with the shift form
    assert listed(page) == [queued.pk]
    assert "data-claim" not in page
    assert "You are not on shift" in page
    assert 'action="/desk/shift/"' in page
    assert 'name="action" value="start"' in page
    assert 'name="next" value="/queue/"' in page
    assert "Go on shift" in page


def test_filters_narrow_the_list_and_the_counts(desk: Brand) -> None:
    # Given questions across topics, languages, stores and priorities
    billing, returns = topic(desk, "billing"), topic(desk, "returns")
    store = make_store(desk)
    boss = member(desk, role=Role.SUPERVISOR)
    a = question(desk, topic=billing, lang="en", priority=1, store=store)
    b = question(desk, topic=billing, lang="fr", priority=1)
    c = question(desk, topic=returns, lang="fr", priority=2, store=store)
    d = question(desk, lang="en", priority=0)

    # When filtering one at a time and together
    by_topic = open_queue(boss, "/queue/?topic=billing")
    by_lang = open_queue(boss, "/queue/?lang=FR")
    by_store = open_queue(boss, f"/queue/?store={store.pk}")
    by_priority = open_queue(boss, "/queue/?priority=1")
    together = open_queue(boss, f"/queue/?topic=billing&lang=en&store={store.pk}&priority=1")
    everything = open_queue(boss)

    # Then each shows exactly what matches, most urgent first
    assert listed(by_topic) == [a.pk, b.pk]
    assert listed(by_lang) == [b.pk, c.pk]
    assert listed(by_store) == [a.pk, c.pk]
    assert listed(by_priority) == [a.pk, b.pk]
    assert listed(together) == [a.pk]
    assert listed(everything) == [d.pk, a.pk, b.pk, c.pk]
    assert "not understood" not in everything


def test_bad_filter_values_are_ignored_with_a_message(desk: Brand) -> None:
    boss = member(desk, role=Role.SUPERVISOR)
    queued = question(desk, priority=3)
    client = Client()
    client.force_login(boss.user)

    for query in (
        "topic=nope",
        "lang=%3Cscript%3E",
        "store=abc",
        "store=999999",
        "priority=9",
        "priority=-1",
        "after=x.y.z",
        "after=1.99999999999999999999.1",
        "lang=" + "e" * 40,
    ):
        response = client.get(f"/queue/?{query}")
        page = response.content.decode()
        assert response.status_code == 200, query
        assert listed(page) == [queued.pk], query
        assert "not understood and were ignored" in page, query
        assert "<script>" not in page


def test_counts_per_topic_come_from_one_aggregate(desk: Brand) -> None:
    billing, returns = topic(desk, "billing"), topic(desk, "returns")
    boss = member(desk, role=Role.SUPERVISOR)
    for _ in range(3):
        question(desk, topic=billing)
    question(desk, topic=returns)
    question(desk)
    question(desk, lang="fr", topic=returns)

    page = open_queue(boss)
    fr = open_queue(boss, "/queue/?lang=fr")

    counts = re.findall(
        r"<li>(?:<a href=\"[^\"]*\">)?([^<]+)(?:</a>)? <span class=\"n\">(\d+)", page
    )
    assert counts == [("Billing", "3"), ("Returns", "2"), ("No topic", "1")]
    assert '<a href="/queue/?topic=billing">Billing</a>' in page
    assert re.findall(r'<span class="n">(\d+)</span>', fr) == ["1"]
    assert "6 questions waiting" in page
    assert "1 question waiting" in fr


def test_keyset_pages_are_stable_when_new_questions_arrive(desk: Brand) -> None:
    # Given 60 queued questions over two priorities
    boss = member(desk, role=Role.SUPERVISOR)
    start = timezone.now() - timedelta(hours=2)
    made = [
        question(desk, priority=n % 2, received_at=start + timedelta(seconds=n // 3))
        for n in range(60)
    ]
    expected = [q.pk for q in sorted(made, key=lambda q: (q.priority, q.received_at, q.pk))]
    client = Client()
    client.force_login(boss.user)

    # When reading the first page, then a new urgent question arrives, then the older link
    first = client.get("/queue/").content.decode()
    question(desk, priority=0, received_at=timezone.now())
    older = re.search(r'<a href="([^"]+)" rel="next">', first)
    assert older is not None
    second = client.get(older.group(1).replace("&amp;", "&")).content.decode()

    # Then the pages join without a gap or a repeat, and no OFFSET was used
    assert listed(first) == expected[:50]
    assert listed(second) == expected[50:]
    assert 'rel="next"' not in second
    assert "Back to the start" in second


def test_the_number_of_queries_does_not_grow_with_the_questions(
    desk: Brand, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    # Given a volunteer on shift and 5 questions with author, account and topic
    billing = topic(desk, "billing")
    account = make_account(desk)
    ada = member(desk, skills=["billing"])

    def add(n: int) -> None:
        for _ in range(n):
            customer = Customer.objects.create(
                x_user_id=str(Customer.objects.count() + 1), username="c", name="C"
            )
            question(desk, topic=billing, customer=customer, account=account)

    add(5)
    client = Client()
    client.force_login(ada.user)
    client.get("/queue/")  # the gate's answer is memoised after the first look
    with CaptureQueriesContext(connection) as five:
        assert len(listed(client.get("/queue/").content.decode())) == 5

    # When there are 50
    add(45)

    # Then the page costs the same number of queries
    with django_assert_num_queries(len(five.captured_queries)):
        assert len(listed(client.get("/queue/").content.decode())) == 50
    assert Question.objects.count() == 50


def test_hostile_topic_names_and_filter_values_are_escaped(desk: Brand) -> None:
    Topic.objects.create(brand=desk, slug="evil", name="<script>alert(1)</script>")
    boss = member(desk, role=Role.SUPERVISOR)
    question(desk, topic=Topic.objects.get(slug="evil"), text="<img src=x onerror=alert(1)>")

    page = open_queue(boss, '/queue/?lang="><script>alert(2)</script>')

    assert "<script>alert" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
