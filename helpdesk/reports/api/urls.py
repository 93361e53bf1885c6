"""The reporting API's URLs: the endpoints, the OpenAPI schema and the documentation."""

from django.urls import path, re_path
from drf_spectacular.renderers import OpenApiJsonRenderer, OpenApiYamlRenderer
from drf_spectacular.views import SpectacularAPIView

from helpdesk.reports.api import schema  # noqa: F401 - registers the token's security scheme
from helpdesk.reports.api.docs import docs
from helpdesk.reports.api.views import QuestionsView, ReportView, SummaryView, not_found

app_name = "api"
urlpatterns = [
    path("v1/report/", ReportView.as_view(), name="report"),
    path("v1/summary/", SummaryView.as_view(), name="summary"),
    path("v1/questions/", QuestionsView.as_view(), name="questions"),
    # JSON first, so that a refusal of the schema reads like every other API refusal;
    # ?format=yaml still gives YAML.
    path(
        "schema/",
        SpectacularAPIView.as_view(renderer_classes=[OpenApiJsonRenderer, OpenApiYamlRenderer]),
        name="schema",
    ),
    path("docs/", docs, name="docs"),
    re_path(r"^", not_found),
]
