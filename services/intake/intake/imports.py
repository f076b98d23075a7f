"""Households imports in batches, each its own transaction, with their progress kept as a job.

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
- a failed batch stops the import (status ``failed``, with the rows processed so far); one that was
  running when its process died stays ``running`` with no new progress, shown as ``interrupted``
  after ``STALE_AFTER``. Either way, sending the file again finishes it.

A small file (up to ``import_sync_rows`` rows) is imported before the answer (200, as before); a
larger one is answered at once with 202 and the job, and imported on a thread of the web process
while ``GET .../households/imports/{id}`` shows its progress. Collection ``household_imports``:
``_id`` = the import id, the estate's tenancy, counts, the first ``MAX_REJECTED_KEPT`` refused rows
(a bounded array: a file of refused rows never grows the document past its limit) and their count.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.client_session import ClientSession
from pymongo.database import Database

from intake.domain.households import RawRow, parse_rows, published
from intake.store import IntakeStore
from propcare_shared.clock import Clock
from propcare_shared.events.outbox import Transaction, UnitOfWork
from propcare_shared.mongo import new_id
from propcare_shared.tenancy import Tenancy

log = logging.getLogger(__name__)

IMPORTS = "household_imports"
HOUSEHOLDS_PER_EVENT = 500
MAX_REJECTED_KEPT = 1000
STALE_AFTER = timedelta(minutes=10)


@dataclass(frozen=True)
class ImportRun:
    """What an import's batches need: the stores, the unit of work, the clock and how to seal a contact."""

    store: IntakeStore
    uow: UnitOfWork
    clock: Clock
    seal: Callable[[Mapping[str, Any]], str]
    batch_rows: int


class ImportJobs:
    """The ``household_imports`` collection."""

    def __init__(self, database: Database) -> None:
        self.collection = database[IMPORTS]

    def create(self, *, estate: Mapping[str, Any], rows: int, now: datetime) -> dict[str, Any]:
        """Record a new import of ``rows`` data rows into an estate, running."""
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
        }
        self.collection.insert_one(job)
        return job

    def get(self, import_id: str) -> dict[str, Any] | None:
        """Return an import, or ``None``."""
        return self.collection.find_one({"_id": import_id})

    def progress(
        self,
        import_id: str,
        *,
        processed: int,
        created: int,
        updated: int,
        rejected: list[dict[str, Any]],
        now: datetime,
        session: ClientSession,
    ) -> None:
        """Add a committed batch's counts to its import (inside the batch's transaction)."""
        self.collection.update_one(
            {"_id": import_id},
            {
                "$inc": {"processed": processed, "created": created, "updated": updated, "rejected_count": len(rejected)},
                "$push": {"rejected": {"$each": rejected, "$slice": MAX_REJECTED_KEPT}},
                "$set": {"updated_at": now},
            },
            session=session,
        )

    def finish(self, import_id: str, *, now: datetime, error: str | None = None) -> dict[str, Any]:
        """Mark an import done, or failed with the reason; return it."""
        status = "failed" if error else "done"
        job = self.collection.find_one_and_update(
            {"_id": import_id},
            {"$set": {"status": status, "error": error, "finished_at": now, "updated_at": now}},
            return_document=ReturnDocument.AFTER,
        )
        assert job is not None
        return dict(job)


def shown(job: Mapping[str, Any], *, now: datetime) -> dict[str, Any]:
    """Return an import as the API shows it: a running one without progress for ``STALE_AFTER`` is ``interrupted``."""
    status = job["status"]
    if status == "running" and now - job["updated_at"] > STALE_AFTER:
        status = "interrupted"
    return {**job, "import_id": job["_id"], "status": status}


def run_import(
    run: ImportRun, jobs: ImportJobs, *, job: Mapping[str, Any], estate: Mapping[str, Any], rows: Sequence[RawRow]
) -> dict[str, Any]:
    """Import the rows batch by batch, each batch one transaction; return the finished job (``failed`` on an error)."""
    try:
        for start in range(0, len(rows), run.batch_rows):
            _import_batch(run, jobs, job_id=job["_id"], estate=estate, rows=rows[start : start + run.batch_rows], first_row=start + 1)
    except Exception as exc:  # the job records the failure; the file can be sent again
        log.exception("households import failed", extra={"import_id": job["_id"], "estate_id": estate["_id"]})
        return jobs.finish(
            job["_id"], now=run.clock(), error=f"Stopped by an error ({type(exc).__name__}); send the file again to finish it."
        )
    return jobs.finish(job["_id"], now=run.clock())


def start_import_thread(
    run: ImportRun, jobs: ImportJobs, *, job: Mapping[str, Any], estate: Mapping[str, Any], rows: Sequence[RawRow]
) -> None:
    """Run an import on a thread of its own (the answer has gone already)."""
    threading.Thread(
        target=run_import, args=(run, jobs), kwargs={"job": job, "estate": estate, "rows": rows}, name=f"import-{job['_id']}", daemon=True
    ).start()


def _import_batch(
    run: ImportRun, jobs: ImportJobs, *, job_id: str, estate: Mapping[str, Any], rows: Sequence[RawRow], first_row: int
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
            job_id, processed=len(rows), created=created, updated=updated, rejected=parsed.rejected, now=run.clock(), session=tx.session
        )

    run.uow.run(work)
