"""Every page in English and French: the browser's language or the saved choice picks it."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

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
    assert "<h1>Questions en file d'attente · " in page.text
    assert ">Mon statut</a>" in page.text


@pytest.mark.django_db
def test_the_gate_explains_itself_in_french(settings: Any) -> None:
    from django.contrib.auth.models import AnonymousUser
    from django.utils import translation

    with translation.override("fr"):
        decision = may_claim(AnonymousUser(), make_brand().pk)

    assert decision.codes == ["not_signed_in"]
    assert decision.reasons[0].message != "Sign in first."
