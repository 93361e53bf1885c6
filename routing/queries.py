"""The keys the open queue is indexed on, for the reads that narrow the queue by them.

The index ``question_open_queue`` (on ``helpdesk.Question``) covers the queued questions,
keyed by brand, topic and primary language subtag, and carries the other columns the
queue's eligibility reads (store, offer). A query that filters on these same expressions
with ``IN`` lists has them as index conditions: PostgreSQL then counts a volunteer's queue
by reading only the entries of their topics and languages, without touching the table.
The expressions here must stay identical to the index's (a test holds them equal), or the
planner no longer matches them.
"""

from __future__ import annotations

from django.db.models import BigIntegerField, Value
from django.db.models.expressions import CombinedExpression, Func
from django.db.models.functions import Coalesce, Concat, Lower, Replace, StrIndex, Substr

OPEN_QUEUE_INDEX = "question_open_queue"
# The topic key of a question without a topic (primary keys start at 1).
NO_TOPIC = 0


def topic_key() -> Func:
    """The question's topic id, 0 when it has none (so that ``IN`` can name "no topic")."""
    return Coalesce("topic", Value(NO_TOPIC), output_field=BigIntegerField())


def language_key(field: str = "lang") -> Func:
    """The primary subtag of the question's language, lower case: ``fr-CA``, ``FR`` and
    ``fr_ca`` give ``fr``; ``""`` gives ``""``. The same as
    ``routing.eligibility.primary_language`` before it maps X's "undetermined" codes.
    ``field`` reaches the language from another model (``question__lang``)."""
    dashed = Concat(Replace(Lower(field), Value("_"), Value("-")), Value("-"))
    before_dash: CombinedExpression = StrIndex(dashed, Value("-")) - 1
    return Substr(dashed, 1, before_dash)
