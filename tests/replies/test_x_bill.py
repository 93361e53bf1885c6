"""The X bill: every call the gateway makes is counted and priced, and the desk's figures
equal the sandbox's own log of calls multiplied by the price table."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
import requests
from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from helpdesk.models import ListeningQuery, Reply, XApiCall
from helpdesk.replies import delete_sent_reply
from helpdesk.states import ReplyState
from helpdesk.x import polling, posting
from tests.replies.conftest import Desk

pytestmark = pytest.mark.django_db

# What X bills each endpoint as, written out here rather than taken from the desk's map.
BILLED_AS = {
    "GET /2/users/:id/mentions": "owned_read",
    "GET /2/users/:id/tweets": "owned_read",
    "GET /2/tweets/search/recent": "post_read",
    "GET /2/tweets/:id": "post_read",
    "GET /2/tweets": "post_read",
    "POST /2/tweets": "post_create",
    "DELETE /2/tweets/:id": "post_delete",
}


def sandbox_bill(sandbox: Any) -> tuple[Counter[str], Counter[str]]:
    """Units and micro-dollars per category, from the sandbox's own log times the price table."""
    log = requests.get(f"{sandbox.base_url}/_sandbox/calls", timeout=10).json()["data"]
    units: Counter[str] = Counter()
    micros: Counter[str] = Counter()
    for call in log:
        category = BILLED_AS.get(call["endpoint"])
        if category is None:
            continue
        if category == "post_create" and call["created_with_url"]:
            category = "post_create_url"
        count = call["posts_returned"] + call["posts_created"] + call["posts_deleted"]
        units[category] += count
        micros[category] += int(count * settings.X_PRICES[category] * 1_000_000)
    return units, micros


def desk_bill() -> tuple[Counter[str], Counter[str]]:
    units: Counter[str] = Counter()
    micros: Counter[str] = Counter()
    for row in XApiCall.objects.values("category").annotate(
        units=Sum("units"), micros=Sum("cost_micros")
    ):
        if row["units"]:
            units[row["category"]] += row["units"]
            micros[row["category"]] += row["micros"]
    return units, micros


def test_the_desks_spend_equals_the_sandboxs_log_times_the_price_table(live_desk: Desk) -> None:
    # Given customers who mention the care account, others the listening query finds,
    # and the account's listening query
    world = live_desk.sandbox.world
    account = live_desk.account
    ListeningQuery.objects.create(account=account, query="blender")
    for n in range(3):
        world.inject(world.add_user(f"asker{n}"), f"@{account.username} my blender {n} broke")
    for n in range(4):
        world.inject(world.add_user(f"talker{n}"), f"who sells a good blender? ({n})")

    # When the desk polls, volunteers' replies go out (one with a link, one X refuses:
    # its customer never mentioned the account) and a supervisor deletes one
    outcome = polling.poll_account(account.pk)
    plain = live_desk.queued_reply()
    linked = live_desk.queued_reply(
        "Here is how to return it: https://example.com/returns ^V1", mention=True
    )
    refused = live_desk.queued_reply(mention=False)
    posting.dispatch_due()
    plain.refresh_from_db()
    delete_sent_reply(plain, by=live_desk.supervisor.user, reason="Sent twice")

    # Then every billed figure of the desk equals the sandbox's log times the price table
    assert outcome.error == "" and outcome.result.new == 7
    linked.refresh_from_db()
    refused.refresh_from_db()
    assert (linked.state, refused.state) == (ReplyState.SENT, ReplyState.FAILED)
    units, micros = desk_bill()
    assert (units, micros) == sandbox_bill(live_desk.sandbox)
    assert units == {
        "owned_read": 3,
        "post_read": 7,
        "post_create": 1,
        "post_create_url": 1,
        "post_delete": 1,
    }
    assert sum(micros.values()) == 3 * 1_000 + 7 * 5_000 + 15_000 + 200_000 + 10_000
    # Every call is counted, billed or not: as many rows as the sandbox answered requests
    log = requests.get(f"{live_desk.sandbox.base_url}/_sandbox/calls", timeout=10).json()["data"]
    assert XApiCall.objects.count() == len(log)
    failed = XApiCall.objects.get(endpoint="POST /2/tweets", status=403)
    assert (failed.units, failed.cost_micros, failed.category) == (0, 0, "post_create")
    assert set(XApiCall.objects.values_list("brand_id", flat=True)) == {live_desk.brand.pk}


def test_a_call_x_answers_with_an_error_is_counted_with_nothing_billed(live_desk: Desk) -> None:
    live_desk.sandbox.world.add_fault("mentions", "5xx")

    outcome = polling.poll_account(live_desk.account.pk)

    assert outcome.error.startswith("503")
    call = XApiCall.objects.get()
    assert (call.endpoint, call.status, call.units, call.cost_micros) == (
        "GET /2/users/:id/mentions",
        503,
        0,
        0,
    )
    assert call.account_id == live_desk.account.pk


def test_the_price_table_prices_the_call_when_it_is_made(live_desk: Desk, settings: Any) -> None:
    settings.X_PRICES = {**settings.X_PRICES, "owned_read": Decimal("0.002")}
    world = live_desk.sandbox.world
    world.inject(world.add_user("asker"), f"@{live_desk.account.username} help")

    polling.poll_account(live_desk.account.pk)

    call = XApiCall.objects.get(endpoint="GET /2/users/:id/mentions")
    assert (call.units, call.unit_price_micros, call.cost_micros) == (1, 2_000, 2_000)


def spend_the_budget(desk: Desk, *, pause: bool) -> None:
    brand = desk.brand
    brand.x_monthly_budget = Decimal("0.01")
    brand.x_pause_listening_when_spent = pause
    brand.save()
    XApiCall.objects.create(
        brand=brand,
        account=desk.account,
        endpoint="POST /2/tweets",
        category="post_create",
        units=1,
        unit_price_micros=15_000,
        cost_micros=15_000,
        status=201,
    )


def calls_to(sandbox: Any, endpoint: str) -> int:
    log = requests.get(f"{sandbox.base_url}/_sandbox/calls", timeout=10).json()["data"]
    return sum(1 for call in log if call["endpoint"] == endpoint)


def test_a_spent_budget_pauses_listening_but_never_mentions_or_replies(
    live_desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a brand that spent its month's budget and asked to pause listening
    world = live_desk.sandbox.world
    account = live_desk.account
    ListeningQuery.objects.create(account=account, query="blender")
    world.inject(world.add_user("asker"), f"@{account.username} my blender broke")
    world.inject(world.add_user("talker"), "who sells a good blender?")
    spend_the_budget(live_desk, pause=True)

    # When the desk polls and a volunteer's reply goes out
    outcome = polling.poll_account(account.pk)
    reply = live_desk.queued_reply()
    posting.dispatch_due()

    # Then the mention came in and the reply went out, but no search ran
    reply.refresh_from_db()
    assert outcome.listening_paused and outcome.error == ""
    assert outcome.result.new == 1
    assert reply.state == ReplyState.SENT
    assert calls_to(live_desk.sandbox, "GET /2/users/:id/mentions") == 1
    assert calls_to(live_desk.sandbox, "POST /2/tweets") == 1
    assert calls_to(live_desk.sandbox, "GET /2/tweets/search/recent") == 0
    assert "X budget spent" in caplog.text and "listening paused" in caplog.text
    assert ListeningQuery.objects.get().since_id == ""


def test_a_spent_budget_without_the_pause_keeps_listening(live_desk: Desk) -> None:
    world = live_desk.sandbox.world
    ListeningQuery.objects.create(account=live_desk.account, query="blender")
    world.inject(world.add_user("talker"), "who sells a good blender?")
    spend_the_budget(live_desk, pause=False)

    outcome = polling.poll_account(live_desk.account.pk)

    assert not outcome.listening_paused and outcome.result.new == 1
    assert calls_to(live_desk.sandbox, "GET /2/tweets/search/recent") == 1


def test_a_call_that_cannot_be_counted_still_goes_through(
    live_desk: Desk, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a price table broken after start-up (a price that is not a number)
    settings.X_PRICES = {**settings.X_PRICES, "owned_read": "one tenth of a cent"}
    world = live_desk.sandbox.world
    world.inject(world.add_user("asker"), f"@{live_desk.account.username} help")

    # When the desk polls
    outcome = polling.poll_account(live_desk.account.pk)

    # Then the poll did its work; the call is missing from the count, and the log says so
    assert (outcome.error, outcome.result.new) == ("", 1)
    assert not XApiCall.objects.filter(endpoint="GET /2/users/:id/mentions").exists()
    assert "X call GET" in caplog.text and "not counted" in caplog.text


@pytest.mark.parametrize("settled_by", ["the sender's look", "the sweep"])
def test_a_post_x_created_whose_answer_was_lost_is_billed_once(
    live_desk: Desk, settings: Any, settled_by: str
) -> None:
    # Given X accepting a reply with a link but its answer never reaching the desk (and, for
    # the sweep, the sender's own look failing too)
    settings.X_HTTP_TIMEOUT_SECONDS = 0.3
    world = live_desk.sandbox.world
    plain = live_desk.queued_reply()
    linked = live_desk.queued_reply("Returns: https://example.com/returns ^V1", mention=True)
    world.add_fault("create_tweet", "timeout_after_accept", seconds=1.0)
    if settled_by == "the sweep":
        world.add_fault("user_tweets", "5xx")

    # When it is sent, found on X and settled, and a plain reply goes out normally
    first = posting.send_reply(linked.pk)
    if settled_by == "the sweep":
        assert first == "in_doubt"
        Reply.objects.filter(pk=linked.pk).update(
            sending_since=timezone.now() - posting.stuck_after()
        )
        assert posting.sweep_replies().settled_sent == 1
    else:
        assert first == "sent"
    posting.send_reply(plain.pk)  # the sweep may have dispatched it already
    plain.refresh_from_db()
    assert plain.state == ReplyState.SENT

    # Then the desk bills the created post once, at the link price, as the sandbox's log does
    units, micros = desk_bill()
    assert (units, micros) == sandbox_bill(live_desk.sandbox)
    assert (units["post_create_url"], units["post_create"]) == (1, 1)
    timed_out = XApiCall.objects.get(endpoint="POST /2/tweets", status__isnull=True)
    assert (timed_out.units, timed_out.cost_micros) == (1, 200_000)
