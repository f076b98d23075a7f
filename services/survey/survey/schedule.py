"""The worker's periodic pass over pending invitations: reminders, then expiries.

Each invitation is changed in its own unit of work with a conditional update (``followups``), so two
workers passing at once, or a worker restarted halfway, remind and expire each invitation once.
"""

from __future__ import annotations

import logging

from propcare_shared.context import ServiceContext
from survey import followups
from survey.store import SurveyStore

log = logging.getLogger(__name__)
BATCH = 500


def follow_up_pass(context: ServiceContext) -> tuple[int, int]:
    """Send the reminders and close the expired invitations that are due; return how many of each."""
    store = SurveyStore(context.database, clock=context.clock)
    now = context.clock()

    def remind(invitation_id: str) -> bool:
        return bool(context.uow.run(lambda tx: followups.remind(tx, store=store, context=context, invitation_id=invitation_id, now=now)))

    def expire(invitation_id: str) -> bool:
        return bool(context.uow.run(lambda tx: followups.expire(tx, store=store, invitation_id=invitation_id, now=now)))

    reminded = sum(remind(invitation_id) for invitation_id in store.due_reminders(now=now, limit=BATCH))
    expired = sum(expire(invitation_id) for invitation_id in store.due_expiries(now=now, limit=BATCH))
    if reminded or expired:
        log.info("follow-ups passed", extra={"reminded": reminded, "expired": expired})
    return reminded, expired
