"""The X bill: what the gateway's calls cost, per local day, account and price category,
per answered question, and against the brand's monthly budget (docs/metrics.md).

Money is integer micro-dollars throughout; ``usd`` turns it into dollars for display.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import TruncDate

from helpdesk.models import Brand, PriceCategory, XApiCall
from helpdesk.reports.period import Period
from helpdesk.reports.queries.scope import Scope, brand_zone, questions_in

MICROS = 1_000_000
# The share of the monthly budget at which the desk warns.
WARN_SHARE = Decimal("0.8")


def usd(micros: int | None) -> Decimal | None:
    """Micro-dollars as dollars (six decimals), or None."""
    return None if micros is None else Decimal(micros) / MICROS


def per(micros: int, count: int) -> int | None:
    """``micros`` shared over ``count``, to the nearest micro-dollar; None for no count."""
    if count <= 0:
        return None
    return int((Decimal(micros) / count).to_integral_value(rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Slice:
    """The calls of one day, account or category: how many, the units billed, the cost."""

    key: Any
    label: str
    calls: int
    units: int
    micros: int

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key.isoformat() if isinstance(self.key, date) else self.key,
            "label": self.label,
            "calls": self.calls,
            "units": self.units,
            "usd": str(usd(self.micros)),
        }


@dataclass(frozen=True)
class Spend:
    """A brand's X bill over a period, and what it cost per answered question."""

    total: Slice
    by_day: list[Slice]
    by_account: list[Slice]
    by_category: list[Slice]
    answered: int

    @property
    def per_answered_micros(self) -> int | None:
        return per(self.total.micros, self.answered)

    def as_json(self) -> dict[str, Any]:
        per_answered = usd(self.per_answered_micros)
        return {
            "calls": self.total.calls,
            "usd": str(usd(self.total.micros)),
            "answered": self.answered,
            "per_answered_usd": str(per_answered) if per_answered is not None else None,
            "by_day": [row.as_json() for row in self.by_day],
            "by_account": [row.as_json() for row in self.by_account],
            "by_category": [row.as_json() for row in self.by_category],
        }


def calls_between(brand_id: int, start: datetime, end: datetime) -> QuerySet[XApiCall]:
    """The brand's counted calls made in ``[start, end)``."""
    return XApiCall.objects.filter(brand_id=brand_id, at__gte=start, at__lt=end)


_TOTALS: dict[str, Any] = {
    "calls": Count("pk"),
    "units": Sum("units", default=0),
    "micros": Sum("cost_micros", default=0),
}


def _slices(calls: QuerySet[XApiCall], key: str, labels: dict[Any, str]) -> list[Slice]:
    rows = calls.values(key).order_by().annotate(**_TOTALS)
    return [
        Slice(
            row[key], labels.get(row[key], str(row[key])), row["calls"], row["units"], row["micros"]
        )
        for row in rows
    ]


def spend_between(brand: Brand, period: Period, answered: int) -> Spend:
    """The brand's X bill over ``period`` (local days), ``answered`` the questions it is
    shared over."""
    calls = calls_between(brand.pk, period.start, period.end)
    total = calls.aggregate(**_TOTALS)
    days = {
        row["day"]: row
        for row in calls.annotate(day=TruncDate("at", tzinfo=period.zone))
        .values("day")
        .order_by()
        .annotate(**_TOTALS)
    }
    by_day = []
    for day in period.dates():
        row = days.get(day, {"calls": 0, "units": 0, "micros": 0})
        by_day.append(Slice(day, day.isoformat(), row["calls"], row["units"], row["micros"]))
    accounts = {account.pk: f"@{account.username}" for account in brand.x_accounts.all()} | {
        None: "—"
    }
    by_account = sorted(
        _slices(calls, "account_id", accounts), key=lambda row: (-row.micros, row.label)
    )
    categories = {value: str(label) for value, label in PriceCategory.choices}
    order = list(categories)
    by_category = sorted(
        _slices(calls, "category", categories), key=lambda row: order.index(row.key)
    )
    return Spend(
        total=Slice(None, "", total["calls"], total["units"], total["micros"]),
        by_day=by_day,
        by_account=by_account,
        by_category=by_category,
        answered=answered,
    )


def spend(scope: Scope) -> Spend | None:
    """The X bill of a report: the brand's calls in the period, shared over the report's
    answered questions. None for a report narrowed by a filter: the bill is the brand's
    and does not split by store, volunteer, topic or language."""
    if (
        scope.stores is not None
        or scope.region
        or scope.volunteer_id is not None
        or scope.topic_id is not None
        or scope.language
    ):
        return None
    brand = Brand.objects.get(pk=scope.brand_id)
    answered = questions_in(scope).filter(first_response_at__isnull=False).count()
    return spend_between(brand, scope.period, answered)


# --- the month and the budget (monitoring) ----------------------------------------------------


def month_of(brand: Brand, now: datetime) -> Period:
    """The brand's local calendar month up to today (the budget's month)."""
    today = now.astimezone(brand_zone(brand)).date()
    return Period(today.replace(day=1), today, brand_zone(brand))


@dataclass(frozen=True)
class BudgetState:
    """A brand's X bill today and this month against its monthly budget."""

    brand_id: int
    brand: str
    month: date
    today_micros: int
    month_micros: int
    budget_micros: int | None
    pause_listening: bool
    by_account: list[Slice]

    @property
    def share(self) -> Decimal | None:
        """The share of the budget spent (1 = all of it), or None without a budget."""
        if not self.budget_micros:
            return None
        return Decimal(self.month_micros) / Decimal(self.budget_micros)

    @property
    def warning(self) -> bool:
        return self.share is not None and self.share >= WARN_SHARE

    @property
    def spent(self) -> bool:
        return self.share is not None and self.share >= 1

    @property
    def listening_paused(self) -> bool:
        return self.spent and self.pause_listening

    def as_json(self) -> dict[str, Any]:
        budget = usd(self.budget_micros)
        return {
            "brand": self.brand,
            "month": self.month.isoformat(),
            "today_usd": str(usd(self.today_micros)),
            "month_usd": str(usd(self.month_micros)),
            "budget_usd": str(budget) if budget is not None else None,
            "share": float(self.share) if self.share is not None else None,
            "warning": self.warning,
            "listening_paused": self.listening_paused,
            "by_account": [row.as_json() for row in self.by_account],
        }


def budget_state(brand: Brand, now: datetime) -> BudgetState:
    """The brand's spend today and this month (local), its budget and what it implies."""
    month = month_of(brand, now)
    today = Period(month.last, month.last, month.zone)
    calls = calls_between(brand.pk, month.start, now)
    spent = calls.aggregate(micros=Sum("cost_micros", default=0))["micros"]
    today_spent = calls.filter(at__gte=today.start).aggregate(micros=Sum("cost_micros", default=0))[
        "micros"
    ]
    accounts = {account.pk: f"@{account.username}" for account in brand.x_accounts.all()}
    by_account = sorted(
        _slices(calls, "account_id", accounts | {None: "—"}),
        key=lambda row: (-row.micros, row.label),
    )
    budget = brand.x_monthly_budget
    return BudgetState(
        brand_id=brand.pk,
        brand=brand.name,
        month=month.first,
        today_micros=int(today_spent),
        month_micros=int(spent),
        budget_micros=int(budget * MICROS) if budget is not None else None,
        pause_listening=brand.x_pause_listening_when_spent,
        by_account=by_account,
    )


def spend_summary(brand_ids: Iterable[int], now: datetime) -> list[BudgetState]:
    """Today's and this month's X spend of each brand, its budget, the share used and the
    spend per account: what the monitoring page shows."""
    brands = Brand.objects.filter(pk__in=list(brand_ids)).order_by("name", "pk")
    return [budget_state(brand, now) for brand in brands]
