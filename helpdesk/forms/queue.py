"""The live queue's filters."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.renderers import BaseRenderer
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import get_language_info
from django.utils.translation import gettext_lazy as _

from helpdesk.queries import QueueCursor, QueueFilters


class _PlainSelect(forms.Select):
    """A select whose options are written here rather than by a template each: the store
    filter lists every store of the brand, and an included template per option made the
    form a third of the queue page's rendering time. Same markup, escaped the same way."""

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: BaseRenderer | None = None,
    ) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        options = format_html_join(
            "\n",
            '<option value="{}"{}>{}</option>',
            (
                (option["value"], " selected" if option["selected"] else "", option["label"])
                for _group, group_options, _index in widget["optgroups"]
                for option in group_options
            ),
        )
        return format_html(
            '<select name="{}"{}>\n{}\n</select>', name, flatatt(widget["attrs"]), options
        )


def _language_label(code: str) -> str:
    try:
        return f"{get_language_info(code)['name_translated']} ({code})"
    except KeyError:  # a language Django does not name: its code says enough
        return code


class QueueFilterForm(forms.Form):
    """The queue's GET filters. A bad value is dropped (and named), never an error page."""

    topic = forms.ChoiceField(label=_("Topic"), required=False, widget=_PlainSelect)
    # A list of the languages the brand's open questions are in, not free text.
    lang = forms.ChoiceField(label=_("Language"), required=False, widget=_PlainSelect)
    store = forms.TypedChoiceField(
        label=_("Store"), required=False, coerce=int, empty_value=None, widget=_PlainSelect
    )
    priority = forms.TypedChoiceField(
        label=_("Priority"),
        required=False,
        coerce=int,
        empty_value=None,
        widget=_PlainSelect,
        choices=[("", _("Any priority"))] + [(str(n), str(n)) for n in range(4)],
    )
    # A list of the brand's tags, by id.
    tag = forms.TypedChoiceField(
        label=_("Tag"), required=False, coerce=int, empty_value=None, widget=_PlainSelect
    )
    after = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(
        self,
        data: Any,
        *,
        topics: list[tuple[int, str, str]],
        stores: list[tuple[int, str, str]],
        languages: list[str] | None = None,
        tags: list[tuple[int, str]] | None = None,
    ) -> None:
        if data is not None and data.get("lang"):
            data = data.copy()
            data["lang"] = str(data["lang"]).lower()  # ?lang=FR is French too
        super().__init__(data)
        topic_field = self.fields["topic"]
        store_field = self.fields["store"]
        assert isinstance(topic_field, forms.ChoiceField)
        assert isinstance(store_field, forms.TypedChoiceField)
        topic_field.choices = [("", _("All topics"))] + [(slug, name) for _pk, slug, name in topics]
        lang_field = self.fields["lang"]
        assert isinstance(lang_field, forms.ChoiceField)
        lang_field.choices = [("", _("All languages"))] + [
            (code, _language_label(code))
            for code in sorted({code.lower() for code in languages or [] if code})
        ]
        store_field.choices = [("", _("All stores"))] + [
            (str(pk), f"{code} · {name}") for pk, code, name in stores
        ]
        tag_field = self.fields["tag"]
        assert isinstance(tag_field, forms.TypedChoiceField)
        tag_field.choices = [("", _("All tags"))] + [(str(pk), name) for pk, name in tags or []]

    def clean_after(self) -> QueueCursor | None:
        text = self.cleaned_data.get("after") or ""
        if not text:
            return None
        cursor = QueueCursor.decode(text)
        if cursor is None:
            raise forms.ValidationError(_("This is not a place in the queue."))
        return cursor

    def chosen(self) -> tuple[QueueFilters, QueueCursor | None, list[str]]:
        """The valid filters, the cursor, and the labels of the fields that were ignored."""
        self.is_valid()
        data = self.cleaned_data
        filters = QueueFilters(
            topic=data.get("topic") or "",
            lang=data.get("lang") or "",
            store=data.get("store"),
            priority=data.get("priority"),
            tag=data.get("tag"),
        )
        ignored = [str(self.fields[name].label or name) for name in self.errors]
        return filters, data.get("after"), ignored
