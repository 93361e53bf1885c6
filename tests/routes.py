"""Every HTTP route the desk serves, found by walking the URL resolver, and a brand's world of
objects to fill their path parameters with (issue 11's access matrix and hostile crawl).

``walk_routes()`` lists the routes as (name, pattern); the admin's own pages and the
static files are left out (the admin is Django's, behind ``is_staff``). ``World`` holds one
object of every kind a path names, of one brand, and ``url_for`` fills a route's pattern
with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from http.cookies import SimpleCookie
from typing import Any

from django.db import transaction
from django.http import HttpResponseBase
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from helpdesk.models import Brand, Question, Reply, Store, Tag, Volunteer
from helpdesk.states import QuestionState, ReplyState
from tests.factories import make_account, make_module, make_saved_reply, make_store
from tests.people import CERTIFIED, TRAINEE, People
from tests.routing.onshift import question as make_question


@dataclass(frozen=True)
class Route:
    """One URL pattern: its name (``namespace:name``, or the pattern when it has none),
    its pattern as written, its path parameters and whether it has a name."""

    name: str
    pattern: str
    params: tuple[str, ...]
    named: bool = True


def walk_routes() -> list[Route]:
    """Every route of ``ROOT_URLCONF`` but the admin's and static files'."""
    found: list[Route] = []

    def walk(resolver: URLResolver, prefix: str, namespace: str) -> None:
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                if str(entry.pattern).startswith("admin/"):
                    continue
                inner = namespace
                if entry.namespace:
                    inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
                walk(entry, prefix + str(entry.pattern), inner)
            elif isinstance(entry, URLPattern):
                pattern = prefix + str(entry.pattern)
                if pattern.startswith(("static/", "media/")):
                    continue
                name = entry.name and (f"{namespace}:{entry.name}" if namespace else entry.name)
                params = tuple(entry.pattern.converters)
                found.append(Route(name or pattern, pattern, params, named=bool(name)))

    walk(get_resolver(), "", "")
    return found


class Savepoint(transaction.Atomic):
    """A savepoint the code under test sees as the test's own block, as Django's TestCase
    marks its per-test transaction: its durable blocks (claims, sends) run inside it."""

    def __init__(self) -> None:
        super().__init__(using=None, savepoint=True, durable=False)
        self._from_testcase = True


def undone(client: Client, method: str, url: str, data: Any = None) -> HttpResponseBase:
    """``client``'s answer to a GET or POST of ``url``, in a savepoint rolled back
    afterwards; the client keeps its cookies (a rolled-back session row must not leave it
    holding a key the database no longer has, and logging out must not stick)."""
    cookies = SimpleCookie(client.cookies)
    with Savepoint():
        response = client.get(url, data) if method == "get" else client.post(url, data)
        transaction.set_rollback(True)
    client.cookies = cookies
    return response


@dataclass
class World:
    """A brand, its people (``People``) and one object of each kind a path names."""

    brand: Brand
    people: People
    store: Store
    question: Question
    held_question: Question
    pending_reply: Reply
    failed_reply: Reply
    saved_reply: Any
    tag: Any
    module: Any
    attempt: Any
    practice_answer: Any
    enrolment: Any
    person: Volunteer
    api_token: Any
    unsubscribe_token: str

    def kwargs(self, route: Route) -> dict[str, Any]:
        """The path parameters of ``route``, filled with this world's objects."""
        by_route: dict[str, dict[str, Any]] = {
            "training:module": {"slug": self.module.slug},
            "training:start": {"slug": self.module.slug},
            "training:attempt": {"attempt_id": self.attempt.pk},
            "training:result": {"attempt_id": self.attempt.pk},
            "training:grade": {"answer_id": self.practice_answer.pk},
            "supervision:enrolment-confirm": {"pk": self.enrolment.pk},
            "supervision:enrolment-decline": {"pk": self.enrolment.pk},
            "reports:token-revoke": {"pk": self.api_token.pk},
            "reports:unsubscribe": {"token": self.unsubscribe_token},
            "desk:untag": {"pk": self.question.pk, "tag_pk": self.tag.pk},
        }
        if route.name in by_route:
            return by_route[route.name]
        if not route.params:
            return {}
        assert route.params == ("pk",), f"fill the path parameters of {route.name}"
        prefix = route.name.split(":")[0]
        if prefix == "supervision":
            return {"pk": self.person.pk}
        if prefix == "outbox":
            return {"pk": self.failed_reply.pk}
        if prefix == "saved_replies":
            return {"pk": self.saved_reply.pk}
        if route.name in ("desk:approve", "desk:reject"):
            return {"pk": self.pending_reply.pk}
        if prefix == "desk" or route.name == "helpdesk:inbox-question":
            return {"pk": self.question.pk}
        raise AssertionError(f"fill the path parameters of {route.name}")

    def url(self, route: Route) -> str:
        """``route``'s path with this world's objects (the pattern itself if unnamed)."""
        if not route.named:
            assert route.pattern == "api/^", f"give {route.pattern} a name or a path here"
            return "/api/v1/no-such-endpoint/"  # the API's catch-all
        return reverse(route.name, kwargs=self.kwargs(route))


def make_world(brand: Brand, people: People) -> World:
    """One of everything a path names, of ``brand``: the brand's charter must be published
    and ``people`` work in ``people.store``."""
    from charter.training.practice import submit_practice_answer
    from charter.training.quiz import start_attempt
    from helpdesk.models import Enrolment
    from helpdesk.reports.api.authentication import make_token
    from helpdesk.reports.emails import unsubscribe_token

    store = people.store or make_store(brand)
    account = make_account(brand)
    now = timezone.now()
    author = people.volunteer(TRAINEE)
    question = make_question(brand, store=store, account=account)
    held = make_question(
        brand,
        store=store,
        account=account,
        state=QuestionState.CLAIMED,
        claimed_by=people.user(CERTIFIED),
        claimed_at=now,
        lease_expires_at=now + timedelta(minutes=10),
    )
    in_review = make_question(brand, store=store, account=account, state=QuestionState.IN_REVIEW)
    failed = make_question(brand, store=store, account=account, state=QuestionState.FAILED)
    pending = Reply.objects.create(
        question=in_review,
        author=author.user,
        account=account,
        store=store,
        text="Hello, we are on it ^TR",
        state=ReplyState.PENDING_REVIEW,
        submitted_at=now - timedelta(minutes=5),
    )
    failed_reply = Reply.objects.create(
        question=failed,
        author=people.volunteer(CERTIFIED).user,
        account=account,
        store=store,
        text="Hello, we are on it ^CE",
        state=ReplyState.FAILED,
        submitted_at=now - timedelta(minutes=5),
    )
    tag = Tag.objects.create(brand=brand, name="Refund", key="refund")
    tag.questions.add(question)
    module = make_module(brand)
    attempt = start_attempt(author.user.pk, module)
    answer = submit_practice_answer(author.user.pk, brand.pk, "Q?", "Ref.", "My practice reply")
    newcomer = _user(f"newcomer.{brand.slug}")
    enrolment = Enrolment.objects.create(
        user=newcomer, brand=brand, store=store, employee_number="E1"
    )
    agency = people.volunteer("agency")
    _row, _secret = make_token(agency.user, "dashboard")
    return World(
        brand=brand,
        people=people,
        store=store,
        question=question,
        held_question=held,
        pending_reply=pending,
        failed_reply=failed_reply,
        saved_reply=make_saved_reply(brand),
        tag=tag,
        module=module,
        attempt=attempt,
        practice_answer=answer,
        enrolment=enrolment,
        person=people.volunteer(CERTIFIED),
        api_token=_row,
        unsubscribe_token=unsubscribe_token(agency.user),
    )


def _user(username: str) -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(username=username, password="x-" + username)
