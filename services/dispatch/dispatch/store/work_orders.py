"""Work orders and their timeline: the ``work_orders`` and ``timeline`` collections.

- ``work_orders``: one document per complaint, ``_id`` = complaint id; ``next_check_at`` (indexed)
  is when the escalation scanner must look at it next (``dispatch.domain.timers.next_check_at``),
  None when never. Changes are conditional on the ``seq`` the writer read, so a change made
  meanwhile is never overwritten (``update_work_order`` and ``record_escalation`` answer None).
- ``timeline``: one document per change, so a long history never grows the work order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, cast

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.client_session import ClientSession
from pymongo.database import Database

from dispatch.domain.timers import Alert
from dispatch.domain.work_order import TimelineEntry, WorkOrder
from dispatch.domain.workflow import OPEN_STATUSES
from propcare_shared.clock import Clock, utcnow
from propcare_shared.directory import ESTATES
from propcare_shared.mongo import IndexSpec, new_id
from propcare_shared.pagination import paginate
from propcare_shared.tenancy import region_key

WORK_ORDERS = "work_orders"
TIMELINE = "timeline"
TIMELINE_LIMIT = 200
SLA_TARGETS_OPEN = ("response", "onsite", "plan", "resolve")
DueCheck = tuple[datetime, str]
"""When an order's next escalation check falls due, and its id: the scanner's position in a pass."""


def _index(*keys: tuple[str, int], **options: Any) -> IndexSpec:
    return IndexSpec(WORK_ORDERS, list(keys), options or None)


UP, DOWN = ASCENDING, DESCENDING
# Every query on a hot path has an index that serves it, so its cost follows its answer, not the estate's history
# (checked by tests/dispatch/test_query_plans.py; the reasons in docs/PERFORMANCE.md, "Dispatch's queries").
INDEXES: list[IndexSpec] = [
    # Repeat look-ups of a received complaint (``count_recent``): equality on every filtered field, the 30-day range
    # last but one and ``status`` last, so ``status != cancelled`` is decided on the keys and counts read no document.
    _index(("estate_id", UP), ("household_id", UP), ("subcategory", UP), ("received_at", DOWN), ("status", UP)),
    _index(("estate_id", UP), ("building", UP), ("unit", UP), ("room", UP), ("subcategory", UP), ("received_at", DOWN), ("status", UP)),
    _index(("estate_id", UP), ("building", UP), ("subcategory", UP), ("received_at", DOWN), ("status", UP)),
    # Routing's open orders per assignee (``open_counts``), answered from the keys alone.
    _index(("estate_id", UP), ("assignee_id", UP), ("status", UP)),
    # The escalation scanner: the orders whose next check has come, in (time, id) order, answered from the keys alone.
    _index(("next_check_at", UP), ("_id", UP)),
    # Lists, newest first, in the scopes and with the filters of GET /api/v1/work-orders; the gauges' open orders.
    _index(("estate_id", UP), ("_id", DOWN)),
    _index(("estate_id", UP), ("status", UP), ("_id", DOWN)),
    _index(("estate_id", UP), ("assignee_id", UP), ("_id", DOWN)),
    _index(("estate_id", UP), ("tier", UP), ("_id", DOWN)),
    _index(("group_id", UP), ("region_id", UP), ("_id", DOWN)),
    _index(("group_id", UP), ("_id", DOWN)),
    _index(("status", UP), ("group_id", UP), ("_id", DOWN)),
    _index(("region_id", UP), ("status", UP), ("tier", UP)),
    # The review queue (GET /api/v1/work-orders?needs_review=true): only the orders waiting for a person are indexed.
    _index(("needs_review", UP), ("estate_id", UP), ("_id", DOWN), partialFilterExpression={"needs_review": True}),
    IndexSpec(TIMELINE, [("complaint_id", UP), ("at", DOWN), ("_id", DOWN)]),
]
RETIRED_INDEXES: list[tuple[str, str]] = [
    (WORK_ORDERS, "estate_id_1_household_id_1_subcategory_1_received_at_-1"),
    (WORK_ORDERS, "estate_id_1_building_1_subcategory_1_received_at_-1"),
    (WORK_ORDERS, "next_check_at_1"),
    (WORK_ORDERS, "assignee_id_1_status_1"),
]
"""Indexes of earlier versions that the ones above replace (dropped at start-up)."""


class WorkOrderStore:
    """Reads and writes of work orders and their timeline."""

    def __init__(self, database: Database, *, clock: Clock = utcnow) -> None:
        self.database = database
        self.clock = clock

    def open_counts(self, estate_id: str, staff_ids: Iterable[str], *, session: ClientSession | None = None) -> dict[str, int]:
        """Return the number of open work orders per assignee among ``staff_ids``."""
        pipeline = [
            {"$match": {"estate_id": estate_id, "assignee_id": {"$in": list(staff_ids)}, "status": {"$in": list(OPEN_STATUSES)}}},
            {"$group": {"_id": "$assignee_id", "count": {"$sum": 1}}},
        ]
        return {row["_id"]: row["count"] for row in self.database[WORK_ORDERS].aggregate(pipeline, session=session)}

    def work_order(self, complaint_id: str, *, session: ClientSession | None = None) -> WorkOrder | None:
        """Return a work order by its complaint id."""
        return cast("WorkOrder | None", self.database[WORK_ORDERS].find_one({"_id": complaint_id}, session=session))

    def insert_work_order(self, document: WorkOrder, *, session: ClientSession) -> None:
        """Store a new work order."""
        self.database[WORK_ORDERS].insert_one(document, session=session)

    def insert_work_order_if_absent(self, document: WorkOrder, *, session: ClientSession) -> bool:
        """Store a new work order unless one has its id already; tell whether it was stored.

        An upsert that only sets on insert, not an ``insert_one``: a duplicate key error inside a
        transaction aborts it, and the inbox marker of a second ``complaint.received`` of the same
        complaint must still commit. An order that exists is left as it is (no write).
        """
        fields = {key: value for key, value in document.items() if key != "_id"}
        result = self.database[WORK_ORDERS].update_one({"_id": document["_id"]}, {"$setOnInsert": fields}, upsert=True, session=session)
        return result.upserted_id is not None

    def update_work_order(
        self, complaint_id: str, *, expected_seq: int, changes: Mapping[str, Any], events: int, session: ClientSession
    ) -> WorkOrder | None:
        """Apply ``changes`` and advance ``seq`` by ``events`` if nobody changed the order since it was read."""
        updated = self.database[WORK_ORDERS].find_one_and_update(
            {"_id": complaint_id, "seq": expected_seq},
            {"$set": {**changes, "updated_at": self.clock()}, "$inc": {"seq": events}},
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        return cast("WorkOrder | None", updated)

    def due_for_check(self, *, now: datetime, limit: int) -> list[str]:
        """Return the ids of up to ``limit`` work orders whose next escalation check is due, earliest first."""
        return [complaint_id for _, complaint_id in self.due_checks(now=now, limit=limit)]

    def due_checks(self, *, now: datetime, limit: int, after: DueCheck | None = None) -> list[DueCheck]:
        """Return up to ``limit`` (next check, id) of the orders due at ``now``, in that order, strictly after ``after``.

        Served by the keys of ``{next_check_at, _id}`` alone: a pass of the scanner reads the due orders,
        never the others, and pages by the last key it saw, so an order left due (its check failed) is
        not read again by the same pass.
        """
        query: dict[str, Any] = {"next_check_at": {"$lte": now}}
        if after is not None:
            at, complaint_id = after
            query = {"$or": [{"next_check_at": {"$gt": at, "$lte": now}}, {"next_check_at": at, "_id": {"$gt": complaint_id}}]}
        cursor = (
            self.database[WORK_ORDERS]
            .find(query, {"_id": 1, "next_check_at": 1})
            .sort([("next_check_at", ASCENDING), ("_id", ASCENDING)])
            .limit(limit)
        )
        return [(document["next_check_at"], document["_id"]) for document in cursor]

    def record_escalation(
        self,
        complaint_id: str,
        *,
        expected_seq: int,
        alerts: Iterable[Alert],
        changes: Mapping[str, Any],
        events: int,
        session: ClientSession,
    ) -> WorkOrder | None:
        """Apply the scanner's changes only if the order is as read and none of its steps has fired; None otherwise."""
        updated = self.database[WORK_ORDERS].find_one_and_update(
            {"_id": complaint_id, "seq": expected_seq, **unrecorded_filter(alerts)},
            {"$set": {**changes, "updated_at": self.clock()}, "$inc": {"seq": events}},
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        return cast("WorkOrder | None", updated)

    def count_recent(
        self,
        *,
        estate_id: str,
        subcategory: str,
        since: datetime,
        household: Mapping[str, Any] | None = None,
        building: str | None = None,
        session: ClientSession | None = None,
    ) -> int:
        """Count an estate's work orders of a subcategory received since ``since``, for a household or a building."""
        query = _recent(estate_id=estate_id, subcategory=subcategory, since=since)
        if household is not None:
            query.update(household)
        elif building:
            query["building"] = building
        else:
            return 0
        return self.database[WORK_ORDERS].count_documents(query, session=session)

    def count_repeats(
        self,
        *,
        estate_id: str,
        subcategory: str,
        since: datetime,
        household: Mapping[str, Any] | None,
        building: str | None,
        session: ClientSession | None = None,
    ) -> tuple[int, int]:
        """Count a household's and a building's work orders of a subcategory received since ``since``, in one round trip.

        One aggregate that starts from the estate's copy (one document by ``_id``) and counts each
        through a ``$lookup`` whose pipeline ``$match``-es with the very filter of ``count_recent``, so
        each count is served by its own repeat index from the keys alone. Why not ``$facet``: both
        counts would run on one input, one index or a scan; ``$unionWith`` is refused inside a
        transaction. When dispatch has no copy of the estate yet, the two counts run on their own.
        """
        if household is None and not building:
            return 0, 0
        pipeline: list[dict[str, Any]] = [{"$match": {"_id": estate_id}}, {"$project": {"_id": 1}}]
        for name, place in (("household", household), ("building", {"building": building} if building else None)):
            if place is not None:
                query = {**_recent(estate_id=estate_id, subcategory=subcategory, since=since), **place}
                pipeline.append({"$lookup": {"from": WORK_ORDERS, "pipeline": [{"$match": query}, {"$count": "n"}], "as": name}})
        rows = list(self.database[ESTATES].aggregate(pipeline, session=session))
        if not rows:
            scope: dict[str, Any] = {"estate_id": estate_id, "subcategory": subcategory, "since": since, "session": session}
            return self.count_recent(**scope, household=household) if household else 0, self.count_recent(**scope, building=building)
        counts = {name: found[0]["n"] if (found := rows[0].get(name)) else 0 for name in ("household", "building")}
        return counts["household"], counts["building"]

    def append_timeline(self, entries: Iterable[TimelineEntry], *, session: ClientSession) -> None:
        """Append entries to complaints' timelines, each with a new id that sorts by creation."""
        documents = [{"_id": new_id(), **entry} for entry in entries]
        if documents:
            self.database[TIMELINE].insert_many(documents, session=session)

    def timeline(self, complaint_id: str, *, limit: int = TIMELINE_LIMIT) -> list[dict[str, Any]]:
        """Return the last ``limit`` timeline entries of a complaint, oldest first."""
        newest = self.database[TIMELINE].find({"complaint_id": complaint_id}).sort([("at", DESCENDING), ("_id", DESCENDING)]).limit(limit)
        return list(reversed(list(newest)))

    def list_work_orders(self, *, query: dict[str, Any], limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """Return one page of work orders matching ``query``, newest first."""
        return paginate(self.database[WORK_ORDERS], query, limit=limit, cursor=cursor)

    def open_and_overdue(self, *, now: datetime) -> list[dict[str, Any]]:
        """Return open and overdue work-order counts (in all and per target) per tier, region within its group (``G1/R1``) and channel."""
        overdue = {
            "$or": [
                {
                    "$and": [
                        {"$eq": [{"$ifNull": [f"$deadlines.{target}.met_at", None]}, None]},
                        {"$in": [{"$ifNull": [f"$deadlines.{target}.state", "none"]}, ["pending", "breached"]]},
                        {"$lt": [{"$ifNull": [f"$deadlines.{target}.due_at", now]}, now]},
                    ]
                }
                for target in SLA_TARGETS_OPEN
            ]
        }
        pipeline: list[dict[str, Any]] = [
            {"$match": {"status": {"$in": list(OPEN_STATUSES)}}},
            {
                "$group": {
                    "_id": {"tier": "$tier", "group_id": "$group_id", "region_id": "$region_id", "channel": "$channel"},
                    "open": {"$sum": 1},
                    "overdue": {"$sum": {"$cond": [overdue, 1, 0]}},
                    **{f"overdue_{t}": {"$sum": {"$cond": [late, 1, 0]}} for t, late in zip(SLA_TARGETS_OPEN, overdue["$or"], strict=True)},
                }
            },
        ]
        return [
            {
                "tier": row["_id"].get("tier"),
                "region": region_key(row["_id"].get("group_id"), row["_id"].get("region_id")),
                "channel": row["_id"].get("channel"),
                "open": row["open"],
                "overdue": row["overdue"],
                "overdue_targets": {target: row[f"overdue_{target}"] for target in SLA_TARGETS_OPEN},
            }
            for row in self.database[WORK_ORDERS].aggregate(pipeline)
        ]


def _recent(*, estate_id: str, subcategory: str, since: datetime) -> dict[str, Any]:
    """Return the filter of an estate's orders of a subcategory received since ``since`` and not cancelled."""
    return {"estate_id": estate_id, "subcategory": subcategory, "received_at": {"$gte": since}, "status": {"$ne": "cancelled"}}


def overdue_query(now: datetime) -> dict[str, Any]:
    """Return a filter for open work orders with a target past its deadline and not met."""
    return {
        "status": {"$in": list(OPEN_STATUSES)},
        "$or": [
            {
                f"deadlines.{target}.met_at": None,
                f"deadlines.{target}.state": {"$in": ["pending", "breached"]},
                f"deadlines.{target}.due_at": {"$lt": now},
            }
            for target in SLA_TARGETS_OPEN
        ],
    }


def unrecorded_filter(alerts: Iterable[Alert]) -> dict[str, Any]:
    """Return a MongoDB filter matching only while the alerts' targets are unmet, not paused and none of their steps fired."""
    query: dict[str, Any] = {}
    levels: dict[str, set[int]] = {}
    for alert in alerts:
        prefix = f"deadlines.{alert.target}"
        query[f"{prefix}.met_at"] = None
        query[f"{prefix}.state"] = {"$ne": "paused"}
        if alert.step.kind == "warning":
            query[f"{prefix}.warned"] = {"$ne": True}
            continue
        if alert.step.kind == "breached":
            query[f"{prefix}.breached"] = {"$ne": True}
        levels.setdefault(alert.target, set()).add(alert.step.level)
    for target, reached in levels.items():
        query[f"deadlines.{target}.levels"] = {"$nin": sorted(reached)}
    return query
