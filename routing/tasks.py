"""Celery tasks for routing's periodic sweeps: thin wrappers around the actions."""

from __future__ import annotations

from celery import shared_task

from routing import claims, placement, presence, sla


@shared_task(name="routing.tasks.expire_leases", ignore_result=True)
def expire_leases() -> int:
    return claims.expire_leases()


@shared_task(name="routing.tasks.advance_offers", ignore_result=True)
def advance_offers() -> int:
    return placement.advance_offers()


@shared_task(name="routing.tasks.sweep_sla", ignore_result=True)
def sweep_sla() -> dict[str, int]:
    return sla.sweep_sla()


@shared_task(name="routing.tasks.end_idle_shifts", ignore_result=True)
def end_idle_shifts() -> int:
    return presence.end_idle_shifts()
