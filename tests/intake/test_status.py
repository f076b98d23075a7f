"""Intake's status view follows dispatch's events: in order, out of order, twice, and over the bus."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from intake.store import IntakeStore
from intake.worker import build_worker
from propcare_shared.clock import FrozenClock
from propcare_shared.context import ServiceContext
from propcare_shared.events.bus import EventBus
from propcare_shared.events.envelope import Event, new_event
from propcare_shared.events.outbox import AlreadyHandled
from propcare_shared.testing import wait_for
from propcare_shared.worker import Worker
from tests.intake.conftest import complaint_body


def dispatch_event(complaint: dict[str, Any], event_type: str, *, seq: int, status: str, clock: FrozenClock, **data: Any) -> Event:
    """Return a ``complaint.*`` event as dispatch emits it."""
    return new_event(
        event_type,
        producer="dispatch",
        data={
            "complaint_id": complaint["id"],
            "ticket_no": complaint["ticket_no"],
            "status": status,
            "action": event_type.split(".")[1],
            "at": clock(),
            **data,
        },
        correlation_id=complaint["id"],
        group_id="G1",
        region_id="R1",
        estate_id="NS01",
        seq=seq,
    )


def received(client: FlaskClient) -> dict[str, Any]:
    response = client.post("/api/v1/complaints", json=complaint_body())
    assert response.status_code == 201
    return response.get_json()


def test_status_time_limits_and_timeline_follow_dispatch(
    client: FlaskClient, agent: dict[str, str], estate: dict[str, Any], handle: Callable[[Event], None], clock: FrozenClock
) -> None:
    complaint = received(client)
    due = {"response": clock() + timedelta(minutes=30), "resolve": clock() + timedelta(hours=24)}
    handle(
        dispatch_event(
            complaint,
            "complaint.classified",
            seq=2,
            status="classified",
            clock=clock,
            category="facility",
            subcategory="elevator",
            tier="emergency",
            deadlines=due,
        )
    )
    handle(dispatch_event(complaint, "complaint.assigned", seq=3, status="assigned", clock=clock, assignee_id="eng-1", deadlines=due))
    view = client.get(f"/api/v1/complaints/{complaint['id']}", headers=agent).get_json()
    assert (view["status"], view["tier"], view["subcategory"], view["assignee_id"]) == ("assigned", "emergency", "elevator", "eng-1")
    assert view["deadlines"]["response"] == "2026-11-22T16:00:00.000Z"
    assert [entry["action"] for entry in view["timeline"]] == ["receive", "classified", "assigned"]
    tracked = client.get(f"/api/v1/track/{complaint['tracking_token']}").get_json()
    assert (
        tracked["status"] == "assigned" and tracked["tier"] == "emergency" and tracked["deadlines"]["resolve"] == "2026-11-23T15:30:00.000Z"
    )


def test_an_older_event_arriving_late_does_not_move_the_status_back(
    client: FlaskClient, estate: dict[str, Any], handle: Callable[[Event], None], store: IntakeStore, clock: FrozenClock
) -> None:
    complaint = received(client)
    handle(dispatch_event(complaint, "complaint.responded", seq=4, status="responded", clock=clock))
    handle(dispatch_event(complaint, "complaint.assigned", seq=3, status="assigned", clock=clock, assignee_id="eng-1"))
    stored = store.complaint(complaint["id"])
    assert stored is not None and stored["status"] == "responded" and stored["seq"] == 4
    assert len(store.timeline(complaint["id"])) == 3  # both events are in the history all the same


def test_a_redelivered_event_has_no_second_effect(
    client: FlaskClient,
    estate: dict[str, Any],
    handle: Callable[[Event], None],
    context: ServiceContext,
    store: IntakeStore,
    clock: FrozenClock,
) -> None:
    complaint = received(client)
    event = dispatch_event(complaint, "complaint.assigned", seq=3, status="assigned", clock=clock)
    handle(event)
    with pytest.raises(AlreadyHandled):
        handle(event)
    assert len(store.timeline(complaint["id"])) == 2
    # The inbox key is the one earlier versions wrote: events redelivered across an upgrade stay handled.
    assert context.database.inbox.find_one({"event_id": event.id}, {"_id": 0, "consumer": 1}) == {"consumer": "intake.complaint-status"}


def test_the_worker_consumes_dispatch_events_from_the_broker(
    client: FlaskClient,
    estate: dict[str, Any],
    context: ServiceContext,
    store: IntakeStore,
    clock: FrozenClock,
    start_worker: Callable[[Worker], Worker],
    bus_as: Callable[[str], EventBus],
) -> None:
    complaint = received(client)
    start_worker(build_worker(context))
    publisher = bus_as("dispatch")
    publisher.publish(dispatch_event(complaint, "complaint.assigned", seq=3, status="assigned", clock=clock, assignee_id="eng-1"))
    publisher.publish(dispatch_event(complaint, "complaint.resolved", seq=5, status="resolved", clock=clock, resolution="更换控制板"))
    wait_for(lambda: (store.complaint(complaint["id"]) or {}).get("status") == "resolved", timeout=15, message="status resolved")
    wait_for(
        lambda: context.database.outbox.count_documents({"published_at": None}) == 0,
        timeout=15,
        message="the relay published complaint.received",
    )
    assert [entry["action"] for entry in store.timeline(complaint["id"])] == ["receive", "assigned", "resolved"]
