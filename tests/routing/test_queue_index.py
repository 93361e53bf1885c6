"""The open-queue index and the queue's reads agree: same key expressions, statistics on
them, and counts that PostgreSQL finds through the index's keys."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.db.models import Count, Index

from helpdesk.models import Brand, Conversation, Question, Source
from helpdesk.states import QuestionState
from routing.models import Topic
from routing.placement import queue_for
from routing.queries import OPEN_QUEUE_INDEX, language_key, topic_key
from tests.factories import make_store, publish_charter
from tests.routing.onshift import member

pytestmark = pytest.mark.django_db


def _open_queue_index() -> Index:
    found = [index for index in Question._meta.indexes if index.name == OPEN_QUEUE_INDEX]
    assert len(found) == 1 and isinstance(found[0], Index)
    return found[0]


def _normalised(sql: str) -> str:
    return re.sub(r"[\s()]", "", sql)


def test_the_queue_filters_on_the_expressions_the_index_is_built_on() -> None:
    index = _open_queue_index()

    assert index.expressions[1] == topic_key()
    assert index.expressions[2] == language_key()


@pytest.mark.postgres
def test_the_statistics_cover_the_index_expressions() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_statisticsobjdef_expressions(oid) FROM pg_statistic_ext"
            " WHERE stxname = 'question_open_queue_keys'"
        )
        (expressions,) = cursor.fetchone() or ([],)
        cursor.execute(
            "SELECT pg_get_indexdef(%s::regclass, 2, true), pg_get_indexdef(%s::regclass, 3, true)",
            [OPEN_QUEUE_INDEX, OPEN_QUEUE_INDEX],
        )
        indexed = cursor.fetchone()

    assert indexed is not None
    assert [_normalised(e) for e in expressions] == [_normalised(e) for e in indexed]


@pytest.mark.postgres
def test_a_volunteers_counts_are_found_by_the_keys_of_the_index(brand: Brand) -> None:
    # Given a volunteer with one local skill of ten topics and two languages of five, and
    # a queue of 3,000 questions spread over them (enough for the planner to choose)
    publish_charter(brand)
    topics = Topic.objects.bulk_create(
        Topic(brand=brand, slug=f"t{n}", name=f"T{n}", is_local=n == 0) for n in range(10)
    )
    store = make_store(brand, region="idf")
    ada = member(brand, store=store, skills=["t0"], languages=["en", "fr"])
    conversations = Conversation.objects.bulk_create(
        Conversation(brand=brand, x_conversation_id=str(10**9 + n)) for n in range(3_000)
    )
    Question.objects.bulk_create(
        Question(
            brand=brand,
            conversation=conversation,
            tweet_id=str(10**12 + n),
            text="?",
            lang=["en", "fr-CA", "de", "es", "ja"][n % 5],
            source=Source.MENTIONS,
            state=QuestionState.QUEUED,
            topic=topics[n % 11] if n % 11 < 10 else None,
            store=store if n % 2 else None,
        )
        for n, conversation in enumerate(conversations)
    )
    counts = queue_for(ada.user, brand.pk).order_by().values("topic_id").annotate(n=Count("pk"))
    sql, params = counts.query.sql_with_params()

    # When PostgreSQL plans the counts (in a test's transaction the visibility map that lets
    # it read the index alone is not set: the scan may go by bitmap)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE helpdesk_question")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    # Then it scans the open-queue index with the topic and language keys as its conditions
    scan = re.search(rf"(?:Index Only Scan using|Index Scan on) {OPEN_QUEUE_INDEX}.*\n.*", plan)
    assert scan is not None, plan
    condition = scan.group(0).split("Index Cond: ", 1)[1]
    assert "COALESCE(topic_id, '0'::bigint) = ANY" in condition
    assert "strpos" in condition
    assert {row["topic_id"]: row["n"] for row in counts} == {topics[0].pk: 110, None: 110}
