"""The same look everywhere (issue 14): the volunteers', supervisors' and agency's pages use
one stylesheet of the project's own, desk.css, and the project ships no other for its pages.

The rendered pages are read, not the templates: a ``<link rel="stylesheet">`` added by any
template, include or block shows up here. Django admin's own stylesheet (static/admin/) and
the PDF's print stylesheet (inlined by WeasyPrint) are not pages of the desk."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.templatetags.static import static
from django.test import Client

from tests.factories import make_brand, make_module, publish_charter
from tests.people import People

pytestmark = pytest.mark.django_db

STATIC = Path(settings.BASE_DIR) / "helpdesk" / "static" / "helpdesk"


class Stylesheets(HTMLParser):
    """The ``href`` of every ``<link rel="stylesheet">`` and the number of ``<style>``
    elements in a page."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.styles = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "link" and "stylesheet" in (found.get("rel") or "").split():
            self.hrefs.append(found.get("href") or "")
        elif tag == "style":
            self.styles += 1


def stylesheets(page: str) -> Stylesheets:
    parser = Stylesheets()
    parser.feed(page)
    return parser


def test_every_kind_of_page_links_desk_css_and_nothing_else(client: Client) -> None:
    # Given a brand with a published charter and a training module, and its people
    brand = make_brand(slug="northwind")
    publish_charter(brand)
    module = make_module(brand, title="The usage charter")
    people = People(brand, staff_level="certified")
    pages = {
        "supervisor": [
            "/queue/",
            "/reports/",
            "/reports/me/",
            "/monitoring/",
            "/training/",
            f"/training/modules/{module.slug}/",
            "/training/practice/grade/",
            "/charter/",
            "/charter/status/",
            "/supervision/",
            "/supervision/people/",
            "/crisis/",
        ],
        "admin": ["/reports/api-tokens/", "/api/docs/"],
    }
    desk_css = static("helpdesk/desk.css")
    seen: dict[str, list[str]] = {}
    for who, paths in pages.items():
        client.logout()
        people.log_in(client, who)
        for path in paths:
            # When each page is rendered
            response = client.get(path)
            assert response.status_code == 200, (who, path, response.status_code)
            found = stylesheets(response.content.decode())
            # Then its only stylesheet is desk.css, and it has no <style> of its own
            assert found.styles == 0, path
            seen[path] = found.hrefs
    assert {path: [desk_css] for path in seen} == seen


def test_the_enrolment_page_for_people_not_signed_in_links_desk_css_alone(client: Client) -> None:
    brand = make_brand(slug="northwind")
    publish_charter(brand)
    response = client.get("/charter/enrol/")
    assert response.status_code == 200
    assert stylesheets(response.content.decode()).hrefs == [static("helpdesk/desk.css")]


def test_the_static_files_hold_one_stylesheet_for_the_pages() -> None:
    # Django admin's pages keep their own (the rule tester's, under admin/).
    found = (p.relative_to(STATIC) for p in STATIC.rglob("*.css"))
    pages_css = sorted(str(p) for p in found if p.parts[0] != "admin")
    assert pages_css == ["desk.css"]
