"""The saved replies' forms: one saved reply, and the list's filters."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from helpdesk.forms.programme import language_choices
from helpdesk.saved_replies.actions import TITLE_MAX_LENGTH, SavedReplyFields
from routing.models import Topic


def _topics(brand_id: int) -> Any:
    return Topic.objects.filter(brand_id=brand_id).order_by("name", "pk")


class TopicChoiceField(forms.ModelChoiceField[Topic]):
    def label_from_instance(self, obj: Topic) -> str:
        return obj.name


class SavedReplyForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=TITLE_MAX_LENGTH)
    topic = TopicChoiceField(
        label=gettext_lazy("Topic"),
        queryset=Topic.objects.none(),
        required=False,
        empty_label=gettext_lazy("Every topic"),
    )
    language = forms.ChoiceField(label=gettext_lazy("Language"), required=False)
    body = forms.CharField(
        label=gettext_lazy("Text"),
        widget=forms.Textarea(
            attrs={"rows": 6, "dir": "auto", "aria-describedby": "body-variables"}
        ),
    )

    def __init__(self, *args: Any, brand_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        topic = self.fields["topic"]
        assert isinstance(topic, TopicChoiceField)
        topic.queryset = _topics(brand_id)
        language = self.fields["language"]
        assert isinstance(language, forms.ChoiceField)
        language.choices = [("", _("Any language")), *language_choices()]

    def saved_fields(self) -> SavedReplyFields:
        data = self.cleaned_data
        return SavedReplyFields(
            title=data["title"],
            body=data["body"],
            topic=data["topic"],
            language=data["language"],
        )


class FilterForm(forms.Form):
    topic = forms.ChoiceField(label=gettext_lazy("Topic"), required=False)
    language = forms.ChoiceField(label=gettext_lazy("Language"), required=False)
    status = forms.ChoiceField(
        label=gettext_lazy("Status"),
        required=False,
        choices=[
            ("active", gettext_lazy("In use")),
            ("archived", gettext_lazy("Archived")),
            ("all", gettext_lazy("All")),
        ],
    )

    def __init__(self, *args: Any, brand_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        topic = self.fields["topic"]
        assert isinstance(topic, forms.ChoiceField)
        topic.choices = [
            ("", _("All topics")),
            ("none", _("Only those for every topic")),
            *((str(t.pk), t.name) for t in _topics(brand_id)),
        ]
        language = self.fields["language"]
        assert isinstance(language, forms.ChoiceField)
        language.choices = [
            ("", _("All languages")),
            ("any", _("Only those for any language")),
            *language_choices(),
        ]
