"""Ticket numbers under concurrency, on a real MongoDB: one atomic counter outside the complaint's transaction.

- many concurrent complaints of one estate get distinct numbers, 1..N, none twice;
- the allocator alone, hammered from many threads, hands out every number exactly once;
- a complaint's transaction left open does not hold up another complaint of the same estate (the old
  counter, written inside the transaction, made the second one conflict and retry until the first ended);
- a failed increment raises in every caller it served (combined increments), and the next one works;
- a unit of work the driver retries keeps the number its first attempt took (no gap from a retry);
- a refused complaint spends its number (gaps are allowed), and nothing else of it is stored;
- every path that files a complaint takes its number from the one allocator.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import pymongo
from flask import Flask
from pymongo.errors import OperationFailure

from intake import complaints
from intake.schemas import ComplaintIn
from intake.store import IntakeStore, ReferenceTaken
from intake.ticket_numbers import COUNTERS, TicketNumbers, counter_id
from propcare_shared.context import ServiceContext
from propcare_shared.events.outbox import Transaction
from propcare_shared.sealing import DEVELOPMENT_PERSONAL_DATA_KEY, Sealer
from tests.intake.conftest import LATE_SUNDAY, complaint_body

INTAKE = Path(__file__).resolve().parents[2] / "services" / "intake" / "intake"
SEALER = Sealer([DEVELOPMENT_PERSONAL_DATA_KEY])


def receive(context: ServiceContext, store: IntakeStore, estate: dict[str, Any], index: int, **changes: Any) -> dict[str, Any]:
    values = ComplaintIn().load({**complaint_body(reporter={"name": "王女士", "phone": f"139{index:08d}", "role": "tenant"}), **changes})
    received = context.uow.run(
        lambda tx: complaints.receive(tx, store=store, estate=estate, values=values, now=LATE_SUNDAY, actor_id=None, sealer=SEALER)
    )
    return received.complaint


def test_concurrent_complaints_of_one_estate_get_distinct_numbers_in_sequence(
    context: ServiceContext, store: IntakeStore, estate: dict[str, Any]
) -> None:
    stored = store.estate("NS01")
    assert stored is not None
    count = 40
    with ThreadPoolExecutor(max_workers=16) as pool:
        filed = list(pool.map(lambda index: receive(context, store, stored, index), range(count)))
    numbers = [complaint["ticket_no"] for complaint in filed]
    assert len(set(numbers)) == count, f"a ticket number was given twice: {sorted(numbers)}"
    assert sorted(numbers) == [f"NS01-20261122-{n:04d}" for n in range(1, count + 1)]
    assert context.database.complaints.count_documents({"estate_id": "NS01"}) == count
    counter = context.database[COUNTERS].find_one({"_id": counter_id(estate_id="NS01", day=date(2026, 11, 22))})
    assert counter is not None and counter["value"] == count


def test_the_allocator_hands_out_each_number_once_under_contention(context: ServiceContext) -> None:
    tickets = TicketNumbers(context.database)
    day = date(2026, 11, 22)
    barrier = threading.Barrier(12)

    def take(_: int) -> list[int]:
        barrier.wait()  # every thread's first increment races the upsert of a counter that does not exist yet
        return [tickets.allocate(estate_id="HOT1", day=day) for _ in range(50)]

    with ThreadPoolExecutor(max_workers=12) as pool:
        per_thread = list(pool.map(take, range(12)))
    taken = [number for numbers in per_thread for number in numbers]
    assert sorted(taken) == list(range(1, 12 * 50 + 1)), "a number was given twice or skipped"
    for numbers in per_thread:
        assert numbers == sorted(numbers), "one thread's numbers follow the order it took them"


def test_a_failed_increment_fails_every_caller_it_served_and_the_next_one_works(context: ServiceContext) -> None:
    tickets = TicketNumbers(context.database)
    day = date(2026, 11, 22)
    key = counter_id(estate_id="BAD1", day=day)
    context.database[COUNTERS].insert_one({"_id": key, "value": "not a number"})  # $inc refuses it
    barrier = threading.Barrier(8)

    def take(_: int) -> str:
        barrier.wait()
        try:
            tickets.allocate(estate_id="BAD1", day=day)
        except OperationFailure as exc:
            return str(exc.code)
        return "a number"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(take, range(8)))
    assert set(outcomes) == {"14"}, outcomes  # TypeMismatch in every caller, none left waiting
    context.database[COUNTERS].update_one({"_id": key}, {"$set": {"value": 41}})
    with ThreadPoolExecutor(max_workers=8) as pool:
        numbers = list(pool.map(lambda _: tickets.allocate(estate_id="BAD1", day=day), range(8)))
    assert sorted(numbers) == list(range(42, 50))


def test_an_open_complaint_transaction_does_not_hold_up_another_of_the_same_estate(
    context: ServiceContext, store: IntakeStore, estate: dict[str, Any]
) -> None:
    stored = store.estate("NS01")
    assert stored is not None
    values = ComplaintIn().load(complaint_body())
    with context.client.start_session() as session:
        session.start_transaction()
        tx = Transaction(session=session, database=context.database, producer="intake")
        first = complaints.receive(tx, store=store, estate=stored, values=values, now=LATE_SUNDAY, actor_id=None, sealer=SEALER)
        # The first complaint's transaction is still open: with the counter written inside it, this
        # one would hit a write conflict, retry and give up at the timeout.
        with pymongo.timeout(5):
            second = receive(context, store, stored, 7)
        session.commit_transaction()
    assert (first.complaint["ticket_no"], second["ticket_no"]) == ("NS01-20261122-0001", "NS01-20261122-0002")
    assert context.database.complaints.count_documents({"estate_id": "NS01"}) == 2


def test_a_refused_complaint_spends_its_number_and_leaves_nothing_else(
    context: ServiceContext, store: IntakeStore, estate: dict[str, Any]
) -> None:
    stored = store.estate("NS01")
    assert stored is not None
    first = receive(context, store, stored, 1, external_ref="CRM-1")
    try:
        receive(context, store, stored, 2, external_ref="CRM-1")
    except ReferenceTaken:
        pass
    else:
        raise AssertionError("a reused external_ref was accepted")
    third = receive(context, store, stored, 3)
    assert (first["ticket_no"], third["ticket_no"]) == ("NS01-20261122-0001", "NS01-20261122-0003")  # 0002: a gap
    assert context.database.complaints.count_documents({}) == 2
    assert [len(store.timeline(complaint["_id"])) for complaint in (first, third)] == [1, 1]  # its "receive" entry each
    assert context.database.complaint_timeline.count_documents({}) == 0  # the refused one left no entry either


def test_a_retried_unit_of_work_keeps_the_number_its_first_attempt_took(
    context: ServiceContext, store: IntakeStore, estate: dict[str, Any]
) -> None:
    stored = store.estate("NS01")
    assert stored is not None
    values = ComplaintIn().load(complaint_body())
    attempts: list[str] = []

    def work(tx: Transaction) -> dict[str, Any]:
        received = complaints.receive(tx, store=store, estate=stored, values=values, now=LATE_SUNDAY, actor_id=None, sealer=SEALER)
        attempts.append(received.complaint["ticket_no"])
        if len(attempts) == 1:
            failure = OperationFailure("a write conflict, as the driver sees one")
            failure._add_error_label("TransientTransactionError")
            raise failure  # the driver retries the whole unit of work
        return received.complaint

    first = context.uow.run(work)
    assert attempts == ["NS01-20261122-0001", "NS01-20261122-0001"]
    assert first["ticket_no"] == "NS01-20261122-0001"
    assert receive(context, store, stored, 2)["ticket_no"] == "NS01-20261122-0002"  # no gap left by the retry


def test_concurrent_complaints_from_one_phone_conflict_on_their_resident_and_leave_no_gap(app: Flask, estate: dict[str, Any]) -> None:
    """One resident posting many times at once: their transactions conflict on the resident and retry, keeping their numbers."""
    with ThreadPoolExecutor(max_workers=12) as pool:
        responses = list(pool.map(lambda _: app.test_client().post("/api/v1/complaints", json=complaint_body()), range(12)))
    assert all(response.status_code == 201 for response in responses), [response.get_json() for response in responses]
    assert sorted(response.get_json()["ticket_no"] for response in responses) == [f"NS01-20261122-{n:04d}" for n in range(1, 13)]


def test_the_api_under_concurrent_posts_gives_distinct_numbers(app: Flask, estate: dict[str, Any]) -> None:
    def submit(index: int) -> str:
        body = complaint_body(reporter={"name": "王女士", "phone": f"139{index:08d}", "role": "owner"})
        response = app.test_client().post("/api/v1/complaints", json=body)
        assert response.status_code == 201, response.get_json()
        return str(response.get_json()["ticket_no"])

    with ThreadPoolExecutor(max_workers=12) as pool:
        numbers = list(pool.map(submit, range(24)))
    assert sorted(numbers) == [f"NS01-20261122-{n:04d}" for n in range(1, 25)]


def _sources() -> list[tuple[Path, str]]:
    return [(path, path.read_text()) for path in INTAKE.rglob("*.py")]


def test_every_path_that_files_a_complaint_takes_its_number_from_the_one_allocator() -> None:
    """The API, resident pages, hotline and Open311 all file through ``complaints.receive``; only it numbers tickets."""
    counts: Callable[[str], list[str]] = lambda pattern: sorted(  # noqa: E731
        str(path.relative_to(INTAKE)) for path, text in _sources() if re.search(pattern, text)
    )
    assert counts(r"\bticket_no\(") == ["complaints.py", "domain/tickets.py"]
    assert counts(r"next_ticket_sequence\(") == ["complaints.py", "store.py"]
    assert counts(r"\bCOUNTERS\b|ticket_counters") == ["store.py", "ticket_numbers.py"]
    assert counts(r"insert_complaint\(") == ["complaints.py", "store.py"]
    filers = counts(r"complaints\.receive\(")
    assert filers == ["hotline.py", "open311/routes.py", "resident_pages.py", "routes.py"]
