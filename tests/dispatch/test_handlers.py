"""Dispatch's consumer against the real broker and mongod: events published by other services (same
exchange, their own settings) become work orders, reopen or close them, and keep the estates copy."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from dispatch import work_orders
from dispatch.store import DispatchStore
from dispatch.worker import build_worker
from propcare_shared.clock import FrozenClock
from propcare_shared.context import ServiceContext
from propcare_shared.events.bus import EventBus
from propcare_shared.events.envelope import Event, new_event
from propcare_shared.testing import outbox_events, wait_for
from propcare_shared.worker import Worker
from tests.dispatch.factories import CORRIDOR_LIGHT, received_event


@pytest.fixture
def worker(context: ServiceContext, start_worker: Callable[[Worker], Worker]) -> Worker:
    return start_worker(build_worker(context))


@pytest.fixture
def intake_bus(bus_as: Callable[[str], EventBus]) -> EventBus:
    """A publisher with intake's settings on the same exchange."""
    return bus_as("intake")


@pytest.fixture
def published(capture: Callable[[str], Callable[[], list[dict[str, Any]]]]) -> Callable[[], list[dict[str, Any]]]:
    """Every ``complaint.*`` event on the exchange but intake's own; returns a reader of what arrived."""
    read = capture("complaint.#")
    return lambda: [body for body in read() if body["type"] != "complaint.received"]


def published_outbox(context: ServiceContext, complaint_id: str) -> list[dict[str, Any]]:
    return [doc for doc in context.database.outbox.find({"event.correlation_id": complaint_id}) if doc["published_at"] is not None]


def wait_for_order(store: DispatchStore, complaint_id: str, **expected: Any) -> dict[str, Any]:
    def ready() -> dict[str, Any] | None:
        order = store.work_orders.work_order(complaint_id)
        return order if order is not None and all(order.get(k) == v for k, v in expected.items()) else None

    return wait_for(ready, timeout=15, message=f"work order {complaint_id} with {expected}")


def survey_answer(event_type: str, order: dict[str, Any], *, satisfied: bool, clock: FrozenClock, auto_closed: bool = False) -> Event:
    return new_event(
        event_type,
        producer="survey",
        data={
            "invitation_id": "inv-1",
            "kind": "follow_up",
            "complaint_id": order["_id"],
            "satisfied": satisfied,
            "solved": satisfied,
            "answered_at": clock(),
            "auto_closed": auto_closed,
        },
        correlation_id=order["_id"],
        group_id="G1",
        region_id="R1",
        estate_id="NS01",
    )


def test_received_complaint_becomes_an_assigned_work_order(
    worker: Worker,
    intake_bus: EventBus,
    context: ServiceContext,
    store: DispatchStore,
    staff: None,
    published: Callable[[], list[dict[str, Any]]],
) -> None:
    event = received_event()
    intake_bus.publish(event)
    order = wait_for_order(store, event.data["complaint_id"])
    assert (order["status"], order["category"], order["department"], order["tier"]) == ("assigned", "facility", "engineering", "general")
    assert order["assignee_id"] in {"eng-1", "eng-2"}
    assert order["seq"] == 3
    assert order["deadlines"]["response"]["state"] == "pending"
    events = outbox_events(context.database, order["_id"])
    assert [(e["type"], e["seq"], e["causation_id"]) for e in events] == [
        ("complaint.classified", 2, event.id),
        ("complaint.assigned", 3, event.id),
    ]
    assert events[1]["data"]["deadlines"]["response"] == order["deadlines"]["response"]["due_at"]
    assert "王女士" not in repr(events) and "13800138000" not in repr(events)
    wait_for(lambda: len(published_outbox(context, order["_id"])) == 2, timeout=15, message="outbox published")
    on_the_bus = wait_for(lambda: published() if len(published()) == 2 else None, timeout=15, message="events on the exchange")
    assert [(body["type"], body["seq"], body["data"]["assignee_id"]) for body in on_the_bus] == [
        ("complaint.classified", 2, None),
        ("complaint.assigned", 3, order["assignee_id"]),
    ]


def test_duplicate_delivery_makes_one_work_order(
    worker: Worker, intake_bus: EventBus, context: ServiceContext, store: DispatchStore, staff: None
) -> None:
    event = received_event()
    same_fact_new_id = received_event(complaint_id=event.data["complaint_id"])
    follower = received_event(building="7")
    for message in (event, event, same_fact_new_id, follower):
        intake_bus.publish(message)
    wait_for_order(store, follower.data["complaint_id"])
    assert context.database.work_orders.count_documents({"_id": event.data["complaint_id"]}) == 1
    assert len(outbox_events(context.database, event.data["complaint_id"])) == 2
    assert context.database.timeline.count_documents({"complaint_id": event.data["complaint_id"]}) == 2


def test_a_households_second_complaint_of_a_subcategory_is_important(
    worker: Worker, intake_bus: EventBus, store: DispatchStore, staff: None
) -> None:
    first = received_event(household_id="H-3-2-1502")
    intake_bus.publish(first)
    assert wait_for_order(store, first.data["complaint_id"])["tier"] == "general"
    second = received_event(household_id="H-3-2-1502", received_at=first.data["received_at"] + timedelta(days=3))
    intake_bus.publish(second)
    order = wait_for_order(store, second.data["complaint_id"])
    assert order["tier"] == "important"
    assert order["tier_reason"]
    assert set(order["deadlines"]) == {"response", "onsite", "plan", "resolve"}


def test_a_buildings_third_complaint_of_a_subcategory_is_important(
    worker: Worker, intake_bus: EventBus, store: DispatchStore, staff: None
) -> None:
    tiers = []
    for room in ("0101", "0202", "0303"):
        event = received_event(room=room, building="9")
        intake_bus.publish(event)
        tiers.append(wait_for_order(store, event.data["complaint_id"])["tier"])
    assert tiers == ["general", "general", "important"]


def test_nobody_to_assign_leaves_it_classified(
    worker: Worker, intake_bus: EventBus, context: ServiceContext, store: DispatchStore, estates: dict[str, Any]
) -> None:
    event = received_event()
    intake_bus.publish(event)
    order = wait_for_order(store, event.data["complaint_id"])
    assert (order["status"], order["assignee_id"], order["seq"]) == ("classified", None, 2)
    assert [e["type"] for e in outbox_events(context.database, order["_id"])] == ["complaint.classified"]


def resolved_order(context: ServiceContext, store: DispatchStore, intake_bus: EventBus, clock: FrozenClock) -> dict[str, Any]:
    event = received_event(text=CORRIDOR_LIGHT)
    intake_bus.publish(event)
    order = wait_for_order(store, event.data["complaint_id"], status="assigned")
    context.uow.run(
        lambda tx: work_orders.act(
            tx,
            store=store,
            complaint_id=order["_id"],
            action="resolve",
            values={"note": "lamp replaced"},
            actor_id=order["assignee_id"],
            at=clock(),
        )
    )
    return store.work_orders.work_order(order["_id"])


def test_dissatisfied_survey_reopens_with_the_same_assignee(
    worker: Worker, intake_bus: EventBus, context: ServiceContext, store: DispatchStore, staff: None, clock: FrozenClock
) -> None:
    order = resolved_order(context, store, intake_bus, clock)
    clock.advance(timedelta(hours=5))
    answer = survey_answer("survey.dissatisfied", order, satisfied=False, clock=clock)
    intake_bus.publish(answer)
    intake_bus.publish(answer)
    reopened = wait_for_order(store, order["_id"], status="assigned")
    assert (reopened["assignee_id"], reopened["repeat_count"]) == (order["assignee_id"], 1)
    assert reopened["deadlines"]["follow_up"]["state"] == "met"
    assert reopened["deadlines"]["response"]["due_at"] == clock() + timedelta(hours=24)
    assert reopened["deadlines"]["resolve"]["met_at"] is None
    types = [e["type"] for e in outbox_events(context.database, order["_id"])]
    assert types == ["complaint.classified", "complaint.assigned", "complaint.resolved", "complaint.reopened"]


def test_satisfied_survey_closes_and_an_unsatisfied_completion_does_not(
    worker: Worker, intake_bus: EventBus, context: ServiceContext, store: DispatchStore, staff: None, clock: FrozenClock
) -> None:
    order = resolved_order(context, store, intake_bus, clock)
    intake_bus.publish(survey_answer("survey.completed", order, satisfied=False, clock=clock))
    intake_bus.publish(survey_answer("survey.completed", order, satisfied=True, clock=clock))
    closed = wait_for_order(store, order["_id"], status="closed")
    assert closed["deadlines"]["follow_up"]["state"] == "met"
    assert [e["type"] for e in outbox_events(context.database, order["_id"])][-1] == "complaint.closed"


def test_auto_closed_survey_closes_with_the_follow_up_missed(
    worker: Worker, intake_bus: EventBus, context: ServiceContext, store: DispatchStore, staff: None, clock: FrozenClock
) -> None:
    order = resolved_order(context, store, intake_bus, clock)
    clock.advance(timedelta(days=7))
    intake_bus.publish(survey_answer("survey.completed", order, satisfied=True, clock=clock, auto_closed=True))
    closed = wait_for_order(store, order["_id"], status="closed")
    assert closed["deadlines"]["follow_up"]["state"] == "breached"
    assert closed["deadlines"]["follow_up"]["met_at"] is None


def hotline_event(event_type: str, order: dict[str, Any], *, clock: FrozenClock, **data: Any) -> Event:
    """Return a hotline event as intake emits it for the transfer of a work order."""
    return new_event(
        event_type,
        producer="intake",
        data={"hotline_ticket_id": "12345-20261123-000001", "complaint_id": order["_id"], "at": clock(), **data},
        correlation_id=order["_id"],
        group_id="G1",
        region_id="R1",
        estate_id="NS01",
    )


def hotline_order(store: DispatchStore, intake_bus: EventBus, **data: Any) -> dict[str, Any]:
    event = received_event(channel="gov_hotline", hotline_ticket_id="12345-20261123-000001", **data)
    intake_bus.publish(event)
    return wait_for_order(store, event.data["complaint_id"], status="assigned")


def resolve(context: ServiceContext, store: DispatchStore, order: dict[str, Any], clock: FrozenClock) -> None:
    context.uow.run(
        lambda tx: work_orders.act(
            tx,
            store=store,
            complaint_id=order["_id"],
            action="resolve",
            values={"note": "lamp replaced"},
            actor_id=order["assignee_id"],
            at=clock(),
        )
    )


def handled(context: ServiceContext, event: Event) -> bool:
    return context.database.inbox.count_documents({"event_id": event.id}) == 1


def test_an_urgent_transfer_is_an_emergency_whose_resolve_is_the_hotlines_deadline(
    worker: Worker, intake_bus: EventBus, store: DispatchStore, staff: None, clock: FrozenClock
) -> None:
    reply_deadline = clock() + timedelta(hours=6)
    order = hotline_order(store, intake_bus, hotline_deadline=reply_deadline, urgent=True)
    assert (order["tier"], order["tier_reason"], order["hotline"], order["hotline_ticket_id"]) == (
        "emergency",
        "hotline_urgent",
        True,
        "12345-20261123-000001",
    )
    assert order["deadlines"]["response"]["due_at"] == clock() + timedelta(minutes=15)
    assert order["deadlines"]["resolve"]["due_at"] == reply_deadline


def test_a_hotline_return_cancels_the_order_once_with_its_reason_and_returner(
    worker: Worker, intake_bus: EventBus, context: ServiceContext, store: DispatchStore, staff: None, clock: FrozenClock
) -> None:
    order = hotline_order(store, intake_bus)
    clock.advance(timedelta(hours=1))
    returned = hotline_event("hotline.returned", order, clock=clock, actor_id="cs-1", reason="不属于本物业管辖范围")
    same_fact_new_id = hotline_event("hotline.returned", order, clock=clock, actor_id="cs-1", reason="不属于本物业管辖范围")
    for message in (returned, returned, same_fact_new_id):
        intake_bus.publish(message)
    cancelled = wait_for_order(store, order["_id"], status="cancelled")
    wait_for(lambda: handled(context, same_fact_new_id), timeout=15, message="second return handled")
    assert (cancelled["cancel_reason"], cancelled["cancelled_at"]) == ("不属于本物业管辖范围", clock())
    assert [e["type"] for e in outbox_events(context.database, order["_id"])].count("complaint.cancelled") == 1
    [entry] = [entry for entry in store.work_orders.timeline(order["_id"]) if entry["action"] == "cancel"]
    assert (entry["actor_id"], entry["details"]["reason"]) == ("cs-1", "不属于本物业管辖范围")
    assert "12345" in entry["note"]


def test_a_hotline_return_of_a_resolved_order_is_logged_and_acked_not_retried(
    worker: Worker, intake_bus: EventBus, context: ServiceContext, store: DispatchStore, staff: None, clock: FrozenClock
) -> None:
    order = hotline_order(store, intake_bus)
    resolve(context, store, order, clock)
    returned = hotline_event("hotline.returned", order, clock=clock, actor_id="cs-1", reason="wrong estate")
    intake_bus.publish(returned)
    wait_for(lambda: handled(context, returned), timeout=15, message="return acknowledged")
    assert store.work_orders.work_order(order["_id"])["status"] == "resolved"
    assert [e["type"] for e in outbox_events(context.database, order["_id"])][-1] == "complaint.resolved"


def test_the_hotlines_dissatisfied_follow_up_reopens_with_its_comment_on_the_timeline(
    worker: Worker, intake_bus: EventBus, context: ServiceContext, store: DispatchStore, staff: None, clock: FrozenClock
) -> None:
    order = hotline_order(store, intake_bus)
    resolve(context, store, order, clock)
    clock.advance(timedelta(hours=5))
    answer = hotline_event("hotline.satisfaction_reported", order, clock=clock, result="dissatisfied", comment="灯还是不亮")
    intake_bus.publish(answer)
    intake_bus.publish(answer)
    reopened = wait_for_order(store, order["_id"], status="assigned", repeat_count=1)
    assert reopened["assignee_id"] == order["assignee_id"]
    assert (reopened["deadlines"]["follow_up"]["state"], reopened["deadlines"]["follow_up"]["met_at"]) == ("met", clock())
    [entry] = [entry for entry in store.work_orders.timeline(order["_id"]) if entry["action"] == "reopen"]
    assert "灯还是不亮" in entry["note"] and "dissatisfied" in entry["note"]
    types = [e["type"] for e in outbox_events(context.database, order["_id"])]
    assert types == ["complaint.classified", "complaint.assigned", "complaint.resolved", "complaint.reopened"]


@pytest.mark.parametrize("result", ["satisfied", "basically_satisfied"])
def test_the_hotlines_satisfied_follow_up_closes_a_resolved_order_with_the_follow_up_met(
    result: str,
    worker: Worker,
    intake_bus: EventBus,
    context: ServiceContext,
    store: DispatchStore,
    staff: None,
    clock: FrozenClock,
) -> None:
    order = hotline_order(store, intake_bus)
    resolve(context, store, order, clock)
    clock.advance(timedelta(hours=3))
    intake_bus.publish(hotline_event("hotline.satisfaction_reported", order, clock=clock, result=result))
    closed = wait_for_order(store, order["_id"], status="closed")
    assert (closed["deadlines"]["follow_up"]["state"], closed["deadlines"]["follow_up"]["met_at"]) == ("met", clock())
    assert [e["type"] for e in outbox_events(context.database, order["_id"])][-1] == "complaint.closed"


def test_the_hotlines_follow_up_of_an_order_still_open_changes_nothing(
    worker: Worker, intake_bus: EventBus, context: ServiceContext, store: DispatchStore, staff: None, clock: FrozenClock
) -> None:
    order = hotline_order(store, intake_bus)
    answers = [
        hotline_event("hotline.satisfaction_reported", order, clock=clock, result="dissatisfied", comment="没人来"),
        hotline_event("hotline.satisfaction_reported", order, clock=clock, result="satisfied"),
    ]
    for answer in answers:
        intake_bus.publish(answer)
    wait_for(lambda: all(handled(context, answer) for answer in answers), timeout=15, message="answers acknowledged")
    assert store.work_orders.work_order(order["_id"])["seq"] == order["seq"]
    assert [entry["action"] for entry in store.work_orders.timeline(order["_id"])] == ["classify", "assign"]


def test_estate_upserted_keeps_a_copy(worker: Worker, intake_bus: EventBus, store: DispatchStore) -> None:
    event = new_event(
        "directory.estate.upserted",
        producer="intake",
        data={"estate_id": "NS01", "name": "南山花园", "code": "NS01", "region_id": "R1", "group_id": "G1", "timezone": "Asia/Shanghai"},
        group_id="G1",
        region_id="R1",
        estate_id="NS01",
    )
    intake_bus.publish(event)
    intake_bus.publish(event)
    estate = wait_for(lambda: store.directory.estate("NS01"), timeout=15, message="estate copy")
    assert (estate["group_id"], estate["region_id"], estate["timezone"]) == ("G1", "R1", "Asia/Shanghai")
