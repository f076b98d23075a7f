"""The one allocator of ticket sequences: an atomic ``$inc`` on a per-estate, per-day counter, outside any transaction.

Every path that files a complaint (the API, the resident pages, the 12345 hotline, Open311) goes
through ``complaints.receive``, which takes its number here. The counter (``ticket_counters``,
``_id`` = ``<estate id>:<local date YYYYMMDD>``) is incremented by one ``findAndModify`` that is not
part of the complaint's transaction: mongod applies concurrent increments of one document one after
the other without aborting anyone, so a burst on one estate no longer makes every complaint's
transaction conflict on the counter, abort and back off (issue 16: 3.4 aborted attempts per complaint
at 16 connections).

Gaps are allowed. A number is spent when it is taken, so a complaint whose transaction then fails
(an ``external_ref`` already used, a deadline passed, a transient error the driver retries with a
fresh number, a crash) leaves a gap in its estate's day. The product asks for a unique number people
can read (estate code, local date, sequence), not for a gapless count: complaints are counted by the
complaints themselves (intake's lists, analytics), never by the last number. Numbers follow the order
of allocation, not of commit: a complaint numbered 0008 may be stored a moment before 0007. The unique
index on ``complaints.ticket_no`` still refuses a duplicate, so a bug here would be a 5xx, never two
complaints with one number.
"""

from __future__ import annotations

from datetime import date

from pymongo import ReturnDocument
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

COUNTERS = "ticket_counters"


def counter_id(*, estate_id: str, day: date) -> str:
    """Return the counter document of an estate's local day."""
    return f"{estate_id}:{day:%Y%m%d}"


class TicketNumbers:
    """Allocates the sequences of an estate's local day, one atomic increment each."""

    def __init__(self, database: Database) -> None:
        self.counters = database[COUNTERS]

    def allocate(self, *, estate_id: str, day: date) -> int:
        """Return the next sequence of an estate's local day, committed at once (never in a caller's transaction)."""
        key = {"_id": counter_id(estate_id=estate_id, day=day)}
        try:
            counter = self.counters.find_one_and_update(key, {"$inc": {"value": 1}}, upsert=True, return_document=ReturnDocument.AFTER)
        except DuplicateKeyError:
            # Two first complaints of a day upserted the counter at once and the server did not retry
            # the loser itself: the document exists now, so the increment cannot race again.
            counter = self.counters.find_one_and_update(key, {"$inc": {"value": 1}}, return_document=ReturnDocument.AFTER)
        if counter is None:
            raise RuntimeError(f"ticket counter {key['_id']} vanished during an increment")
        return int(counter["value"])
