"""Dispatch's HTTP API against a real mongod: directory, work orders, actions and their refusals."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from prometheus_client import REGISTRY

from propcare_shared.clock import FrozenClock, isoformat_z
from propcare_shared.context import ServiceContext
from propcare_shared.settings import Settings
from propcare_shared.testing import bearer, outbox_events
from propcare_shared.vocabulary import TIERS
from tests.dispatch.factories import LIFT_TRAPPED
from tests.dispatch.gauges import scraped_gauges

WORK_ORDER_KEYS = {
    "complaint_id",
    "ticket_no",
    "estate_id",
    "status",
    "category",
    "subcategory",
    "tier",
    "department",
    "assignee_id",
    "grid_id",
    "confidence",
    "needs_review",
    "matched",
    "escalation_level",
    "deadlines",
    "timeline",
}


def supervisor(settings: Settings, *, estates: tuple[str, ...] = ("NS01",), sub: str = "eng-sup") -> dict[str, str]:
    return bearer(settings, role="supervisor", sub=sub, estates=estates)


def snapshot(context: ServiceContext, complaint_id: str) -> tuple[Any, int, int]:
    """What must not change when an action is refused: the order, its timeline and the outbox."""
    order = context.database.work_orders.find_one({"_id": complaint_id})
    return order, context.database.timeline.count_documents({"complaint_id": complaint_id}), context.database.outbox.count_documents({})


def act(client: FlaskClient, settings: Settings, complaint_id: str, body: dict[str, Any], **headers: str) -> Any:
    return client.post(f"/api/v1/work-orders/{complaint_id}/actions", json=body, headers={**supervisor(settings), **headers})


@pytest.fixture
def order(staff: None, make_work_order: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """A general facility complaint in NS01, assigned to an engineer."""
    return make_work_order()


# directory ---------------------------------------------------------------------------------------


def test_staff_put_creates_then_replaces_and_lists(client: FlaskClient, settings: Settings, estates: dict[str, Any]) -> None:
    headers = bearer(settings, role="manager", estates=["NS01"])
    body = {"name": "李师傅", "department": "engineering", "role": "handler", "grids": ["G-A"], "on_duty": True}
    created = client.put("/api/v1/estates/NS01/staff/eng-9", json=body, headers=headers)
    assert created.status_code == 201, created.json
    assert created.json | {"updated_at": None} == {**body, "staff_id": "eng-9", "estate_id": "NS01", "updated_at": None}
    replaced = client.put("/api/v1/estates/NS01/staff/eng-9", json={**body, "on_duty": False}, headers=headers)
    assert replaced.status_code == 200
    assert replaced.json["on_duty"] is False
    listing = client.get("/api/v1/estates/NS01/staff?role=handler", headers=headers)
    assert listing.status_code == 200
    assert [item["staff_id"] for item in listing.json["items"]] == ["eng-9"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "a", "department": "plumbing", "role": "handler"}, "department"),
        ({"name": "a", "department": "engineering", "role": "boss"}, "role"),
        ({"department": "engineering", "role": "handler"}, "name"),
        ({"name": "a", "department": "engineering", "role": "handler", "on_duty": "sometimes"}, "on_duty"),
    ],
)
def test_staff_put_with_invalid_fields_is_422(
    client: FlaskClient, settings: Settings, context: ServiceContext, estates: dict[str, Any], body: dict[str, Any], field: str
) -> None:
    response = client.put("/api/v1/estates/NS01/staff/s1", json=body, headers=bearer(settings, role="manager", estates=["NS01"]))
    assert response.status_code == 422
    assert field in response.json["errors"]
    assert context.database.staff.count_documents({}) == 0


def test_staff_put_outside_the_callers_estates_is_403(
    client: FlaskClient, settings: Settings, context: ServiceContext, estates: dict[str, Any]
) -> None:
    body = {"name": "a", "department": "engineering", "role": "handler"}
    response = client.put("/api/v1/estates/FT02/staff/s1", json=body, headers=bearer(settings, role="manager", estates=["NS01"]))
    assert response.status_code == 403
    assert context.database.staff.count_documents({}) == 0


def test_handlers_may_not_edit_the_directory(client: FlaskClient, settings: Settings, estates: dict[str, Any]) -> None:
    body = {"name": "a", "department": "engineering", "role": "handler"}
    response = client.put("/api/v1/estates/NS01/staff/s1", json=body, headers=bearer(settings, role="handler", estates=["NS01"]))
    assert response.status_code == 403


def test_grid_put_and_list(client: FlaskClient, settings: Settings, staff: None) -> None:
    headers = bearer(settings, role="manager", estates=["NS01"])
    created = client.put("/api/v1/estates/NS01/grids/G-A", json={"buildings": ["2", "1", "1"], "owner_id": "sec-1"}, headers=headers)
    assert created.status_code == 201
    assert created.json["buildings"] == ["1", "2"]
    listing = client.get("/api/v1/estates/NS01/grids", headers=headers)
    assert [(g["grid_id"], g["owner_id"]) for g in listing.json["items"]] == [("G-A", "sec-1")]


def test_grid_with_an_unknown_owner_or_a_building_of_another_grid_is_422(
    client: FlaskClient, settings: Settings, context: ServiceContext, staff: None
) -> None:
    headers = bearer(settings, role="manager", estates=["NS01"])
    assert client.put("/api/v1/estates/NS01/grids/G-A", json={"buildings": ["1"], "owner_id": "sec-1"}, headers=headers).status_code == 201
    unknown_owner = client.put("/api/v1/estates/NS01/grids/G-B", json={"buildings": ["2"], "owner_id": "ft-eng"}, headers=headers)
    assert unknown_owner.status_code == 422
    assert "owner_id" in unknown_owner.json["errors"]
    clash = client.put("/api/v1/estates/NS01/grids/G-B", json={"buildings": ["1", "2"], "owner_id": None}, headers=headers)
    assert clash.status_code == 422
    assert "buildings" in clash.json["errors"]
    assert context.database.grids.count_documents({}) == 1


# reading work orders -----------------------------------------------------------------------------


def test_work_order_has_the_api_shape(client: FlaskClient, settings: Settings, order: dict[str, Any]) -> None:
    response = client.get(f"/api/v1/work-orders/{order['_id']}", headers=supervisor(settings))
    assert response.status_code == 200
    body = response.json
    assert set(body) == WORK_ORDER_KEYS
    assert (body["status"], body["category"], body["department"], body["tier"]) == ("assigned", "facility", "engineering", "general")
    assert body["assignee_id"] in {"eng-1", "eng-2"}
    assert set(body["deadlines"]) == {"response", "resolve"}
    assert body["deadlines"]["response"] == {"due_at": "2026-11-24T02:00:00.000Z", "met_at": None, "state": "pending"}
    assert [entry["action"] for entry in body["timeline"]] == ["classify", "assign"]
    assert set(body["timeline"][0]) == {"at", "action", "actor_id", "note"}


def test_emergency_work_order_shows_only_its_tiers_targets(
    client: FlaskClient, settings: Settings, staff: None, make_work_order: Callable[..., dict[str, Any]]
) -> None:
    emergency = make_work_order(text=LIFT_TRAPPED)
    body = client.get(f"/api/v1/work-orders/{emergency['_id']}", headers=supervisor(settings)).json
    assert body["tier"] == "emergency"
    assert set(body["deadlines"]) == {"response", "onsite", "plan"}
    assert body["deadlines"]["response"]["due_at"] == "2026-11-23T02:15:00.000Z"


def test_pending_target_past_its_deadline_reads_breached(
    client: FlaskClient, settings: Settings, order: dict[str, Any], clock: FrozenClock
) -> None:
    clock.advance(timedelta(hours=25))
    body = client.get(f"/api/v1/work-orders/{order['_id']}", headers=supervisor(settings)).json
    assert body["deadlines"]["response"]["state"] == "breached"
    assert body["deadlines"]["resolve"]["state"] == "pending"


def test_work_order_outside_the_callers_scope_is_403_and_unknown_is_404(
    client: FlaskClient, settings: Settings, order: dict[str, Any]
) -> None:
    assert client.get(f"/api/v1/work-orders/{order['_id']}", headers=supervisor(settings, estates=("FT02",))).status_code == 403
    assert (
        client.get(f"/api/v1/work-orders/{order['_id']}", headers=bearer(settings, role="regional_ops", regions=["R2"])).status_code == 403
    )
    assert (
        client.get(f"/api/v1/work-orders/{order['_id']}", headers=bearer(settings, role="regional_ops", regions=["R1"])).status_code == 200
    )
    assert client.get("/api/v1/work-orders/nope", headers=supervisor(settings)).status_code == 404
    assert client.get(f"/api/v1/work-orders/{order['_id']}").status_code == 401


def test_list_filters_and_scope(
    client: FlaskClient, settings: Settings, staff: None, make_work_order: Callable[..., dict[str, Any]]
) -> None:
    general = make_work_order()
    emergency = make_work_order(text=LIFT_TRAPPED, building="5")
    other_estate = make_work_order(estate_id="FT02", region_id="R2")
    headers = supervisor(settings)

    def ids(query: str, headers: dict[str, str] = headers) -> list[str]:
        response = client.get(f"/api/v1/work-orders{query}", headers=headers)
        assert response.status_code == 200, response.json
        return [item["complaint_id"] for item in response.json["items"]]

    assert ids("") == [emergency["_id"], general["_id"]]
    assert ids("?tier=emergency") == [emergency["_id"]]
    assert ids("?status=assigned&estate_id=NS01") == [emergency["_id"], general["_id"]]
    assert ids(f"?assignee_id={general['assignee_id']}") == [
        o["_id"] for o in (emergency, general) if o["assignee_id"] == general["assignee_id"]
    ]
    assert ids("", bearer(settings, role="group_admin")) == [other_estate["_id"], emergency["_id"], general["_id"]]
    assert client.get("/api/v1/work-orders?estate_id=FT02", headers=headers).status_code == 403
    assert client.get("/api/v1/work-orders?tier=urgent", headers=headers).status_code == 422
    first = client.get("/api/v1/work-orders?limit=1", headers=headers).json
    second = client.get(f"/api/v1/work-orders?limit=1&cursor={first['next_cursor']}", headers=headers).json
    assert [first["items"][0]["complaint_id"], second["items"][0]["complaint_id"]] == [emergency["_id"], general["_id"]]


def test_list_overdue_shows_orders_past_a_deadline(
    client: FlaskClient, settings: Settings, staff: None, make_work_order: Callable[..., dict[str, Any]], clock: FrozenClock
) -> None:
    general = make_work_order()
    emergency = make_work_order(text=LIFT_TRAPPED, building="5")
    clock.advance(timedelta(minutes=20))
    overdue = client.get("/api/v1/work-orders?overdue=true", headers=supervisor(settings)).json["items"]
    assert [item["complaint_id"] for item in overdue] == [emergency["_id"]]
    on_time = client.get("/api/v1/work-orders?overdue=false", headers=supervisor(settings)).json["items"]
    assert [item["complaint_id"] for item in on_time] == [general["_id"]]


# actions -----------------------------------------------------------------------------------------


def test_respond_meets_the_response_target_and_emits_with_the_next_seq(
    client: FlaskClient, settings: Settings, context: ServiceContext, order: dict[str, Any], clock: FrozenClock
) -> None:
    clock.advance(timedelta(hours=1))
    response = act(client, settings, order["_id"], {"action": "respond", "note": "called the resident"})
    assert response.status_code == 200, response.json
    assert response.json["status"] == "responded"
    assert response.json["deadlines"]["response"] == {"due_at": "2026-11-24T02:00:00.000Z", "met_at": isoformat_z(clock()), "state": "met"}
    assert response.json["timeline"][-1] == {
        "at": isoformat_z(clock()),
        "action": "respond",
        "actor_id": "eng-sup",
        "note": "called the resident",
    }
    events = outbox_events(context.database, order["_id"])
    assert [(e["type"], e["seq"]) for e in events] == [("complaint.classified", 2), ("complaint.assigned", 3), ("complaint.responded", 4)]
    responded = events[-1]
    assert responded["data"]["targets_met"] == {"response": True}
    assert (responded["estate_id"], responded["region_id"], responded["group_id"]) == ("NS01", "R1", "G1")
    assert context.database.work_orders.find_one({"_id": order["_id"]})["seq"] == 4


def test_late_resolve_is_breached_and_counted(
    client: FlaskClient, settings: Settings, context: ServiceContext, order: dict[str, Any], clock: FrozenClock
) -> None:
    clock.advance(timedelta(days=10))
    response = act(client, settings, order["_id"], {"action": "resolve", "note": "replaced the lamp"})
    assert response.status_code == 200
    deadlines = response.json["deadlines"]
    assert deadlines["resolve"]["state"] == "breached"
    assert deadlines["resolve"]["met_at"] == isoformat_z(clock())
    assert deadlines["response"]["state"] == "breached"
    assert "follow_up" in deadlines
    stored = context.database.work_orders.find_one({"_id": order["_id"]})
    assert stored["deadlines"]["resolve"]["breached"] is True
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'complaint_targets_total{outcome="breached",region="G1/R1",target="resolve",tier="general"}' in metrics
    assert 'complaint_target_seconds_bucket{le="259200.0",region="G1/R1",target="resolve",tier="general"}' in metrics
    assert 'complaint_target_elapsed_ratio_bucket{le="3.0",target="resolve",tier="general"}' in metrics


def test_illegal_action_is_409_with_the_allowed_actions_and_changes_nothing(
    client: FlaskClient, settings: Settings, context: ServiceContext, order: dict[str, Any]
) -> None:
    before = snapshot(context, order["_id"])
    response = act(client, settings, order["_id"], {"action": "close"})
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert response.json["allowed_actions"] == [
        "accept",
        "respond",
        "arrive",
        "plan",
        "hold",
        "resolve",
        "reassign",
        "reclassify",
        "escalate",
        "cancel",
    ]
    assert snapshot(context, order["_id"]) == before


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"action": "plan"}, {"note"}),
        ({"action": "resolve", "note": ""}, {"note"}),
        ({"action": "hold"}, {"note"}),
        ({"action": "cancel", "reason": "duplicate"}, {"note"}),
        ({"action": "cancel", "note": "same as NS01-0001"}, {"reason"}),
        ({"action": "reassign"}, {"assignee_id", "department"}),
        ({"action": "reassign", "department": "plumbing"}, {"department"}),
        ({"action": "reclassify", "category": "fees"}, {"subcategory", "tier"}),
        ({"action": "reclassify", "category": "fees", "subcategory": "elevator", "tier": "general"}, {"subcategory"}),
        ({"action": "reclassify", "category": "facility", "subcategory": "elevator", "tier": "urgent"}, {"tier"}),
        ({"action": "fly"}, {"action"}),
        ({"note": "no action"}, {"action"}),
    ],
)
def test_invalid_action_fields_are_422_and_change_nothing(
    client: FlaskClient, settings: Settings, context: ServiceContext, order: dict[str, Any], body: dict[str, Any], fields: set[str]
) -> None:
    before = snapshot(context, order["_id"])
    response = act(client, settings, order["_id"], body)
    assert response.status_code == 422, response.json
    assert set(response.json["errors"]) == fields
    assert snapshot(context, order["_id"]) == before


@pytest.mark.parametrize("assignee_id", ["ft-eng", "nobody"])
def test_reassign_to_staff_of_another_estate_or_unknown_is_422(
    client: FlaskClient, settings: Settings, context: ServiceContext, order: dict[str, Any], assignee_id: str
) -> None:
    before = snapshot(context, order["_id"])
    response = act(client, settings, order["_id"], {"action": "reassign", "assignee_id": assignee_id})
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["assignee_id"]
    assert snapshot(context, order["_id"]) == before


def test_reassign_to_a_department_without_anyone_is_422(
    client: FlaskClient, settings: Settings, context: ServiceContext, staff: None, make_work_order: Callable[..., dict[str, Any]]
) -> None:
    lone_engineer_estate = make_work_order(estate_id="FT02", region_id="R2")
    before = snapshot(context, lone_engineer_estate["_id"])
    response = client.post(
        f"/api/v1/work-orders/{lone_engineer_estate['_id']}/actions",
        json={"action": "reassign", "department": "finance"},
        headers=supervisor(settings, estates=("FT02",)),
    )
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["department"]
    assert snapshot(context, lone_engineer_estate["_id"]) == before


def test_actor_outside_the_estate_is_403_and_changes_nothing(
    client: FlaskClient, settings: Settings, context: ServiceContext, order: dict[str, Any]
) -> None:
    before = snapshot(context, order["_id"])
    response = client.post(
        f"/api/v1/work-orders/{order['_id']}/actions", json={"action": "respond"}, headers=supervisor(settings, estates=("FT02",))
    )
    assert response.status_code == 403
    assert snapshot(context, order["_id"]) == before


def test_unknown_work_order_action_is_404(client: FlaskClient, settings: Settings, estates: dict[str, Any]) -> None:
    assert act(client, settings, "nope", {"action": "respond"}).status_code == 404


def test_reassign_emits_reassigned_then_assigned(
    client: FlaskClient, settings: Settings, context: ServiceContext, order: dict[str, Any]
) -> None:
    response = act(client, settings, order["_id"], {"action": "reassign", "assignee_id": "sec-1", "note": "it is the gate light"})
    assert response.status_code == 200
    assert (response.json["assignee_id"], response.json["status"]) == ("sec-1", "assigned")
    events = outbox_events(context.database, order["_id"])[-2:]
    assert [(e["type"], e["seq"], e["data"]["assignee_id"]) for e in events] == [
        ("complaint.reassigned", 4, "sec-1"),
        ("complaint.assigned", 5, "sec-1"),
    ]


def test_reassign_to_a_department_picks_its_handler(client: FlaskClient, settings: Settings, order: dict[str, Any]) -> None:
    response = act(client, settings, order["_id"], {"action": "reassign", "department": "security"})
    assert (response.json["department"], response.json["assignee_id"]) == ("security", "sec-1")


def test_reclassification_changes_tier_and_deadlines(
    client: FlaskClient, settings: Settings, context: ServiceContext, order: dict[str, Any]
) -> None:
    response = act(
        client,
        settings,
        order["_id"],
        {"action": "reclassify", "category": "facility", "subcategory": "elevator", "tier": "emergency", "note": "lift, not light"},
    )
    assert response.status_code == 200, response.json
    body = response.json
    assert (body["subcategory"], body["tier"], body["department"]) == ("elevator", "emergency", "engineering")
    assert set(body["deadlines"]) == {"response", "onsite", "plan"}
    assert body["deadlines"]["response"]["due_at"] == "2026-11-23T02:15:00.000Z"
    assert outbox_events(context.database, order["_id"])[-1]["type"] == "complaint.reclassified"


def test_reclassification_to_another_department_routes_again(
    client: FlaskClient, settings: Settings, context: ServiceContext, order: dict[str, Any]
) -> None:
    response = act(
        client, settings, order["_id"], {"action": "reclassify", "category": "community", "subcategory": "parking", "tier": "general"}
    )
    assert (response.json["department"], response.json["assignee_id"]) == ("security", "sec-1")
    assert [e["type"] for e in outbox_events(context.database, order["_id"])[-2:]] == ["complaint.reclassified", "complaint.assigned"]


def test_hold_pauses_every_pending_target_and_resume_shifts_them(
    client: FlaskClient, settings: Settings, context: ServiceContext, order: dict[str, Any], clock: FrozenClock
) -> None:
    act(client, settings, order["_id"], {"action": "respond"})
    held = act(client, settings, order["_id"], {"action": "hold", "note": "resident away until Thursday"})
    assert held.json["status"] == "on_hold"
    assert held.json["deadlines"]["resolve"]["state"] == "paused"
    assert held.json["deadlines"]["response"]["state"] == "met"
    stored = context.database.work_orders.find_one({"_id": order["_id"]})
    assert stored["paused_at"] == clock()
    resolve_due = stored["deadlines"]["resolve"]["due_at"]
    clock.advance(timedelta(hours=30))
    resumed = act(client, settings, order["_id"], {"action": "resume"})
    assert resumed.json["status"] == "responded"
    stored = context.database.work_orders.find_one({"_id": order["_id"]})
    assert stored["paused_at"] is None
    assert stored["deadlines"]["resolve"]["state"] == "pending"
    assert stored["deadlines"]["resolve"]["due_at"] > resolve_due
    assert stored["deadlines"]["response"]["due_at"] == order["deadlines"]["response"]["due_at"]


def test_accept_then_escalate_then_cancel(client: FlaskClient, settings: Settings, context: ServiceContext, order: dict[str, Any]) -> None:
    assert act(client, settings, order["_id"], {"action": "accept"}).json["status"] == "assigned"
    assert act(client, settings, order["_id"], {"action": "escalate"}).json["escalation_level"] == 1
    cancelled = act(client, settings, order["_id"], {"action": "cancel", "note": "same as NS01-0001", "reason": "duplicate"})
    assert cancelled.json["status"] == "cancelled"
    assert outbox_events(context.database, order["_id"])[-1]["data"]["reason"] == "duplicate"
    assert act(client, settings, order["_id"], {"action": "respond"}).json["allowed_actions"] == []


def test_reopen_counts_a_repeat_and_gives_new_deadlines_from_now(
    client: FlaskClient, settings: Settings, context: ServiceContext, order: dict[str, Any], clock: FrozenClock
) -> None:
    act(client, settings, order["_id"], {"action": "resolve", "note": "replaced the lamp"})
    clock.advance(timedelta(days=2))
    reopened = act(client, settings, order["_id"], {"action": "reopen", "note": "still dark"})
    assert reopened.status_code == 200
    assert (reopened.json["status"], reopened.json["assignee_id"]) == ("assigned", order["assignee_id"])
    assert reopened.json["deadlines"]["response"] == {
        "due_at": isoformat_z(clock() + timedelta(hours=24)),
        "met_at": None,
        "state": "pending",
    }
    stored = context.database.work_orders.find_one({"_id": order["_id"]})
    assert stored["repeat_count"] == 1
    assert outbox_events(context.database, order["_id"])[-1]["data"]["repeat"] is True


def test_an_idempotency_key_replays_the_first_answer(
    client: FlaskClient, settings: Settings, context: ServiceContext, order: dict[str, Any]
) -> None:
    first = act(client, settings, order["_id"], {"action": "respond"}, **{"Idempotency-Key": "k1"})
    again = act(client, settings, order["_id"], {"action": "respond"}, **{"Idempotency-Key": "k1"})
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert [e["type"] for e in outbox_events(context.database, order["_id"])].count("complaint.responded") == 1


def test_the_worker_gauges_show_open_and_overdue_per_tier_and_region_within_its_group(
    context: ServiceContext, staff: None, make_work_order: Callable[..., dict[str, Any]], clock: FrozenClock
) -> None:
    make_work_order()
    make_work_order(text=LIFT_TRAPPED, building="5")
    clock.advance(timedelta(minutes=20))
    metrics = scraped_gauges(context)
    assert 'complaints_open{region="G1/R1",tier="general"} 1.0' in metrics
    assert 'complaints_open{region="G1/R1",tier="emergency"} 1.0' in metrics
    assert 'complaints_overdue{region="G1/R1",tier="emergency"} 1.0' in metrics
    assert 'complaint_targets_overdue{region="G1/R1",target="response",tier="emergency"} 1.0' in metrics
    assert 'complaint_targets_overdue{region="G1/R1",target="response",tier="general"} 0.0' in metrics
    assert 'complaints_overdue{region="G1/R2",tier="general"} 0.0' in metrics


def test_a_hotline_complaints_met_target_counts_in_the_hotline_counter_too(
    client: FlaskClient, settings: Settings, staff: None, make_work_order: Callable[..., dict[str, Any]], clock: FrozenClock
) -> None:
    hotline = make_work_order(channel="gov_hotline", hotline_ticket_id="12345-20261123-000001")
    other = make_work_order(building="7")
    labels = {"target": "response", "tier": "general", "region": "G1/R1", "outcome": "met"}
    hotline_labels = {"target": "response", "region": "G1/R1", "outcome": "met"}
    before = REGISTRY.get_sample_value("complaint_targets_total", labels) or 0.0
    hotline_before = REGISTRY.get_sample_value("hotline_targets_total", hotline_labels) or 0.0
    clock.advance(timedelta(hours=1))
    assert act(client, settings, hotline["_id"], {"action": "respond"}).status_code == 200
    assert act(client, settings, other["_id"], {"action": "respond"}).status_code == 200
    assert REGISTRY.get_sample_value("complaint_targets_total", labels) == before + 2
    assert REGISTRY.get_sample_value("hotline_targets_total", hotline_labels) == hotline_before + 1
    seconds = {"target": "response", "tier": "general", "region": "G1/R1", "le": "7200.0"}  # the important tier's 2 h limit
    assert (REGISTRY.get_sample_value("complaint_target_seconds_bucket", seconds) or 0.0) >= 2


def test_a_target_met_in_an_hour_of_a_days_limit_is_observed_as_a_share_under_a_half(
    client: FlaskClient, settings: Settings, staff: None, make_work_order: Callable[..., dict[str, Any]], clock: FrozenClock
) -> None:
    order = make_work_order(building="8")
    share = {"target": "response", "tier": "general"}
    before = {le: REGISTRY.get_sample_value("complaint_target_elapsed_ratio_bucket", {**share, "le": le}) or 0.0 for le in ("0.5", "+Inf")}
    clock.advance(timedelta(hours=1))
    assert act(client, settings, order["_id"], {"action": "respond"}).status_code == 200
    after = {le: REGISTRY.get_sample_value("complaint_target_elapsed_ratio_bucket", {**share, "le": le}) or 0.0 for le in ("0.5", "+Inf")}
    assert after == {"0.5": before["0.5"] + 1, "+Inf": before["+Inf"] + 1}


def test_the_open_gauges_show_0_for_every_tier_of_a_known_region(context: ServiceContext, estates: dict[str, Any]) -> None:
    metrics = scraped_gauges(context)
    for tier in TIERS:
        assert f'complaints_open{{region="G1/R2",tier="{tier}"}} 0.0' in metrics


def test_the_web_app_serves_no_gauge_read_from_mongodb(
    client: FlaskClient, staff: None, make_work_order: Callable[..., dict[str, Any]]
) -> None:
    make_work_order()
    assert "complaints_open{" not in client.get("/metrics").get_data(as_text=True)


def test_sla_preview_gives_the_deadlines_of_a_tier(client: FlaskClient, settings: Settings, estates: dict[str, Any]) -> None:
    response = client.get(
        "/api/v1/sla/preview?estate_id=NS01&tier=emergency&received_at=2026-11-23T02:00:00Z", headers=supervisor(settings)
    )
    assert response.status_code == 200
    assert response.json == {
        "tier": "emergency",
        "deadlines": {"response": "2026-11-23T02:15:00.000Z", "onsite": "2026-11-23T02:30:00.000Z", "plan": "2026-11-24T02:00:00.000Z"},
    }
    assert client.get("/api/v1/sla/preview?estate_id=XX99&tier=general", headers=supervisor(settings)).status_code == 404


def test_classify_endpoint_explains_its_answer(client: FlaskClient, settings: Settings) -> None:
    response = client.post("/api/v1/classify", json={"text": LIFT_TRAPPED, "channel": "app"}, headers=supervisor(settings))
    assert response.status_code == 200
    assert {k: response.json[k] for k in ("category", "subcategory", "tier", "department")} == {
        "category": "facility",
        "subcategory": "elevator",
        "tier": "emergency",
        "department": "engineering",
    }
    assert response.json["matched"]
    assert client.post("/api/v1/classify", json={"text": ""}, headers=supervisor(settings)).status_code == 422
    assert client.post("/api/v1/classify", json={"text": "x"}).status_code == 401


def test_openapi_documents_the_dispatch_paths(client: FlaskClient) -> None:
    paths = client.get("/openapi.json").json["paths"]
    assert {
        "/api/v1/estates/{estate_id}/staff/{staff_id}",
        "/api/v1/estates/{estate_id}/grids/{grid_id}",
        "/api/v1/work-orders",
        "/api/v1/work-orders/{complaint_id}",
        "/api/v1/work-orders/{complaint_id}/actions",
        "/api/v1/classify",
        "/api/v1/sla/preview",
    } <= set(paths)
