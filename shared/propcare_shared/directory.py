"""A service's copy of the estates of the directory, kept from ``directory.estate.upserted``.

Intake owns the directory; a service that needs an estate's group, region, code, name or time zone
keeps a copy in its own ``estates`` collection through the handler ``keeps_estates()`` declares. One
algorithm for every service: a version is kept unless a later one (by the event's ``occurred_at``)
is kept already, so redelivered or reordered events leave the latest version.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.client_session import ClientSession
from pymongo.database import Database

from propcare_shared.clock import utcnow
from propcare_shared.context import ServiceContext
from propcare_shared.events.envelope import Event
from propcare_shared.events.outbox import Transaction
from propcare_shared.handling import Handles
from propcare_shared.mongo import IndexSpec
from propcare_shared.tenancy import Tenancy
from propcare_shared.vocabulary import DEFAULT_TIMEZONE

ESTATES = "estates"
INDEXES = [IndexSpec(ESTATES, [("group_id", ASCENDING), ("region_id", ASCENDING)])]
FIELDS = ("group_id", "region_id", "code", "name", "timezone")


class EstateCopies:
    """The estates collection of one service."""

    def __init__(self, database: Database) -> None:
        self.collection = database[ESTATES]

    def keep(self, *, estate_id: str, values: dict[str, Any], as_of: datetime, session: ClientSession | None = None) -> bool:
        """Keep a version of an estate unless a later one is kept already; tell whether it changed."""
        document = {**{key: values.get(key) for key in FIELDS}, "as_of": as_of, "updated_at": utcnow()}
        document["timezone"] = document["timezone"] or DEFAULT_TIMEZONE
        not_newer = {"_id": estate_id, "as_of": {"$not": {"$gt": as_of}}}
        if self.collection.update_one(not_newer, {"$set": document}, session=session).matched_count:
            return True
        if self.collection.count_documents({"_id": estate_id}, session=session):
            return False
        self.collection.insert_one({"_id": estate_id, **document}, session=session)
        return True

    def get(self, estate_id: str, *, session: ClientSession | None = None) -> dict[str, Any] | None:
        """Return the copy of an estate (with ``estate_id``), or ``None`` when the service has not heard of it."""
        document = self.collection.find_one({"_id": estate_id}, session=session)
        if document is not None:
            document["estate_id"] = document["_id"]
        return document

    def tenancy(self, estate_id: str, *, session: ClientSession | None = None) -> Tenancy | None:
        """Return an estate's group, region and id, or ``None`` when unknown."""
        document = self.get(estate_id, session=session)
        return Tenancy.of(document) if document else None


def keep_estate(context: ServiceContext, tx: Transaction, event: Event) -> bool:
    """Keep the estate a ``directory.estate.upserted`` describes."""
    data = event.data
    return EstateCopies(context.database).keep(estate_id=data["estate_id"], values=data, as_of=event.occurred_at, session=tx.session)


def keeps_estates(purpose: str = "estate-upserted") -> Handles:
    """Return the handler declaration that keeps a service's copy of the directory's estates."""
    return Handles(purpose, ("directory.estate.upserted",), keep_estate)
