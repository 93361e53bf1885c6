from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from helpdesk.audit import record
from helpdesk.events import recheck_sockets_of
from helpdesk.models import (
    AuditEvent,
    Brand,
    Conversation,
    Customer,
    ListeningQuery,
    Question,
    SavedReply,
    Store,
    Volunteer,
    XAccount,
    XApiCall,
)


class ListeningQueryInline(admin.TabularInline[ListeningQuery, XAccount]):
    model = ListeningQuery
    extra = 0
    readonly_fields = ("since_id", "pending_newest_id", "pending_token")


CREDENTIALS = (
    "bearer_token",
    "consumer_key",
    "consumer_secret",
    "access_token",
    "access_token_secret",
)


class XAccountForm(forms.ModelForm[XAccount]):
    """The care account's credentials are written, never shown: each field is empty on the
    page whatever it holds, and left empty it keeps what is stored (an admin page is
    screenshotted, shared and cached; the secrets stay encrypted at rest and off it)."""

    class Meta:
        model = XAccount
        fields = "__all__"  # noqa: DJ007  (the admin lists its own; every field is editable)
        widgets = {name: forms.PasswordInput(render_value=False) for name in CREDENTIALS}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in CREDENTIALS:
            field = self.fields[name]
            field.required = False
            field.help_text = (
                _("Stored; leave empty to keep it.")
                if self.instance.pk and getattr(self.instance, name)
                else _("Not set.")
            )
        self.initial.update({name: "" for name in CREDENTIALS})

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.instance.pk:
            for name in CREDENTIALS:
                if not data.get(name):
                    data[name] = getattr(self.instance, name)
        return data


@admin.register(XAccount)
class XAccountAdmin(admin.ModelAdmin[XAccount]):
    form = XAccountForm
    list_display = (
        "username",
        "brand",
        "is_active",
        "last_polled_at",
        "next_poll_at",
        "consecutive_failures",
        "last_error",
    )
    list_filter = ("brand", "is_active")
    inlines = (ListeningQueryInline,)
    readonly_fields = (
        "mentions_since_id",
        "mentions_pending_newest_id",
        "mentions_pending_token",
        "next_poll_at",
        "last_polled_at",
        "consecutive_failures",
        "last_error",
        "last_error_at",
    )


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin[Brand]):
    list_display = ("name", "slug", "x_monthly_budget", "x_pause_listening_when_spent")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(XApiCall)
class XApiCallAdmin(admin.ModelAdmin[XApiCall]):
    """The gateway's count of calls to X: read only, it is the bill's evidence."""

    list_display = ("at", "brand", "account", "endpoint", "status", "category", "units")
    list_filter = ("brand", "category", "status")
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: XApiCall | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: XApiCall | None = None) -> bool:
        return False


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin[Store]):
    list_display = ("code", "name", "brand", "region")
    list_filter = ("brand",)


@admin.register(Volunteer)
class VolunteerAdmin(admin.ModelAdmin[Volunteer]):
    list_display = ("user", "brand", "store", "role")
    list_filter = ("brand", "role")

    def save_model(
        self, request: HttpRequest, obj: Volunteer, form: forms.ModelForm[Volunteer], change: bool
    ) -> None:
        """Who changed whose role, brand or store, from what to what, goes in the audit log;
        the person's open pages check again what they may see."""
        before = (
            Volunteer.objects.filter(pk=obj.pk).values("role", "brand_id", "store_id").first()
            if change
            else None
        )
        super().save_model(request, obj, form, change)
        after = {"role": obj.role, "brand_id": obj.brand_id, "store_id": obj.store_id}
        changed = {
            key: [before.get(key) if before else None, value]
            for key, value in after.items()
            if before is None or before.get(key) != value
        }
        if not changed:
            return
        user = request.user if request.user.is_authenticated else None
        for brand_id in {obj.brand_id, *([before["brand_id"]] if before else [])}:
            record(
                "person.changed" if change else "person.added",
                actor=user,
                actor_label="admin",
                brand_id=brand_id,
                data={"user_id": obj.user_id, "changes": changed},
            )
        recheck_sockets_of(obj.user_id)


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin[Customer]):
    list_display = ("username", "name", "x_user_id", "first_seen_at")
    search_fields = ("username", "x_user_id")


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin[Conversation]):
    list_display = ("x_conversation_id", "brand", "customer", "started_at")
    raw_id_fields = ("customer",)


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin[Question]):
    """Read-only here: states change only through the desk's actions."""

    list_display = ("tweet_id", "brand", "state", "source", "received_at")
    list_filter = ("brand", "state", "source")
    search_fields = ("tweet_id", "text")
    raw_id_fields = ("conversation", "customer", "account")

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin[AuditEvent]):
    list_display = ("created_at", "kind", "actor", "actor_label", "from_state", "to_state")
    list_filter = ("kind",)

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(SavedReply)
class SavedReplyAdmin(admin.ModelAdmin[SavedReply]):
    """Read-only here: saved replies are written on the desk (/desk/saved-replies/), where
    their variables and the charter's linter are checked and every change is audited."""

    list_display = ("title", "brand", "topic", "language", "is_active", "use_count", "updated_at")
    list_filter = ("brand", "is_active", "language")
    search_fields = ("title", "body")

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_add_permission(self, request: object) -> bool:
        return False
