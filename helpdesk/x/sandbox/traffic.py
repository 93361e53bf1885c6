"""Realistic customer traffic: real care conversations (IBM's Twitter customer-care corpus,
Apache-2.0, see data/LICENSE-twitter-care) and French questions, addressed to the
registered care accounts, plus the odd retweet and spam so the desk's filters get work.
"""

from __future__ import annotations

import heapq
import json
import logging
import random
import re
import threading
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .errors import ApiError
from .records import MENTION_RE, SandboxAccount, Tweet, User, x_unescaped
from .world import World

logger = logging.getLogger("helpdesk.x.sandbox")

DATA_DIR = Path(__file__).resolve().parent / "data"
RETWEET_SHARE = 0.03
CHATTER_SHARE = 0.04
FRENCH_SHARE = 1 / 8

CHATTER = (
    "{handle} 🔥🔥🔥",
    "lol {handle} at it again",
    "{handle} first!",
    "Win a FREE iPhone 15 💸 just follow + RT 👉 https://bit.ly/free-phone-4u {handle}",
    "🚀 Crypto signals 500% gains guaranteed DM me {handle} #crypto #bitcoin",
    "{handle} good morning everyone ☀️",
    "Just saw the new ad from {handle} on TV, nice one",
    "{handle} 😂😂",
)
CHATTER_USERS = ("promo_deals_4u", "moon_signals_77", "lurker_jo", "chloe_lol_22")
BRAND_POSTS = (
    "We're here to help 7 days a week, 8am to 10pm. Tweet us your question and a team member "
    "will get back to you.",
    "Heads up: our website will be down for maintenance tonight from 1am to 3am. Thanks for "
    "your patience!",
    "New in store this week: trade in your old phone and get up to 150 off a new one.",
    "Bonjour ! Notre équipe vous répond 7j/7 de 8h à 22h. Posez-nous vos questions ici.",
)
BIOS = (
    "Dad, gamer, coffee addict ☕",
    "she/her · 📍 Manchester",
    "Just here for the memes",
    "Photographer. Views my own.",
    "Passionnée de rando et de jeux vidéo 🎮",
    "Étudiant en informatique · Nantes",
)
FRENCH_FIRST_NAMES = (
    "camille",
    "julie",
    "thomas",
    "lea",
    "nicolas",
    "manon",
    "hugo",
    "ines",
    "lucas",
    "chloe",
    "mathieu",
    "sarah",
    "antoine",
    "emma",
    "karim",
    "sophie",
    "yanis",
    "pauline",
)


@dataclass(frozen=True)
class Conversation:
    company: str
    customer: str
    messages: tuple[str, ...]


@dataclass(frozen=True)
class FrenchQuestion:
    text: str
    followups: tuple[str, ...]


@cache
def load_conversations() -> tuple[Conversation, ...]:
    """The corpus conversations, each with its main customer's messages in order, as the
    customers wrote them (the corpus was recorded from X, entities and all)."""
    raw = json.loads((DATA_DIR / "twitter-care-dev.json").read_text(encoding="utf-8"))
    conversations = []
    for dialog in raw:
        turns = dialog["dialogContent"]
        customer = turns[0]["client"]
        messages = tuple(x_unescaped(t["message"]) for t in turns if t.get("client") == customer)
        conversations.append(Conversation(dialog["dialogHeader"]["company"], customer, messages))
    return tuple(conversations)


@cache
def load_french_questions() -> tuple[FrenchQuestion, ...]:
    raw = json.loads((DATA_DIR / "french_questions.json").read_text(encoding="utf-8"))
    return tuple(FrenchQuestion(q["text"], tuple(q["followups"])) for q in raw)


def _common_run(a: str, b: str) -> int:
    best = 0
    for i in range(len(a)):
        for j in range(len(b)):
            k = 0
            while i + k < len(a) and j + k < len(b) and a[i + k] == b[j + k]:
                k += 1
            best = max(best, k)
    return best


def is_brand_handle(handle: str, company: str) -> bool:
    """Whether ``@handle`` addresses the brand (``@YouTube`` for ``TeamYouTube``)."""
    h, c = handle.lower(), company.lower()
    return (len(h) >= 4 and h in c) or c in h or _common_run(h, c) >= 5


def retarget(message: str, company: str, handle: str) -> str:
    """The customer's text with its first mention of the brand replaced by ``@handle`` and
    further brand mentions dropped; ``@handle`` is put first when the brand wasn't named."""
    replaced = False

    def swap(match: re.Match[str]) -> str:
        nonlocal replaced
        if not is_brand_handle(match.group(1), company):
            return match.group(0)
        if replaced:
            return ""
        replaced = True
        return f"@{handle}{match.group(2)}"

    text = re.sub(MENTION_RE.pattern + r"(\s?)", swap, message)
    return text if replaced else f"@{handle} {message}"


class TrafficGenerator:
    """Posts customer tweets into the world at ``rate`` per second (Poisson arrivals)."""

    def __init__(
        self,
        world: World,
        *,
        rate: float = 0.0,
        seed: int | None = None,
        followup_delay: tuple[float, float] = (3.0, 30.0),
    ) -> None:
        self.world = world
        self.followup_delay = followup_delay
        self._rng = random.Random(seed)
        self._rate = float(rate)
        self._generated = 0
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._followups: list[tuple[float, int, str, str, str]] = []
        self._sequence = 0

    @property
    def rate(self) -> float:
        return self._rate

    @property
    def generated(self) -> int:
        return self._generated

    def set_rate(self, rate: float) -> None:
        self._rate = max(0.0, float(rate))
        self._wake.set()

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="x-sandbox-traffic", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        next_at: float | None = None
        while not self._stop.is_set():
            now = time.monotonic()
            try:
                self._post_due_followups(now)
                rate = self._rate
                if rate <= 0:
                    next_at = None
                elif next_at is None:
                    next_at = now + self._rng.expovariate(rate)
                elif now >= next_at:
                    self.emit()
                    next_at = max(next_at + self._rng.expovariate(rate), now - 1.0)
            except (ApiError, ValueError, LookupError):
                logger.exception("traffic generator skipped a tweet")
            with self._lock:
                due = self._followups[0][0] if self._followups else now + 1.0
            timeout = min(due, next_at if next_at is not None else now + 1.0) - now
            if timeout > 0:
                self._wake.wait(min(timeout, 1.0))
                self._wake.clear()

    def _post_due_followups(self, now: float) -> None:
        while True:
            with self._lock:
                if not self._followups or self._followups[0][0] > now:
                    return
                _, _, author_id, text, reply_to = heapq.heappop(self._followups)
            author = self.world.user(author_id)
            if author is not None and self.world.tweet(reply_to) is not None:
                self.world.inject(author, text, in_reply_to=reply_to)
                self._generated += 1

    def _schedule(self, author: User, texts: list[str], reply_to: str) -> None:
        due = time.monotonic()
        with self._lock:
            for text in texts:
                due += self._rng.uniform(*self.followup_delay)
                self._sequence += 1
                heapq.heappush(self._followups, (due, self._sequence, author.id, text, reply_to))
        self._wake.set()

    def emit(self) -> Tweet | None:
        """Post one new customer tweet now (follow-ups are scheduled for later)."""
        accounts = self.world.accounts()
        if not accounts:
            return None
        roll = self._rng.random()
        if roll < RETWEET_SHARE:
            tweet = self._retweet(self._rng.choice(accounts))
        elif roll < RETWEET_SHARE + CHATTER_SHARE:
            tweet = self._chatter(self._rng.choice(accounts))
        elif self._rng.random() < FRENCH_SHARE:
            tweet = self._french(accounts)
        else:
            tweet = self._corpus(accounts)
        if tweet is not None:
            self._generated += 1
        return tweet

    def _customer(self, username: str, name: str | None = None) -> User | None:
        bio = self._rng.choice(BIOS) if self._rng.random() < 0.25 else ""
        user_id = str(self._rng.randrange(10**15, 10**18))
        user: User | None
        try:
            user = self.world.add_user(
                username, name=name, description=bio, user_id=user_id, origin="traffic"
            )
        except ValueError:
            user = self.world.user_named(username)
        return None if user is None or user.is_account else user

    def _corpus(self, accounts: list[SandboxAccount]) -> Tweet | None:
        pool = [a for a in accounts if a.language[:2].lower() in ("", "en")] or accounts
        account = self._rng.choice(pool)
        conversation = self._rng.choice(load_conversations())
        customer = self._customer(conversation.customer)
        if customer is None:
            return None
        texts = [retarget(m, conversation.company, account.username) for m in conversation.messages]
        first = self.world.inject(customer, texts[0])
        self._schedule(customer, texts[1:], first.id)
        return first

    def _french(self, accounts: list[SandboxAccount]) -> Tweet | None:
        pool = [a for a in accounts if a.language[:2].lower() == "fr"] or accounts
        account = self._rng.choice(pool)
        question = self._rng.choice(load_french_questions())
        first_name = self._rng.choice(FRENCH_FIRST_NAMES)
        suffix = self._rng.choice(("_", ""))
        username = f"{first_name}{suffix}{self._rng.randrange(10, 9999)}"
        name = f"{first_name.capitalize()} {self._rng.choice('ABCDGLMPRT')}."
        customer = self._customer(username, name)
        if customer is None:
            return None
        mention = f"@{account.username}"
        first = self.world.inject(customer, question.text.replace("{handle}", mention), lang="fr")
        followups = [text.replace("{handle}", mention) for text in question.followups]
        self._schedule(customer, followups, first.id)
        return first

    def _chatter(self, account: SandboxAccount) -> Tweet | None:
        author = self._customer(self._rng.choice(CHATTER_USERS))
        if author is None:
            return None
        text = self._rng.choice(CHATTER).replace("{handle}", f"@{account.username}")
        return self.world.inject(author, text)

    def _retweet(self, account: SandboxAccount) -> Tweet | None:
        brand = self.world.user(account.user_id)
        if brand is None:
            return None
        posts, _ = self.world.timeline(
            "author", key=brand.id, limit=20, predicate=lambda t: not t.referenced
        )
        post = self._rng.choice(posts) if posts else None
        if post is None:
            post = self.world.inject(brand, self._rng.choice(BRAND_POSTS))
        conversation = self._rng.choice(load_conversations())
        customer = self._customer(conversation.customer)
        if customer is None:
            return None
        return self.world.inject(customer, "", retweet_of=post.id)
