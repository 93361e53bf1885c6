"""Forms of the programme's pages: enrolment, the charter, supervision and invitations.

They check the shape of the input; the actions decide whether it may be done.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import (
    password_validators_help_text_html,
    validate_password,
)
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from charter.models import Level
from helpdesk.enrolment import MAX_INVITATION_USES
from helpdesk.models import Brand, Store
from helpdesk.params import MAX_ID


class StoreChoiceField(forms.ModelChoiceField[Store]):
    """A store by its code and name; by its brand too when several brands are listed."""

    show_brand = False

    def label_from_instance(self, obj: Store) -> str:
        label = f"{obj.code} · {obj.name}"
        return f"{obj.brand.name}: {label}" if self.show_brand else label


def language_choices() -> list[tuple[str, str]]:
    return [(code, str(name)) for code, name in settings.LANGUAGES]


class EnrolmentForm(forms.Form):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        help_text=_("Letters, digits and @ . + - _ only."),
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validators_help_text_html(),
    )
    password_again = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    display_name = forms.CharField(
        label=_("Display name"),
        max_length=80,
        help_text=_("How colleagues and supervisors see you, e.g. Alex B."),
    )
    brand = forms.ModelChoiceField(label=_("Brand"), queryset=Brand.objects.none())
    store = StoreChoiceField(label=_("Store"), queryset=Store.objects.none())
    employee_number = forms.CharField(label=_("Employee number"), max_length=40)
    languages = forms.MultipleChoiceField(
        label=_("Languages you answer in"),
        choices=language_choices,
        widget=forms.CheckboxSelectMultiple,
    )
    invitation_code = forms.CharField(
        label=_("Invitation code (optional)"),
        max_length=40,
        required=False,
        help_text=_("With a code from your supervisor, your enrolment is confirmed at once."),
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "autocomplete": "off"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        brands = Brand.objects.order_by("name")
        brand_field = self.fields["brand"]
        store_field = self.fields["store"]
        assert isinstance(brand_field, forms.ModelChoiceField)
        assert isinstance(store_field, StoreChoiceField)
        brand_field.queryset = brands
        store_field.queryset = Store.objects.select_related("brand").order_by("brand__name", "code")
        self.single_brand = brands.count() == 1
        store_field.show_brand = not self.single_brand
        if self.single_brand:
            brand_field.initial = brands.first()
            brand_field.widget = forms.HiddenInput()

    def clean_username(self) -> str:
        username = str(self.cleaned_data["username"]).strip()
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise ValidationError(_("This username is already taken."))
        return username

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        password = cleaned.get("password")
        again = cleaned.get("password_again")
        if password and again and password != again:
            self.add_error("password_again", _("The two passwords differ."))
        elif password:
            user = get_user_model()(username=cleaned.get("username", ""))
            try:
                validate_password(password, user=user)
            except ValidationError as error:
                self.add_error("password", error)
        brand = cleaned.get("brand")
        store = cleaned.get("store")
        if brand is not None and store is not None and store.brand_id != brand.pk:
            self.add_error("store", _("This store is not part of this brand."))
        return cleaned


class AcceptCharterForm(forms.Form):
    version = forms.IntegerField(min_value=1, max_value=MAX_ID, widget=forms.HiddenInput)


class DeclineEnrolmentForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("The employee sees this."),
    )


class SuspendForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the suspension"),
        max_length=500,
        help_text=_("The volunteer sees this."),
    )


# The levels a supervisor may set (``charter.standing.set_level``).
SETTABLE_LEVELS = [
    (Level.TRAINEE.value, Level.TRAINEE.label),
    (Level.CERTIFIED.value, Level.CERTIFIED.label),
    (Level.MENTOR.value, Level.MENTOR.label),
]


class LevelForm(forms.Form):
    level = forms.ChoiceField(label=_("Level"), choices=SETTABLE_LEVELS)


class RosterFilterForm(forms.Form):
    store = StoreChoiceField(
        label=_("Store"), queryset=Store.objects.none(), required=False, empty_label=_("All")
    )
    missing = forms.BooleanField(label=_("Only people missing something"), required=False)

    def __init__(self, *args: Any, stores: QuerySet[Store], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["store"]
        assert isinstance(field, StoreChoiceField)
        field.queryset = stores


class InvitationForm(forms.Form):
    store = StoreChoiceField(
        label=_("Store"),
        queryset=Store.objects.none(),
        required=False,
        empty_label=_("Any store of the brand"),
    )
    max_uses = forms.IntegerField(
        label=_("How many people may use it"),
        min_value=1,
        max_value=MAX_INVITATION_USES,
        initial=1,
    )
    valid_days = forms.IntegerField(
        label=_("Valid for (days)"),
        min_value=1,
        max_value=365,
        initial=14,
        required=False,
        help_text=_("Leave empty for a code that does not expire."),
    )

    def __init__(self, *args: Any, stores: QuerySet[Store], any_store: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["store"]
        assert isinstance(field, StoreChoiceField)
        field.queryset = stores
        field.required = not any_store
        if not any_store:
            field.empty_label = None
