"""Analytics' consumers: ``all-events``, bound to every event type a read model is folded from, and
``estate-upserted``, the kernel's copy of the directory's estates (``propcare_shared.directory``).

The kernel runs the handler in a unit of work with the inbox (``propcare_shared.handling``): the
read-model writes, the inbox marker and any ``hotspot.detected`` commit together, so a redelivered
event raises ``AlreadyHandled`` (counted as a duplicate and acknowledged) and has no second effect.
The fold itself is idempotent and order-independent too (``domain.facts``), so the same fact
arriving under two event ids, or events of one complaint arriving out of order, give the same facts.
The queue is bound to the projected types only (``projection.PROJECTED``): an event that changes no
read model never reaches analytics, so it costs no transaction and leaves no inbox marker.
"""

from __future__ import annotations

import logging

from analytics.projection import PROJECTED, Detection, project
from analytics.store import AnalyticsStore
from propcare_shared.context import ServiceContext
from propcare_shared.directory import keeps_estates
from propcare_shared.events.envelope import Event
from propcare_shared.events.outbox import Transaction
from propcare_shared.handling import Handles
from propcare_shared.tenancy import region_key

log = logging.getLogger(__name__)


def on_event(context: ServiceContext, tx: Transaction, event: Event) -> list[Detection]:
    """Project an event into the read models; return the hotspots it made analytics announce."""
    return project(tx, store=AnalyticsStore(context.database, clock=context.clock), event=event)


def _log_detections(_context: ServiceContext, _event: Event, detections: list[Detection]) -> None:
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


HANDLERS = (Handles("all-events", PROJECTED, on_event, after=_log_detections), keeps_estates())
