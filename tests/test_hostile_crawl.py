"""Issue 11: hostile values to every form and parameter, as every kind of person, get no 5xx,
and every refusal (4xx) of a page is a page in the site's layout.

The fields come from the site itself: every route is fetched by every kind (the access
matrix's world, ``tests.routes``) and each ``<form>`` of the pages read (inputs, selects,
textareas) is filed under the route its action resolves to; to those are added the
parameters the views read that no form shows (``READ_BY_VIEWS``, from grepping
``request.GET``/``request.POST``). Then, for each of the 82 routes and each of the 15
kinds:

- every field at once set to one hostile value, in the query string and in a POSTed form:
  five values for each kind the matrix lets through and one for each kind it refuses (the
  refusal comes before any field is read), taken in turn from ``HOSTILE`` so that the
  kinds of a route cover the list between them;
- for the kind the route is made for (the first the matrix lets through), each field alone
  set to two hostile values (drawn with a fixed seed) while the others keep the values the
  page offered.

5,204 requests, about four minutes on SQLite on a busy machine. Each request runs in a
savepoint rolled back afterwards, so each meets the same rows. The reporting API answers
in JSON, the metrics in Prometheus' text, the webhook and the health check in JSON: their
4xx are not pages.
"""

from __future__ import annotations

import random
from collections import defaultdict
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.http import HttpResponseBase
from django.test import Client
from django.urls import Resolver404, resolve

from helpdesk.models import Brand
from tests.factories import make_brand, make_store, publish_charter
from tests.people import KINDS, People
from tests.routes import Route, World, make_world, undone, walk_routes
from tests.test_access_matrix import EXPECTED, REFUSALS, row

# On PostgreSQL only (CI's second pass): the 5xx a crafted value can cause there (NUL, integers
# beyond the column) are the ones SQLite hides.
pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

LONG = "ẞ" * 20_000
HOSTILE: list[Any] = [
    "²",
    "٣",  # an Arabic-Indic digit: int() takes it
    "0",
    "-1",
    str(10**30),
    "9" * 19,  # beyond a 64-bit integer
    "",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "\u202e",
    " 1 ",
    "1.5e308",
    "NaN",
    "0001-01-01",
    "9999-12-31",
    "2026-02-30",
    LONG,
    ["1", "²", "1"],
]
PER_ALLOWED_KIND = 3  # in turn: the allowed kinds of a route cover the list between them
PER_FIELD = 1
SEED = 20091111

# Parameters views read that no rendered form shows (grep request.GET / request.POST).
READ_BY_VIEWS: dict[str, dict[str, list[str]]] = {
    "x-webhook": {"get": ["crc_token"]},
    "login": {"get": ["next"], "post": ["username", "password", "next"]},
    "set_language": {"post": ["language", "next"]},
    "outbox:outbox": {"get": ["show"]},
    "outbox:retry": {"post": ["text", "from_care_account"]},
    "outbox:dismiss": {"post": ["reason"]},
    "outbox:delete": {"post": ["reason"]},
    "desk:review-news": {"get": ["seen"]},
    "desk:approve": {"post": ["text", "next"]},
    "desk:reject": {"post": ["feedback", "next"]},
    "desk:bulk-approve": {"post": ["reply"]},
    "desk:shift": {"post": ["action"]},
    "desk:escalate": {"post": ["note"]},
    "desk:reassign": {"post": ["to", "next"]},
    "desk:take-back": {"post": ["next"]},
    "desk:compose": {"get": ["saved"], "post": ["text", "saved", "send_from", "action"]},
    "desk:lint": {"post": ["text"]},
    "desk:note": {"post": ["text", "inbox", "next"]},
    "desk:tag": {"post": ["name", "inbox", "next"]},
    "desk:untag": {"post": ["inbox", "next"]},
    "training:practice": {"get": ["lang"], "post": ["key", "answer"]},
    "crisis:page": {"get": ["topic", "alert"]},
    "reports:me": {"get": ["period"]},
    "reports:subscription": {"post": ["weekly", "next"]},
    "saved_replies:create": {"post": ["action"]},
    "saved_replies:edit": {"post": ["action"]},
    "helpdesk:queue": {"get": ["page"]},
    **{
        f"api:{name}": {
            "get": [
                *(["period", "first", "last", "store", "region", "volunteer", "topic", "language"]),
                *(["business_time", "group_by", "names", "cursor", "page_size", "format"]),
            ]
        }
        for name in ("report", "summary", "questions", "schema")
    },
}
# Paths whose answers are not pages of the site.
NOT_PAGES = ("/api/", "/metrics", "/healthz", "/x/webhook")


class Forms(HTMLParser):
    """The forms of a page: (method, action, {field: a value the page offers})."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, str, dict[str, str]]] = []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append((a.get("method", "get").lower(), a.get("action", ""), {}))
            return
        if not self.forms:
            return
        fields = self.forms[-1][2]
        name = a.get("name")
        if tag in ("input", "textarea", "button") and name:
            if a.get("type") in ("checkbox", "radio") and name in fields:
                return
            fields.setdefault(name, a.get("value", "") or ("on" if a.get("type") else ""))
        elif tag == "select" and name:
            self._select = name
            fields.setdefault(name, "")
        elif tag == "option" and self._select and not self.forms[-1][2][self._select]:
            self.forms[-1][2][self._select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def route_of(path: str) -> str | None:
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match.view_name or match.route


@pytest.fixture
def world(brand: Brand, settings: Any) -> World:
    settings.X_CONSUMER_SECRET = "crawl-consumer-secret"
    publish_charter(brand)
    other = make_brand()
    publish_charter(other)
    return make_world(brand, People(brand, store=make_store(brand), other_brand=other))


def url_of(world: World, route: Route) -> str:
    if route.name in ("desk:compose", "desk:lint"):  # the page of a question held
        from django.urls import reverse

        return reverse(route.name, kwargs={"pk": world.held_question.pk})
    return world.url(route)


def discover(world: World, clients: dict[str, Client]) -> dict[str, dict[str, dict[str, str]]]:
    """route name → method → {field: a value a page offered}."""
    fields: dict[str, dict[str, dict[str, str]]] = defaultdict(lambda: defaultdict(dict))
    for route in walk_routes():
        page = url_of(world, route)
        for kind in KINDS:
            response = undone(clients[kind], "get", page)
            if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
                continue
            parser = Forms()
            parser.feed(getattr(response, "content", b"").decode())
            for method, action, found in parser.forms:
                target = route_of(urlsplit(action).path) if action else route.name
                if target is not None:
                    for name, value in found.items():
                        fields[target][method].setdefault(name, value)
    for name, methods in READ_BY_VIEWS.items():
        for method, names in methods.items():
            for field in names:
                fields[name][method].setdefault(field, "")
    return fields


def is_page(response: HttpResponseBase) -> bool:
    return b'<header class="top">' in getattr(response, "content", b"")


def test_hostile_values_get_no_5xx_and_refusals_are_pages(world: World) -> None:
    clients = {}
    for kind in KINDS:
        clients[kind] = Client(raise_request_exception=False)
        world.people.log_in(clients[kind], kind)
    fields = discover(world, clients)
    rng = random.Random(SEED)
    routes = walk_routes()
    failures: list[str] = []
    sent = 0

    def send(kind: str, method: str, url: str, data: dict[str, Any]) -> None:
        nonlocal sent
        sent += 1
        response = undone(clients[kind], method, url, data)
        status = response.status_code
        shown = {k: v[:20] if isinstance(v, str) else v for k, v in data.items()}
        if status >= 500:
            failures.append(f"{status} {method.upper()} {url} as {kind} with {shown}")
        elif 400 <= status < 500 and not url.startswith(NOT_PAGES) and not is_page(response):
            failures.append(f"{status} not a page: {method.upper()} {url} as {kind} {shown}")

    for route in routes:
        url = url_of(world, route)
        answers = {m: row(t) for m, t in zip(("get", "post"), EXPECTED[route.name], strict=True)}
        for method in ("get", "post"):
            other = "get" if method == "post" else "post"
            names = fields[route.name][method] or fields[route.name][other]
            offered = dict(names) or {"q": ""}
            allowed = [k for k in KINDS if answers[method][k] not in REFUSALS]
            if route.name in ("desk:compose", "desk:lint"):
                allowed = ["certified"]  # who holds the question
            for index, kind in enumerate(KINDS):
                taken = PER_ALLOWED_KIND if kind in allowed else 1
                start = (index * PER_ALLOWED_KIND + (method == "post")) % len(HOSTILE)
                for value in (HOSTILE * 2)[start : start + taken]:
                    send(kind, method, url, dict.fromkeys(offered, value))
            if allowed and names:
                first = allowed[0]
                for field in names:
                    for value in rng.sample(HOSTILE, PER_FIELD):
                        send(first, method, url, {**offered, field: value})
    print(f"hostile crawl: {sent} requests, {len(failures)} failures")
    assert failures == [], "\n".join(sorted(failures, reverse=True)[:300])
