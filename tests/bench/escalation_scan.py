"""The SLA escalation scanner's cost per pass at 100,000 open work orders, for ``make bench``.

A private mongod (``infra.local.mongod.MongodProcess``) gets dispatch's indexes and 100,000 open work
orders of 20 estates, inserted with ``insert_many`` as ``tests.dispatch.factories.work_order`` builds
them: most received minutes ago (their next check hours away), 1,100 received three days ago (their
steps late) whose ``next_check_at`` is set into the past for each measured pass. One pass of
``dispatch.escalation.EscalationScanner.scan`` is timed with nothing due, with 100 due and with 1,000
due, on a frozen clock; each row also gives the keys and documents the scanner's query examined
(``explain`` of ``due_checks``). A pass should cost in proportion to the orders due, not to the open
ones. Nothing is asserted: figures go to docs/PERFORMANCE.md ("Dispatch's queries").

    .venv/bin/python -m tests.bench.escalation_scan

Shorter: ``BENCH_ESCALATION_OPEN`` open orders (default 100000), ``BENCH_ESCALATION_DUE`` the due
counts of the passes, in order (default ``0,100,1000``).
"""

from __future__ import annotations

import os
import time
from datetime import timedelta
from typing import Any

from pymongo.database import Database

OPEN_ORDERS = int(os.environ.get("BENCH_ESCALATION_OPEN") or 100_000)
DUE_COUNTS = tuple(int(part) for part in (os.environ.get("BENCH_ESCALATION_DUE") or "0,100,1000").split(",") if part.strip())
LATE_ORDERS = min(sum(DUE_COUNTS) + 100, OPEN_ORDERS)
ESTATES = 20
TEMPLATES = 200


def _orders(now: Any) -> list[dict[str, Any]]:
    """Return 100,000 open orders: templates built by the dispatch factories, copied under new ids and estates."""
    from propcare_shared.mongo import new_id
    from tests.dispatch.factories import work_order

    far = now + timedelta(days=365)
    fresh = [dict(work_order(received_at=now - timedelta(minutes=n % 60 + 1), status="assigned")) for n in range(TEMPLATES)]
    late = [dict(work_order(received_at=now - timedelta(days=3, minutes=n), status="assigned")) for n in range(TEMPLATES)]
    late = [order | {"next_check_at": far} for order in late]
    orders = []
    for n in range(OPEN_ORDERS):
        template = late[n % TEMPLATES] if n < LATE_ORDERS else fresh[n % TEMPLATES]
        estate_id = f"E{n % ESTATES:02d}"
        orders.append({**template, "_id": new_id(), "ticket_no": f"{estate_id}-{n:06d}", "estate_id": estate_id, "late": n < LATE_ORDERS})
    return orders


def _query_cost(database: Database, now: Any) -> tuple[int, int]:
    """Return the keys and documents examined by the scanner's first query of a pass."""
    from tests.query_plans import Recorded, explain

    command = {
        "find": "work_orders",
        "filter": {"next_check_at": {"$lte": now}},
        "projection": {"_id": 1, "next_check_at": 1},
        "sort": {"next_check_at": 1, "_id": 1},
        "limit": 200,
    }
    plan = explain(database.client, Recorded(database.name, command))
    return plan.keys_examined, plan.docs_examined


def _make_due(database: Database, count: int, now: Any) -> None:
    """Set ``count`` late orders due now (those not made due before), as their deadlines would."""
    if count == 0:
        return  # a limit of 0 is no limit
    ids = [doc["_id"] for doc in database["work_orders"].find({"late": True, "due_once": None}, {"_id": 1}).limit(count)]
    database["work_orders"].update_many({"_id": {"$in": ids}}, {"$set": {"next_check_at": now - timedelta(minutes=1), "due_once": True}})


def rows() -> list[tuple[str, str, str, str]]:
    """Seed a private mongod, time one scanner pass per due count; return ``(label, compared with, rate, latency)`` rows."""
    from dispatch.config import DispatchConfig
    from dispatch.escalation import EscalationScanner
    from dispatch.store import INDEXES
    from infra.local.mongod import MongodProcess
    from propcare_shared.clock import FrozenClock
    from propcare_shared.context import ServiceContext
    from propcare_shared.settings import Settings
    from tests.dispatch.factories import MONDAY_MORNING

    now = MONDAY_MORNING
    results: list[tuple[str, str, str, str]] = []
    with MongodProcess() as mongod:
        settings = Settings(service="dispatch", mongodb_url=mongod.url, mongodb_database="bench_escalation")
        context = ServiceContext.open(settings, clock=FrozenClock(now), config=DispatchConfig())
        try:
            context.ensure_indexes(INDEXES)
            started = time.perf_counter()
            context.database["work_orders"].insert_many(_orders(now), ordered=False)
            seeded_in = time.perf_counter() - started
            open_orders = context.database["work_orders"].estimated_document_count()
            scanner = EscalationScanner(context=context)
            for due in DUE_COUNTS:
                _make_due(context.database, due, now)
                keys, docs = _query_cost(context.database, now)
                started = time.perf_counter()
                fired = scanner.scan()
                elapsed = time.perf_counter() - started
                per_order = f", {elapsed * 1000 / due:.1f} ms per order" if due else ""
                results.append(
                    (
                        f"escalation scan pass, {open_orders:,} open, {due:,} due",
                        f"cost ∝ due (seeded in {seeded_in:.0f} s)",
                        f"{due / elapsed:,.0f} orders/s" if due else "—",
                        f"{elapsed * 1000:,.1f} ms per pass{per_order}; query examined {keys} keys, {docs} docs; {len(fired)} fired",
                    )
                )
        finally:
            context.client.drop_database(settings.mongodb_database)
            context.close()
    return results


if __name__ == "__main__":
    for row in rows():
        print(" | ".join(row))
