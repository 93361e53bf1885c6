"""``/metrics`` in Prometheus's text format (prometheus_client).

Two kinds of figure:

* the desk's, read from the database at each scrape by :class:`DeskCollector` (questions by
  state, the oldest waiting question, ingestion per account, the send queue per account):
  every process answers the same, so any one of them may be scraped;
* each process's own, counted as they happen: open websockets, failed tasks. In production
  several processes count; with ``PROMETHEUS_MULTIPROC_DIR`` set (one directory shared by
  the processes of a machine, emptied when they start), prometheus_client adds them up, and
  each machine is scraped.

Readable with ``Authorization: Bearer <HELPFORCE_METRICS_TOKEN>`` or from the addresses and
networks in ``HELPFORCE_METRICS_ALLOWED``; refused otherwise.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Min, Sum
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from helpdesk.client_ip import client_ip
from helpdesk.health import bearer_token_matches
from helpdesk.models import Brand, Question, XApiCall
from helpdesk.monitoring.queries import WAITING_STATES, account_health
from helpdesk.states import QuestionState


class DeskCollector(Collector):
    """The desk's figures, read from the database at each scrape."""

    def describe(self) -> list[GaugeMetricFamily]:
        # Nothing to check at registration, which would otherwise run a first scrape (and
        # read the database while the project is loading).
        return []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = timezone.now()
        brands = dict(Brand.objects.values_list("pk", "slug"))
        by_state = GaugeMetricFamily(
            "helpforce_questions", "Questions by brand and state.", labels=["brand", "state"]
        )
        counts = {
            (row["brand_id"], row["state"]): row["n"]
            for row in Question.objects.values("brand_id", "state").annotate(n=Count("pk"))
        }
        for brand_id, slug in sorted(brands.items()):
            for state in QuestionState.values:
                by_state.add_metric([slug, state], counts.get((brand_id, state), 0))
        yield by_state

        oldest = GaugeMetricFamily(
            "helpforce_oldest_waiting_seconds",
            "Age of the brand's oldest question waiting for a volunteer (0: none waiting).",
            labels=["brand"],
        )
        since = dict(
            Question.objects.filter(state__in=WAITING_STATES)
            .values("brand_id")
            .annotate(at=Min("received_at"))
            .values_list("brand_id", "at")
        )
        for brand_id, slug in sorted(brands.items()):
            at = since.get(brand_id)
            oldest.add_metric([slug], max((now - at).total_seconds(), 0.0) if at else 0.0)
        yield oldest

        yield from self._accounts(now)
        yield from self._x_bill(now)

    def _x_bill(self, now: datetime) -> Iterator[GaugeMetricFamily]:
        """This UTC month's calls and spend: bounded by the month (one index range), where
        an all-time counter would read every call ever made at every scrape."""
        start = now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        calls = GaugeMetricFamily(
            "helpforce_x_calls_month",
            "Calls to the X API this UTC month, by care account and price category.",
            labels=["account", "category"],
        )
        spend = GaugeMetricFamily(
            "helpforce_x_spend_month_usd",
            "X API spend this UTC month in US dollars, by care account and price category.",
            labels=["account", "category"],
        )
        rows = (
            XApiCall.objects.filter(at__gte=start)
            .values("account__username", "category")
            .annotate(n=Count("pk"), micros=Sum("cost_micros"))
            .order_by("account__username", "category")
        )
        for row in rows:
            label = [row["account__username"] or "", row["category"]]
            calls.add_metric(label, row["n"])
            spend.add_metric(label, (row["micros"] or 0) / 1_000_000)
        yield calls
        yield spend

    def _accounts(self, now: Any) -> Iterator[GaugeMetricFamily]:
        families = {
            "lag": GaugeMetricFamily(
                "helpforce_ingestion_lag_seconds",
                "Median seconds from a customer's tweet to its arrival, over the last hour.",
                labels=["account"],
            ),
            "poll_age": GaugeMetricFamily(
                "helpforce_last_poll_age_seconds",
                "Seconds since the account was last polled (-1: never).",
                labels=["account"],
            ),
            "failures": GaugeMetricFamily(
                "helpforce_poll_consecutive_failures",
                "Polls of the account that failed in a row.",
                labels=["account"],
            ),
            "queue": GaugeMetricFamily(
                "helpforce_send_queue",
                "Replies approved and waiting to be posted, by care account.",
                labels=["account"],
            ),
            "held": GaugeMetricFamily(
                "helpforce_send_waiting_for_rate_limit",
                "Of those, the replies X's rate limit holds back.",
                labels=["account"],
            ),
            "allowance": GaugeMetricFamily(
                "helpforce_send_allowance_left",
                "Posts the account may still make in X's current window.",
                labels=["account"],
            ),
        }
        for health in account_health(None, now):
            label = [health.username]
            families["lag"].add_metric(label, health.lag_p50_seconds or 0.0)
            families["poll_age"].add_metric(
                label, -1.0 if health.poll_age_seconds is None else health.poll_age_seconds
            )
            families["failures"].add_metric(label, health.consecutive_failures)
            families["queue"].add_metric(label, health.waiting_to_send)
            families["held"].add_metric(label, health.waiting_for_limit)
            families["allowance"].add_metric(label, health.allowance_left)
        yield from families.values()


_DESK = DeskCollector()
REGISTRY.register(_DESK)


def registry() -> CollectorRegistry:
    """What a scrape reads: this process's registry, or every process's on this machine
    (multiprocess mode) with the desk's figures once."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    combined = CollectorRegistry()
    multiprocess.MultiProcessCollector(combined)  # type: ignore[no-untyped-call]
    combined.register(_DESK)
    return combined


def may_read_metrics(request: HttpRequest) -> bool:
    """The metrics token, or an address of ``HELPFORCE_METRICS_ALLOWED``."""
    if bearer_token_matches(request):
        return True
    try:
        address = ipaddress.ip_address(client_ip(request))
    except ValueError:
        return False
    return any(address in network for network in settings.METRICS_ALLOWED)


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not may_read_metrics(request):
        raise PermissionDenied(
            _(
                "/metrics is read by monitoring systems: send the metrics token, or scrape "
                "from an address in HELPFORCE_METRICS_ALLOWED."
            )
        )
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)
