"""``manage.py xsandbox``: run the X sandbox until Ctrl-C."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import TYPE_CHECKING, Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from helpdesk.x.sandbox import SandboxAccount, XSandbox

if TYPE_CHECKING:
    from helpdesk.models import XAccount

ACCOUNT_FORMAT = (
    "USERNAME:USER_ID:BEARER:CONSUMER_KEY:CONSUMER_SECRET:ACCESS_TOKEN:ACCESS_SECRET[:LANGUAGE]"
)


def parse_account(value: str) -> SandboxAccount:
    """An account from ``--account``; empty parts are allowed (e.g. no bearer token)."""
    parts = value.split(":")
    if len(parts) not in (7, 8) or not parts[0] or not parts[1].isdigit():
        raise CommandError(f"--account must look like {ACCOUNT_FORMAT}, got {value!r}")
    return SandboxAccount(*parts)


def sandbox_account_from(account: XAccount) -> SandboxAccount:
    """The sandbox's twin of a desk care account, with the same credentials."""
    return SandboxAccount(
        username=account.username,
        user_id=account.x_user_id,
        bearer_token=account.bearer_token,
        consumer_key=account.consumer_key,
        consumer_secret=account.consumer_secret,
        access_token=account.access_token,
        access_token_secret=account.access_token_secret,
        language=account.language,
    )


def accounts_from_database() -> list[SandboxAccount]:
    from helpdesk.models import XAccount

    return [
        sandbox_account_from(account)
        for account in XAccount.objects.filter(is_active=True).order_by("pk")
    ]


class Command(BaseCommand):
    help = (
        "Run the X sandbox (a local fake of the X API v2) with the desk's active care "
        "accounts, or the ones given with --account, optionally generating customer traffic."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Address to bind (loopback).")
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--rate", type=float, default=0.0, help="Customer tweets per second.")
        parser.add_argument("--seed", type=int, default=None, help="Seed for the traffic.")
        parser.add_argument(
            "--account",
            action="append",
            default=[],
            metavar="ACCOUNT",
            help=f"A care account as {ACCOUNT_FORMAT} (repeatable); default: the database's.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        accounts = [parse_account(value) for value in options["account"]]
        if not accounts:
            try:
                accounts = accounts_from_database()
            except DatabaseError as error:
                raise CommandError(
                    f"cannot read the care accounts ({error}); run migrate, or pass --account"
                ) from error
        sandbox = XSandbox(
            options["host"], options["port"], traffic_rate=options["rate"], seed=options["seed"]
        )
        for account in accounts:
            try:
                sandbox.world.add_account(account)
            except ValueError as error:
                raise CommandError(f"@{account.username}: {error}") from error
        try:
            sandbox.start()
        except OSError as error:
            raise CommandError(
                f"cannot listen on {options['host']}:{options['port']}: {error}"
            ) from error
        handles = ", ".join(f"@{a.username}" for a in accounts) or "none yet"
        self.stdout.write(f"X sandbox on {sandbox.base_url} (accounts: {handles}); Ctrl-C stops.")

        stopping = threading.Event()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            stopping.set()

        previous = signal.signal(signal.SIGTERM, on_signal)
        try:
            while not stopping.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
            sandbox.stop()
            self.stdout.write("X sandbox stopped.")
