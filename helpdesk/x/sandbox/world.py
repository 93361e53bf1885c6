"""The sandbox's in-memory world: users, tweets, credentials, limits and faults.

Every method is thread-safe: the HTTP handler threads and the traffic generator share one
world, guarded by ``world.lock`` (re-entrant, so a caller may hold it across calls).
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import timedelta

from .auth import OAuth2Store, Principal
from .limits import Fault, FaultInjector, RateLimiter
from .posts import Posts
from .records import (
    USERNAME_RE,
    IdGenerator,
    SandboxAccount,
    Tweet,
    User,
    display_name,
)


class World(Posts):
    def __init__(self, *, seed: int | None = None, clock: Callable[[], float] = time.time) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.rng = random.Random(seed)
        self.limits = RateLimiter(clock)
        self.faults = FaultInjector()
        self.oauth2 = OAuth2Store(clock)
        # Check OAuth 1.0a HMAC signatures (against the api.twitter.com URL tweepy signed).
        self.verify_signatures = True
        # Enterprise access lifts the 2026 reply rule (self-serve apps may reply only where
        # the author mentioned or engaged the replying account).
        self.enterprise_access = False
        self._ids = IdGenerator()
        self._accounts: dict[str, SandboxAccount] = {}
        self._clear()

    def _clear(self) -> None:
        self._users: dict[str, User] = {}
        self._by_username: dict[str, User] = {}
        self._tweets: dict[str, Tweet] = {}
        self._all: list[int] = []
        self._by_author: defaultdict[str, list[int]] = defaultdict(list)
        self._by_mention: defaultdict[str, list[int]] = defaultdict(list)
        self._by_text: defaultdict[tuple[str, str], list[str]] = defaultdict(list)
        self.reply_counts: Counter[str] = Counter()
        self.retweet_counts: Counter[str] = Counter()
        self.quote_counts: Counter[str] = Counter()
        self.requests: Counter[str] = Counter()
        self.faults_served: Counter[str] = Counter()
        self.replies_posted: Counter[str] = Counter()
        self.tweets_posted: Counter[str] = Counter()
        # Every API call answered, as X would bill it (see ``api._log_call``).
        self.calls: list[dict[str, object]] = []

    def reset(self, *, keep_accounts: bool = True) -> None:
        """Forget tweets, customers, windows, faults, tokens and counters."""
        with self.lock:
            accounts = list(self._accounts.values()) if keep_accounts else []
            self._accounts.clear()
            self._clear()
            self.limits.reset()
            self.faults.clear()
            self.oauth2.clear()
            self.enterprise_access = False
            for account in accounts:
                self.add_account(account)

    def set_limit(self, endpoint: str, limit: int | None) -> None:
        """Lower (or restore, with None) an endpoint's 15-minute limit, e.g. for tests."""
        self.limits.set_limit(endpoint, limit)

    def add_fault(self, endpoint: str, kind: str, *, count: int = 1, seconds: float = 0.0) -> None:
        """Serve ``kind`` (latency, 5xx, 429, timeout_after_accept) to the next ``count``
        requests to ``endpoint`` (or "*")."""
        self.faults.add(Fault(endpoint, kind, count, seconds))

    # Accounts and users

    def add_account(self, account: SandboxAccount) -> User:
        """Register a care account (or replace the one with the same user id)."""
        if not USERNAME_RE.fullmatch(account.username) or not account.user_id.isdigit():
            raise ValueError("an account needs a valid username and a numeric user id")
        with self.lock:
            holder = self._by_username.get(account.username.lower())
            if holder is not None and holder.id != account.user_id:
                raise ValueError(f"username {account.username!r} belongs to user {holder.id}")
            old = self._users.get(account.user_id)
            if old is not None:
                self._by_username.pop(old.username.lower(), None)
            user = User(
                id=account.user_id,
                username=account.username,
                name=old.name if old else display_name(account.username),
                created_at=old.created_at if old else self.now() - timedelta(days=2000),
                description=old.description if old else "Official customer care.",
                is_account=True,
                origin="account",
            )
            self._users[user.id] = user
            self._by_username[user.username.lower()] = user
            self._accounts[user.id] = account
            return user

    def accounts(self) -> list[SandboxAccount]:
        with self.lock:
            return list(self._accounts.values())

    def add_user(
        self,
        username: str,
        *,
        name: str | None = None,
        description: str = "",
        user_id: str | None = None,
        origin: str = "control",
    ) -> User:
        """Register a customer, or return the user who already has ``username``."""
        if not USERNAME_RE.fullmatch(username):
            raise ValueError(f"invalid username {username!r}")
        if user_id is not None and not user_id.isdigit():
            raise ValueError(f"invalid user id {user_id!r}")
        with self.lock:
            existing = self._by_username.get(username.lower())
            if existing is not None:
                if user_id is not None and user_id != existing.id:
                    raise ValueError(f"username {username!r} belongs to user {existing.id}")
                return existing
            if user_id is not None and user_id in self._users:
                raise ValueError(f"user id {user_id} is taken")
            while user_id is None or user_id in self._users:
                user_id = str(self.rng.randrange(10**9, 2 * 10**18))
            age = timedelta(days=self.rng.randrange(30, 4000))
            user = User(
                id=user_id,
                username=username,
                name=name or display_name(username),
                created_at=self.now() - age,
                description=description,
                origin=origin,
            )
            self._users[user.id] = user
            self._by_username[username.lower()] = user
            return user

    def user(self, user_id: str) -> User | None:
        with self.lock:
            return self._users.get(user_id)

    def user_named(self, username: str) -> User | None:
        with self.lock:
            return self._by_username.get(username.lower())

    def users(self) -> list[User]:
        with self.lock:
            return list(self._users.values())

    def account_for_bearer(self, token: str) -> SandboxAccount | None:
        with self.lock:
            return next((a for a in self._accounts.values() if a.bearer_token == token), None)

    def account_for_access_token(self, token: str) -> SandboxAccount | None:
        with self.lock:
            return next((a for a in self._accounts.values() if a.access_token == token), None)

    def authenticate_bearer(self, token: str) -> Principal | None:
        """An app bearer token of a registered account, or an OAuth 2.0 user access token."""
        if not token:
            return None
        account = self.account_for_bearer(token)
        if account is not None:
            return Principal(None, f"app:{token}")
        principal = self.oauth2.lookup(token)
        if principal is not None and self.user(principal.user_id or "") is None:
            return None
        return principal

    def log_call(self, call: dict[str, object]) -> None:
        with self.lock:
            self.calls.append(call)

    def call_log(self) -> list[dict[str, object]]:
        with self.lock:
            return [dict(call) for call in self.calls]

    def stats(self) -> dict[str, object]:
        with self.lock:
            return {
                "tweets": len(self._tweets),
                "users": len(self._users),
                "accounts": len(self._accounts),
                "tweets_posted": dict(self.tweets_posted),
                "replies_posted": dict(self.replies_posted),
                "requests": dict(self.requests),
                "faults_served": dict(self.faults_served),
            }
