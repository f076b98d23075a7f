"""Complaints over HTTP: receipt, validation, ticket numbers, tracking, scope, rate limits, files."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from intake.app import create_app
from intake.config import IntakeConfig
from intake.store import INDEXES
from propcare_shared.clock import FrozenClock
from propcare_shared.context import ServiceContext
from propcare_shared.sealing import DEVELOPMENT_PERSONAL_DATA_KEY, Sealer
from propcare_shared.settings import Settings
from propcare_shared.testing import bearer, outbox_events
from tests.intake.conftest import ESTATE, complaint_body

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 2048


def post(client: FlaskClient, body: dict[str, Any], **headers: str) -> Any:
    return client.post("/api/v1/complaints", json=body, headers=headers)


def test_a_resident_complaint_is_received_with_ticket_and_tracking_token(
    client: FlaskClient, estate: dict[str, Any], context: ServiceContext
) -> None:
    response = post(client, complaint_body())
    body = response.get_json()
    assert response.status_code == 201, body
    assert set(body) == {"id", "ticket_no", "status", "tracking_token", "received_at"}
    assert body["status"] == "received" and body["received_at"] == "2026-11-22T15:30:00.000Z"
    assert body["ticket_no"] == "NS01-20261122-0001"
    assert response.headers["Location"] == f"/api/v1/complaints/{body['id']}"
    stored = context.database.complaints.find_one({"_id": body["id"]})
    assert body["tracking_token"] not in str(stored)  # only its digest is kept


def test_complaint_received_carries_what_dispatch_and_notification_need(
    client: FlaskClient, estate: dict[str, Any], context: ServiceContext, settings: Settings
) -> None:
    complaint_id = post(client, complaint_body()).get_json()["id"]
    [event] = [event for event in outbox_events(context.database, complaint_id)]
    assert (event["type"], event["seq"], event["producer"]) == ("complaint.received", 1, "intake")
    assert (event["group_id"], event["region_id"], event["estate_id"], event["correlation_id"]) == ("G1", "R1", "NS01", complaint_id)
    data = event["data"]
    assert data["household_id"] == "NS01:3:2:1502" and data["household_type"] == "owner" and data["age_band"] == "65+"
    assert data["reporter_role"] == "owner" and "reporter" not in data
    assert Sealer([DEVELOPMENT_PERSONAL_DATA_KEY]).open(data["contact"]) == {"name": "王女士", "phone": "+8613800138000", "email": None}
    assert data["timezone"] == "Asia/Shanghai" and data["description"].startswith("3号楼")


def test_ticket_numbers_count_per_estate_and_local_day(
    client: FlaskClient, admin: dict[str, str], estate: dict[str, Any], clock: FrozenClock
) -> None:
    client.put("/api/v1/estates/FT02", json={**ESTATE, "code": "FT02", "name": "福田苑"}, headers=admin)
    tickets = [post(client, complaint_body()).get_json()["ticket_no"] for _ in range(2)]
    tickets.append(post(client, complaint_body(estate_id="FT02", building=None, unit=None, room=None)).get_json()["ticket_no"])
    clock.advance(timedelta(hours=1))  # 00:30 on Monday in Shanghai, still Sunday in UTC
    tickets.append(post(client, complaint_body()).get_json()["ticket_no"])
    assert tickets == ["NS01-20261122-0001", "NS01-20261122-0002", "FT02-20261122-0001", "NS01-20261123-0001"]


def test_concurrent_complaints_get_distinct_ticket_numbers(app: Any, estate: dict[str, Any]) -> None:
    tickets: list[str] = []
    lock = threading.Lock()

    def submit() -> None:
        response = app.test_client().post("/api/v1/complaints", json=complaint_body())
        with lock:
            tickets.append(response.get_json()["ticket_no"])

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(tickets) == [f"NS01-20261122-{n:04d}" for n in range(1, 9)]


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"description": None}, {"description"}),
        ({"description": "   "}, {"description"}),
        ({"channel": "fax"}, {"channel"}),
        ({"reporter": {"name": "王女士", "phone": "12345", "role": "owner"}}, {"reporter"}),
        ({"reporter": {"name": "王女士", "phone": "13800138000", "role": "landlord"}}, {"reporter"}),
        ({"expected_by": "tomorrow"}, {"expected_by"}),
        ({"expected_by": "2026-11-25T10:00:00"}, {"expected_by"}),
        ({"surprise": 1}, {"surprise"}),
        ({"estate_id": "NOPE"}, {"estate_id"}),
    ],
)
def test_invalid_complaints_get_422_with_field_errors_and_no_write(
    client: FlaskClient, estate: dict[str, Any], context: ServiceContext, changes: dict[str, Any], fields: set[str]
) -> None:
    body = {key: value for key, value in complaint_body(**changes).items() if value is not None}
    response = post(client, body)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert set(response.get_json()["errors"]) == fields
    assert context.database.complaints.count_documents({}) == 0
    assert [event["type"] for event in outbox_events(context.database)] == ["directory.estate.upserted", "directory.households.imported"]


def test_malformed_json_and_wrong_media_type_are_refused(client: FlaskClient, estate: dict[str, Any]) -> None:
    malformed = client.post("/api/v1/complaints", data="{oops", headers={"Content-Type": "application/json"})
    assert malformed.status_code == 400 and malformed.mimetype == "application/problem+json"
    assert client.post("/api/v1/complaints", data="hello", headers={"Content-Type": "text/plain"}).status_code == 415


def test_staff_channels_need_a_token_and_a_first_responder(client: FlaskClient, agent: dict[str, str], estate: dict[str, Any]) -> None:
    assert post(client, complaint_body(channel="front_desk", first_responder_id="agent-7")).status_code == 401
    missing = post(client, complaint_body(channel="front_desk"), **agent)
    assert missing.status_code == 422 and "first_responder_id" in missing.get_json()["errors"]
    assert post(client, complaint_body(channel="front_desk", first_responder_id="agent-7"), **agent).status_code == 201


def test_staff_outside_the_estate_may_not_enter_its_complaints(client: FlaskClient, settings: Settings, estate: dict[str, Any]) -> None:
    outsider = bearer(settings, role="agent", estates=["FT02"])
    assert post(client, complaint_body(channel="phone", first_responder_id="a"), **outsider).status_code == 403
    assert post(client, complaint_body(), Authorization="Bearer not-a-token").status_code == 401


def test_the_same_idempotency_key_replays_the_first_answer(client: FlaskClient, estate: dict[str, Any], context: ServiceContext) -> None:
    first = post(client, complaint_body(), **{"Idempotency-Key": "k-1"})
    again = post(client, complaint_body(), **{"Idempotency-Key": "k-1"})
    other = post(client, complaint_body(description="另一件事：楼道灯坏了"), **{"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201 and first.get_json() == again.get_json()
    assert other.status_code == 409
    assert context.database.complaints.count_documents({}) == 1


def test_an_external_reference_files_a_complaint_once(client: FlaskClient, agent: dict[str, str], estate: dict[str, Any]) -> None:
    body = complaint_body(channel="phone", first_responder_id="agent-7", external_ref="crm-778")
    first = post(client, body, **agent)
    second = post(client, body, **agent)
    assert first.status_code == 201 and second.status_code == 409
    assert second.get_json()["complaint_id"] == first.get_json()["id"]


def test_residents_are_rate_limited_per_phone(
    make_settings: Callable[..., Settings], open_context: Callable[..., ServiceContext], clock: FrozenClock
) -> None:
    settings = make_settings("intake")
    client = create_app(
        open_context(
            settings, indexes=INDEXES, clock=clock, config=IntakeConfig(resident_limit_per_phone=2, resident_limit_per_address=100)
        )
    ).test_client()
    client.put("/api/v1/estates/NS01", json=ESTATE, headers=bearer(settings))
    statuses = [post(client, complaint_body()).status_code for _ in range(3)]
    limited = post(client, complaint_body())
    assert statuses == [201, 201, 429]
    assert limited.headers["Retry-After"] == "600" and limited.mimetype == "application/problem+json"
    assert post(client, complaint_body(reporter={"name": "李先生", "phone": "13900139000", "role": "tenant"})).status_code == 201
    clock.advance(timedelta(minutes=10))
    assert post(client, complaint_body()).status_code == 201


def test_residents_are_rate_limited_per_address_but_staff_are_not(
    make_settings: Callable[..., Settings], open_context: Callable[..., ServiceContext], clock: FrozenClock
) -> None:
    settings = make_settings("intake")
    client = create_app(
        open_context(
            settings, indexes=INDEXES, clock=clock, config=IntakeConfig(resident_limit_per_phone=100, resident_limit_per_address=2)
        )
    ).test_client()
    client.put("/api/v1/estates/NS01", json=ESTATE, headers=bearer(settings))
    phones = ["13800000001", "13800000002", "13800000003"]
    statuses = [post(client, complaint_body(reporter={"phone": phone})).status_code for phone in phones]
    assert statuses == [201, 201, 429]
    behind_gateway = client.post(
        "/api/v1/complaints", json=complaint_body(reporter={"phone": "13800000004"}), headers={"X-Forwarded-For": "10.1.2.3"}
    )
    assert behind_gateway.status_code == 201  # another client address, as the gateway reports it
    staff = bearer(settings, role="agent", estates=["NS01"])
    assert post(client, complaint_body(channel="phone", first_responder_id="a"), **staff).status_code == 201


def test_staff_read_a_complaint_with_its_reporter_and_residents_track_theirs_without_staff_data(
    client: FlaskClient, agent: dict[str, str], estate: dict[str, Any]
) -> None:
    created = post(client, complaint_body()).get_json()
    staff_view = client.get(f"/api/v1/complaints/{created['id']}", headers=agent).get_json()
    assert staff_view["ticket_no"] == created["ticket_no"] and staff_view["reporter"]["phone"] == "+8613800138000"
    assert [entry["action"] for entry in staff_view["timeline"]] == ["receive"]
    tracked = client.get(f"/api/v1/track/{created['tracking_token']}")
    body = tracked.get_json()
    assert tracked.status_code == 200 and body["status"] == "received" and body["ticket_no"] == created["ticket_no"]
    assert "reporter" not in body and "13800138000" not in tracked.get_data(as_text=True)
    assert all(set(entry) == {"at", "action", "status"} for entry in body["timeline"])
    assert client.get("/api/v1/track/not-a-token").status_code == 404


def test_complaints_are_listed_within_the_callers_scope_with_filters(
    client: FlaskClient, admin: dict[str, str], settings: Settings, estate: dict[str, Any], clock: FrozenClock
) -> None:
    client.put("/api/v1/estates/FT02", json={**ESTATE, "code": "FT02", "region_id": "R2"}, headers=admin)
    ids = [post(client, complaint_body()).get_json()["id"] for _ in range(3)]
    post(client, complaint_body(estate_id="FT02"))
    clock.advance(timedelta(days=1))
    later = post(client, complaint_body(channel="wechat")).get_json()["id"]
    ns_manager = bearer(settings, role="manager", estates=["NS01"])
    first = client.get("/api/v1/complaints?limit=2", headers=ns_manager).get_json()
    second = client.get(f"/api/v1/complaints?limit=2&cursor={first['next_cursor']}", headers=ns_manager).get_json()
    assert [item["id"] for item in first["items"] + second["items"]] == [later, *reversed(ids)]
    assert second["next_cursor"] is None
    assert [item["id"] for item in client.get("/api/v1/complaints?channel=wechat", headers=admin).get_json()["items"]] == [later]
    assert client.get("/api/v1/complaints?estate_id=FT02", headers=ns_manager).status_code == 403  # refused, not an empty page
    assert client.get("/api/v1/complaints?estate_id=NOPE", headers=ns_manager).status_code == 404
    assert len(client.get("/api/v1/complaints?to=2026-11-23T00:00:00Z", headers=admin).get_json()["items"]) == 4
    assert client.get("/api/v1/complaints?status=lost", headers=admin).status_code == 422
    assert client.get("/api/v1/complaints?status=reopened", headers=admin).get_json()["items"] == []  # the contract's value
    outsider = bearer(settings, role="manager", estates=["FT02"])
    assert client.get(f"/api/v1/complaints/{later}", headers=outsider).status_code == 403  # its group, not its estate


def test_photos_are_stored_in_gridfs_and_other_files_refused(
    client: FlaskClient, agent: dict[str, str], estate: dict[str, Any], context: ServiceContext
) -> None:
    created = post(client, complaint_body()).get_json()
    url = f"/api/v1/complaints/{created['id']}/attachments"
    by_resident = client.post(url, data={"file": (io.BytesIO(JPEG), "lift.jpg")}, headers={"X-Tracking-Token": created["tracking_token"]})
    assert by_resident.status_code == 201 and by_resident.get_json()["content_type"] == "image/jpeg"
    assert by_resident.get_json()["size"] == len(JPEG)
    script = client.post(url, data={"file": (io.BytesIO(b"#!/bin/sh\necho hi"), "photo.jpg")}, headers=agent)
    assert script.status_code == 415 and "file" in script.get_json()["errors"]
    assert client.post(url, data={"file": (io.BytesIO(JPEG), "a.jpg")}).status_code == 401
    assert client.post(url, data={"file": (io.BytesIO(JPEG), "a.jpg")}, headers={"X-Tracking-Token": "wrong"}).status_code == 404
    assert client.post(url, data={}, headers=agent).status_code == 422
    stored = client.get(f"/api/v1/complaints/{created['id']}", headers=agent).get_json()["attachments"]
    assert [attachment["filename"] for attachment in stored] == ["lift.jpg"]
    assert context.database["attachments.files"].count_documents({"metadata.complaint_id": created["id"]}) == 1


def test_complaint_received_shows_no_name_or_phone_in_clear(
    client: FlaskClient, agent: dict[str, str], estate: dict[str, Any], context: ServiceContext
) -> None:
    post(client, complaint_body())
    post(
        client,
        complaint_body(channel="phone", first_responder_id="agent-7", reporter={"name": "李先生", "phone": "0755-12345678"}),
        **agent,
    )
    events = [event for event in outbox_events(context.database) if event["type"] == "complaint.received"]
    text = json.dumps(events, default=str, ensure_ascii=False)
    assert len(events) == 2
    for clear in ("王女士", "李先生", "13800138000", "+8613800138000", "12345678"):
        assert clear not in text


def test_reporter_phones_are_kept_in_e164_and_a_non_phone_is_refused_on_reporter_phone(
    client: FlaskClient, estate: dict[str, Any], context: ServiceContext
) -> None:
    created = post(client, complaint_body(reporter={"name": "王女士", "phone": "+86 138-0013-8000", "role": "tenant"})).get_json()
    assert context.database.complaints.find_one({"_id": created["id"]})["reporter"]["phone"] == "+8613800138000"
    for phone in ("12345", "not a phone", "1" * 40):
        refused = post(client, complaint_body(reporter={"phone": phone}))
        assert refused.status_code == 422 and list(refused.get_json()["errors"]["reporter"]) == ["phone"], phone
    assert context.database.complaints.count_documents({}) == 1


def test_one_phone_written_three_ways_counts_once_for_the_resident_limit(
    make_settings: Callable[..., Settings], open_context: Callable[..., ServiceContext], clock: FrozenClock
) -> None:
    settings = make_settings("intake")
    context = open_context(
        settings, indexes=INDEXES, clock=clock, config=IntakeConfig(resident_limit_per_phone=2, resident_limit_per_address=100)
    )
    client = create_app(context).test_client()
    client.put("/api/v1/estates/NS01", json=ESTATE, headers=bearer(settings))
    phones = ("+8613800138000", "86-13800138000", "13800138000")
    assert [post(client, complaint_body(reporter={"phone": phone})).status_code for phone in phones] == [201, 201, 429]
    keys = [document["_id"] for document in context.database.rate_limits.find()]
    assert keys and not any("13800138000" in key for key in keys)  # counted under a hash, never in clear


def test_tracking_lookups_are_rate_limited_per_client_address(
    make_settings: Callable[..., Settings], open_context: Callable[..., ServiceContext], clock: FrozenClock
) -> None:
    settings = make_settings("intake", lookup_limit_per_address=3)
    client = create_app(
        open_context(settings, indexes=INDEXES, clock=clock, config=IntakeConfig(resident_limit_per_address=100))
    ).test_client()
    client.put("/api/v1/estates/NS01", json=ESTATE, headers=bearer(settings))
    created = post(client, complaint_body()).get_json()
    statuses = [client.get(f"/api/v1/track/{token}").status_code for token in (created["tracking_token"], "guess-1", "guess-2")]
    limited = client.get(f"/api/v1/track/{created['tracking_token']}")
    assert statuses == [200, 404, 404] and limited.status_code == 429
    assert limited.headers["Retry-After"] == "600" and limited.mimetype == "application/problem+json"
    upload = client.post(
        f"/api/v1/complaints/{created['id']}/attachments",
        data={"file": (io.BytesIO(JPEG), "a.jpg")},
        headers={"X-Tracking-Token": created["tracking_token"]},
    )
    assert upload.status_code == 429  # the resident's upload looks the token up too
    elsewhere = client.get(f"/api/v1/track/{created['tracking_token']}", headers={"X-Forwarded-For": "10.1.2.3"})
    assert elsewhere.status_code == 200
    clock.advance(timedelta(minutes=10))
    assert client.get(f"/api/v1/track/{created['tracking_token']}").status_code == 200


def test_the_receive_entry_names_the_staff_member_who_entered_the_complaint(
    client: FlaskClient, agent: dict[str, str], estate: dict[str, Any]
) -> None:
    by_staff = post(client, complaint_body(channel="front_desk", first_responder_id="zhang-1"), **agent).get_json()
    by_resident = post(client, complaint_body(first_responder_id="zhang-1")).get_json()
    staff_view = client.get(f"/api/v1/complaints/{by_staff['id']}", headers=agent).get_json()
    assert staff_view["first_responder_id"] == "zhang-1"  # the person responsible, as entered
    assert [(entry["action"], entry["actor_id"]) for entry in staff_view["timeline"]] == [("receive", "agent-7")]
    resident_view = client.get(f"/api/v1/complaints/{by_resident['id']}", headers=agent).get_json()
    assert resident_view["first_responder_id"] is None and resident_view["timeline"][0]["actor_id"] is None
