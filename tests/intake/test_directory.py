"""The directory over HTTP: estates and households, with their events and without personal data."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from propcare_shared.context import ServiceContext
from propcare_shared.settings import Settings
from propcare_shared.testing import bearer, outbox_events
from tests.intake.conftest import ESTATE


def test_putting_an_estate_creates_then_replaces_it_and_emits_each_time(
    client: FlaskClient, admin: dict[str, str], context: ServiceContext
) -> None:
    created = client.put("/api/v1/estates/NS01", json=ESTATE, headers=admin)
    renamed = client.put("/api/v1/estates/NS01", json={**ESTATE, "name": "南山花园二期"}, headers=admin)
    assert (created.status_code, renamed.status_code) == (201, 200)
    assert client.get("/api/v1/estates/NS01", headers=admin).get_json()["name"] == "南山花园二期"
    events = outbox_events(context.database)
    assert [event["type"] for event in events] == ["directory.estate.upserted"] * 2
    assert events[1]["data"]["name"] == "南山花园二期" and (events[1]["estate_id"], events[1]["region_id"], events[1]["group_id"]) == (
        "NS01",
        "R1",
        "G1",
    )


def test_a_bad_estate_is_refused_with_field_errors_and_nothing_stored(
    client: FlaskClient, admin: dict[str, str], context: ServiceContext
) -> None:
    response = client.put("/api/v1/estates/NS01", json={**ESTATE, "timezone": "Mars/Olympus", "code": "N S"}, headers=admin)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert set(response.get_json()["errors"]) == {"timezone", "code"}
    assert context.database.estates.count_documents({}) == 0 and outbox_events(context.database) == []


def test_only_directory_admins_within_their_scope_put_estates(client: FlaskClient, settings: Settings) -> None:
    assert client.put("/api/v1/estates/NS01", json=ESTATE).status_code == 401
    assert client.put("/api/v1/estates/NS01", json=ESTATE, headers=bearer(settings, role="agent", estates=["NS01"])).status_code == 403
    other_region = bearer(settings, role="regional_ops", regions=["R2"])
    assert client.put("/api/v1/estates/NS01", json=ESTATE, headers=other_region).status_code == 403
    other_group = bearer(settings, role="group_admin", group_id="G2")
    into_another_group = client.put("/api/v1/estates/NS01", json=ESTATE, headers=other_group)
    assert into_another_group.status_code == 422 and "group_id" in into_another_group.get_json()["errors"]
    assert client.put("/api/v1/estates/NS01", json=ESTATE, headers=bearer(settings, role="regional_ops", regions=["R1"])).status_code == 201


def test_households_import_counts_created_updated_and_rejected_rows(
    client: FlaskClient, admin: dict[str, str], estate: dict[str, Any], context: ServiceContext
) -> None:
    csv = "building,unit,room,household_type,age_band,resident_name,resident_phone\n3,2,1502,tenant,,,\n3,2,1601,owner,,,\n3,2,,owner,,,\n"
    response = client.post("/api/v1/estates/NS01/households:import", data=csv.encode(), headers={**admin, "Content-Type": "text/csv"})
    body = response.get_json()
    assert response.status_code == 200
    assert (body["created"], body["updated"]) == (1, 1)
    assert body["rejected"] == [{"row": 3, "errors": {"room": ["Missing data for required field."]}}]
    assert context.database.households.find_one({"_id": "NS01:3:2:1502"})["household_type"] == "tenant"


def test_imported_households_go_out_without_names_or_phones(client: FlaskClient, estate: dict[str, Any], context: ServiceContext) -> None:
    imported = [event for event in outbox_events(context.database) if event["type"] == "directory.households.imported"]
    assert len(imported) == 1 and len(imported[0]["data"]["households"]) == 3
    assert "王女士" not in str(imported) and "13800138000" not in str(imported)


def test_households_import_takes_json_lines_and_refuses_other_types_and_unreadable_files(
    client: FlaskClient, admin: dict[str, str], estate: dict[str, Any]
) -> None:
    lines = '{"building": "7", "room": "0303", "household_type": "owner", "age_band": "51-65"}\n'
    response = client.post(
        "/api/v1/estates/NS01/households:import", data=lines.encode(), headers={**admin, "Content-Type": "application/x-ndjson"}
    )
    assert response.status_code == 200 and response.get_json()["created"] == 1
    wrong = client.post("/api/v1/estates/NS01/households:import", data=b"<xml/>", headers={**admin, "Content-Type": "application/xml"})
    assert wrong.status_code == 415
    headless = client.post("/api/v1/estates/NS01/households:import", data=b"a,b\n1,2\n", headers={**admin, "Content-Type": "text/csv"})
    assert headless.status_code == 422 and "file" in headless.get_json()["errors"]
    gbk = client.post(
        "/api/v1/estates/NS01/households:import",
        data="building,room,household_type\n3,101,业主\n".encode("gbk"),
        headers={**admin, "Content-Type": "text/csv"},
    )
    assert gbk.status_code == 422 and gbk.get_json()["errors"] == {"file": ["Not UTF-8."]}


def test_households_of_an_unknown_estate_are_not_found(client: FlaskClient, admin: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/estates/NOPE/households:import",
        data=b"building,room,household_type\n3,101,owner\n",
        headers={**admin, "Content-Type": "text/csv"},
    )
    assert response.status_code == 404 and response.mimetype == "application/problem+json"


def test_imported_resident_phones_are_kept_in_e164_and_a_non_phone_row_is_refused(
    client: FlaskClient, admin: dict[str, str], estate: dict[str, Any], context: ServiceContext
) -> None:
    csv = (
        "building,unit,room,household_type,resident_name,resident_phone\n7,1,0101,owner,李四,86-139 0013 9000\n7,1,0102,owner,张三,12345\n"
    )
    body = client.post(
        "/api/v1/estates/NS01/households:import", data=csv.encode(), headers={**admin, "Content-Type": "text/csv"}
    ).get_json()
    assert body["created"] == 1 and [(row["row"], list(row["errors"])) for row in body["rejected"]] == [(2, ["resident_phone"])]
    assert context.database.households.find_one({"_id": "NS01:7:1:0101"})["resident_phone"] == "+8613900139000"
    assert context.database.households.find_one({"_id": "NS01:3:2:1502"})["resident_phone"] == "+8613800138000"
