"""seed_demo gives the demo brand topics and the rules that set them, and the sandbox's
questions arrive with a topic."""

from __future__ import annotations

from collections import Counter
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from helpdesk.management.demo_routing import DEMO_TOPICS
from helpdesk.models import Brand, Question, Role, Volunteer
from routing.models import RoutingRule, RuleEffect, Topic
from tests.demo.sandbox_traffic import deliver, sandbox_first_messages

# Measured when the rules were written: 86% of the corpus's first messages and all 42 French
# questions get a topic. What gets none is mostly chatter about other brands' news, a remark
# with nothing to route on ("are you closed?" aside), or a link alone.
MIN_TOPIC_SHARE = 0.85


@pytest.fixture
def demo_brand(settings: Any) -> Brand:
    settings.DEBUG = True
    call_command("seed_demo", "--no-history", stdout=StringIO(), stderr=StringIO())
    return Brand.objects.get(slug="northwind")


@pytest.mark.django_db
def test_seed_demo_gives_the_brand_topics_and_a_topic_rule_for_each(demo_brand: Brand) -> None:
    topics = dict(Topic.objects.filter(brand=demo_brand).values_list("slug", "name"))
    assert topics == {spec.slug: spec.name for spec in DEMO_TOPICS}
    rules = RoutingRule.objects.filter(brand=demo_brand, is_active=True).select_related("topic")
    assert sorted(rule.topic.slug for rule in rules if rule.topic) == sorted(topics)
    assert {rule.effect for rule in rules} == {RuleEffect.TOPIC}
    # Every topic has a human volunteer for it, besides the supervisor and the simulated
    # colleagues, who take them all.
    volunteers = Volunteer.objects.filter(brand=demo_brand, role=Role.VOLUNTEER)
    human = volunteers.exclude(user__username__startswith="sim-")
    assert set().union(*(v.skills for v in human)) == set(topics)
    assert all(set(v.skills) == set(topics) for v in volunteers if v not in human)


@pytest.mark.django_db
def test_seed_demo_twice_keeps_one_rule_per_topic(demo_brand: Brand) -> None:
    call_command("seed_demo", "--no-history", stdout=StringIO(), stderr=StringIO())

    assert RoutingRule.objects.filter(brand=demo_brand).count() == len(DEMO_TOPICS)
    assert Topic.objects.filter(brand=demo_brand).count() == len(DEMO_TOPICS)


@pytest.mark.django_db
def test_replayed_sandbox_questions_mostly_get_a_topic(demo_brand: Brand) -> None:
    # Given every message the sandbox opens a conversation with (525 English, 42 French)
    messages = sandbox_first_messages()

    # When they arrive through ingestion, classified by the brand's seeded rules
    result = deliver(demo_brand, messages)

    # Then most queued questions carry a topic, and every topic gets some
    questions = Question.objects.filter(pk__in=result.question_ids).exclude(state="dismissed")
    with_topic = questions.filter(topic__isnull=False).count()
    share = with_topic / questions.count()
    print(f"topic share {share:.3f} of {questions.count()} queued sandbox questions")
    assert share >= MIN_TOPIC_SHARE, f"{share:.1%} of sandbox questions got a topic"
    french = questions.filter(lang="fr")
    assert french.filter(topic__isnull=True).count() <= 1
    per_topic = Counter(questions.values_list("topic__slug", flat=True))
    assert all(per_topic[spec.slug] > 0 for spec in DEMO_TOPICS), per_topic


def test_every_demo_rule_fits_its_column() -> None:
    # PostgreSQL refused the longest at 300 characters, which SQLite never checks.
    limit = RoutingRule._meta.get_field("pattern").max_length
    assert limit is not None
    assert max(len(topic.pattern) for topic in DEMO_TOPICS) <= limit
