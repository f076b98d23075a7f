"""The agent's call list through the API, with a real emergency complaint: intake's complaint.received,
dispatch's own handler classifies it (emergency, 15-minute response target), notification records the
acknowledgement and the call task, the agent works the list, and dispatch puts each outcome on the
complaint's timeline from notification's ``notification.call_logged``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from dispatch.config import DispatchConfig
from dispatch.handlers import HANDLERS as DISPATCH_HANDLERS
from dispatch.store import INDEXES as DISPATCH_INDEXES
from dispatch.store import DispatchStore
from notification.domain import call_tasks
from propcare_shared.clock import FrozenClock
from propcare_shared.context import ServiceContext
from propcare_shared.events.envelope import Event
from propcare_shared.handling import subscriptions
from propcare_shared.settings import Settings
from propcare_shared.testing import bearer, outbox_events
from tests.notification.factories import MONDAY_MORNING, MONDAY_NIGHT, PHONE_E164, received_event, work_order_event

LIFT_TRAPPED = "3号楼2单元电梯困人，里面有老人"


@pytest.fixture
def dispatch(make_settings: Callable[..., Settings], open_context: Callable[..., ServiceContext], clock: FrozenClock) -> ServiceContext:
    """Dispatch's context on its own database, knowing estate NS01, on the same clock."""
    context = open_context(make_settings("dispatch"), indexes=DISPATCH_INDEXES, clock=clock, config=DispatchConfig())
    DispatchStore(context.database, clock=clock).directory.estates.keep(
        estate_id="NS01",
        values={"group_id": "G1", "region_id": "R1", "code": "NS01", "name": "南山花园", "timezone": "Asia/Shanghai"},
        as_of=clock(),
    )
    return context


def dispatch_handles(dispatch: ServiceContext, event: Event) -> None:
    [subscription] = [s for s in subscriptions(dispatch, DISPATCH_HANDLERS) if event.type in s.event_types]
    subscription.handler(event)


@pytest.fixture
def emergency(dispatch: ServiceContext, handle: Callable[[Event], bool]) -> Event:
    """A resident trapped in a lift, reported on the app: dispatch classifies it and notification records what it owes."""
    received = received_event()
    received = replace(received, data={**received.data, "description": LIFT_TRAPPED})
    dispatch_handles(dispatch, received)
    handle(received)
    for document in outbox_events(dispatch.database, received.data["complaint_id"]):
        handle(Event.from_document(document))
    return received


def agent(settings: Settings, estates: tuple[str, ...] = ("NS01",)) -> dict[str, str]:
    return bearer(settings, role="agent", sub="agent-7", estates=estates)


def call_list(client: FlaskClient, headers: dict[str, str], **query: str) -> list[dict[str, Any]]:
    response = client.get("/api/v1/call-tasks", query_string=query, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def done(client: FlaskClient, settings: Settings, task_id: str, **body: Any) -> Any:
    return client.post(f"/api/v1/call-tasks/{task_id}/done", json=body, headers=agent(settings))


def test_an_emergency_complaint_is_on_the_list_due_at_its_response_target_and_its_outcomes_reach_the_timeline(
    client: FlaskClient, settings: Settings, clock: FrozenClock, dispatch: ServiceContext, emergency: Event
) -> None:
    complaint_id = emergency.data["complaint_id"]
    [task] = call_list(client, agent(settings), estate_id="NS01", status="open")
    assert (task["complaint_id"], task["tier"], task["kind"], task["reason"]) == (
        complaint_id,
        "emergency",
        "acknowledgement",
        "verbal_feedback",
    )
    assert task["due_at"] == "2026-11-23T02:15:00.000Z" and task["overdue"] is False
    assert task["phone"] == PHONE_E164 and task["ticket_no"] == emergency.data["ticket_no"]

    clock.advance(timedelta(minutes=20))
    [late] = call_list(client, agent(settings), estate_id="NS01")
    assert late["overdue"] is True

    missed = done(client, settings, task["id"], outcome="no_answer", note="rang 10 times")
    assert missed.status_code == 200, missed.get_json()
    assert missed.get_json()["status"] == "open" and missed.get_json()["attempts"] == 1
    assert missed.get_json()["due_at"] == "2026-11-23T02:30:00.000Z"  # an emergency is called again 10 minutes later

    reached = done(client, settings, task["id"], outcome="reached", note="家属已到，电梯已放人")
    assert reached.status_code == 200 and reached.get_json()["status"] == "done"
    assert [o["outcome"] for o in reached.get_json()["outcomes"]] == ["no_answer", "reached"]
    assert call_list(client, agent(settings), estate_id="NS01", status="open") == []
    assert [t["id"] for t in call_list(client, agent(settings), estate_id="NS01", status="done")] == [task["id"]]

    logged = [Event.from_document(d) for d in outbox_events(client.application.extensions["propcare"].database, complaint_id)]
    logged = [event for event in logged if event.type == "notification.call_logged"]
    assert [(e.data["outcome"], e.data["status"], e.data["actor_id"]) for e in logged] == [
        ("no_answer", "open", "agent-7"),
        ("reached", "done", "agent-7"),
    ]
    assert all(PHONE_E164 not in str(event.data) for event in logged)
    for event in logged:
        dispatch_handles(dispatch, event)
    timeline = DispatchStore(dispatch.database).work_orders.timeline(complaint_id)
    calls = [entry for entry in timeline if entry["action"] == "call"]
    assert [entry["details"]["outcome"] for entry in calls] == ["no_answer", "reached"]
    assert calls[1]["actor_id"] == "agent-7" and "家属已到，电梯已放人" in calls[1]["note"]
    assert calls[0]["details"]["next_due_at"] == datetime(2026, 11, 23, 2, 30, tzinfo=UTC)


def test_overdue_calls_come_first_and_the_list_pages_by_due_time(
    client: FlaskClient, settings: Settings, handle: Callable[[Event], bool], clock: FrozenClock
) -> None:
    general = received_event(channel="phone")  # a phone complaint: a call beside every message, due 24 h later
    urgent = received_event()
    for received, tier in ((general, "general"), (urgent, "emergency")):
        handle(received)
        response_due = {"response": MONDAY_MORNING + call_tasks.RESPONSE_WINDOWS[tier]}
        handle(work_order_event("complaint.classified", received, tier=tier, status="classified", deadlines=response_due))
    listed = call_list(client, agent(settings))
    assert [t["complaint_id"] for t in listed] == [urgent.data["complaint_id"], general.data["complaint_id"]]
    first = call_list(client, agent(settings), limit="1")
    response = client.get("/api/v1/call-tasks", query_string={"limit": 1}, headers=agent(settings)).get_json()
    rest = client.get(
        "/api/v1/call-tasks", query_string={"limit": 1, "cursor": response["next_cursor"]}, headers=agent(settings)
    ).get_json()
    assert [t["id"] for t in first] == [listed[0]["id"]] and [t["id"] for t in rest["items"]] == [listed[1]["id"]]
    assert rest["next_cursor"] is None


def test_a_call_with_no_answer_at_night_waits_for_the_morning_and_five_misses_close_it(
    client: FlaskClient, settings: Settings, handle: Callable[[Event], bool], clock: FrozenClock
) -> None:
    received = received_event(channel="phone")
    handle(received)
    handle(work_order_event("complaint.classified", received, status="classified"))
    [task] = call_list(client, agent(settings))
    clock.advance(MONDAY_NIGHT - MONDAY_MORNING)
    missed = done(client, settings, task["id"], outcome="no_answer").get_json()
    assert missed["due_at"] == "2026-11-23T23:00:00.000Z"  # 07:00 Tuesday in Shanghai, not 01:30
    asked = done(client, settings, task["id"], outcome="no_answer", retry_at="2026-11-24T03:00:00Z").get_json()
    assert asked["due_at"] == "2026-11-24T03:00:00.000Z"
    for _ in range(call_tasks.MAX_ATTEMPTS - 2):
        last = done(client, settings, task["id"], outcome="no_answer").get_json()
    assert last["status"] == "done" and last["attempts"] == call_tasks.MAX_ATTEMPTS
    again = done(client, settings, task["id"], outcome="reached")
    assert again.status_code == 409 and again.content_type == "application/problem+json"


def test_a_wrong_number_closes_the_task_and_later_messages_are_skipped(
    client: FlaskClient, settings: Settings, handle: Callable[[Event], bool]
) -> None:
    received = received_event(channel="phone")
    handle(received)
    handle(work_order_event("complaint.classified", received, status="classified"))
    [task] = call_list(client, agent(settings))
    assert done(client, settings, task["id"], outcome="wrong_number", note="not the reporter").get_json()["status"] == "done"
    handle(work_order_event("complaint.responded", received, seq=3))
    messages = client.get(
        "/api/v1/notifications", query_string={"kind": "responded"}, headers=bearer(settings, role="group_admin")
    ).get_json()["items"]
    assert [(m["status"], m["skip_reason"]) for m in messages] == [("skipped", "an agent found the reporter's phone is a wrong number")]
    assert call_list(client, agent(settings)) == []


def test_bad_outcomes_are_refused_with_field_errors_and_change_nothing(client: FlaskClient, settings: Settings, emergency: Event) -> None:
    [task] = call_list(client, agent(settings))
    for body, field in (
        ({}, "outcome"),
        ({"outcome": "hung_up"}, "outcome"),
        ({"outcome": "reached", "note": "x" * 5000}, "note"),
        ({"outcome": "reached", "retry_at": "2026-11-24T03:00:00Z"}, "retry_at"),
        ({"outcome": "no_answer", "retry_at": "tomorrow"}, "retry_at"),
    ):
        response = done(client, settings, task["id"], **body)
        assert response.status_code == 422, (body, response.get_json())
        assert field in response.get_json()["errors"], response.get_json()
    [unchanged] = call_list(client, agent(settings))
    assert unchanged["attempts"] == 0 and unchanged["outcomes"] == []
    assert client.get("/api/v1/call-tasks", query_string={"status": "later"}, headers=agent(settings)).status_code == 422
    assert client.get("/api/v1/call-tasks", query_string={"cursor": "nonsense"}, headers=agent(settings)).status_code == 422


def test_the_list_is_scoped_and_the_number_is_masked_for_roles_that_do_not_call(
    client: FlaskClient, settings: Settings, emergency: Event
) -> None:
    [task] = call_list(client, agent(settings))
    assert call_list(client, bearer(settings, role="handler", estates=["NS01"]))[0]["phone"] == "+86 138****8000"
    assert call_list(client, agent(settings, estates=("FT02",))) == []
    elsewhere = bearer(settings, role="agent", estates=["FT02"])
    assert client.get("/api/v1/call-tasks", query_string={"estate_id": "NS01"}, headers=elsewhere).status_code == 403
    other_group = bearer(settings, role="group_admin", group_id="G2")
    assert client.get("/api/v1/call-tasks", query_string={"estate_id": "NS01"}, headers=other_group).status_code == 404
    assert client.post(f"/api/v1/call-tasks/{task['id']}/done", json={"outcome": "reached"}, headers=other_group).status_code == 404
    assert client.post(f"/api/v1/call-tasks/{task['id']}/done", json={"outcome": "reached"}, headers=elsewhere).status_code == 403
    service = bearer(settings, role="service")
    assert client.post(f"/api/v1/call-tasks/{task['id']}/done", json={"outcome": "reached"}, headers=service).status_code == 403
    assert client.post("/api/v1/call-tasks/nope/done", json={"outcome": "reached"}, headers=agent(settings)).status_code == 404
    assert client.get("/api/v1/call-tasks").status_code == 401
