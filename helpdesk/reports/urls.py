"""The reports' pages, exports, API tokens and e-mail links, under one namespace."""

from django.urls import include, path

app_name = "reports"
urlpatterns = [
    path("", include("helpdesk.reports.views.pages")),
    path("exports/", include("helpdesk.reports.views.exports")),
    path("api-tokens/", include("helpdesk.reports.views.tokens")),
    path("email/", include("helpdesk.reports.views.email")),
    path("me/", include("helpdesk.reports.views.figures")),
]
