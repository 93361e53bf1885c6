"""Monitoring's pages under one namespace."""

from django.urls import include, path

app_name = "monitoring"
urlpatterns = [
    path("", include("helpdesk.monitoring.views")),
]
