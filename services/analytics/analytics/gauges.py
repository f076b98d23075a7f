"""Analytics' scrape-time gauges (``propcare_shared.metrics``): hotspots and satisfaction per region, from its read models.

Read when Prometheus scrapes the worker that leads the gauges (one per deployment), over rolling
windows of the clock's now, so each is one PromQL division away from the figure a dashboard shows:

- ``hotspots_active{region,category}``: hotspots whose window ended within the last 7 days;
- ``followup_surveys{region,state}``: follow-ups of complaints invited within 30 days, ``invited``,
  ``answered`` and ``satisfied`` (response rate = answered / invited, CSAT = satisfied / answered);
- ``campaign_households{region,state}``: households ``sampled`` and ``responded`` in campaigns
  started within 90 days (campaign response rate = responded / sampled);
- ``nps_answers{region,class}``: campaign answers within 90 days by ``promoter`` (9-10),
  ``passive`` (7-8) and ``detractor`` (0-6) (NPS = 100 x (promoters - detractors) / answers).

Labels are bounded: region within its group (about 20), category of the taxonomy, fixed states and
classes: never an estate, a household, a complaint or a person.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from pymongo.database import Database

from propcare_shared.clock import Clock
from propcare_shared.context import ServiceContext
from propcare_shared.metrics import GaugeSource, Sample
from propcare_shared.tenancy import region_key

HOTSPOT_DAYS = 7
FOLLOWUP_DAYS = 30
CAMPAIGN_DAYS = 90
UNKNOWN = "unknown"


def _region(row: dict[str, Any]) -> str:
    return region_key(row.get("group_id"), row.get("region_id")) or UNKNOWN


def nps_class(recommend: int) -> str:
    """Return the NPS class of a 0-10 answer."""
    return "promoter" if recommend >= 9 else "passive" if recommend >= 7 else "detractor"


class SatisfactionGauges:
    """Hotspots, follow-ups, campaign responses and NPS answers per region."""

    def __init__(self, database: Database, clock: Clock) -> None:
        self.database = database
        self.clock = clock

    def read(self) -> Iterator[tuple[str, str, Sample]]:
        """Yield the four families (each a few aggregations over indexed time windows)."""
        yield from self._hotspots()
        yield from self._followups()
        yield from self._campaigns()

    def _hotspots(self) -> Iterator[tuple[str, str, Sample]]:
        since = self.clock() - timedelta(days=HOTSPOT_DAYS)
        pipeline: list[dict[str, Any]] = [
            {"$match": {"window_end": {"$gte": since}}},
            {"$group": {"_id": {"group_id": "$group_id", "region_id": "$region_id", "category": "$category"}, "count": {"$sum": 1}}},
        ]
        for row in self.database["hotspots"].aggregate(pipeline):
            labels = {"region": _region(row["_id"]), "category": str(row["_id"].get("category") or UNKNOWN)}
            yield "hotspots_active", "Hotspots detected within the last 7 days.", (labels, float(row["count"]))

    def _followups(self) -> Iterator[tuple[str, str, Sample]]:
        since = self.clock() - timedelta(days=FOLLOWUP_DAYS)
        answered = {"$ne": ["$survey.answered_at", None]}
        pipeline: list[dict[str, Any]] = [
            {"$match": {"survey.invited_at": {"$gte": since}}},
            {
                "$group": {
                    "_id": {"group_id": "$group_id", "region_id": "$region_id"},
                    "invited": {"$sum": 1},
                    "answered": {"$sum": {"$cond": [answered, 1, 0]}},
                    "satisfied": {"$sum": {"$cond": [{"$eq": ["$survey.satisfied", True]}, 1, 0]}},
                }
            },
        ]
        for row in self.database["complaint_facts"].aggregate(pipeline):
            for state in ("invited", "answered", "satisfied"):
                labels = {"region": _region(row["_id"]), "state": state}
                yield "followup_surveys", "Follow-ups of complaints invited within 30 days.", (labels, float(row[state]))

    def _campaigns(self) -> Iterator[tuple[str, str, Sample]]:
        since = self.clock() - timedelta(days=CAMPAIGN_DAYS)
        campaigns = {c["_id"]: c for c in self.database["campaigns"].find({"started_at": {"$gte": since}})}
        households: dict[tuple[str, str], float] = {}
        for campaign in campaigns.values():
            region = _region(campaign)
            for state, value in (("sampled", campaign.get("sample_size")), ("responded", campaign.get("responded"))):
                households[(region, state)] = households.get((region, state), 0.0) + float(value or 0)
        for (region, state), value in sorted(households.items()):
            yield (
                "campaign_households",
                "Households sampled and responded in campaigns of the last 90 days.",
                (
                    {"region": region, "state": state},
                    value,
                ),
            )
        answers: dict[tuple[str, str], float] = {}
        found = self.database["campaign_answers"].find({"campaign_id": {"$in": list(campaigns)}, "recommend": {"$ne": None}})
        for answer in found:
            key = (_region(campaigns[answer["campaign_id"]]), nps_class(int(answer["recommend"])))
            answers[key] = answers.get(key, 0.0) + 1
        for region in sorted({region for region, _ in answers}):
            for kind in ("promoter", "passive", "detractor"):
                labels = {"region": region, "class": kind}
                yield "nps_answers", "Campaign answers of the last 90 days by NPS class.", (labels, answers.get((region, kind), 0.0))


def scrape_gauges(context: ServiceContext) -> list[GaugeSource]:
    """Return analytics' scrape-time gauges."""
    return [SatisfactionGauges(context.database, context.clock)]
