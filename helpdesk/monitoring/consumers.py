"""The monitoring page's websocket: the brand's monitoring events, to tell the open page to
fetch its live part again. Read-only: the client may only ``ping`` and ``resync``.

Checked as the live queue's socket is (``helpdesk.consumers``): the session and the role on
connect and on every client message; a person refused is told why and closed with 4403.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import User
from django.utils.translation import gettext as _

from helpdesk.consumers import CLOSE_FORBIDDEN, QueueConsumer, _reason, _Refused
from helpdesk.events import monitoring_group
from helpdesk.monitoring.access import monitor_reader

STATE_URL = "/monitoring/live/"


class MonitoringConsumer(QueueConsumer):
    """One monitoring page: joins ``monitor.brand.<id>`` of the reader's brand only."""

    state_url = STATE_URL
    # Agency staff follow it: no desk role and no claim gate to check in one statement.
    checks_in_one_statement = False

    def group_for(self, brand_id: int) -> str:
        return monitoring_group(brand_id)

    def _allowed_brand(self, user: User) -> int:
        reader = monitor_reader(user)
        if reader is None:
            raise _Refused(
                CLOSE_FORBIDDEN,
                [_reason("not_monitor_role", _("Live monitoring is not part of your role."))],
            )
        return reader.brand_id

    def _handlers(self) -> dict[str, Callable[[User, dict[str, Any]], dict[str, Any]]]:
        return {"resync": self._resync, "ping": self._ping}
