"""Admin for the reports' settings: a brand's opening hours and holidays (business time).
API tokens are listed so an admin can revoke one; nobody reads or makes a token here."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from helpdesk.reports.models import ApiToken, Holiday, OpeningHours


@admin.register(OpeningHours)
class OpeningHoursAdmin(admin.ModelAdmin[OpeningHours]):
    list_display = ("brand", "store", "weekday", "opens_at", "closes_at")
    list_filter = ("brand", "weekday")
    ordering = ("brand", "store", "weekday", "opens_at")


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin[Holiday]):
    list_display = ("date", "name", "brand", "store")
    list_filter = ("brand",)
    date_hierarchy = "date"


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    readonly_fields = ("user", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    exclude = ("key_hash",)
    actions = ("revoke",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, _("%(count)d tokens revoked.") % {"count": count})
