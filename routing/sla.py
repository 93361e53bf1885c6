"""First-response deadlines: a periodic sweep finds questions near or past theirs.

A question is *near* its deadline once ``sla_warning_share`` of its priority's minutes have
gone by, and *breached* once the deadline passed. Each level is announced once per question
and deadline (the audit log remembers which alerts went out: the sweep reads the
``question.sla_near``/``question.sla_breached`` events of the few questions it found). A
queued question that breaches its deadline is raised one priority (never above urgent) and
its offer is withdrawn, so the whole eligible pool sees it.

The sweep reads only questions whose ``sla_due_at`` falls before the widest warning window,
through the ``(state, sla_due_at)`` index; it never scans the table.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from helpdesk.audit import Event, record_many
from helpdesk.audit import events as audit_events
from helpdesk.events import announce, brand_queue_group, monitoring_group
from helpdesk.models import Question
from helpdesk.states import QuestionState
from routing.models import RoutingSettings, default_sla_minutes

SWEPT_STATES = (QuestionState.QUEUED, QuestionState.CLAIMED)
NEAR = "question.sla_near"
BREACHED = "question.sla_breached"


def _windows(brand_ids: set[int]) -> dict[int, dict[int, timedelta]]:
    """Per brand and priority, how long before the deadline a question counts as near."""
    found = {s.brand_id: s for s in RoutingSettings.objects.filter(brand_id__in=brand_ids)}
    windows: dict[int, dict[int, timedelta]] = {}
    for brand_id in brand_ids:
        settings = found.get(brand_id) or RoutingSettings(brand_id=brand_id)
        share = min(max(settings.sla_warning_share, 0.0), 1.0)
        minutes = {**default_sla_minutes(), **(settings.sla_minutes or {})}
        windows[brand_id] = {
            int(priority): timedelta(minutes=float(value) * (1 - share))
            for priority, value in minutes.items()
        }
    return windows


def _widest_window() -> timedelta:
    widest = max(default_sla_minutes().values())
    for minutes, share in RoutingSettings.objects.values_list("sla_minutes", "sla_warning_share"):
        for value in (minutes or {}).values():
            widest = max(widest, int(float(value) * (1 - min(max(share, 0.0), 1.0))) + 1)
    return timedelta(minutes=widest)


def sweep_sla(now: datetime | None = None) -> dict[str, int]:
    """Alert on questions near or past their deadline, once per level; raise and widen the
    queued ones past it. Returns counts ``{"near": n, "breached": m, "raised": k}``."""
    now = now or timezone.now()
    counts = {"near": 0, "breached": 0, "raised": 0}
    with transaction.atomic(durable=True):
        rows = list(
            Question.objects.select_for_update(skip_locked=True)
            .filter(state__in=SWEPT_STATES, sla_due_at__lte=now + _widest_window())
            .values_list("pk", "brand_id", "state", "priority", "sla_due_at", "offered_to_id")
        )
        if not rows:
            return counts
        windows = _windows({row[1] for row in rows})
        alerted: set[tuple[int, str, str]] = {
            (question_id, kind, str((data or {}).get("due", "")))
            for question_id, kind, data in audit_events()
            .filter(question_id__in=[row[0] for row in rows], kind__in=(NEAR, BREACHED))
            .values_list("question_id", "kind", "data")
        }
        events: list[Event] = []
        alerts: dict[int, dict[str, list[int]]] = {}
        for pk, brand_id, state, priority, due, offered_to in rows:
            assert due is not None  # the filter on sla_due_at leaves no nulls
            window = windows[brand_id].get(priority, timedelta())
            breached = due <= now
            if not breached and due > now + window:
                continue
            kind = BREACHED if breached else NEAR
            due_text = due.isoformat()
            if (pk, kind, due_text) in alerted:
                continue
            data: dict[str, object] = {"due": due_text, "priority": priority, "state": state}
            if breached and state == QuestionState.QUEUED:
                raised = max(priority - 1, 0)
                Question.objects.filter(pk=pk, state=QuestionState.QUEUED).update(
                    priority=raised, offered_to=None, offer_expires_at=None
                )
                data.update({"raised_to": raised, "withdrawn_offer_to": offered_to})
                counts["raised"] += int(raised != priority)
            events.append(
                Event(
                    kind=kind,
                    at=now,
                    actor_label="system:sla",
                    brand_id=brand_id,
                    question_id=pk,
                    data=data,
                )
            )
            level = "breached" if breached else "near"
            counts[level] += 1
            alerts.setdefault(brand_id, {"near": [], "breached": []})[level].append(pk)
        record_many(events)
        for brand_id, levels in alerts.items():
            announce(
                [monitoring_group(brand_id)],
                "sla.alert",
                {"brand_id": brand_id, **levels},
            )
            if levels["breached"]:
                announce(
                    [brand_queue_group(brand_id)],
                    "questions.widened",
                    {"brand_id": brand_id, "question_ids": levels["breached"]},
                )
    return counts
