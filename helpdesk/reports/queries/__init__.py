"""The reports' one query layer: every figure a page, an export, the command, the e-mail
or the API shows is computed here, from the desk's rows, and nowhere else.

The definitions are in ``docs/metrics.md``; the names below follow it. In short:

* A report's **questions** are the brand's questions *received* (arrived at the desk) in the
  period. Each is in exactly one of: **answered** (a reply of ours was accepted by X),
  **dismissed**, **escalated** (with the official care team) or **open**.
* **First-response time** runs from the customer's tweet (``tweeted_at``; the arrival when
  X did not say) to our first reply accepted by X (``first_response_at``); the **desk's
  share** from the arrival to that reply. Never from a reopen, never a bot's reply: the
  desk has no bot, and a restored question keeps its tweet.
* A question's **store** is the store its first response came from (the author's store when
  they submitted it); before that, the store it was routed to, if any. Its **volunteer** is
  the author of its first response.
* Percentiles are exact (``helpdesk.reports.percentiles``); a total is computed over its
  rows, never from the groups' figures.
"""

from __future__ import annotations

from helpdesk.reports.queries.business import calendars_for, scope_calendars
from helpdesk.reports.queries.conversations import Resolution, resolution
from helpdesk.reports.queries.figures import (
    RESPONSE_BUCKETS,
    dismissed_by_reason,
    figures,
    figures_by,
    response_distribution,
    response_percentiles_by,
    sla_by_priority,
)
from helpdesk.reports.queries.people import (
    VolunteerActivity,
    anonymous_label,
    group_labels,
    person_labels,
    volunteer_activity,
)
from helpdesk.reports.queries.reviews import Reviews, reviews
from helpdesk.reports.queries.scope import (
    ACCEPTED_REPLY_STATES,
    GROUPINGS,
    PRIORITIES,
    Scope,
    brand_zone,
    questions_in,
    replies_in,
)
from helpdesk.reports.queries.timeline import SeriesPoint, heatmap, series
from helpdesk.reports.queries.values import EMPTY, Durations, Figures, Sla, Volumes

__all__ = [
    "ACCEPTED_REPLY_STATES",
    "EMPTY",
    "GROUPINGS",
    "PRIORITIES",
    "RESPONSE_BUCKETS",
    "Durations",
    "Figures",
    "Resolution",
    "Reviews",
    "Scope",
    "SeriesPoint",
    "Sla",
    "Volumes",
    "VolunteerActivity",
    "anonymous_label",
    "brand_zone",
    "calendars_for",
    "dismissed_by_reason",
    "figures",
    "figures_by",
    "group_labels",
    "heatmap",
    "person_labels",
    "questions_in",
    "replies_in",
    "resolution",
    "response_distribution",
    "response_percentiles_by",
    "reviews",
    "scope_calendars",
    "series",
    "sla_by_priority",
    "volunteer_activity",
]
