"""Intake's event handler: the status view of each complaint, kept from dispatch's ``complaint.*``.

One queue, ``complaint-status``, bound to every work-order event of the catalogue. The kernel runs
the handler in a unit of work with the inbox under ``intake.complaint-status``
(``propcare_shared.handling``), so a redelivered event has no second effect; beyond that the status
moves only forward in ``seq`` and each event id is one timeline entry, so events that arrive out of
order or twice under two ids leave the view at the latest state.
"""

from __future__ import annotations

import logging

from intake import complaints
from intake.store import IntakeStore
from propcare_shared.context import ServiceContext
from propcare_shared.events.catalogue import WORK_ORDER_EVENTS
from propcare_shared.events.envelope import Event
from propcare_shared.events.outbox import Transaction
from propcare_shared.handling import Handles

log = logging.getLogger(__name__)


def on_work_order_changed(context: ServiceContext, tx: Transaction, event: Event) -> bool:
    """Apply one of dispatch's changes of a complaint to its status view; tell whether the view changed."""
    return complaints.follow(tx, store=IntakeStore(context.database, clock=context.clock), event=event)


def _log_follow(_context: ServiceContext, event: Event, changed: bool) -> None:
    log.info(
        "complaint status followed" if changed else "complaint status unchanged (an older or repeated event)",
        extra={"complaint_id": event.data["complaint_id"], "event_type": event.type, "seq": event.seq, "status": event.data["status"]},
    )


HANDLERS = (Handles("complaint-status", WORK_ORDER_EVENTS, on_work_order_changed, after=_log_follow),)
