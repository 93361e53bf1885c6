from django.contrib import admin
from django.urls import include, path

from helpdesk.monitoring.metrics import metrics
from helpdesk.views import desk as views
from helpdesk.views import inbox
from helpdesk.views.home import DeskLogoutView, RoleLoginView, home

app_patterns = (
    [
        path("queue/", inbox.queue, name="queue"),
        path("queue/<int:pk>/", inbox.inbox_question, name="inbox-question"),
    ],
    "helpdesk",
)

urlpatterns = [
    path("", home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("metrics", metrics, name="metrics"),
    path("x/webhook", views.x_webhook, name="x-webhook"),
    path("accounts/login/", RoleLoginView.as_view(), name="login"),
    path("accounts/logout/", DeskLogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", include(app_patterns)),
    path("charter/", include("helpdesk.views.charter_pages")),
    path("training/", include("helpdesk.views.training")),
    path("supervision/", include("helpdesk.views.supervision")),
    path("desk/outbox/", include("helpdesk.views.outbox_pages")),
    path("desk/saved-replies/", include("helpdesk.views.saved_replies")),
    path("desk/", include("helpdesk.views.desk_pages")),
    path("exports/", include("helpdesk.views.exports")),
    path("crisis/", include("helpdesk.monitoring.crisis_views")),
    path("reports/", include("helpdesk.reports.urls")),
    path("monitoring/", include("helpdesk.monitoring.urls")),
    path("api/", include("helpdesk.reports.api.urls")),
]

handler403 = "helpdesk.views.home.permission_denied"
