"""Analytics' consumer: one queue bound to every event (``#``), one idempotent handler.

Each projected event is applied in ``context.uow.run(..., handled_event=event, consumer=...)``: its
read-model writes, the inbox marker and any ``hotspot.detected`` commit together, so a redelivered
event raises ``AlreadyHandled`` (counted as a duplicate and acknowledged) and has no second effect.
The fold itself is idempotent and order-independent too (``domain.facts``), so the same fact
arriving under two event ids, or events of one complaint arriving out of order, give the same facts.
Events that change no read model are acknowledged without a transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from analytics.projection import is_projected, project
from analytics.store import AnalyticsStore
from propcare_shared.events.bus import Subscription
from propcare_shared.events.envelope import Event
from propcare_shared.http.app import ServiceContext
from propcare_shared.tenancy import region_key

log = logging.getLogger(__name__)

SERVICE = "analytics"
PURPOSE = "all-events"
CONSUMER = f"{SERVICE}.{PURPOSE}"


def subscriptions(context: ServiceContext) -> list[Subscription]:
    """Return analytics' consumer queue: every event type, one handler."""
    store = AnalyticsStore(context.database, clock=context.clock)
    return [Subscription(PURPOSE, ("#",), on_event(context, store))]


def on_event(context: ServiceContext, store: AnalyticsStore) -> Callable[[Event], None]:
    """Return the handler that projects an event into the read models."""

    def handle(event: Event) -> None:
        if not is_projected(event.type):
            return
        detections = context.uow.run(lambda tx: project(tx, store=store, event=event), handled_event=event, consumer=CONSUMER)
        for detection in detections:
            group_id, estate_id, building, subcategory = detection.key
            log.info(
                "hotspot detected",
                extra={
                    "group_id": group_id,
                    "region": region_key(group_id, detection.region_id),
                    "estate_id": estate_id,
                    "building": building,
                    "subcategory": subcategory,
                    "count": detection.window.count,
                    "start_day": detection.window.start_day.isoformat(),
                },
            )

    return handle
