"""The callbacks owed to the 12345 hotline, in notification's database (``hotline_callbacks``, ``hotline_tickets``).

Guarantees:
- Each ticket's callbacks are numbered 1, 2, 3 … (``sequence``, unique per ticket) by a counter in the
  ticket's ``hotline_tickets`` document, incremented in the recording transaction: two handlers
  recording for one ticket at once write the same document, so one of them is retried by the
  driver and the numbers follow the commit order.
- Only the head of a ticket (its lowest-numbered callback not yet ``delivered``) can be claimed, so
  callbacks are sent in order and a later one never overtakes an earlier one, even one that keeps
  failing. Being the head only ever moves forward: a delivered callback is never undelivered.
- Claims use notification's lease (``store.claim_leased``/``store.finish_leased``): one sender at a
  time holds a callback; one whose sender died is claimed again when the lease runs out.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.client_session import ClientSession
from pymongo.database import Database

from notification.domain.hotline import FAILING, PENDING, SENDING
from notification.store import HOTLINE_CALLBACKS, HOTLINE_TICKETS, claim_leased, finish_leased

CANDIDATES = 20
UNDELIVERED = (PENDING, SENDING, FAILING)


class CallbackStore:
    """Reads and writes of the hotline callbacks."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def next_sequence(self, hotline_ticket_id: str, *, at: datetime, session: ClientSession | None = None) -> int:
        """Return the number of a ticket's next callback, counting it."""
        ticket = self.database[HOTLINE_TICKETS].find_one_and_update(
            {"_id": hotline_ticket_id},
            {"$inc": {"recorded": 1}, "$set": {"updated_at": at}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        assert ticket is not None, "an upsert returning the document after it always finds one"
        return int(ticket["recorded"])

    def insert(self, callback: Mapping[str, Any], *, session: ClientSession | None = None) -> None:
        """Record a callback."""
        self.database[HOTLINE_CALLBACKS].insert_one(dict(callback), session=session)

    def claim_next(self, *, now: datetime, lease_until: datetime, owner: str) -> dict[str, Any] | None:
        """Atomically take the due head of some ticket for sending; None when no ticket has one."""
        for candidate in self._due_heads(now):
            claimed = claim_leased(
                self.database[HOTLINE_CALLBACKS],
                match={"_id": candidate["_id"]},
                due={"status": {"$in": [PENDING, FAILING]}, "not_before": {"$lte": now}},
                now=now,
                lease_until=lease_until,
                owner=owner,
            )
            if claimed is not None:
                return claimed
        return None

    def _due_heads(self, now: datetime) -> list[dict[str, Any]]:
        pipeline: list[dict[str, Any]] = [
            {"$match": {"status": {"$in": list(UNDELIVERED)}}},
            {"$sort": {"hotline_ticket_id": ASCENDING, "sequence": ASCENDING}},
            {"$group": {"_id": "$hotline_ticket_id", "head": {"$first": "$$ROOT"}}},
            {"$replaceRoot": {"newRoot": "$head"}},
            {
                "$match": {
                    "$or": [
                        {"status": {"$in": [PENDING, FAILING]}, "not_before": {"$lte": now}},
                        {"status": SENDING, "lease_until": {"$lt": now}},
                    ]
                }
            },
            {"$sort": {"not_before": ASCENDING}},
            {"$limit": CANDIDATES},
            {"$project": {"_id": 1}},
        ]
        return list(self.database[HOTLINE_CALLBACKS].aggregate(pipeline))

    def finish_attempt(self, callback_id: str, *, owner: str, changes: Mapping[str, Any], session: ClientSession | None = None) -> bool:
        """Store an attempt's outcome on a callback still claimed by ``owner``; False if the claim was lost."""
        return finish_leased(self.database[HOTLINE_CALLBACKS], callback_id, owner=owner, changes=changes, session=session)

    def callback(self, callback_id: str) -> dict[str, Any] | None:
        """Return one callback."""
        return self.database[HOTLINE_CALLBACKS].find_one({"_id": callback_id})

    def callbacks_of(self, hotline_ticket_id: str) -> list[dict[str, Any]]:
        """Return a ticket's callbacks in their order."""
        return list(self.database[HOTLINE_CALLBACKS].find({"hotline_ticket_id": hotline_ticket_id}).sort("sequence", ASCENDING))
