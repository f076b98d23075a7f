"""Dispatch's MongoDB database, one store per group of collections behind one entry point, ``DispatchStore``.

The only package of dispatch that touches MongoDB, and the only one that writes MongoDB filters
(``unrecorded_filter`` makes the scanner's conditional update of the steps it fires). Every write
that causes events is given the session of a unit of work (``session=tx.session``) by its caller.

- ``store.work_orders`` (``dispatch.store.work_orders``): ``work_orders`` and their ``timeline``;
- ``store.directory`` (``dispatch.store.directory``): ``staff``, ``grids`` and the ``estates`` copy;
- ``store.policies`` (``dispatch.store.policies``): ``sla_policies`` and ``calendars`` per scope.
"""

from __future__ import annotations

from pymongo.database import Database

from dispatch.cache import routing_cache
from dispatch.store.directory import INDEXES as DIRECTORY_INDEXES
from dispatch.store.directory import DirectoryStore
from dispatch.store.policies import PolicyStore
from dispatch.store.work_orders import INDEXES as WORK_ORDER_INDEXES
from dispatch.store.work_orders import RETIRED_INDEXES, WorkOrderStore, overdue_query, unrecorded_filter
from propcare_shared.clock import Clock, utcnow
from propcare_shared.mongo import IndexSpec

INDEXES: list[IndexSpec] = [*WORK_ORDER_INDEXES, *DIRECTORY_INDEXES]

__all__ = [
    "INDEXES",
    "RETIRED_INDEXES",
    "DirectoryStore",
    "DispatchStore",
    "PolicyStore",
    "WorkOrderStore",
    "overdue_query",
    "unrecorded_filter",
]


class DispatchStore:
    """Dispatch's database: its work orders, its directory and its policies, on one database and clock."""

    def __init__(self, database: Database, *, clock: Clock = utcnow, cache_seconds: float | None = None) -> None:
        self.database = database
        self.clock = clock
        self.cache = routing_cache(database.name, seconds=cache_seconds)
        """The process's routing cache of this database (``dispatch.cache``); ``cache_seconds`` sets its lifetime."""
        self.work_orders = WorkOrderStore(database, clock=clock)
        self.directory = DirectoryStore(database, clock=clock, cache=self.cache)
        self.policies = PolicyStore(database, clock=clock, cache=self.cache)
