"""Every figure of the report against an independent computation: NumPy and plain Python
over the records a generator wrote (``tests/reports/history.py``: 100,000 questions over
2026 in New York, with both clock changes, an empty stretch in July and questions on and a
microsecond around the local midnights that bound the periods read here).

Nothing here calls the code under test to work out an expectation: the definitions of
``docs/metrics.md`` are applied to the generator's own records. Percentiles are NumPy's
``method="linear"``; business time is counted day by day from the opening intervals as
aware datetimes (the calendar under test counts with cumulative sums and bisection).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from helpdesk.reports.period import Period
from helpdesk.reports.queries import Scope
from helpdesk.reports.report import build_report
from helpdesk.reports.rows import question_rows
from tests.reports import history as h

pytestmark = pytest.mark.django_db

BUCKETS = (0, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400)
CLOSED = ("dismissed", "escalated")


@pytest.fixture(scope="module")
def history(django_db_setup: None, django_db_blocker: Any) -> Iterator[h.History]:
    with django_db_blocker.unblock():
        written = h.write(h.generate())
        try:
            yield written
        finally:
            h.erase(written)


# --- the definitions, applied to the records ---------------------------------------------------


def utc(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=h.ZONE).astimezone(UTC)


def pct(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"count": 0, "p50": None, "p90": None, "p95": None}
    p50, p90, p95 = np.percentile(np.array(values, dtype=float), [50, 90, 95], method="linear")
    return {"count": len(values), "p50": float(p50), "p90": float(p90), "p95": float(p95)}


def seconds(end: datetime, start: datetime) -> float:
    return max(0.0, (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds())


@dataclass(frozen=True)
class Calendar:
    zone: ZoneInfo
    hours: tuple[tuple[int, time, time], ...]
    holidays: frozenset[date]

    def business(self, start: datetime, end: datetime) -> float:
        """Open seconds of [start, end], day by day, each interval as aware datetimes."""
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        if end <= start:
            return 0.0
        total = 0.0
        day = start.astimezone(self.zone).date() - timedelta(days=1)
        while day <= end.astimezone(self.zone).date():
            if day not in self.holidays:
                for weekday, opens, closes in self.hours:
                    if weekday != day.weekday():
                        continue
                    closing_day = day + timedelta(days=1) if closes == time(0) else day
                    begin = datetime.combine(day, opens, tzinfo=self.zone).astimezone(UTC)
                    finish = datetime.combine(closing_day, closes, tzinfo=self.zone)
                    overlap = min(finish.astimezone(UTC), end) - max(begin, start)
                    total += max(0.0, overlap.total_seconds())
            day += timedelta(days=1)
        return total


BRAND_CALENDAR = Calendar(h.ZONE, tuple(h.HOURS), frozenset(h.HOLIDAYS))
STORE_CALENDAR = Calendar(
    h.STORE_ZONE, tuple(h.STORE_HOURS), frozenset(h.HOLIDAYS + h.STORE_HOLIDAYS)
)


def calendar(store: int | None) -> Calendar:
    return STORE_CALENDAR if store == 0 else BRAND_CALENDAR


def language(lang: str) -> str:
    return lang.lower().replace("_", "-").split("-")[0]


class Model:
    """The history's records with the keys the definitions group and filter by."""

    def __init__(self, history: h.History) -> None:
        self.h = history
        self.first = {
            n: history.replies[q.first_reply]
            for n, q in enumerate(history.questions)
            if q.first_reply is not None
        }

    def store(self, n: int) -> int | None:
        reply = self.first.get(n)
        if reply is not None and reply.store is not None:
            return reply.store
        return self.h.questions[n].routed_store

    def key(self, n: int, grouping: str) -> Any:
        q = self.h.questions[n]
        store = self.store(n)
        if grouping == "store":
            return self.h.stores[store][0] if store is not None else None
        if grouping == "region":
            return self.h.stores[store][2] if store is not None else ""
        if grouping == "volunteer":
            reply = self.first.get(n)
            return self.h.people[reply.author].user_id if reply is not None else None
        if grouping == "topic":
            return self.h.topics[q.topic][0] if q.topic is not None else None
        return language(q.lang)

    def chosen(self, first: date, last: date, filters: dict[str, Any]) -> list[int]:
        start, end = utc(first), utc(last + timedelta(days=1))
        out = []
        for n, q in enumerate(self.h.questions):
            if not start <= q.received < end:
                continue
            if "stores" in filters and self.key(n, "store") not in filters["stores"]:
                continue
            if "region" in filters and self.key(n, "region") != filters["region"]:
                continue
            if "volunteer" in filters and self.key(n, "volunteer") != filters["volunteer"]:
                continue
            if "topic" in filters and self.key(n, "topic") != filters["topic"]:
                continue
            if "language" in filters and self.key(n, "language") != filters["language"]:
                continue
            out.append(n)
        return out

    def durations(self, n: int, business: bool) -> tuple[float, float]:
        q = self.h.questions[n]
        assert q.responded is not None
        began = q.tweeted or q.received
        if business:
            cal = calendar(self.store(n))
            return cal.business(began, q.responded), cal.business(q.received, q.responded)
        return seconds(q.responded, began), seconds(q.responded, q.received)

    def figures(self, chosen: list[int], business: bool) -> dict[str, Any]:
        qs = self.h.questions
        answered = [n for n in chosen if qs[n].responded is not None]
        dismissed = sum(1 for n in chosen if qs[n].responded is None and qs[n].state == "dismissed")
        escalated = sum(1 for n in chosen if qs[n].responded is None and qs[n].state == "escalated")
        first = [self.durations(n, business) for n in answered]
        received = len(chosen)
        met = breached = pending = 0
        for n in chosen:
            q = qs[n]
            if q.sla_due is None or (q.responded is None and q.state in CLOSED):
                continue
            if q.responded is not None:
                met += q.responded <= q.sla_due
                breached += q.responded > q.sla_due
            elif q.sla_due < h.NOW:
                breached += 1
            else:
                pending += 1
        to_answer = received - dismissed
        return {
            "received": received,
            "answered": len(answered),
            "dismissed": dismissed,
            "escalated": escalated,
            "open": received - len(answered) - dismissed - escalated,
            "answer_rate": len(answered) / to_answer if to_answer else None,
            "first_response": pct([f for f, _d in first]),
            "desk_response": pct([d for _f, d in first]),
            "sla": {
                "met": met,
                "breached": breached,
                "pending": pending,
                "compliance": met / (met + breached) if met + breached else None,
            },
        }


def expected(
    model: Model,
    first: date,
    last: date,
    *,
    grouping: str = "store",
    filters: dict[str, Any] | None = None,
    business: bool = False,
) -> dict[str, Any]:
    """The report's JSON (the sections with figures) by the definitions."""
    filters = filters or {}
    hist = model.h
    qs = hist.questions
    chosen = model.chosen(first, last, filters)
    days = (last - first).days + 1
    previous = model.chosen(first - timedelta(days=days), first - timedelta(days=1), filters)
    start, end = utc(first), utc(last + timedelta(days=1))
    out: dict[str, Any] = {
        "summary": model.figures(chosen, business),
        "previous": model.figures(previous, business),
    }
    groups: dict[Any, list[int]] = defaultdict(list)
    for n in chosen:
        groups[model.key(n, grouping)].append(n)
    out["groups"] = {key: model.figures(members, business) for key, members in groups.items()}
    by_priority: dict[int, list[int]] = defaultdict(list)
    for n in chosen:
        q = qs[n]
        if q.sla_due is not None:
            by_priority[q.sla_priority if q.sla_priority is not None else q.priority].append(n)
    out["sla_by_priority"] = {
        p: model.figures(by_priority.get(p, []), business)["sla"] for p in (0, 1, 2, 3)
    }
    # Series: local days, or Monday weeks beyond 92 days.
    weekly = days > 92

    def bucket(moment: datetime) -> date:
        day = moment.astimezone(h.ZONE).date()
        return day - timedelta(days=day.weekday()) if weekly else day

    series: dict[date, list[int]] = defaultdict(list)
    for n in chosen:
        series[bucket(qs[n].received)].append(n)
    starts = []
    cursor = first - timedelta(days=first.weekday()) if weekly else first
    while cursor <= last:
        starts.append(cursor)
        cursor += timedelta(days=7 if weekly else 1)
    out["series"] = [
        {
            "start": day.isoformat(),
            "received": len(series.get(day, [])),
            "answered": sum(1 for n in series.get(day, []) if qs[n].responded is not None),
            "first_response": pct(
                [
                    model.durations(n, business)[0]
                    for n in series.get(day, [])
                    if qs[n].responded is not None
                ]
            ),
        }
        for day in starts
    ]
    grid = [[0] * 24 for _ in range(7)]
    for n in chosen:
        local = qs[n].received.astimezone(h.ZONE)
        grid[local.weekday()][local.hour] += 1
    out["heatmap"] = grid
    counts = [0] * len(BUCKETS)
    for n in chosen:
        if qs[n].responded is not None:
            value = model.durations(n, business)[0]
            counts[max(i for i, low in enumerate(BUCKETS) if value >= low)] += 1
    out["distribution"] = counts
    reasons = Counter(
        qs[n].reason for n in chosen if qs[n].state == "dismissed" and qs[n].responded is None
    )
    out["dismissed"] = sorted(reasons.items(), key=lambda item: (-item[1], item[0]))
    out["resolution"] = resolution(model, set(chosen), business)
    out["reviews"] = reviews(model, start, end, filters, business)
    out["volunteers"] = volunteers(model, first, last, start, end, filters)
    return out


def resolution(model: Model, chosen: set[int], business: bool) -> dict[str, Any]:
    qs = model.h.questions
    by_conversation: dict[int, list[int]] = defaultdict(list)
    for n, q in enumerate(qs):
        by_conversation[q.conversation].append(n)
    counted = resolved = 0
    values = []
    for members in by_conversation.values():
        first = min(members, key=lambda n: (qs[n].received, qs[n].id))
        if first not in chosen:
            continue
        still_open = [n for n in members if qs[n].responded is None and qs[n].state not in CLOSED]
        answered = [n for n in members if qs[n].responded is not None]
        if not still_open and not answered:
            continue
        counted += 1
        if still_open:
            continue
        resolved += 1
        began = min((qs[n].tweeted or qs[n].received).astimezone(UTC) for n in members)
        closed = max((qs[n].responded or qs[n].state_changed).astimezone(UTC) for n in members)
        if business:
            values.append(calendar(model.store(first)).business(began, closed))
        else:
            values.append(seconds(closed, began))
    return {
        "conversations": counted,
        "resolved": resolved,
        "unresolved": counted - resolved,
        "time": pct(values),
    }


def reply_passes(model: Model, reply: h.ReplyRecord, filters: dict[str, Any]) -> bool:
    q = model.h.questions[reply.question]
    store_id = model.h.stores[reply.store][0] if reply.store is not None else None
    if "stores" in filters and store_id not in filters["stores"]:
        return False
    if "region" in filters and (
        reply.store is None or model.h.stores[reply.store][2] != filters["region"]
    ):
        return False
    if "volunteer" in filters and model.h.people[reply.author].user_id != filters["volunteer"]:
        return False
    if "topic" in filters and (q.topic is None or model.h.topics[q.topic][0] != filters["topic"]):
        return False
    return not ("language" in filters and language(q.lang) != filters["language"])


def reviews(
    model: Model, start: datetime, end: datetime, filters: dict[str, Any], business: bool
) -> dict[str, Any]:
    chosen = [
        r for r in model.h.replies if start <= r.submitted < end and reply_passes(model, r, filters)
    ]
    decided = [r for r in chosen if r.needs_review and r.reviewed is not None]
    rejected = sum(1 for r in decided if r.state == "rejected")
    times = [
        calendar(r.store).business(r.submitted, r.reviewed)
        if business
        else seconds(r.reviewed, r.submitted)
        for r in decided
        if r.reviewed is not None
    ]
    findings: Counter[str] = Counter()
    for r in chosen:
        if r.needs_review:
            findings.update({rule for rule, severity in r.rules if severity == "review"})
    approved = len(decided) - rejected
    return {
        "submitted": len(chosen),
        "to_review": sum(1 for r in chosen if r.needs_review),
        "approved": approved,
        "rejected": rejected,
        "pending": sum(1 for r in chosen if r.state == "pending_review"),
        "edited": sum(1 for r in decided if r.edited),
        "approval_rate": approved / len(decided) if decided else None,
        "time_to_review": pct(times),
        "findings": [
            {"rule": rule, "count": count}
            for rule, count in sorted(findings.items(), key=lambda item: (-item[1], item[0]))[:10]
        ],
    }


def volunteers(
    model: Model, first: date, last: date, start: datetime, end: datetime, filters: dict[str, Any]
) -> list[dict[str, Any]]:
    hist = model.h
    topic_language = {k: v for k, v in filters.items() if k in ("topic", "language")}
    rows: list[dict[str, Any]] = []
    for index, person in enumerate(hist.people):
        store_id = hist.stores[person.store][0] if person.store is not None else None
        if "stores" in filters and store_id not in filters["stores"]:
            continue
        if "region" in filters and (
            person.store is None or hist.stores[person.store][2] != filters["region"]
        ):
            continue
        if "volunteer" in filters and person.user_id != filters["volunteer"]:
            continue
        theirs = [
            r for r in hist.replies if r.author == index and reply_passes(model, r, topic_language)
        ]
        sent = sum(
            1
            for r in theirs
            if r.state in ("sent", "deleted") and r.sent is not None and start <= r.sent < end
        )
        decided = [
            r
            for r in theirs
            if start <= r.submitted < end and r.needs_review and r.reviewed is not None
        ]
        rejected = sum(1 for r in decided if r.state == "rejected")
        firsts = sum(
            1
            for n in model.chosen(first, last, topic_language)
            if n in model.first and model.first[n].author == index
        )
        shift = timedelta()
        for s in hist.shifts:
            if s.person != index:
                continue
            # In UTC: two times of one ZoneInfo subtract as wall clocks.
            stop = min((s.ended or h.NOW).astimezone(UTC), end)
            begin = max(s.started.astimezone(UTC), start)
            if stop > begin:
                shift += stop - begin
        rows.append(
            {
                "user_id": person.user_id,
                "name": person.name,
                "store_id": store_id,
                "level": person.level,
                "training": person.training,
                "replies_sent": sent,
                "approved": len(decided) - rejected,
                "rejected": rejected,
                "shift_seconds": int(shift.total_seconds()),
                "first_responses": firsts,
            }
        )
    rows.sort(
        key=lambda row: (-int(row["replies_sent"]), -int(row["shift_seconds"]), str(row["name"]))
    )
    return rows


# --- comparing --------------------------------------------------------------------------------


def same(actual: Any, wanted: Any, where: str = "") -> None:
    """Counts exactly, durations and rates within a billionth (relative) or a microsecond."""
    if isinstance(wanted, dict):
        assert isinstance(actual, dict), where
        for key, value in wanted.items():
            same(actual[key], value, f"{where}.{key}")
    elif isinstance(wanted, list):
        assert isinstance(actual, list) and len(actual) == len(wanted), (where, actual, wanted)
        for i, (a, w) in enumerate(zip(actual, wanted, strict=True)):
            same(a, w, f"{where}[{i}]")
    elif isinstance(wanted, float):
        assert actual is not None and math.isclose(actual, wanted, rel_tol=1e-9, abs_tol=1e-6), (
            where,
            actual,
            wanted,
        )
    else:
        assert actual == wanted, (where, actual, wanted)


def report_json(history: h.History, first: date, last: date, **options: Any) -> dict[str, Any]:
    filters = options.pop("filters", {})
    scope = Scope(
        brand_id=history.brand_id,
        period=Period(first, last, h.ZONE),
        stores=filters.get("stores"),
        region=filters.get("region", ""),
        volunteer_id=filters.get("volunteer"),
        topic_id=filters.get("topic"),
        language=filters.get("language", ""),
        business_time=options.get("business", False),
        now=h.NOW,
    )
    return build_report(scope, grouping=options.get("grouping", "store")).as_json()


def check(history: h.History, first: date, last: date, **options: Any) -> dict[str, Any]:
    """The report of the period against the definitions, section by section."""
    model = Model(history)
    want = expected(
        model,
        first,
        last,
        grouping=options.get("grouping", "store"),
        filters=options.get("filters"),
        business=options.get("business", False),
    )
    got = report_json(history, first, last, **options)
    same(got["summary"], want["summary"], "summary")
    same(got["previous"], want["previous"], "previous")
    groups = {row["key"]: row for row in got["groups"]}
    assert set(groups) == set(want["groups"])
    for key, figures in want["groups"].items():
        same(groups[key], figures, f"groups[{key}]")
    # A total is never made of its groups' figures; only counts add up.
    assert sum(row["received"] for row in got["groups"]) == got["summary"]["received"]
    same({row["priority"]: row for row in got["sla_by_priority"]}, want["sla_by_priority"], "sla")
    same(got["series"], want["series"], "series")
    same(got["heatmap"]["counts"], want["heatmap"], "heatmap")
    same([b["count"] for b in got["first_response_distribution"]], want["distribution"], "buckets")
    same(
        [[row["reason"], row["count"]] for row in got["dismissed_by_reason"]],
        [[reason, count] for reason, count in want["dismissed"]],
        "dismissed",
    )
    same(got["resolution"], want["resolution"], "resolution")
    same(got["reviews"], want["reviews"], "reviews")
    keys = (
        "user_id",
        "name",
        "store_id",
        "level",
        "training",
        "replies_sent",
        "approved",
        "rejected",
        "shift_seconds",
        "first_responses",
    )
    same(
        [{key: row[key] for key in keys} for row in got["volunteers"]],
        want["volunteers"],
        "volunteers",
    )
    return got


# --- the tests --------------------------------------------------------------------------------


def test_the_history_is_as_generated(history: h.History) -> None:
    from helpdesk.models import Question, Reply

    assert (
        Question.objects.filter(brand_id=history.brand_id).count()
        == len(history.questions)
        == 100_000
    )
    assert Reply.objects.filter(question__brand_id=history.brand_id).count() == len(history.replies)


def test_the_whole_year_week_by_week(history: h.History) -> None:
    got = check(history, date(2026, 1, 1), date(2026, 12, 31))

    assert got["period"]["granularity"] == "week"
    assert got["summary"]["received"] == 100_000
    assert got["previous"]["received"] == 0  # 2025: nothing


def test_a_fortnight_across_the_autumn_clock_change(history: h.History) -> None:
    got = check(history, date(2026, 10, 25), date(2026, 11, 7))

    # 1 November is 25 hours long in New York; its questions are counted once, in it.
    assert got["period"]["start"] == "2026-10-25T04:00:00+00:00"
    assert got["period"]["end"] == "2026-11-08T05:00:00+00:00"


def test_the_same_fortnight_in_business_time(history: h.History) -> None:
    check(history, date(2026, 10, 25), date(2026, 11, 7), business=True)


def test_the_spring_clock_change_in_business_time(history: h.History) -> None:
    check(history, date(2026, 3, 2), date(2026, 3, 15), business=True, grouping="volunteer")


def test_an_empty_stretch_has_its_days_with_zeros(history: h.History) -> None:
    got = check(history, date(2026, 7, 5), date(2026, 7, 25))

    empty = [point for point in got["series"] if "2026-07-10" <= point["start"] <= "2026-07-20"]
    assert len(empty) == 11 and all(point["received"] == 0 for point in empty)


def test_a_period_with_nothing_in_it(history: h.History) -> None:
    got = check(history, date(2025, 6, 1), date(2025, 6, 30))

    assert got["summary"]["received"] == 0
    assert got["summary"]["first_response"] == {"count": 0, "p50": None, "p90": None, "p95": None}
    assert got["summary"]["answer_rate"] is None and got["summary"]["sla"]["compliance"] is None


def test_midnight_in_the_brands_zone_divides_the_days(history: h.History) -> None:
    # Questions at 23:59:59.999999, 00:00 and 00:00:00.000001 around 8 November.
    before = report_json(history, date(2026, 11, 7), date(2026, 11, 7))
    after = report_json(history, date(2026, 11, 8), date(2026, 11, 8))

    midnight = datetime(2026, 11, 8, tzinfo=h.ZONE).astimezone(UTC)
    late = sum(1 for q in history.questions if utc(date(2026, 11, 7)) <= q.received < midnight)
    early = sum(1 for q in history.questions if midnight <= q.received < utc(date(2026, 11, 9)))
    assert (before["summary"]["received"], after["summary"]["received"]) == (late, early)
    assert any(q.received == midnight - timedelta(microseconds=1) for q in history.questions)


@pytest.mark.parametrize("grouping", ["store", "region", "volunteer", "topic", "language"])
def test_each_grouping(history: h.History, grouping: str) -> None:
    check(history, date(2026, 9, 1), date(2026, 10, 31), grouping=grouping)


FILTERS: list[Callable[[h.History], dict[str, Any]]] = [
    lambda hist: {"stores": frozenset({hist.stores[0][0]})},  # a supervisor's store
    lambda hist: {"stores": frozenset({hist.stores[3][0]})},  # the store with no region
    lambda hist: {"region": "South"},
    lambda hist: {"volunteer": hist.people[4].user_id},
    lambda hist: {"topic": hist.topics[2][0]},
    lambda hist: {"language": "fr"},
]


@pytest.mark.parametrize(
    "make", FILTERS, ids=["store", "no-region-store", "region", "volunteer", "topic", "language"]
)
def test_each_filter(history: h.History, make: Callable[[h.History], dict[str, Any]]) -> None:
    check(history, date(2026, 9, 1), date(2026, 10, 31), filters=make(history))


def test_a_stores_own_hours_in_business_time(history: h.History) -> None:
    check(
        history,
        date(2026, 11, 20),
        date(2026, 12, 5),
        business=True,
        filters={"stores": frozenset({history.stores[0][0]})},
    )


def test_row_level_rows_hold_the_same_durations(history: h.History) -> None:
    model = Model(history)
    first, last = date(2026, 10, 25), date(2026, 11, 7)
    scope = Scope(brand_id=history.brand_id, period=Period(first, last, h.ZONE), now=h.NOW)

    rows = list(question_rows(scope))

    chosen = model.chosen(first, last, {})
    assert [row["question_id"] for row in rows] == sorted(
        (history.questions[n].id for n in chosen),
        key=lambda pk: (history.questions[pk - h.BASE].received, pk),
    )
    for row in rows:
        n = row["question_id"] - h.BASE
        if history.questions[n].responded is None:
            assert row["first_response_seconds"] is None
            continue
        first_s, desk_s = model.durations(n, False)
        assert math.isclose(row["first_response_seconds"], first_s, abs_tol=1e-6)
        assert math.isclose(row["desk_response_seconds"], desk_s, abs_tol=1e-6)
