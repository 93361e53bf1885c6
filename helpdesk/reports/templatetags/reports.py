"""How report figures read on a page: durations, rates, and the change from the previous
period. Exports and the API carry the raw numbers; these only format them."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _

register = template.Library()
# What a figure with nothing to count shows (an en dash).
NONE = "\u2013"


@register.filter
def duration(seconds: float | None) -> str:
    """``95`` → "1 min 35 s", ``5400`` → "1 h 30 min", ``200000`` → "2 d 7 h"; "-" for
    none."""
    if seconds is None:
        return NONE
    total = round(float(seconds))
    if total < 60:
        return _("%(s)d s") % {"s": total}
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        if minutes < 10 and secs:
            return _("%(m)d min %(s)d s") % {"m": minutes, "s": secs}
        return _("%(m)d min") % {"m": round(total / 60)}
    hours, minutes = divmod(round(total / 60), 60)
    if hours < 24:
        return (
            _("%(h)d h %(m)d min") % {"h": hours, "m": minutes}
            if minutes
            else _("%(h)d h") % {"h": hours}
        )
    days, hours = divmod(hours, 24)
    return _("%(d)d d %(h)d h") % {"d": days, "h": hours} if hours else _("%(d)d d") % {"d": days}


@register.filter
def percent(fraction: float | None) -> str:
    """``0.875`` → "87.5 %"; a dash for none."""
    if fraction is None:
        return NONE
    return _("%(value)s %%") % {"value": number_format(round(fraction * 100, 1), 1)}


@register.filter
def dollars(micros: int | None) -> str:
    """Micro-dollars as dollars: cents from a dollar up ("$12.35"), tenths of a cent below
    ("$0.015", X's prices are that small); a dash for none."""
    if micros is None:
        return NONE
    places = 2 if abs(micros) >= 1_000_000 else 3
    amount = (Decimal(micros) / 1_000_000).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
    return _("$%(amount)s") % {"amount": number_format(amount, places)}


@register.filter
def minutes(seconds: float | None) -> str:
    """Seconds as minutes with one decimal, for tables (a dash for none)."""
    if seconds is None:
        return NONE
    return number_format(round(float(seconds) / 60, 1), 1)


@register.simple_tag
def change(current: float | None, previous: float | None, lower_is_better: bool = False) -> str:
    """The change from the previous period, in words a reader can scan: "▲ 12 %" or
    "▼ 3 %" (with "better"/"worse" left to the page's colours), "new" from nothing, "="
    when equal, "" when either is unknown."""
    if current is None or previous is None:
        return ""
    if previous == 0:
        return "" if current == 0 else _("new")
    ratio = (current - previous) / abs(previous)
    if abs(ratio) < 0.0005:
        return "="
    arrow = "▲" if ratio > 0 else "▼"
    return f"{arrow} {number_format(round(abs(ratio) * 100, 1), 1)} %"


@register.simple_tag
def trend(current: float | None, previous: float | None, lower_is_better: bool = False) -> str:
    """``better``, ``worse`` or ``same``: the class a change is shown with."""
    if current is None or previous is None or current == previous:
        return "same"
    improved = current < previous if lower_is_better else current > previous
    return "better" if improved else "worse"


@register.filter
def get_item(mapping: dict[Any, Any], key: Any) -> Any:
    return mapping.get(key) if isinstance(mapping, dict) else None


@register.filter
def hours(seconds: int | float | None) -> str:
    """Seconds as hours with one decimal."""
    if seconds is None:
        return NONE
    return number_format(round(float(seconds) / 3600, 1), 1)


@register.filter
def level_label(level: str) -> str:
    """A programme level's name in the reader's language."""
    from charter.models import Level

    return str(Level(level).label) if level in Level.values else (level or NONE)


@register.filter
def training_label(code: str) -> str:
    """``ok`` or the first thing the gate misses, in words."""
    from helpdesk.roster import MISSING_LABELS

    if code == "ok":
        return _("up to date")
    return str(MISSING_LABELS.get(code, code))
