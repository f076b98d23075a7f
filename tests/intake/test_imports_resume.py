"""A households import whose process died is resumed from its last committed batch, once, by whoever holds its lease.

The process deaths here are simulated by a runner that stops after a batch and never comes back
(its lease left to run out on the test's clock); ``tests/faults/test_outages.py`` kills a real
gunicorn with SIGKILL mid-import.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from intake.config import IntakeConfig
from intake.domain.households import read_rows
from intake.imports import IMPORT_ROWS, LEASE, ImportJobs, ImportRun, LeaseLost, _import_batch, resume_imports, run_import
from intake.store import INDEXES, IntakeStore
from propcare_shared.clock import FrozenClock
from propcare_shared.context import ServiceContext
from propcare_shared.sealing import Sealer
from propcare_shared.testing import outbox_events

BATCH_ROWS = 100
ROWS = 450  # five batches, the last of 50


@pytest.fixture
def context(open_context: Any, settings: Any, clock: FrozenClock) -> ServiceContext:
    config = IntakeConfig(resident_limit_per_address=1000, resident_limit_per_phone=1000, import_batch_rows=BATCH_ROWS)
    opened: ServiceContext = open_context(settings, indexes=INDEXES, clock=clock, config=config)
    return opened


def _runner(context: ServiceContext, owner: str) -> ImportRun:
    return ImportRun(
        store=IntakeStore(context.database, clock=context.clock),
        uow=context.uow,
        clock=context.clock,
        seal=Sealer(context.config.personal_data_keys).seal,
        batch_rows=BATCH_ROWS,
        owner=owner,
    )


def _json_lines() -> str:
    """ROWS data rows as JSON lines; row 150 is not an object (refused before validation), row 420 a bad household type."""
    lines = []
    for number in range(1, ROWS + 1):
        kind = "castle" if number == 420 else "owner"
        row = f'{{"building": "{number % 7}", "room": "{number:04d}", "household_type": "{kind}", "resident_phone": "1390014{number:04d}"}}'
        lines.append("[1, 2]" if number == 150 else row)
    return "\n".join(lines)


def _households_events(context: ServiceContext) -> list[int]:
    return [
        len(event["data"]["households"]) for event in outbox_events(context.database) if event["type"] == "directory.households.imported"
    ]


def _started(context: ServiceContext, estate: dict[str, Any]) -> tuple[ImportJobs, dict[str, Any], dict[str, Any]]:
    """An import kept and run by a process that committed two batches, then died (its lease still held)."""
    jobs = ImportJobs(context.database)
    record = IntakeStore(context.database, clock=context.clock).estate("NS01")
    assert record is not None
    rows = read_rows(_json_lines(), json_lines=True)
    job = jobs.create(estate=record, rows=len(rows), now=context.clock())
    dying = _runner(context, "gunicorn-that-dies")
    run_import(dying, jobs, job=job, estate=record, rows=rows, until=0)  # stops after its first batch
    _import_batch(dying, jobs, job_id=job["_id"], batch=1, estate=record, rows=rows[100:200], first_row=101)
    return jobs, job, record


def test_an_import_whose_owner_died_is_resumed_from_its_last_committed_batch_once(
    client: FlaskClient, context: ServiceContext, clock: FrozenClock, estate: dict[str, Any]
) -> None:
    jobs, job, _ = _started(context, estate)
    before = _households_events(context)
    assert jobs.get(job["_id"])["processed"] == 200  # type: ignore[index]

    worker = _runner(context, "intake-worker")
    resume_imports(worker, jobs)
    assert jobs.get(job["_id"])["processed"] == 200, "an import was taken from an owner whose lease had not run out"  # type: ignore[index]

    clock.advance(LEASE + timedelta(seconds=1))
    resume_imports(worker, jobs)
    done = jobs.get(job["_id"])
    assert done is not None
    assert (done["status"], done["processed"], done["next_batch"], done["created"], done["rejected_count"]) == (
        "done",
        ROWS,
        5,
        ROWS - 2,
        2,
    )
    assert [rejected["row"] for rejected in done["rejected"]] == [150, 420]
    assert context.database.households.count_documents({"estate_id": "NS01"}) == 3 + ROWS - 2
    assert _households_events(context) == [*before, 100, 100, 49]  # batches 3 to 5, each once
    assert context.database[IMPORT_ROWS].count_documents({}) == 0, "the kept rows outlived their import"


def test_a_batch_is_committed_once_when_a_presumed_dead_owner_comes_back(
    client: FlaskClient, context: ServiceContext, clock: FrozenClock, estate: dict[str, Any]
) -> None:
    jobs, job, record = _started(context, estate)
    clock.advance(LEASE + timedelta(seconds=1))
    taker = _runner(context, "intake-worker")
    assert jobs.claim(job["_id"], owner=taker.owner, now=clock()) is not None
    households, events = context.database.households.count_documents({}), _households_events(context)

    slow = _runner(context, "gunicorn-that-dies")  # it was only slow, and commits its third batch now
    rows = read_rows(_json_lines(), json_lines=True)
    with pytest.raises(LeaseLost):
        _import_batch(slow, jobs, job_id=job["_id"], batch=2, estate=record, rows=rows[200:300], first_row=201)
    assert (context.database.households.count_documents({}), _households_events(context)) == (households, events)
    assert run_import(slow, jobs, job=job, estate=record)["owner"] == taker.owner  # it cannot claim it back

    assert run_import(taker, jobs, job=job, estate=record)["status"] == "done"
    with pytest.raises(LeaseLost):  # a batch already committed is never committed again
        _import_batch(taker, jobs, job_id=job["_id"], batch=4, estate=record, rows=rows[400:], first_row=401)
    finished = jobs.get(job["_id"])
    assert finished is not None and (finished["processed"], finished["created"]) == (ROWS, ROWS - 2)
    assert _households_events(context)[-5:] == [100, 99, 100, 100, 49]


def test_an_import_whose_owner_died_before_its_rows_were_kept_is_failed(
    client: FlaskClient, context: ServiceContext, clock: FrozenClock, estate: dict[str, Any]
) -> None:
    jobs = ImportJobs(context.database)
    record = IntakeStore(context.database, clock=context.clock).estate("NS01")
    assert record is not None
    job = jobs.create(estate=record, rows=10_000, now=clock())
    worker = _runner(context, "intake-worker")
    resume_imports(worker, jobs)
    assert jobs.get(job["_id"])["status"] == "running"  # type: ignore[index]
    clock.advance(LEASE + timedelta(seconds=1))
    resume_imports(worker, jobs)
    failed = jobs.get(job["_id"])
    assert failed is not None and failed["status"] == "failed" and "send the file again" in failed["error"]
