"""The monthly review (复盘): its three formats, months in Asia/Shanghai, month over month, scope and bad input, no personal data."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient

from analytics.domain import monthly
from propcare_shared.events.envelope import Event
from propcare_shared.settings import Settings
from propcare_shared.testing import bearer
from tests.analytics.factories import PERSONAL_TEXTS, ComplaintStory, estate_upserted

Feed = Callable[[Iterable[Event]], None]
ADMIN = {"role": "group_admin", "group_id": "G1"}
MONTH = "2025-11"


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.fixture
def stories(feed: Feed) -> dict[str, ComplaintStory]:
    """Complaints around the local month boundaries of November 2025 (Asia/Shanghai is UTC+8)."""
    complaints = {
        # 2025-11-01 00:30 in Shanghai: November, though still October in UTC
        "first_of_november": ComplaintStory(received_at=at(2025, 10, 31, 16, 30)),
        "mid_november": ComplaintStory(received_at=at(2025, 11, 15, 2), channel="wechat", subcategory="water", category="facility"),
        "same_spot": ComplaintStory(received_at=at(2025, 11, 20, 2)),
        # 2025-10-31 23:59 in Shanghai: October
        "last_of_october": ComplaintStory(received_at=at(2025, 10, 31, 15, 59)),
        # 2025-12-01 00:00 in Shanghai: December, in no report of November
        "first_of_december": ComplaintStory(received_at=at(2025, 11, 30, 16, 0)),
        "other_estate": ComplaintStory(received_at=at(2025, 11, 10), estate_id="FT01", region_id="R2"),
    }
    feed([estate_upserted("NS01", region_id="R1"), estate_upserted("FT01", region_id="R2")])
    feed(event for complaint in complaints.values() for event in complaint.lifecycle())
    return complaints


def report(client: FlaskClient, settings: Settings, *, token: dict[str, Any] | None = None, **query: Any) -> Any:
    headers = bearer(settings, **(token or ADMIN))
    return client.get("/api/v1/analytics/reports/monthly", query_string=query, headers=headers)


def test_the_month_is_the_local_calendar_month_in_shanghai() -> None:
    month = monthly.parse_month("2025-11", now=at(2026, 1, 1))
    assert month.start == at(2025, 10, 31, 16)
    assert month.end == at(2025, 11, 30, 16)
    assert str(monthly.parse_month("2025-01", now=at(2026, 1, 1)).previous()) == "2024-12"
    assert monthly.parse_month("2025-12", now=at(2026, 1, 1)).next().start == at(2025, 12, 31, 16)


def test_the_json_report_counts_the_local_month_and_shows_last_month_beside_it(
    client: FlaskClient, analytics_settings: Settings, stories: dict
) -> None:
    response = report(client, analytics_settings, scope="estate:NS01", month=MONTH)
    assert response.status_code == 200, response.json
    body = response.json
    assert body["timezone"] == "Asia/Shanghai"
    assert (body["month"], body["previous_month"]) == ("2025-11", "2025-10")
    assert body["from"] == "2025-10-31T16:00:00Z" and body["to"] == "2025-11-30T16:00:00Z"
    assert body["has_data"] is True
    this, last = body["this_month"], body["last_month"]
    assert this["volume"]["total"] == 3  # first of November, mid November, same spot; not the first of December
    assert last["volume"]["total"] == 1  # the last of October
    assert this["volume"]["by_subcategory"] == {"elevator": 2, "water": 1}
    assert this["volume"]["by_channel"] == {"app": 2, "wechat": 1}
    assert this["on_time"]["response"]["general"] == {"rate": 1.0, "met": 3, "breached": 0, "light": "green"}
    assert this["response_time"]["p50"] == 1800.0 and this["resolution_time"]["p90"] == 86400.0
    assert this["reopen_rate"] == 0.0
    assert this["survey"]["response_rate"] == 1.0 and this["survey"]["csat_mean"] == pytest.approx(14 / 3)
    assert this["hotspots"][0] == {
        "estate_id": "NS01",
        "building": "3",
        "subcategory": "elevator",
        "count": 2,
        "share": pytest.approx(2 / 3),
        "threshold": 3,
        "reaches_threshold": False,
    }
    rows = {(row["section"], row["key"]): row for row in body["month_over_month"]}
    assert rows[("volume", "total")] == {"section": "volume", "key": "total", "this_month": 3, "previous_month": 1, "change": 2}
    assert rows[("volume_by_subcategory", "water")]["previous_month"] is None
    assert rows[("volume_by_subcategory", "water")]["change"] is None
    assert body["satisfaction"]["status"] == "no_campaign_data"


def test_a_group_report_counts_every_estate(client: FlaskClient, analytics_settings: Settings, stories: dict) -> None:
    body = report(client, analytics_settings, scope="group:G1", month=MONTH).json
    assert body["this_month"]["volume"]["total"] == 4


def test_a_month_without_complaints_says_so_and_divides_by_nothing(
    client: FlaskClient, analytics_settings: Settings, stories: dict
) -> None:
    body = report(client, analytics_settings, scope="estate:NS01", month="2025-06").json
    assert body["has_data"] is False
    assert body["this_month"]["volume"]["total"] == 0
    assert body["this_month"]["resolution_rate"] is None and body["this_month"]["response_time"]["mean"] is None
    html = report(client, analytics_settings, scope="estate:NS01", month="2025-06", format="html").get_data(as_text=True)
    assert "No complaints this month" in html


def test_the_csv_is_one_row_per_figure_with_a_bom(client: FlaskClient, analytics_settings: Settings, stories: dict) -> None:
    response = report(client, analytics_settings, scope="estate:NS01", month=MONTH, format="csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["scope", "month", "measure", "dimension", "value"]
    by_key = {(row[1], row[2], row[3]): row[4] for row in rows[1:]}
    assert all(row[0] == "estate:NS01" for row in rows[1:])
    assert by_key[(MONTH, "volume", "total")] == "3"
    assert by_key[("2025-10", "volume", "total")] == "1"
    assert by_key[(MONTH, "volume.change", "total")] == "2"
    assert by_key[(MONTH, "on_time", "response.general.light")] == "green"
    assert by_key[("2025-10", "volume_by_subcategory", "water")] == ""
    figures = report(client, analytics_settings, scope="estate:NS01", month=MONTH).json["month_over_month"]
    assert len(rows) - 1 == 3 * len(figures)


def test_the_html_page_is_self_contained_with_svg_charts(client: FlaskClient, analytics_settings: Settings, stories: dict) -> None:
    response = report(client, analytics_settings, scope="estate:NS01", month=MONTH, format="html")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert page.startswith("<!DOCTYPE html>") and 'lang="zh-CN"' in page
    assert "<svg" in page and "月度复盘 Monthly review" in page and "高频投诉点 Hotspots" in page
    assert "No campaign results this month" in page
    assert "<script" not in page
    # nothing fetched from elsewhere: the only URL is the SVG namespace
    assert re.findall(r"https?://[^\"' ]+", page) == ["http://www.w3.org/2000/svg"] * page.count("<svg")
    assert not re.search(r"\b(src|href)=", page)


@pytest.mark.parametrize(
    ("token", "scope", "status"),
    [
        ({"role": "manager", "estates": ["FT01"]}, "estate:NS01", 403),
        ({"role": "manager", "estates": ["NS01"]}, "group:G1", 403),
        ({"role": "regional_ops", "regions": ["R2"]}, "region:R1", 403),
        ({"role": "group_admin", "group_id": "G2"}, "estate:NS01", 404),
        ({"role": "group_admin", "group_id": "G2"}, "group:G1", 404),
        (ADMIN, "estate:NOPE", 404),
    ],
)
def test_the_report_refuses_a_scope_as_the_kpis_do(
    client: FlaskClient, analytics_settings: Settings, stories: dict, token: dict, scope: str, status: int
) -> None:
    for fmt in ("json", "csv", "html"):
        response = report(client, analytics_settings, token=token, scope=scope, month=MONTH, format=fmt)
        assert response.status_code == status, (fmt, response.json)
        assert response.mimetype == "application/problem+json"
    kpis = client.get("/api/v1/analytics/kpis", query_string={"scope": scope}, headers=bearer(analytics_settings, **token))
    assert kpis.status_code == status


def test_the_report_needs_a_token(client: FlaskClient, stories: dict) -> None:
    assert client.get("/api/v1/analytics/reports/monthly", query_string={"scope": "group:G1", "month": MONTH}).status_code == 401


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"month": "2025-13"}, "month"),
        ({"month": "2025-1"}, "month"),
        ({"month": "November"}, "month"),
        ({"month": "2099-01"}, "month"),
        ({"month": MONTH, "format": "pdf"}, "format"),
        ({"month": MONTH, "scope": "estate"}, "scope"),
        ({}, "month"),
    ],
)
def test_bad_input_is_a_422(client: FlaskClient, analytics_settings: Settings, stories: dict, query: dict, field: str) -> None:
    response = report(client, analytics_settings, **{"scope": "estate:NS01", **query})
    assert response.status_code == 422, response.json
    assert field in str(response.json)


def test_no_personal_data_appears_in_any_format(client: FlaskClient, analytics_settings: Settings, stories: dict) -> None:
    for fmt in ("json", "csv", "html"):
        text = report(client, analytics_settings, scope="group:G1", month=MONTH, format=fmt).get_data(as_text=True)
        for personal in PERSONAL_TEXTS:
            assert personal not in text, (fmt, personal)
