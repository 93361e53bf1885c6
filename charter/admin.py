"""Where a brand edits its linter settings: its term lists (blocked, review, competitors,
accepted profanity), each list's verdict, and the rest of ``LinterSettings``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from charter.linter import pattern_errors
from charter.models import LinterSettings

_LIST_FIELDS = (
    "allowed_domains",
    "order_number_patterns",
    "extra_review_terms",
    "blocked_terms",
    "profanity_allowed",
    "competitor_names",
    "disabled_rules",
)


class LinterSettingsForm(forms.ModelForm[LinterSettings]):
    """Each list must be a JSON list of words or phrases; a bad one is refused with the
    reason, and nothing is saved."""

    class Meta:
        model = LinterSettings
        fields = (
            "brand",
            "disclosure_hashtag",
            "require_signature",
            "profanity_verdict",
            "competitor_verdict",
            *_LIST_FIELDS,
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name in _LIST_FIELDS:
            value = cleaned.get(name)
            if value is None:
                continue
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                self.add_error(
                    name, _('Write a list of words or phrases, e.g. ["Amazon", "Best Buy"].')
                )
                continue
            cleaned[name] = [v.strip() for v in value if v.strip()]
        patterns = cleaned.get("order_number_patterns")
        if isinstance(patterns, list):
            for error in pattern_errors(patterns):
                self.add_error("order_number_patterns", error)
        return cleaned


@admin.register(LinterSettings)
class LinterSettingsAdmin(admin.ModelAdmin[LinterSettings]):
    form = LinterSettingsForm
    list_display = ("brand", "profanity_verdict", "competitor_verdict")
    fieldsets = (
        (None, {"fields": ("brand",)}),
        (
            _("Term lists"),
            {
                "fields": (
                    "blocked_terms",
                    "extra_review_terms",
                    ("profanity_verdict", "profanity_allowed"),
                    ("competitor_verdict", "competitor_names"),
                )
            },
        ),
        (
            _("Other rules"),
            {
                "fields": (
                    "allowed_domains",
                    "disclosure_hashtag",
                    "require_signature",
                    "order_number_patterns",
                    "disabled_rules",
                )
            },
        ),
    )
