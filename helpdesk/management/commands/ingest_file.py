"""``manage.py ingest_file PATH [--brand SLUG] [--account USERNAME]``: import tweets from a file.

PATH (or ``-`` for stdin) holds one JSON document -- a v2 response, a v2 tweet object, a v1.1
Account Activity payload, or a JSON array of any of these -- or JSON Lines, one such document
per line. JSON Lines are read line by line, and tweets are stored in chunks of
``--chunk-size`` per transaction, so a file of any length never builds one huge transaction.

Every record that cannot be stored is reported on stderr with where it is (``line 7``,
``data[3]``...) and why; the good ones around it are stored. The last line on stdout is the
summary, and the exit status is non-zero when anything was rejected (DESIGN invariant 9).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from itertools import chain
from typing import IO, Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

from charter.management.inputs import open_input
from helpdesk.models import Brand, Source, XAccount
from helpdesk.x.ingest import IngestResult, ingest_batch
from helpdesk.x.normalize import Batch, RecordError, Rejected, XTweet, XUser, parse_any

CHUNK_SIZE = 500
# A whole-file JSON document has to be parsed in memory; past this, JSON Lines are the way.
MAX_DOCUMENT_BYTES = 256 * 1024 * 1024
ACTOR_LABEL = "system:ingest_file"
_BOM = b"\xef\xbb\xbf"


class _NotJson(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    # Python's json accepts NaN and Infinity; JSON (and PostgreSQL's jsonb) does not.
    raise _NotJson(f"{name} is not a JSON value")


def _loads(text: bytes, *, one_line: bool = True) -> Any:
    """Parse one JSON value; raise ``_NotJson`` with a plain reason."""
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _NotJson(f"not UTF-8 text (byte {error.start + 1})") from None
    try:
        return json.loads(decoded, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        where = f"column {error.colno}" if one_line else f"line {error.lineno} column {error.colno}"
        raise _NotJson(f"not JSON: {error.msg} ({where})") from None
    except RecursionError:
        raise _NotJson("not JSON: nested too deeply") from None
    except _NotJson as error:
        raise _NotJson(f"not JSON: {error}") from None
    except ValueError as error:  # e.g. an integer with thousands of digits
        raise _NotJson(f"not JSON: {error}") from None


def _is_object_line(line: bytes) -> bool:
    """Whether ``line`` alone is a JSON object, as every good line of JSON Lines is."""
    try:
        return isinstance(_loads(line.rstrip(b"\r\n")), dict)
    except _NotJson:
        return False


@dataclass(frozen=True)
class _Document:
    """One JSON value read from the input and where it came from ("line 7", or "" for the
    whole file); ``error`` is set when it could not be read at all."""

    where: str
    value: Any = None
    error: str = ""


def _numbered_lines(stream: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    for number, line in enumerate(stream, start=1):
        yield number, line.removeprefix(_BOM) if number == 1 else line


def _documents(stream: IO[bytes], name: str) -> Iterator[_Document]:
    """The JSON documents in ``stream``: one for a JSON file, one per line for JSON Lines.

    JSON Lines are streamed. The file is read whole only when it looks like one JSON document:
    it starts with ``[``, or neither of its first two non-blank lines is a JSON object on its
    own (a pretty-printed object). If that document does not parse but some of its lines are
    objects on their own, it was JSON Lines with a bad start after all.
    """
    lines = _numbered_lines(stream)
    head: list[tuple[int, bytes]] = []
    nonblank: list[bytes] = []
    for number, line in lines:
        head.append((number, line))
        if line.strip():
            nonblank.append(line)
            if len(nonblank) == 2:
                break
    if not nonblank:
        raise CommandError(f"{name} is empty: there is nothing to ingest")

    first = nonblank[0].lstrip()[:1]
    standalone = [_is_object_line(line) for line in nonblank]
    if first == b"{" and standalone == [True]:
        # A single line holding one JSON object: a JSON file written without newlines.
        yield _Document("", _loads(nonblank[0]))
        return
    if first == b"[" or (first == b"{" and not any(standalone)):
        buffered = _read_rest(head, lines, name)
        try:
            whole = _loads(b"".join(line for _, line in buffered), one_line=False)
        except _NotJson as error:
            if not any(_is_object_line(line) for _, line in buffered if line.strip()):
                raise CommandError(f"{name} is neither JSON nor JSON Lines: {error}") from None
            yield from _jsonl(buffered)
            return
        yield _Document("", whole)
        return
    yield from _jsonl(chain(head, lines))


def _read_rest(
    head: list[tuple[int, bytes]], lines: Iterator[tuple[int, bytes]], name: str
) -> list[tuple[int, bytes]]:
    buffered = list(head)
    size = sum(len(line) for _, line in buffered)
    for number, line in lines:
        size += len(line)
        if size > MAX_DOCUMENT_BYTES:
            raise CommandError(
                f"{name} is one JSON document over {MAX_DOCUMENT_BYTES // 2**20} MiB; "
                "split it into JSON Lines (one response or tweet per line)"
            )
        buffered.append((number, line))
    return buffered


def _jsonl(lines: Iterable[tuple[int, bytes]]) -> Iterator[_Document]:
    for number, line in lines:
        if not line.strip():
            continue
        try:
            yield _Document(f"line {number}", _loads(line.rstrip(b"\r\n")))
        except _NotJson as error:
            yield _Document(f"line {number}", error=str(error))


def _place(where: str, what: str) -> str:
    """Join "line 7" and "data[3]"; a whole-file document with no inner place is "document"."""
    if where and what:
        return f"{where}, {what}"
    return where or what or "document"


@dataclass
class _Target:
    brand: Brand
    account: XAccount | None

    def key(self) -> tuple[int, int | None]:
        return self.brand.pk, self.account.pk if self.account else None


@dataclass
class _Importer:
    """Collects parsed tweets and stores them in chunks, one transaction per chunk."""

    chunk_size: int
    total: IngestResult = field(default_factory=IngestResult)
    target: _Target | None = None
    tweets: list[XTweet] = field(default_factory=list)
    users: dict[str, XUser] = field(default_factory=dict)

    def add(self, target: _Target, batch: Batch) -> None:
        for tweet in batch.tweets:
            if self.target is None or self.target.key() != target.key():
                self.flush()
                self.target = target
            self.tweets.append(tweet)
            user = batch.users.get(tweet.author_id or "")
            if user is not None:
                self.users[user.id] = user
            if len(self.tweets) >= self.chunk_size:
                self.flush()

    def flush(self) -> None:
        if not self.tweets or self.target is None:
            return
        result = ingest_batch(
            self.target.brand,
            Batch(tweets=self.tweets, users=self.users),
            source=Source.FILE,
            account=self.target.account,
            actor_label=ACTOR_LABEL,
        )
        self.total.add(result)
        self.tweets = []
        self.users = {}


class Command(BaseCommand):
    help = (
        "Ingest tweets from a file of X payloads: a v2 response, a v2 tweet, a v1.1 Account "
        "Activity payload, a JSON array of these, or JSON Lines of them ('-' reads stdin)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="File to read, or - for stdin")
        parser.add_argument("--brand", help="Slug of the brand; optional when there is one")
        parser.add_argument("--account", help="Username of the care account the tweets reached")
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=CHUNK_SIZE,
            help=f"Tweets stored per transaction (default {CHUNK_SIZE})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        chunk_size: int = options["chunk_size"]
        if chunk_size < 1:
            raise CommandError("--chunk-size must be at least 1")
        _require_migrated()
        default = self._default_target(options["brand"], options["account"])
        path: str = options["path"]
        name = "stdin" if path == "-" else path
        importer = _Importer(chunk_size=chunk_size)
        self._accounts: dict[str, XAccount | None] = {}
        with self._open(path) as stream:
            for document in _documents(stream, name):
                if document.error:
                    self._reject(importer, document.where, document.error)
                    continue
                values = document.value if isinstance(document.value, list) else None
                if values is None:
                    self._ingest(importer, default, document.where, document.value)
                    continue
                for index, value in enumerate(values):
                    self._ingest(importer, default, _place(document.where, f"[{index}]"), value)
        importer.flush()
        self.stdout.write(importer.total.summary())
        rejected = len(importer.total.rejected)
        if rejected:
            raise CommandError(f"{rejected} record(s) rejected; see the reasons above")

    def _open(self, path: str) -> AbstractContextManager[IO[bytes]]:
        return open_input(path)

    def _default_target(self, slug: str | None, username: str | None) -> _Target | None:
        """The brand and account from the options; None when several brands leave it open
        (then only v1.1 payloads whose ``for_user_id`` names an account can be placed)."""
        brand = None
        if slug is not None:
            brand = Brand.objects.filter(slug=slug).first()
            if brand is None:
                raise CommandError(f"no brand {slug!r}; brands: {self._slugs()}")
        account = None
        if username is not None:
            accounts = XAccount.objects.select_related("brand").filter(
                username__iexact=username.removeprefix("@")
            )
            if brand is not None:
                accounts = accounts.filter(brand=brand)
            found = list(accounts[:2])
            if not found:
                where = f" in brand {brand.slug!r}" if brand else ""
                raise CommandError(f"no X account @{username.removeprefix('@')}{where}")
            if len(found) > 1:
                raise CommandError(
                    f"several brands have an account @{username.removeprefix('@')}; pass --brand"
                )
            account = found[0]
            brand = account.brand
        if brand is None:
            brands = list(Brand.objects.order_by("slug")[:2])
            if not brands:
                raise CommandError("there is no brand yet: create one before ingesting")
            if len(brands) == 1:
                brand = brands[0]
        return _Target(brand, account) if brand is not None else None

    def _slugs(self) -> str:
        return ", ".join(Brand.objects.order_by("slug").values_list("slug", flat=True)) or "none"

    def _ingest(self, importer: _Importer, default: _Target | None, where: str, value: Any) -> None:
        try:
            for_user_id, batch = parse_any(value)
        except RecordError as error:
            self._reject(importer, where, str(error), _raw_id(value))
            return
        except (TypeError, AttributeError) as error:
            # A shape the parser did not foresee (e.g. ``includes.users`` a number): refuse
            # this record, keep going with the rest of the file.
            self._reject(importer, where, f"malformed record ({error})", _raw_id(value))
            return
        is_v11 = isinstance(value, dict) and (
            "tweet_create_events" in value or "for_user_id" in value
        )
        container = "tweet_create_events" if is_v11 else "data"
        listed = isinstance(value, dict) and isinstance(value.get(container), list)
        for rejected in batch.rejected:
            what = f"{container}[{rejected.position}]" if listed else container
            self._reject(importer, _place(where, what), rejected.reason, rejected.tweet_id)
        if not batch.tweets:
            return
        target = self._target_for(for_user_id, default, where)
        if target is None:
            importer.flush()
            raise CommandError(
                f"{_place(where, '')}: several brands exist ({self._slugs()}); pass --brand. "
                f"Nothing from here on was ingested; so far: {importer.total.summary()}"
            )
        if default is not None and target.brand.pk != default.brand.pk:
            assert target.account is not None
            reason = (
                f"for_user_id {for_user_id} is @{target.account.username} of brand "
                f"{target.brand.slug!r}, not {default.brand.slug!r}"
            )
            for position, tweet in enumerate(batch.tweets):
                self._reject(importer, _place(where, f"{container}[{position}]"), reason, tweet.id)
            return
        importer.add(target, batch)

    def _target_for(
        self, for_user_id: str | None, default: _Target | None, where: str
    ) -> _Target | None:
        if for_user_id is None:
            return default
        if for_user_id not in self._accounts:
            self._accounts[for_user_id] = (
                XAccount.objects.select_related("brand").filter(x_user_id=for_user_id).first()
            )
            if self._accounts[for_user_id] is None and default is not None:
                self.stderr.write(
                    f"note: {_place(where, '')}: for_user_id {for_user_id} is not one of our "
                    f"X accounts; importing into brand {default.brand.slug!r}"
                )
        account = self._accounts[for_user_id]
        return _Target(account.brand, account) if account is not None else default

    def _reject(self, importer: _Importer, where: str, reason: str, tweet_id: str = "") -> None:
        shown = f" (tweet {tweet_id})" if tweet_id.isascii() and tweet_id.isdigit() else ""
        self.stderr.write(f"{_place(where, '')}{shown}: {reason}")
        importer.total.rejected.append(Rejected(position=-1, reason=reason, tweet_id=tweet_id))


def _require_migrated() -> None:
    """Refuse to start on a database whose migrations are not all applied: the first query
    would fail half-way with a traceback, or store rows the missing columns cannot hold."""
    connection = connections[DEFAULT_DB_ALIAS]
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        raise CommandError(
            f"the database is not migrated ({len(plan)} migration(s) not applied): "
            "run `python manage.py migrate` first, then ingest again"
        )


def _raw_id(value: Any) -> str:
    if isinstance(value, dict):
        for key in ("id_str", "id"):
            found = value.get(key)
            if isinstance(found, str) and found.isascii() and found.isdigit():
                return found[:32]
    return ""
