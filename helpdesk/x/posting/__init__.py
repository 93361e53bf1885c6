"""Posting approved replies to X, each at most once, under each account's rate limits.

The outbox is the reply row itself in state ``queued``. Three functions move it:

* :func:`dispatch_due` (:mod:`.plan`; beat, every few seconds) plans each account's queue in
  priority order under its budget (its own count of posts in the last window, X's
  ``x-rate-limit-*`` headers and 429s), writes when each waiting reply is expected to go
  (``scheduled_for``) and enqueues a send task for each reply that may go now.
* :func:`send_reply` (:mod:`.send`; the task) claims the reply by one conditional update that
  sets ``sending_since`` *before* calling X. A reply with ``sending_since`` set is never
  posted again until someone has looked on X: after a timeout, a connection error, a 5xx or a
  "duplicate content" 403, the task reads the account's recent posts for a reply to that
  tweet first, and only when there is none does the reply go back to the queue.
* :func:`sweep_replies` (:mod:`.sweep`; beat) settles replies whose sender died (a killed
  worker, a lost task): past ``stuck_after()`` it looks on X the same way, and redispatches
  queued replies whose task never ran.

Why this gives "at most once": a POST is only ever made by the holder of the claim, the
claim is only given back after a look on X found nothing, and the look happens only after
the POST's own request has ended (the sender's) or cannot still be running (the sweep waits
longer than two HTTP timeouts). Should X make a post visible only after our look, the
retry posts the same text to the same account and X's duplicate-content rule refuses it;
that 403 makes us look again.
"""

from helpdesk.x.posting.common import stuck_after
from helpdesk.x.posting.plan import (
    DispatchResult,
    dispatch_due,
    plan_account,
    plan_for,
    plan_linked,
)
from helpdesk.x.posting.send import delete_from_x, send_reply, send_reply_task
from helpdesk.x.posting.sweep import SweepResult, sweep_replies

__all__ = [
    "DispatchResult",
    "SweepResult",
    "delete_from_x",
    "dispatch_due",
    "plan_account",
    "plan_for",
    "plan_linked",
    "send_reply",
    "send_reply_task",
    "stuck_after",
    "sweep_replies",
]
