"""Properties of every form of the desk (``helpdesk.forms``, ``helpdesk.reports.forms``,
the charter's admin form): whatever a person or a crafted request sends in any field
(Unicode digits such as "²", ids beyond 64 bits, NUL, right-to-left text, texts up to the
10,000 characters the desk accepts, several values for one name), the form validates or
gives errors, never raises, and renders; a valid form's own methods work on what it
cleaned."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django import forms
from django.http import QueryDict
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from charter.admin import LinterSettingsForm
from charter.models import QuestionKind, QuizQuestion
from helpdesk.forms.crisis import EndCrisisForm, StartCrisisForm
from helpdesk.forms.exports import PeriodForm
from helpdesk.forms.programme import (
    AcceptCharterForm,
    DeclineEnrolmentForm,
    EnrolmentForm,
    InvitationForm,
    LevelForm,
    RosterFilterForm,
    SuspendForm,
)
from helpdesk.forms.queue import QueueFilterForm
from helpdesk.forms.saved_replies import FilterForm, SavedReplyForm
from helpdesk.forms.training import GradeForm, PracticeForm, QuizForm
from helpdesk.models import Role, Source, Store
from helpdesk.reports.forms import ReportForm, TokenForm
from helpdesk.x.ingest import ingest_batch
from helpdesk.x.normalize import parse_v2_response
from routing.actions import classify_text
from routing.admin import RoutingSettingsForm, RuleTesterForm
from routing.models import Shift
from routing.presence import end_idle_shifts
from tests.factories import make_brand, make_store, make_topic, make_volunteer
from tests.properties.strategies import AWKWARD_PIECES

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999999"  # beyond 64 bits

# Values that have broken forms somewhere, beside any text.
FIELD_VALUES = [
    "",
    " ",
    "0",
    "1",
    "-1",
    "²",
    "١٢٣",
    HUGE,
    "9" * 4301,  # beyond int()'s 4,300 digits
    "1e5",
    "NaN",
    "true",
    "on",
    "custom",
    "30d",
    "fr",
    "en-GB",
    "0001-01-01",
    "9999-12-31",
    "2026-02-30",
    "2026-11-20",
    "[]",
    '["Amazon"]',
    '["("]',
    "{}",
    "null",
    "x" * 10_000,
    "3.1.7",
    "block",
    "pass",
    "fail",
    *AWKWARD_PIECES,
]

values = st.one_of(
    st.sampled_from(FIELD_VALUES),
    st.text(max_size=40),
    st.integers().map(str),
    st.lists(st.sampled_from(FIELD_VALUES), min_size=1, max_size=3).map(" ".join),
)


def _queries(names: list[str]) -> st.SearchStrategy[QueryDict]:
    """A form's data as a request brings it: each name absent, once, or several times."""

    def build(chosen: dict[str, list[str]]) -> QueryDict:
        data = QueryDict(mutable=True)
        for name, sent in chosen.items():
            data.setlist(name, sent)
        return data

    return st.fixed_dictionaries(
        {}, optional={name: st.lists(values, min_size=1, max_size=3) for name in names}
    ).map(build)


def _exercise(form: forms.BaseForm, after_valid: Callable[[], Any] | None = None) -> None:
    valid = form.is_valid()
    assert valid == (not form.errors)
    for messages in form.errors.values():
        assert all(str(message) for message in messages)
    form.render()  # the page shows the form again with what was sent and its errors
    if valid and after_valid is not None:
        after_valid()


def _names(form_class: type[forms.BaseForm]) -> list[str]:
    return [*form_class.base_fields, "unexpected"]  # type: ignore[attr-defined]


@pytest.fixture
def desk() -> dict[str, Any]:
    brand = make_brand()
    store = make_store(brand, region="North")
    make_store(make_brand())  # another brand's store, which no form may take
    topic = make_topic(brand)
    supervisor = make_volunteer(brand, role=Role.SUPERVISOR, store=store)
    agency = make_volunteer(brand, role=Role.AGENCY)
    return {
        "brand": brand,
        "store": store,
        "topic": topic,
        "readers": [supervisor, agency],
    }


SIMPLE_FORMS: list[type[forms.Form]] = [
    EndCrisisForm,
    PeriodForm,
    AcceptCharterForm,
    DeclineEnrolmentForm,
    SuspendForm,
    LevelForm,
    PracticeForm,
    GradeForm,
    TokenForm,
]


@pytest.mark.parametrize("form_class", SIMPLE_FORMS, ids=lambda c: c.__name__)
def test_a_form_without_context_validates_or_gives_errors(form_class: type[forms.Form]) -> None:
    @given(_queries(_names(form_class)))
    def check(data: QueryDict) -> None:
        _exercise(form_class(data))

    check()


@given(data=_queries(_names(EnrolmentForm)))
def test_the_enrolment_form_validates_or_gives_errors(desk: dict[str, Any], data: Any) -> None:
    _exercise(EnrolmentForm(data))


@given(data=_queries(_names(StartCrisisForm)))
def test_the_crisis_form_validates_or_gives_errors(desk: dict[str, Any], data: Any) -> None:
    _exercise(StartCrisisForm(data, brand_id=desk["brand"].pk))


@given(data=_queries(_names(RosterFilterForm) + _names(InvitationForm)), any_store=st.booleans())
def test_the_roster_and_invitation_forms_validate_or_give_errors(
    desk: dict[str, Any], data: Any, any_store: bool
) -> None:
    stores = Store.objects.filter(brand=desk["brand"])
    _exercise(RosterFilterForm(data, stores=stores))
    _exercise(InvitationForm(data, stores=stores, any_store=any_store))


@given(data=_queries(_names(QueueFilterForm)))
def test_the_queue_filters_never_fail_the_queue(desk: dict[str, Any], data: Any) -> None:
    store, topic = desk["store"], desk["topic"]
    form = QueueFilterForm(
        data,
        topics=[(topic.pk, topic.slug, topic.name)],
        stores=[(store.pk, store.code, store.name)],
    )

    filters, cursor, ignored = form.chosen()
    assert cursor is None or cursor.priority >= 0

    assert filters.priority in (None, 0, 1, 2, 3)
    assert filters.store in (None, store.pk)
    assert filters.topic in ("", topic.slug)
    assert len(ignored) == len(form.errors)
    form.render()


@given(data=_queries(_names(SavedReplyForm) + _names(FilterForm)))
def test_the_saved_reply_forms_validate_or_give_errors(desk: dict[str, Any], data: Any) -> None:
    brand_id = desk["brand"].pk
    form = SavedReplyForm(data, brand_id=brand_id)
    _exercise(form, form.saved_fields)
    _exercise(FilterForm(data, brand_id=brand_id))


@given(data=_queries(["q1", "q2", "unexpected"]))
def test_a_quiz_validates_or_gives_errors(data: Any) -> None:
    questions = [
        QuizQuestion(pk=1, prompt="Single?", kind=QuestionKind.SINGLE, choices=["a", "b"]),
        QuizQuestion(pk=2, prompt="Several?", kind=QuestionKind.MULTIPLE, choices=["a", "b", "c"]),
    ]
    form = QuizForm(questions, data)

    def answers_are_indexes() -> None:
        answers = form.answers()
        assert set(answers["1"]) <= {0, 1}
        assert set(answers["2"]) <= {0, 1, 2}

    _exercise(form, answers_are_indexes)


@given(data=_queries(_names(ReportForm)), who=st.integers(min_value=0, max_value=1))
def test_the_report_filters_validate_or_give_errors(
    desk: dict[str, Any], data: Any, who: int
) -> None:
    form = ReportForm(data, reader=desk["readers"][who])

    def scope_is_the_readers_brand() -> None:
        scope = form.scope()
        assert scope.brand_id == desk["brand"].pk
        assert scope.stores is None or scope.stores <= {desk["store"].pk}
        assert form.grouping in {"store", "region", "volunteer", "topic", "language"}

    _exercise(form, scope_is_the_readers_brand)
    form.languages()
    form.regions()


@given(data=_queries(_names(LinterSettingsForm)))
def test_the_linter_settings_form_validates_or_gives_errors(
    desk: dict[str, Any], data: Any
) -> None:
    _exercise(LinterSettingsForm(data))


@given(
    data=_queries(["text", "lang"]),
    text=values,
    lang=st.sampled_from(["", "en", "qct", "0", "en_GB", "<b>"]) | values,
)
def test_the_rule_tester_validates_and_classifies_any_text(
    desk: dict[str, Any], data: Any, text: str, lang: str
) -> None:
    data = data.copy()
    data.setlist("brand", [str(desk["brand"].pk)])
    data.setdefault("text", text)
    data.setdefault("lang", lang)
    form = RuleTesterForm(data)

    def classified() -> None:
        result = classify_text(
            desk["brand"].pk, form.cleaned_data["text"], lang_hint=form.cleaned_data["lang"]
        )
        assert 0 <= result.priority <= 3

    _exercise(form, classified)


_minutes = st.one_of(
    st.sampled_from([1, 15, 240, 525_600, 527_041, 10**10, 2**31, 2**63]),
    st.integers(min_value=1),
    st.sampled_from([0, -1, True, "15", None]),
)
sla_minutes = st.fixed_dictionaries(
    {key: _minutes for key in ["0", "1", "2", "3"]},
    optional={key: _minutes for key in ["4", ""]},
).map(json.dumps)


ROUTING_SETTINGS = {
    "default_placement": "pool",
    "claim_lease_minutes": "10",
    "offer_timeout_seconds": "120",
    "shift_idle_minutes": "30",
    "max_open_claims": "3",
    "sla_warning_share": "0.8",
}


routing_numbers = st.one_of(
    st.sampled_from([1, 10, 10_080, 86_400, 2**31 - 1, 2**31, 10**15, 2**63 - 1, 0, -1]),
    st.integers(min_value=0),
).map(str)


@given(
    sla=st.just('{"2": 240}') | sla_minutes,
    numbers=st.fixed_dictionaries(
        {},
        optional={
            name: routing_numbers
            for name in [
                "claim_lease_minutes",
                "offer_timeout_seconds",
                "shift_idle_minutes",
                "max_open_claims",
            ]
        },
    ),
)
def test_routing_settings_the_form_accepts_keep_the_desk_running(
    desk: dict[str, Any], sla: str, numbers: dict[str, str]
) -> None:
    # Given a brand of its own with someone on shift, and whatever an admin typed in its
    # routing settings
    brand = make_brand()
    person = make_volunteer(brand)
    now = timezone.now()
    Shift.objects.create(user=person.user, brand=brand, started_at=now, last_seen_at=now)
    typed = {**ROUTING_SETTINGS, **numbers, "brand": str(brand.pk), "sla_minutes": sla}
    form = RoutingSettingsForm(typed)

    def the_desk_keeps_running() -> None:
        # When the form saves them, a question arrives and the idle-shift sweep runs
        form.save()
        tweet = {"id": "7", "text": "@CareDesk where is my order?", "author_id": "9"}
        result = ingest_batch(brand, parse_v2_response({"data": [tweet]}), source=Source.MENTIONS)
        end_idle_shifts(now)
        # Then the question is stored and routed, and the sweep did not fail
        assert result.new == 1

    _exercise(form, the_desk_keeps_running)
