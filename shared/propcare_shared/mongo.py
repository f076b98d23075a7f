"""MongoDB access: one database per service, majority writes, retryable writes, indexes at start.

Transactions need a replica set; Propcare always runs MongoDB as one (a single node is enough).
A client must be made after gunicorn forks, never before (PyMongo is not fork-safe).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from pymongo import MongoClient
from pymongo.client_session import ClientSession
from pymongo.database import Database
from pymongo.errors import OperationFailure
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

T = TypeVar("T")


@dataclass(frozen=True)
class IndexSpec:
    """An index a store needs: collection, keys and options such as ``unique``."""

    collection: str
    keys: list[tuple[str, int]]
    options: dict[str, Any] | None = None


def connect(url: str, *, app_name: str, timeout_ms: int = 5000) -> MongoClient:
    """Open a client with the write and read guarantees every service relies on."""
    return MongoClient(
        url,
        appname=app_name,
        tz_aware=True,
        w="majority",
        retryWrites=True,
        retryReads=True,
        serverSelectionTimeoutMS=timeout_ms,
        connect=False,
    )


def ensure_indexes(database: Database, specs: Iterable[IndexSpec], *, retired: Iterable[tuple[str, str]] = ()) -> None:
    """Drop the ``(collection, index name)`` of earlier versions, then create the indexes a service needs."""
    for collection, name in retired:
        try:
            database[collection].drop_index(name)
        except OperationFailure:
            pass  # never created, or dropped already
    for spec in specs:
        database[spec.collection].create_index(spec.keys, **(spec.options or {}))


def run_in_transaction(client: MongoClient, work: Callable[[ClientSession], T]) -> T:
    """Run ``work`` in a majority transaction, retried on transient errors by the driver."""
    with client.start_session() as session:
        return session.with_transaction(
            work,
            read_concern=ReadConcern("majority"),
            write_concern=WriteConcern("majority"),
        )


def ping(client: MongoClient) -> bool:
    """Tell whether the server answers."""
    try:
        client.admin.command("ping")
    except Exception:  # noqa: BLE001 - readiness only reports, it never raises
        return False
    return True


def new_id() -> str:
    """Return a new string id that sorts by creation time (an ObjectId in hex)."""
    from bson import ObjectId

    return str(ObjectId())
