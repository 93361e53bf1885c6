"""The exports' period."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.utils import timezone

MAX_DAYS = 366


class PeriodForm(forms.Form):
    start = forms.DateField(required=False)
    end = forms.DateField(required=False, help_text="inclusive")

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        today = timezone.now().date()
        end = data.get("end") or today
        start = data.get("start") or end - timedelta(days=6)
        if start > end:
            raise forms.ValidationError("start must not be after end")
        if (end - start).days >= MAX_DAYS:
            raise forms.ValidationError(f"at most {MAX_DAYS} days at a time")
        data["start"], data["end"] = start, end
        return data
