"""What a service's views, handlers and loops share: its settings, its database, the unit of work, a clock.

A web process opens one context per gunicorn worker (after the fork: the client connects lazily) and
stores it on its Flask app; views reach it with ``current_context()``, as flaskr's views reach their
database with ``get_db()``. A worker process is given its context when it is built and passes it to
its handlers and loops: nothing outside a request needs Flask to find it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from pymongo import ASCENDING, MongoClient
from pymongo.database import Database

from propcare_shared.clock import Clock, utcnow
from propcare_shared.events.outbox import INDEXES as OUTBOX_INDEXES
from propcare_shared.events.outbox import UnitOfWork
from propcare_shared.mongo import IndexSpec, connect, ensure_indexes, ping
from propcare_shared.settings import Settings

EXTENSION = "propcare"
"""The key of the context in ``app.extensions``."""


@dataclass
class ServiceContext:
    """What a service's views and handlers share: settings, its database, the unit of work, a clock."""

    settings: Settings
    client: MongoClient
    database: Database
    uow: UnitOfWork
    clock: Clock = utcnow
    config: Any = None
    """The service's own settings (its ``config.py``), beside the kernel's ``settings`` every process shares."""
    checks: dict[str, Callable[[], bool]] = field(default_factory=dict)

    @classmethod
    def open(cls, settings: Settings, *, clock: Clock = utcnow, client: MongoClient | None = None, config: Any = None) -> ServiceContext:
        """Connect (lazily) to the service's own database."""
        client = client or connect(settings.mongodb_url, app_name=f"propcare-{settings.service}")
        database = client[settings.mongodb_database]
        uow = UnitOfWork(client=client, database=database, producer=settings.service, clock=clock, deadline=settings.transaction_deadline)
        context = cls(settings=settings, client=client, database=database, uow=uow, clock=clock, config=config)
        context.checks["mongodb"] = lambda: ping(client)
        return context

    def close(self) -> None:
        """Close the database client."""
        self.client.close()

    def ensure_indexes(self, specs: Iterable[IndexSpec], *, retired: Iterable[tuple[str, str]] = ()) -> None:
        """Create the kernel's indexes and the service's own, after dropping the ``retired`` ones of earlier versions."""
        ensure_indexes(self.database, [*OUTBOX_INDEXES, *KERNEL_INDEXES, *specs], retired=retired)


IDEMPOTENT_REQUESTS = "idempotent_requests"
RATE_LIMITS = "rate_limits"
KERNEL_INDEXES: list[IndexSpec] = [
    IndexSpec(IDEMPOTENT_REQUESTS, [("key", ASCENDING), ("route", ASCENDING), ("caller", ASCENDING)], {"unique": True}),
    IndexSpec(IDEMPOTENT_REQUESTS, [("created_at", ASCENDING)], {"expireAfterSeconds": 7 * 24 * 3600}),
    IndexSpec(RATE_LIMITS, [("expires_at", ASCENDING)], {"expireAfterSeconds": 0}),
]
"""Indexes of the kernel's own collections in every service database: idempotency keys and rate-limit windows."""


def current_context() -> ServiceContext:
    """Return the context of the service answering the current request."""
    from flask import current_app  # only views call this; workers are handed their context

    context: ServiceContext = current_app.extensions[EXTENSION]
    return context


class Store(Protocol):
    """What every service's store is built from: its database and a clock."""

    def __init__(self, database: Database, *, clock: Clock = ...) -> None: ...


S = TypeVar("S", bound=Store)


def current_store(store_type: type[S]) -> S:
    """Return a store of the service answering the current request, on its database and clock."""
    context = current_context()
    return store_type(context.database, clock=context.clock)
