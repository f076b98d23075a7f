"""Residents: one per phone (E.164) and group, created once under concurrency, linked to households and complaints."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask

from intake.store import IntakeStore
from propcare_shared.testing import outbox_events
from tests.intake.conftest import complaint_body

NEW_PHONE_FORMS = ("13900139000", "+86 139-0013-9000", "86-13900139000", "0086 139 0013 9000")


def test_sixteen_concurrent_complaints_from_one_new_phone_make_one_resident(app: Flask, store: IntakeStore, estate: dict[str, Any]) -> None:
    def post(index: int) -> str:
        body = complaint_body(building=None, unit=None, room=None, reporter={"name": "赵先生", "phone": NEW_PHONE_FORMS[index % 4]})
        response = app.test_client().post("/api/v1/complaints", json=body)
        assert response.status_code == 201, response.get_json()
        return str(response.get_json()["id"])

    with ThreadPoolExecutor(max_workers=16) as pool:
        ids = list(pool.map(post, range(16)))
    residents = list(store.database.residents.find({"phone": "+8613900139000"}))
    assert len(residents) == 1
    [resident] = residents
    assert (resident["complaints"], resident["group_id"], resident["name"]) == (16, "G1", "赵先生")
    assert {store.complaint(complaint_id)["resident_id"] for complaint_id in ids} == {resident["_id"]}


def test_an_imported_household_links_its_resident_and_a_complaint_without_address_takes_that_household(
    app: Flask, store: IntakeStore, estate: dict[str, Any]
) -> None:
    resident = store.resident(group_id="G1", phone="+8613800138000")
    assert resident is not None and resident["household_ids"] == ["NS01:3:2:1502"] and resident["name"] == "王女士"
    client = app.test_client()
    first = client.post("/api/v1/complaints", json=complaint_body(building=None, unit=None, room=None)).get_json()
    second = client.post("/api/v1/complaints", json=complaint_body(building=None, unit=None, room=None)).get_json()
    for created in (first, second):
        complaint = store.complaint(created["id"])
        assert (complaint["household_id"], complaint["resident_id"]) == ("NS01:3:2:1502", resident["_id"])
        [received] = [event for event in outbox_events(store.database, created["id"]) if event["type"] == "complaint.received"]
        assert (received["data"]["household_id"], received["data"]["household_type"]) == ("NS01:3:2:1502", "owner")
        assert "resident_id" not in received["data"] and "+8613800138000" not in str(received["data"])
    assert store.resident(group_id="G1", phone="+8613800138000")["complaints"] == 2


def test_a_complaint_naming_another_address_does_not_take_the_residents_household(
    app: Flask, store: IntakeStore, estate: dict[str, Any]
) -> None:
    created = app.test_client().post("/api/v1/complaints", json=complaint_body(building="9", unit="1", room="0909")).get_json()
    complaint = store.complaint(created["id"])
    assert complaint["household_id"] is None and complaint["resident_id"] is not None


def test_a_resident_is_per_group(app: Flask, store: IntakeStore, estate: dict[str, Any], admin: dict[str, str]) -> None:
    store.database.residents.insert_one({"_id": "other", "group_id": "G2", "phone": "+8613800138000", "household_ids": []})
    app.test_client().post("/api/v1/complaints", json=complaint_body())
    assert store.database.residents.count_documents({"phone": "+8613800138000"}) == 2
    assert store.resident(group_id="G1", phone="+8613800138000")["complaints"] == 1
