"""Households imports in batches, each its own transaction, with their progress kept as a job that survives its process.

A file of a few hundred thousand rows cannot be one transaction (MongoDB aborts a transaction after
60 s, and validating 200,000 rows alone takes about a minute), so an import is cut into batches of
``IntakeConfig.import_batch_rows`` data rows. For each batch, in order: its rows are validated
(``intake.domain.households.parse_rows``), then one transaction upserts its households and their
residents, emits its ``directory.households.imported`` events and adds its counts to the job. So:

- the job's counts are exactly what is committed: a batch is in the database and on the bus and
  counted, or none of that;
- every batch is idempotent: households and residents are upserts by their keys and the consumers
  of the event upsert by household id, so sending the same file again (after a failure, or to be
  sure) converges to the same directory; a row naming a household again wins over an earlier one
  as within one batch;
- a failed batch stops the import (status ``failed``, with the rows processed so far).

Resumed after a crash. Before any batch runs, the file's rows are kept in ``household_import_rows``
(one document per batch, ``_id`` = ``<import id>:<batch number>``, the rows as compressed JSON so
that any column name a file has is storable) and the job says ``stored``. The process running an
import holds a lease on its job (``owner``, ``lease_until``), renewed by every batch. The batch's
transaction advances the job's ``next_batch`` only from the number it read and only while it is the
owner, so a batch is committed once even when two processes race for the same import (the loser's
transaction aborts with ``LeaseLost``). When the owner dies (``kill -9``, a node lost, gunicorn's
graceful timeout on a deploy), its lease runs out after ``LEASE``; the intake worker's
``households-imports`` loop (``resume_loops``) claims the job and goes on from the last committed
batch. A job whose rows were not all kept when its owner died cannot be resumed: it is marked
``failed`` (send the file again). A batch that fails because the database is unavailable does not
fail the import: the lease is let go and the worker resumes it. The kept rows are deleted when the
import ends. Jobs of earlier versions (no ``stored`` field) are never resumed: they show
``interrupted`` after ``STALE_AFTER`` as before.

A small file (up to ``import_sync_rows`` rows) is imported before the answer (200, as before); a
larger one is kept, answered with 202 and the job, and imported on a thread of the web process
while ``GET .../households/imports/{id}`` shows its progress. Collection ``household_imports``:
``_id`` = the import id, the estate's tenancy, counts, the first ``MAX_REJECTED_KEPT`` refused rows
(a bounded array: a file of refused rows never grows the document past its limit) and their count.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bson import Binary
from pymongo import ASCENDING, ReturnDocument
from pymongo.client_session import ClientSession
from pymongo.database import Database
from pymongo.errors import ConnectionFailure, PyMongoError

from intake.domain.households import RawRow, RefusedRow, UnusableImport, parse_rows, published
from intake.store import IntakeStore
from propcare_shared.clock import Clock
from propcare_shared.context import ServiceContext
from propcare_shared.events.outbox import Transaction, UnitOfWork
from propcare_shared.mongo import new_id
from propcare_shared.sealing import Sealer
from propcare_shared.tenancy import Tenancy
from propcare_shared.worker import PeriodicLoop

log = logging.getLogger(__name__)

IMPORTS = "household_imports"
IMPORT_ROWS = "household_import_rows"
HOUSEHOLDS_PER_EVENT = 500
MAX_REJECTED_KEPT = 1000
STALE_AFTER = timedelta(minutes=10)
LEASE = timedelta(seconds=15)
"""How long an import's owner may go without committing a batch before another process takes it over.

A batch of 1,000 rows takes well under a second; a batch slower than the lease costs only work (the
slow owner's commit aborts), never a batch committed twice."""
RESUME_INTERVAL = 2.0
RESUME_SLICE = 5.0
"""The worker's loop imports for at most this long per pass (keeping its lease), so SIGTERM stops it within its grace."""
MAX_KEPT_BATCH_BYTES = 15 * 1024 * 1024  # under MongoDB's 16 MiB document limit


class LeaseLost(Exception):
    """Another process owns the import now (this one was too slow or presumed dead): stop without touching it."""


def process_owner() -> str:
    """Return a name for the running process that no other process shares, now or after a restart."""
    return f"{socket.gethostname()}:{os.getpid()}:{new_id()}"


@dataclass(frozen=True)
class ImportRun:
    """What an import's batches need: the stores, the unit of work, the clock, how to seal a contact, and who runs it."""

    store: IntakeStore
    uow: UnitOfWork
    clock: Clock
    seal: Callable[[Mapping[str, Any]], str]
    batch_rows: int
    owner: str = field(default_factory=process_owner)


class ImportJobs:
    """The ``household_imports`` collection and the rows kept for its running imports (``household_import_rows``)."""

    def __init__(self, database: Database) -> None:
        self.collection = database[IMPORTS]
        self.kept = database[IMPORT_ROWS]

    def create(self, *, estate: Mapping[str, Any], rows: int, now: datetime) -> dict[str, Any]:
        """Record a new import of ``rows`` data rows into an estate, running, its rows not kept yet, leased to nobody."""
        job: dict[str, Any] = {
            "_id": new_id(),
            **Tenancy.of(estate, estate_key="_id").fields(),
            "status": "running",
            "rows": rows,
            "processed": 0,
            "created": 0,
            "updated": 0,
            "rejected_count": 0,
            "rejected": [],
            "error": None,
            "started_at": now,
            "updated_at": now,
            "finished_at": None,
            "stored": False,
            "batches": None,
            "next_batch": 0,
            "owner": None,
            "lease_until": now + LEASE,
        }
        self.collection.insert_one(job)
        return job

    def get(self, import_id: str) -> dict[str, Any] | None:
        """Return an import, or ``None``."""
        return self.collection.find_one({"_id": import_id})

    def keep_rows(self, import_id: str, rows: Sequence[RawRow], *, batch_rows: int, now: datetime) -> None:
        """Keep a file's rows, batch by batch, so that any process can run (or resume) its import; then mark it ``stored``."""
        documents: list[dict[str, Any]] = [
            {"_id": _batch_id(import_id, number), "first_row": start + 1, "rows": _pack(rows[start : start + batch_rows])}
            for number, start in enumerate(range(0, len(rows), batch_rows))
        ]
        if any(len(document["rows"]) > MAX_KEPT_BATCH_BYTES for document in documents):
            raise UnusableImport("A batch of rows of this file is too large to keep; send smaller rows.", reason="Rows too large.")
        for start in range(0, len(documents), 50):  # about 5 MB per insert at most
            self.kept.insert_many(documents[start : start + 50], ordered=False)
        self.collection.update_one({"_id": import_id}, {"$set": {"stored": True, "batches": len(documents), "updated_at": now}})

    def claim(self, import_id: str | None, *, owner: str, now: datetime) -> dict[str, Any] | None:
        """Lease a running import to ``owner``: one leased to nobody, to ``owner`` already, or whose lease ran out.

        With ``import_id`` ``None``, any kept import whose owner is gone (the worker's resumption).
        """
        query: dict[str, Any] = {"status": "running", "stored": True}
        if import_id is None:
            query["lease_until"] = {"$lt": now}
        else:
            query |= {"_id": import_id, "$or": [{"owner": None}, {"owner": owner}, {"lease_until": {"$lt": now}}]}
        return self.collection.find_one_and_update(
            query,
            {"$set": {"owner": owner, "lease_until": now + LEASE}},
            sort=[("started_at", ASCENDING)],
            return_document=ReturnDocument.AFTER,
        )

    def release(self, import_id: str, *, owner: str, now: datetime) -> None:
        """Let go of an import's lease so that the worker resumes it at its next pass."""
        self.collection.update_one({"_id": import_id, "owner": owner}, {"$set": {"lease_until": now}})

    def kept_batches(self, import_id: str, *, start: int) -> Iterator[tuple[int, int, list[RawRow]]]:
        """Yield ``(batch number, first row, rows)`` of an import's kept batches from batch ``start`` on."""
        cursor = self.kept.find({"_id": {"$gte": _batch_id(import_id, start), "$lt": f"{import_id};"}}, sort=[("_id", ASCENDING)])
        for document in cursor:
            yield int(document["_id"].rsplit(":", 1)[1]), document["first_row"], _unpack(document["rows"])

    def progress(
        self,
        import_id: str,
        *,
        batch: int,
        owner: str,
        processed: int,
        created: int,
        updated: int,
        rejected: list[dict[str, Any]],
        now: datetime,
        session: ClientSession,
    ) -> None:
        """Add a committed batch's counts to its import (inside the batch's transaction); ``LeaseLost`` if it is not ours or done."""
        result = self.collection.update_one(
            {"_id": import_id, "owner": owner, "next_batch": batch, "status": "running"},
            {
                "$inc": {
                    "next_batch": 1,
                    "processed": processed,
                    "created": created,
                    "updated": updated,
                    "rejected_count": len(rejected),
                },
                "$push": {"rejected": {"$each": rejected, "$slice": MAX_REJECTED_KEPT}},
                "$set": {"updated_at": now, "lease_until": now + LEASE},
            },
            session=session,
        )
        if result.matched_count == 0:
            raise LeaseLost(import_id)

    def finish(self, import_id: str, *, owner: str, now: datetime, error: str | None = None) -> dict[str, Any]:
        """Mark an import done, or failed with the reason, and drop its kept rows; return it (``LeaseLost`` if not ours)."""
        status = "failed" if error else "done"
        job = self.collection.find_one_and_update(
            {"_id": import_id, "owner": owner, "status": "running"},
            {"$set": {"status": status, "error": error, "finished_at": now, "updated_at": now, "owner": None}},
            return_document=ReturnDocument.AFTER,
        )
        if job is None:
            raise LeaseLost(import_id)
        self.kept.delete_many({"_id": {"$gte": f"{import_id}:", "$lt": f"{import_id};"}})
        return dict(job)

    def fail_unkept(self, *, owner: str, now: datetime) -> None:
        """Mark failed the imports whose owner died before their rows were all kept: nothing can resume them."""
        for job in self.collection.find({"status": "running", "stored": False, "lease_until": {"$lt": now}}, projection={"_id": True}):
            claimed = self.collection.find_one_and_update(
                {"_id": job["_id"], "stored": False, "lease_until": {"$lt": now}}, {"$set": {"owner": owner}}
            )
            if claimed is not None:
                self.finish(job["_id"], owner=owner, now=now, error="The import stopped before its file was kept; send the file again.")


def _batch_id(import_id: str, number: int) -> str:
    return f"{import_id}:{number:06d}"


def _pack(rows: Sequence[RawRow]) -> Binary:
    """Rows as compressed JSON: a refused row keeps its errors (``RefusedRow``), a CSV row drops the extra cells' ``None`` key."""
    encoded = [["refused", dict(row)] if isinstance(row, RefusedRow) else ["row", {k: v for k, v in row.items() if k}] for row in rows]
    return Binary(zlib.compress(json.dumps(encoded, ensure_ascii=False).encode("utf-8", "surrogatepass"), 6))


def _unpack(packed: bytes) -> list[RawRow]:
    return [
        RefusedRow(row) if kind == "refused" else row for kind, row in json.loads(zlib.decompress(packed).decode("utf-8", "surrogatepass"))
    ]


def shown(job: Mapping[str, Any], *, now: datetime) -> dict[str, Any]:
    """Return an import as the API shows it: a running one without progress for ``STALE_AFTER`` is ``interrupted``."""
    status = job["status"]
    if status == "running" and now - job["updated_at"] > STALE_AFTER:
        status = "interrupted"
    return {**job, "import_id": job["_id"], "status": status}


def run_import(
    run: ImportRun,
    jobs: ImportJobs,
    *,
    job: Mapping[str, Any],
    estate: Mapping[str, Any],
    rows: Sequence[RawRow] | None = None,
    until: float | None = None,
) -> dict[str, Any]:
    """Keep the rows (when given), lease the import and run its batches from the last committed one; return the job.

    With ``until`` (a ``time.monotonic()`` value) it stops after the batch that passes it, keeping its
    lease, and returns the job still running. A job another process owns is returned as it is.
    """
    if rows is not None and not job.get("stored"):
        jobs.keep_rows(job["_id"], rows, batch_rows=run.batch_rows, now=run.clock())
    claimed = jobs.claim(job["_id"], owner=run.owner, now=run.clock())
    if claimed is None:
        return dict(jobs.get(job["_id"]) or job)
    try:
        for number, first_row, batch in jobs.kept_batches(claimed["_id"], start=claimed["next_batch"]):
            _import_batch(run, jobs, job_id=claimed["_id"], batch=number, estate=estate, rows=batch, first_row=first_row)
            if until is not None and time.monotonic() > until:
                return dict(jobs.get(claimed["_id"]) or claimed)
        return jobs.finish(claimed["_id"], owner=run.owner, now=run.clock())
    except LeaseLost:
        log.warning("households import taken over by another process", extra={"import_id": claimed["_id"]})
    except PyMongoError as exc:
        if not _unavailable(exc):
            return _failed(run, jobs, claimed, estate, exc)
        log.warning("households import paused: database unavailable; the worker resumes it", extra={"import_id": claimed["_id"]})
        try:
            jobs.release(claimed["_id"], owner=run.owner, now=run.clock())
        except PyMongoError:
            pass  # the lease runs out by itself
    except Exception as exc:  # noqa: BLE001 - the job records the failure (logged in _failed); the file can be sent again
        return _failed(run, jobs, claimed, estate, exc)
    return dict(jobs.get(claimed["_id"]) or claimed)


def _unavailable(exc: PyMongoError) -> bool:
    """A database that did not answer in time or dropped the connection: worth resuming, not a failed import."""
    return bool(exc.timeout) or isinstance(exc, ConnectionFailure) or exc.has_error_label("TransientTransactionError")


def _failed(run: ImportRun, jobs: ImportJobs, job: Mapping[str, Any], estate: Mapping[str, Any], exc: Exception) -> dict[str, Any]:
    log.error("households import failed", exc_info=exc, extra={"import_id": job["_id"], "estate_id": estate["_id"]})
    error = f"Stopped by an error ({type(exc).__name__}); send the file again to finish it."
    try:
        return jobs.finish(job["_id"], owner=run.owner, now=run.clock(), error=error)
    except LeaseLost:
        return dict(jobs.get(job["_id"]) or job)


def start_import_thread(
    run: ImportRun, jobs: ImportJobs, *, job: Mapping[str, Any], estate: Mapping[str, Any], rows: Sequence[RawRow]
) -> None:
    """Keep the rows (before the answer goes, so a crash after it loses nothing), then run the import on a thread of its own."""
    jobs.keep_rows(job["_id"], rows, batch_rows=run.batch_rows, now=run.clock())
    threading.Thread(
        target=run_import,
        args=(run, jobs),
        kwargs={"job": {**job, "stored": True}, "estate": estate},
        name=f"import-{job['_id']}",
        daemon=True,
    ).start()


def resume_imports(run: ImportRun, jobs: ImportJobs) -> None:
    """One pass of the worker: fail the imports that cannot be resumed, then resume those whose owner died, for ``RESUME_SLICE``."""
    until = time.monotonic() + RESUME_SLICE
    jobs.fail_unkept(owner=run.owner, now=run.clock())
    while time.monotonic() < until:
        mine = jobs.collection.find_one({"status": "running", "owner": run.owner})  # one this worker went on with at its last pass
        job = mine or jobs.claim(None, owner=run.owner, now=run.clock())
        if job is None:
            return
        estate = run.store.estate(job["estate_id"])
        if estate is None:  # estates are never deleted; be safe all the same
            _failed(run, jobs, job, {"_id": job["estate_id"]}, LookupError("estate gone"))
            continue
        log.info("resuming households import", extra={"import_id": job["_id"], "next_batch": job["next_batch"]})
        if run_import(run, jobs, job=job, estate=estate, until=until)["status"] == "running":
            return


def resume_loops(context: ServiceContext) -> list[PeriodicLoop]:
    """The intake worker's loop that resumes households imports whose process died."""
    config = context.config
    run = ImportRun(
        store=IntakeStore(context.database, clock=context.clock),
        uow=context.uow,
        clock=context.clock,
        seal=Sealer(config.personal_data_keys).seal,
        batch_rows=config.import_batch_rows,
    )
    jobs = ImportJobs(context.database)
    return [PeriodicLoop(name="households-imports", interval=RESUME_INTERVAL, work=lambda: resume_imports(run, jobs))]


def _import_batch(
    run: ImportRun, jobs: ImportJobs, *, job_id: str, batch: int, estate: Mapping[str, Any], rows: Sequence[RawRow], first_row: int
) -> None:
    parsed = parse_rows(rows, estate_id=estate["_id"], first_row=first_row)
    events = [
        {"households": [published(row, seal=run.seal) for row in parsed.rows[start : start + HOUSEHOLDS_PER_EVENT]]}
        for start in range(0, len(parsed.rows), HOUSEHOLDS_PER_EVENT)
    ]

    def work(tx: Transaction) -> None:
        created, updated = run.store.upsert_households(parsed.rows, estate=estate, session=tx.session)
        for data in events:
            tx.emit("directory.households.imported", data=data, tenancy=Tenancy.of(estate, estate_key="_id"))
        jobs.progress(
            job_id,
            batch=batch,
            owner=run.owner,
            processed=len(rows),
            created=created,
            updated=updated,
            rejected=parsed.rejected,
            now=run.clock(),
            session=tx.session,
        )  # last: a batch another process committed, or a lease lost, aborts the whole transaction

    run.uow.run(work)
