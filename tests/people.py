"""One person of every kind the desk knows, for a brand, and one way to sign in as them.

The permission tests ask the same question of everyone (STYLE: "every permission-sensitive
entry point has a parametrised test over every role, including anonymous, untrained and
suspended"), so they share the people as well as the question. ``People`` makes each person
the first time a test asks for them, so a test holds only the people it named, and the
rows it counts are not blurred by people it never used.

The kinds, each with a fixed user name ``<kind>.<brand slug>``, the kind as display name and
a signature of its own:

- ``anonymous``: nobody signed in (``None``).
- ``no-desk-record``: a user with an account and no place in any programme.
- ``volunteer-without-standing``: a volunteer record of the brand's store, and nothing in the
  programme's books yet (no standing, no charter accepted).
- ``untrained``: enrolled, the charter accepted, the training not passed.
- ``trainee``, ``certified``, ``mentor``: the programme's levels, trained a month ago.
- ``suspended``: certified, then suspended by a supervisor.
- ``supervisor``: supervisor of the store; ``supervisor-other-store`` of the brand's other
  store.
- ``agency``: the agency's staff, read only.
- ``admin``: the brand's administrator.
- ``other-brand-volunteer``, ``other-brand-supervisor``, ``other-brand-agency``: staff of
  another brand, which has its own charter when this one has.

Members with a standing accept the brand's charter in force when they are made, if there is
one. Supervisors and admins hold no standing unless ``staff_level`` names one (a supervisor
who also answers questions).

``log_in(client, who)`` signs a test client in; ``log_in_browser`` signs a browser in
through the login form, for the browser tests.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from helpdesk.models import Brand, Role, Store, Volunteer
from tests.factories import make_brand, make_standing, make_store, make_volunteer

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, ViewportSize

PASSWORD = "correct horse battery"  # what tests.factories.make_volunteer sets

ANONYMOUS = "anonymous"
NO_DESK_RECORD = "no-desk-record"
WITHOUT_STANDING = "volunteer-without-standing"
UNTRAINED = "untrained"
TRAINEE = "trainee"
CERTIFIED = "certified"
MENTOR = "mentor"
SUSPENDED = "suspended"
SUPERVISOR = "supervisor"
SUPERVISOR_OTHER_STORE = "supervisor-other-store"
AGENCY = "agency"
ADMIN = "admin"
OTHER_BRAND_VOLUNTEER = "other-brand-volunteer"
OTHER_BRAND_SUPERVISOR = "other-brand-supervisor"
OTHER_BRAND_AGENCY = "other-brand-agency"

KINDS = (
    ANONYMOUS,
    NO_DESK_RECORD,
    WITHOUT_STANDING,
    UNTRAINED,
    TRAINEE,
    CERTIFIED,
    MENTOR,
    SUSPENDED,
    SUPERVISOR,
    SUPERVISOR_OTHER_STORE,
    AGENCY,
    ADMIN,
    OTHER_BRAND_VOLUNTEER,
    OTHER_BRAND_SUPERVISOR,
    OTHER_BRAND_AGENCY,
)
LEVELS = (UNTRAINED, TRAINEE, CERTIFIED, MENTOR, SUSPENDED)

# kind: (role, which store, level or None)
_DESK_RECORDS: dict[str, tuple[str, str, str | None]] = {
    WITHOUT_STANDING: (Role.VOLUNTEER, "store", None),
    UNTRAINED: (Role.VOLUNTEER, "store", UNTRAINED),
    TRAINEE: (Role.VOLUNTEER, "store", TRAINEE),
    CERTIFIED: (Role.VOLUNTEER, "store", CERTIFIED),
    MENTOR: (Role.VOLUNTEER, "store", MENTOR),
    SUSPENDED: (Role.VOLUNTEER, "store", SUSPENDED),
    SUPERVISOR: (Role.SUPERVISOR, "store", "staff"),
    SUPERVISOR_OTHER_STORE: (Role.SUPERVISOR, "other_store", "staff"),
    AGENCY: (Role.AGENCY, "none", None),
    ADMIN: (Role.ADMIN, "none", "staff"),
    OTHER_BRAND_VOLUNTEER: (Role.VOLUNTEER, "none", None),
    OTHER_BRAND_SUPERVISOR: (Role.SUPERVISOR, "none", "staff"),
    OTHER_BRAND_AGENCY: (Role.AGENCY, "none", None),
}
SIGNATURES = {
    WITHOUT_STANDING: "^VW",
    UNTRAINED: "^UN",
    TRAINEE: "^TR",
    CERTIFIED: "^CE",
    MENTOR: "^ME",
    SUSPENDED: "^SS",
    SUPERVISOR: "^SV",
    SUPERVISOR_OTHER_STORE: "^SO",
    AGENCY: "^AG",
    ADMIN: "^AD",
    OTHER_BRAND_VOLUNTEER: "^OV",
    OTHER_BRAND_SUPERVISOR: "^OS",
    OTHER_BRAND_AGENCY: "^OA",
}
SUSPENDED_REASON = "Shared an order number"


def standing_fields(level: str, now: datetime) -> dict[str, Any]:
    """A standing's fields at ``level`` (one of ``LEVELS``) at ``now``."""
    from charter.models import Level

    trained = {
        "trained_at": now - timedelta(days=30),
        "training_expires_at": now + timedelta(days=335),
    }
    table: dict[str, dict[str, Any]] = {
        UNTRAINED: {"level": Level.ENROLLED},
        TRAINEE: {
            "level": Level.TRAINEE,
            "trainee_approved": 3,
            "trainee_rejected": 1,
            **trained,
        },
        CERTIFIED: {"level": Level.CERTIFIED, **trained},
        MENTOR: {"level": Level.MENTOR, **trained},
        SUSPENDED: {
            "level": Level.CERTIFIED,
            "is_suspended": True,
            "suspended_reason": SUSPENDED_REASON,
            "suspended_at": now - timedelta(days=1),
            **trained,
        },
    }
    return table[level]


class People:
    """The people of ``brand``, one of each kind, made when first asked for.

    ``store``: the store the volunteers and the supervisor work in (none: they belong to no
    store, and the supervisor supervises the whole brand). ``other_store``: where
    ``supervisor-other-store`` works, and ``other_brand`` the other brand's people (each
    made when needed). ``staff_level``: the standing of supervisors and admins (none unless
    told). ``now``: when standings start (the time of each person's making unless told).
    """

    def __init__(
        self,
        brand: Brand,
        *,
        store: Store | None = None,
        other_store: Store | None = None,
        other_brand: Brand | None = None,
        staff_level: str | None = None,
        now: datetime | None = None,
    ) -> None:
        self.brand = brand
        self.store = store
        self.other_store = other_store
        self.other_brand = other_brand
        self.staff_level = staff_level
        self.now = now
        self._made: dict[str, Any] = {}

    def user(self, kind: str) -> Any:
        """The user of ``kind`` (``None`` for ``anonymous``)."""
        if kind == ANONYMOUS:
            return None
        if kind == NO_DESK_RECORD:
            if kind not in self._made:
                self._made[kind] = get_user_model().objects.create_user(
                    username=self._username(kind), password=PASSWORD
                )
            return self._made[kind]
        return self.volunteer(kind).user

    def volunteer(self, kind: str) -> Volunteer:
        """The desk record of ``kind``; there is none for ``anonymous`` and
        ``no-desk-record``."""
        if kind not in _DESK_RECORDS:
            raise KeyError(f"{kind!r} has no desk record")
        if kind not in self._made:
            self._made[kind] = self._make(kind)
        made: Volunteer = self._made[kind]
        return made

    def log_in(self, client: Client, kind: str) -> Volunteer | None:
        """Sign ``client`` in as ``kind``; their desk record, if they have one."""
        log_in(client, self.user(kind))
        return self.volunteer(kind) if kind in _DESK_RECORDS else None

    def _username(self, kind: str) -> str:
        return f"{kind}.{self.brand.slug}"

    def _make(self, kind: str) -> Volunteer:
        role, where, level = _DESK_RECORDS[kind]
        brand = self.brand
        if kind.startswith("other-brand-"):
            brand = self._other_brand()
        store = {"store": self.store, "other_store": None, "none": None}[where]
        if where == "other_store":
            if self.other_store is None:
                self.other_store = make_store(self.brand)
            store = self.other_store
        if level == "staff":
            level = self.staff_level
        volunteer = make_volunteer(
            brand,
            role=role,
            store=store,
            username=self._username(kind),
            display_name=kind,
            signature=SIGNATURES[kind],
        )
        if level is not None:
            self._enter(volunteer, brand, level)
        return volunteer

    def _enter(self, volunteer: Volunteer, brand: Brand, level: str) -> None:
        """Give ``volunteer`` a standing at ``level`` and their acceptance of the charter in
        force, if there is one."""
        from charter.acceptance import binding_version
        from charter.models import CharterAcceptance

        now = self.now or timezone.now()
        make_standing(volunteer.user, brand, **standing_fields(level, now))
        binding = binding_version(brand.pk, now)
        if binding is not None:
            CharterAcceptance.objects.create(user=volunteer.user, version=binding, accepted_at=now)

    def _other_brand(self) -> Brand:
        if self.other_brand is None:
            from charter.acceptance import binding_version
            from tests.factories import publish_charter

            self.other_brand = make_brand()
            if binding_version(self.brand.pk, self.now or timezone.now()) is not None:
                publish_charter(self.other_brand)
        return self.other_brand


def log_in(client: Client, who: Volunteer | User | None) -> None:
    """Sign ``client`` in as ``who`` (a desk record or a user); ``None`` stays anonymous."""
    if who is None:
        return
    client.force_login(who.user if isinstance(who, Volunteer) else who)


def log_in_browser(
    browser: Browser,
    server_url: str,
    username: str,
    *,
    viewport: ViewportSize,
    locale: str | None = None,
    password: str | None = None,
    timeout_ms: float = 15_000,
    accept_downloads: bool = False,
    watch: Callable[[Page], None] | None = None,
) -> Page:
    """A new browser context at ``server_url``, signed in as ``username`` through the login
    form (``anonymous``: not signed in; the password is the demo people's unless told); its
    page, which waits ``timeout_ms`` for anything. ``watch`` sees the page before it loads
    anything (to listen to its console, say)."""
    if password is None:
        from helpdesk.management.commands.seed_demo import DEMO_PASSWORD

        password = DEMO_PASSWORD
    context = browser.new_context(
        base_url=server_url, viewport=viewport, locale=locale, accept_downloads=accept_downloads
    )
    page = context.new_page()
    page.set_default_timeout(timeout_ms)
    if watch is not None:
        watch(page)
    if username != ANONYMOUS:
        page.goto("/accounts/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.locator("form").filter(has=page.locator("input[name=password]")).locator(
            "[type=submit]"
        ).click()
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
    return page
