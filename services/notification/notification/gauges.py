"""Notification's scrape-time gauge (``propcare_shared.metrics``): the 12345 hotline callbacks by delivery state.

``hotline_callbacks{state}`` counts the callbacks in ``hotline_callbacks`` by the state the hotline
is told (``pending``, ``failing``, ``delivered``: ``sending`` reads as ``pending``), read when
Prometheus scrapes the worker that leads the gauges. A callback that keeps failing is never given up,
so ``failing`` above 0 for long is what an operator looks at (docs/RUNBOOK.md).
"""

from __future__ import annotations

from collections.abc import Iterator

from pymongo.database import Database

from notification.domain.hotline import REPORTED_STATES
from notification.store import HOTLINE_CALLBACKS
from propcare_shared.context import ServiceContext
from propcare_shared.metrics import GaugeSource, Sample

HELP = "12345 hotline callbacks by delivery state."


class HotlineCallbacks:
    """Counts the callbacks per reported state with one aggregation."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def read(self) -> Iterator[tuple[str, str, Sample]]:
        """Yield ``hotline_callbacks`` for each reported state (0 when none)."""
        counts = dict.fromkeys(sorted(set(REPORTED_STATES.values())), 0)
        for row in self.database[HOTLINE_CALLBACKS].aggregate([{"$group": {"_id": "$status", "count": {"$sum": 1}}}]):
            state = REPORTED_STATES.get(str(row["_id"]), "pending")
            counts[state] += row["count"]
        for state, count in counts.items():
            yield "hotline_callbacks", HELP, ({"state": state}, float(count))


def scrape_gauges(context: ServiceContext) -> list[GaugeSource]:
    """Return notification's scrape-time gauges."""
    return [HotlineCallbacks(context.database)]
