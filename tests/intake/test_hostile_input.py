"""Hostile input to intake's routes, each without a token: a 4xx problem with field errors, never a 500, never a write."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from intake.store import IntakeStore
from tests.intake.conftest import complaint_body

JSON = {"Content-Type": "application/json"}


def _no_complaint(store: IntakeStore) -> bool:
    return store.database.complaints.count_documents({}) == 0


@pytest.mark.parametrize("levels", [200, 5000])
def test_a_body_nested_thousands_deep_is_a_400(client: FlaskClient, store: IntakeStore, estate: dict[str, Any], levels: int) -> None:
    for body in ("[" * levels + "]" * levels, '{"estate_id":' + '{"a":' * levels + "1" + "}" * levels + "}"):
        response = client.post("/api/v1/complaints", data=body, headers=JSON)
        assert response.status_code == 400, response.get_data()
        assert response.mimetype == "application/problem+json" and "_body" in response.json["errors"]
    assert _no_complaint(store)


def test_a_lone_surrogate_in_a_stored_string_is_a_422_on_that_field(
    client: FlaskClient, store: IntakeStore, estate: dict[str, Any]
) -> None:
    body = '{"estate_id":"NS01","reporter":{"name":"\\ud800","phone":"13800138000"},"channel":"app","description":"ab\\ud800cd"}'
    response = client.post("/api/v1/complaints", data=body, headers=JSON)
    assert response.status_code == 422, response.get_data()
    assert response.json["errors"].keys() == {"reporter", "description"}
    assert "name" in response.json["errors"]["reporter"]
    assert _no_complaint(store)


def test_a_lone_surrogate_in_a_json_lines_import_rejects_that_row(
    client: FlaskClient, store: IntakeStore, estate: dict[str, Any], admin: dict[str, str]
) -> None:
    lines = b'{"building":"9","room":"\\ud800","household_type":"owner"}\n' + b"[" * 5000 + b"]" * 5000 + b"\n"
    response = client.post("/api/v1/estates/NS01/households:import", data=lines, headers={**admin, "Content-Type": "application/x-ndjson"})
    assert response.status_code == 200, response.get_data()
    assert [row["row"] for row in response.json["rejected"]] == [1, 2]
    assert store.database.households.count_documents({"building": "9"}) == 0


@pytest.mark.parametrize(
    ("query", "field"),
    [("from=0001-01-01T00:00:00%2B14:00", "from"), ("to=9999-12-31T23:00:00-05:00", "to"), ("from=9999-12-31T23:00:00Z", "from")],
)
def test_a_time_without_a_utc_form_in_a_list_filter_is_a_422(
    client: FlaskClient, estate: dict[str, Any], admin: dict[str, str], query: str, field: str
) -> None:
    response = client.get(f"/api/v1/complaints?{query}", headers=admin)
    assert response.status_code == 422, response.get_data()
    assert field in response.json["errors"]


@pytest.mark.parametrize("expected_by", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:00:00-05:00", "9999-12-31T23:00:00Z"])
def test_an_expected_by_without_a_usable_utc_form_is_a_422(
    client: FlaskClient, store: IntakeStore, estate: dict[str, Any], expected_by: str
) -> None:
    response = client.post("/api/v1/complaints", json=complaint_body(expected_by=expected_by))
    assert response.status_code == 422, response.get_data()
    assert "expected_by" in response.json["errors"]
    assert _no_complaint(store)


def test_attachments_in_the_complaint_body_are_a_422_naming_the_upload_route(
    client: FlaskClient, store: IntakeStore, estate: dict[str, Any]
) -> None:
    response = client.post("/api/v1/complaints", json=complaint_body(attachments=["photo-1"]))
    assert response.status_code == 422, response.get_data()
    assert response.json["errors"]["attachments"] == [
        "Upload files after creating the complaint: POST /api/v1/complaints/{id}/attachments."
    ]
    assert _no_complaint(store)
