"""The worker's periodic passes: follow-ups (reminders, then expiries) and campaigns (openings, reminders, closings).

Each invitation or campaign is changed in its own unit of work with a conditional update
(``followups``, ``campaigns``), so two workers passing at once, or a worker restarted halfway, send,
remind, expire and close each one once.
"""

from __future__ import annotations

import logging

from propcare_shared.context import ServiceContext
from survey import campaigns, followups
from survey.campaign_store import CampaignStore
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


def campaign_pass(context: ServiceContext) -> tuple[int, int, int]:
    """Send the invitations of campaigns that opened, remind the online ones due, close the campaigns that ended; return the counts."""
    surveys = SurveyStore(context.database, clock=context.clock)
    store = CampaignStore(context.database)
    now = context.clock()

    def close(campaign_id: str) -> bool:
        return bool(context.uow.run(lambda tx: campaigns.close(tx, store=store, campaign_id=campaign_id, now=now)))

    def send(invitation_id: str) -> bool:
        return bool(
            context.uow.run(lambda tx: campaigns.open_invitation(tx, store=store, context=context, invitation_id=invitation_id, now=now))
        )

    def remind(invitation_id: str) -> bool:
        return bool(
            context.uow.run(lambda tx: campaigns.remind(tx, surveys=surveys, context=context, invitation_id=invitation_id, now=now))
        )

    # Closing first: an invitation of a campaign that ended is expired, never sent or reminded late.
    closed = sum(close(campaign_id) for campaign_id in store.due_closings(now=now, limit=BATCH))
    sent = sum(send(invitation_id) for invitation_id in store.due_openings(now=now, limit=BATCH))
    reminded = sum(remind(invitation_id) for invitation_id in store.due_reminders(now=now, limit=BATCH))
    if sent or reminded or closed:
        log.info("campaigns passed", extra={"sent": sent, "reminded": reminded, "closed": closed})
    return sent, reminded, closed
