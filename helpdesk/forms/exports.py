"""The exports' period."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _

from helpdesk.reports.period import EARLIEST, LATEST

MAX_DAYS = 366


class PeriodForm(forms.Form):
    start = forms.DateField(required=False)
    end = forms.DateField(required=False, help_text="inclusive")

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        today = timezone.now().date()
        end = data.get("end") or today
        start = data.get("start")
        for day in (start, end):
            if day is not None and not EARLIEST <= day <= LATEST:
                raise forms.ValidationError(
                    _("Dates must lie between %(earliest)s and %(latest)s."),
                    params={"earliest": EARLIEST.isoformat(), "latest": LATEST.isoformat()},
                )
        start = start or end - timedelta(days=6)
        if start > end:
            raise forms.ValidationError(_("The start must not be after the end."))
        if (end - start).days >= MAX_DAYS:
            raise forms.ValidationError(
                _("At most %(days)s days at a time."), params={"days": MAX_DAYS}
            )
        data["start"], data["end"] = start, end
        return data
