"""The reporting API: tokens, who may read what, the same figures as the pages, cursor
pagination, and an OpenAPI schema that is valid and true to what the endpoints send."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from django.test import Client
from django.utils import timezone
from openapi_spec_validator import validate

from helpdesk.reports.api.authentication import hash_token, make_token
from helpdesk.reports.models import ApiToken
from helpdesk.reports.period import Period
from helpdesk.reports.queries import Scope
from helpdesk.reports.report import build_report
from helpdesk.reports.rows import COLUMNS
from tests.factories import make_account, make_brand, make_store, make_volunteer
from tests.people import People
from tests.reports.factories import answer, make_question

pytestmark = pytest.mark.django_db

ZONE = "America/New_York"
ROLES = ("volunteer", "untrained", "suspended", "supervisor", "agency", "admin", "other-agency")
ENDPOINTS = ("/api/v1/report/", "/api/v1/summary/", "/api/v1/questions/")


@pytest.fixture
def desk() -> dict[str, Any]:
    brand = make_brand(time_zone=ZONE, slug="acme")
    account = make_account(brand)
    store = make_store(brand, code="N1", name="North")
    ana = make_volunteer(brand, store=store, display_name="Ana")
    other = make_brand(slug="other")
    everyone = People(brand, store=store, other_brand=other)
    people = {
        "volunteer": ana,  # answered questions, so has figures
        **{kind: everyone.volunteer(kind) for kind in ("untrained", "suspended")},
        **{kind: everyone.volunteer(kind) for kind in ("supervisor", "agency", "admin")},
        "other-agency": everyone.volunteer("other-brand-agency"),
    }
    now = timezone.now()
    for i in range(25):
        received = now - timedelta(days=2, minutes=37 * i)
        question = make_question(brand, received_at=received)
        if i % 3:
            answer(
                question,
                ana.user,
                account,
                sent_at=received + timedelta(minutes=i + 1),
                store=store,
            )
    return {"brand": brand, "people": people, "store": store, "other": other}


def bearer(token: str) -> dict[str, Any]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def token_for(desk: dict[str, Any], role: str) -> str:
    return make_token(desk["people"][role].user, "tests")[1]


def scope(desk: dict[str, Any], **filters: Any) -> Scope:
    zone = ZoneInfo(ZONE)
    today = timezone.now().astimezone(zone).date()
    return Scope(
        brand_id=desk["brand"].pk, period=Period(today - timedelta(days=29), today, zone), **filters
    )


# --- who may read ------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("volunteer", 403),
        ("untrained", 403),
        ("suspended", 403),
        ("supervisor", 403),
        ("agency", 200),
        ("admin", 200),
        ("other-agency", 200),
    ],
)
def test_who_may_read_with_a_token(
    client: Client, desk: dict[str, Any], endpoint: str, role: str, status: int
) -> None:
    response = client.get(endpoint, **bearer(token_for(desk, role)))

    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    if role == "other-agency":  # their own brand's figures, which have nothing in it
        body = response.json()
        if endpoint == "/api/v1/questions/":
            assert body["results"] == []
        else:
            assert body["brand"] == "other"
            assert body["summary"]["received"] == 0


@pytest.mark.parametrize("endpoint", [*ENDPOINTS, "/api/schema/"])
def test_no_token_no_data(client: Client, desk: dict[str, Any], endpoint: str) -> None:
    response = client.get(endpoint)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.parametrize("role", ROLES)
def test_the_session_of_a_reader_works_too(client: Client, desk: dict[str, Any], role: str) -> None:
    client.force_login(desk["people"][role].user)

    response = client.get("/api/v1/summary/")

    assert response.status_code == (200 if role in ("agency", "admin", "other-agency") else 403)


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_the_api_reads_only(client: Client, desk: dict[str, Any], method: str) -> None:
    response = getattr(client, method)("/api/v1/report/", **bearer(token_for(desk, "agency")))

    assert response.status_code == 405
    assert response.json() == {"detail": f'Method "{method.upper()}" not allowed.'}


@pytest.mark.parametrize("path", ["/api/v1/nothing/", "/api/v2/report/", "/api/v1/report"])
def test_unknown_api_paths_answer_json(client: Client, desk: dict[str, Any], path: str) -> None:
    response = client.get(path, **bearer(token_for(desk, "agency")))

    assert response.status_code == 404
    assert response.json() == {"detail": "No such endpoint; see /api/docs/."}


def test_refusing_the_schema_is_json(client: Client, desk: dict[str, Any]) -> None:
    response = client.get("/api/schema/", **bearer(token_for(desk, "volunteer")))

    assert response.status_code == 403
    assert response.json()["detail"].startswith("The reporting API is for")


def test_another_brands_ids_are_refused(client: Client, desk: dict[str, Any]) -> None:
    token = token_for(desk, "other-agency")

    response = client.get(f"/api/v1/report/?store={desk['store'].pk}", **bearer(token))

    assert response.status_code == 400
    assert response.json() == {
        "errors": {"store": [{"message": "Not a store you can see reports of.", "code": ""}]}
    }


@pytest.mark.parametrize(
    "query",
    [
        "store=%C2%B2",
        "first=0001-01-01&last=0001-01-02",
        "first=9999-12-30&last=9999-12-31",
        "period=forever",
        "group_by=customer",
        "language=%00",
        "business_time=maybe",
    ],
)
def test_bad_filters_are_a_400(client: Client, desk: dict[str, Any], query: str) -> None:
    response = client.get(f"/api/v1/report/?{query}", **bearer(token_for(desk, "agency")))

    assert response.status_code == 400
    assert "errors" in response.json()


# --- tokens ------------------------------------------------------------------------------------


def test_a_token_is_stored_as_a_hash_and_marks_its_use(
    client: Client, desk: dict[str, Any]
) -> None:
    row, token = make_token(desk["people"]["agency"].user, "dashboard")

    client.get("/api/v1/summary/", **bearer(token))

    row.refresh_from_db()
    assert token.startswith(f"hf_{row.prefix}_")
    assert row.key_hash == hash_token(token) and token not in row.key_hash
    # The secret (URL-safe base64, which may itself hold "_") is nowhere in the table
    secret = token.removeprefix(f"hf_{row.prefix}_")
    assert len(secret) >= 20
    assert not ApiToken.objects.filter(key_hash__contains=secret).exists()
    assert row.last_used_at is not None


def test_a_revoked_token_or_a_departed_person_is_refused(
    client: Client, desk: dict[str, Any]
) -> None:
    agency = desk["people"]["agency"]
    row, token = make_token(agency.user, "old")
    _other_row, other = make_token(agency.user, "kept")

    ApiToken.objects.filter(pk=row.pk).update(revoked_at=timezone.now())
    revoked = client.get("/api/v1/summary/", **bearer(token))
    agency.user.is_active = False
    agency.user.save()
    departed = client.get("/api/v1/summary/", **bearer(other))

    assert revoked.status_code == 401
    assert departed.status_code == 401


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer hf_",
        "Bearer hf_nope_nope",
        "Bearer " + "x" * 5000,
        "Bearer hf_\u00e9\u00e9_secret",
        "Bearer \x00",
        "Bearer hf_\x00ab_cd",
        "Bearer hf_0123456789ab_\x00" + "a" * 30,
        "Bearer \u20ac",
        "Basic \u20ac",
    ],
)
def test_malformed_tokens_are_a_401(client: Client, desk: dict[str, Any], header: str) -> None:
    response = client.get("/api/v1/summary/", HTTP_AUTHORIZATION=header)

    assert response.status_code == 401


def test_a_forged_token_with_a_real_prefix_is_refused(client: Client, desk: dict[str, Any]) -> None:
    row, _token = make_token(desk["people"]["agency"].user, "real")

    response = client.get("/api/v1/summary/", **bearer(f"hf_{row.prefix}_forged"))

    assert response.status_code == 401


@pytest.mark.parametrize("role", ["anonymous", *ROLES])
def test_the_token_page_for_each_role(client: Client, desk: dict[str, Any], role: str) -> None:
    if role != "anonymous":
        client.force_login(desk["people"][role].user)

    page = client.get("/reports/api-tokens/")
    made = client.post("/reports/api-tokens/", {"name": "mine"})

    expected = {"anonymous": 302, "agency": 200, "admin": 200, "other-agency": 200}
    assert page.status_code == expected.get(role, 403)
    assert made.status_code == expected.get(role, 403)
    assert ApiToken.objects.exists() == (expected.get(role) == 200)


def test_a_token_is_made_shown_once_and_revoked(client: Client, desk: dict[str, Any]) -> None:
    agency = desk["people"]["agency"].user
    client.force_login(agency)

    made = client.post("/reports/api-tokens/", {"name": "weekly <dashboard>"})
    row = ApiToken.objects.get(user=agency)
    shown = made.content.decode()
    token = shown.split('id="new-token"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
    later = client.get("/reports/api-tokens/").content.decode()
    works = client.get("/api/v1/summary/", **bearer(token)).status_code
    client.post(f"/reports/api-tokens/{row.pk}/revoke")
    after = client.get("/api/v1/summary/", **bearer(token)).status_code

    assert made.status_code == 200
    assert hash_token(token) == row.key_hash
    assert token not in later
    assert "weekly &lt;dashboard&gt;" in later
    assert (works, after) == (200, 401)


def test_someone_elses_token_cannot_be_revoked(client: Client, desk: dict[str, Any]) -> None:
    row, _token = make_token(desk["people"]["admin"].user, "theirs")
    client.force_login(desk["people"]["agency"].user)

    response = client.post(f"/reports/api-tokens/{row.pk}/revoke")

    row.refresh_from_db()
    assert response.status_code == 404
    assert row.revoked_at is None


def test_a_token_needs_a_name(client: Client, desk: dict[str, Any]) -> None:
    client.force_login(desk["people"]["agency"].user)

    response = client.post("/reports/api-tokens/", {"name": ""})

    assert response.status_code == 400
    assert not ApiToken.objects.exists()


# --- the same figures as the pages ----------------------------------------------------------


@pytest.mark.parametrize("query", ["", "business_time=on&group_by=volunteer&names=anonymised"])
def test_the_report_is_the_pages_report(client: Client, desk: dict[str, Any], query: str) -> None:
    response = client.get(f"/api/v1/report/?{query}", **bearer(token_for(desk, "agency")))

    options = dict(part.split("=") for part in query.split("&") if part)
    expected = build_report(
        scope(desk, business_time="business_time" in options),
        grouping=options.get("group_by", "store"),
        anonymise="names" in options,
    ).as_json()
    assert response.json() == json.loads(json.dumps(expected, default=str))


def test_an_anonymised_report_gives_no_ones_id(client: Client, desk: dict[str, Any]) -> None:
    query = "group_by=volunteer&names=anonymised"
    body = client.get(f"/api/v1/report/?{query}", **bearer(token_for(desk, "agency"))).json()

    ids = {person.user_id for person in desk["people"].values()}
    assert body["volunteers"] and all(person["user_id"] is None for person in body["volunteers"])
    keys = [group["key"] for group in body["groups"] if group["key"] is not None]
    assert keys and not ids & set(keys)
    assert all(group["key"] == group["label"] for group in body["groups"] if group["key"])
    named = client.get("/api/v1/report/?group_by=volunteer", **bearer(token_for(desk, "agency")))
    assert ids & {group["key"] for group in named.json()["groups"]}


def test_the_summary_is_the_reports_summary(client: Client, desk: dict[str, Any]) -> None:
    body = client.get("/api/v1/summary/", **bearer(token_for(desk, "agency"))).json()

    report = build_report(scope(desk)).as_json()
    assert body == {key: report[key] for key in body}
    assert set(body) == {
        "brand",
        "time_zone",
        "period",
        "previous_period",
        "filters",
        "business_time",
        "summary",
        "previous",
    }
    assert body["summary"]["received"] == 25


def test_the_cursor_walks_every_question_once(client: Client, desk: dict[str, Any]) -> None:
    headers = bearer(token_for(desk, "agency"))
    seen: list[int] = []
    url: str | None = "/api/v1/questions/?page_size=7"
    pages = 0

    while url:
        body = client.get(url, **headers).json()
        seen += [row["question_id"] for row in body["results"]]
        assert all(list(row) == list(COLUMNS) for row in body["results"])
        url = body["next"]
        pages += 1
        # The next page names the period's days, not "the last 30 days" that move.
        assert url is None or ("first=" in url and "period=" not in url)

    assert pages == 4
    assert len(seen) == len(set(seen)) == 25


@pytest.mark.parametrize(
    "query",
    [
        "cursor=forged",
        "cursor=WyIyMDI2Il0:x:y",
        "page_size=0",
        "page_size=%C2%B2",
        "page_size=5000",
    ],
)
def test_a_bad_cursor_or_page_size_is_a_400(
    client: Client, desk: dict[str, Any], query: str
) -> None:
    response = client.get(f"/api/v1/questions/?{query}", **bearer(token_for(desk, "agency")))

    assert response.status_code == 400


# --- the schema ---------------------------------------------------------------------------------


def schema(client: Client, desk: dict[str, Any]) -> dict[str, Any]:
    response = client.get("/api/schema/", **bearer(token_for(desk, "agency")))
    assert response.status_code == 200
    loaded: dict[str, Any] = yaml.safe_load(response.content)
    return loaded


def test_the_schema_is_valid_openapi(client: Client, desk: dict[str, Any]) -> None:
    document = schema(client, desk)

    validate(document)
    assert set(document["paths"]) == set(ENDPOINTS)
    assert document["components"]["securitySchemes"]["apiToken"]["scheme"] == "bearer"


@pytest.mark.parametrize("role", ROLES)
def test_the_docs_page(client: Client, desk: dict[str, Any], role: str) -> None:
    client.force_login(desk["people"][role].user)

    response = client.get("/api/docs/")

    assert response.status_code == (200 if role in ("agency", "admin", "other-agency") else 403)
    if response.status_code == 200:
        page = response.content.decode()
        assert all(f"GET {endpoint}" in page for endpoint in ENDPOINTS)
        assert "page_size" in page
