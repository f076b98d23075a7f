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

Combined increments: the threads of one process that want a number of the same counter while an
increment of it is in flight wait for it, then one of them takes all their numbers with a single
``$inc`` by their count and hands them out in the order they asked (``_Line``). So a process has at
most one increment of a counter in flight: concurrent increments of one document made mongod retry
its write conflicts with back-off (the allocation was 23% of a complaint's wall time at 16
connections, as long as the resident upsert, the complaint insert and the outbox insert together
would suggest for one round trip each), and 8 threads now share a round trip. The numbers stay in
order of allocation: a number is taken when its increment is, and the numbers of one increment go to
requests that all waited for it. A failed increment raises in every caller it served.

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


class _Request:
    """One caller's wish for a number: answered with ``number`` or ``error``, or asked to lead the next increment."""

    __slots__ = ("done", "error", "lead", "number")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.number: int | None = None
        self.error: BaseException | None = None
        self.lead = False


@dataclass
class _Line:
    """The callers waiting for numbers of one counter in this process, and whether an increment is in flight."""

    waiting: list[_Request] = field(default_factory=list)
    busy: bool = False


@dataclass
class _Taken:
    """The numbers one session's unit of work took, and how many of them its current attempt used."""

    numbers: dict[tuple[str, date], list[int]] = field(default_factory=dict)
    attempt: weakref.ReferenceType[Transaction] | None = None
    used: Counter[tuple[str, date]] = field(default_factory=Counter)


_lines: weakref.WeakKeyDictionary[Database, tuple[threading.Lock, dict[str, _Line]]] = weakref.WeakKeyDictionary()
_lines_lock = threading.Lock()


def _lines_of(database: Database) -> tuple[threading.Lock, dict[str, _Line]]:
    """Return this process's waiting lines of a database's counters, and the lock that guards them."""
    with _lines_lock:
        found = _lines.get(database)
        if found is None:
            found = _lines[database] = (threading.Lock(), {})
        return found


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
        # Shared by every store of this database in the process (a store is made per request).
        self._lock, self._lines = _lines_of(database)

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
        """Return the next sequence of an estate's local day, committed at once (never in a caller's transaction).

        Callers of one counter that come while its increment is in flight share the next one (see
        "Combined increments" above).
        """
        key = counter_id(estate_id=estate_id, day=day)
        request = _Request()
        with self._lock:
            line = self._lines.setdefault(key, _Line())
            line.waiting.append(request)
            leads = not line.busy
            line.busy = True
        while not leads:
            request.done.wait()
            if not request.lead:
                if request.error is not None:
                    raise request.error
                return request.number  # type: ignore[return-value]  # set with done
            request.done.clear()
            leads = True
        self._serve(key, line)
        if request.error is not None:
            raise request.error
        return request.number  # type: ignore[return-value]  # served above

    def _serve(self, key: str, line: _Line) -> None:
        """Take the numbers of every waiting caller in one increment, answer them, and pass the lead on."""
        with self._lock:
            batch, line.waiting = line.waiting, []
        try:
            last = self._increment(key, len(batch))
        except BaseException as exc:  # noqa: BLE001 - every caller of this increment learns why it failed (raised in each)
            for request in batch:
                request.error = exc
        else:
            for offset, request in enumerate(batch):
                request.number = last - len(batch) + 1 + offset
        finally:
            with self._lock:
                if line.waiting:
                    line.waiting[0].lead = True
                    line.waiting[0].done.set()
                else:
                    line.busy = False
                    if self._lines.get(key) is line:
                        del self._lines[key]
            for request in batch[1:]:
                request.done.set()

    def _increment(self, key: str, count: int) -> int:
        """Add ``count`` to a counter in one atomic update and return its new value."""
        query = {"_id": key}
        try:
            counter = self.counters.find_one_and_update(
                query, {"$inc": {"value": count}}, upsert=True, return_document=ReturnDocument.AFTER
            )
        except DuplicateKeyError:
            # Two first complaints of a day upserted the counter at once and the server did not retry
            # the loser itself: the document exists now, so the increment cannot race again.
            counter = self.counters.find_one_and_update(query, {"$inc": {"value": count}}, return_document=ReturnDocument.AFTER)
        if counter is None:
            raise RuntimeError(f"ticket counter {key} vanished during an increment")
        return int(counter["value"])
