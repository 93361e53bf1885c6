"""A brand with a care account (registered in the X sandbox when there is one), a
supervisor, a published charter, and questions from customers who mentioned the account."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from charter.models import ReviewPolicy
from helpdesk.models import (
    Brand,
    Conversation,
    Customer,
    Question,
    Reply,
    Role,
    Source,
    Volunteer,
    XAccount,
)
from helpdesk.replies import submit_reply
from helpdesk.states import QuestionState
from tests.factories import (
    make_account,
    make_brand,
    make_member,
    make_volunteer,
    publish_charter,
    sandbox_account_for,
)

_seq = itertools.count(1)


@dataclass
class Desk:
    brand: Brand
    account: XAccount
    supervisor: Volunteer
    sandbox: Any = None

    def member(self, state: str = "certified", **fields: Any) -> Volunteer:
        n = next(_seq)
        fields.setdefault("signature", f"^V{n}")
        return make_member(self.brand, state, now=timezone.now(), **fields)

    def question(
        self,
        holder: Volunteer | None = None,
        *,
        mention: bool = True,
        text: str = "",
        priority: int = 2,
        lang: str = "en",
    ) -> Question:
        """A customer's tweet (posted in the sandbox when there is one) and its question,
        claimed by ``holder`` when given."""
        n = next(_seq)
        handle = f"cust{n}"
        body = text or (
            f"@{self.account.username} my order {n} has not arrived"
            if mention
            else f"my order {n} has not arrived, anyone?"
        )
        if self.sandbox is not None:
            world = self.sandbox.world
            tweet = world.inject(world.add_user(handle), body)
            tweet_id, author_id = tweet.id, tweet.author_id
        else:
            tweet_id, author_id = str(1_900_000_000_000_000_000 + n), str(500_000 + n)
        customer = Customer.objects.create(x_user_id=author_id, username=handle)
        conversation = Conversation.objects.create(
            brand=self.brand, x_conversation_id=tweet_id, customer=customer
        )
        now = timezone.now()
        values: dict[str, Any] = {"state": QuestionState.QUEUED}
        if holder is not None:
            values = {
                "state": QuestionState.CLAIMED,
                "claimed_by": holder.user,
                "claimed_at": now,
                "lease_expires_at": now + timedelta(minutes=10),
            }
        return Question.objects.create(
            brand=self.brand,
            account=self.account,
            conversation=conversation,
            customer=customer,
            tweet_id=tweet_id,
            text=body,
            lang=lang,
            source=Source.MENTIONS,
            priority=priority,
            **values,
        )

    def queued_reply(self, text: str = "", *, priority: int = 2, mention: bool = True) -> Reply:
        """A certified volunteer's reply that went straight to the outbox."""
        author = self.member("certified")
        question = self.question(author, mention=mention, priority=priority)
        handle = question.customer.username if question.customer else ""
        text = (
            text or f"@{handle} Thanks for the wait, we are looking into it now. {author.signature}"
        )
        reply = submit_reply(question, author.user, text, language="en")
        assert reply.state == "queued", reply.review_reasons
        return reply


def _desk(sandbox: Any = None) -> Desk:
    brand = make_brand()
    publish_charter(brand)
    ReviewPolicy.objects.create(brand=brand, certified_sample_rate=0.0, mentor_sample_rate=0.0)
    account = make_account(brand, language="en")
    if sandbox is not None:
        sandbox.world.add_account(sandbox_account_for(account))
    supervisor = make_volunteer(brand, role=Role.SUPERVISOR, signature="^SU")
    return Desk(brand, account, supervisor, sandbox)


@pytest.fixture
def desk(db: None) -> Desk:
    return _desk()


@pytest.fixture
def live_desk(db: None, sandbox: Any) -> Desk:
    return _desk(sandbox)
