"""Every page in English and French: the browser's language or the saved choice picks it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from charter.gate import may_claim
from tests.factories import make_brand, make_volunteer


@pytest.mark.django_db
def test_the_login_page_speaks_the_browser_s_language(client: Client) -> None:
    english = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en")
    french = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="fr-CA,fr;q=0.9")

    assert '<html lang="en">' in english.text and "Log in" in english.text
    assert '<html lang="fr">' in french.text and "Se connecter" in french.text
    assert "Aller au contenu" in french.text


@pytest.mark.django_db
def test_the_queue_in_french_and_the_choice_is_remembered(client: Client) -> None:
    volunteer = make_volunteer(make_brand())
    client.force_login(volunteer.user)

    client.post(reverse("set_language"), {"language": "fr", "next": "/queue/"})
    page = client.get(reverse("helpdesk:queue"), HTTP_ACCEPT_LANGUAGE="en")

    assert '<html lang="fr">' in page.text
    assert '<h1 id="queue-h">Questions en file d\'attente · ' in page.text
    assert ">Mon statut</a>" in page.text


@pytest.mark.django_db
def test_the_gate_explains_itself_in_french(settings: Any) -> None:
    from django.contrib.auth.models import AnonymousUser
    from django.utils import translation

    with translation.override("fr"):
        decision = may_claim(AnonymousUser(), make_brand().pk)

    assert decision.codes == ["not_signed_in"]
    assert decision.reasons[0].message != "Sign in first."


@pytest.mark.django_db
@pytest.mark.parametrize("signed_in", [False, True])
def test_every_page_has_a_language_menu_that_works_without_javascript_and_keeps_the_page(
    client: Client, signed_in: bool
) -> None:
    # Given a page opened in an English browser, signed in or not
    if signed_in:
        client.force_login(make_volunteer(make_brand()).user)
    path = "/queue/?status=open" if signed_in else "/charter/enrol/?store=NW-SEA"
    page = client.get(path, HTTP_ACCEPT_LANGUAGE="en")

    # Then its layout holds a plain form to set_language, with this page to come back to
    assert page.status_code == 200
    form = re.search(r'<form method="post" action="/i18n/setlang/".*?</form>', page.text, re.S)
    assert form is not None
    menu = form.group(0)
    assert 'name="csrfmiddlewaretoken"' in menu
    assert f'<input type="hidden" name="next" value="{escape(path)}">' in menu
    assert re.search(r'<option value="fr" lang="fr">\s*Français\s*</option>', menu)
    assert re.search(r'<option value="en" lang="en" selected>\s*English\s*</option>', menu)
    assert '<button type="submit">' in menu and "<script" not in menu

    # When French is chosen with the form's own fields
    chosen = client.post("/i18n/setlang/", {"language": "fr", "next": path})

    # Then the same page comes back, in French, whatever the browser says
    assert chosen.status_code == 302 and chosen["Location"] == path
    again = client.get(path, HTTP_ACCEPT_LANGUAGE="en")
    assert '<html lang="fr">' in again.text
    assert re.search(r'<option value="fr" lang="fr" selected>', again.text)
