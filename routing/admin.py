"""Admin for topics, routing rules, routing settings and question groups, with the rule
tester: a page where staff type a text and see which rules it hits and how it would be
classified."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.core.validators import MaxValueValidator
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from helpdesk.models import Brand
from routing.actions import classify_text
from routing.classify.rules import compile_regex
from routing.models import (
    MAX_SLA_MINUTES,
    CrisisMode,
    Priority,
    QuestionGroup,
    RoutingRule,
    RoutingSettings,
    RuleEffect,
    RuleKind,
    Topic,
)


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin[Topic]):
    list_display = ("name", "slug", "brand", "placement", "is_local")
    list_filter = ("brand", "placement", "is_local")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


class RoutingRuleForm(forms.ModelForm[RoutingRule]):
    class Meta:
        model = RoutingRule
        fields = (
            "brand",
            "name",
            "kind",
            "pattern",
            "effect",
            "topic",
            "priority_boost",
            "noise_reason",
            "position",
            "is_active",
        )

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        kind = cleaned.get("kind")
        pattern = cleaned.get("pattern") or ""
        effect = cleaned.get("effect")
        topic = cleaned.get("topic")
        brand = cleaned.get("brand")
        if kind == RuleKind.REGEX:
            try:
                compile_regex(pattern)
            except re.error as error:
                self.add_error("pattern", f"This regular expression does not compile: {error}")
        if effect == RuleEffect.TOPIC and topic is None:
            self.add_error("topic", "A rule that sets the topic needs a topic.")
        if topic is not None and brand is not None and topic.brand_id != brand.pk:
            self.add_error("topic", "The topic belongs to another brand.")
        if effect == RuleEffect.PRIORITY and not cleaned.get("priority_boost"):
            self.add_error("priority_boost", "A priority rule must raise the priority.")
        return cleaned


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin[RoutingRule]):
    form = RoutingRuleForm
    list_display = (
        "name",
        "brand",
        "position",
        "kind",
        "pattern",
        "effect",
        "topic",
        "priority_boost",
        "is_active",
    )
    list_editable = ("position", "is_active")
    list_filter = ("brand", "kind", "effect", "is_active", "topic")
    search_fields = ("name", "pattern")
    ordering = ("brand", "position", "pk")
    list_select_related = ("brand", "topic")
    change_list_template = "admin/routing/routingrule/change_list.html"

    def get_urls(self) -> list[URLPattern]:
        tester = path(
            "tester/",
            self.admin_site.admin_view(self.rule_tester_view),
            name="routing_routingrule_tester",
        )
        return [tester, *super().get_urls()]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        context = {
            **(extra_context or {}),
            "rule_tester_url": reverse("admin:routing_routingrule_tester"),
        }
        return super().changelist_view(request, extra_context=context)

    def rule_tester_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = RuleTesterForm(request.POST or None)
        result = None
        if request.method == "POST" and form.is_valid():
            brand = form.cleaned_data["brand"]
            result = classify_text(
                brand.pk, form.cleaned_data["text"], lang_hint=form.cleaned_data["lang"]
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Rule tester",
            "form": form,
            "result": result,
            "priority_label": dict(Priority.choices).get(result.priority) if result else None,
            "topic": (
                Topic.objects.filter(pk=result.topic_id).first()
                if result is not None and result.topic_id is not None
                else None
            ),
        }
        return TemplateResponse(request, "admin/routing/rule_tester.html", context)


class RuleTesterForm(forms.Form):
    brand = forms.ModelChoiceField(queryset=Brand.objects.order_by("name"))
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=2000)
    lang = forms.CharField(
        required=False, max_length=8, help_text="X's lang, if any; empty runs the detector"
    )


# The routing numbers' upper bounds. The columns take up to 2**31 - 1 on PostgreSQL (2**63 - 1
# on SQLite), and a date that far off overflows: an idle time of 2**31 minutes stopped the
# idle-shift sweep of every brand, a lease that long the claims.
ROUTING_NUMBER_LIMITS = {
    "claim_lease_minutes": 7 * 24 * 60,  # a week
    "offer_timeout_seconds": 24 * 60 * 60,  # a day
    "shift_idle_minutes": 7 * 24 * 60,  # a week
    "max_open_claims": 1000,
}


class RoutingSettingsForm(forms.ModelForm[RoutingSettings]):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, limit in ROUTING_NUMBER_LIMITS.items():
            field = self.fields[name]
            assert isinstance(field, forms.IntegerField)
            field.max_value = limit
            field.validators.append(MaxValueValidator(limit))
            field.widget.attrs["max"] = limit

    class Meta:
        model = RoutingSettings
        fields = (
            "brand",
            "default_placement",
            "sla_minutes",
            "claim_lease_minutes",
            "offer_timeout_seconds",
            "shift_idle_minutes",
            "max_open_claims",
            "sla_warning_share",
        )

    def clean_sla_minutes(self) -> Any:
        value = self.cleaned_data["sla_minutes"]
        if not isinstance(value, dict):
            raise forms.ValidationError('Give minutes per priority, e.g. {"0": 15, "1": 60}.')
        priorities = {str(p) for p in Priority.values}
        for key, minutes in value.items():
            if key not in priorities:
                raise forms.ValidationError(f"{key!r} is not a priority (0 to 3).")
            if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes <= 0:
                raise forms.ValidationError(
                    f"Minutes for priority {key} must be a positive whole number."
                )
            if minutes > MAX_SLA_MINUTES:
                raise forms.ValidationError(
                    f"Minutes for priority {key} must be at most {MAX_SLA_MINUTES:,} (a year)."
                )
        return value


@admin.register(RoutingSettings)
class RoutingSettingsAdmin(admin.ModelAdmin[RoutingSettings]):
    form = RoutingSettingsForm
    list_display = (
        "brand",
        "default_placement",
        "sla_minutes",
        "claim_lease_minutes",
        "max_open_claims",
    )
    list_filter = ("default_placement",)


@admin.register(QuestionGroup)
class QuestionGroupAdmin(admin.ModelAdmin[QuestionGroup]):
    list_display = ("__str__", "brand", "key", "created_at", "size")
    list_filter = ("brand",)
    search_fields = ("key", "label")
    date_hierarchy = "created_at"
    readonly_fields = ("key", "created_at")

    @admin.display(description="questions")
    def size(self, group: QuestionGroup) -> str:
        return format_html("{}", group.questions.count())


@admin.register(CrisisMode)
class CrisisModeAdmin(admin.ModelAdmin[CrisisMode]):
    """Read only: crisis mode is switched on its page (``routing.crisis``), which checks
    the role, audits and announces; an edit here would do none of that."""

    list_display = ("__str__", "brand", "topic", "started_at", "started_by", "ended_at")
    list_filter = ("brand", "force_review")
    date_hierarchy = "started_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: CrisisMode | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: CrisisMode | None = None) -> bool:
        return False
