"""Response headers: the Content-Security-Policy on every page (nothing inline, nothing
evaluated), no-store on everything a signed-in person gets, and HSTS, the https redirect and
the proxy's TLS header from the environment, off by default (the demo is plain HTTP)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from helpdesk.models import Brand, Role
from helpdesk.reports.api.authentication import make_token
from tests.factories import make_volunteer

ROOT = Path(__file__).resolve().parents[1]


def policy(response: Any) -> dict[str, list[str]]:
    directives = [d.split() for d in response["Content-Security-Policy"].split(";") if d.strip()]
    return {d[0]: d[1:] for d in directives}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("anonymous", "/accounts/login/"),
        ("anonymous", "/charter/enrol/"),
        ("anonymous", "/no-such-page/"),
        ("volunteer", "/queue/"),
        ("admin", "/desk/floor/"),
        ("admin", "/desk/floor/body/"),
        ("admin", "/admin/"),
        ("agency", "/reports/"),
    ],
)
def test_every_page_has_a_policy_without_inline_or_evaluated_script(
    client: Client, brand: Brand, who: str, path: str
) -> None:
    if who != "anonymous":
        volunteer = make_volunteer(brand, role=Role(who))
        if who == "admin":
            volunteer.user.is_staff = volunteer.user.is_superuser = True
            volunteer.user.save()
        client.force_login(volunteer.user)

    response = client.get(path)

    assert response.status_code in (200, 404)
    directives = policy(response)
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    header = response["Content-Security-Policy"]
    assert "unsafe-eval" not in header and "unsafe-inline" not in header
    page = response.content.decode()
    # Nothing the policy would block: no inline script or style, no handler attributes.
    assert "<script>" not in page and "<style" not in page and " style=" not in page
    assert " onclick=" not in page and " onload=" not in page


@pytest.mark.django_db
def test_htmx_is_told_not_to_evaluate_and_the_floor_filters_without_eval(
    client: Client, brand: Brand
) -> None:
    client.force_login(make_volunteer(brand, role=Role.ADMIN).user)

    page = client.get("/desk/floor/").content.decode()

    config = '<meta name="htmx-config" content=\'{"allowEval": false, '
    assert config in page
    assert 'hx-trigger="every 10s" hx-swap="innerHTML" data-hold-while-focused>' in page
    assert '<script src="/static/helpdesk/floor.js" defer></script>' in page
    assert "[" not in page.split('hx-trigger="')[1].split('"')[0]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "path"),
    [
        (Role.VOLUNTEER, "/queue/"),
        (Role.VOLUNTEER, "/charter/status/"),
        (Role.SUPERVISOR, "/desk/review/"),
        (Role.ADMIN, "/desk/floor/body/"),
        (Role.AGENCY, "/reports/"),
        (Role.VOLUNTEER, "/desk/review/"),  # a refusal is theirs too
    ],
)
def test_signed_in_pages_are_never_stored(
    client: Client, brand: Brand, role: Role, path: str
) -> None:
    client.force_login(make_volunteer(brand, role=role).user)

    response = client.get(path)

    assert response.status_code in (200, 403)
    cache_control = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"no-store", "private", "no-cache", "must-revalidate"} <= cache_control


@pytest.mark.django_db
def test_the_reporting_api_with_a_token_is_never_stored(client: Client, brand: Brand) -> None:
    agency = make_volunteer(brand, role=Role.AGENCY)
    _, token = make_token(agency.user, "dashboard")

    response = client.get("/api/v1/summary/", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_a_static_file_is_still_cacheable(client: Client) -> None:
    response = client.get("/static/helpdesk/floor.js")

    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


def settings_under(environ: dict[str, str]) -> dict[str, Any]:
    """Settings read by a fresh process with ``environ`` added to this one's."""
    script = (
        "import json, django; from django.conf import settings; django.setup(); "
        "print(json.dumps({name: getattr(settings, name, None) for name in ("
        "'SECURE_HSTS_SECONDS', 'SECURE_HSTS_INCLUDE_SUBDOMAINS', 'SECURE_HSTS_PRELOAD', "
        "'SECURE_SSL_REDIRECT', 'SECURE_PROXY_SSL_HEADER')}))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "helpdesk.settings", **environ}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    loaded: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return loaded


def test_tls_settings_are_off_unless_the_environment_turns_them_on() -> None:
    unset = {
        name: ""
        for name in (
            "HELPFORCE_HSTS_SECONDS",
            "HELPFORCE_HSTS_INCLUDE_SUBDOMAINS",
            "HELPFORCE_HSTS_PRELOAD",
            "HELPFORCE_SSL_REDIRECT",
            "HELPFORCE_BEHIND_TLS_PROXY",
        )
    }
    assert settings_under(unset) == {
        "SECURE_HSTS_SECONDS": 0,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": False,
        "SECURE_HSTS_PRELOAD": False,
        "SECURE_SSL_REDIRECT": False,
        "SECURE_PROXY_SSL_HEADER": None,
    }
    assert settings_under(
        {
            "HELPFORCE_HSTS_SECONDS": "31536000",
            "HELPFORCE_HSTS_INCLUDE_SUBDOMAINS": "1",
            "HELPFORCE_HSTS_PRELOAD": "yes",
            "HELPFORCE_SSL_REDIRECT": "on",
            "HELPFORCE_BEHIND_TLS_PROXY": "true",
        }
    ) == {
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
    }


@pytest.mark.django_db
def test_behind_a_tls_proxy_http_is_redirected_and_https_gets_hsts(
    client: Client, settings: Any
) -> None:
    # Given production's settings behind a proxy that terminates TLS
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

    plain = client.get("/accounts/login/?next=/queue/")
    secure = client.get("/accounts/login/", headers={"X-Forwarded-Proto": "https"})
    probe = client.get("/healthz")

    assert plain.status_code == 301
    assert plain["Location"] == "https://testserver/accounts/login/?next=/queue/"
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000"
    # The load balancer's probe over plain HTTP inside the network is answered, not moved.
    assert probe.status_code == 200 and "Strict-Transport-Security" not in probe
