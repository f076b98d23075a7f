"""What a resident adds to their complaint (intake's ``complaint.updated_by_resident``) goes on the work
order's timeline, through dispatch's own handler in its unit of work with the inbox: once per event,
without changing the order or emitting anything, also on a closed order; an order not made yet is
retried. The API's timeline shows it as written (JSON), without the resident's name or phone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from dispatch.handlers import HANDLERS
from dispatch.store import DispatchStore
from dispatch.work_orders import WorkOrderNotFound, act
from propcare_shared.clock import FrozenClock
from propcare_shared.context import ServiceContext
from propcare_shared.events.envelope import Event, new_event
from propcare_shared.events.outbox import AlreadyHandled
from propcare_shared.handling import subscriptions
from propcare_shared.settings import Settings
from propcare_shared.testing import bearer, outbox_events

NOTE = '门还是关不上 <script>alert("x")</script>'


@pytest.fixture
def handle(context: ServiceContext) -> Callable[[Event], None]:
    [subscription] = [s for s in subscriptions(context, HANDLERS) if s.purpose == "resident-updates"]
    return subscription.handler


def resident_update(order: dict[str, Any], note: str = NOTE) -> Event:
    return new_event(
        "complaint.updated_by_resident",
        producer="intake",
        data={"complaint_id": order["_id"], "note": note},
        correlation_id=order["_id"],
        group_id="G1",
        region_id="R1",
        estate_id="NS01",
    )


def updates(store: DispatchStore, complaint_id: str) -> list[dict[str, Any]]:
    return [entry for entry in store.work_orders.timeline(complaint_id) if entry["action"] == "resident_update"]


def test_the_residents_note_goes_on_the_timeline_once_and_changes_nothing_else(
    handle: Callable[[Event], None],
    make_work_order: Callable[..., dict[str, Any]],
    store: DispatchStore,
    context: ServiceContext,
    staff: None,
    client: FlaskClient,
    settings: Settings,
) -> None:
    order = make_work_order()
    events_before = len(outbox_events(context.database, order["_id"]))
    event = resident_update(order)
    handle(event)
    with pytest.raises(AlreadyHandled):
        handle(event)
    [entry] = updates(store, order["_id"])
    assert (entry["note"], entry["actor_id"], entry["from_status"], entry["to_status"]) == (NOTE, None, "assigned", "assigned")
    assert entry["details"]["after_final"] is False
    after = store.work_orders.work_order(order["_id"])
    assert after is not None and (after["status"], after["seq"]) == (order["status"], order["seq"])
    assert len(outbox_events(context.database, order["_id"])) == events_before
    response = client.get(f"/api/v1/work-orders/{order['_id']}", headers=bearer(settings, role="manager", estates=["NS01"]))
    shown = [item for item in response.get_json()["timeline"] if item["action"] == "resident_update"]
    assert [item["note"] for item in shown] == [NOTE]
    assert "13800138000" not in response.get_data(as_text=True) and "王女士" not in response.get_data(as_text=True)
    assert response.content_type == "application/json"  # the note as written: pages that show it escape it


def test_a_closed_order_records_the_update_without_reopening(
    handle: Callable[[Event], None],
    make_work_order: Callable[..., dict[str, Any]],
    store: DispatchStore,
    context: ServiceContext,
    clock: FrozenClock,
    staff: None,
) -> None:
    order = make_work_order()
    for action, values in (("resolve", {"note": "修好了"}), ("close", {})):
        context.uow.run(
            lambda tx, action=action, values=values: act(
                tx, store=store, complaint_id=order["_id"], action=action, values=values, actor_id="eng-1", at=clock()
            )
        )
    handle(resident_update(order, "还是坏的"))
    [entry] = updates(store, order["_id"])
    assert entry["to_status"] == "closed" and entry["details"]["after_final"] is True
    closed = store.work_orders.work_order(order["_id"])
    assert closed is not None and closed["status"] == "closed"


def test_an_update_before_its_work_order_is_retried(handle: Callable[[Event], None], store: DispatchStore, estates: Any) -> None:
    with pytest.raises(WorkOrderNotFound):
        handle(resident_update({"_id": "not-made-yet"}))
    assert store.work_orders.timeline("not-made-yet") == []
