"""The questions of the made-up history: more in the day and evening than at night and on
weekdays than at weekends, with a spike or two, from the real customer-care corpus and the
sandbox's French questions, some of them follow-ups in a customer's earlier conversation.
Customers get made-up handles: the corpus's are real people."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from helpdesk.models import Brand, Conversation, Customer, Question, Source, XAccount
from helpdesk.reports.demo_history.moments import QUESTION_SEQUENCE, local_moment, snowflake
from helpdesk.states import QuestionState
from routing.classify import sentiment_of
from routing.models import Topic, default_sla_minutes

TOPIC_WEIGHTS = (26, 20, 12, 12, 12, 8, 6)
# Arrivals per local hour of the day (relative).
HOURLY = (2, 1, 1, 1, 1, 2, 4, 7, 10, 12, 12, 12, 13, 12, 11, 11, 11, 12, 13, 13, 11, 8, 5, 3)
WEEKLY = (1.15, 1.1, 1.05, 1.0, 1.0, 0.75, 0.7)  # Monday first


@dataclass
class Arrivals:
    """The rows to write, in order; ``plans`` says of each question whether it is French
    and when it arrived in the brand's local time."""

    customers: list[Customer]
    conversations: list[Conversation]
    questions: list[Question]
    plans: list[dict[str, object]]


def make_arrivals(
    brand: Brand,
    *,
    topics: list[Topic],
    account_en: XAccount,
    account_fr: XAccount,
    first_day: date,
    days: int,
    per_day: int,
    zone: ZoneInfo,
    rng: random.Random,
    now: datetime,
) -> Arrivals:
    """About ``per_day`` questions a day from ``first_day`` to ``now`` (unsaved), every one
    answered for now: ``make_replies`` decides what became of it."""
    from helpdesk.x.sandbox.traffic import (
        load_conversations,
        load_french_questions,
        retarget,
    )

    minutes = default_sla_minutes()
    # Addressed to the brand's care accounts, as the sandbox retargets them.
    english = [
        retarget(c.messages[0], c.company, account_en.username)
        for c in load_conversations()
        if c.messages and len(c.messages[0]) > 20
    ]
    french = [
        q.text.replace("{handle}", f"@{account_fr.username}") for q in load_french_questions()
    ]
    spikes = {now.date() - timedelta(days=d) for d in (17, 53)}

    customers: list[Customer] = []
    conversations: list[Conversation] = []
    questions: list[Question] = []
    plans: list[dict[str, object]] = []
    recent_by_customer: list[int] = []  # indexes of conversations open to follow-ups
    # As ingestion would have marked them: spike detection learns the usual share from these.
    negative: dict[str, bool] = {}
    n = 0
    for offset in range(days + 1):
        day = first_day + timedelta(days=offset)
        volume = per_day * WEEKLY[day.weekday()] * rng.uniform(0.8, 1.2)
        if day in spikes:
            volume *= 2.5
        for _ in range(int(volume)):
            hour = rng.choices(range(24), weights=HOURLY)[0]
            received = local_moment(day, hour * 3600 + rng.uniform(0, 3600), zone)
            if received >= now:
                continue
            n += 1
            is_french = rng.random() < 0.18
            follow_up = bool(recent_by_customer) and rng.random() < 0.12
            if follow_up:
                index = rng.choice(recent_by_customer[-40:])
                conversation = conversations[index]
                customer = customers[index]
            else:
                customer = Customer(
                    x_user_id=str(9_100_000_000_000 + brand.pk * 10_000_000 + n),
                    username=f"nw_customer_{n}",
                    name=f"Customer {n}",
                    followers_count=int(rng.paretovariate(1.2) * 40),
                    first_seen_at=received,
                )
                conversation = Conversation(
                    brand=brand, x_conversation_id="", customer=customer, started_at=received
                )
                customers.append(customer)
                conversations.append(conversation)
                recent_by_customer.append(len(conversations) - 1)
            tweet_id = snowflake(received, QUESTION_SEQUENCE + n)
            if not conversation.x_conversation_id:
                conversation.x_conversation_id = tweet_id
            priority = rng.choices((0, 1, 2, 3), weights=(3, 12, 75, 10))[0]
            text = rng.choice(french if is_french else english)
            if text not in negative:
                negative[text] = sentiment_of(text, "fr" if is_french else "en").negative
            question = Question(
                brand=brand,
                account=account_fr if is_french else account_en,
                conversation=conversation,
                customer=customer,
                tweet_id=tweet_id,
                text=text,
                lang="fr" if is_french else "en",
                tweeted_at=received - timedelta(seconds=rng.uniform(2, 90)),
                received_at=received,
                source=Source.MENTIONS,
                topic=None if rng.random() < 0.15 else rng.choices(topics, TOPIC_WEIGHTS)[0],
                priority=priority,
                sla_priority=priority,
                sla_due_at=received + timedelta(minutes=minutes[str(priority)]),
                state=QuestionState.ANSWERED,
                state_changed_at=received,
                is_negative=negative[text],
            )
            questions.append(question)
            plans.append({"french": is_french, "local": received.astimezone(zone)})
    return Arrivals(customers, conversations, questions, plans)
