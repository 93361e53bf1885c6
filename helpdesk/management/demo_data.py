"""The demo brand's programme: its care accounts, stores and hours, people, charter and saved
replies (seed_demo creates them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from typing import Any, TypeVar

from django.db import models

from charter.models import Level
from helpdesk.management.demo_routing import ALL_TOPICS
from helpdesk.models import Role

ACCOUNTS: list[dict[str, Any]] = [
    {
        "x_user_id": "1600000000000000001",
        "username": "NorthwindHelp",
        "language": "en",
    },
    {
        "x_user_id": "1600000000000000002",
        "username": "NorthwindAide",
        "language": "fr",
    },
]


# Where each demo person stands in the programme (agency staff are not in it).
LEVELS: dict[str, Level] = {
    "alice": Level.CERTIFIED,
    "bruno": Level.CERTIFIED,
    "camille": Level.MENTOR,
    "dev": Level.TRAINEE,
    "sam": Level.CERTIFIED,
    "admin": Level.CERTIFIED,
    # Mentors: a small share of their replies is sampled for review, the rest goes out.
    **{colleague: Level.MENTOR for colleague in ("sim-rosa", "sim-kofi", "sim-ines", "sim-tom")},
}


CHARTER_TITLE = "Northwind care charter"


CHARTER_BODY = """\
You answer customers in public, on behalf of Northwind Electronics.

1. **Say who you are.** Sign every reply with your signature (for example ^AM) so
   customers know an employee answered.
2. **Answer on company time**, from the desk, while you are on shift.
3. **Use qualifiers.** Say "usually", "about" or "approximately" for times and amounts
   you cannot guarantee.
4. **Link, don't quote.** Point to northwind.example for prices, offers and policies;
   any offer needs its disclaimer, so a supervisor approves it first.
5. **Never share personal details**: no phone numbers, emails, addresses or order
   numbers in public. Ask the customer to send them by direct message.
6. **Check who is asking.** Don't answer spam, bait or anyone pretending to be a customer.
"""


M = TypeVar("M", bound=models.Model)


STORES: list[dict[str, str]] = [
    {
        "code": "NW-SEA",
        "name": "Northwind Seattle Downtown",
        "region": "US West",
        "time_zone": "America/Los_Angeles",
    },
    {
        "code": "NW-CHI",
        "name": "Northwind Chicago Loop",
        "region": "US Midwest",
        "time_zone": "",
    },
    {
        "code": "NW-MTL",
        "name": "Northwind Montréal Centre-Ville",
        "region": "Canada East",
        "time_zone": "America/Toronto",
    },
    # Stores whose people answered in the months of history the reports show.
    {
        "code": "NW-PDX",
        "name": "Northwind Portland Pearl",
        "region": "US West",
        "time_zone": "America/Los_Angeles",
    },
    {"code": "NW-ATX", "name": "Northwind Austin South", "region": "US South", "time_zone": ""},
    {
        "code": "NW-NYC",
        "name": "Northwind New York Midtown",
        "region": "US East",
        "time_zone": "America/New_York",
    },
    {
        "code": "NW-QUE",
        "name": "Northwind Québec Sainte-Foy",
        "region": "Canada East",
        "time_zone": "America/Toronto",
    },
]


# The brand's days and weeks (reports) and its care hours (business time), local time.
BRAND_TIME_ZONE = "America/Chicago"


CARE_HOURS = [(weekday, time(8), time(20)) for weekday in range(5)] + [
    (weekday, time(10), time(18)) for weekday in (5, 6)
]


@dataclass(frozen=True)
class Person:
    username: str
    display_name: str
    role: Role
    store: str = ""
    languages: tuple[str, ...] = ("en",)
    skills: tuple[str, ...] = ()
    signature: str = ""
    note: str = ""


# Whoever tries the demo sees the whole live queue, and can still filter it by topic; Dev, the
# trainee, starts with the shop-floor topics only.
PEOPLE: list[Person] = [
    Person(
        "alice",
        "Alice Moreau",
        Role.VOLUNTEER,
        store="NW-SEA",
        skills=ALL_TOPICS,
        signature="^AM",
    ),
    Person(
        "bruno",
        "Bruno Silva",
        Role.VOLUNTEER,
        store="NW-CHI",
        skills=ALL_TOPICS,
        signature="^BS",
    ),
    Person(
        "camille",
        "Camille Tremblay",
        Role.VOLUNTEER,
        store="NW-MTL",
        languages=("fr", "en"),
        skills=ALL_TOPICS,
        signature="^CT",
        note="French-speaking",
    ),
    Person(
        "dev",
        "Dev Patel",
        Role.VOLUNTEER,
        store="NW-SEA",
        skills=("orders", "delivery", "returns", "store"),
        signature="^DP",
        note="trainee",
    ),
    Person(
        "sam",
        "Sam Okafor",
        Role.SUPERVISOR,
        store="NW-CHI",
        languages=("en", "fr"),
        skills=ALL_TOPICS,
        signature="^SO",
    ),
    Person("agnes", "Agnes Varga", Role.AGENCY, note="read-only monitoring"),
    Person("admin", "Demo Admin", Role.ADMIN, languages=("en", "fr"), note="superuser"),
]


# Simulated colleagues (``helpdesk.management.demo_colleagues``): mentors who answer at a
# human pace while the demo runs, so the queue stays as a working desk's would. Nobody logs in
# as them (no usable password); they claim and reply through the desk's own actions.
COLLEAGUES: list[Person] = [
    Person(
        "sim-rosa",
        "Rosa Lind",
        Role.VOLUNTEER,
        store="NW-SEA",
        skills=ALL_TOPICS,
        signature="^RL",
        note="simulated",
    ),
    Person(
        "sim-kofi",
        "Kofi Mensah",
        Role.VOLUNTEER,
        store="NW-CHI",
        skills=ALL_TOPICS,
        signature="^KM",
        note="simulated",
    ),
    Person(
        "sim-ines",
        "Inès Caron",
        Role.VOLUNTEER,
        store="NW-MTL",
        languages=("fr", "en"),
        skills=ALL_TOPICS,
        signature="^IC",
        note="simulated",
    ),
    Person(
        "sim-tom",
        "Tom Becker",
        Role.VOLUNTEER,
        store="NW-PDX",
        skills=ALL_TOPICS,
        signature="^TB",
        note="simulated",
    ),
]


# Ready-made answers (all topics: the demo has no topics). Written by the supervisor.
SAVED_REPLIES: list[dict[str, str]] = [
    {
        "title": "Order status: ask for a DM",
        "language": "en",
        "body": (
            "{customer} Sorry for the wait! Please send us a DM with your order number so we "
            "can look it up; we never ask for it in public. {signature}"
        ),
    },
    {
        "title": "Delivery times",
        "language": "en",
        "body": (
            "{customer} Standard delivery usually takes 3 to 5 business days. You can follow "
            "your parcel at https://northwind.example/track {signature}"
        ),
    },
    {
        "title": "Store pickup",
        "language": "en",
        "body": (
            "{customer} Hi, {first_name} from {store} here. Pickup orders are usually ready in "
            "about 2 hours, and you get a text when yours is. {signature}"
        ),
    },
    {
        "title": "Returns: where to start",
        "language": "en",
        "body": (
            "{customer} Most items can usually be returned within 30 days. Everything you need "
            "is at https://northwind.example/returns {signature}"
        ),
    },
    {
        "title": "Suivi de commande : message privé",
        "language": "fr",
        "body": (
            "{customer} Désolé pour l'attente ! Envoyez-nous votre numéro de commande en "
            "message privé pour que nous puissions vérifier. {signature}"
        ),
    },
    {
        "title": "Retrait en magasin",
        "language": "fr",
        "body": (
            "{customer} Bonjour, ici {first_name} de {store}. Une commande à retirer est "
            "généralement prête en 2 heures environ, et vous recevez un texto. {signature}"
        ),
    },
]


SAVED_REPLIES_AUTHOR = "sam"
