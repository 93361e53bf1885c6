"""Celery tasks: thin wrappers that take ids and call the desk's functions."""

from __future__ import annotations

from celery import shared_task

from helpdesk.x import polling, posting


@shared_task(name="helpdesk.tasks.poll_account", ignore_result=True)
def poll_account(account_id: int) -> None:
    polling.poll_account(account_id)


@shared_task(name="helpdesk.tasks.poll_due_accounts", ignore_result=True)
def poll_due_accounts() -> int:
    """Dispatch one poll task per due account; returns how many were dispatched."""
    account_ids = polling.claim_due_accounts()
    for account_id in account_ids:
        poll_account.delay(account_id)
    return len(account_ids)


# Post one queued reply (at most once: see ``helpdesk.x.posting``).
send_reply = posting.send_reply_task


@shared_task(name="helpdesk.tasks.dispatch_outbox", ignore_result=True)
def dispatch_outbox() -> int:
    """Enqueue the replies that may go now; returns how many."""
    return len(posting.dispatch_due().dispatched)


@shared_task(name="helpdesk.tasks.sweep_replies", ignore_result=True)
def sweep_replies() -> None:
    """Settle replies stuck in ``sending`` and redispatch lost ones."""
    posting.sweep_replies()
