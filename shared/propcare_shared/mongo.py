"""MongoDB access: one database per service, majority writes, retryable writes, indexes at start.

Transactions need a replica set; Propcare always runs MongoDB as one (a single node is enough).
A client must be made after gunicorn forks, never before (PyMongo is not fork-safe).

Deadlines (PyMongo's client-side operation timeout, ``pymongo.timeout``): a unit of work runs under
one deadline that covers every operation in it *and* ``with_transaction``'s retries, which would
otherwise go on for 120 s; when it passes, the driver raises a timeout error (``error.timeout`` is
true), aborts, and never sends a commit afterwards. A web request runs under a shorter deadline of
its own (``propcare_shared.http.app``): nested deadlines only shorten, so the request's wins.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import pymongo
from pymongo import MongoClient
from pymongo.client_session import ClientSession
from pymongo.database import Database
from pymongo.errors import OperationFailure, PyMongoError
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

T = TypeVar("T")
log = logging.getLogger(__name__)


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


def run_in_transaction(client: MongoClient, work: Callable[[ClientSession], T], *, deadline: float | None = None) -> T:
    """Run ``work`` in a majority transaction, retried on transient errors by the driver until ``deadline`` seconds passed."""
    with pymongo.timeout(deadline), client.start_session() as session:
        try:
            return session.with_transaction(
                work,
                read_concern=ReadConcern("majority"),
                write_concern=WriteConcern("majority"),
            )
        except PyMongoError as exc:
            if exc.timeout:
                # The session is about to be killed on the server: it must never go back to the driver's
                # pool, or the next request would reuse its id and have its own transaction interrupted.
                server_session = getattr(session, "_server_session", None)
                if server_session is not None:
                    server_session.mark_dirty()
                _reaper(client).kill(session.session_id)
            raise


class SessionReaper:
    """Ends, in the background, the server sessions of transactions abandoned at their deadline.

    A transaction whose statements reached a frozen server is still open there when it thaws, and holds
    its locks until ``transactionLifetimeLimitSeconds`` (60 s): writes to the same documents conflict and
    index builds wait. One thread per client sends ``killSessions`` for them as soon as the server
    answers (it never commits them), so no request thread waits for that.
    """

    def __init__(self, client: MongoClient, *, deadline: float = 30.0) -> None:
        self.client = client
        self.deadline = deadline
        self._sessions: queue.SimpleQueue[Mapping[str, Any]] = queue.SimpleQueue()
        threading.Thread(target=self._run, name="mongo-session-reaper", daemon=True).start()

    def kill(self, session_id: Mapping[str, Any]) -> None:
        """Ask for a session to be killed on the server (its open transaction is aborted)."""
        self._sessions.put(session_id)

    def _run(self) -> None:
        while True:
            batch = [self._sessions.get()]
            while not self._sessions.empty() and len(batch) < 1000:
                batch.append(self._sessions.get())
            try:
                with pymongo.timeout(self.deadline):
                    self.client.admin.command("killSessions", batch)
            except Exception:  # noqa: BLE001 - best effort: the server's transaction lifetime limit is the backstop
                log.info("abandoned transactions left to the server's lifetime limit", extra={"sessions": len(batch)})


_REAPERS: dict[int, SessionReaper] = {}
_REAPERS_LOCK = threading.Lock()


def _reaper(client: MongoClient) -> SessionReaper:
    with _REAPERS_LOCK:
        if id(client) not in _REAPERS:
            _REAPERS[id(client)] = SessionReaper(client)
        return _REAPERS[id(client)]


def ping(client: MongoClient, *, deadline: float = 2.0) -> bool:
    """Tell whether the server answers within ``deadline`` seconds (a frozen server does not)."""
    try:
        with pymongo.timeout(deadline):
            client.admin.command("ping")
    except Exception:  # noqa: BLE001 - readiness only reports, it never raises
        return False
    return True


def new_id() -> str:
    """Return a new string id that sorts by creation time (an ObjectId in hex)."""
    from bson import ObjectId

    return str(ObjectId())
