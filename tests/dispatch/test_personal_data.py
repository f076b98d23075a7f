"""Dispatch needs no reporter: a ``complaint.received`` with the contact sealed for notification becomes a
work order through the real broker, and neither the sealed contact nor a name or phone lands in
dispatch's database or in the events it emits."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from dispatch.store import DispatchStore
from dispatch.worker import build_worker
from propcare_shared.context import ServiceContext
from propcare_shared.events.bus import EventBus
from propcare_shared.testing import wait_for
from propcare_shared.worker import Worker
from tests.dispatch.factories import REPORTER_CONTACT, received_event


def test_a_complaint_with_a_sealed_contact_becomes_a_work_order_that_keeps_no_contact(
    context: ServiceContext,
    store: DispatchStore,
    staff: None,
    start_worker: Callable[[Worker], Worker],
    bus_as: Callable[[str], EventBus],
) -> None:
    start_worker(build_worker(context))
    event = received_event()
    assert "reporter" not in event.data
    sealed = event.data["contact"]
    bus_as("intake").publish(event)
    complaint_id = event.data["complaint_id"]
    order = wait_for(lambda: store.work_orders.work_order(complaint_id), timeout=15, message="work order made")
    assert order["status"] == "assigned"
    assert not {"reporter", "reporter_role", "contact"} & set(order)

    kept: list[dict[str, Any]] = []
    for name in context.database.list_collection_names():
        kept.extend(context.database[name].find())
    dumped = json.dumps(kept, default=str, ensure_ascii=False)
    assert sealed not in dumped
    assert REPORTER_CONTACT["name"] not in dumped
    assert "13800138000" not in dumped
