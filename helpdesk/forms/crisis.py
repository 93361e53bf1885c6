"""Forms of the crisis-mode page: switching it on (topic or the whole brand, holding
statement, reason, the spike alert that offered it) and off.

They check the shape of the input; ``routing.crisis`` decides whether it may be done.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from helpdesk.models import SavedReply
from helpdesk.params import MAX_ID
from routing.crisis import REASON_MAX_LENGTH
from routing.models import Topic

# Chosen, never defaulted: an empty form switched crisis mode on for every question.
WHOLE_BRAND = "brand"


def _optional_id(value: str) -> int | None:
    return int(value) if value else None


def _topic_or_brand(value: str) -> int | None:
    return None if value == WHOLE_BRAND else int(value)


class StartCrisisForm(forms.Form):
    topic = forms.TypedChoiceField(
        label=_("Affected questions"),
        coerce=_topic_or_brand,
        error_messages={"required": _("Choose the affected topic, or every question.")},
    )
    holding_statement = forms.TypedChoiceField(
        label=_("Holding statement"),
        coerce=_optional_id,
        empty_value=None,
        required=False,
        help_text=_("A saved reply the composer suggests first for the affected questions."),
    )
    reason = forms.CharField(
        label=_("Why"),
        max_length=REASON_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Shown on the desk's banner and kept in the audit log."),
    )
    # Bounded: an id beyond a bigint is no alert, and failed the insert (a 500).
    alert = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, widget=forms.HiddenInput
    )

    def __init__(self, *args: Any, brand_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        topics = Topic.objects.filter(brand_id=brand_id).order_by("name", "pk")
        self.fields["topic"].choices = [  # type: ignore[attr-defined]
            ("", _("Choose…")),
            (WHOLE_BRAND, _("Every question of the brand")),
            *((str(topic.pk), topic.name) for topic in topics),
        ]
        saved = SavedReply.objects.filter(brand_id=brand_id, is_active=True).select_related("topic")
        self.fields["holding_statement"].choices = [  # type: ignore[attr-defined]
            ("", _("None")),
            *(
                (
                    str(reply.pk),
                    f"{reply.title} · {reply.topic.name if reply.topic else _('every topic')}",
                )
                for reply in saved.order_by("title", "pk")
            ),
        ]


class EndCrisisForm(forms.Form):
    topic = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, widget=forms.HiddenInput
    )
    reason = forms.CharField(
        label=_("Why it is over"), max_length=REASON_MAX_LENGTH, required=False
    )
