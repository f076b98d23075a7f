"""The estate directory dispatch routes with: the ``staff``, ``grids`` and ``estates`` collections.

- ``staff`` and ``grids``: keyed by (estate_id, staff_id / grid_id). Staff names are stored here and
  nowhere else: never in events, logs or metrics; the routing values (``staff_members``) leave them out.
- ``estates``: a copy of intake's estates from ``directory.estate.upserted`` (group, region, time zone),
  kept by the kernel's one algorithm (``propcare_shared.directory.EstateCopies``);
- ``estate_misses``: ``_id`` = an estate id a directory route was asked about before its copy arrived,
  with when that first happened (``first_missed_at``); how long ago decides between "not yet" (503)
  and "no such estate" (404) in ``dispatch.api.directory``. Kept an hour (a TTL index), then forgotten,
  so an id asked about by mistake today can still be provisioned tomorrow.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.client_session import ClientSession
from pymongo.database import Database

from dispatch.cache import ESTATE, RoutingCache, routing_cache
from dispatch.cache import GRIDS as CACHED_GRIDS
from dispatch.cache import STAFF as CACHED_STAFF
from dispatch.domain.assignment import Grid, StaffMember
from propcare_shared.clock import Clock, utcnow
from propcare_shared.directory import ESTATES, EstateCopies
from propcare_shared.directory import INDEXES as ESTATE_INDEXES
from propcare_shared.mongo import IndexSpec, new_id
from propcare_shared.pagination import paginate
from propcare_shared.tenancy import region_key

STAFF = "staff"
GRIDS = "grids"
ESTATE_MISSES = "estate_misses"
MISS_MEMORY = timedelta(hours=1)

INDEXES: list[IndexSpec] = [
    *ESTATE_INDEXES,
    IndexSpec(STAFF, [("estate_id", ASCENDING), ("staff_id", ASCENDING)], {"unique": True}),
    IndexSpec(STAFF, [("estate_id", ASCENDING), ("department", ASCENDING), ("role", ASCENDING), ("on_duty", ASCENDING)]),
    IndexSpec(GRIDS, [("estate_id", ASCENDING), ("grid_id", ASCENDING)], {"unique": True}),
    IndexSpec(GRIDS, [("estate_id", ASCENDING), ("buildings", ASCENDING)]),
    IndexSpec(ESTATE_MISSES, [("first_missed_at", ASCENDING)], {"expireAfterSeconds": int(MISS_MEMORY.total_seconds())}),
]


class DirectoryStore:
    """Reads and writes of the estates copy, the staff and the grids."""

    def __init__(self, database: Database, *, clock: Clock = utcnow, cache: RoutingCache | None = None) -> None:
        self.database = database
        self.clock = clock
        self.estates = EstateCopies(database)
        self.cache = cache or routing_cache(database.name)

    def cached_estate(self, estate_id: str) -> dict[str, Any] | None:
        """Return the copy of an estate from the routing cache (``dispatch.cache``: seconds old at most)."""
        estate = self.cache.get(ESTATE, estate_id, lambda: self.estate(estate_id))
        return dict(estate) if estate is not None else None

    def cached_staff_members(self, estate_id: str) -> list[StaffMember]:
        """Return an estate's staff as routing values from the routing cache."""
        return list(self.cache.get(CACHED_STAFF, estate_id, lambda: tuple(self.staff_members(estate_id))))

    def cached_grid_values(self, estate_id: str) -> list[Grid]:
        """Return an estate's grids as routing values from the routing cache."""
        return list(self.cache.get(CACHED_GRIDS, estate_id, lambda: tuple(self.grid_values(estate_id))))

    def forget_estate(self, estate_id: str) -> None:
        """Drop this process's cached copy of an estate (called once a new version is committed)."""
        self.cache.invalidate(ESTATE, estate_id)

    def estate(self, estate_id: str, *, session: ClientSession | None = None) -> dict[str, Any] | None:
        """Return the copy of an estate, or None when dispatch has not heard of it."""
        return self.estates.get(estate_id, session=session)

    def first_miss(self, estate_id: str) -> datetime:
        """Record that an estate was asked for before dispatch heard of it; return when that first happened (within the hour)."""
        now = self.clock()
        misses = self.database[ESTATE_MISSES]
        misses.delete_one({"_id": estate_id, "first_missed_at": {"$lte": now - MISS_MEMORY}})  # the TTL monitor runs once a minute
        document = misses.find_one_and_update(
            {"_id": estate_id}, {"$setOnInsert": {"first_missed_at": now}}, upsert=True, return_document=ReturnDocument.AFTER
        )
        first: datetime = (document or {}).get("first_missed_at", now)  # an upsert returning AFTER always has one
        return first

    def region_keys(self) -> list[str]:
        """Return every region of the known estates within its group (``G1/R1``)."""
        pairs = self.database[ESTATES].aggregate([{"$group": {"_id": {"group_id": "$group_id", "region_id": "$region_id"}}}])
        return sorted(key for pair in pairs if (key := region_key(pair["_id"].get("group_id"), pair["_id"].get("region_id"))))

    def knows_region(self, *, group_id: str, region_id: str) -> bool:
        """Tell whether dispatch knows an estate of a group in a region of that group."""
        return self.database[ESTATES].count_documents({"group_id": group_id, "region_id": region_id}, limit=1) > 0

    def put_staff(self, *, estate: Mapping[str, Any], staff_id: str, values: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
        """Create or replace a staff member of an estate; tell whether it was created."""
        key = {"estate_id": estate["estate_id"], "staff_id": staff_id}
        try:
            return self._put(STAFF, key, {**values, "group_id": estate["group_id"], "region_id": estate["region_id"]})
        finally:
            self.cache.invalidate(CACHED_STAFF, estate["estate_id"])

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
        try:
            return self._put(
                GRIDS, key, {"buildings": buildings, "owner_id": owner_id, "group_id": estate["group_id"], "region_id": estate["region_id"]}
            )
        finally:
            self.cache.invalidate(CACHED_GRIDS, estate["estate_id"])

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
