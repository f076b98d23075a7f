"""Analytics' hotspot records: detected hotspots, the per-cluster markers that serialise their checks,
and each scope's own hotspot figures. ``AnalyticsStore`` (``analytics.store``) inherits these methods.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.client_session import ClientSession
from pymongo.database import Database

from analytics.domain.hotspot_settings import HotspotSetting
from analytics.domain.hotspots import Member, Window
from propcare_shared.clock import Clock

COMPLAINT_FACTS = "complaint_facts"
HOTSPOTS = "hotspots"
HOTSPOT_CLUSTERS = "hotspot_clusters"
HOTSPOT_SETTINGS = "hotspot_settings"
ClusterKey = tuple[str, str, str, str]


class HotspotRecords:
    """Hotspot reads and writes over ``database``."""

    database: Database
    clock: Clock

    # hotspots ----------------------------------------------------------------------------------

    def lock_cluster(self, key: ClusterKey, *, session: ClientSession) -> None:
        """Write the cluster's marker, so that concurrent checks of one cluster conflict and run one after the other."""
        self.database[HOTSPOT_CLUSTERS].update_one(
            {"_id": _cluster_fields(key)},
            {"$inc": {"checks": 1}, "$set": {"checked_at": self.clock()}},
            upsert=True,
            session=session,
        )

    def cluster_members(self, key: ClusterKey, *, since: datetime, until: datetime, session: ClientSession | None = None) -> list[Member]:
        """Return the complaints of a cluster, cancelled ones left out, received in ``[since, until]``."""
        documents = self.database[COMPLAINT_FACTS].find(
            {
                **_cluster_fields(key),
                "received_at": {"$gte": since, "$lte": until},
                "status": {"$ne": "cancelled"},
            },
            {"received_at": 1},
            session=session,
        )
        return [Member(complaint_id=document["_id"], received_at=document["received_at"]) for document in documents]

    def record_hotspot(
        self,
        key: ClusterKey,
        *,
        window: Window,
        region_id: str | None,
        category: str | None,
        setting: HotspotSetting,
        session: ClientSession,
    ) -> bool:
        """Keep a hotspot unless one of the same cluster and start day is kept; tell whether it is new."""
        document_id = {**_cluster_fields(key), "start_day": window.start_day.isoformat()}
        result = self.database[HOTSPOTS].update_one(
            {"_id": document_id},
            {
                "$setOnInsert": {
                    **_cluster_fields(key),
                    "region_id": region_id,
                    "category": category,
                    "start_day": window.start_day.isoformat(),
                    "window_start": window.start,
                    "window_end": window.end,
                    "count": window.count,
                    "threshold": setting.threshold,
                    "days": setting.days,
                    "complaint_ids": [member.complaint_id for member in window.members],
                    "detected_at": self.clock(),
                }
            },
            upsert=True,
            session=session,
        )
        return result.upserted_id is not None

    def top_locations(self, *, query: Mapping[str, Any], since: datetime, until: datetime, limit: int) -> tuple[int, list[dict[str, Any]]]:
        """Return the complaints in ``[since, until)`` (cancelled left out) and the busiest (estate, building, subcategory) among them."""
        match = {"$and": [dict(query), {"received_at": {"$gte": since, "$lt": until}}, {"status": {"$ne": "cancelled"}}]}
        sort = {
            "count": DESCENDING,
            "_id.group_id": ASCENDING,
            "_id.estate_id": ASCENDING,
            "_id.building": ASCENDING,
            "_id.subcategory": ASCENDING,
        }
        location = {"group_id": "$group_id", "estate_id": "$estate_id", "building": "$building", "subcategory": "$subcategory"}
        found = self.database[COMPLAINT_FACTS].aggregate(
            [
                {"$match": match},
                {
                    "$facet": {  # one pass over the period's facts for both the total and the busiest locations
                        "total": [{"$count": "n"}],
                        "rows": [
                            {"$match": {"subcategory": {"$ne": None}}},
                            {"$group": {"_id": location, "count": {"$sum": 1}, "category": {"$max": "$category"}}},
                            {"$sort": sort},
                            {"$limit": limit},
                        ],
                    }
                },
            ]
        )
        result = next(found)
        total = result["total"][0]["n"] if result["total"] else 0
        return total, [{**row["_id"], "count": row["count"], "category": row["category"]} for row in result["rows"]]

    def last_detections(self, *, query: Mapping[str, Any], since: datetime) -> dict[ClusterKey, datetime]:
        """Return when each cluster was last announced, for hotspots whose window ends at or after ``since``."""
        latest: dict[ClusterKey, datetime] = {}
        for document in self.database[HOTSPOTS].find({"$and": [dict(query), {"window_end": {"$gte": since}}]}):
            key = (document["group_id"], document["estate_id"], document["building"], document["subcategory"])
            latest[key] = max(latest.get(key, document["detected_at"]), document["detected_at"])
        return latest

    # hotspot settings --------------------------------------------------------------------------

    def hotspot_overrides(self, keys: Iterable[str], *, session: ClientSession | None = None) -> dict[str, dict[str, Any]]:
        """Return the own hotspot figures of these scope keys, by key."""
        found = self.database[HOTSPOT_SETTINGS].find({"_id": {"$in": list(keys)}}, session=session)
        return {document["_id"]: document for document in found}

    def put_hotspot_override(self, *, key: str, group_id: str, figures: Mapping[str, int], actor_id: str) -> bool:
        """Replace a scope's own hotspot figures; tell whether the scope had none before."""
        document = {"_id": key, "group_id": group_id, **dict(figures), "updated_at": self.clock(), "updated_by": actor_id}
        result = self.database[HOTSPOT_SETTINGS].replace_one({"_id": key}, document, upsert=True)
        return result.upserted_id is not None

    def delete_hotspot_override(self, key: str) -> bool:
        """Remove a scope's own hotspot figures; tell whether it had any."""
        return self.database[HOTSPOT_SETTINGS].delete_one({"_id": key}).deleted_count == 1


def _cluster_fields(key: ClusterKey) -> dict[str, str]:
    group_id, estate_id, building, subcategory = key
    return {"group_id": group_id, "estate_id": estate_id, "building": building, "subcategory": subcategory}
