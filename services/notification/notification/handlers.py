"""Notification's consumer: one queue for every event it tells someone about, one idempotent handler.

One queue, so the broker's order holds between ``complaint.received`` and the events dispatch
derives from it. Each event is recorded in ``context.uow.run(..., handled_event=event, consumer=...)``:
the messages, the call tasks and the inbox marker commit together, so a redelivered event raises
``AlreadyHandled`` (counted as a duplicate and acknowledged) and records nothing twice. Nothing is
sent here: the worker's dispatch loop sends what was recorded (``dispatcher``).
"""

from __future__ import annotations

from collections.abc import Callable

from notification import metrics
from notification.messages import record
from notification.store import SKIPPED, NotificationStore
from propcare_shared.events.bus import Subscription
from propcare_shared.events.envelope import Event
from propcare_shared.http.app import ServiceContext
from propcare_shared.sealing import Sealer

SERVICE = "notification"
PURPOSE = "messages"
CONSUMER = f"{SERVICE}.{PURPOSE}"
EVENT_TYPES = (
    "complaint.received",
    "complaint.classified",
    "complaint.assigned",
    "complaint.responded",
    "complaint.on_hold",
    "complaint.resumed",
    "complaint.resolved",
    "complaint.reopened",
    "complaint.escalated",
    "sla.warning",
    "sla.breached",
    "survey.invited",
)


def subscriptions(context: ServiceContext) -> list[Subscription]:
    """Return notification's consumer queue and its handler."""
    return [Subscription(PURPOSE, EVENT_TYPES, on_event(context, NotificationStore(context.database)))]


def on_event(context: ServiceContext, store: NotificationStore) -> Callable[[Event], None]:
    """Return the handler that records the messages an event asks for."""
    sealer = Sealer(context.settings.personal_data_keys)

    def handle(event: Event) -> None:
        recorded = context.uow.run(
            lambda tx: record(tx, store=store, event=event, now=context.clock(), sealer=sealer), handled_event=event, consumer=CONSUMER
        )
        for message in recorded:
            if message["status"] == SKIPPED:
                metrics.count(message["channel"], "skipped")

    return handle
