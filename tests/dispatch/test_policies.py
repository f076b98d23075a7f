"""SLA policies and calendars per group, region and estate, against a real mongod: stored per scope,
read back as the effective policy, refused whole when invalid or out of scope, and used for the
deadlines of new work orders and of the preview."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from propcare_shared.context import ServiceContext
from propcare_shared.settings import Settings
from propcare_shared.testing import bearer
from tests.dispatch.factories import MONDAY_MORNING

GENERAL_RESOLVE_P5D = {"tiers": {"general": {"resolve": {"duration": "P5D", "clock": "working_days"}}}}
PREVIEW = "/api/v1/sla/preview?estate_id=NS01&tier=general&received_at=2026-11-23T02:00:00Z"


def group_admin(settings: Settings, *, group_id: str = "G1") -> dict[str, str]:
    return bearer(settings, role="group_admin", group_id=group_id)


def regional_ops(settings: Settings, *, regions: tuple[str, ...] = ("R1",)) -> dict[str, str]:
    return bearer(settings, role="regional_ops", regions=regions)


def manager(settings: Settings, *, estates: tuple[str, ...] = ("NS01",)) -> dict[str, str]:
    return bearer(settings, role="manager", estates=estates)


def cell(duration: str, clock: str = "calendar") -> dict[str, str]:
    return {"duration": duration, "clock": clock}


def stored(context: ServiceContext) -> tuple[int, int]:
    return context.database.sla_policies.count_documents({}), context.database.calendars.count_documents({})


# policies ------------------------------------------------------------------------------------------


def test_policies_layer_group_region_estate_over_the_defaults(client: FlaskClient, settings: Settings, estates: dict[str, Any]) -> None:
    group = {"tiers": {"general": {"response": cell("PT12H"), "resolve": cell("P4D", "working_days")}}}
    region = {"tiers": {"general": {"response": cell("PT6H")}, "emergency": {"resolve": cell("PT8H")}}}
    estate = {"tiers": {"general": {"resolve": cell("P2D", "working_days")}}}
    assert client.put("/api/v1/sla-policies/group:G1", json=group, headers=group_admin(settings)).status_code == 201
    assert client.put("/api/v1/sla-policies/region:R1", json=region, headers=regional_ops(settings)).status_code == 201
    put = client.put("/api/v1/sla-policies/estate:NS01", json=estate, headers=manager(settings))
    assert put.status_code == 201, put.json
    assert put.json["overrides"] == estate["tiers"]

    ns01 = client.get("/api/v1/sla-policies/estate:NS01", headers=manager(settings)).json["tiers"]
    assert ns01["general"] == {"response": cell("PT6H"), "resolve": cell("P2D", "working_days"), "follow_up": cell("PT48H")}
    assert ns01["emergency"]["resolve"] == cell("PT8H")
    assert ns01["emergency"]["response"] == cell("PT15M")
    ft02 = client.get("/api/v1/sla-policies/estate:FT02", headers=group_admin(settings)).json["tiers"]
    assert (ft02["general"]["response"], ft02["general"]["resolve"]) == (cell("PT12H"), cell("P4D", "working_days"))
    assert "resolve" not in ft02["emergency"]
    r1 = client.get("/api/v1/sla-policies/region:R1", headers=regional_ops(settings)).json
    assert (r1["scope"], r1["tiers"]["general"]["resolve"], r1["overrides"]) == ("region:R1", cell("P4D", "working_days"), region["tiers"])
    g1 = client.get("/api/v1/sla-policies/group:G1", headers=group_admin(settings)).json["tiers"]
    assert g1["general"]["response"] == cell("PT12H")

    replaced = client.put("/api/v1/sla-policies/estate:NS01", json={"tiers": {}}, headers=manager(settings))
    assert replaced.status_code == 200
    assert replaced.json["tiers"]["general"]["resolve"] == cell("P4D", "working_days")


def test_an_estate_override_of_general_resolve_changes_a_new_complaints_deadline(
    client: FlaskClient, settings: Settings, context: ServiceContext, staff: None, make_work_order: Callable[..., dict[str, Any]]
) -> None:
    before = make_work_order()
    # Received Monday 2026-11-23 10:00 local: 3 working days end Thursday 26th, 5 end Monday 30th, 23:59:59 local.
    assert before["deadlines"]["resolve"]["due_at"].isoformat() == "2026-11-26T15:59:59+00:00"
    assert client.put("/api/v1/sla-policies/estate:NS01", json=GENERAL_RESOLVE_P5D, headers=manager(settings)).status_code == 201
    after = make_work_order(building="7", room="701")
    assert after["tier"] == "general"
    assert after["deadlines"]["resolve"]["due_at"].isoformat() == "2026-11-30T15:59:59+00:00"
    assert after["deadlines"]["response"]["due_at"] == MONDAY_MORNING.replace(day=24)
    unchanged = context.database.work_orders.find_one({"_id": before["_id"]})
    assert unchanged["deadlines"]["resolve"]["due_at"].isoformat() == "2026-11-26T15:59:59+00:00"
    assert client.get(PREVIEW, headers=manager(settings)).json["deadlines"]["resolve"] == "2026-11-30T15:59:59.000Z"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"tiers": {"urgent": {"response": cell("PT1H")}}}, "tiers.urgent"),
        ({"tiers": {"general": {"repair": cell("PT1H")}}}, "tiers.general.repair"),
        ({"tiers": {"general": {"response": cell("24 hours")}}}, "tiers.general.response.duration"),
        ({"tiers": {"general": {"response": cell("PT0S")}}}, "tiers.general.response.duration"),
        ({"tiers": {"general": {"response": cell("-PT1H")}}}, "tiers.general.response.duration"),
        ({"tiers": {"general": {"resolve": cell("PT5H", "working_days")}}}, "tiers.general.resolve.duration"),
        ({"tiers": {"general": {"response": cell("PT1H", "lunar")}}}, "tiers.general.response.clock"),
        ({"tiers": {"general": {"response": {"clock": "calendar"}}}}, "tiers.general.response.duration"),
        ({}, "tiers"),
    ],
)
def test_an_invalid_policy_is_422_with_field_errors_and_nothing_is_stored(
    client: FlaskClient, settings: Settings, context: ServiceContext, estates: dict[str, Any], body: dict[str, Any], field: str
) -> None:
    valid_cell = {"important": {"response": cell("PT1H")}}
    if "tiers" in body:
        body = {"tiers": {**valid_cell, **body["tiers"]}}
    response = client.put("/api/v1/sla-policies/estate:NS01", json=body, headers=manager(settings))
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert field in response.json["errors"], response.json
    assert stored(context) == (0, 0)


@pytest.mark.parametrize("scope", ["city:SZ", "estate:", "NS01", "estate:NS 01", "group:G1:x"])
def test_a_bad_scope_is_422_and_nothing_is_stored(
    client: FlaskClient, settings: Settings, context: ServiceContext, estates: dict[str, Any], scope: str
) -> None:
    response = client.put(f"/api/v1/sla-policies/{scope}", json=GENERAL_RESOLVE_P5D, headers=group_admin(settings))
    assert response.status_code == 422
    assert "scope" in response.json["errors"]
    assert stored(context) == (0, 0)


def test_an_estate_dispatch_does_not_know_is_404_to_write_and_to_read(
    client: FlaskClient, settings: Settings, context: ServiceContext, estates: dict[str, Any]
) -> None:
    assert client.put("/api/v1/sla-policies/estate:XX99", json=GENERAL_RESOLVE_P5D, headers=group_admin(settings)).status_code == 404
    assert client.put("/api/v1/calendars/estate:XX99", json={"closures": []}, headers=group_admin(settings)).status_code == 404
    assert client.get("/api/v1/sla-policies/estate:XX99", headers=group_admin(settings)).status_code == 404
    assert client.get("/api/v1/calendars/estate:XX99", headers=group_admin(settings)).status_code == 404
    assert stored(context) == (0, 0)


def test_a_region_of_ones_group_without_estates_is_422_to_write_and_reads_as_what_would_apply(
    client: FlaskClient, settings: Settings, context: ServiceContext, estates: dict[str, Any]
) -> None:
    group = {"tiers": {"general": {"response": cell("PT12H")}}}
    assert client.put("/api/v1/sla-policies/group:G1", json=group, headers=group_admin(settings)).status_code == 201
    write = client.put("/api/v1/sla-policies/region:R9", json=GENERAL_RESOLVE_P5D, headers=group_admin(settings))
    assert write.status_code == 422
    assert "scope" in write.json["errors"]
    assert client.put("/api/v1/calendars/region:R9", json={"closures": ["2026-11-25"]}, headers=group_admin(settings)).status_code == 422
    assert stored(context) == (1, 0)
    read = client.get("/api/v1/sla-policies/region:R9", headers=group_admin(settings))
    assert read.status_code == 200
    assert (read.json["scope"], read.json["overrides"], read.json["tiers"]["general"]["response"]) == ("region:R9", {}, cell("PT12H"))
    assert read.json["tiers"]["general"]["resolve"] == cell("P3D", "working_days")
    calendar = client.get("/api/v1/calendars/region:R9", headers=group_admin(settings))
    assert (calendar.status_code, calendar.json["closures"]) == (200, [])


@pytest.mark.parametrize(
    ("scope", "who"),
    [
        ("estate:NS01", {"role": "supervisor", "estates": ["NS01"]}),
        ("estate:NS01", {"role": "handler", "estates": ["NS01"]}),
        ("estate:NS01", {"role": "service"}),
        ("estate:NS01", {"role": "manager", "estates": ["FT02"]}),
        ("region:R1", {"role": "manager", "estates": ["NS01"]}),
        ("group:G1", {"role": "manager", "estates": ["NS01"]}),
        ("estate:NS01", {"role": "regional_ops", "regions": ["R2"]}),
        ("group:G1", {"role": "regional_ops", "regions": ["R1"]}),
        ("region:R1", {"role": "regional_ops", "regions": ["R2"]}),
    ],
)
def test_writing_a_policy_or_calendar_outside_ones_role_or_scope_is_403(
    client: FlaskClient, settings: Settings, context: ServiceContext, estates: dict[str, Any], scope: str, who: dict[str, Any]
) -> None:
    headers = bearer(settings, **who)
    assert client.put(f"/api/v1/sla-policies/{scope}", json=GENERAL_RESOLVE_P5D, headers=headers).status_code == 403
    assert client.put(f"/api/v1/calendars/{scope}", json={"closures": ["2026-11-25"]}, headers=headers).status_code == 403
    assert stored(context) == (0, 0)


def test_reading_needs_a_token_within_scope(client: FlaskClient, settings: Settings, estates: dict[str, Any]) -> None:
    assert client.get("/api/v1/sla-policies/estate:NS01").status_code == 401
    assert client.put("/api/v1/sla-policies/estate:NS01", json=GENERAL_RESOLVE_P5D).status_code == 401
    assert client.get("/api/v1/sla-policies/estate:NS01", headers=manager(settings, estates=("FT02",))).status_code == 403
    assert client.get("/api/v1/sla-policies/estate:NS01", headers=bearer(settings, role="handler", estates=["NS01"])).status_code == 200
    assert client.get("/api/v1/calendars/region:R1", headers=regional_ops(settings, regions=("R2",))).status_code == 403


# calendars -----------------------------------------------------------------------------------------


def test_a_closure_pushes_a_working_day_deadline(
    client: FlaskClient, settings: Settings, staff: None, make_work_order: Callable[..., dict[str, Any]]
) -> None:
    assert client.get(PREVIEW, headers=manager(settings)).json["deadlines"]["resolve"] == "2026-11-26T15:59:59.000Z"
    # Closed Wednesday 25th: Tuesday, Thursday and Friday are the three working days.
    put = client.put("/api/v1/calendars/estate:NS01", json={"closures": ["2026-11-25"]}, headers=manager(settings))
    assert put.status_code == 201, put.json
    assert client.get(PREVIEW, headers=manager(settings)).json["deadlines"]["resolve"] == "2026-11-27T15:59:59.000Z"
    order = make_work_order()
    assert order["deadlines"]["resolve"]["due_at"].isoformat() == "2026-11-27T15:59:59+00:00"
    assert order["deadlines"]["response"]["due_at"] == MONDAY_MORNING.replace(day=24)


def test_calendars_layer_and_the_narrower_scope_decides_a_day(client: FlaskClient, settings: Settings, estates: dict[str, Any]) -> None:
    group = {"closures": ["2026-11-24", "2026-11-25"], "extra_working_days": []}
    assert client.put("/api/v1/calendars/group:G1", json=group, headers=group_admin(settings)).status_code == 201
    estate = {"closures": [], "extra_working_days": ["2026-11-25"]}
    assert client.put("/api/v1/calendars/estate:NS01", json=estate, headers=manager(settings)).status_code == 201
    body = client.get("/api/v1/calendars/estate:NS01", headers=manager(settings)).json
    assert body == {
        "scope": "estate:NS01",
        "closures": [],
        "extra_working_days": ["2026-11-25"],
        "effective": {"closures": ["2026-11-24"], "extra_working_days": ["2026-11-25"]},
    }
    # Working days after Monday 23rd: Wednesday 25th (the estate's), Thursday 26th, Friday 27th.
    assert client.get(PREVIEW, headers=manager(settings)).json["deadlines"]["resolve"] == "2026-11-27T15:59:59.000Z"
    # FT02 keeps the group's closures: Thursday 26th, Friday 27th, Monday 30th.
    ft02 = client.get(PREVIEW.replace("NS01", "FT02"), headers=group_admin(settings)).json["deadlines"]["resolve"]
    assert ft02 == "2026-11-30T15:59:59.000Z"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"closures": ["2026-13-01"]}, "closures.0"),
        ({"closures": ["2026-12-24", "Christmas"]}, "closures.1"),
        ({"extra_working_days": [20261226]}, "extra_working_days.0"),
        ({"closures": "2026-12-24"}, "closures"),
        ({"closures": ["2026-12-24"], "extra_working_days": ["2026-12-24"]}, "extra_working_days"),
        ({"holidays": ["2026-12-24"]}, "holidays"),
    ],
)
def test_a_calendar_with_a_non_date_is_422_and_nothing_is_stored(
    client: FlaskClient, settings: Settings, context: ServiceContext, estates: dict[str, Any], body: dict[str, Any], field: str
) -> None:
    response = client.put("/api/v1/calendars/estate:NS01", json=body, headers=manager(settings))
    assert response.status_code == 422
    assert field in response.json["errors"], response.json
    assert stored(context) == (0, 0)


def test_openapi_documents_the_policy_and_calendar_paths(client: FlaskClient) -> None:
    paths = client.get("/openapi.json").json["paths"]
    assert {"/api/v1/sla-policies/{scope}", "/api/v1/calendars/{scope}"} <= set(paths)
    assert {"get", "put"} <= set(paths["/api/v1/sla-policies/{scope}"])
