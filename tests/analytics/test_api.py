"""Analytics' HTTP API: who may see which scope, malformed queries, periods, and the figures served."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from propcare_shared.events.envelope import Event
from propcare_shared.scope import InvalidScope, Scope, parse_scope
from propcare_shared.settings import Settings
from propcare_shared.testing import bearer
from tests.analytics.factories import ComplaintStory, estate_upserted, utc_now

Feed = Callable[[Iterable[Event]], None]


@pytest.fixture
def city(feed: Feed) -> dict[str, ComplaintStory]:
    """Two estates of region R1 and one of R2, each with a complaint received yesterday."""
    yesterday = utc_now() - timedelta(days=1)
    complaints = {
        "NS01": ComplaintStory(received_at=yesterday),
        "NS02": ComplaintStory(received_at=yesterday, estate_id="NS02", channel="wechat"),
        "FT01": ComplaintStory(received_at=yesterday, estate_id="FT01", region_id="R2", subcategory="water"),
    }
    feed([estate_upserted("NS01", region_id="R1"), estate_upserted("NS02", region_id="R1"), estate_upserted("FT01", region_id="R2")])
    feed(event for complaint in complaints.values() for event in (complaint.received(), complaint.classified(), complaint.assigned()))
    return complaints


def get(client: FlaskClient, settings: Settings, path: str, *, token: dict[str, Any] | None = None, **query: Any) -> Any:
    headers = bearer(settings, **token) if token is not None else {}
    return client.get(f"/api/v1/analytics/{path}", query_string=query, headers=headers)


ADMIN = {"role": "group_admin", "group_id": "G1"}


@pytest.mark.parametrize(
    ("token", "scope", "total"),
    [
        (ADMIN, "group:G1", 3),
        (ADMIN, "region:R1", 2),
        (ADMIN, "estate:FT01", 1),
        ({"role": "regional_ops", "regions": ["R1"]}, "region:R1", 2),
        ({"role": "regional_ops", "regions": ["R1"]}, "estate:NS02", 1),
        ({"role": "manager", "estates": ["NS01"]}, "estate:NS01", 1),
        ({"role": "agent", "estates": ["NS01", "NS02"]}, "estate:NS02", 1),
    ],
)
def test_a_scope_within_the_callers_is_served(
    client: FlaskClient, analytics_settings: Settings, city: dict, token: dict, scope: str, total: int
) -> None:
    response = get(client, analytics_settings, "kpis", token=token, scope=scope)
    assert response.status_code == 200, response.json
    assert response.json["volume"]["total"] == total


@pytest.mark.parametrize(
    ("token", "scope"),
    [
        ({"role": "manager", "estates": ["NS02"]}, "estate:NS01"),
        ({"role": "manager", "estates": ["NS01"]}, "region:R1"),
        ({"role": "manager", "estates": ["NS01"]}, "group:G1"),
        ({"role": "regional_ops", "regions": ["R2"]}, "region:R1"),
        ({"role": "regional_ops", "regions": ["R2"]}, "estate:NS01"),
        ({"role": "regional_ops", "regions": ["R1"]}, "group:G1"),
    ],
)
def test_a_scope_of_the_callers_group_outside_their_regions_or_estates_is_a_403(
    client: FlaskClient, analytics_settings: Settings, city: dict, token: dict, scope: str
) -> None:
    for path in ("kpis", "hotspots"):
        response = get(client, analytics_settings, path, token=token, scope=scope)
        assert response.status_code == 403, (path, response.json)
        assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    ("token", "scope"),
    [
        ({"role": "regional_ops", "regions": ["R1"]}, "estate:UNKNOWN"),
        (ADMIN, "estate:UNKNOWN"),
        (ADMIN, "region:R9"),
        (ADMIN, "group:G2"),
        ({"role": "group_admin", "group_id": "G2"}, "group:G1"),
        ({"role": "group_admin", "group_id": "G2"}, "estate:NS01"),
        ({"role": "group_admin", "group_id": "G2"}, "region:R1"),
        ({"role": "manager", "group_id": "G2", "estates": ["NS01"]}, "estate:NS01"),
        ({"role": "regional_ops", "group_id": "G2", "regions": ["R1"]}, "region:R1"),
    ],
)
def test_a_scope_of_another_group_or_none_is_a_404(
    client: FlaskClient, analytics_settings: Settings, city: dict, token: dict, scope: str
) -> None:
    for path in ("kpis", "hotspots"):
        response = get(client, analytics_settings, path, token=token, scope=scope)
        assert response.status_code == 404, (path, response.json)
        assert response.mimetype == "application/problem+json"
        assert not {"volume", "items", "total"} & set(response.json)


@pytest.fixture
def rival(feed: Feed, city: dict[str, ComplaintStory]) -> dict[str, ComplaintStory]:
    """Group G2, which also calls a region R1: two complaints in its estate HB01 there, by phone, about water."""
    yesterday = utc_now() - timedelta(days=1)
    complaints = {
        f"HB01-{n}": ComplaintStory(
            received_at=yesterday, group_id="G2", region_id="R1", estate_id="HB01", building="9", channel="phone", subcategory="water"
        )
        for n in range(2)
    }
    feed([estate_upserted("HB01", region_id="R1", group_id="G2")])
    feed(event for complaint in complaints.values() for event in (complaint.received(), complaint.classified(), complaint.assigned()))
    return complaints


G2_REGIONAL_OPS = {"role": "regional_ops", "group_id": "G2", "regions": ["R1"]}


def test_region_r1_means_the_callers_groups_r1(client: FlaskClient, analytics_settings: Settings, rival: dict) -> None:
    g2 = get(client, analytics_settings, "kpis", token=G2_REGIONAL_OPS, scope="region:R1")
    assert g2.status_code == 200, g2.json
    assert g2.json["volume"]["total"] == 2 and g2.json["volume"]["by_channel"] == {"phone": 2}
    g1 = get(client, analytics_settings, "kpis", token=ADMIN, scope="region:R1")
    assert g1.status_code == 200, g1.json
    assert g1.json["volume"]["total"] == 2 and g1.json["volume"]["by_channel"] == {"app": 1, "wechat": 1}
    g1_ops = get(client, analytics_settings, "kpis", token={"role": "regional_ops", "regions": ["R1"]}, scope="region:R1")
    assert g1_ops.json["volume"]["by_channel"] == {"app": 1, "wechat": 1}
    whole_g2 = get(client, analytics_settings, "kpis", token={"role": "group_admin", "group_id": "G2"}, scope="group:G2")
    assert whole_g2.json["volume"]["total"] == 2


def test_hotspots_of_a_region_list_only_the_callers_groups_estates(client: FlaskClient, analytics_settings: Settings, rival: dict) -> None:
    g2 = get(client, analytics_settings, "hotspots", token=G2_REGIONAL_OPS, scope="region:R1")
    assert g2.status_code == 200, g2.json
    assert g2.json["total"] == 2
    assert [(item["estate_id"], item["building"], item["count"]) for item in g2.json["items"]] == [("HB01", "9", 2)]
    g1 = get(client, analytics_settings, "hotspots", token=ADMIN, scope="region:R1")
    assert g1.json["total"] == 2 and {item["estate_id"] for item in g1.json["items"]} == {"NS01", "NS02"}


def test_a_manager_naming_another_groups_estate_gets_a_404_and_nothing_of_it(
    client: FlaskClient, analytics_settings: Settings, rival: dict
) -> None:
    manager = {"role": "manager", "group_id": "G2", "estates": ["NS01", "HB01"]}
    for path in ("kpis", "hotspots"):
        refused = get(client, analytics_settings, path, token=manager, scope="estate:NS01")
        assert refused.status_code == 404, (path, refused.json)
    own = get(client, analytics_settings, "kpis", token=manager, scope="estate:HB01")
    assert own.status_code == 200 and own.json["volume"]["total"] == 2 and own.json["volume"]["by_channel"] == {"phone": 2}


def test_a_region_another_group_has_is_a_404_where_the_callers_group_has_none(
    client: FlaskClient, analytics_settings: Settings, rival: dict
) -> None:
    response = get(
        client, analytics_settings, "kpis", token={"role": "regional_ops", "group_id": "G2", "regions": ["R2"]}, scope="region:R2"
    )
    assert response.status_code == 404, response.json


@pytest.mark.parametrize("scope", ["NS01", "estate", "estate:", "planet:NS01", "estate:NS 01", "estate:NS01:x", "region:" + "R" * 65])
def test_a_malformed_scope_is_a_422(client: FlaskClient, analytics_settings: Settings, scope: str) -> None:
    for path in ("kpis", "hotspots"):
        response = get(client, analytics_settings, path, token=ADMIN, scope=scope)
        assert response.status_code == 422, (path, response.json)
        assert "scope" in response.json["errors"]


def test_missing_scope_bad_days_and_a_reversed_period_are_422(client: FlaskClient, analytics_settings: Settings) -> None:
    assert "scope" in get(client, analytics_settings, "kpis", token=ADMIN).json["errors"]
    reversed_period = get(
        client, analytics_settings, "kpis", token=ADMIN, scope="group:G1", **{"from": "2026-11-20T00:00:00Z", "to": "2026-11-10T00:00:00Z"}
    )
    assert reversed_period.status_code == 422 and set(reversed_period.json["errors"]) == {"from", "to"}
    future_start = get(
        client, analytics_settings, "kpis", token=ADMIN, scope="group:G1", **{"from": (utc_now() + timedelta(days=1)).isoformat()}
    )
    assert future_start.status_code == 422 and "from" in future_start.json["errors"]
    naive = get(client, analytics_settings, "kpis", token=ADMIN, scope="group:G1", **{"from": "2026-11-20T00:00:00"})
    assert naive.status_code == 422 and "from" in naive.json["errors"]
    for days in ("0", "367", "x"):
        response = get(client, analytics_settings, "hotspots", token=ADMIN, scope="group:G1", days=days)
        assert response.status_code == 422 and "days" in response.json["errors"]


def test_no_token_is_a_401(client: FlaskClient, analytics_settings: Settings) -> None:
    response = get(client, analytics_settings, "kpis", scope="group:G1")
    assert response.status_code == 401 and response.mimetype == "application/problem+json"


def test_the_default_period_is_the_last_30_days_by_received_time(client: FlaskClient, analytics_settings: Settings, feed: Feed) -> None:
    now = utc_now()
    recent, old = ComplaintStory(received_at=now - timedelta(days=29)), ComplaintStory(received_at=now - timedelta(days=31))
    feed([recent.received(), old.received()])
    body = get(client, analytics_settings, "kpis", token=ADMIN, scope="estate:NS01").json
    assert body["volume"]["total"] == 1
    start, end = (datetime.fromisoformat(body[key].replace("Z", "+00:00")) for key in ("from", "to"))
    assert end - start == timedelta(days=30)
    widened = get(
        client, analytics_settings, "kpis", token=ADMIN, scope="estate:NS01", **{"from": (now - timedelta(days=40)).isoformat()}
    ).json
    assert widened["volume"]["total"] == 2


def test_dates_are_whole_local_days(client: FlaskClient, analytics_settings: Settings, feed: Feed) -> None:
    first_minute = ComplaintStory(received_at=datetime(2026, 10, 31, 16, 0, 30, tzinfo=UTC))  # 00:00:30 on 1 November in Shanghai
    before = ComplaintStory(received_at=datetime(2026, 10, 31, 15, 59, 0, tzinfo=UTC))  # 31 October in Shanghai
    last_minute = ComplaintStory(received_at=datetime(2026, 11, 30, 15, 59, 0, tzinfo=UTC))  # 23:59 on 30 November
    after = ComplaintStory(received_at=datetime(2026, 11, 30, 16, 0, 0, tzinfo=UTC))  # 1 December
    feed(complaint.received() for complaint in (first_minute, before, last_minute, after))
    body = get(client, analytics_settings, "kpis", token=ADMIN, scope="estate:NS01", **{"from": "2026-11-01", "to": "2026-11-30"}).json
    assert body["volume"]["total"] == 2
    assert (body["from"], body["to"]) == ("2026-10-31T16:00:00.000Z", "2026-11-30T16:00:00.000Z")


def test_hotspots_rank_buildings_by_subcategory_with_their_share(client: FlaskClient, analytics_settings: Settings, feed: Feed) -> None:
    now = utc_now()
    lifts = [ComplaintStory(received_at=now - timedelta(days=days)) for days in (40, 12, 6, 2)]
    noise = ComplaintStory(received_at=now - timedelta(days=3), building="7", category="community", subcategory="noise")
    cancelled = ComplaintStory(received_at=now - timedelta(days=1), building="7", category="community", subcategory="noise")
    feed(event for complaint in (*lifts, noise, cancelled) for event in (complaint.received(), complaint.classified()))
    feed([cancelled.work_order("complaint.cancelled", seq=3, seconds=120, status="cancelled", reason="duplicate")])

    body = get(client, analytics_settings, "hotspots", token=ADMIN, scope="estate:NS01", days=30).json
    assert body["total"] == 4 and body["days"] == 30 and body["threshold_days"] == 30
    assert [(item["building"], item["subcategory"], item["count"]) for item in body["items"]] == [("3", "elevator", 3), ("7", "noise", 1)]
    lift = body["items"][0]
    assert lift["share"] == 0.75 and lift["category"] == "facility" and lift["reaches_threshold"] is True
    assert lift["last_detected_at"] is not None
    assert body["items"][1]["share"] == 0.25 and body["items"][1]["last_detected_at"] is None
    week = get(client, analytics_settings, "hotspots", token=ADMIN, scope="estate:NS01", days=7, limit=1).json
    assert week["total"] == 3 and [(item["subcategory"], item["count"], item["reaches_threshold"]) for item in week["items"]] == [
        ("elevator", 2, False)
    ]


def test_cancelled_complaints_count_in_volume_but_not_in_rates(client: FlaskClient, analytics_settings: Settings, feed: Feed) -> None:
    now = utc_now()
    kept, dropped = ComplaintStory(received_at=now - timedelta(days=2)), ComplaintStory(received_at=now - timedelta(days=2))
    feed(
        [
            *kept.lifecycle()[:5],
            dropped.received(),
            dropped.classified(),
            dropped.work_order("complaint.cancelled", seq=3, seconds=120, status="cancelled", reason="duplicate"),
        ]
    )
    body = get(client, analytics_settings, "kpis", token=ADMIN, scope="estate:NS01").json
    assert body["volume"]["total"] == 2 and body["volume"]["cancelled"] == 1
    assert body["resolution_rate"] == 1.0


def test_the_openapi_document_lists_the_analytics_paths(client: FlaskClient) -> None:
    paths = client.get("/openapi.json").json["paths"]
    assert {"/api/v1/analytics/kpis", "/api/v1/analytics/hotspots"} <= set(paths)


def test_scopes_parse_into_level_and_id() -> None:
    assert parse_scope("estate:NS01") == Scope("estate", "NS01")
    assert parse_scope("region:R-1.a") == Scope("region", "R-1.a")
    assert Scope("group", "G1").query(group_id="G1") == {"group_id": "G1"}
    assert Scope("region", "R1").query(group_id="G2") == {"group_id": "G2", "region_id": "R1"}
    assert Scope("estate", "NS01").query(group_id="G1") == {"group_id": "G1", "estate_id": "NS01"}
    assert Scope("region", "R1").key(group_id="G2") == "region:G2/R1"
    assert str(Scope("estate", "NS01")) == "estate:NS01"
    with pytest.raises(InvalidScope):
        parse_scope("estates:NS01")
