"""One escalation pass at a time across replicas, and no write for an order checked meanwhile (``dispatch.escalation``).

Two scanners walking the same due orders in the same order wrote each order at the same moment: one
transaction of the two conflicted and was retried after PyMongo's back-off. Now a pass takes a lease
(``leases``, ``sla-scanner``) and a replica that finds one running skips its turn; an order no longer
due when its transaction reads it is left unwritten.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from dispatch.escalation import PASS_LEASE_ID, EscalationScanner, escalate
from dispatch.store import DispatchStore
from propcare_shared.clock import FrozenClock, utcnow
from propcare_shared.context import ServiceContext
from propcare_shared.events.outbox import LEASES
from tests.dispatch.test_escalation import WARNING_AT


def test_a_scanner_skips_its_turn_while_another_pass_runs_then_fires(
    context: ServiceContext, staff: None, make_work_order: Callable[..., dict[str, Any]], clock: FrozenClock
) -> None:
    order = make_work_order()
    clock.now = WARNING_AT
    running = EscalationScanner(context=context)
    assert running._take_pass()
    waiting = EscalationScanner(context=context)
    assert waiting.scan() == []
    assert context.database.work_orders.find_one({"_id": order["_id"]})["deadlines"]["response"]["warned"] is False
    running._release_pass()
    assert [escalation.order["_id"] for escalation in waiting.scan()] == [order["_id"]]
    assert context.database[LEASES].find_one({"_id": PASS_LEASE_ID}) is None, "released at the end of the pass"


def test_the_lease_of_a_scanner_that_died_mid_pass_is_taken_once_expired(
    context: ServiceContext, staff: None, make_work_order: Callable[..., dict[str, Any]], clock: FrozenClock
) -> None:
    order = make_work_order()
    clock.now = WARNING_AT
    context.database[LEASES].insert_one({"_id": PASS_LEASE_ID, "owner": "dead:0", "expires_at": utcnow() + timedelta(seconds=30)})
    assert EscalationScanner(context=context).scan() == []
    context.database[LEASES].update_one({"_id": PASS_LEASE_ID}, {"$set": {"expires_at": utcnow() - timedelta(seconds=1)}})
    assert [escalation.order["_id"] for escalation in EscalationScanner(context=context).scan()] == [order["_id"]]


def test_an_order_checked_meanwhile_is_not_written_again(
    context: ServiceContext, store: DispatchStore, staff: None, make_work_order: Callable[..., dict[str, Any]], clock: FrozenClock
) -> None:
    order = make_work_order()
    clock.now = WARNING_AT
    first = context.uow.run(lambda tx: escalate(tx, store=store, complaint_id=order["_id"], now=WARNING_AT))
    assert first is not None and first.alerts
    checked = context.database.work_orders.find_one({"_id": order["_id"]})
    assert checked["next_check_at"] > WARNING_AT
    clock.advance(timedelta(seconds=1))
    again = context.uow.run(lambda tx: escalate(tx, store=store, complaint_id=order["_id"], now=WARNING_AT))
    assert again is None
    assert context.database.work_orders.find_one({"_id": order["_id"]}) == checked
    assert context.database.outbox.count_documents({"event.type": "sla.warning"}) == 1
