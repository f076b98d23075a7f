"""Tenant isolation in dispatch against a real mongod: another group that names its region ``R1`` too,
or names group G1's estate ids in its token, reads and changes nothing of G1's; another group's
record and a missing one get the same 404; a record of the caller's own group outside their estates
or regions is a 403; region policies and calendars belong to one group; metrics never add up two
groups' regions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from prometheus_client import REGISTRY

from dispatch.store import DispatchStore
from propcare_shared.clock import FrozenClock
from propcare_shared.context import ServiceContext
from propcare_shared.settings import Settings
from propcare_shared.testing import bearer
from tests.dispatch.factories import LIFT_TRAPPED
from tests.dispatch.gauges import scraped_gauges

GENERAL_RESOLVE_P5D = {"tiers": {"general": {"resolve": {"duration": "P5D", "clock": "working_days"}}}}
THREE_WORKING_DAYS = "2026-11-26T15:59:59.000Z"  # received Monday 23rd 10:00 local
FIVE_WORKING_DAYS = "2026-11-30T15:59:59.000Z"
STAFF_BODY = {"name": "冒名", "department": "engineering", "role": "handler"}


def preview(estate_id: str) -> str:
    return f"/api/v1/sla/preview?estate_id={estate_id}&tier=general&received_at=2026-11-23T02:00:00Z"


def g2_regional_ops(settings: Settings) -> dict[str, str]:
    """Group G2's regional operations for G2's own region, which G2 also calls R1."""
    return bearer(settings, role="regional_ops", sub="g2-ops", group_id="G2", regions=["R1"])


def g2_manager_naming_g1_estates(settings: Settings) -> dict[str, str]:
    """A G2 manager whose token names G1's estate ids beside G2's own."""
    return bearer(settings, role="manager", sub="g2-mgr", group_id="G2", estates=["NS01", "FT02", "OT01"])


def g2_admin(settings: Settings) -> dict[str, str]:
    return bearer(settings, role="group_admin", sub="g2-admin", group_id="G2")


def g1_regional_ops(settings: Settings) -> dict[str, str]:
    return bearer(settings, role="regional_ops", sub="g1-ops", group_id="G1", regions=["R1"])


def database_state(context: ServiceContext) -> dict[str, list[dict[str, Any]]]:
    """Everything of dispatch's that a refused request must leave as it was."""
    names = ("work_orders", "timeline", "staff", "grids", "sla_policies", "calendars", "outbox")
    return {name: list(context.database[name].find({}, sort=[("_id", 1)])) for name in names}


@pytest.fixture
def g2_estate(store: DispatchStore, clock: FrozenClock, estates: dict[str, Any]) -> dict[str, Any]:
    """OT01, an estate of group G2 in G2's own region R1, with one engineer; beside G1's NS01 (R1) and FT02 (R2)."""
    store.directory.estates.keep(
        estate_id="OT01",
        values={"group_id": "G2", "region_id": "R1", "code": "OT01", "name": "other group", "timezone": "Asia/Shanghai"},
        as_of=clock(),
    )
    estate = store.directory.estate("OT01")
    assert estate is not None
    store.directory.put_staff(
        estate=estate,
        staff_id="ot-eng",
        values={"name": "赵工", "department": "engineering", "role": "handler", "grids": [], "on_duty": True},
    )
    return estate


@pytest.fixture
def orders(staff: None, g2_estate: dict[str, Any], make_work_order: Callable[..., dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """One work order in each estate: G1's NS01 and FT02, G2's OT01."""
    return {
        "NS01": make_work_order(),
        "FT02": make_work_order(estate_id="FT02", region_id="R2"),
        "OT01": make_work_order(estate_id="OT01", region_id="R1", group_id="G2"),
    }


def listed(client: FlaskClient, headers: dict[str, str], query: str = "") -> list[str]:
    response = client.get(f"/api/v1/work-orders{query}", headers=headers)
    assert response.status_code == 200, response.json
    return [item["complaint_id"] for item in response.json["items"]]


# lists and single reads ----------------------------------------------------------------------------


@pytest.mark.parametrize("who", [g2_regional_ops, g2_manager_naming_g1_estates, g2_admin])
def test_another_group_lists_only_its_own_work_orders(
    client: FlaskClient, settings: Settings, orders: dict[str, dict[str, Any]], who: Callable[[Settings], dict[str, str]]
) -> None:
    assert listed(client, who(settings)) == [orders["OT01"]["_id"]]
    assert listed(client, who(settings), "?overdue=false") == [orders["OT01"]["_id"]]


def test_an_estate_filter_naming_another_groups_estate_is_404_like_an_unknown_one(
    client: FlaskClient, settings: Settings, orders: dict[str, dict[str, Any]]
) -> None:
    for headers in (g2_manager_naming_g1_estates(settings), g2_regional_ops(settings), g2_admin(settings)):
        other = client.get("/api/v1/work-orders?estate_id=NS01", headers=headers)
        unknown = client.get("/api/v1/work-orders?estate_id=XX99", headers=headers)
        assert (other.status_code, unknown.status_code) == (404, 404)
        assert other.json["detail"] == unknown.json["detail"].replace("XX99", "NS01")
        assert "items" not in other.json


def test_an_estate_filter_of_ones_group_outside_ones_scope_is_403_not_an_empty_page(
    client: FlaskClient, settings: Settings, orders: dict[str, dict[str, Any]]
) -> None:
    manager = bearer(settings, role="manager", estates=["NS01"])
    assert client.get("/api/v1/work-orders?estate_id=FT02", headers=manager).status_code == 403
    assert client.get("/api/v1/work-orders?estate_id=NS01", headers=g1_regional_ops(settings)).status_code == 200
    assert client.get("/api/v1/work-orders?estate_id=FT02", headers=g1_regional_ops(settings)).status_code == 403
    assert listed(client, manager, "?estate_id=NS01") == [orders["NS01"]["_id"]]


def test_g1s_regional_ops_for_r1_does_not_see_g2s_r1(client: FlaskClient, settings: Settings, orders: dict[str, dict[str, Any]]) -> None:
    assert listed(client, g1_regional_ops(settings)) == [orders["NS01"]["_id"]]
    assert client.get(f"/api/v1/work-orders/{orders['OT01']['_id']}", headers=g1_regional_ops(settings)).status_code == 404


@pytest.mark.parametrize("who", [g2_regional_ops, g2_manager_naming_g1_estates, g2_admin])
def test_another_groups_work_order_reads_as_missing(
    client: FlaskClient, settings: Settings, orders: dict[str, dict[str, Any]], who: Callable[[Settings], dict[str, str]]
) -> None:
    other = client.get(f"/api/v1/work-orders/{orders['NS01']['_id']}", headers=who(settings))
    missing = client.get("/api/v1/work-orders/000000000000000000000000", headers=who(settings))
    assert (other.status_code, missing.status_code) == (404, 404)
    assert other.json["detail"] == missing.json["detail"].replace("000000000000000000000000", orders["NS01"]["_id"])
    assert "ticket_no" not in other.json
    assert client.get(f"/api/v1/work-orders/{orders['OT01']['_id']}", headers=who(settings)).status_code == 200


def test_ones_own_groups_work_order_outside_ones_estates_is_403(
    client: FlaskClient, settings: Settings, orders: dict[str, dict[str, Any]]
) -> None:
    manager = bearer(settings, role="manager", estates=["NS01"])
    assert client.get(f"/api/v1/work-orders/{orders['FT02']['_id']}", headers=manager).status_code == 403
    assert client.get(f"/api/v1/work-orders/{orders['FT02']['_id']}", headers=g1_regional_ops(settings)).status_code == 403


@pytest.mark.parametrize("who", [g2_regional_ops, g2_manager_naming_g1_estates, g2_admin])
def test_another_group_neither_reads_nor_changes_g1s_directory_preview_or_work_orders(
    client: FlaskClient,
    settings: Settings,
    context: ServiceContext,
    orders: dict[str, dict[str, Any]],
    who: Callable[[Settings], dict[str, str]],
) -> None:
    headers = who(settings)
    before = database_state(context)
    order_id = orders["NS01"]["_id"]
    answers = {
        "staff list": client.get("/api/v1/estates/NS01/staff", headers=headers),
        "grid list": client.get("/api/v1/estates/NS01/grids", headers=headers),
        "staff put": client.put("/api/v1/estates/NS01/staff/intruder", json=STAFF_BODY, headers=headers),
        "grid put": client.put("/api/v1/estates/NS01/grids/G-X", json={"buildings": ["3"], "owner_id": None}, headers=headers),
        "preview": client.get(preview("NS01"), headers=headers),
        "escalate": client.post(f"/api/v1/work-orders/{order_id}/actions", json={"action": "escalate"}, headers=headers),
        "policy get": client.get("/api/v1/sla-policies/estate:NS01", headers=headers),
        "policy put": client.put("/api/v1/sla-policies/estate:NS01", json=GENERAL_RESOLVE_P5D, headers=headers),
        "calendar get": client.get("/api/v1/calendars/estate:NS01", headers=headers),
        "calendar put": client.put("/api/v1/calendars/estate:NS01", json={"closures": ["2026-11-25"]}, headers=headers),
    }
    assert {name: response.status_code for name, response in answers.items()} == dict.fromkeys(answers, 404)
    assert database_state(context) == before


def test_ones_own_groups_estate_outside_ones_scope_is_403_on_directory_and_preview(
    client: FlaskClient, settings: Settings, context: ServiceContext, orders: dict[str, dict[str, Any]]
) -> None:
    manager = bearer(settings, role="manager", estates=["NS01"])
    before = database_state(context)
    assert client.get("/api/v1/estates/FT02/staff", headers=manager).status_code == 403
    assert client.get("/api/v1/estates/FT02/grids", headers=manager).status_code == 403
    assert client.put("/api/v1/estates/FT02/grids/G-X", json={"buildings": ["1"], "owner_id": None}, headers=manager).status_code == 403
    assert client.get(preview("FT02"), headers=manager).status_code == 403
    assert client.get(preview("FT02"), headers=g1_regional_ops(settings)).status_code == 403
    assert database_state(context) == before
    assert client.get(preview("NS01"), headers=manager).status_code == 200


# region policies and calendars -----------------------------------------------------------------------


def test_g1_changing_its_r1_policy_leaves_the_deadlines_of_g2s_own_r1_alone(
    client: FlaskClient, settings: Settings, staff: None, g2_estate: dict[str, Any], make_work_order: Callable[..., dict[str, Any]]
) -> None:
    put = client.put("/api/v1/sla-policies/region:R1", json=GENERAL_RESOLVE_P5D, headers=g1_regional_ops(settings))
    assert put.status_code == 201, put.json
    assert client.get(preview("NS01"), headers=g1_regional_ops(settings)).json["deadlines"]["resolve"] == FIVE_WORKING_DAYS
    assert client.get(preview("OT01"), headers=g2_regional_ops(settings)).json["deadlines"]["resolve"] == THREE_WORKING_DAYS
    g2_order = make_work_order(estate_id="OT01", region_id="R1", group_id="G2")
    assert g2_order["deadlines"]["resolve"]["due_at"].isoformat() == "2026-11-26T15:59:59+00:00"
    g1_order = make_work_order(building="7", room="701")
    assert g1_order["deadlines"]["resolve"]["due_at"].isoformat() == "2026-11-30T15:59:59+00:00"


def test_g1_closing_a_day_in_its_r1_leaves_g2s_own_r1_calendar_alone(
    client: FlaskClient, settings: Settings, g2_estate: dict[str, Any]
) -> None:
    put = client.put("/api/v1/calendars/region:R1", json={"closures": ["2026-11-25"]}, headers=g1_regional_ops(settings))
    assert put.status_code == 201, put.json
    assert client.get(preview("NS01"), headers=g1_regional_ops(settings)).json["deadlines"]["resolve"] == "2026-11-27T15:59:59.000Z"
    assert client.get(preview("OT01"), headers=g2_regional_ops(settings)).json["deadlines"]["resolve"] == THREE_WORKING_DAYS
    g2_calendar = client.get("/api/v1/calendars/region:R1", headers=g2_regional_ops(settings)).json
    assert (g2_calendar["closures"], g2_calendar["effective"]["closures"]) == ([], [])


def test_g2_reads_and_writes_its_own_region_r1_policy_and_calendar(
    client: FlaskClient, settings: Settings, context: ServiceContext, g2_estate: dict[str, Any]
) -> None:
    assert client.put("/api/v1/sla-policies/region:R1", json=GENERAL_RESOLVE_P5D, headers=g1_regional_ops(settings)).status_code == 201
    g2_read = client.get("/api/v1/sla-policies/region:R1", headers=g2_regional_ops(settings))
    assert g2_read.status_code == 200, g2_read.json
    assert (g2_read.json["scope"], g2_read.json["overrides"]) == ("region:R1", {})
    three_days = {
        "tiers": {
            "general": {"resolve": {"duration": "P3D", "clock": "working_days"}, "response": {"duration": "PT6H", "clock": "calendar"}}
        }
    }
    g2_put = client.put("/api/v1/sla-policies/region:R1", json=three_days, headers=g2_regional_ops(settings))
    assert g2_put.status_code == 201, g2_put.json
    assert g2_put.json["overrides"] == three_days["tiers"]
    assert client.get(preview("OT01"), headers=g2_regional_ops(settings)).json["deadlines"]["response"] == "2026-11-23T08:00:00.000Z"
    assert client.get("/api/v1/sla-policies/region:R1", headers=g1_regional_ops(settings)).json["overrides"] == GENERAL_RESOLVE_P5D["tiers"]
    calendar = client.put("/api/v1/calendars/region:R1", json={"closures": ["2026-11-24"]}, headers=g2_regional_ops(settings))
    assert calendar.status_code == 201, calendar.json
    assert client.get("/api/v1/calendars/region:R1", headers=g2_regional_ops(settings)).json["closures"] == ["2026-11-24"]
    assert client.get("/api/v1/calendars/region:R1", headers=g1_regional_ops(settings)).json["closures"] == []
    assert sorted(doc["_id"] for doc in context.database.sla_policies.find()) == ["region:G1/R1", "region:G2/R1"]
    assert [(doc["_id"], doc["group_id"]) for doc in context.database.calendars.find()] == [("region:G2/R1", "G2")]


def test_another_groups_group_scope_is_404_and_nothing_is_stored(
    client: FlaskClient, settings: Settings, context: ServiceContext, g2_estate: dict[str, Any]
) -> None:
    headers = g2_admin(settings)
    assert client.get("/api/v1/sla-policies/group:G1", headers=headers).status_code == 404
    assert client.get("/api/v1/calendars/group:G1", headers=headers).status_code == 404
    assert client.put("/api/v1/sla-policies/group:G1", json=GENERAL_RESOLVE_P5D, headers=headers).status_code == 404
    assert client.put("/api/v1/calendars/group:G1", json={"closures": ["2026-11-25"]}, headers=headers).status_code == 404
    assert client.get("/api/v1/sla-policies/group:G9", headers=headers).json["detail"] == "No group 'G9' within your scope."
    assert context.database.sla_policies.count_documents({}) + context.database.calendars.count_documents({}) == 0
    assert client.put("/api/v1/sla-policies/group:G2", json=GENERAL_RESOLVE_P5D, headers=headers).status_code == 201


@pytest.mark.parametrize(
    ("scope", "who"),
    [
        ("region:R2", {"role": "regional_ops", "regions": ["R1"]}),
        ("region:R1", {"role": "manager", "estates": ["NS01"]}),
        ("estate:FT02", {"role": "manager", "estates": ["NS01"]}),
        ("estate:FT02", {"role": "regional_ops", "regions": ["R1"]}),
        ("group:G1", {"role": "regional_ops", "regions": ["R1", "R2"]}),
    ],
)
def test_regional_ops_touch_only_their_regions_and_managers_only_their_estates(
    client: FlaskClient, settings: Settings, context: ServiceContext, estates: dict[str, Any], scope: str, who: dict[str, Any]
) -> None:
    headers = bearer(settings, group_id="G1", **who)
    assert client.put(f"/api/v1/sla-policies/{scope}", json=GENERAL_RESOLVE_P5D, headers=headers).status_code == 403
    assert client.put(f"/api/v1/calendars/{scope}", json={"closures": ["2026-11-25"]}, headers=headers).status_code == 403
    assert context.database.sla_policies.count_documents({}) + context.database.calendars.count_documents({}) == 0


def test_a_region_policy_stored_without_its_group_applies_to_no_estate(
    client: FlaskClient, settings: Settings, context: ServiceContext, estates: dict[str, Any]
) -> None:
    context.database.sla_policies.insert_one({"_id": "region:R1", "tiers": GENERAL_RESOLVE_P5D["tiers"]})
    assert client.get(preview("NS01"), headers=g1_regional_ops(settings)).json["deadlines"]["resolve"] == THREE_WORKING_DAYS
    assert client.get("/api/v1/sla-policies/region:R1", headers=g1_regional_ops(settings)).json["overrides"] == {}


# metrics -------------------------------------------------------------------------------------------


def test_two_groups_r1_are_two_metric_regions(
    client: FlaskClient,
    context: ServiceContext,
    settings: Settings,
    staff: None,
    g2_estate: dict[str, Any],
    make_work_order: Callable[..., dict[str, Any]],
    clock: FrozenClock,
) -> None:
    make_work_order(text=LIFT_TRAPPED)
    make_work_order(text=LIFT_TRAPPED, estate_id="OT01", region_id="R1", group_id="G2")
    g2_general = make_work_order(estate_id="OT01", region_id="R1", group_id="G2", building="9")
    metrics = scraped_gauges(context)
    assert 'complaints_open{region="G1/R1",tier="emergency"} 1.0' in metrics
    assert 'complaints_open{region="G2/R1",tier="emergency"} 1.0' in metrics
    assert 'complaints_open{region="G2/R1",tier="general"} 1.0' in metrics
    assert 'region="R1"' not in metrics

    labels = {"target": "response", "tier": "general", "region": "G2/R1", "outcome": "met"}
    before = REGISTRY.get_sample_value("complaint_targets_total", labels) or 0.0
    clock.advance(timedelta(hours=1))
    g2_handler = bearer(settings, role="handler", sub="ot-eng", group_id="G2", estates=["OT01"])
    response = client.post(f"/api/v1/work-orders/{g2_general['_id']}/actions", json={"action": "respond"}, headers=g2_handler)
    assert response.status_code == 200, response.json
    assert REGISTRY.get_sample_value("complaint_targets_total", labels) == before + 1
