from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from helpdesk.views import desk as views

app_patterns = (
    [
        path("queue/", views.queue, name="queue"),
    ],
    "helpdesk",
)

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="helpdesk:queue", permanent=False)),
    path("healthz", views.healthz, name="healthz"),
    path("x/webhook", views.x_webhook, name="x-webhook"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
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
]
