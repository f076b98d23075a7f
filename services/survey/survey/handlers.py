"""Survey's event handler: a follow-up invitation for every resolved complaint.

Queue ``complaint-resolved``. The kernel runs the handler in a unit of work with the inbox
(``propcare_shared.handling``), so a redelivered event has no second effect; beyond that one resolve
(complaint id and ``seq``) makes one invitation however often it arrives.
"""

from __future__ import annotations

import logging
from typing import Any

from propcare_shared.context import ServiceContext
from propcare_shared.events.envelope import Event
from propcare_shared.events.outbox import Transaction
from propcare_shared.handling import Handles
from survey import followups
from survey.store import SurveyStore

log = logging.getLogger(__name__)


def on_complaint_resolved(context: ServiceContext, tx: Transaction, event: Event) -> dict[str, Any] | None:
    """Invite the resident to the follow-up survey of a resolved complaint."""
    store = SurveyStore(context.database, clock=context.clock)
    return followups.invite(tx, store=store, context=context, event=event, now=context.clock())


def _log_invitation(_context: ServiceContext, event: Event, invitation: dict[str, Any] | None) -> None:
    log.info(
        "follow-up invitation made" if invitation else "follow-up invitation exists already",
        extra={"complaint_id": event.data["complaint_id"], "invitation_id": invitation["_id"] if invitation else None},
    )


HANDLERS = (Handles("complaint-resolved", ("complaint.resolved",), on_complaint_resolved, after=_log_invitation),)
