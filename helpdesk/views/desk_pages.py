"""The desk's working pages (under ``/desk/``): going on shift, a question with its thread
and the customer's history, the composer with live lint, supervisors' review queue,
volunteers' feedback, the supervisors' floor view and their bulk triage. Each concern has
its module; this one names their URLs.

Every page checks the role on the server (DESIGN invariant 8): desk roles only (agency staff
never see the queue's controls); another brand's question or reply answers 404.
"""

from __future__ import annotations

from django.urls import path

from helpdesk.views import escalation_pages, note_pages
from helpdesk.views.compose_pages import compose, lint_fragment
from helpdesk.views.floor_pages import floor, floor_body, reassign, take_back
from helpdesk.views.question_pages import claim, escalate, question_view, release, shift
from helpdesk.views.review_pages import approve, bulk, my_feedback, reject, review, review_news
from helpdesk.views.triage_pages import triage

app_name = "desk"
urlpatterns = [
    path("shift/", shift, name="shift"),
    path("questions/<int:pk>/", question_view, name="question"),
    path("questions/<int:pk>/claim/", claim, name="claim"),
    path("questions/<int:pk>/release/", release, name="release"),
    path("questions/<int:pk>/escalate/", escalate, name="escalate"),
    path("questions/<int:pk>/reassign/", reassign, name="reassign"),
    path("questions/<int:pk>/take-back/", take_back, name="take-back"),
    path("questions/<int:pk>/compose/", compose, name="compose"),
    path("questions/<int:pk>/lint/", lint_fragment, name="lint"),
    path("questions/<int:pk>/notes/", note_pages.note, name="note"),
    path("questions/<int:pk>/tags/", note_pages.tag, name="tag"),
    path("questions/<int:pk>/tags/<int:tag_pk>/remove/", note_pages.untag, name="untag"),
    path("review/", review, name="review"),
    path("review/<int:pk>/approve/", approve, name="approve"),
    path("review/<int:pk>/reject/", reject, name="reject"),
    path("review/bulk/", bulk, name="bulk-approve"),
    path("review/news/", review_news, name="review-news"),
    path("my-feedback/", my_feedback, name="feedback"),
    path("floor/", floor, name="floor"),
    path("escalations/", escalation_pages.escalations, name="escalations"),
    path(
        "escalations/<int:pk>/back-to-queue/",
        escalation_pages.back_to_queue,
        name="escalation-back",
    ),
    path("escalations/<int:pk>/close/", escalation_pages.close, name="escalation-close"),
    path("floor/body/", floor_body, name="floor-body"),
    path("triage/", triage, name="triage"),
]
