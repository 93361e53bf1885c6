"""Issue 11, finding 20: in sandbox mode "See it on X" opens the sandbox's own page of the
post (it exists nowhere else), and the sandbox's root page lists what was posted."""

from __future__ import annotations

import pytest
import requests
from django.test import Client

from helpdesk.x import posting
from tests.replies.conftest import Desk

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert(1)</script>"


def test_see_it_on_x_opens_the_sandboxs_page_of_the_reply(live_desk: Desk) -> None:
    reply = live_desk.queued_reply()
    posting.dispatch_due()
    reply.refresh_from_db()
    assert reply.tweet_id
    client = Client()
    client.force_login(live_desk.supervisor.user)
    outbox = client.get("/desk/outbox/?show=sent").content.decode()
    base = live_desk.sandbox.base_url.rstrip("/")
    link = f"{base}/{live_desk.account.username}/status/{reply.tweet_id}"
    assert f'href="{link}"' in outbox
    assert "https://x.com/" not in outbox

    page = requests.get(link, timeout=5)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "script-src" not in page.headers["Content-Security-Policy"]
    assert reply.text in page.text
    assert "In reply to" in page.text  # the customer's question beside it

    root = requests.get(f"{base}/", timeout=5)
    assert root.status_code == 200
    assert f"/{live_desk.account.username}/status/{reply.tweet_id}" in root.text


def test_a_hostile_post_is_shown_as_text(live_desk: Desk) -> None:
    world = live_desk.sandbox.world
    tweet = world.inject(world.add_user("mallory"), f"{HOSTILE} & <img src=x onerror=1>")
    base = live_desk.sandbox.base_url.rstrip("/")
    page = requests.get(f"{base}/mallory/status/{tweet.id}", timeout=5).text
    assert HOSTILE not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;img src=x onerror=1&gt;" in page


def test_a_post_that_does_not_exist_is_a_404_page(live_desk: Desk) -> None:
    base = live_desk.sandbox.base_url.rstrip("/")
    page = requests.get(f"{base}/nobody/status/12345", timeout=5)
    assert page.status_code == 404
    assert "does not exist" in page.text


def test_outside_sandbox_mode_the_link_is_x_com(settings: object) -> None:
    from helpdesk.templatetags.x_links import x_post_url

    settings.X_API_BASE_URL = ""  # type: ignore[attr-defined]
    assert x_post_url("Northwind Help", "123") == "https://x.com/Northwind%20Help/status/123"
