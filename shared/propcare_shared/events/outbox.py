"""The transactional outbox and the inbox of handled events.

Guarantees:
- A service's writes and the events they cause are committed in one MongoDB transaction
  (``UnitOfWork``): no event is published for a write that failed, and none is lost when the
  process dies after the write, because the relay publishes whatever the outbox holds.
- An event handled by a consumer is recorded in ``inbox`` under a unique index in the same
  transaction as the handler's writes; a redelivered event finds its id there and has no second
  effect. Several events may share one transaction (``UnitOfWork.run_many``, a consumer's group
  commit): their markers, writes and emitted events commit together or not at all.
- The relay publishes in outbox order and marks a batch published only after the broker confirmed
  each of its events, so an event may be published more than once (a crash between confirm and mark): consumers
  are idempotent. Only the holder of the relay lease publishes, so two worker replicas do not race.
"""

from __future__ import annotations

import logging
import socket
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from pymongo import ASCENDING, MongoClient
from pymongo.client_session import ClientSession
from pymongo.database import Database
from pymongo.errors import BulkWriteError, DuplicateKeyError, PyMongoError

from propcare_shared.clock import Clock, utcnow
from propcare_shared.events.envelope import Event, new_event
from propcare_shared.events.stages import stage
from propcare_shared.events.topology import Unroutable
from propcare_shared.mongo import IndexSpec, run_in_transaction
from propcare_shared.tenancy import Tenancy

log = logging.getLogger(__name__)

OUTBOX = "outbox"
INBOX = "inbox"
LEASES = "leases"
RELAY_LEASE_ID = "outbox-relay"


def take_lease(database: Database[Any], lease_id: str, owner: str, *, now: datetime, ttl: timedelta) -> bool:
    """Take or renew a named lease in ``database.leases`` until ``now + ttl``; tell whether ``owner`` holds it.

    The lease is free when nobody holds it or its holder let it expire; two takers racing for a free
    lease meet on its ``_id``, and the loser's upsert fails with a duplicate key: not held.
    """
    try:
        document = database[LEASES].find_one_and_update(
            {"_id": lease_id, "$or": [{"owner": owner}, {"expires_at": {"$lt": now}}]},
            {"$set": {"owner": owner, "expires_at": now + ttl}},
            upsert=True,
            return_document=True,
        )
    except DuplicateKeyError:
        return False
    return document is not None and document["owner"] == owner


def release_lease(database: Database[Any], lease_id: str, owner: str) -> None:
    """Give a lease up, if ``owner`` holds it, so that another taker can have it at once."""
    database[LEASES].delete_one({"_id": lease_id, "owner": owner})


INDEXES = [
    IndexSpec(OUTBOX, [("published_at", ASCENDING), ("created_at", ASCENDING), ("position", ASCENDING)]),
    IndexSpec(INBOX, [("event_id", ASCENDING), ("consumer", ASCENDING)], {"unique": True}),
]


class Publisher(Protocol):
    """What the relay needs of a bus."""

    def publish(self, event: Event) -> None: ...


class AlreadyHandled(Exception):
    """Raised inside a unit of work when its event was handled before."""


@dataclass
class Transaction:
    """What a write inside a unit of work may use: the session and a way to emit events."""

    session: ClientSession
    database: Database
    producer: str
    cause: Event | None = None
    events: list[Event] = field(default_factory=list)

    def emit(self, event_type: str, *, data: dict[str, Any], tenancy: Tenancy | None = None, **envelope: Any) -> Event:
        """Record an event to be published once the transaction commits; ``tenancy`` fills its group, region and estate."""
        if tenancy is not None:
            envelope.update(tenancy.fields())
        if self.cause is not None:
            envelope.setdefault("causation_id", self.cause.id)
            envelope.setdefault("correlation_id", self.cause.correlation_id)
            for key in ("group_id", "region_id", "estate_id"):
                envelope.setdefault(key, getattr(self.cause, key))
        event = new_event(event_type, producer=self.producer, data=data, **envelope)
        self.events.append(event)
        return event


@dataclass(frozen=True)
class Handled:
    """One event of a group commit: whether this commit handled it (false: handled before) and its handler's result."""

    event: Event
    done: bool
    result: Any = None


class UnitOfWork:
    """Commits a service's writes, the events they cause and the inbox marker together."""

    def __init__(
        self, *, client: MongoClient, database: Database, producer: str, clock: Clock = utcnow, deadline: float | None = None
    ) -> None:
        self.client = client
        self.database = database
        self.producer = producer
        self.clock = clock
        self.deadline = deadline
        """Seconds a unit of work may take, retries and commit included (``TRANSACTION_DEADLINE``); None: no deadline."""
        self._listeners: list[Callable[[], None]] = []

    def on_commit(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after every commit that stored events (the relay wakes on it)."""
        self._listeners.append(listener)

    def run(
        self,
        work: Callable[[Transaction], Any],
        *,
        handled_event: Event | None = None,
        consumer: str | None = None,
    ) -> Any:
        """Run ``work`` in one transaction; with ``handled_event``, at most once per consumer.

        Raises ``AlreadyHandled`` when the event was handled before.
        """

        def attempt(session: ClientSession) -> Any:
            with stage("statements"):
                return statements(session)

        def statements(session: ClientSession) -> Any:
            tx = Transaction(session=session, database=self.database, producer=self.producer, cause=handled_event)
            if handled_event is not None:
                try:
                    with stage("inbox"):
                        self.database[INBOX].insert_one(
                            {"event_id": handled_event.id, "consumer": consumer, "type": handled_event.type, "at": self.clock()},
                            session=session,
                        )
                except DuplicateKeyError:
                    raise AlreadyHandled(handled_event.id) from None
            result = work(tx)
            if tx.events:
                now = self.clock()
                with stage("outbox"):
                    self._store_outbox(tx.events, now=now, session=session)
            return result, bool(tx.events)

        with stage("transaction"):
            result, emitted = run_in_transaction(self.client, attempt, deadline=self.deadline)
        if emitted:
            for listener in self._listeners:
                listener()
        return result

    def run_many(self, work: Callable[[Transaction, Event], Any], events: Sequence[Event], *, consumer: str) -> list[Handled]:
        """Handle several events in one transaction, each at most once per consumer (a consumer's group commit).

        ``work(tx, event)`` runs once per event not yet in the inbox, in the given order, on one session,
        each with its own ``Transaction`` (so what it emits is caused by that event); the inbox markers,
        the writes and every emitted event commit together or not at all. An event already handled, or
        repeated within ``events``, is skipped (``Handled.done`` false). Raises ``AlreadyHandled`` when
        another consumer recorded one of the events meanwhile: the caller handles them one by one.
        """

        def statements(session: ClientSession) -> tuple[list[Handled], bool]:
            inbox = self.database[INBOX]
            ids = [event.id for event in events]
            seen = {
                row["event_id"] for row in inbox.find({"event_id": {"$in": ids}, "consumer": consumer}, {"event_id": 1}, session=session)
            }
            fresh: dict[str, Event] = {}
            for event in events:
                if event.id not in seen:
                    fresh.setdefault(event.id, event)
            if fresh:
                now = self.clock()
                markers = [{"event_id": event.id, "consumer": consumer, "type": event.type, "at": now} for event in fresh.values()]
                try:
                    inbox.insert_many(markers, session=session)
                except (BulkWriteError, DuplicateKeyError):
                    raise AlreadyHandled(",".join(fresh)) from None
            outcomes: list[Handled] = []
            emitted: list[Event] = []
            for event in events:
                if fresh.pop(event.id, None) is None:
                    outcomes.append(Handled(event, done=False))
                    continue
                tx = Transaction(session=session, database=self.database, producer=self.producer, cause=event)
                outcomes.append(Handled(event, done=True, result=work(tx, event)))
                emitted.extend(tx.events)
            if emitted:
                self._store_outbox(emitted, now=self.clock(), session=session)
            return outcomes, bool(emitted)

        outcomes, emitted = run_in_transaction(self.client, statements, deadline=self.deadline)
        if emitted:
            for listener in self._listeners:
                listener()
        return outcomes

    def _store_outbox(self, events: list[Event], *, now: Any, session: ClientSession) -> None:
        self.database[OUTBOX].insert_many(
            [
                {"_id": event.id, "event": event.to_document(), "created_at": now, "position": index, "published_at": None}
                for index, event in enumerate(events)
            ],
            session=session,
        )


class OutboxRelay:
    """Publishes the outbox in order, for as long as it holds the service's relay lease."""

    def __init__(
        self,
        *,
        database: Database,
        publisher: Publisher,
        poll_interval: float = 1.0,
        lease_seconds: float = 10.0,
        batch_size: int = 200,
        clock: Clock = utcnow,
    ) -> None:
        self.database = database
        self.publisher = publisher
        self.poll_interval = poll_interval
        self.lease = timedelta(seconds=lease_seconds)
        self.batch_size = batch_size
        self.clock = clock
        self.owner = f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"
        self._wake = threading.Event()
        self._stop = threading.Event()

    def wake(self) -> None:
        """Ask the relay to look at the outbox now rather than at its next poll."""
        self._wake.set()

    def stop(self) -> None:
        """Ask the relay loop to finish its batch and return."""
        self._stop.set()
        self._wake.set()

    def holds_lease(self) -> bool:
        """Take or renew the relay lease; tell whether this relay holds it."""
        return take_lease(self.database, RELAY_LEASE_ID, self.owner, now=self.clock(), ttl=self.lease)

    def release_lease(self) -> None:
        """Give the lease up so another relay can take over at once."""
        release_lease(self.database, RELAY_LEASE_ID, self.owner)

    def drain(self) -> int:
        """Publish every unpublished event in order; return how many were published."""
        published = 0
        while not self._stop.is_set():
            batch = list(
                self.database[OUTBOX]
                .find({"published_at": None})
                .sort([("created_at", ASCENDING), ("position", ASCENDING)])
                .limit(self.batch_size)
            )
            if not batch:
                return published
            sent: list[str] = []
            try:
                for document in batch:
                    self.publisher.publish(Event.from_document(document["event"]))
                    sent.append(document["_id"])
            finally:
                if sent:
                    self.database[OUTBOX].update_many({"_id": {"$in": sent}}, {"$set": {"published_at": self.clock()}})
                    published += len(sent)
        return published

    def watch_inserts(self) -> None:
        """Wake the relay on every outbox insert, from any process (a change stream)."""
        while not self._stop.is_set():
            try:
                with self.database[OUTBOX].watch([{"$match": {"operationType": "insert"}}], max_await_time_ms=500) as stream:
                    while not self._stop.is_set() and stream.alive:
                        if stream.try_next() is not None:
                            self.wake()
            except PyMongoError as exc:
                log.info("outbox change stream unavailable, relying on polling", extra={"error": str(exc)})
                self._stop.wait(self.poll_interval)

    def run(self) -> None:
        """Relay until stopped; errors are logged and retried at the next poll."""
        threading.Thread(target=self.watch_inserts, name="outbox-watch", daemon=True).start()
        while not self._stop.is_set():
            try:
                if self.holds_lease():
                    self.drain()
            except (PyMongoError, OSError, ConnectionError, Unroutable) as exc:
                log.warning("outbox relay could not publish, will retry", extra={"error": str(exc)})
            except Exception:
                log.exception("outbox relay failed, will retry")
            self._wake.wait(self.poll_interval)
            self._wake.clear()
        try:
            self.drain() if self.holds_lease() else None
            self.release_lease()
        except Exception:  # noqa: BLE001 - best effort on the way out
            log.warning("outbox relay stopped with events left; the next relay publishes them")


def emit_standalone(uow: UnitOfWork, event_type: str, *, data: dict[str, Any], **envelope: Any) -> Event:
    """Store one event in the outbox on its own transaction (for facts with no other write)."""
    return uow.run(lambda tx: tx.emit(event_type, data=data, **envelope))
