"""Issue 11's access matrix: every HTTP route the URL resolver knows (``tests.routes``) and
every websocket route, asked by every kind of person (``tests.people.KINDS``), with the
answer written down in one table. A route added without a row in ``EXPECTED`` fails
``test_every_route_has_a_row``.

Each route is asked with GET and with POST (an empty form) by each of the 15 kinds, with
path parameters filled with real objects of the brand (``tests.routes.World``): 89 routes,
2,670 requests; and the 2 websocket routes by each kind, 30 connections. Each request runs
in a savepoint rolled back afterwards (as Django's TestCase runs a test), so every kind
meets the same rows; a POST refused (login, 401, 403, 404, 405) must also leave every row
of the desk's tables as it was. The 34 routes that take an object are asked again with
another brand's object by everyone of this brand: never a success, never a redirect, and
nothing written.

The answers, per column (see ``COLUMNS``): ``200`` (any 2xx), ``302`` (a redirect within
the site), ``login`` (a redirect to the login page), or the status code.
"""

from __future__ import annotations

from collections.abc import Iterator
from http.cookies import SimpleCookie
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.apps import apps
from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpResponseBase
from django.test import Client

from helpdesk.asgi import application
from helpdesk.models import Brand
from helpdesk.ws_urls import websocket_urlpatterns
from tests.factories import make_brand, make_store, publish_charter
from tests.people import KINDS, People
from tests.routes import Savepoint, World, make_world, walk_routes

# Permissions do not depend on the database: CI runs this in its embedded pass only.
pytestmark = [pytest.mark.django_db, pytest.mark.backend_neutral]

# The columns of every row, in this order (KINDS):
#   an  anonymous                   ss  suspended
#   nr  no-desk-record              sv  supervisor
#   vw  volunteer-without-standing  so  supervisor-other-store
#   un  untrained                   ag  agency
#   tr  trainee                     ad  admin
#   ce  certified                   ov  other-brand-volunteer
#   me  mentor                      os  other-brand-supervisor
#                                   oa  other-brand-agency
COLUMNS = KINDS
NOT_ALLOWED = 405

# route: (answers to GET, answers to POST with an empty form)
#        an    nr    vw    un    tr    ce    me    ss    sv    so    ag    ad    ov    os    oa
EXPECTED: dict[str, tuple[str, str]] = {
    # The root sends each person to their role's page; outside every programme it says how
    # to join.
    "home": (
        "login 200   302   302   302   302   302   302   302   302   302   302   302   302   302",
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
    ),
    # Liveness for anyone; the details need the metrics token (or a superuser).
    "healthz": (
        "200   200   200   200   200   200   200   200   200   200   200   200   200   200   200",
        "405   405   405   405   405   405   405   405   405   405   405   405   405   405   405",
    ),
    "metrics": (
        "403   403   403   403   403   403   403   403   403   403   403   403   403   403   403",
        "405   405   405   405   405   405   405   405   405   405   405   405   405   405   405",
    ),
    # X's side: GET is the CRC challenge (no crc_token: 400); POST is a signed delivery.
    "x-webhook": (
        "400   400   400   400   400   400   400   400   400   400   400   400   400   400   400",
        "400   400   400   400   400   400   400   400   400   400   400   400   400   400   400",
    ),
    "login": (
        "200   200   200   200   200   200   200   200   200   200   200   200   200   200   200",
        "200   200   200   200   200   200   200   200   200   200   200   200   200   200   200",
    ),
    "logout": (
        "405   405   405   405   405   405   405   405   405   405   405   405   405   405   405",
        "login login login login login login login login login login login login login login login",
    ),
    "set_language": (
        "302   302   302   302   302   302   302   302   302   302   302   302   302   302   302",
        "302   302   302   302   302   302   302   302   302   302   302   302   302   302   302",
    ),
    # The desk's pages for everyone who works it (the gate decides at claim and send).
    "helpdesk:queue": (
        "login 403   200   200   200   200   200   200   200   200   403   200   200   200   403",
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
    ),
    # The inbox with one of the brand's questions open (another brand's: 404).
    "helpdesk:inbox-question": (
        "login 403   200   200   200   200   200   200   200   200   403   200   404   404   403",
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
    ),
    "charter_pages:charter": (
        "login 403   200   200   200   200   200   200   200   200   403   200   200   200   403",
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
    ),
    "charter_pages:accept": (
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
        "login 403   302   302   302   302   302   302   302   302   403   302   302   302   403",
    ),
    "charter_pages:status": (
        "login 403   200   200   200   200   200   200   200   200   403   200   200   200   403",
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
    ),
    # Asking to join is open to anyone (a form with its own rate limit).
    "charter_pages:enrol": (
        "200   200   200   200   200   200   200   200   200   200   200   200   200   200   200",
        "200   200   200   200   200   200   200   200   200   200   200   200   200   200   200",
    ),
    "charter_pages:enrol-sent": (
        "302   302   302   302   302   302   302   302   302   302   302   302   302   302   302",
        "405   405   405   405   405   405   405   405   405   405   405   405   405   405   405",
    ),
    "charter_pages:x-link": (
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
        "login 403   302   302   302   302   302   302   302   302   403   302   302   302   403",
    ),
    "charter_pages:x-link-callback": (
        "login 403   302   302   302   302   302   302   302   302   403   302   302   302   403",
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
    ),
    "charter_pages:x-unlink": (
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
        "login 403   302   302   302   302   302   302   302   302   403   302   302   302   403",
    ),
    # Training needs a standing in the programme (supervisors and admins here hold none).
    "training:modules": (
        "login 403   403   200   200   200   200   200   403   403   403   403   403   403   403",
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
    ),
    "training:module": (
        "login 403   403   200   200   200   200   200   403   403   403   403   403   403   403",
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
    ),
    "training:start": (
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
        "login 403   403   302   302   302   302   302   403   403   403   403   403   403   403",
    ),
    # The attempt is the trainee's: anyone else's looks absent.
    "training:attempt": (
        "login 403   403   404   200   404   404   404   403   403   403   403   403   403   403",
        "login 403   403   404   400   404   404   404   403   403   403   403   403   403   403",
    ),
    "training:result": (
        "login 403   403   404   302   404   404   404   403   403   403   403   403   403   403",
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
    ),
    "training:practice": (
        "login 403   403   200   200   200   200   200   403   403   403   403   403   403   403",
        "login 403   403   400   400   400   400   400   403   403   403   403   403   403   403",
    ),
    # Supervising: supervisors and admins; another store's supervisor reaches only people
    # of their own store; another brand's objects look absent.
    "training:grading": (
        "login 403   403   403   403   403   403   403   200   200   403   200   403   200   403",
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
    ),
    "training:grade": (
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
        "login 403   403   403   403   403   403   403   400   400   403   400   403   404   403",
    ),
    "supervision:enrolments": (
        "login 403   403   403   403   403   403   403   200   200   403   200   403   200   403",
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
    ),
    "supervision:enrolment-confirm": (
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
        "login 403   403   403   403   403   403   403   302   404   403   302   403   404   403",
    ),
    "supervision:enrolment-decline": (
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
        "login 403   403   403   403   403   403   403   302   404   403   302   403   404   403",
    ),
    "supervision:people": (
        "login 403   403   403   403   403   403   403   200   200   403   200   403   200   403",
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
    ),
    "supervision:suspend": (
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
        "login 403   403   403   403   403   403   403   302   404   403   302   403   404   403",
    ),
    "supervision:reinstate": (
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
        "login 403   403   403   403   403   403   403   302   404   403   302   403   404   403",
    ),
    "supervision:set-level": (
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
        "login 403   403   403   403   403   403   403   302   404   403   302   403   404   403",
    ),
    "supervision:invitations": (
        "login 403   403   403   403   403   403   403   200   200   403   200   403   200   403",
        "login 403   403   403   403   403   403   403   200   200   403   200   403   200   403",
    ),
    # The outbox, review and the floor are the brand's, whatever the supervisor's store.
    "outbox:outbox": (
        "login 403   403   403   403   403   403   403   200   200   403   200   403   200   403",
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
    ),
    "outbox:retry": (
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
        "login 403   403   403   403   403   403   403   302   404   403   302   403   404   403",
    ),
    "outbox:give-back": (
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
        "login 403   403   403   403   403   403   403   302   404   403   302   403   404   403",
    ),
    "outbox:dismiss": (
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
        "login 403   403   403   403   403   403   403   302   404   403   302   403   404   403",
    ),
    "outbox:delete": (
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
        "login 403   403   403   403   403   403   403   302   404   403   302   403   404   403",
    ),
    "saved_replies:list": (
        "login 403   403   403   403   403   403   403   200   200   403   200   403   200   403",
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
    ),
    "saved_replies:create": (
        "login 403   403   403   403   403   403   403   200   200   403   200   403   200   403",
        "login 403   403   403   403   403   403   403   400   400   403   400   403   400   403",
    ),
    "saved_replies:edit": (
        "login 403   403   403   403   403   403   403   200   200   403   200   403   404   403",
        "login 403   403   403   403   403   403   403   400   400   403   400   403   404   403",
    ),
    "saved_replies:archive": (
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
        "login 403   403   403   403   403   403   403   302   302   403   302   403   404   403",
    ),
    "saved_replies:restore": (
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
        "login 403   403   403   403   403   403   403   302   302   403   302   403   404   403",
    ),
    "desk:shift": (
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
        "login 403   302   302   302   302   302   302   302   302   403   302   302   302   403",
    ),
    "desk:question": (
        "login 403   200   200   200   200   200   200   200   200   403   200   404   404   403",
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
    ),
    "desk:claim": (
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
        "login 403   302   302   302   302   302   302   302   302   403   302   404   404   403",
    ),
    "desk:release": (
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
        "login 403   302   302   302   302   302   302   302   302   403   302   404   404   403",
    ),
    "desk:escalate": (
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
        "login 403   302   302   302   302   302   302   302   302   403   302   404   404   403",
    ),
    # Internal notes and tags: the question's desk members (of any standing: they are
    # never sent to X); an empty form is refused with the form (400).
    "desk:note": (
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
        "login 403   400   400   400   400   400   400   400   400   403   400   404   404   403",
    ),
    "desk:tag": (
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
        "login 403   400   400   400   400   400   400   400   400   403   400   404   404   403",
    ),
    "desk:untag": (
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
        "login 403   302   302   302   302   302   302   302   302   403   302   404   404   403",
    ),
    "desk:reassign": (
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
        "login 403   403   403   403   403   403   403   302   302   403   302   403   404   403",
    ),
    "desk:take-back": (
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
        "login 403   403   403   403   403   403   403   302   302   403   302   403   404   403",
    ),
    # Composing needs a live claim on the question: nobody holds one here.
    "desk:compose": (
        "login 403   403   403   403   403   403   403   403   403   403   403   404   404   403",
        "login 403   403   403   403   403   403   403   403   403   403   403   404   404   403",
    ),
    "desk:lint": (
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
        "login 403   403   403   403   403   403   403   403   403   403   403   404   404   403",
    ),
    "desk:review": (
        "login 403   403   403   403   403   403   403   200   200   403   200   403   200   403",
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
    ),
    # Review and moderation follow the brand's supervision scope (their own store by
    # default): a supervisor of another store finds no such reply.
    "desk:approve": (
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
        "login 403   403   403   403   403   403   403   302   404   403   302   403   404   403",
    ),
    "desk:reject": (
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
        "login 403   403   403   403   403   403   403   302   404   403   302   403   404   403",
    ),
    "desk:bulk-approve": (
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
        "login 403   403   403   403   403   403   403   302   302   403   302   403   302   403",
    ),
    "desk:review-news": (
        "login 403   403   403   403   403   403   403   200   200   403   200   403   200   403",
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
    ),
    "desk:feedback": (
        "login 403   200   200   200   200   200   200   200   200   403   200   200   200   403",
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
    ),
    "desk:escalations": (
        "login 403   403   403   403   403   403   403   200   200   403   200   403   200   403",
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
    ),
    # The question here is not escalated: a supervisor is told so and sent back.
    "desk:escalation-back": (
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
        "login 403   403   403   403   403   403   403   302   302   403   302   403   404   403",
    ),
    "desk:escalation-close": (
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
        "login 403   403   403   403   403   403   403   302   302   403   302   403   404   403",
    ),
    "desk:floor": (
        "login 403   403   403   403   403   403   403   200   200   403   200   403   200   403",
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
    ),
    "desk:floor-body": (
        "login 403   403   403   403   403   403   403   200   200   403   200   403   200   403",
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
    ),
    # Bulk triage: supervising roles of the brand; an empty form (nothing ticked, no
    # action) is the page again with the error, and nothing changes.
    "desk:triage": (
        "login 403   403   403   403   403   403   403   200   200   403   200   403   200   403",
        "login 403   403   403   403   403   403   403   400   400   403   400   403   400   403",
    ),
    # Reading: supervisors (their store's part), the agency and admins.
    "exports:shift-hours": (
        "login 403   403   403   403   403   403   403   200   200   200   200   403   200   200",
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
    ),
    "crisis:page": (
        "login 403   403   403   403   403   403   403   200   200   403   200   403   200   403",
        # an empty form chooses no scope: refused with the form (it once meant the whole brand)
        "login 403   403   403   403   403   403   403   400   400   403   400   403   400   403",
    ),
    "crisis:end": (
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
        "login 403   403   403   403   403   403   403   302   302   403   302   403   302   403",
    ),
    "reports:index": (
        "login 403   403   403   403   403   403   403   200   200   200   200   403   200   200",
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
    ),
    "reports:export-report-csv": (
        "login 403   403   403   403   403   403   403   200   200   200   200   403   200   200",
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
    ),
    "reports:export-report-xlsx": (
        "login 403   403   403   403   403   403   403   200   200   200   200   403   200   200",
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
    ),
    "reports:export-report-pdf": (
        "login 403   403   403   403   403   403   403   200   200   200   200   403   200   200",
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
    ),
    "reports:export-report-json": (
        "login 403   403   403   403   403   403   403   200   200   200   200   403   200   200",
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
    ),
    "reports:export-questions-csv": (
        "login 403   403   403   403   403   403   403   200   200   200   200   403   200   200",
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
    ),
    "reports:export-questions-xlsx": (
        "login 403   403   403   403   403   403   403   200   200   200   200   403   200   200",
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
    ),
    # API tokens: the agency and admins; a token is its owner's alone.
    "reports:tokens": (
        "login 403   403   403   403   403   403   403   403   403   200   200   403   403   200",
        "login 403   403   403   403   403   403   403   403   403   400   400   403   403   400",
    ),
    "reports:token-revoke": (
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
        "login 403   403   403   403   403   403   403   403   403   302   404   403   403   404",
    ),
    # The weekly mail's signed link works without signing in (RFC 8058 one-click).
    "reports:unsubscribe": (
        "200   200   200   200   200   200   200   200   200   200   200   200   200   200   200",
        "200   200   200   200   200   200   200   200   200   200   200   200   200   200   200",
    ),
    "reports:subscription": (
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
        "login 403   403   403   403   403   403   403   403   403   302   302   403   403   302",
    ),
    "reports:me": (
        "login 403   200   200   200   200   200   200   200   200   403   200   200   200   403",
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
    ),
    "monitoring:index": (
        "login 403   403   403   403   403   403   403   200   200   200   200   403   200   200",
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
    ),
    "monitoring:body": (
        "login 403   403   403   403   403   403   403   200   200   200   200   403   200   200",
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
    ),
    # The reporting API answers in JSON: 401 without a session or token.
    "api:report": (
        "401   403   403   403   403   403   403   403   403   403   200   200   403   403   200",
        "401   403   403   403   403   403   403   403   403   403   405   405   403   403   405",
    ),
    "api:summary": (
        "401   403   403   403   403   403   403   403   403   403   200   200   403   403   200",
        "401   403   403   403   403   403   403   403   403   403   405   405   403   403   405",
    ),
    "api:questions": (
        "401   403   403   403   403   403   403   403   403   403   200   200   403   403   200",
        "401   403   403   403   403   403   403   403   403   403   405   405   403   403   405",
    ),
    "api:schema": (
        "401   403   403   403   403   403   403   403   403   403   200   200   403   403   200",
        "401   403   403   403   403   403   403   403   403   403   405   405   403   403   405",
    ),
    "api:docs": (
        "login 403   403   403   403   403   403   403   403   403   200   200   403   403   200",
        "login 405   405   405   405   405   405   405   405   405   405   405   405   405   405",
    ),
    "api/^": (
        "404   404   404   404   404   404   404   404   404   404   404   404   404   404   404",
        "404   404   404   404   404   404   404   404   404   404   404   404   404   404   404",
    ),
}
REFUSALS = {"login", "401", "403", "404", "405"}

# Websocket routes: "hello", or the close code of the refusal (the gate decides the queue's).
WS_EXPECTED: dict[str, str] = {
    #        an    nr    vw    un    tr    ce    me    ss    sv    so    ag    ad    ov    os    oa
    "/ws/queue/": (
        "4401  4403  4403  4403  hello hello hello 4403  4403  4403  4403  4403  4403  4403  4403"
    ),
    "/ws/monitoring/": (
        "4401  4403  4403  4403  4403  4403  4403  4403  hello hello hello hello 4403  hello hello"
    ),
}


def answer(response: HttpResponseBase) -> str:
    """The answer as the table writes it."""
    if response.status_code in (301, 302, 303):
        location = response["Location"]
        return "login" if location.startswith("/accounts/login/") else "302"
    if 200 <= response.status_code < 300:
        return "200"
    return str(response.status_code)


def desk_rows() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the desk's own tables and of the users table."""
    labels = ("auth", "helpdesk", "routing", "charter", "reports", "monitoring")
    rows: dict[str, list[tuple[Any, ...]]] = {}
    for model in apps.get_models():
        meta = model._meta
        if meta.app_label in labels and not meta.proxy and meta.label != "auth.Permission":
            rows[meta.label] = list(model._default_manager.order_by("pk").values_list())
    return rows


def ask(client: Client, method: str, url: str, *, watch: bool = True) -> tuple[str, bool]:
    """The answer to one request and whether it changed any row (when ``watch``); every
    change is undone."""
    cookies = SimpleCookie(client.cookies)  # see tests.routes.undone
    with Savepoint():
        before = desk_rows() if watch else {}
        response = client.get(url) if method == "get" else client.post(url)
        wrote = watch and desk_rows() != before
        transaction.set_rollback(True)
    client.cookies = cookies
    return answer(response), wrote


def row(text: str) -> dict[str, str]:
    cells = text.split()
    assert len(cells) == len(COLUMNS), f"{len(cells)} answers for {len(COLUMNS)} kinds"
    return dict(zip(COLUMNS, cells, strict=True))


@pytest.fixture
def world(brand: Brand, settings: Any) -> World:
    settings.X_CONSUMER_SECRET = "matrix-consumer-secret"  # the webhook answers, not 503
    publish_charter(brand)
    other = make_brand()
    publish_charter(other)
    return make_world(brand, People(brand, store=make_store(brand), other_brand=other))


@pytest.fixture
def clients(world: World) -> dict[str, Client]:
    made = {}
    for kind in KINDS:
        made[kind] = Client(raise_request_exception=False)
        world.people.log_in(made[kind], kind)
    return made


ROUTES = {route.name: route for route in walk_routes()}


def test_every_route_has_a_row() -> None:
    missing = sorted(ROUTES.keys() - EXPECTED.keys())
    gone = sorted(EXPECTED.keys() - ROUTES.keys())
    assert missing == [], f"routes without a row in EXPECTED: {missing}"
    assert gone == [], f"rows of EXPECTED for routes that are no longer there: {gone}"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_kind_gets_the_written_answer(
    name: str, world: World, clients: dict[str, Client]
) -> None:
    route = ROUTES[name]
    url = world.url(route)
    wrong: list[str] = []
    wrote: list[str] = []
    for method, text in zip(("get", "post"), EXPECTED[name], strict=True):
        for kind, expected in row(text).items():
            watch = method == "post" and expected in REFUSALS
            got, changed = ask(clients[kind], method, url, watch=watch)
            if got != expected:
                wrong.append(f"{method.upper()} {url} as {kind}: {got}, expected {expected}")
            if expected in REFUSALS and changed:
                wrote.append(f"{method.upper()} {url} as {kind} was refused and wrote rows")
    assert wrong == []
    assert wrote == []


OF_THIS_BRAND = [k for k in KINDS if k != "anonymous" and not k.startswith("other-brand-")]
WITH_OBJECTS = sorted(
    r.name for r in ROUTES.values() if r.params and r.name != "reports:unsubscribe"
)


@pytest.mark.parametrize("name", WITH_OBJECTS)
def test_another_brands_object_is_never_reached(
    name: str, world: World, clients: dict[str, Client]
) -> None:
    other = world.people._other_brand()
    theirs = make_world(other, People(other, store=make_store(other)))
    url = theirs.url(ROUTES[name])
    reached: list[str] = []
    for kind in OF_THIS_BRAND:
        for method in ("get", "post"):
            got, changed = ask(clients[kind], method, url)
            if got not in {"403", "404", "405"} or changed:
                reached.append(f"{method.upper()} {url} as {kind}: {got}, wrote: {changed}")
    assert reached == []


def ws_answer(path: str, headers: list[tuple[bytes, bytes]]) -> str:
    """``hello``, or the close code the socket at ``path`` was refused with."""

    async def flow() -> str:
        comm = WebsocketCommunicator(application, path, headers=headers)
        connected, _ = await comm.connect()
        try:
            if not connected:
                return "closed"
            first = await comm.receive_json_from(timeout=3)
            if first["type"] == "hello":
                return "hello"
            closing = await comm.receive_output(timeout=3)
            return str(closing.get("code"))
        finally:
            await comm.disconnect()

    answered: str = async_to_sync(flow)()
    return answered


def socket_headers(user: User | None) -> list[tuple[bytes, bytes]]:
    headers = [(b"origin", b"http://testserver")]
    if user is not None:
        client = Client()
        client.force_login(user)
        headers.append((b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()))
    return headers


@pytest.fixture
def _layers_in_memory(settings: Any) -> Iterator[None]:
    from helpdesk.events import EVENTS_LAYER

    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer"},
        EVENTS_LAYER: {"BACKEND": "channels.layers.InMemoryChannelLayer"},
    }
    yield


def test_every_websocket_route_has_a_row() -> None:
    found = {"/" + str(route.pattern) for route in websocket_urlpatterns}
    assert found == WS_EXPECTED.keys()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_layers_in_memory")
@pytest.mark.parametrize("path", sorted(WS_EXPECTED))
def test_each_kind_gets_the_written_answer_on_each_socket(path: str, brand: Brand) -> None:
    publish_charter(brand)
    other = make_brand()
    publish_charter(other)
    people = People(brand, store=make_store(brand), other_brand=other)
    headers = {kind: socket_headers(people.user(kind)) for kind in KINDS}

    answers = {kind: ws_answer(path, headers[kind]) for kind in KINDS}

    assert answers == row(WS_EXPECTED[path])
