"""``manage.py seed_demo``: the demo brand, its care accounts, stores and people.

Idempotent: every record is looked up by its natural key and brought back to the demo's
values, so a second run changes nothing and says so. Everyone gets one memorable demo
password, which is why the command refuses to run with DEBUG off unless ``--force``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from charter.acceptance import accept_charter, publish_version
from charter.models import (
    CharterVersion,
    Level,
    LinterSettings,
    QuizAttempt,
    Standing,
    TrainingModule,
)
from helpdesk.management.commands.seed_training import seed_brand
from helpdesk.management.demo_data import (
    ACCOUNTS,
    BRAND_TIME_ZONE,
    CARE_HOURS,
    CHARTER_BODY,
    CHARTER_TITLE,
    COLLEAGUES,
    LEVELS,
    PEOPLE,
    SAVED_REPLIES,
    SAVED_REPLIES_AUTHOR,
    STORES,
    M,
    Person,
)
from helpdesk.management.demo_pace import HISTORY_PER_DAY
from helpdesk.management.demo_routing import DEMO_TOPICS
from helpdesk.models import Brand, Role, SavedReply, Store, Volunteer, XAccount
from helpdesk.reports.demo_history import HistorySummary, make_history
from helpdesk.reports.models import Holiday, OpeningHours
from routing.models import RoutingRule, RuleEffect, RuleKind, Topic

DEMO_PASSWORD = "helpforce-demo"  # noqa: S105 - printed on purpose; refused in production
BRAND = {"slug": "northwind", "name": "Northwind Electronics"}

POLL_INTERVAL_SECONDS = 2


@dataclass
class Tally:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


def _ensure(
    tally: Tally,
    label: str,
    model: type[M],
    lookup: Mapping[str, Any],
    values: Mapping[str, Any],
) -> M:
    """The row matching ``lookup``, created or brought back to ``values``."""
    row = model._default_manager.filter(**lookup).first()
    if row is None:
        tally.created.append(label)
        return model._default_manager.create(**lookup, **values)
    stale = [name for name, value in values.items() if getattr(row, name) != value]
    if stale:
        for name in stale:
            setattr(row, name, values[name])
        row.save(update_fields=stale)
        tally.updated.append(f"{label} ({', '.join(stale)})")
    return row


def account_credentials(username: str) -> dict[str, str]:
    """Sandbox-only credentials, fake on their face, derived from the handle."""
    handle = username.lower()
    return {
        "bearer_token": f"demo-bearer-{handle}",
        "consumer_key": f"demo-consumer-key-{handle}",
        "consumer_secret": f"demo-consumer-secret-{handle}",
        "access_token": f"demo-access-token-{handle}",
        "access_token_secret": f"demo-access-secret-{handle}",
    }


def seed(tally: Tally) -> Brand:
    """Create or restore the demo records; what changed goes into ``tally``."""
    brand = _ensure(
        tally,
        "brand northwind",
        Brand,
        {"slug": BRAND["slug"]},
        # One supervisor for seven stores: they review and manage the whole brand.
        {"name": BRAND["name"], "time_zone": BRAND_TIME_ZONE, "supervision_scope": "brand"},
    )
    for spec in ACCOUNTS:
        _ensure(
            tally,
            f"X account @{spec['username']}",
            XAccount,
            {"x_user_id": spec["x_user_id"]},
            {
                "brand": brand,
                "username": spec["username"],
                "language": spec["language"],
                "is_active": True,
                "poll_interval_seconds": POLL_INTERVAL_SECONDS,
                **account_credentials(spec["username"]),
            },
        )
    stores = {
        spec["code"]: _ensure(
            tally,
            f"store {spec['code']}",
            Store,
            {"brand": brand, "code": spec["code"]},
            {"name": spec["name"], "region": spec["region"], "time_zone": spec["time_zone"]},
        )
        for spec in STORES
    }
    for person in PEOPLE:
        _seed_person(tally, brand, stores, person, password=DEMO_PASSWORD)
    for person in COLLEAGUES:
        _seed_person(tally, brand, stores, person, password=None)
    seed_routing(tally, brand)
    seed_programme(tally, brand)
    seed_saved_replies(tally, brand)
    seed_report_settings(tally, brand)
    return brand


def _seed_person(
    tally: Tally,
    brand: Brand,
    stores: dict[str, Store],
    person: Person,
    *,
    password: str | None,
) -> None:
    """The person's user and volunteer rows; ``password`` None: nobody logs in as them."""
    is_admin = person.role == Role.ADMIN
    first, _, last = person.display_name.partition(" ")
    user = _ensure(
        tally,
        f"user {person.username}",
        get_user_model(),
        {"username": person.username},
        {
            "first_name": first,
            "last_name": last,
            "email": f"{person.username}@northwind.example",
            "is_active": True,
            "is_staff": is_admin,
            "is_superuser": is_admin,
        },
    )
    if password is None:
        if user.has_usable_password():
            user.set_unusable_password()
            user.save(update_fields=["password"])
    elif not check_password(password, user.password):
        user.set_password(password)
        user.save(update_fields=["password"])
        if f"user {person.username}" not in tally.created:
            tally.updated.append(f"user {person.username} (password)")
    _ensure(
        tally,
        f"volunteer {person.username}",
        Volunteer,
        {"user": user},
        {
            "brand": brand,
            "store": stores[person.store] if person.store else None,
            "role": person.role,
            "display_name": person.display_name,
            "signature": person.signature,
            "languages": list(person.languages),
            "skills": list(person.skills),
        },
    )


def seed_routing(tally: Tally, brand: Brand) -> None:
    """The demo's topics and the rules that set them (``demo_routing``), so sandbox
    questions arrive with a topic. Rules are looked up by name; one an admin switched off
    stays off, and rules an admin added are left alone."""
    for position, spec in enumerate(DEMO_TOPICS, start=1):
        topic = _ensure(
            tally,
            f"topic {spec.slug}",
            Topic,
            {"brand": brand, "slug": spec.slug},
            {"name": spec.name},
        )
        rule_name = f"{spec.name}: its words (EN/FR)"
        existing = RoutingRule.objects.filter(brand=brand, name=rule_name).first()
        if existing is not None and not existing.is_active:
            continue
        _ensure(
            tally,
            f"routing rule {spec.slug}",
            RoutingRule,
            {"brand": brand, "name": rule_name},
            {
                "kind": RuleKind.REGEX,
                "pattern": spec.pattern,
                "effect": RuleEffect.TOPIC,
                "topic": topic,
                "position": position * 10,
            },
        )


def seed_report_settings(tally: Tally, brand: Brand) -> None:
    """The brand's care hours and this year's and next year's main holidays, for the
    reports' business time; left alone once an admin has set any."""
    if not OpeningHours.objects.filter(brand=brand).exists():
        OpeningHours.objects.bulk_create(
            OpeningHours(brand=brand, weekday=weekday, opens_at=opens, closes_at=closes)
            for weekday, opens, closes in CARE_HOURS
        )
        tally.created.append("care hours")
    if not Holiday.objects.filter(brand=brand).exists():
        year = timezone.now().year
        Holiday.objects.bulk_create(
            Holiday(brand=brand, date=date(y, month, day), name=name)
            for y in (year - 1, year, year + 1)
            for month, day, name in (
                (1, 1, "New Year's Day"),
                (7, 4, "Independence Day"),
                (12, 25, "Christmas Day"),
            )
        )
        tally.created.append("holidays")


HISTORY_DAYS = 120


def seed_history(brand: Brand, days: int = HISTORY_DAYS) -> HistorySummary:
    """Months of questions, replies and shifts for the reports (once)."""
    return make_history(brand, per_day=HISTORY_PER_DAY, days=days)


def seed_saved_replies(tally: Tally, brand: Brand) -> None:
    """The demo's saved replies, looked up by title; archived ones are put back."""
    author = get_user_model().objects.get(username=SAVED_REPLIES_AUTHOR)
    for spec in SAVED_REPLIES:
        _ensure(
            tally,
            f"saved reply {spec['title']}",
            SavedReply,
            {"brand": brand, "title": spec["title"]},
            {
                "body": spec["body"],
                "language": spec["language"],
                "topic": None,
                "is_active": True,
                "created_by": author,
                "updated_by": author,
            },
        )


def seed_programme(tally: Tally, brand: Brand) -> None:
    """The charter, linter rules, training modules and each person's standing. Progress a
    person made since (a promotion, a later acceptance) is left as it is."""
    if not CharterVersion.objects.filter(brand=brand).exists():
        publish_version(
            brand.pk, title=CHARTER_TITLE, body=CHARTER_BODY, is_material=True, actor=None
        )
        tally.created.append("charter v1")
    if seed_brand(brand):
        tally.created.append("training modules")
    _ensure(
        tally,
        "linter settings",
        LinterSettings,
        {"brand": brand},
        {"allowed_domains": ["northwind.example"], "require_signature": True},
    )
    version = CharterVersion.objects.filter(brand=brand).order_by("-number").first()
    now = timezone.now()
    user_model = get_user_model()
    for username, level in LEVELS.items():
        user = user_model.objects.get(username=username)
        if not Standing.objects.filter(user=user, brand=brand).exists():
            Standing.objects.create(
                user=user,
                brand=brand,
                level=level,
                trained_at=now,
                training_expires_at=now + timedelta(days=365),
                certified_at=now if level != Level.TRAINEE else None,
            )
            tally.created.append(f"standing {username}")
            # Their training is recorded as passed: so is each required module, or the
            # training page would say "valid until" above modules "not passed yet".
            QuizAttempt.objects.bulk_create(
                QuizAttempt(
                    user=user,
                    module=module,
                    started_at=now,
                    submitted_at=now,
                    score_percent=100,
                    passed=True,
                )
                for module in TrainingModule.objects.filter(brand=brand, is_required=True)
            )
        if version is not None and not user.charter_acceptances.filter(version=version).exists():
            accept_charter(user, version, ip_address=None, user_agent="seed_demo")
            tally.created.append(f"charter acceptance {username}")


class Command(BaseCommand):
    help = (
        "Create the demo brand Northwind Electronics with two care accounts, three stores "
        "and demo users (volunteers, a supervisor, agency staff, an admin). Idempotent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Seed even with DEBUG off. The demo users share a published password.",
        )
        parser.add_argument(
            "--history-days",
            type=int,
            default=HISTORY_DAYS,
            choices=range(1, 367),
            metavar="1-366",
            help=f"Days of past questions for the reports (default {HISTORY_DAYS}).",
        )
        parser.add_argument(
            "--no-history",
            action="store_true",
            help="Leave out the months of past questions the reports show (a bare desk).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "DEBUG is off: seed_demo gives every demo user the same published password, "
                "which must never reach production by accident. Use --force if you mean it."
            )
        if not settings.DEBUG:
            self.stderr.write(
                self.style.WARNING(f"DEBUG is off; seeding demo users with {DEMO_PASSWORD!r}.")
            )
        tally = Tally()
        with transaction.atomic():
            brand = seed(tally)
        history = (
            HistorySummary(skipped=True)
            if options["no_history"]
            else seed_history(brand, options["history_days"])
        )
        if not history.skipped:
            tally.created.append("history")
            self.stdout.write(
                f"History for the reports: {history.questions} questions, {history.replies} "
                f"replies, {history.shifts} shifts of {history.people} more volunteers over "
                "the last 120 days."
            )
        if tally.changed:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo data seeded: {len(tally.created)} created, {len(tally.updated)} updated."
                )
            )
            for label in tally.updated:
                self.stdout.write(f"  updated {label}")
        else:
            self.stdout.write("Demo data already in place: nothing changed.")
        self.stdout.write(self._logins())

    def _logins(self) -> str:
        width = max(len(p.username) for p in PEOPLE)
        lines = [
            "",
            # No address: the desk is wherever `manage.py demo --host/--port` puts it, and
            # it says so when it starts.
            f"Log in to the desk (`python manage.py demo` prints its address) as any of these, "
            f"password {DEMO_PASSWORD!r}:",
        ]
        for person in PEOPLE:
            note = f", {person.note}" if person.note else ""
            langs = "/".join(person.languages)
            store = f", {person.store}" if person.store else ""
            lines.append(
                f"  {person.username:<{width}}  {person.role.label}{note} ({langs}{store})"
            )
        handles = ", ".join(f"@{a['username']} ({a['language']})" for a in ACCOUNTS)
        lines.append(f"Care accounts: {handles}. Admin site: /admin/ on the desk.")
        return "\n".join(lines)
