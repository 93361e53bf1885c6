"""``manage.py demo``: the whole embedded desk in one process.

The X sandbox (with customer traffic), a poller thread that runs the ingestion polls, and
uvicorn serving the ASGI app. Ctrl-C or SIGTERM stops all three and exits 0.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import import_module
from types import FrameType
from typing import Any

import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections, connection
from django.utils import timezone

from helpdesk.management.commands.seed_demo import BRAND as DEMO_BRAND
from helpdesk.management.commands.seed_demo import DEMO_PASSWORD
from helpdesk.management.commands.xsandbox import accounts_from_database
from helpdesk.x.sandbox import XSandbox

log = logging.getLogger(__name__)

COLLEAGUE_STEP_SECONDS = 5.0
PACE_EVERY_SECONDS = 60.0
LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}
MAX_RATE = 1000.0  # customer tweets per second; the sandbox's own bound


def _rate(value: str) -> float | None:
    """``--rate``: ``auto`` (None: the demo's own pace) or tweets per second."""
    if value.strip().lower() == "auto":
        return None
    try:
        return float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number or 'auto': {value!r}") from None


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only (127.0.0.0/8, ::1 or localhost)."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def web_server_config(host: str, port: int, *, log_level: str) -> uvicorn.Config:
    """uvicorn serving the desk's ASGI app as production runs it (see the README).

    Without proxy headers: uvicorn would otherwise believe ``X-Forwarded-For`` and
    ``X-Forwarded-Proto`` from 127.0.0.1, so any client of a loopback desk could choose the
    address its logins and enrolments count against. The desk reads them itself, only from
    the proxies named in ``HELPFORCE_TRUSTED_PROXIES`` (``helpdesk.client_ip``).
    """
    return uvicorn.Config(
        "helpdesk.asgi:application",
        host=host,
        port=port,
        lifespan="off",
        log_level=log_level,
        proxy_headers=False,
        # The desk's frames are small JSON: compressing them saves little and costs about
        # 35 kB of memory and CPU per socket (bench/fanout.py).
        ws_per_message_deflate=False,
    )


class Poller(threading.Thread):
    """The embedded desk's beat: runs every periodic task of ``helpdesk.celery.beat_schedule``
    at its interval (polling X every ``interval`` seconds) until stopped.

    Embedded, Celery runs tasks eagerly, so the tasks themselves happen in this thread.
    An exception is logged and the loop goes on: one bad round must not stop the desk.
    """

    POLL_TASK = "helpdesk.tasks.poll_due_accounts"

    def __init__(self, interval: float = 1.0) -> None:
        super().__init__(name="helpforce-poller", daemon=True)
        self.interval = interval
        self.stopping = threading.Event()

    def run(self) -> None:
        from helpdesk.celery import beat_schedule

        every = {
            entry["task"]: self.interval if entry["task"] == self.POLL_TASK else entry["schedule"]
            for entry in beat_schedule().values()
        }
        next_due = dict.fromkeys(every, 0.0)
        try:
            while not self.stopping.is_set():
                for name, seconds in every.items():
                    now = time.monotonic()
                    if now < next_due[name]:
                        continue
                    next_due[name] = now + float(seconds)
                    module, _, function = name.rpartition(".")
                    try:
                        getattr(import_module(module), function)()
                    except Exception:
                        log.exception("%s failed; it runs again in %.1fs", name, seconds)
                    finally:
                        close_old_connections()
                self.stopping.wait(min(self.interval, 1.0))
        finally:
            connection.close()

    def stop(self, timeout: float = 30.0) -> None:
        self.stopping.set()
        self.join(timeout)
        if self.is_alive():
            log.warning("the poller did not stop within %.0fs", timeout)


class DemoCrew(threading.Thread):
    """What makes the embedded desk look like a working one: every ``step`` seconds the
    simulated colleagues do a round (``demo_colleagues``), and, at the demo's own pace
    (``auto_pace``), the sandbox's rate follows the hour of the brand's week
    (``demo_pace``). Like the poller, a failed round is logged and the loop goes on."""

    def __init__(
        self,
        sandbox: XSandbox,
        *,
        colleagues: bool,
        auto_pace: bool,
        step: float = COLLEAGUE_STEP_SECONDS,
    ) -> None:
        super().__init__(name="helpforce-demo-crew", daemon=True)
        self.sandbox = sandbox
        self.colleagues = colleagues
        self.auto_pace = auto_pace
        self.step = step
        self.stopping = threading.Event()

    def run(self) -> None:
        from helpdesk.management.demo_colleagues import SimulatedColleagues
        from helpdesk.management.demo_pace import sandbox_rate
        from helpdesk.models import Brand

        try:
            brand = Brand.objects.filter(slug=DEMO_BRAND["slug"]).first()
            if brand is None:
                return
            crew = SimulatedColleagues(brand) if self.colleagues else None
            paced_at = 0.0
            while not self.stopping.is_set():
                try:
                    if self.auto_pace and time.monotonic() - paced_at >= PACE_EVERY_SECONDS:
                        paced_at = time.monotonic()
                        self.sandbox.traffic.set_rate(sandbox_rate(brand, timezone.now()))
                    if crew is not None:
                        crew.step()
                except Exception:
                    log.exception("the simulated colleagues' round failed; they go on")
                finally:
                    close_old_connections()
                self.stopping.wait(self.step)
        finally:
            connection.close()

    def stop(self, timeout: float = 30.0) -> None:
        self.stopping.set()
        self.join(timeout)


@dataclass
class EmbeddedDesk:
    """The sandbox and poller of a running embedded desk; ``stop()`` ends both."""

    sandbox: XSandbox
    poller: Poller
    accounts: list[str]
    _previous_base_url: tuple[str, str | None] = field(repr=False)
    crew: DemoCrew | None = None

    @property
    def sandbox_url(self) -> str:
        return self.sandbox.base_url

    def stop(self) -> None:
        """Stop polling first (so no poll hits a closed sandbox), then the sandbox, and put
        the X base URL back as it was."""
        if self.crew is not None:
            self.crew.stop()
        self.poller.stop()
        self.sandbox.stop()
        setting, environ = self._previous_base_url
        settings.X_API_BASE_URL = setting
        if environ is None:
            os.environ.pop("X_API_BASE_URL", None)
        else:
            os.environ["X_API_BASE_URL"] = environ


def start_embedded_desk(
    *,
    sandbox_port: int = 0,
    rate: float | None = 0.0,
    poll_interval: float = 1.0,
    seed: int | None = None,
    colleagues: bool = False,
) -> EmbeddedDesk:
    """Start the X sandbox with every active account of the database registered in it,
    point the desk's X calls at it, and start polling. ``rate`` None: the demo's own pace
    (``demo_pace``); ``colleagues``: the simulated colleagues answer. The caller must
    ``stop()`` it."""
    sandbox = XSandbox("127.0.0.1", sandbox_port, traffic_rate=rate or 0.0, seed=seed)
    accounts = accounts_from_database()
    for account in accounts:
        sandbox.world.add_account(account)
    sandbox.start()
    previous = (settings.X_API_BASE_URL, os.environ.get("X_API_BASE_URL"))
    settings.X_API_BASE_URL = sandbox.base_url
    os.environ["X_API_BASE_URL"] = sandbox.base_url
    poller = Poller(poll_interval)
    poller.start()
    crew = None
    if colleagues or rate is None:
        crew = DemoCrew(sandbox, colleagues=colleagues, auto_pace=rate is None)
        crew.start()
    return EmbeddedDesk(
        sandbox=sandbox,
        poller=poller,
        accounts=[f"@{a.username}" for a in accounts],
        _previous_base_url=previous,
        crew=crew,
    )


def demo_site_url(host: str, port: int) -> str:
    """The address the demo's own links use: where it listens (a wildcard host as loopback)."""
    try:
        if ipaddress.ip_address(host).is_unspecified:
            host = "127.0.0.1"
    except ValueError:  # a name, not an address
        pass
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class Command(BaseCommand):
    help = (
        "Run the embedded desk in one process: the X sandbox with customer traffic, the "
        "ingestion poller and the web server (uvicorn). Ctrl-C stops it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Web server address.")
        parser.add_argument("--port", type=int, default=8000, help="Web server port.")
        parser.add_argument(
            "--sandbox-port", type=int, default=8765, help="X sandbox port (0: any free one)."
        )
        parser.add_argument(
            "--rate",
            type=_rate,
            default=None,
            help=(
                "Customer tweets per second the sandbox makes up (0: none). Default 'auto': "
                "what the seeded history says is usual for the hour, so no spike alert fires."
            ),
        )
        parser.add_argument(
            "--no-colleagues",
            action="store_true",
            help="No simulated colleagues answering questions (the queue then only grows).",
        )
        parser.add_argument(
            "--allow-external",
            action="store_true",
            help="Allow a non-loopback --host. The demo users share a published password.",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even when DATABASE_URL points at a real database.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        host: str = options["host"]
        port: int = options["port"]
        sandbox_port: int = options["sandbox_port"]
        rate: float | None = options["rate"]
        if not settings.EMBEDDED and not options["force"]:
            raise CommandError(
                "DATABASE_URL is set: the demo is for the embedded default (SQLite, tasks "
                "in-process). Unset DATABASE_URL, or use --force if you mean it."
            )
        if not is_loopback(host) and not options["allow_external"]:
            raise CommandError(
                f"--host {host} is reachable from other machines and the demo users share a "
                "published password. Use a loopback address, or --allow-external."
            )
        if not 1 <= port <= 65535:
            raise CommandError(f"--port must be between 1 and 65535, not {port}")
        if not os.environ.get("HELPFORCE_SITE_URL"):
            # Links in what the desk sends (the weekly report's e-mail) point at this desk.
            settings.SITE_URL = demo_site_url(host, port)
        if not 0 <= sandbox_port <= 65535:
            raise CommandError(f"--sandbox-port must be between 0 and 65535, not {sandbox_port}")
        if rate is not None and not 0 <= rate <= MAX_RATE:
            raise CommandError(f"--rate must be between 0 and {MAX_RATE}, not {rate}")

        # Celery logs every eager task at INFO: two polls a second would drown the console.
        logging.getLogger("celery.app.trace").setLevel(logging.WARNING)
        server = uvicorn.Server(web_server_config(host, port, log_level="info"))
        try:
            desk = start_embedded_desk(
                sandbox_port=sandbox_port, rate=rate, colleagues=not options["no_colleagues"]
            )
        except OSError as error:
            raise CommandError(
                f"The X sandbox could not listen on port {sandbox_port} ({error}). "
                "Choose another with --sandbox-port (0: any free port)."
            ) from error
        except ValueError as error:  # an account the sandbox cannot register
            raise CommandError(f"The X sandbox refused an X account: {error}") from error
        with _exit_signals_stop(server):
            try:
                self._announce(desk, host, port, rate, colleagues=not options["no_colleagues"])
                server.run()
            except SystemExit:
                if server.started:
                    raise
                # uvicorn exits when it cannot bind; say how to fix that instead.
            finally:
                self.stdout.write("Stopping the poller and the X sandbox...")
                desk.stop()
        if not server.started:
            raise CommandError(
                f"The web server could not start on {host}:{port} (see above); "
                "choose another port with --port."
            )
        self.stdout.write("Stopped.")

    def _announce(
        self,
        desk: EmbeddedDesk,
        host: str,
        port: int,
        rate: float | None,
        *,
        colleagues: bool = False,
    ) -> None:
        shown_host = f"[{host}]" if ":" in host else host
        pace = (
            "customer traffic at the history's usual pace for the hour"
            if rate is None
            else f"{rate:g} customer tweets/s"
        )
        crew = "simulated colleagues answer at a human pace" if colleagues else "none simulated"
        accounts = ", ".join(desk.accounts)
        self.stdout.write(
            "\n".join(
                [
                    "",
                    self.style.SUCCESS(f"Helpforce desk:  http://{shown_host}:{port}/"),
                    f"Admin site:      http://{shown_host}:{port}/admin/",
                    f"X sandbox:       {desk.sandbox_url} ({pace})",
                    f"Colleagues:      {crew}",
                    f"Polling for:     {accounts or 'no active X account'}",
                    "Log in with a demo user (python manage.py seed_demo lists them all),",
                    f"for example alice / {DEMO_PASSWORD}. Ctrl-C stops everything.",
                    "",
                ]
            )
        )
        if not desk.accounts:
            self.stderr.write(
                self.style.WARNING("No active X account: run `python manage.py seed_demo` first.")
            )
        if not settings.CELERY_TASK_ALWAYS_EAGER:
            self.stderr.write(
                self.style.WARNING(
                    "REDIS_URL is set, so polls are queued to Celery: run "
                    "`celery -A helpdesk worker` beside the demo."
                )
            )


@contextmanager
def _exit_signals_stop(server: Any) -> Iterator[None]:
    """SIGINT and SIGTERM ask ``server`` to exit instead of killing the process.

    uvicorn installs its own handlers while it runs and re-raises the signal it caught once
    it has shut down; that copy lands here, so the command can still stop the sandbox and
    the poller and exit 0.
    """

    def stop_server(signum: int, frame: FrameType | None) -> None:
        server.should_exit = True

    previous = {sig: signal.signal(sig, stop_server) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
