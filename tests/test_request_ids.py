"""Every response carries a request id, every log line of the request carries the same one
(in JSON with HELPFORCE_LOG_FORMAT=json), and only a trusted proxy may choose it."""

from __future__ import annotations

import copy
import io
import ipaddress
import json
import logging.config
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """The project's logging, with the JSON formatter, written to a buffer."""
    stream = io.StringIO()
    config: dict[str, Any] = copy.deepcopy(django_settings.LOGGING)
    config["handlers"]["console"]["formatter"] = "json"
    config["handlers"]["console"]["stream"] = stream
    logging.config.dictConfig(config)
    yield stream
    logging.config.dictConfig(django_settings.LOGGING)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_a_requests_log_lines_carry_its_id(json_log: io.StringIO) -> None:
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    request_id = response["X-Request-ID"]
    assert len(request_id) == 32
    logged = [line for line in lines(json_log) if line["logger"] == "django.request"]
    assert logged, "Django logs a 404 as a warning"
    assert {line["request_id"] for line in logged} == {request_id}
    assert logged[0]["level"] == "WARNING"
    assert "Not Found" in logged[0]["message"]


def test_each_request_gets_its_own_id() -> None:
    client = Client()
    first, second = client.get("/healthz"), client.get("/healthz")
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_outside_a_request_the_id_is_a_dash(json_log: io.StringIO) -> None:
    def task() -> None:
        logging.getLogger("helpdesk").warning("a beat task's line")

    worker = threading.Thread(target=task)  # a thread that served no request
    worker.start()
    worker.join()
    assert lines(json_log)[-1]["request_id"] == "-"


def test_a_client_cannot_choose_its_id_but_a_trusted_proxy_can(settings: Any) -> None:
    chosen = {"X-Request-ID": "abc-123"}
    assert Client().get("/healthz", headers=chosen)["X-Request-ID"] != "abc-123"
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("127.0.0.1/32")]
    assert Client().get("/healthz", headers=chosen)["X-Request-ID"] == "abc-123"
    hostile = {"X-Request-ID": "abc\u202e<script>"}
    assert Client().get("/healthz", headers=hostile)["X-Request-ID"] != hostile["X-Request-ID"]
