"""Who is in the made-up history: its topics, its people (with their standing and the
charter accepted), and the shifts they worked."""

from __future__ import annotations

import random
import unicodedata
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model

from charter.models import CharterAcceptance, CharterVersion, Level, Standing
from helpdesk.models import Brand, Role, Store, Volunteer
from helpdesk.reports.demo_history.moments import local_moment
from routing.models import Shift, Topic

HISTORY_USER_PREFIX = "history-"

TOPICS = (
    ("orders", "Orders"),
    ("delivery", "Delivery"),
    ("returns", "Returns"),
    ("computers", "Computers"),
    ("mobile", "Mobile"),
    ("tv-audio", "TV & audio"),
    ("appliances", "Appliances"),
)
HISTORY_PEOPLE = (
    ("Maya Chen", "NW-SEA"),
    ("Owen Brooks", "NW-SEA"),
    ("Priya Nair", "NW-PDX"),
    ("Lucas Meyer", "NW-PDX"),
    ("Grace Kim", "NW-PDX"),
    ("Ethan Ward", "NW-CHI"),
    ("Zoe Martin", "NW-CHI"),
    ("Noah Rivera", "NW-CHI"),
    ("Aisha Bello", "NW-ATX"),
    ("Diego Ruiz", "NW-ATX"),
    ("Hannah Scott", "NW-ATX"),
    ("Liam O'Connor", "NW-NYC"),
    ("Sofia Rossi", "NW-NYC"),
    ("Ben Adler", "NW-NYC"),
    ("Chloé Gagnon", "NW-MTL"),
    ("Félix Roy", "NW-MTL"),
    ("Léa Bouchard", "NW-QUE"),
    ("Émile Côté", "NW-QUE"),
    ("Nadia Pelletier", "NW-QUE"),
    ("Jonas Berg", "NW-SEA"),
)
FRENCH_STORES = frozenset({"NW-MTL", "NW-QUE"})
LEVEL_CYCLE = (Level.CERTIFIED, Level.CERTIFIED, Level.TRAINEE, Level.CERTIFIED, Level.MENTOR)


def ensure_topics(brand: Brand) -> list[Topic]:
    topics = []
    for slug, name in TOPICS:
        topic, _ = Topic.objects.get_or_create(brand=brand, slug=slug, defaults={"name": name})
        topics.append(topic)
    return topics


def make_people(brand: Brand, stores: dict[str, Store], now: datetime) -> list[Volunteer]:
    users = get_user_model().objects
    version = CharterVersion.objects.filter(brand=brand).order_by("-number").first()
    made = []
    for n, (name, code) in enumerate(HISTORY_PEOPLE):
        plain = unicodedata.normalize("NFKD", name.split()[0]).encode("ascii", "ignore")
        username = HISTORY_USER_PREFIX + plain.decode().lower()
        first, _, last = name.partition(" ")
        user = users.create_user(username=username, first_name=first, last_name=last)
        user.set_unusable_password()
        user.save(update_fields=["password"])
        french = code in FRENCH_STORES
        volunteer = Volunteer.objects.create(
            user=user,
            brand=brand,
            store=stores[code],
            role=Role.VOLUNTEER,
            display_name=name,
            signature="^" + "".join(part[0] for part in name.split())[:3].upper(),
            languages=["fr", "en"] if french else ["en"],
            skills=[slug for slug, _name in TOPICS],
        )
        level = LEVEL_CYCLE[n % len(LEVEL_CYCLE)]
        Standing.objects.create(
            user=user,
            brand=brand,
            level=level,
            trained_at=now - timedelta(days=200),
            training_expires_at=now + timedelta(days=165 if n != 7 else -5),
            certified_at=None if level == Level.TRAINEE else now - timedelta(days=150),
        )
        if version is not None:
            CharterAcceptance.objects.create(user=user, version=version, accepted_at=now)
        made.append(volunteer)
    return made


def make_shifts(
    brand: Brand,
    people: list[Volunteer],
    first_day: date,
    days: int,
    zone: ZoneInfo,
    rng: random.Random,
    now: datetime,
) -> int:
    shifts = []
    for person in people:
        for offset in range(days):
            if rng.random() > 0.45:
                continue
            day = first_day + timedelta(days=offset)
            start = local_moment(day, rng.uniform(8, 18) * 3600, zone)
            end = start + timedelta(hours=rng.uniform(1.5, 5))
            if end >= now:
                continue
            shifts.append(
                Shift(
                    user=person.user,
                    brand=brand,
                    started_at=start,
                    last_seen_at=end,
                    ended_at=end,
                    end_reason="ended",
                )
            )
    Shift.objects.bulk_create(shifts, batch_size=1000)
    return len(shifts)
