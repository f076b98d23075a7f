"""Tenant isolation in intake: group G2, which also names a region R1 and holds tokens naming G1's
estate, reads and changes nothing of G1's; within a group, outside the caller's scope is a 403."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from intake.app import create_app
from intake.config import IntakeConfig
from intake.store import INDEXES
from propcare_shared.clock import FrozenClock
from propcare_shared.context import ServiceContext
from propcare_shared.settings import Settings
from propcare_shared.testing import bearer, outbox_events
from tests.intake.conftest import ESTATE, complaint_body

G2_ESTATE = {"name": "深圳湾花园", "code": "SZ01", "region_id": "R1", "group_id": "G2", "timezone": "Asia/Shanghai"}
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 256


@pytest.fixture
def g2_admin(settings: Settings) -> dict[str, str]:
    return bearer(settings, role="group_admin", sub="g2-admin", group_id="G2")


@pytest.fixture
def g2_estate(client: FlaskClient, g2_admin: dict[str, str]) -> dict[str, Any]:
    """SZ01, group G2's estate in G2's own region R1."""
    response = client.put("/api/v1/estates/SZ01", json=G2_ESTATE, headers=g2_admin)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def g2_tokens(settings: Settings) -> dict[str, dict[str, str]]:
    """Return G2's tokens that name G1's region and estate ids."""
    return {
        "regional_ops of G2's R1": bearer(settings, role="regional_ops", sub="g2-ops", group_id="G2", regions=["R1"]),
        "manager of G2 naming NS01": bearer(settings, role="manager", sub="g2-manager", group_id="G2", estates=["NS01", "SZ01"]),
        "group_admin of G2": bearer(settings, role="group_admin", sub="g2-admin", group_id="G2"),
    }


def test_another_groups_tokens_list_none_of_g1s_complaints_and_its_estate_filter_is_not_found(
    client: FlaskClient, settings: Settings, estate: dict[str, Any], g2_estate: dict[str, Any]
) -> None:
    g1_ids = {client.post("/api/v1/complaints", json=complaint_body()).get_json()["id"] for _ in range(2)}
    g2_body = complaint_body(estate_id="SZ01", reporter={"name": "李先生", "phone": "13900139000", "role": "tenant"})
    g2_id = client.post("/api/v1/complaints", json=g2_body).get_json()["id"]
    for name, headers in g2_tokens(settings).items():
        listed = client.get("/api/v1/complaints", headers=headers)
        assert listed.status_code == 200, name
        assert [item["id"] for item in listed.get_json()["items"]] == [g2_id], name
        assert "王女士" not in listed.get_data(as_text=True), name
        filtered = client.get("/api/v1/complaints?estate_id=NS01", headers=headers)
        assert filtered.status_code == 404 and "items" not in filtered.get_json(), name
    g1_ops = bearer(settings, role="regional_ops", group_id="G1", regions=["R1"])
    assert {item["id"] for item in client.get("/api/v1/complaints", headers=g1_ops).get_json()["items"]} == g1_ids


def test_another_groups_single_reads_are_not_found_like_missing_ones(
    client: FlaskClient, settings: Settings, estate: dict[str, Any], g2_estate: dict[str, Any]
) -> None:
    created = client.post("/api/v1/complaints", json=complaint_body()).get_json()
    for name, headers in g2_tokens(settings).items():
        pairs = (
            (f"/api/v1/complaints/{created['id']}", "/api/v1/complaints/" + "0" * 24),
            ("/api/v1/estates/NS01", "/api/v1/estates/XX99"),
        )
        for g1s, missing in pairs:
            response, nothing = client.get(g1s, headers=headers), client.get(missing, headers=headers)
            assert response.status_code == nothing.status_code == 404, (name, g1s)
            assert set(response.get_json()) == set(nothing.get_json()) and "王女士" not in response.get_data(as_text=True)
        attached = client.post(
            f"/api/v1/complaints/{created['id']}/attachments", data={"file": (io.BytesIO(JPEG), "a.jpg")}, headers=headers
        )
        assert attached.status_code == 404, name
    assert client.get("/api/v1/estates/SZ01", headers=g2_tokens(settings)["manager of G2 naming NS01"]).status_code == 200


def test_own_group_outside_the_callers_scope_is_forbidden(
    client: FlaskClient, admin: dict[str, str], settings: Settings, estate: dict[str, Any]
) -> None:
    created = client.post("/api/v1/complaints", json=complaint_body()).get_json()
    other_estate = bearer(settings, role="manager", estates=["FT02"])
    other_region = bearer(settings, role="regional_ops", regions=["R2"])
    for headers in (other_estate, other_region):
        assert client.get(f"/api/v1/complaints/{created['id']}", headers=headers).status_code == 403
        assert client.get("/api/v1/estates/NS01", headers=headers).status_code == 403
        assert client.get("/api/v1/complaints?estate_id=NS01", headers=headers).status_code == 403
        assert client.get("/api/v1/complaints", headers=headers).get_json()["items"] == []
        assert (
            client.post(
                f"/api/v1/complaints/{created['id']}/attachments", data={"file": (io.BytesIO(JPEG), "a.jpg")}, headers=headers
            ).status_code
            == 403
        )
    assert client.get("/api/v1/complaints/000000000000000000000000", headers=admin).status_code == 404


def test_another_group_cannot_replace_or_import_into_an_existing_estate(
    client: FlaskClient, g2_admin: dict[str, str], estate: dict[str, Any], context: ServiceContext
) -> None:
    events_before = len(outbox_events(context.database))
    taken_over = client.put("/api/v1/estates/NS01", json={**ESTATE, "group_id": "G2", "name": "抢走"}, headers=g2_admin)
    assert taken_over.status_code == 404
    imported = client.post(
        "/api/v1/estates/NS01/households:import",
        data=b"building,room,household_type\n3,101,owner\n",
        headers={**g2_admin, "Content-Type": "text/csv"},
    )
    assert imported.status_code == 404
    stored = context.database.estates.find_one({"_id": "NS01"})
    assert (stored["group_id"], stored["name"]) == ("G1", ESTATE["name"])
    assert context.database.households.count_documents({"group_id": "G2"}) == 0
    assert len(outbox_events(context.database)) == events_before


def test_an_estate_is_put_only_into_the_callers_own_group(client: FlaskClient, g2_admin: dict[str, str], context: ServiceContext) -> None:
    response = client.put("/api/v1/estates/NEW1", json={**ESTATE, "code": "NEW1"}, headers=g2_admin)
    assert response.status_code == 422 and "G2" in response.get_json()["errors"]["group_id"][0]
    assert context.database.estates.count_documents({}) == 0 and outbox_events(context.database) == []


def test_a_code_another_groups_estate_holds_is_refused_at_the_put_and_its_tickets_keep_working(
    client: FlaskClient, g2_admin: dict[str, str], estate: dict[str, Any], context: ServiceContext
) -> None:
    first = client.post("/api/v1/complaints", json=complaint_body()).get_json()
    clash = client.put("/api/v1/estates/SZ01", json={**G2_ESTATE, "code": "NS01"}, headers=g2_admin)
    assert clash.status_code == 409 and list(clash.get_json()["errors"]) == ["code"]
    assert context.database.estates.find_one({"_id": "SZ01"}) is None
    assert [event["type"] for event in outbox_events(context.database)].count("directory.estate.upserted") == 1
    assert client.put("/api/v1/estates/SZ01", json=G2_ESTATE, headers=g2_admin).status_code == 201
    g2_ticket = client.post("/api/v1/complaints", json=complaint_body(estate_id="SZ01")).get_json()["ticket_no"]
    second = client.post("/api/v1/complaints", json=complaint_body())
    assert second.status_code == 201, second.get_json()
    assert [first["ticket_no"], second.get_json()["ticket_no"], g2_ticket] == [
        "NS01-20261122-0001",
        "NS01-20261122-0002",
        "SZ01-20261122-0001",
    ]
    renamed = client.put("/api/v1/estates/SZ01", json={**G2_ESTATE, "code": "NS01"}, headers=g2_admin)
    assert renamed.status_code == 409 and context.database.estates.find_one({"_id": "SZ01"})["code"] == "SZ01"


def test_a_code_given_up_by_a_rename_stays_with_its_estate(
    client: FlaskClient, admin: dict[str, str], g2_admin: dict[str, str], estate: dict[str, Any]
) -> None:
    assert client.post("/api/v1/complaints", json=complaint_body()).get_json()["ticket_no"] == "NS01-20261122-0001"
    assert client.put("/api/v1/estates/NS01", json={**ESTATE, "code": "NSA1"}, headers=admin).status_code == 200
    taken = client.put("/api/v1/estates/SZ01", json={**G2_ESTATE, "code": "NS01"}, headers=g2_admin)
    assert taken.status_code == 409 and "code" in taken.get_json()["errors"]
    assert client.put("/api/v1/estates/NS01", json=ESTATE, headers=admin).status_code == 200  # its own code back
    assert client.post("/api/v1/complaints", json=complaint_body()).get_json()["ticket_no"] == "NS01-20261122-0002"


def test_of_concurrent_puts_with_one_code_exactly_one_wins(app: Flask, settings: Settings, context: ServiceContext) -> None:
    statuses: list[int] = []
    lock = threading.Lock()

    def put(number: int) -> None:
        group = f"G{number}"
        headers = bearer(settings, role="group_admin", sub=f"admin-{number}", group_id=group)
        body = {**ESTATE, "group_id": group}
        response = app.test_client().put(f"/api/v1/estates/E{number:02d}", json=body, headers=headers)
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=put, args=(number,)) for number in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201] + [409] * 5
    assert context.database.estates.count_documents({"code": "NS01"}) == 1


def test_a_staff_complaint_to_another_groups_estate_is_refused_like_an_unknown_estate(
    client: FlaskClient, settings: Settings, estate: dict[str, Any], context: ServiceContext
) -> None:
    g2_agent = bearer(settings, role="agent", sub="g2-agent", group_id="G2", estates=["NS01"])
    body = complaint_body(channel="phone", first_responder_id="g2-agent")
    foreign = client.post("/api/v1/complaints", json=body, headers=g2_agent)
    unknown = client.post("/api/v1/complaints", json={**body, "estate_id": "XX99"}, headers=g2_agent)
    assert foreign.status_code == unknown.status_code == 422
    assert list(foreign.get_json()["errors"]) == list(unknown.get_json()["errors"]) == ["estate_id"]
    assert context.database.complaints.count_documents({}) == 0


def test_an_external_reference_is_unique_within_a_group_and_a_clash_names_no_other_groups_complaint(
    client: FlaskClient, settings: Settings, estate: dict[str, Any], g2_estate: dict[str, Any]
) -> None:
    g1_agent = bearer(settings, role="agent", sub="agent-7", estates=["NS01"])
    g2_agent = bearer(settings, role="agent", sub="g2-agent", group_id="G2", estates=["SZ01"])
    body = complaint_body(channel="phone", first_responder_id="a", external_ref="crm-1")
    assert client.post("/api/v1/complaints", json=body, headers=g1_agent).status_code == 201
    assert client.post("/api/v1/complaints", json={**body, "estate_id": "SZ01"}, headers=g2_agent).status_code == 201
    again = client.post("/api/v1/complaints", json={**body, "estate_id": "SZ01", "description": "再报一次"}, headers=g2_agent)
    assert again.status_code == 409 and again.get_json()["complaint_id"] is not None
    resident = client.post("/api/v1/complaints", json=complaint_body(external_ref="crm-1"))
    assert resident.status_code == 409 and resident.get_json()["complaint_id"] is None


# idempotency ---------------------------------------------------------------------------------------


def test_another_caller_with_the_same_idempotency_key_never_gets_the_first_answer(
    client: FlaskClient, settings: Settings, agent: dict[str, str], estate: dict[str, Any], context: ServiceContext
) -> None:
    body = complaint_body(channel="phone", first_responder_id="agent-7")
    key = {"Idempotency-Key": "k-1"}
    first = client.post("/api/v1/complaints", json=body, headers={**agent, **key})
    assert first.status_code == 201
    token = first.get_json()["tracking_token"]
    anonymous = client.post("/api/v1/complaints", json=body, headers=key)
    colleague = client.post(
        "/api/v1/complaints", json=body, headers={**bearer(settings, role="agent", sub="agent-8", estates=["NS01"]), **key}
    )
    g2 = client.post(
        "/api/v1/complaints", json=body, headers={**bearer(settings, role="agent", sub="agent-7", group_id="G2", estates=["NS01"]), **key}
    )
    moved = client.post("/api/v1/complaints", json=body, headers={**bearer(settings, role="agent", sub="agent-7", estates=["FT02"]), **key})
    assert (anonymous.status_code, g2.status_code, moved.status_code) == (401, 422, 403)
    assert colleague.status_code == 201 and colleague.get_json()["id"] != first.get_json()["id"]
    for response in (anonymous, colleague, g2, moved):
        assert token not in response.get_data(as_text=True)
    replayed = client.post("/api/v1/complaints", json=body, headers={**agent, **key})
    assert replayed.get_json() == first.get_json() and replayed.headers["Idempotent-Replayed"] == "true"
    assert context.database.complaints.count_documents({}) == 2


def test_a_resident_from_another_address_with_the_same_key_gets_their_own_complaint(
    client: FlaskClient, estate: dict[str, Any], context: ServiceContext
) -> None:
    key = {"Idempotency-Key": "k-2"}
    first = client.post("/api/v1/complaints", json=complaint_body(), headers=key)
    elsewhere = client.post("/api/v1/complaints", json=complaint_body(), headers={**key, "X-Forwarded-For": "10.9.8.7"})
    assert first.status_code == elsewhere.status_code == 201
    assert elsewhere.get_json()["tracking_token"] != first.get_json()["tracking_token"]
    assert context.database.complaints.count_documents({}) == 2


def test_a_rate_limited_resident_gets_no_replay(
    make_settings: Callable[..., Settings], open_context: Callable[..., ServiceContext], clock: FrozenClock
) -> None:
    settings = make_settings("intake")
    client = create_app(
        open_context(
            settings, indexes=INDEXES, clock=clock, config=IntakeConfig(resident_limit_per_phone=1, resident_limit_per_address=100)
        )
    ).test_client()
    client.put("/api/v1/estates/NS01", json=ESTATE, headers=bearer(settings))
    key = {"Idempotency-Key": "k-3"}
    assert client.post("/api/v1/complaints", json=complaint_body(), headers=key).status_code == 201
    assert client.post("/api/v1/complaints", json=complaint_body(), headers=key).status_code == 429
