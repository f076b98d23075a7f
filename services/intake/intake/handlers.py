"""Intake's event handler: the status view of each complaint, kept from dispatch's ``complaint.*``.

One queue, ``complaint-status``, bound to every work-order event of the catalogue. The handler runs
in a unit of work with the inbox, so a redelivered event has no second effect; beyond that the
status moves only forward in ``seq`` and each event id is one timeline entry, so events that arrive
out of order or twice under two ids leave the view at the latest state.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from intake import complaints
from intake.store import IntakeStore
from propcare_shared.events.bus import Subscription
from propcare_shared.events.catalogue import WORK_ORDER_EVENTS
from propcare_shared.events.envelope import Event
from propcare_shared.http.app import ServiceContext

log = logging.getLogger(__name__)

SERVICE = "intake"


def subscriptions(context: ServiceContext) -> list[Subscription]:
    """Return intake's consumer queues and their handlers."""
    store = IntakeStore(context.database, clock=context.clock)
    return [Subscription("complaint-status", WORK_ORDER_EVENTS, on_work_order_changed(context, store))]


def on_work_order_changed(context: ServiceContext, store: IntakeStore) -> Callable[[Event], None]:
    """Return the handler that follows dispatch's changes of a complaint."""

    def handle(event: Event) -> None:
        changed = context.uow.run(
            lambda tx: complaints.follow(tx, store=store, event=event),
            handled_event=event,
            consumer=f"{SERVICE}.complaint-status",
        )
        log.info(
            "complaint status followed" if changed else "complaint status unchanged (an older or repeated event)",
            extra={"complaint_id": event.data["complaint_id"], "event_type": event.type, "seq": event.seq, "status": event.data["status"]},
        )

    return handle
