"""12345 transfers in intake over HTTP against a real MongoDB: signing, idempotency, triage, staff actions, follow-up."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from intake.config import IntakeConfig
from intake.store import INDEXES
from propcare_shared.clock import FrozenClock
from propcare_shared.context import ServiceContext
from propcare_shared.settings import Settings
from propcare_shared.testing import bearer, outbox_events

SECRET = "test-hotline-secret"
CALLER_PHONE_DIGITS = "13900139000"


@pytest.fixture
def context(open_context: Callable[..., ServiceContext], settings: Settings, clock: FrozenClock) -> ServiceContext:
    config = IntakeConfig(resident_limit_per_address=1000, resident_limit_per_phone=1000, hotline_secret=SECRET)
    return open_context(settings, indexes=INDEXES, clock=clock, config=config)


def transfer_body(**changes: Any) -> dict[str, Any]:
    """Return the contract's example transfer for NS01, with some fields changed."""
    body: dict[str, Any] = {
        "hotline_ticket_id": "12345-20261122-000123",
        "transferred_at": "2026-11-22T15:00:00Z",
        "caller": {"name": "李先生", "phone": CALLER_PHONE_DIGITS},
        "estate_code": "NS01",
        "address": "南山区南山花园3栋",
        "content": "小区门口垃圾堆放三天无人清理",
        "hotline_category": "环境卫生",
        "urgency": "normal",
        "reply_deadline": "2026-11-25T10:00:00Z",
    }
    body.update(changes)
    return body


def signed(raw: bytes, *, at: int, secret: str = SECRET) -> dict[str, str]:
    """Return the hotline's headers for a raw body signed at a Unix time."""
    signature = hmac.new(secret.encode(), f"{at}.".encode() + raw, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Hotline-Timestamp": str(at), "X-Hotline-Signature": signature}


def post_signed(client: FlaskClient, path: str, body: Any, clock: FrozenClock, **options: Any) -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    return client.post(path, data=raw, headers=signed(raw, at=int(clock().timestamp()), **options))


def transfer(client: FlaskClient, clock: FrozenClock, **changes: Any) -> Any:
    return post_signed(client, "/api/v1/hotline/transfers", transfer_body(**changes), clock)


def listed(client: FlaskClient, headers: dict[str, str], **query: str) -> list[dict[str, Any]]:
    response = client.get("/api/v1/hotline/transfers", query_string=query, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def test_a_signed_transfer_becomes_a_gov_hotline_complaint_with_the_caller_sealed(
    client: FlaskClient, estate: dict[str, Any], agent: dict[str, str], context: ServiceContext, clock: FrozenClock
) -> None:
    response = transfer(client, clock, urgency="urgent")
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["ticket_no"].startswith("NS01-") and created["state"] == "received"
    complaint = client.get(f"/api/v1/complaints/{created['complaint_id']}", headers=agent).get_json()
    assert complaint["channel"] == "gov_hotline" and complaint["description"] == "小区门口垃圾堆放三天无人清理"
    assert complaint["reporter"]["role"] == "other" and complaint["reporter"]["phone"] == "+86" + CALLER_PHONE_DIGITS
    [received] = outbox_events(context.database, created["complaint_id"])
    assert received["type"] == "complaint.received" and received["data"]["channel"] == "gov_hotline"
    assert received["data"]["hotline_ticket_id"] == "12345-20261122-000123"
    assert received["data"]["hotline_deadline"] == datetime(2026, 11, 25, 10, tzinfo=UTC) and received["data"]["urgent"] is True
    assert CALLER_PHONE_DIGITS not in json.dumps(received, ensure_ascii=False, default=str)
    assert "李先生" not in json.dumps(received, ensure_ascii=False, default=str)


def test_the_same_transfer_again_answers_200_with_the_same_ids_and_another_body_409(
    client: FlaskClient, estate: dict[str, Any], context: ServiceContext, clock: FrozenClock
) -> None:
    first = transfer(client, clock).get_json()
    clock.now += timedelta(seconds=40)
    again = transfer(client, clock)
    assert again.status_code == 200 and again.get_json() == first
    reordered = json.dumps(dict(reversed(list(transfer_body().items()))), ensure_ascii=False, indent=2).encode()
    assert post_signed(client, "/api/v1/hotline/transfers", reordered, clock).status_code == 200
    changed = transfer(client, clock, content="另一件事")
    assert changed.status_code == 409 and changed.mimetype == "application/problem+json"
    assert context.database.complaints.count_documents({}) == 1


def test_copies_arriving_at_once_make_one_transfer_and_one_complaint(
    app: Flask, estate: dict[str, Any], context: ServiceContext, clock: FrozenClock
) -> None:
    raw = json.dumps(transfer_body(), ensure_ascii=False).encode()
    headers = signed(raw, at=int(clock().timestamp()))
    answers: list[tuple[int, dict[str, Any]]] = []
    start = threading.Barrier(6)

    def send() -> None:
        client = app.test_client()
        start.wait()
        response = client.post("/api/v1/hotline/transfers", data=raw, headers=headers)
        answers.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(status for status, _ in answers) == [200, 200, 200, 200, 200, 201]
    assert len({body["complaint_id"] for _, body in answers}) == 1
    assert context.database.complaints.count_documents({}) == 1
    assert context.database.hotline_transfers.count_documents({}) == 1


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"Content-Type": "application/json"}, "Send"),
        ({"X-Hotline-Signature": "0" * 64}, "does not match"),
        ({"secret": "not-the-secret"}, "does not match"),
        ({"age": 301}, "old"),
        ({"age": -31}, "future"),
    ],
    ids=["missing", "bad", "forged", "stale", "future"],
)
def test_a_call_without_a_good_fresh_signature_is_401_and_stores_nothing(
    client: FlaskClient, estate: dict[str, Any], context: ServiceContext, clock: FrozenClock, headers: dict[str, Any], reason: str
) -> None:
    raw = json.dumps(transfer_body(), ensure_ascii=False).encode()
    sent = signed(raw, at=int(clock().timestamp()) - int(headers.pop("age", 0)), secret=headers.pop("secret", SECRET))
    if "Content-Type" in headers:
        sent = dict(headers)
    else:
        sent.update(headers)
    response = client.post("/api/v1/hotline/transfers", data=raw, headers=sent)
    assert response.status_code == 401 and reason in response.get_json()["detail"]
    assert response.mimetype == "application/problem+json"
    assert context.database.hotline_transfers.count_documents({}) == 0
    assert context.database.outbox.count_documents({"event.type": "complaint.received"}) == 0


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (b"{not json", 400, None),
        ({k: v for k, v in transfer_body().items() if k != "content"}, 422, "content"),
        (transfer_body(reply_deadline="25/11/2026"), 422, "reply_deadline"),
        (transfer_body(transferred_at="2026-11-22 01:00"), 422, "transferred_at"),
        (transfer_body(urgency="very"), 422, "urgency"),
        (transfer_body(content="x" * 70_000), 413, None),
    ],
    ids=["not-json", "missing-field", "non-iso-date", "date-without-offset", "unknown-urgency", "too-large"],
)
def test_bad_input_is_a_clear_4xx_and_stores_nothing(
    client: FlaskClient, estate: dict[str, Any], context: ServiceContext, clock: FrozenClock, body: Any, status: int, field: str | None
) -> None:
    response = post_signed(client, "/api/v1/hotline/transfers", body, clock)
    assert response.status_code == status and response.mimetype == "application/problem+json", response.get_data()
    if field:
        assert field in response.get_json()["errors"]
    assert context.database.hotline_transfers.count_documents({}) == 0
    assert context.database.outbox.count_documents({"event.type": {"$regex": "^(complaint|hotline)[.]"}}) == 0


def test_an_address_matches_an_estate_by_its_name(client: FlaskClient, estate: dict[str, Any], clock: FrozenClock) -> None:
    response = transfer(client, clock, estate_code=None, address="深圳市南山区 南山花园 5栋 门口")
    assert response.status_code == 201 and response.get_json()["ticket_no"].startswith("NS01-")


def test_an_invalid_caller_phone_keeps_the_transfer_without_a_contact(
    client: FlaskClient, estate: dict[str, Any], agent: dict[str, str], clock: FrozenClock
) -> None:
    response = transfer(client, clock, caller={"name": "李先生", "phone": "12"})
    assert response.status_code == 201
    [item] = listed(client, agent)
    assert item["caller"] == {"name": "李**", "phone": None, "phone_refused": True}
    complaint = client.get(f"/api/v1/complaints/{response.get_json()['complaint_id']}", headers=agent).get_json()
    assert complaint["reporter"]["phone"] is None


def test_an_unmatched_transfer_waits_in_triage_until_an_agent_assigns_an_estate(
    client: FlaskClient, estate: dict[str, Any], agent: dict[str, str], settings: Settings, context: ServiceContext, clock: FrozenClock
) -> None:
    response = transfer(client, clock, estate_code=None, address="福田区某某大厦")
    assert response.status_code == 201 and response.get_json() == {
        "complaint_id": None,
        "ticket_no": None,
        "hotline_ticket_id": "12345-20261122-000123",
        "state": "triage",
    }
    [waiting] = listed(client, agent, state="triage")
    assert waiting["allowed_actions"] == ["assign_estate", "return"] and waiting["estate_id"] is None
    assert waiting["caller"]["name"] == "李**" and waiting["caller"]["phone"] == "+86139****9000"
    assert waiting["accept_due_at"] == "2026-11-23T15:00:00.000Z"  # Monday, one working day after Sunday 23:00
    other_group = bearer(settings, role="group_admin", sub="admin-9", group_id="G2")
    assert listed(client, other_group, state="triage") == []
    handler = bearer(settings, role="handler", sub="eng-1", estates=["NS01"])
    assert client.get("/api/v1/hotline/transfers", headers=handler).status_code == 403
    assert client.post(f"/api/v1/hotline/transfers/{waiting['hotline_ticket_id']}/accept", headers=agent).status_code == 409
    outside = bearer(settings, role="agent", sub="agent-8", estates=["NS99"])
    refused = client.post(f"/api/v1/hotline/transfers/{waiting['hotline_ticket_id']}/estate", json={"estate_id": "NS01"}, headers=outside)
    assert refused.status_code == 403
    assigned = client.post(f"/api/v1/hotline/transfers/{waiting['hotline_ticket_id']}/estate", json={"estate_id": "NS01"}, headers=agent)
    assert assigned.status_code == 200 and assigned.get_json()["ticket_no"].startswith("NS01-")
    assert context.database.complaints.count_documents({"hotline_ticket_id": "12345-20261122-000123"}) == 1
    [item] = listed(client, agent, state="received")
    assert item["complaint_id"] == assigned.get_json()["complaint_id"] and item["estate_id"] == "NS01"
    again = client.post(f"/api/v1/hotline/transfers/{waiting['hotline_ticket_id']}/estate", json={"estate_id": "NS01"}, headers=agent)
    assert again.status_code == 409 and again.get_json()["allowed_actions"] == ["accept", "return"]


def test_accept_once_then_extension_before_the_deadline_then_return_ends_it(
    client: FlaskClient, estate: dict[str, Any], agent: dict[str, str], settings: Settings, context: ServiceContext, clock: FrozenClock
) -> None:
    created = transfer(client, clock).get_json()
    path = "/api/v1/hotline/transfers/12345-20261122-000123"
    assert client.post(f"{path}/accept", headers=bearer(settings, role="handler", sub="eng-1", estates=["NS01"])).status_code == 403
    assert client.post(f"{path}/accept", headers=bearer(settings, role="agent", sub="agent-8", estates=["NS99"])).status_code == 403
    accepted = client.post(f"{path}/accept", headers=agent)
    assert accepted.status_code == 200 and accepted.get_json()["state"] == "accepted"
    assert accepted.get_json()["accepted_by"] == "agent-7" and accepted.get_json()["accept_overdue"] is False
    twice = client.post(f"{path}/accept", headers=agent)
    assert twice.status_code == 409 and twice.get_json()["allowed_actions"] == ["return", "extension"]
    too_early = client.post(f"{path}/extension", json={"reason": "需协调业委会", "until": "2026-11-24T10:00:00Z"}, headers=agent)
    assert too_early.status_code == 422 and "until" in too_early.get_json()["errors"]
    extended = client.post(f"{path}/extension", json={"reason": "需协调业委会", "until": "2026-11-28T10:00:00Z"}, headers=agent)
    assert extended.status_code == 200 and extended.get_json()["extension"]["until"] == "2026-11-28T10:00:00.000Z"
    returned = client.post(f"{path}/return", json={"reason": "不属于物业管理范围"}, headers=agent)
    assert returned.status_code == 200 and returned.get_json()["state"] == "returned" and returned.get_json()["allowed_actions"] == []
    after = client.post(f"{path}/extension", json={"reason": "x", "until": "2026-11-29T10:00:00Z"}, headers=agent)
    assert after.status_code == 409 and after.get_json()["allowed_actions"] == []
    events = [event for event in outbox_events(context.database, created["complaint_id"]) if event["type"].startswith("hotline.")]
    assert [event["type"] for event in events] == ["hotline.accepted", "hotline.extension_requested", "hotline.returned"]
    assert events[1]["data"]["until"] == datetime(2026, 11, 28, 10, tzinfo=UTC) and events[2]["data"]["reason"] == "不属于物业管理范围"
    assert all(event["estate_id"] == "NS01" and event["data"]["actor_id"] == "agent-7" for event in events)
    assert CALLER_PHONE_DIGITS not in json.dumps(events, ensure_ascii=False, default=str)


def test_an_extension_after_the_reply_deadline_is_409(
    client: FlaskClient, estate: dict[str, Any], agent: dict[str, str], clock: FrozenClock
) -> None:
    transfer(client, clock)
    path = "/api/v1/hotline/transfers/12345-20261122-000123"
    client.post(f"{path}/accept", headers=agent)
    clock.now += timedelta(days=3)
    late = client.post(f"{path}/extension", json={"reason": "x", "until": "2026-11-30T10:00:00Z"}, headers=agent)
    assert late.status_code == 409 and "deadline has passed" in late.get_json()["detail"]


def test_a_past_reply_deadline_is_accepted_and_shown_overdue_and_a_late_accept_too(
    client: FlaskClient, estate: dict[str, Any], agent: dict[str, str], clock: FrozenClock
) -> None:
    assert transfer(client, clock, reply_deadline="2026-11-20T10:00:00Z", urgency="urgent").status_code == 201
    [item] = listed(client, agent)
    assert item["reply_overdue"] is True and item["accept_overdue"] is False
    assert item["accept_due_at"] == "2026-11-22T16:00:00.000Z" and item["urgent"] is True
    clock.now += timedelta(hours=2)
    assert listed(client, agent)[0]["accept_overdue"] is True
    client.post("/api/v1/hotline/transfers/12345-20261122-000123/accept", headers=agent)
    assert listed(client, agent, state="accepted")[0]["accept_overdue"] is True


def test_the_hotlines_follow_up_is_signed_recorded_once_and_reopens_when_dissatisfied(
    client: FlaskClient, estate: dict[str, Any], agent: dict[str, str], context: ServiceContext, clock: FrozenClock
) -> None:
    created = transfer(client, clock).get_json()
    path = "/api/v1/hotline/transfers/12345-20261122-000123/satisfaction"
    body = json.dumps({"result": "dissatisfied", "comment": "垃圾仍未清走"}, ensure_ascii=False).encode()
    assert client.post(path, data=body, headers={"Content-Type": "application/json"}).status_code == 401
    headers = signed(body, at=int(clock().timestamp()))
    first = client.post(path, data=body, headers=headers)
    assert first.status_code == 201 and first.get_json()["complaint_id"] == created["complaint_id"]
    replayed = client.post(path, data=body, headers=headers)
    assert replayed.status_code == 200
    assert post_signed(client, path, {"result": "great"}, clock).status_code == 422
    assert post_signed(client, "/api/v1/hotline/transfers/unknown-1/satisfaction", {"result": "satisfied"}, clock).status_code == 404
    reported = [event for event in outbox_events(context.database) if event["type"] == "hotline.satisfaction_reported"]
    assert len(reported) == 1 and reported[0]["data"]["result"] == "dissatisfied" and reported[0]["data"]["comment"] == "垃圾仍未清走"
    [item] = listed(client, agent)
    assert item["state"] == "reopened" and item["satisfaction"]["result"] == "dissatisfied"
    clock.now += timedelta(minutes=1)
    assert post_signed(client, path, {"result": "satisfied"}, clock).status_code == 201
    assert listed(client, agent)[0]["state"] == "closed"
    assert post_signed(client, path, {"result": "satisfied", "comment": "again"}, clock).status_code == 409


def test_with_several_groups_an_unmatched_transfer_goes_to_the_configured_triage_group_only(
    client: FlaskClient, estate: dict[str, Any], settings: Settings, context: ServiceContext, clock: FrozenClock
) -> None:
    other = bearer(settings, role="group_admin", sub="admin-9", group_id="G2")
    put = client.put("/api/v1/estates/FT01", json={"name": "福田大厦", "code": "FT01", "region_id": "R9", "group_id": "G2"}, headers=other)
    assert put.status_code == 201
    assert transfer(client, clock, estate_code=None, address="罗湖区某某小区").get_json()["state"] == "triage"
    g1_agent = bearer(settings, role="agent", sub="agent-7", estates=["NS01"])
    assert listed(client, g1_agent, state="triage") == [] and listed(client, other, state="triage") == []
    assert client.get("/api/v1/hotline/transfers/12345-20261122-000123", headers=g1_agent).status_code == 404
    context.config = IntakeConfig(hotline_secret=SECRET, hotline_triage_group="G2")
    [waiting] = listed(client, other, state="triage")
    assert waiting["hotline_ticket_id"] == "12345-20261122-000123" and listed(client, g1_agent, state="triage") == []
