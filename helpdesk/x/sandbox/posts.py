"""The sandbox world's tweets: injected and posted ones, replies under X's rules, deletes and
retweets, and the timelines and searches the API reads. ``World`` mixes it in and owns the
state it declares."""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

import twitter_text

from .errors import DUPLICATE_DETAIL, REPLY_NOT_ALLOWED_DETAIL, forbidden, invalid_request
from .errors import not_found as not_found_error
from .records import (
    IdGenerator,
    SandboxAccount,
    Tweet,
    User,
    extract_entities,
    guess_lang,
)

MAX_WEIGHTED_LENGTH = 280
DUPLICATE_WINDOW = timedelta(hours=24)


class Posts:
    """The tweets of a :class:`~helpdesk.x.sandbox.world.World` (which sets these)."""

    lock: threading.RLock
    clock: Callable[[], float]
    enterprise_access: bool
    _ids: IdGenerator
    _accounts: dict[str, SandboxAccount]
    _users: dict[str, User]
    _by_username: dict[str, User]
    _tweets: dict[str, Tweet]
    _all: list[int]
    _by_author: defaultdict[str, list[int]]
    _by_mention: defaultdict[str, list[int]]
    _by_text: defaultdict[tuple[str, str], list[str]]
    reply_counts: Counter[str]
    retweet_counts: Counter[str]
    quote_counts: Counter[str]
    requests: Counter[str]
    faults_served: Counter[str]
    replies_posted: Counter[str]
    tweets_posted: Counter[str]

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def tweet(self, tweet_id: str) -> Tweet | None:
        with self.lock:
            return self._tweets.get(tweet_id)

    def inject(
        self,
        author: User,
        text: str,
        *,
        in_reply_to: str | None = None,
        quote_of: str | None = None,
        retweet_of: str | None = None,
        lang: str | None = None,
        created_at: datetime | None = None,
        via_api: bool = False,
    ) -> Tweet:
        """Create a tweet without X's posting rules (customer traffic, fixtures)."""
        with self.lock:
            parent = self._existing(in_reply_to, "in_reply_to_tweet_id")
            quoted = self._existing(quote_of, "quote_tweet_id")
            original = self._existing(retweet_of, "retweet_of")
            if original is not None and not text:
                text = f"RT @{original.author_username}: {original.text}"
            mentions, hashtags, urls = extract_entities(text)
            for mention in mentions:
                known = self._by_username.get(str(mention["username"]).lower())
                if known is not None:
                    mention["id"] = known.id
            number = self._ids.next(self.clock())
            tweet_id = str(number)
            referenced = [
                (kind, ref.id)
                for kind, ref in (
                    ("replied_to", parent),
                    ("quoted", quoted),
                    ("retweeted", original),
                )
                if ref is not None
            ]
            tweet = Tweet(
                id=tweet_id,
                text=text,
                author_id=author.id,
                author_username=author.username,
                created_at=created_at or self.now(),
                conversation_id=parent.conversation_id if parent else tweet_id,
                in_reply_to_user_id=parent.author_id if parent else None,
                in_reply_to_username=parent.author_username if parent else None,
                referenced=referenced,
                lang=lang or guess_lang(text if original is None else original.text),
                mentions=mentions,
                hashtags=hashtags,
                urls=urls,
                via_api=via_api,
            )
            self._tweets[tweet_id] = tweet
            self._all.append(number)
            self._by_author[author.id].append(number)
            for name in tweet.mention_names:
                self._by_mention[name].append(number)
            self._by_text[(author.id, text.strip())].append(tweet_id)
            for counter, ref in (
                (self.reply_counts, parent),
                (self.quote_counts, quoted),
                (self.retweet_counts, original),
            ):
                if ref is not None:
                    counter[ref.id] += 1
            return tweet

    def _existing(self, tweet_id: str | None, parameter: str) -> Tweet | None:
        if tweet_id is None:
            return None
        found = self._tweets.get(str(tweet_id))
        if found is None:
            raise invalid_request(
                f"The `{parameter}` value [{tweet_id}] does not refer to an existing Tweet",
                parameter,
                str(tweet_id),
            )
        return found

    def post(
        self,
        author_id: str,
        text: str,
        *,
        in_reply_to: str | None = None,
        quote_of: str | None = None,
    ) -> Tweet:
        """Create a tweet through the API, enforcing X's rules (length, duplicates, replies)."""
        if not text.strip():
            raise invalid_request("The `text` field can not be empty", "text", text)
        if twitter_text.parse_tweet(text).weightedLength > MAX_WEIGHTED_LENGTH:
            raise invalid_request("Your Tweet text is too long.", "text", text)
        with self.lock:
            author = self._users[author_id]
            parent = self._existing(in_reply_to, "reply.in_reply_to_tweet_id")
            if parent is not None and not self.may_reply(author, parent):
                raise forbidden(REPLY_NOT_ALLOWED_DETAIL)
            since = self.now() - DUPLICATE_WINDOW
            for earlier_id in self._by_text.get((author_id, text.strip()), []):
                earlier = self._tweets.get(earlier_id)
                if earlier is not None and earlier.created_at >= since:
                    raise forbidden(DUPLICATE_DETAIL)
            tweet = self.inject(
                author, text, in_reply_to=in_reply_to, quote_of=quote_of, via_api=True
            )
            self.tweets_posted[author.username] += 1
            if parent is not None:
                self.replies_posted[author.username] += 1
            return tweet

    def may_reply(self, replier: User, parent: Tweet) -> bool:
        """X's 2026 rule: reply only where the author mentioned, quoted or engaged you
        (unless the app has enterprise access)."""
        if self.enterprise_access:
            return True
        if parent.author_id == replier.id or parent.in_reply_to_user_id == replier.id:
            return True
        if replier.username.lower() in parent.mention_names:
            return True
        quoted = self._tweets.get(parent.referenced_id("quoted") or "")
        if quoted is not None and quoted.author_id == replier.id:
            return True
        root = self._tweets.get(parent.conversation_id)
        return root is not None and root.author_id == replier.id

    def delete(self, user_id: str, tweet_id: str) -> None:
        with self.lock:
            tweet = self._tweets.get(tweet_id)
            if tweet is None:
                raise not_found_error(f"Could not find tweet with id: [{tweet_id}].")
            if tweet.author_id != user_id:
                raise forbidden("You are not allowed to delete this Tweet.")
            del self._tweets[tweet_id]
            for kind, counter in (
                ("replied_to", self.reply_counts),
                ("quoted", self.quote_counts),
                ("retweeted", self.retweet_counts),
            ):
                ref = tweet.referenced_id(kind)
                if ref is not None and counter[ref] > 0:
                    counter[ref] -= 1

    def retweet(self, user_id: str, tweet_id: str) -> Tweet:
        """Retweet (idempotent: retweeting twice returns the first retweet)."""
        with self.lock:
            original = self._existing(tweet_id, "tweet_id")
            assert original is not None
            for number in reversed(self._by_author.get(user_id, [])):
                earlier = self._tweets.get(str(number))
                if earlier is not None and earlier.referenced_id("retweeted") == tweet_id:
                    return earlier
            return self.inject(self._users[user_id], "", retweet_of=tweet_id, via_api=True)

    # Timelines: newest first, between since_id and before (both exclusive)

    def timeline(
        self,
        source: str,
        *,
        key: str = "",
        since_id: int | None = None,
        before: int | None = None,
        limit: int = 10,
        predicate: Callable[[Tweet], bool] | None = None,
    ) -> tuple[list[Tweet], bool]:
        """Up to ``limit`` tweets from "all", "author" (key=user id) or "mentions" (key=user
        id), and whether more remain."""
        with self.lock:
            if source == "all":
                numbers: list[int] = self._all
            elif source == "author":
                numbers = self._by_author.get(key, [])
            else:
                user = self._users.get(key)
                numbers = self._by_mention.get(user.username.lower(), []) if user else []
            found: list[Tweet] = []
            index = bisect_left(numbers, before) if before is not None else len(numbers)
            for number in reversed(numbers[:index]):
                if since_id is not None and number <= since_id:
                    break
                tweet = self._tweets.get(str(number))
                if tweet is None or (predicate is not None and not predicate(tweet)):
                    continue
                if len(found) == limit:
                    return found, True
                found.append(tweet)
            return found, False

    def find(
        self,
        *,
        author: str | None = None,
        in_reply_to: str | None = None,
        conversation_id: str | None = None,
    ) -> list[Tweet]:
        """Tweets for inspection, oldest first (``author`` is a username or a user id)."""
        with self.lock:
            tweets: Iterable[Tweet] = self._tweets.values()
            if author is not None:
                user = self._by_username.get(author.lower()) or self._users.get(author)
                tweets = [t for t in tweets if user is not None and t.author_id == user.id]
            if in_reply_to is not None:
                tweets = [t for t in tweets if t.referenced_id("replied_to") == in_reply_to]
            if conversation_id is not None:
                tweets = [t for t in tweets if t.conversation_id == conversation_id]
            return sorted(tweets, key=lambda t: t.number)
