from django.contrib import admin
from django.http import HttpRequest

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


@admin.register(XAccount)
class XAccountAdmin(admin.ModelAdmin[XAccount]):
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
