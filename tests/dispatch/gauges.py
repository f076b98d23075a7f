"""Render what dispatch's worker exports at scrape time (its open and overdue gauges), as Prometheus scrapes it."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from dispatch.metrics import OpenComplaints
from dispatch.store import DispatchStore
from propcare_shared.context import ServiceContext
from propcare_shared.metrics import ScrapeGauges, ServiceGauges


def scraped_gauges(context: ServiceContext) -> str:
    """Return the exposition text of dispatch's scrape-time gauges, as the gauge leader serves them."""
    collector = ScrapeGauges()
    source = OpenComplaints(store=DispatchStore(context.database, clock=context.clock), clock=context.clock)
    collector.add(ServiceGauges(service="dispatch", database=context.database, leader=lambda: True, sources=[source]))
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)  # type: ignore[arg-type]
    return generate_latest(registry).decode()
