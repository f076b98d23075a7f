"""Intake's scrape-time gauge (``propcare_shared.metrics``): 12345 hotline transfers by state and region.

``hotline_transfers{state,region}`` counts the transfers in ``hotline_transfers`` now, read when
Prometheus scrapes the worker that leads the gauges (one per deployment, never the web replicas).
Labels are bounded: ``state`` is one of ``intake.domain.hotline.STATES`` (8), ``region`` the region
within its group (``G1/R1``) or ``unknown`` for a transfer still in triage: never a ticket or a caller.
"""

from __future__ import annotations

from collections.abc import Iterator

from pymongo.database import Database

from intake.domain.hotline import STATES
from intake.hotline_store import TRANSFERS
from propcare_shared.context import ServiceContext
from propcare_shared.metrics import GaugeSource, Sample
from propcare_shared.tenancy import region_key

HELP = "12345 hotline transfers now in each state, per region."


class HotlineTransfers:
    """Counts the transfers per state and region with one aggregation."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def read(self) -> Iterator[tuple[str, str, Sample]]:
        """Yield ``hotline_transfers``, 0 for every state of every region seen."""
        pipeline = [{"$group": {"_id": {"state": "$state", "group_id": "$group_id", "region_id": "$region_id"}, "count": {"$sum": 1}}}]
        counts: dict[tuple[str, str], int] = {}
        for row in self.database[TRANSFERS].aggregate(pipeline):
            key = (str(row["_id"].get("state")), region_key(row["_id"].get("group_id"), row["_id"].get("region_id")) or "unknown")
            counts[key] = counts.get(key, 0) + row["count"]
        regions = {region for _, region in counts}
        for state, region in sorted({(state, region) for state in STATES for region in regions} | set(counts)):
            yield "hotline_transfers", HELP, ({"state": state, "region": region}, float(counts.get((state, region), 0)))


def scrape_gauges(context: ServiceContext) -> list[GaugeSource]:
    """Return intake's scrape-time gauges."""
    return [HotlineTransfers(context.database)]
