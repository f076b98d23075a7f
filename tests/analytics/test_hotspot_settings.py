"""Hotspot settings per scope: the inheritance rule, the API (who may set what, bad input), and detection, the hotspots read and
the monthly review using the setting in force at each complaint's estate."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from analytics.domain.hotspot_settings import HotspotSetting, effective
from analytics.hotspot_store import HOTSPOT_SETTINGS
from propcare_shared.context import ServiceContext
from propcare_shared.events.envelope import Event
from propcare_shared.settings import Settings
from propcare_shared.testing import bearer
from tests.analytics.factories import ComplaintStory, estate_upserted, utc_now

Feed = Callable[[Iterable[Event]], None]
ADMIN = {"role": "group_admin", "group_id": "G1"}
PATH = "/api/v1/analytics/hotspot-settings"


def test_the_narrowest_scope_wins_figure_by_figure() -> None:
    chain = ["group:G1", "region:G1/R1", "estate:NS01"]
    assert effective(chain, {}) == HotspotSetting(threshold=3, days=30, threshold_from="default", days_from="default")
    overrides = {"group:G1": {"threshold": 5, "days": 14}, "region:G1/R1": {"days": 7}, "estate:NS01": {"threshold": 2}}
    setting = effective(chain, overrides)
    assert (setting.threshold, setting.threshold_from, setting.days, setting.days_from) == (2, "estate:NS01", 7, "region:G1/R1")
    assert effective(chain[:2], overrides).threshold == 5
    assert effective(["group:G1", "region:G1/R2", "estate:FT01"], overrides).days == 14


@pytest.fixture
def estates(feed: Feed) -> None:
    feed([estate_upserted("NS01", region_id="R1"), estate_upserted("NS02", region_id="R1"), estate_upserted("FT01", region_id="R2")])


def put(client: FlaskClient, settings: Settings, scope: str, body: Any, token: dict[str, Any] | None = None) -> Any:
    return client.put(f"{PATH}/{scope}", json=body, headers=bearer(settings, **(token or ADMIN)))


def read(client: FlaskClient, settings: Settings, scope: str, token: dict[str, Any] | None = None) -> Any:
    return client.get(f"{PATH}/{scope}", headers=bearer(settings, **(token or ADMIN)))


def test_settings_are_inherited_and_each_scope_keeps_its_own(client: FlaskClient, analytics_settings: Settings, estates: None) -> None:
    assert read(client, analytics_settings, "estate:NS01").json == {
        "scope": "estate:NS01",
        "threshold": 3,
        "days": 30,
        "inherited_from": {"threshold": "default", "days": "default"},
        "own": {"threshold": None, "days": None},
    }
    created = put(client, analytics_settings, "group:G1", {"threshold": 5, "days": 14})
    assert created.status_code == 201, created.json
    region = put(client, analytics_settings, "region:R1", {"days": 7}, {"role": "regional_ops", "regions": ["R1"]})
    assert region.status_code == 201, region.json
    assert region.json["inherited_from"] == {"threshold": "group:G1", "days": "region:R1"}
    estate = put(client, analytics_settings, "estate:NS01", {"threshold": 2}, {"role": "manager", "estates": ["NS01"]})
    assert estate.status_code == 201 and (estate.json["threshold"], estate.json["days"]) == (2, 7)
    replaced = put(client, analytics_settings, "estate:NS01", {"threshold": 4}, {"role": "manager", "estates": ["NS01"]})
    assert replaced.status_code == 200 and replaced.json["own"] == {"threshold": 4, "days": None}
    assert (
        read(client, analytics_settings, "estate:NS02").json["threshold"],
        read(client, analytics_settings, "estate:FT01").json["days"],
    ) == (5, 14)
    deleted = client.delete(f"{PATH}/estate:NS01", headers=bearer(analytics_settings, **ADMIN))
    assert deleted.status_code == 200 and deleted.json["threshold"] == 5 and deleted.json["own"] == {"threshold": None, "days": None}


@pytest.mark.parametrize(
    ("token", "scope", "status"),
    [
        ({"role": "manager", "estates": ["NS01"]}, "region:R1", 403),
        ({"role": "manager", "estates": ["NS01"]}, "estate:NS02", 403),
        ({"role": "regional_ops", "regions": ["R1"]}, "group:G1", 403),
        ({"role": "regional_ops", "regions": ["R1"]}, "estate:FT01", 403),
        ({"role": "supervisor", "estates": ["NS01"]}, "estate:NS01", 403),
        ({"role": "service"}, "estate:NS01", 403),
        ({"role": "group_admin", "group_id": "G2"}, "estate:NS01", 404),
        ({"role": "group_admin", "group_id": "G2"}, "group:G1", 404),
        (ADMIN, "estate:NOPE", 404),
        (ADMIN, "region:R9", 404),
    ],
)
def test_only_the_scopes_owner_may_set_it_and_a_refusal_stores_nothing(
    client: FlaskClient, analytics_settings: Settings, estates: None, context: ServiceContext, token: dict, scope: str, status: int
) -> None:
    response = put(client, analytics_settings, scope, {"threshold": 2}, token)
    assert response.status_code == status, response.json
    assert response.mimetype == "application/problem+json"
    assert context.database[HOTSPOT_SETTINGS].count_documents({}) == 0


@pytest.mark.parametrize(
    ("scope", "body", "field"),
    [
        ("estate:NS01", {"threshold": 1}, "threshold"),
        ("estate:NS01", {"threshold": "3"}, "threshold"),
        ("estate:NS01", {"threshold": 2.5}, "threshold"),
        ("estate:NS01", {"days": 0}, "days"),
        ("estate:NS01", {"days": 91}, "days"),
        ("estate:NS01", {}, "threshold"),
        ("estate:NS01", {"threshold": 3, "colour": "red"}, "colour"),
        ("estate", {"threshold": 3}, "scope"),
        ("town:SZ", {"threshold": 3}, "scope"),
    ],
)
def test_bad_settings_are_a_422_and_store_nothing(
    client: FlaskClient, analytics_settings: Settings, estates: None, context: ServiceContext, scope: str, body: dict, field: str
) -> None:
    response = put(client, analytics_settings, scope, body)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]
    assert context.database[HOTSPOT_SETTINGS].count_documents({}) == 0


def announced(context: ServiceContext) -> list[dict[str, Any]]:
    return [document["event"] for document in context.database["outbox"].find({"event.type": "hotspot.detected"})]


def arrive(feed: Feed, complaints: Iterable[ComplaintStory]) -> None:
    feed(event for complaint in complaints for event in (complaint.received(), complaint.classified()))


def test_the_estates_threshold_decides_what_is_detected(
    client: FlaskClient, analytics_settings: Settings, estates: None, feed: Feed, context: ServiceContext
) -> None:
    now = utc_now()
    assert put(client, analytics_settings, "estate:NS01", {"threshold": 2}).status_code == 201
    arrive(feed, [ComplaintStory(received_at=now - timedelta(days=d)) for d in (4, 3)])
    arrive(feed, [ComplaintStory(received_at=now - timedelta(days=d), estate_id="NS02") for d in (4, 3)])
    [event] = announced(context)
    assert event["estate_id"] == "NS01" and (event["data"]["threshold"], event["data"]["days"], event["data"]["count"]) == (2, 30, 2)

    # R1's window becomes 7 days: three complaints over ten days (never three within 7) make no hotspot in NS02, but do in
    # FT01 under the default; NS01 keeps its own threshold of 2, so two complaints five days apart make one there
    assert put(client, analytics_settings, "region:R1", {"days": 7}).status_code == 201
    spread = [now - timedelta(days=d) for d in (10, 5, 1)]
    arrive(feed, [ComplaintStory(received_at=moment, building="7") for moment in spread[:2]])
    arrive(feed, [ComplaintStory(received_at=moment, estate_id="NS02", building="8") for moment in spread])
    arrive(feed, [ComplaintStory(received_at=moment, estate_id="FT01", region_id="R2", building="8") for moment in spread])
    events = announced(context)
    assert [(e["estate_id"], e["data"]["building"], e["data"]["threshold"], e["data"]["days"]) for e in events[1:]] == [
        ("NS01", "7", 2, 7),
        ("FT01", "8", 3, 30),
    ]
    assert [document["threshold"] for document in context.database["hotspots"].find({"estate_id": "FT01"})] == [3]

    body = client.get(
        "/api/v1/analytics/hotspots", query_string={"scope": "region:R1", "days": 30}, headers=bearer(analytics_settings, **ADMIN)
    ).json
    assert (body["threshold"], body["threshold_days"]) == (3, 7)
    items = {(item["estate_id"], item["building"]): item for item in body["items"]}
    assert (items[("NS02", "3")]["count"], items[("NS02", "3")]["threshold"], items[("NS02", "3")]["reaches_threshold"]) == (2, 3, False)
    assert (items[("NS01", "3")]["threshold"], items[("NS01", "3")]["reaches_threshold"]) == (2, True)
    assert items[("NS02", "8")]["reaches_threshold"] is True  # three within 30 days of the read, though never within 7
