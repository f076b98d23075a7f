"""The one allocator of ticket sequences: an atomic ``$inc`` on a per-estate, per-day counter, outside any transaction.

Every path that files a complaint (the API, the resident pages, the 12345 hotline, Open311) goes
through ``complaints.receive``, which takes its number here. The counter (``ticket_counters``,
``_id`` = ``<estate id>:<local date YYYYMMDD>``) is incremented by one ``findAndModify`` that is not
part of the complaint's transaction: mongod applies concurrent increments of one document one after
the other without aborting anyone, so a burst on one estate no longer makes every complaint's
transaction conflict on the counter, abort and back off (issue 16: 3.4 aborted attempts per complaint
at 16 connections).

Durability: the increment is acknowledged by the primary alone (``w: 1``), not by a majority: a
complaint's transaction that uses the number commits with ``w: majority`` after it, and the oplog is
applied in order, so a committed complaint's number is as durable as the complaint. An increment lost
in a failover is one no committed complaint carries, so handing its number out again is harmless.
This spares every complaint a second wait for the majority (the counter's round trip was 22% of a
request's wall time at 16 connections with ``w: majority``).

A unit of work the driver retries (a transient error, a write conflict on the resident of a phone
posting twice at once) takes its number once: ``allocate_once`` remembers the numbers a transaction's
session took and gives the retried attempt the same ones, in the same order.

Gaps are allowed. A number is spent when it is taken, so a complaint whose transaction then fails
for good (an ``external_ref`` already used, a hotline transfer that lost a race, a deadline passed, a
crash) leaves a gap in its estate's day. The product asks for a unique number people
can read (estate code, local date, sequence), not for a gapless count: complaints are counted by the
complaints themselves (intake's lists, analytics), never by the last number. Numbers follow the order
of allocation, not of commit: a complaint numbered 0008 may be stored a moment before 0007. The unique
index on ``complaints.ticket_no`` still refuses a duplicate, so a bug here would be a 5xx, never two
complaints with one number.
"""

from __future__ import annotations

import threading
import weakref
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from pymongo import ReturnDocument
from pymongo.client_session import ClientSession
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError
from pymongo.write_concern import WriteConcern

from propcare_shared.events.outbox import Transaction

COUNTERS = "ticket_counters"


@dataclass
class _Taken:
    """The numbers one session's unit of work took, and how many of them its current attempt used."""

    numbers: dict[tuple[str, date], list[int]] = field(default_factory=dict)
    attempt: weakref.ReferenceType[Transaction] | None = None
    used: Counter[tuple[str, date]] = field(default_factory=Counter)


# Keyed weakly by session: an entry goes with its session (a value never refers back to it).
_taken: weakref.WeakKeyDictionary[ClientSession, _Taken] = weakref.WeakKeyDictionary()
_taken_lock = threading.Lock()


def counter_id(*, estate_id: str, day: date) -> str:
    """Return the counter document of an estate's local day."""
    return f"{estate_id}:{day:%Y%m%d}"


class TicketNumbers:
    """Allocates the sequences of an estate's local day, one atomic increment each."""

    def __init__(self, database: Database) -> None:
        # w:1 - see "Durability" above: a number is only ever used by a complaint whose majority commit
        # comes after the increment in the oplog, so it cannot be handed out twice.
        self.counters = database[COUNTERS].with_options(write_concern=WriteConcern(w=1))

    def allocate_once(self, tx: Transaction, *, estate_id: str, day: date) -> int:
        """Return the next sequence for a unit of work; its retried attempts get the numbers its first attempt took."""
        with _taken_lock:
            taken = _taken.setdefault(tx.session, _Taken())
        if taken.attempt is None or taken.attempt() is not tx:  # a new attempt (each builds its own Transaction)
            taken.attempt, taken.used = weakref.ref(tx), Counter()
        key = (estate_id, day)
        index = taken.used[key]
        taken.used[key] += 1
        numbers = taken.numbers.setdefault(key, [])
        if index == len(numbers):
            numbers.append(self.allocate(estate_id=estate_id, day=day))
        return numbers[index]

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
