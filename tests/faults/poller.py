"""The desk's poller in a process of its own, for the fault suite to kill with SIGKILL.

``python -m tests.faults.poller setup '<account JSON>'`` makes a brand and its care account;
``poll <account id>`` runs one real ``poll_account``; ``report <account id>`` prints what the
database holds. Each prints one JSON line. The database and X come from the environment
(``DATABASE_URL``, ``X_API_BASE_URL``), as in production.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any


def main(argv: list[str]) -> dict[str, Any]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    import django

    django.setup()

    from helpdesk import audit
    from helpdesk.models import Brand, Question, XAccount
    from helpdesk.x import polling

    command, argument = argv[1], argv[2]
    if command == "setup":
        values = json.loads(argument)
        brand = Brand.objects.create(name="Killed Poller", slug="killed-poller")
        account = XAccount.objects.create(brand=brand, poll_interval_seconds=15, **values)
        return {"account_id": account.pk}
    if command == "poll":
        outcome = polling.poll_account(int(argument))
        return {"new": outcome.result.new, "pages": outcome.pages, "error": outcome.error}
    if command == "report":
        account = XAccount.objects.get(pk=int(argument))
        return {
            "tweet_ids": list(
                Question.objects.filter(account=account).values_list("tweet_id", flat=True)
            ),
            "since": account.mentions_since_id,
            "pending_token": account.mentions_pending_token,
            "received_events": audit.events()
            .filter(brand_id=account.brand_id, kind="question.received")
            .count(),
        }
    raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    print(json.dumps(main(sys.argv)), flush=True)
