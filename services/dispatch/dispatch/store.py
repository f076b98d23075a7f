"""Dispatch's MongoDB database: work orders, their timeline, staff, grids and the estates copy.

The only module of dispatch that touches MongoDB, and the only one that writes MongoDB filters
(``unrecorded_filter`` makes the scanner's conditional update of the steps it fires). Every write
that causes events is given the session of a unit of work (``session=tx.session``) by its caller. Staff names are stored here and
nowhere else: never in events, logs or metrics.

Collections:
- ``work_orders``: one document per complaint, ``_id`` = complaint id; ``next_check_at`` (indexed)
  is when the escalation scanner must look at it next (``dispatch.domain.timers.next_check_at``), None when never;
- ``timeline``: one document per change, so a long history never grows the work order;
- ``staff`` and ``grids``: the estate directory, keyed by (estate_id, staff_id / grid_id);
- ``estates``: a copy of intake's estates from ``directory.estate.upserted`` (group, region, time zone);
- ``sla_policies`` and ``calendars``: one document per scope, ``_id`` = the scope's key in the
  deployment (``group:G1``, ``region:G1/R1``, ``estate:NS01``; ``propcare_shared.scope``), with the
  group it belongs to and the cells, closures and extra working days that scope overrides. A region
  is keyed with its group because region ids are only unique inside a group; a document keyed
  ``region:R1`` (written before regions were keyed so) applies to no estate any more.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.client_session import ClientSession
from pymongo.database import Database

from dispatch.domain.assignment import Grid, StaffMember
from dispatch.domain.sla import Policy, effective_policy
from dispatch.domain.timers import Alert
from dispatch.domain.workflow import OPEN_STATUSES
from propcare_shared.calendar import WorkingCalendar
from propcare_shared.clock import Clock, utcnow
from propcare_shared.mongo import IndexSpec, new_id
from propcare_shared.pagination import paginate
from propcare_shared.scope import scope_chain
from propcare_shared.tenancy import region_key

WORK_ORDERS = "work_orders"
TIMELINE = "timeline"
STAFF = "staff"
GRIDS = "grids"
ESTATES = "estates"
SLA_POLICIES = "sla_policies"
CALENDARS = "calendars"
TIMELINE_LIMIT = 200
SLA_TARGETS_OPEN = ("response", "onsite", "plan", "resolve")

INDEXES: list[IndexSpec] = [
    IndexSpec(WORK_ORDERS, [("estate_id", ASCENDING), ("status", ASCENDING), ("_id", DESCENDING)]),
    IndexSpec(WORK_ORDERS, [("assignee_id", ASCENDING), ("status", ASCENDING)]),
    IndexSpec(WORK_ORDERS, [("region_id", ASCENDING), ("status", ASCENDING), ("tier", ASCENDING)]),
    IndexSpec(
        WORK_ORDERS, [("estate_id", ASCENDING), ("household_id", ASCENDING), ("subcategory", ASCENDING), ("received_at", DESCENDING)]
    ),
    IndexSpec(WORK_ORDERS, [("estate_id", ASCENDING), ("building", ASCENDING), ("subcategory", ASCENDING), ("received_at", DESCENDING)]),
    IndexSpec(WORK_ORDERS, [("next_check_at", ASCENDING)]),
    IndexSpec(WORK_ORDERS, [("group_id", ASCENDING), ("region_id", ASCENDING), ("_id", DESCENDING)]),
    IndexSpec(ESTATES, [("group_id", ASCENDING), ("region_id", ASCENDING)]),
    IndexSpec(TIMELINE, [("complaint_id", ASCENDING), ("at", DESCENDING), ("_id", DESCENDING)]),
    IndexSpec(STAFF, [("estate_id", ASCENDING), ("staff_id", ASCENDING)], {"unique": True}),
    IndexSpec(STAFF, [("estate_id", ASCENDING), ("department", ASCENDING), ("role", ASCENDING), ("on_duty", ASCENDING)]),
    IndexSpec(GRIDS, [("estate_id", ASCENDING), ("grid_id", ASCENDING)], {"unique": True}),
    IndexSpec(GRIDS, [("estate_id", ASCENDING), ("buildings", ASCENDING)]),
]


def effective_for(database: Database, scopes: list[str], *, session: ClientSession | None = None) -> tuple[Policy, WorkingCalendar]:
    """Return the defaults and the official calendar overridden by each scope in turn (widest first)."""
    policies = {doc["_id"]: doc for doc in database[SLA_POLICIES].find({"_id": {"$in": scopes}}, session=session)}
    calendars = {doc["_id"]: doc for doc in database[CALENDARS].find({"_id": {"$in": scopes}}, session=session)}
    calendar = WorkingCalendar()
    for scope in scopes:
        if scope in calendars:
            own = calendars[scope]
            calendar = calendar.merged(WorkingCalendar(closures=own["closures"], extra_working_days=own["extra_working_days"]))
    return effective_policy(layers=[policies.get(scope) for scope in scopes]), calendar


def policy_and_calendar_for(
    database: Database, estate: Mapping[str, Any] | None, *, session: ClientSession | None = None
) -> tuple[Policy, WorkingCalendar]:
    """Return the SLA policy and the working calendar in force for an estate: its group's, region's and own overrides."""
    estate = estate or {}
    scopes = scope_chain(group_id=estate.get("group_id"), region_id=estate.get("region_id"), estate_id=estate.get("estate_id"))
    return effective_for(database, scopes, session=session)


class DispatchStore:
    """Reads and writes of dispatch's own database."""

    def __init__(self, database: Database, *, clock: Clock = utcnow) -> None:
        self.database = database
        self.clock = clock

    # estates -----------------------------------------------------------------------------------

    def upsert_estate(
        self,
        *,
        estate_id: str,
        group_id: str,
        region_id: str,
        code: str,
        name: str,
        timezone: str,
        as_of: datetime,
        session: ClientSession | None = None,
    ) -> bool:
        """Keep intake's estate (tenancy and time zone) unless a later version is kept already; tell whether it changed."""
        values = {
            "group_id": group_id,
            "region_id": region_id,
            "code": code,
            "name": name,
            "timezone": timezone,
            "as_of": as_of,
            "updated_at": self.clock(),
        }
        result = self.database[ESTATES].update_one({"_id": estate_id, "as_of": {"$not": {"$gt": as_of}}}, {"$set": values}, session=session)
        if result.matched_count:
            return True
        if self.database[ESTATES].count_documents({"_id": estate_id}, session=session):
            return False
        self.database[ESTATES].insert_one({"_id": estate_id, **values}, session=session)
        return True

    def estate(self, estate_id: str, *, session: ClientSession | None = None) -> dict[str, Any] | None:
        """Return the copy of an estate, or None when dispatch has not heard of it."""
        document = self.database[ESTATES].find_one({"_id": estate_id}, session=session)
        if document is not None:
            document["estate_id"] = document["_id"]
        return document

    def region_keys(self) -> list[str]:
        """Return every region of the known estates within its group (``G1/R1``)."""
        pairs = self.database[ESTATES].aggregate([{"$group": {"_id": {"group_id": "$group_id", "region_id": "$region_id"}}}])
        return sorted(key for pair in pairs if (key := region_key(pair["_id"].get("group_id"), pair["_id"].get("region_id"))))

    def knows_region(self, *, group_id: str, region_id: str) -> bool:
        """Tell whether dispatch knows an estate of a group in a region of that group."""
        return self.database[ESTATES].count_documents({"group_id": group_id, "region_id": region_id}, limit=1) > 0

    # SLA policies and calendars ----------------------------------------------------------------

    def policy_and_calendar_for(
        self, estate: Mapping[str, Any] | None, *, session: ClientSession | None = None
    ) -> tuple[Policy, WorkingCalendar]:
        """Return the SLA policy and working calendar of an estate."""
        return policy_and_calendar_for(self.database, estate, session=session)

    def effective_for(self, scopes: list[str]) -> tuple[Policy, WorkingCalendar]:
        """Return the policy and calendar in force at the last of ``scopes`` (widest first)."""
        return effective_for(self.database, scopes)

    def put_policy(self, *, scope_key: str, group_id: str, tiers: Mapping[str, Any], actor_id: str | None) -> bool:
        """Replace a scope's policy cells (``{tier: {target: {"duration": ISO 8601, "clock"}}}``); tell whether it was new."""
        return self._put_scope(SLA_POLICIES, scope_key, {"group_id": group_id, "tiers": dict(tiers)}, actor_id=actor_id)

    def policy_override(self, scope_key: str) -> dict[str, Any] | None:
        """Return the cells a scope overrides (by its key, ``region:G1/R1``), or None."""
        return self.database[SLA_POLICIES].find_one({"_id": scope_key})

    def put_calendar(
        self, *, scope_key: str, group_id: str, closures: list[str], extra_working_days: list[str], actor_id: str | None
    ) -> bool:
        """Replace a scope's closures and extra working days (ISO dates); tell whether it was new."""
        values = {"group_id": group_id, "closures": closures, "extra_working_days": extra_working_days}
        return self._put_scope(CALENDARS, scope_key, values, actor_id=actor_id)

    def calendar_override(self, scope_key: str) -> dict[str, Any] | None:
        """Return a scope's own closures and extra working days (by its key, ``region:G1/R1``), or None."""
        return self.database[CALENDARS].find_one({"_id": scope_key})

    def _put_scope(self, collection: str, scope_key: str, values: dict[str, Any], *, actor_id: str | None) -> bool:
        now = self.clock()
        result = self.database[collection].update_one(
            {"_id": scope_key},
            {"$set": {**values, "updated_at": now, "updated_by": actor_id}, "$setOnInsert": {"created_at": now}},
            upsert=True,
        )
        return result.upserted_id is not None

    # directory ---------------------------------------------------------------------------------

    def put_staff(self, *, estate: Mapping[str, Any], staff_id: str, values: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
        """Create or replace a staff member of an estate; tell whether it was created."""
        key = {"estate_id": estate["estate_id"], "staff_id": staff_id}
        return self._put(STAFF, key, {**values, "group_id": estate["group_id"], "region_id": estate["region_id"]})

    def _put(self, collection: str, key: dict[str, Any], values: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        now = self.clock()
        result = self.database[collection].update_one(
            key, {"$set": {**values, "updated_at": now}, "$setOnInsert": {"_id": new_id(), "created_at": now}}, upsert=True
        )
        document = self.database[collection].find_one(key)
        assert document is not None
        return document, result.upserted_id is not None

    def staff_member(self, estate_id: str, staff_id: str, *, session: ClientSession | None = None) -> dict[str, Any] | None:
        """Return one staff member of an estate."""
        return self.database[STAFF].find_one({"estate_id": estate_id, "staff_id": staff_id}, session=session)

    def list_staff(
        self, *, estate_id: str, limit: int, cursor: str | None, department: str | None = None, role: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Return one page of an estate's staff."""
        query: dict[str, Any] = {"estate_id": estate_id}
        if department:
            query["department"] = department
        if role:
            query["role"] = role
        return paginate(self.database[STAFF], query, limit=limit, cursor=cursor)

    def staff_members(self, estate_id: str, *, session: ClientSession | None = None) -> list[StaffMember]:
        """Return an estate's staff as routing values (no names)."""
        return [
            StaffMember(
                staff_id=doc["staff_id"],
                department=doc["department"],
                role=doc["role"],
                on_duty=bool(doc.get("on_duty", True)),
                grids=tuple(doc.get("grids") or ()),
            )
            for doc in self.database[STAFF].find({"estate_id": estate_id}, {"name": 0}, session=session)
        ]

    def put_grid(
        self, *, estate: Mapping[str, Any], grid_id: str, buildings: list[str], owner_id: str | None
    ) -> tuple[dict[str, Any], bool]:
        """Create or replace a grid of an estate; tell whether it was created."""
        key = {"estate_id": estate["estate_id"], "grid_id": grid_id}
        return self._put(
            GRIDS, key, {"buildings": buildings, "owner_id": owner_id, "group_id": estate["group_id"], "region_id": estate["region_id"]}
        )

    def grids_holding(self, estate_id: str, buildings: Iterable[str], *, except_grid: str) -> list[dict[str, Any]]:
        """Return the other grids of an estate that already hold one of ``buildings``."""
        return list(
            self.database[GRIDS].find({"estate_id": estate_id, "grid_id": {"$ne": except_grid}, "buildings": {"$in": list(buildings)}})
        )

    def list_grids(self, *, estate_id: str, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """Return one page of an estate's grids."""
        return paginate(self.database[GRIDS], {"estate_id": estate_id}, limit=limit, cursor=cursor)

    def grid_values(self, estate_id: str, *, session: ClientSession | None = None) -> list[Grid]:
        """Return an estate's grids as routing values."""
        return [
            Grid(grid_id=doc["grid_id"], buildings=tuple(doc.get("buildings") or ()), owner_id=doc.get("owner_id"))
            for doc in self.database[GRIDS].find({"estate_id": estate_id}, session=session)
        ]

    def open_counts(self, estate_id: str, staff_ids: Iterable[str], *, session: ClientSession | None = None) -> dict[str, int]:
        """Return the number of open work orders per assignee among ``staff_ids``."""
        pipeline = [
            {"$match": {"estate_id": estate_id, "assignee_id": {"$in": list(staff_ids)}, "status": {"$in": list(OPEN_STATUSES)}}},
            {"$group": {"_id": "$assignee_id", "count": {"$sum": 1}}},
        ]
        return {row["_id"]: row["count"] for row in self.database[WORK_ORDERS].aggregate(pipeline, session=session)}

    # work orders -------------------------------------------------------------------------------

    def work_order(self, complaint_id: str, *, session: ClientSession | None = None) -> dict[str, Any] | None:
        """Return a work order by its complaint id."""
        return self.database[WORK_ORDERS].find_one({"_id": complaint_id}, session=session)

    def insert_work_order(self, document: dict[str, Any], *, session: ClientSession) -> None:
        """Store a new work order."""
        self.database[WORK_ORDERS].insert_one(document, session=session)

    def update_work_order(
        self, complaint_id: str, *, expected_seq: int, changes: Mapping[str, Any], events: int, session: ClientSession
    ) -> dict[str, Any] | None:
        """Apply ``changes`` and advance ``seq`` by ``events`` if nobody changed the order since it was read."""
        return self.database[WORK_ORDERS].find_one_and_update(
            {"_id": complaint_id, "seq": expected_seq},
            {"$set": {**changes, "updated_at": self.clock()}, "$inc": {"seq": events}},
            return_document=ReturnDocument.AFTER,
            session=session,
        )

    def due_for_check(self, *, now: datetime, limit: int) -> list[str]:
        """Return the ids of up to ``limit`` work orders whose next escalation check is due, earliest first (index on next_check_at)."""
        cursor = self.database[WORK_ORDERS].find({"next_check_at": {"$lte": now}}, {"_id": 1}).sort("next_check_at", ASCENDING).limit(limit)
        return [document["_id"] for document in cursor]

    def record_escalation(
        self,
        complaint_id: str,
        *,
        expected_seq: int,
        alerts: Iterable[Alert],
        changes: Mapping[str, Any],
        events: int,
        session: ClientSession,
    ) -> dict[str, Any] | None:
        """Apply the scanner's changes only if the order is as read and none of its steps has fired; None otherwise."""
        return self.database[WORK_ORDERS].find_one_and_update(
            {"_id": complaint_id, "seq": expected_seq, **unrecorded_filter(alerts)},
            {"$set": {**changes, "updated_at": self.clock()}, "$inc": {"seq": events}},
            return_document=ReturnDocument.AFTER,
            session=session,
        )

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
        query: dict[str, Any] = {
            "estate_id": estate_id,
            "subcategory": subcategory,
            "received_at": {"$gte": since},
            "status": {"$ne": "cancelled"},
        }
        if household is not None:
            query.update(household)
        elif building:
            query["building"] = building
        else:
            return 0
        return self.database[WORK_ORDERS].count_documents(query, session=session)

    def append_timeline(self, entries: list[dict[str, Any]], *, session: ClientSession) -> None:
        """Append entries to complaints' timelines."""
        if entries:
            self.database[TIMELINE].insert_many(entries, session=session)

    def timeline(self, complaint_id: str, *, limit: int = TIMELINE_LIMIT) -> list[dict[str, Any]]:
        """Return the last ``limit`` timeline entries of a complaint, oldest first."""
        newest = self.database[TIMELINE].find({"complaint_id": complaint_id}).sort([("at", DESCENDING), ("_id", DESCENDING)]).limit(limit)
        return list(reversed(list(newest)))

    def list_work_orders(self, *, query: dict[str, Any], limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """Return one page of work orders matching ``query``, newest first."""
        return paginate(self.database[WORK_ORDERS], query, limit=limit, cursor=cursor)

    def open_and_overdue(self, *, now: datetime) -> list[dict[str, Any]]:
        """Return open and overdue work-order counts per tier and region within its group (``G1/R1``)."""
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
                    "_id": {"tier": "$tier", "group_id": "$group_id", "region_id": "$region_id"},
                    "open": {"$sum": 1},
                    "overdue": {"$sum": {"$cond": [overdue, 1, 0]}},
                }
            },
        ]
        return [
            {
                "tier": row["_id"].get("tier"),
                "region": region_key(row["_id"].get("group_id"), row["_id"].get("region_id")),
                "open": row["open"],
                "overdue": row["overdue"],
            }
            for row in self.database[WORK_ORDERS].aggregate(pipeline)
        ]


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
