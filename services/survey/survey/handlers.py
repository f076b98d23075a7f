"""Survey's event handler: a follow-up invitation for every resolved complaint.

Queue ``complaint-resolved``. The handler runs in a unit of work with the inbox, so a redelivered
event has no second effect; beyond that one resolve (complaint id and ``seq``) makes one invitation
however often it arrives.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from propcare_shared.events.bus import Subscription
from propcare_shared.events.envelope import Event
from propcare_shared.http.app import ServiceContext
from survey import followups
from survey.store import SurveyStore

log = logging.getLogger(__name__)

SERVICE = "survey"


def subscriptions(context: ServiceContext) -> list[Subscription]:
    """Return survey's consumer queues and their handlers."""
    store = SurveyStore(context.database, clock=context.clock)
    return [Subscription("complaint-resolved", ("complaint.resolved",), on_complaint_resolved(context, store))]


def on_complaint_resolved(context: ServiceContext, store: SurveyStore) -> Callable[[Event], None]:
    """Return the handler that invites the resident to the follow-up survey."""

    def handle(event: Event) -> None:
        invitation = context.uow.run(
            lambda tx: followups.invite(tx, store=store, settings=context.settings, event=event, now=context.clock()),
            handled_event=event,
            consumer=f"{SERVICE}.complaint-resolved",
        )
        log.info(
            "follow-up invitation made" if invitation else "follow-up invitation exists already",
            extra={"complaint_id": event.data["complaint_id"], "invitation_id": invitation["_id"] if invitation else None},
        )

    return handle
