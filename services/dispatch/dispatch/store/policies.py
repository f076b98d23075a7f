"""SLA policies and working calendars per scope: the ``sla_policies`` and ``calendars`` collections.

One document per scope, ``_id`` = the scope's key in the deployment (``group:G1``, ``region:G1/R1``,
``estate:NS01``; ``propcare_shared.scope``), with the group it belongs to and the cells, closures and
extra working days that scope overrides. A region is keyed with its group because region ids are
only unique inside a group; a document keyed ``region:R1`` (written before regions were keyed so)
applies to no estate any more.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo.client_session import ClientSession
from pymongo.database import Database

from dispatch.cache import POLICY, RoutingCache, routing_cache
from dispatch.domain.sla import Policy, effective_policy
from propcare_shared.calendar import WorkingCalendar
from propcare_shared.clock import Clock, utcnow
from propcare_shared.scope import scope_chain

SLA_POLICIES = "sla_policies"
CALENDARS = "calendars"


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


class PolicyStore:
    """Reads and writes of the policies and calendars of groups, regions and estates."""

    def __init__(self, database: Database, *, clock: Clock = utcnow, cache: RoutingCache | None = None) -> None:
        self.database = database
        self.clock = clock
        self.cache = cache or routing_cache(database.name)

    def cached_policy_and_calendar_for(self, estate: Mapping[str, Any] | None) -> tuple[Policy, WorkingCalendar]:
        """Return the SLA policy and working calendar of an estate from the routing cache (``dispatch.cache``), by scope chain."""
        estate = estate or {}
        scopes = scope_chain(group_id=estate.get("group_id"), region_id=estate.get("region_id"), estate_id=estate.get("estate_id"))
        return self.cache.get(POLICY, tuple(scopes), lambda: self.policy_and_calendar_for(estate))

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
        try:
            result = self.database[collection].update_one(
                {"_id": scope_key},
                {"$set": {**values, "updated_at": now, "updated_by": actor_id}, "$setOnInsert": {"created_at": now}},
                upsert=True,
            )
        finally:
            self.cache.invalidate(POLICY)  # a group's or region's change reaches every estate under it
        return result.upserted_id is not None
