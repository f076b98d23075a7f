"""Open311 GeoReport v2 on intake, as a civic client and a group admin use it, on a real MongoDB."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from intake.open311.store import KEYS
from propcare_shared.clock import FrozenClock
from propcare_shared.context import ServiceContext
from propcare_shared.events.envelope import Event
from propcare_shared.settings import Settings
from propcare_shared.testing import bearer, outbox_events
from tests.intake.test_open311_mapping import REQUEST_FIELDS
from tests.intake.test_status import dispatch_event

SERVICE_FIELDS = {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
REPORTER = {
    "first_name": "Lei",
    "last_name": "Zhangsan",
    "phone": "138 0013 8000",
    "email": "lei.zhangsan@example.com",
    "device_id": "device-7781",
    "account_id": "acct-4410",
}


@pytest.fixture
def other_estate(client: FlaskClient, admin: dict[str, str], estate: dict[str, Any]) -> dict[str, Any]:
    """BH02 (id E2), another estate of group G1, whose id and code differ."""
    body = {"name": "碧湖花园", "code": "BH02", "region_id": "R1", "group_id": "G1", "timezone": "Asia/Shanghai"}
    response = client.put("/api/v1/estates/E2", json=body, headers=admin)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@pytest.fixture
def api_key(client: FlaskClient, admin: dict[str, str], estate: dict[str, Any]) -> str:
    """A key of the civic app "CityFix" for NS01 only."""
    response = client.post("/api/v1/open311/keys", json={"client_name": "CityFix", "estate_ids": ["NS01"]}, headers=admin)
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["api_key"])


def file_request(client: FlaskClient, api_key: str | None, **changes: Any) -> TestResponse:
    """Post a GeoReport request about the lift of NS01, form-encoded, with some fields changed."""
    form: dict[str, Any] = {
        "api_key": api_key,
        "jurisdiction_id": "NS01",
        "service_code": "elevator",
        "description": "3号楼电梯停在两层之间",
        "address_string": "南山花园3号楼大堂",
        "lat": "22.5431",
        "long": "113.9298",
        "media_url": "https://img.example.com/lift.jpg",
        **REPORTER,
    }
    form.update(changes)
    return client.post("/open311/v2/requests.json", data={key: value for key, value in form.items() if value is not None})


def assert_georeport_error(response: TestResponse, status: int, *words: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    [error] = response.get_json()
    assert set(error) == {"code", "description"} and error["code"] == status
    for word in words:
        assert word in error["description"], error


def complaints_of(context: ServiceContext) -> list[dict[str, Any]]:
    return list(context.database.complaints.find())


# filing and reading back ---------------------------------------------------------------------------


def test_an_open311_client_files_a_request_and_reads_it_back(client: FlaskClient, api_key: str, context: ServiceContext) -> None:
    response = file_request(client, api_key)
    assert response.status_code == 201, response.get_json()
    [created] = response.get_json()
    assert set(created) == {"service_request_id", "service_notice", "account_id"}
    assert created["service_request_id"].startswith("NS01-20261122-") and created["account_id"] == "acct-4410"
    assert "南山花园" in created["service_notice"]

    [complaint] = complaints_of(context)
    assert (complaint["channel"], complaint["category_hint"], complaint["ticket_no"]) == (
        "open311",
        "elevator",
        created["service_request_id"],
    )
    assert complaint["reporter"] == {
        "name": "Lei Zhangsan",
        "phone": "+8613800138000",
        "email": "lei.zhangsan@example.com",
        "role": "other",
    }
    [event] = outbox_events(context.database, complaint["_id"])
    assert event["type"] == "complaint.received" and event["data"]["channel"] == "open311"
    assert "Zhangsan" not in json.dumps(event, ensure_ascii=False, default=str)

    listed = client.get("/open311/v2/requests.json").get_json()
    single = client.get(f"/open311/v2/requests/{created['service_request_id']}.json").get_json()
    assert listed == single and len(single) == 1
    [request] = single
    assert set(request) == set(REQUEST_FIELDS)
    assert request["service_request_id"] == created["service_request_id"]
    assert (request["status"], request["service_code"], request["service_name"]) == ("open", "elevator", "电梯")
    assert (request["address"], request["lat"], request["long"]) == ("南山花园3号楼大堂", 22.5431, 113.9298)
    assert request["media_url"] == "https://img.example.com/lift.jpg" and request["description"] == "3号楼电梯停在两层之间"
    assert request["requested_datetime"] == "2026-11-22T15:30:00.000Z" and request["expected_datetime"] is None
    assert client.get(f"/open311/v2/requests/{created['service_request_id']}.json?locale=en").get_json()[0]["service_name"] == "Lift"


def test_public_reads_never_show_the_reporters_name_phone_email_device_or_account(client: FlaskClient, api_key: str) -> None:
    ticket = file_request(client, api_key).get_json()[0]["service_request_id"]
    for path in ("/open311/v2/requests.json", f"/open311/v2/requests/{ticket}.json", "/open311/v2/requests.json?locale=en"):
        text = client.get(path).get_data(as_text=True)
        for secret in ("Lei", "Zhangsan", "13800138000", "138 0013 8000", "lei.zhangsan", "device-7781", "acct-4410"):
            assert secret not in text, (path, secret)


def test_expected_datetime_is_the_resolve_deadline_once_dispatch_set_it_and_a_resolved_request_is_closed(
    client: FlaskClient, api_key: str, context: ServiceContext, handle: Callable[[Event], None], clock: FrozenClock
) -> None:
    ticket = file_request(client, api_key).get_json()[0]["service_request_id"]
    [complaint] = complaints_of(context)
    filed = {"id": complaint["_id"], "ticket_no": ticket}
    due = {"response": clock() + timedelta(minutes=30), "resolve": clock() + timedelta(hours=24)}
    handle(
        dispatch_event(
            filed,
            "complaint.classified",
            seq=2,
            status="classified",
            clock=clock,
            category="facility",
            subcategory="water",
            tier="important",
            department="engineering",
            deadlines=due,
        )
    )
    [request] = client.get(f"/open311/v2/requests/{ticket}.json").get_json()
    assert request["expected_datetime"] == "2026-11-23T15:30:00.000Z"
    assert (request["status"], request["agency_responsible"], request["service_code"]) == ("open", "engineering", "water")
    clock.advance(timedelta(hours=3))
    handle(dispatch_event(filed, "complaint.resolved", seq=3, status="resolved", clock=clock))
    [request] = client.get(f"/open311/v2/requests/{ticket}.json?locale=en").get_json()
    assert (request["status"], request["status_notes"]) == ("closed", "Resolved.")
    assert request["updated_datetime"] == "2026-11-22T18:30:00.000Z"


# services and discovery ------------------------------------------------------------------------


def test_services_are_the_subcategories_named_in_the_locale_asked_for(client: FlaskClient, estate: dict[str, Any]) -> None:
    chinese = client.get("/open311/v2/services.json?jurisdiction_id=NS01").get_json()
    english = client.get("/open311/v2/services.json?locale=en").get_json()
    assert len(chinese) == len(english) == 23
    assert all(set(service) == SERVICE_FIELDS for service in chinese)
    lift = next(service for service in chinese if service["service_code"] == "elevator")
    assert (lift["service_name"], lift["group"], lift["metadata"], lift["type"]) == ("电梯", "设施维护", False, "realtime")
    assert "Lift" in lift["keywords"].split(",")
    assert next(service for service in english if service["service_code"] == "noise")["service_name"] == "Noise"
    assert client.get("/open311/v2/services/elevator.json").get_json() == {"service_code": "elevator", "attributes": []}
    assert_georeport_error(client.get("/open311/v2/services/potholes.json"), 400, "potholes")
    assert_georeport_error(client.get("/open311/v2/services.json?jurisdiction_id=ZZ99"), 404, "ZZ99")


def test_discovery_names_one_georeport_v2_endpoint_serving_json_only(client: FlaskClient) -> None:
    discovery = client.get("/open311/v2/discovery.json").get_json()
    assert set(discovery) == {"changeset", "contact", "key_service", "endpoints"}
    [endpoint] = discovery["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2" and endpoint["formats"] == ["application/json"]
    assert endpoint["url"].endswith("/open311/v2") and endpoint["type"] == "production"
    assert_georeport_error(client.get("/open311/v2/services.xml"), 404, "JSON")


# filters ---------------------------------------------------------------------------------------


def test_requests_are_filtered_by_id_service_dates_status_and_jurisdiction(
    client: FlaskClient, api_key: str, other_estate: dict[str, Any], clock: FrozenClock
) -> None:
    lift = file_request(client, api_key).get_json()[0]["service_request_id"]
    clock.advance(timedelta(minutes=5))
    noise = file_request(client, api_key, service_code="noise", description="楼上装修噪音").get_json()[0]["service_request_id"]

    def ids(query: str) -> list[str]:
        response = client.get(f"/open311/v2/requests.json?{query}")
        assert response.status_code == 200, response.get_json()
        return [request["service_request_id"] for request in response.get_json()]

    assert ids("") == [noise, lift]
    assert ids(f"service_request_id={lift},{noise}") == [noise, lift]
    assert ids(f"service_request_id={lift}&service_code=noise") == [lift]
    assert ids("service_code=noise") == [noise]
    assert ids("status=open") == [noise, lift] and ids("status=closed") == []
    assert ids("start_date=2026-11-22T15:31:00%2B00:00") == [noise]
    assert ids("end_date=2026-11-22T23:31:00%2B08:00") == [lift]
    assert ids("jurisdiction_id=NS01") == [noise, lift] and ids("jurisdiction_id=BH02") == []
    assert ids("start_date=2026-10-01T00:00:00Z&end_date=2026-11-30T00:00:00Z") == [noise, lift]
    assert_georeport_error(client.get("/open311/v2/requests.json?status=pending"), 400, "status")
    assert_georeport_error(client.get("/open311/v2/requests.json?start_date=yesterday"), 400, "start_date")
    assert_georeport_error(client.get("/open311/v2/requests.json?start_date=2026-11-22T00:00:00"), 400, "start_date")
    assert_georeport_error(client.get("/open311/v2/requests.json?start_date=2026-01-01T00:00:00Z&end_date=2026-11-01T00:00:00Z"), 400, "90")
    assert_georeport_error(client.get("/open311/v2/requests.json?jurisdiction_id=ZZ99"), 404)


def test_complaints_filed_on_other_channels_are_not_public(client: FlaskClient, estate: dict[str, Any]) -> None:
    from tests.intake.conftest import complaint_body

    ticket = client.post("/api/v1/complaints", json=complaint_body()).get_json()["ticket_no"]
    assert client.get("/open311/v2/requests.json").get_json() == []
    assert_georeport_error(client.get(f"/open311/v2/requests/{ticket}.json"), 404, ticket)


# errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "status", "word"),
    [
        ({"api_key": None}, 403, "api_key"),
        ({"api_key": "o311_not-a-key"}, 403, "api_key"),
        ({"description": None}, 400, "description"),
        ({"description": "   "}, 400, "description"),
        ({"service_code": "potholes"}, 400, "service_code"),
        ({"service_code": None}, 400, "service_code"),
        ({"jurisdiction_id": None}, 400, "jurisdiction_id"),
        ({"jurisdiction_id": "ZZ99"}, 404, "ZZ99"),
        ({"phone": "12"}, 400, "phone"),
        ({"email": "not-an-address"}, 400, "email"),
        ({"long": None}, 400, "long"),
        ({"lat": "north"}, 400, "lat"),
        ({"lat": None, "long": None, "address_string": None}, 400, "location"),
        ({"media_url": "ftp://x"}, 400, "media_url"),
    ],
)
def test_a_refused_request_is_the_georeport_error_array_and_stores_nothing(
    client: FlaskClient, api_key: str, context: ServiceContext, changes: dict[str, Any], status: int, word: str
) -> None:
    assert_georeport_error(file_request(client, api_key if "api_key" not in changes else changes.pop("api_key"), **changes), status, word)
    assert complaints_of(context) == []
    assert [event["type"] for event in outbox_events(context.database) if event["type"].startswith("complaint.")] == []


def test_unknown_resources_and_methods_under_open311_answer_the_georeport_array(client: FlaskClient) -> None:
    assert_georeport_error(client.get("/open311/v2/requests/NS01-20261122-9999.json"), 404, "NS01-20261122-9999")
    assert_georeport_error(client.get("/open311/v2/requests/NS01-20261122-9999.xml"), 404, "JSON")
    assert_georeport_error(client.get("/open311/v2/tokens/abc.json"), 404)
    assert_georeport_error(client.delete("/open311/v2/requests.json"), 405)
    assert_georeport_error(client.post("/open311/v2/requests.json", data="x", content_type="text/plain"), 415)
    assert client.get("/api/v1/nothing-here").mimetype == "application/problem+json"


def test_an_api_key_used_for_an_estate_it_does_not_cover_is_refused(
    client: FlaskClient, api_key: str, other_estate: dict[str, Any], context: ServiceContext
) -> None:
    assert_georeport_error(file_request(client, api_key, jurisdiction_id="BH02"), 403, "BH02")
    assert complaints_of(context) == []


def test_an_api_key_is_rate_limited_on_posts(client: FlaskClient, admin: dict[str, str], estate: dict[str, Any]) -> None:
    body = {"client_name": "Busy", "estate_ids": ["NS01"], "rate_limit": 2}
    key = client.post("/api/v1/open311/keys", json=body, headers=admin).get_json()["api_key"]
    assert [file_request(client, key).status_code for _ in range(2)] == [201, 201]
    refused = file_request(client, key)
    assert_georeport_error(refused, 429)
    assert refused.headers["Retry-After"]


# keys ------------------------------------------------------------------------------------------


def test_keys_are_shown_once_stored_hashed_listed_without_secret_and_revocable(
    client: FlaskClient, admin: dict[str, str], estate: dict[str, Any], other_estate: dict[str, Any], context: ServiceContext
) -> None:
    response = client.post("/api/v1/open311/keys", json={"client_name": "CityFix", "estate_ids": ["NS01", "E2", "NS01"]}, headers=admin)
    assert response.status_code == 201 and response.headers["Cache-Control"] == "no-store"
    issued = response.get_json()
    assert {"api_key", "key_id", "client_name", "estate_ids"} <= set(issued) and issued["estate_ids"] == ["NS01", "E2"]
    [stored] = context.database[KEYS].find()
    assert stored["digest"] == hashlib.sha256(issued["api_key"].encode()).hexdigest()
    assert issued["api_key"] not in json.dumps(stored, default=str)

    [listed] = client.get("/api/v1/open311/keys", headers=admin).get_json()["items"]
    assert listed["key_id"] == issued["key_id"] and "api_key" not in listed and "digest" not in listed
    assert file_request(client, issued["api_key"], jurisdiction_id="BH02").status_code == 201

    assert client.delete(f"/api/v1/open311/keys/{issued['key_id']}", headers=admin).status_code == 204
    assert client.delete(f"/api/v1/open311/keys/{issued['key_id']}", headers=admin).status_code == 204
    assert_georeport_error(file_request(client, issued["api_key"]), 403, "api_key")
    assert client.get("/api/v1/open311/keys", headers=admin).get_json()["items"][0]["revoked_at"] is not None


def test_only_a_group_admin_issues_keys_and_only_for_estates_of_their_group(
    client: FlaskClient, admin: dict[str, str], agent: dict[str, str], estate: dict[str, Any], settings: Settings
) -> None:
    other_admin = bearer(settings, role="group_admin", sub="admin-9", group_id="G2")
    body = {"client_name": "CityFix", "estate_ids": ["NS01"]}
    assert client.post("/api/v1/open311/keys", json=body, headers=agent).status_code == 403
    assert client.post("/api/v1/open311/keys", json=body).status_code == 401
    refused = client.post("/api/v1/open311/keys", json=body, headers=other_admin)
    assert refused.status_code == 404 and refused.mimetype == "application/problem+json"
    assert client.post("/api/v1/open311/keys", json={"client_name": "CityFix", "estate_ids": ["NOPE"]}, headers=admin).status_code == 404
    assert client.post("/api/v1/open311/keys", json={"client_name": "CityFix", "estate_ids": []}, headers=admin).status_code == 422
    key_id = client.post("/api/v1/open311/keys", json=body, headers=admin).get_json()["key_id"]
    assert client.get("/api/v1/open311/keys", headers=other_admin).get_json()["items"] == []
    assert client.delete(f"/api/v1/open311/keys/{key_id}", headers=other_admin).status_code == 404
