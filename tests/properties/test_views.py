"""Properties of the pages' query strings and forms, through the whole stack (middleware,
views, templates) with Django's test client: whatever parameters a person or a crafted link
sends, no page answers with a server error. A NUL or a text over ``MAX_TEXT_CHARS`` is the
400 page (``helpdesk.security.FormTextMiddleware``); everything else is a page, a redirect,
a 4xx with its reason or a file.

The database is rolled back once per test, not per example: the posts below may write rows
(a saved reply, a token), which later examples then see, as a real desk would."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st

from charter.models import CharterVersion
from helpdesk.models import Brand, Question
from helpdesk.reports.forms import ReportForm
from helpdesk.states import QuestionState
from routing.claims import claim_question, release_question
from routing.presence import is_on_shift, start_shift
from tests.factories import make_store, make_topic, publish_charter
from tests.people import People
from tests.properties.test_forms import values
from tests.routing.onshift import question

pytestmark = pytest.mark.django_db

REPORT = [*ReportForm.base_fields]

# (who, path, the parameters the page reads): every view that reads its query string, and a
# few that read none (they must ignore what they did not ask for).
GET_PAGES: list[tuple[str, str, list[str]]] = [
    ("certified", "/queue/", ["topic", "lang", "store", "priority", "after"]),
    ("supervisor", "/queue/", ["topic", "lang", "store", "priority", "after"]),
    ("supervisor", "/desk/review/", []),
    ("supervisor", "/desk/review/news/", ["seen"]),
    ("supervisor", "/desk/saved-replies/", ["topic", "language", "status"]),
    ("supervisor", "/supervision/people/", ["store", "missing"]),
    ("supervisor", "/exports/shift-hours.csv", ["start", "end"]),
    ("supervisor", "/desk/outbox/", ["show"]),
    ("supervisor", "/crisis/", ["topic", "alert"]),
    ("supervisor", "/desk/floor/body/", ["topic", "store", "page"]),
    ("certified", "/training/practice/", ["lang"]),
    ("certified", "/reports/me/", ["period"]),
    ("agency", "/reports/", REPORT),
    ("supervisor", "/reports/", REPORT),
    ("agency", "/reports/exports/report.json", REPORT),
    ("agency", "/monitoring/", []),
    ("anonymous", "/x/webhook", ["crc_token"]),
    ("anonymous", "/", ["next"]),
]

POST_PAGES: list[tuple[str, str, list[str]]] = [
    ("supervisor", "/desk/saved-replies/new/", ["title", "topic", "language", "body"]),
    ("supervisor", "/supervision/invitations/", ["store", "max_uses", "valid_days"]),
    ("supervisor", "/crisis/", ["topic", "holding_statement", "reason", "alert"]),
    ("supervisor", "/crisis/end/", ["topic", "reason"]),
    ("agency", "/reports/api-tokens/", ["name"]),
    ("certified", "/desk/review/bulk/", ["reply"]),
    ("certified", "/desk/shift/", ["action"]),
    ("anonymous", "/charter/enrol/", ["username", "display_name", "store", "languages"]),
]

TOO_LONG = "y" * (django_settings.MAX_TEXT_CHARS + 1)
# What a browser can send: a URL or a form body is UTF-8, which no lone surrogate survives
# (Django decodes a forged byte sequence to U+FFFD), so those are left out here.
request_values = (values | st.sampled_from([TOO_LONG, "a\x00b"])).map(
    lambda text: text.encode("utf-8", "ignore").decode("utf-8")
)


def _parameters(names: list[str]) -> st.SearchStrategy[dict[str, list[str]]]:
    return st.fixed_dictionaries(
        {},
        optional={
            name: st.lists(request_values, min_size=1, max_size=2)
            for name in [*names, "unexpected"]
        },
    )


@st.composite
def requests(draw: st.DrawFn, pages: list[tuple[str, str, list[str]]]) -> Any:
    who, path, names = draw(st.sampled_from(pages))
    return who, path, draw(_parameters(names))


@pytest.fixture
def clients(people: People, brand: Brand, settings: Any) -> dict[str, Client]:
    settings.X_CONSUMER_SECRET = "consumer-secret"  # unset, the webhook is 503 by design
    make_store(brand, region="North")
    make_topic(brand)
    signed_in: dict[str, Client] = {}
    for who in {page[0] for page in GET_PAGES + POST_PAGES}:
        client = Client(raise_request_exception=False)
        if who != "anonymous":
            people.log_in(client, who)
        signed_in[who] = client
    return signed_in


def _refused_before_any_view(parameters: dict[str, list[str]]) -> bool:
    sent = [*parameters, *(v for vs in parameters.values() for v in vs)]
    return any("\x00" in text or len(text) > django_settings.MAX_TEXT_CHARS for text in sent)


def _check(response: Any, parameters: dict[str, list[str]]) -> None:
    assert response.status_code < 500, (response.status_code, parameters)
    if _refused_before_any_view(parameters):
        assert response.status_code == 400


# One test draws the page too, so its examples are shared among ~20 pages: 300 of them,
# in either profile, give each page about fifteen.
PAGE_EXAMPLES = 120


@settings(max_examples=PAGE_EXAMPLES)
@given(request=requests(GET_PAGES))
def test_no_query_string_makes_a_page_fail(clients: dict[str, Client], request: Any) -> None:
    who, path, parameters = request

    response = clients[who].get(path, parameters)

    _check(response, parameters)


@settings(max_examples=PAGE_EXAMPLES)
@given(request=requests(POST_PAGES))
def test_no_form_post_makes_a_page_fail(clients: dict[str, Client], request: Any) -> None:
    who, path, parameters = request

    response = clients[who].post(path, parameters)

    _check(response, parameters)


drafts = st.lists(
    st.one_of(
        st.sampled_from(
            ["@customer ", "refund", "$19.99", "ann@example.com", "https://evil.example", "^CE"]
        ),
        request_values,
    ),
    max_size=6,
).map("".join)


@given(
    endpoint=st.sampled_from(["lint", "compose"]),
    text=drafts,
    action=st.sampled_from(["check", "submit", ""]) | request_values,
    saved=st.none() | request_values,
)
def test_no_draft_makes_the_composer_fail(
    people: People, brand: Brand, endpoint: str, text: str, action: str, saved: str | None
) -> None:
    # Given a certified volunteer composing an answer to the question they hold (claimed
    # afresh for each example: a submitted draft moves the question on)
    if not CharterVersion.objects.filter(brand=brand).exists():
        publish_charter(brand)
    volunteer = people.volunteer("certified")
    if not is_on_shift(volunteer.user.pk, brand.pk):
        start_shift(volunteer.user, brand.pk)
    held_states = (QuestionState.CLAIMED, QuestionState.DRAFTING)
    for held in Question.objects.filter(claimed_by=volunteer.user, state__in=held_states):
        release_question(held.pk, volunteer.user)  # the claims cap would refuse the next one
    asked = question(brand)
    assert claim_question(asked.pk, volunteer.user).won
    client = Client(raise_request_exception=False)
    people.log_in(client, "certified")
    parameters = {"text": [text], "action": [action], **({"saved": [saved]} if saved else {})}

    # When they check, lint or submit any draft
    response = client.post(f"/desk/questions/{asked.pk}/{endpoint}/", parameters)

    # Then the page answers, never with a server error
    _check(response, parameters)
