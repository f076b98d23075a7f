"""Analytics, declared once: its indexes, routes and consumer queue (``propcare_shared.service``).

Analytics runs no periodic loop: its worker consumes and relays its outbox (``hotspot.detected``).
"""

from __future__ import annotations

from analytics import gauges as analytics_gauges
from analytics.handlers import HANDLERS
from analytics.store import INDEXES
from propcare_shared.service import ServiceDefinition

ANALYTICS = ServiceDefinition(
    name="analytics",
    title="Propcare analytics",
    routes="analytics.routes",
    indexes=INDEXES,
    handlers=HANDLERS,
    gauges=analytics_gauges.scrape_gauges,
)
