"""Dispatch, declared once: indexes, routes, handlers, the SLA escalation scanner, scrape-time gauges (``propcare_shared.service``).

The scanner runs every ``SLA_SCAN_INTERVAL`` seconds beside the consumer; each step of a target
fires once however many scanners run (``dispatch.escalation``).
"""

from __future__ import annotations

from dispatch.config import DispatchConfig
from dispatch.escalation import scanner_loop
from dispatch.handlers import HANDLERS
from dispatch.metrics import OpenComplaints
from dispatch.store import INDEXES, RETIRED_INDEXES, DispatchStore
from propcare_shared.context import ServiceContext
from propcare_shared.metrics import GaugeSource
from propcare_shared.service import ServiceDefinition
from propcare_shared.worker import PeriodicLoop


def scrape_gauges(context: ServiceContext) -> list[GaugeSource]:
    """Return the gauges the worker reads from MongoDB at scrape time: open and overdue complaints."""
    return [OpenComplaints(store=DispatchStore(context.database, clock=context.clock), clock=context.clock)]


def periodic_loops(context: ServiceContext) -> list[PeriodicLoop]:
    """Return the loops the worker runs beside its consumer: the SLA escalation scanner."""
    return [scanner_loop(context)]


DISPATCH = ServiceDefinition(
    name="dispatch",
    title="Propcare dispatch",
    routes="dispatch.api",
    indexes=INDEXES,
    retired_indexes=RETIRED_INDEXES,
    handlers=HANDLERS,
    loops=periodic_loops,
    config=DispatchConfig.from_env,
    gauges=scrape_gauges,
)
