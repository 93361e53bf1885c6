"""The report's filters, read the same way by the page, the exports and the API: a period
(by name or two dates in the brand's time zone), a store, region, volunteer, topic or
language, business or calendar time, a grouping, and names shown or anonymised.

The API token page's form is here too.

Everything is checked against the reader: a store, volunteer or topic of another brand, or
a store outside a supervisor's own, is refused with a message, never silently widened.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from helpdesk.models import Role, Store, Volunteer
from helpdesk.reports.access import allowed_stores
from helpdesk.reports.period import EARLIEST, LATEST, Period, PeriodError, presets
from helpdesk.reports.queries import GROUPINGS, Scope, brand_zone
from routing.models import Topic

PERIOD_CHOICES = [
    ("7d", _("Last 7 days")),
    ("30d", _("Last 30 days")),
    ("90d", _("Last 90 days")),
    ("this-month", _("This month")),
    ("last-month", _("Last month")),
    ("last-week", _("Last week (Monday to Sunday)")),
    ("custom", _("Dates below")),
]
GROUP_CHOICES = [
    ("store", _("Store")),
    ("region", _("Region")),
    ("volunteer", _("Volunteer")),
    ("topic", _("Topic")),
    ("language", _("Language")),
]
NAMES_CHOICES = [("shown", _("Shown")), ("anonymised", _("Anonymised"))]
DEFAULT_PERIOD = "30d"


class _BoundedIntegerField(forms.IntegerField):
    """An id: ASCII digits only (``"²".isdigit()`` is true), at most 18 of them."""

    def to_python(self, value: Any) -> int | None:
        if value in self.empty_values:
            return None
        text = str(value).strip()
        if not (text.isascii() and text.isdigit()) or len(text) > 18:
            raise forms.ValidationError(_("Enter a whole number."), code="invalid")
        return int(text)


class _RawCheckbox(forms.CheckboxInput):
    """A checkbox that hands the field what was sent (Django's turns any text into True)."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        return data.get(name)


class _SwitchField(forms.BooleanField):
    """A switch as a checkbox or a query sends it: on/true/1 or off/false/0 (or absent);
    anything else is an error rather than a guess."""

    widget = _RawCheckbox
    TRUE = frozenset({"on", "true", "1", "yes"})
    FALSE = frozenset({"", "off", "false", "0", "no"})

    def to_python(self, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        text = "" if value is None else str(value).strip().lower()
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise forms.ValidationError(_("Say on or off (true or false)."), code="invalid")

    def validate(self, value: Any) -> None:
        pass


class ReportForm(forms.Form):
    period = forms.ChoiceField(
        label=_("Period"), choices=PERIOD_CHOICES, required=False, initial=DEFAULT_PERIOD
    )
    first = forms.DateField(label=_("From"), required=False)
    last = forms.DateField(label=_("To (included)"), required=False)
    store = _BoundedIntegerField(label=_("Store"), required=False, min_value=1)
    region = forms.CharField(label=_("Region"), required=False, max_length=60)
    volunteer = _BoundedIntegerField(label=_("Volunteer"), required=False, min_value=1)
    topic = _BoundedIntegerField(label=_("Topic"), required=False, min_value=1)
    language = forms.RegexField(
        label=_("Language"), required=False, max_length=8, regex=r"^[A-Za-z]{2,8}$"
    )
    business_time = _SwitchField(label=_("Business hours only"), required=False)
    group_by = forms.ChoiceField(
        label=_("Group by"), choices=GROUP_CHOICES, required=False, initial="store"
    )
    names = forms.ChoiceField(
        label=_("Volunteers' names"), choices=NAMES_CHOICES, required=False, initial="shown"
    )

    def __init__(self, data: Any, *, reader: Volunteer, now: datetime | None = None) -> None:
        super().__init__(data)
        self.reader = reader
        self.now = now or timezone.now()
        self.zone = brand_zone(reader.brand)
        self.today = self.now.astimezone(self.zone).date()
        self._store_choices = list(self.stores_for_reader())
        self.fields["first"].widget = forms.DateInput(attrs={"type": "date"})
        self.fields["last"].widget = forms.DateInput(attrs={"type": "date"})

    def stores_for_reader(self) -> Any:
        stores = Store.objects.filter(brand_id=self.reader.brand_id).order_by("code")
        allowed = allowed_stores(self.reader)
        return stores.filter(pk__in=allowed) if allowed is not None else stores

    def topics(self) -> Any:
        return Topic.objects.filter(brand_id=self.reader.brand_id).order_by("name")

    def regions(self) -> list[str]:
        return sorted(
            {store.region for store in self._store_choices if store.region}, key=str.casefold
        )

    def languages(self) -> list[str]:
        """The languages the brand's people answer in, the chosen one included."""
        found: set[str] = set()
        for spoken in Volunteer.objects.filter(brand_id=self.reader.brand_id).values_list(
            "languages", flat=True
        ):
            found.update(
                str(code).lower().replace("_", "-").split("-")[0]
                for code in (spoken or [])
                if isinstance(code, str) and code
            )
        chosen = str(self.data.get("language") or "").lower() if self.data else ""
        if chosen.isascii() and chosen.isalpha():
            found.add(chosen)
        return sorted(found)

    def volunteers(self) -> Any:
        people = Volunteer.objects.filter(brand_id=self.reader.brand_id).select_related("user")
        allowed = allowed_stores(self.reader)
        if allowed is not None:
            people = people.filter(store_id__in=allowed)
        return people.exclude(role=Role.AGENCY).order_by("display_name", "user__username")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        name = data.get("period") or DEFAULT_PERIOD
        if name == "custom" or data.get("first") or data.get("last"):
            first, last = data.get("first"), data.get("last")
            if first is None or last is None:
                raise forms.ValidationError(_("Give both dates, or choose a period by name."))
            name = "custom"
        else:
            first, last = presets(self.today)[name]
        for day in (first, last):
            if not (EARLIEST <= day <= LATEST):
                raise forms.ValidationError(
                    _("Dates must lie between %(earliest)s and %(latest)s."),
                    params={"earliest": EARLIEST.isoformat(), "latest": LATEST.isoformat()},
                )
        try:
            data["period_obj"] = Period(first, last, self.zone)
        except PeriodError as error:
            raise forms.ValidationError(str(error)) from error
        data["period"] = name
        data["group_by"] = data.get("group_by") or "store"
        data["names"] = data.get("names") or "shown"
        self._check_choices(data)
        return data

    def _check_choices(self, data: dict[str, Any]) -> None:
        brand_id = self.reader.brand_id
        if data.get("store") is not None and data["store"] not in {
            store.pk for store in self._store_choices
        }:
            self.add_error("store", _("Not a store you can see reports of."))
        if (
            data.get("topic") is not None
            and not Topic.objects.filter(pk=data["topic"], brand_id=brand_id).exists()
        ):
            self.add_error("topic", _("Not a topic of your brand."))
        if (
            data.get("volunteer") is not None
            and not self.volunteers().filter(user_id=data["volunteer"]).exists()
        ):
            self.add_error("volunteer", _("Not a volunteer you can see reports of."))

    def scope(self) -> Scope:
        """The scope of a valid form: the reader's brand, within the stores they may see."""
        data = self.cleaned_data
        allowed = allowed_stores(self.reader)
        stores: frozenset[int] | None = allowed
        if data.get("store") is not None:
            stores = frozenset({data["store"]})
        return Scope(
            brand_id=self.reader.brand_id,
            period=data["period_obj"],
            stores=stores,
            region=data.get("region") or "",
            volunteer_id=data.get("volunteer"),
            topic_id=data.get("topic"),
            language=(data.get("language") or "").lower(),
            business_time=bool(data.get("business_time")),
            now=self.now,
        )

    @property
    def grouping(self) -> str:
        value = self.cleaned_data.get("group_by") or "store"
        return value if value in GROUPINGS else "store"

    @property
    def anonymise(self) -> bool:
        return self.cleaned_data.get("names") == "anonymised"


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=80,
        help_text=_("What uses it, e.g. “weekly dashboard”."),
    )
