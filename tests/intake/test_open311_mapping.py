"""The pure GeoReport v2 rules: locales, states, a complaint as a request, the error array."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from intake.open311 import mapping

# A service request's fields in the GeoReport v2 specification's order.
REQUEST_FIELDS = (
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
)
COMPLAINT = {
    "_id": "674a0000000000000000aaaa",
    "ticket_no": "NS01-20261122-0007",
    "status": "in_progress",
    "category_hint": "elevator",
    "subcategory": "water",
    "department": "engineering",
    "description": "地下室漏水",
    "reporter": {"name": "王女士", "phone": "+8613800138000", "email": "wang@example.com", "role": "owner"},
    "deadlines": {"resolve": datetime(2026, 11, 23, 15, 30, tzinfo=UTC)},
    "received_at": datetime(2026, 11, 22, 15, 30, tzinfo=UTC),
    "updated_at": datetime(2026, 11, 22, 16, 0),
}
FILED = {"address_string": "3号楼", "lat": 22.5, "long": 113.9, "device_id": "d-1", "account_id": "a-1", "estate_name": "南山花园"}


@pytest.mark.parametrize(
    ("requested", "locale"),
    [(None, "zh-CN"), ("", "zh-CN"), ("en", "en"), ("en_GB", "en"), ("EN-us", "en"), ("zh", "zh-CN"), ("fr", "zh-CN")],
)
def test_any_english_tag_answers_in_english_and_everything_else_in_chinese(requested: str | None, locale: str) -> None:
    assert mapping.locale_of(requested) == locale


@pytest.mark.parametrize(("status", "state"), [("received", "open"), ("on_hold", "open"), ("resolved", "closed"), ("cancelled", "closed")])
def test_a_request_is_closed_once_resolved_closed_or_cancelled(status: str, state: str) -> None:
    assert mapping.state_of(status) == state


def test_a_complaint_as_a_request_names_the_standards_fields_and_nothing_of_the_reporter() -> None:
    view = mapping.request_view(COMPLAINT, FILED, locale="en")
    assert list(view) == list(REQUEST_FIELDS)
    assert (view["service_code"], view["service_name"], view["agency_responsible"]) == ("water", "Water supply and drainage", "engineering")
    assert (view["expected_datetime"], view["updated_datetime"]) == ("2026-11-23T15:30:00.000Z", "2026-11-22T16:00:00.000Z")
    text = repr(view)
    assert all(secret not in text for secret in ("王女士", "13800138000", "wang@", "d-1", "a-1"))


def test_an_unclassified_request_keeps_the_service_code_it_was_filed_with() -> None:
    view = mapping.request_view({**COMPLAINT, "subcategory": None, "deadlines": {}}, None, locale="zh-CN")
    assert (view["service_code"], view["service_name"], view["expected_datetime"], view["address"]) == ("elevator", "电梯", None, None)


def test_service_request_ids_are_read_without_blanks_or_repeats() -> None:
    assert mapping.request_ids(" A-1, ,B-2,A-1 ") == ["A-1", "B-2"]


def test_a_problem_becomes_one_description_naming_each_field() -> None:
    body = {"title": "Invalid request", "detail": "Some fields are missing or invalid.", "errors": {"lat": ["Not a valid number."]}}
    assert mapping.describe_problem(body) == "Some fields are missing or invalid. lat: Not a valid number."
    assert mapping.errors(404, "No such resource.") == [{"code": 404, "description": "No such resource."}]
