"""Intake's hotline collections: the 12345 transfers and the hotline's follow-up results.

The only module of the hotline that touches MongoDB. Writes that cause events take the session of a
unit of work (``session=tx.session``).

Collections:
- ``hotline_transfers``: ``_id`` = a new id (sorts by time, pages like every list);
  ``hotline_ticket_id`` has a unique index, so of two copies of one transfer arriving at once exactly
  one is stored (and one complaint made); the caller's name and phone (E.164) are kept here only;
  ``callbacks`` maps each callback id to its last delivery state (a handful per transfer);
- ``hotline_followups``: ``_id`` = the SHA-256 of the call's signature, so a replayed follow-up
  call is recognised and has no second effect.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.client_session import ClientSession
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from propcare_shared.clock import Clock, utcnow
from propcare_shared.mongo import IndexSpec
from propcare_shared.pagination import paginate

TRANSFERS = "hotline_transfers"
FOLLOWUPS = "hotline_followups"
ESTATES = "estates"

HOTLINE_INDEXES: list[IndexSpec] = [
    IndexSpec(TRANSFERS, [("hotline_ticket_id", ASCENDING)], {"unique": True}),
    IndexSpec(TRANSFERS, [("group_id", ASCENDING), ("state", ASCENDING), ("_id", DESCENDING)]),
    IndexSpec(TRANSFERS, [("estate_id", ASCENDING), ("state", ASCENDING), ("_id", DESCENDING)]),
    IndexSpec(TRANSFERS, [("group_id", ASCENDING), ("region_id", ASCENDING), ("_id", DESCENDING)]),
    IndexSpec(FOLLOWUPS, [("hotline_ticket_id", ASCENDING), ("at", DESCENDING)]),
]


class TransferExists(Exception):
    """A transfer with this hotline ticket id is stored already."""


class HotlineStore:
    """Reads and writes the hotline's collections."""

    def __init__(self, database: Database, *, clock: Clock = utcnow) -> None:
        self.database = database
        self.clock = clock

    def estates(self) -> list[dict[str, Any]]:
        """Return every estate of the directory with what matching needs (all groups: a transfer names no tenant)."""
        projection = {"name": 1, "code": 1, "group_id": 1, "region_id": 1, "timezone": 1}
        return list(self.database[ESTATES].find({}, projection))

    def groups(self) -> list[str]:
        """Return the groups that have estates in the directory."""
        return [str(group) for group in self.database[ESTATES].distinct("group_id") if group]

    def transfer(self, hotline_ticket_id: str, *, session: ClientSession | None = None) -> dict[str, Any] | None:
        """Return a transfer by its hotline ticket id, or ``None``."""
        return self.database[TRANSFERS].find_one({"hotline_ticket_id": hotline_ticket_id}, session=session)

    def insert_transfer(self, document: dict[str, Any], *, session: ClientSession) -> None:
        """Store a new transfer; raise ``TransferExists`` when its ticket id is taken."""
        try:
            self.database[TRANSFERS].insert_one(document, session=session)
        except DuplicateKeyError:
            raise TransferExists(document["hotline_ticket_id"]) from None

    def update_transfer(self, transfer_id: str, *, changes: Mapping[str, Any], expected_state: str, session: ClientSession) -> bool:
        """Apply changes to a transfer still in the state they were decided on; tell whether it was."""
        result = self.database[TRANSFERS].update_one(
            {"_id": transfer_id, "state": expected_state}, {"$set": dict(changes)}, session=session
        )
        return result.modified_count == 1

    def list_transfers(self, *, query: dict[str, Any], limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """Return one page of transfers, newest first."""
        return paginate(self.database[TRANSFERS], query, limit=limit, cursor=cursor)

    def followup(self, followup_id: str) -> dict[str, Any] | None:
        """Return a recorded follow-up result, or ``None``."""
        return self.database[FOLLOWUPS].find_one({"_id": followup_id})

    def insert_followup(self, document: dict[str, Any], *, session: ClientSession) -> bool:
        """Record a follow-up result; tell whether it was new (a replayed call's is not)."""
        try:
            self.database[FOLLOWUPS].insert_one(document, session=session)
        except DuplicateKeyError:
            return False
        return True
