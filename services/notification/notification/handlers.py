"""Notification's consumer: one queue for every event it tells someone about, one flat handler.

Queue ``messages``: one queue, so the broker's order holds between ``complaint.received`` and the
events dispatch derives from it, and between intake's ``directory.estate.upserted`` and the
``directory.households.imported`` of that estate (the household contact book, ``directory``). The
kernel runs the handler in a unit of work with the inbox
(``propcare_shared.handling``): the messages, the call tasks and the inbox marker commit together, so
a redelivered event raises ``AlreadyHandled`` (counted as a duplicate and acknowledged) and records
nothing twice. The same unit of work records the callbacks owed to the 12345 hotline
(``hotline_callbacks``). Nothing is sent here: the worker's dispatch loop sends what was recorded
(``dispatcher``), and its hotline loop the callbacks (``hotline_sender``).
"""

from __future__ import annotations

from typing import Any

from notification import metrics
from notification.config import config_of
from notification.hotline_callbacks import record_callback
from notification.hotline_store import CallbackStore
from notification.messages import record
from notification.store import SKIPPED, NotificationStore
from propcare_shared.context import ServiceContext
from propcare_shared.events.envelope import Event
from propcare_shared.events.outbox import Transaction
from propcare_shared.handling import Handles
from propcare_shared.sealing import Sealer

EVENT_TYPES = (
    "complaint.received",
    "complaint.classified",
    "complaint.assigned",
    "complaint.responded",
    "complaint.on_hold",
    "complaint.resumed",
    "complaint.resolved",
    "complaint.reopened",
    "complaint.closed",
    "complaint.cancelled",
    "complaint.updated_by_resident",
    "complaint.escalated",
    "sla.warning",
    "sla.breached",
    "survey.invited",
    "complaint.plan_submitted",
    "complaint.progress_updated",
    "hotline.accepted",
    "hotline.returned",
    "hotline.extension_requested",
    "directory.estate.upserted",
    "directory.households.imported",
)


def on_event(context: ServiceContext, tx: Transaction, event: Event) -> list[dict[str, Any]]:
    """Record the messages and the hotline callback an event asks for; return the messages."""
    store = NotificationStore(context.database, clock=context.clock)
    config = config_of(context)
    now = context.clock()
    recorded = record(tx, store=store, event=event, now=now, sealer=Sealer(config.personal_data_keys), opt_out=config.opt_out)
    callbacks = CallbackStore(context.database)
    record_callback(tx, contacts=store, callbacks=callbacks, event=event, now=now, callback_url=config.hotline_callback_url)
    return recorded


def _count_skipped(_context: ServiceContext, _event: Event, recorded: list[dict[str, Any]]) -> None:
    for message in recorded:
        if message["status"] == SKIPPED:
            metrics.count(message["channel"], "skipped")


MESSAGES = Handles("messages", EVENT_TYPES, on_event, after=_count_skipped)
HANDLERS = (MESSAGES,)
