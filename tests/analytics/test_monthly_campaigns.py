"""The monthly review's campaign results in JSON, CSV and HTML: each campaign's responses, response rate, overall mean, NPS and
dimensions to fix first beside last month's, a month without campaigns, and the hotspot threshold in force."""

from __future__ import annotations

import csv
import io
import re
import statistics
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from flask.testing import FlaskClient

from propcare_shared.events.envelope import Event
from propcare_shared.settings import Settings
from propcare_shared.testing import bearer
from tests.analytics.by_hand import expected, hand_nps
from tests.analytics.campaign_factories import QUESTIONNAIRE, CampaignStory, at
from tests.analytics.factories import ComplaintStory, estate_upserted

Feed = Callable[[Iterable[Event]], None]
ADMIN = {"role": "group_admin", "group_id": "G1"}


def report(client: FlaskClient, settings: Settings, **query: Any) -> Any:
    return client.get("/api/v1/analytics/reports/monthly", query_string=query, headers=bearer(settings, **ADMIN))


@pytest.fixture
def city(feed: Feed) -> dict[str, Any]:
    """NS01's campaigns A (October into November), B (November) and D (closing in November, unanswered); FT01's E."""
    feed([estate_upserted("NS01", region_id="R1"), estate_upserted("FT01", region_id="R2")])
    feed(e for c in [ComplaintStory(received_at=at(2025, 11, d)) for d in (5, 9)] for e in (c.received(), c.classified()))
    a = CampaignStory(sample_size=100, opens_at=at(2025, 10, 20), closes_at=at(2025, 11, 10))
    b = CampaignStory(sample_size=50, opens_at=at(2025, 11, 15), closes_at=at(2025, 11, 25))
    d = CampaignStory(sample_size=40, opens_at=at(2025, 11, 1), closes_at=at(2025, 11, 20))
    e = CampaignStory(estate_id="FT01", region_id="R2", opens_at=at(2025, 11, 1), closes_at=at(2025, 11, 20))
    answers = {
        "a_october": a.generated(30, seed=1, start=at(2025, 10, 21), days=7),
        "a_november": a.generated(20, seed=2, start=at(2025, 11, 2), days=6),
        "b": b.generated(12, seed=3, start=at(2025, 11, 15), days=9),
        "e": e.generated(8, seed=4, start=at(2025, 11, 3), days=5),
    }
    feed([a.started(), b.started(), d.started(), e.started()])
    feed(event for events in answers.values() for event in events)
    feed([a.closed(responded=50), d.closed(responded=0)])
    return {"A": a, "B": b, "D": d, "E": e, **{name: [event.data for event in events] for name, events in answers.items()}}


def fix_first(answers: list[dict[str, Any]]) -> list[str]:
    return [dimension for dimension, quadrant in expected(answers, QUESTIONNAIRE)["priority"] if quadrant == "fix_first"][:3]


def test_the_json_review_shows_each_campaign_beside_last_month(client: FlaskClient, analytics_settings: Settings, city: dict) -> None:
    response = report(client, analytics_settings, scope="estate:NS01", month="2025-11")
    assert response.status_code == 200, response.json
    body = response.json
    assert body["satisfaction"] == {"status": "ok", "note": None}
    this, last = body["this_month"]["satisfaction"], body["last_month"]["satisfaction"]
    a, b, d = (city[name].campaign_id for name in "ABD")
    rows = {row["campaign_id"]: row for row in this["campaigns"]}
    assert set(rows) == {a, b, d}  # E is FT01's
    november = city["a_november"] + city["b"]
    assert this["responses"] == 32
    assert this["overall_mean"] == pytest.approx(statistics.fmean(x["overall"] for x in november))
    assert this["nps"] == pytest.approx(hand_nps([x["recommend"] for x in november]))
    assert (rows[a]["responses"], rows[a]["responded"], rows[a]["sample_size"]) == (20, 50, 100)
    assert rows[a]["response_rate"] == pytest.approx(0.5)
    assert rows[a]["nps"] == pytest.approx(hand_nps([x["recommend"] for x in city["a_november"]]))
    assert rows[a]["overall_mean"] == pytest.approx(statistics.fmean(x["overall"] for x in city["a_november"]))
    assert rows[a]["fix_first"] == fix_first(city["a_november"]) and rows[a]["fix_first"]
    assert rows[b]["response_rate"] == pytest.approx(12 / 50) and rows[b]["fix_first"] == fix_first(city["b"])
    assert {key: rows[d][key] for key in ("responses", "response_rate", "overall_mean", "nps", "fix_first")} == {
        "responses": 0,
        "response_rate": 0.0,
        "overall_mean": None,
        "nps": None,
        "fix_first": [],
    }
    [october] = last["campaigns"]
    assert (october["campaign_id"], october["responses"], october["response_rate"]) == (a, 30, pytest.approx(0.3))

    mom = {(row["section"], row["key"]): row for row in body["month_over_month"]}
    assert mom[("campaign", f"{a}.responses")] == {
        "section": "campaign",
        "key": f"{a}.responses",
        "this_month": 20,
        "previous_month": 30,
        "change": -10,
    }
    assert mom[("campaign", f"{a}.response_rate")]["change"] == pytest.approx(0.2)
    nps_row = mom[("campaign", f"{a}.nps")]
    assert nps_row["change"] == pytest.approx(nps_row["this_month"] - hand_nps([x["recommend"] for x in city["a_october"]]))
    assert mom[("campaign", f"{b}.nps")]["previous_month"] is None and mom[("campaign", f"{b}.nps")]["change"] is None
    assert mom[("satisfaction", "responses")] == {
        "section": "satisfaction",
        "key": "responses",
        "this_month": 32,
        "previous_month": 30,
        "change": 2,
    }
    assert mom[("satisfaction", "campaigns")]["this_month"] == 3
    assert mom[("campaign", f"{a}.fix_first")]["this_month"] == " ".join(fix_first(city["a_november"]))


def test_a_group_review_counts_every_estates_campaigns(client: FlaskClient, analytics_settings: Settings, city: dict) -> None:
    body = report(client, analytics_settings, scope="group:G1", month="2025-11").json
    assert body["this_month"]["satisfaction"]["responses"] == 40
    assert city["E"].campaign_id in {row["campaign_id"] for row in body["this_month"]["satisfaction"]["campaigns"]}


def test_a_month_without_campaigns_says_so(client: FlaskClient, analytics_settings: Settings, city: dict) -> None:
    body = report(client, analytics_settings, scope="estate:NS01", month="2025-06").json
    assert body["satisfaction"]["status"] == "no_campaign_data" and "No campaign results" in body["satisfaction"]["note"]
    assert body["this_month"]["satisfaction"] == {
        "status": "no_campaign_data",
        "responses": 0,
        "overall_mean": None,
        "nps": None,
        "campaigns": [],
    }
    mom = {(row["section"], row["key"]): row for row in body["month_over_month"]}
    assert mom[("satisfaction", "nps")] == {
        "section": "satisfaction",
        "key": "nps",
        "this_month": None,
        "previous_month": None,
        "change": None,
    }
    page = report(client, analytics_settings, scope="estate:NS01", month="2025-06", format="html").get_data(as_text=True)
    assert "本月无满意度调查结果 No campaign results this month." in page


def test_the_csv_has_a_row_per_campaign_figure(client: FlaskClient, analytics_settings: Settings, city: dict) -> None:
    raw = report(client, analytics_settings, scope="estate:NS01", month="2025-11", format="csv").get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(raw)))
    value = {(row[1], row[2], row[3]): row[4] for row in rows[1:]}
    a, d = city["A"].campaign_id, city["D"].campaign_id

    def figure(measure: str, dimension: str) -> list[str]:
        return [
            value[("2025-11", measure, dimension)],
            value[("2025-10", measure, dimension)],
            value[("2025-11", measure + ".change", dimension)],
        ]

    assert figure("campaign", f"{a}.responses") == ["20", "30", "-10"]
    assert figure("campaign", f"{a}.response_rate")[:2] == ["0.5", "0.3"]
    assert float(figure("campaign", f"{a}.nps")[0]) == pytest.approx(hand_nps([x["recommend"] for x in city["a_november"]]), abs=1e-3)
    assert figure("campaign", f"{d}.nps") == ["", "", ""]
    assert figure("satisfaction", "responses") == ["32", "30", "2"]


def test_the_html_shows_the_figures_of_the_json(client: FlaskClient, analytics_settings: Settings, city: dict) -> None:
    body = report(client, analytics_settings, scope="estate:NS01", month="2025-11").json
    page = report(client, analytics_settings, scope="estate:NS01", month="2025-11", format="html").get_data(as_text=True)
    cells = dict(re.findall(r'<td class="num" data-key="([^"]+)" data-col="this">([^<]*)</td>', page))
    a = city["A"].campaign_id
    rows = {(row["section"], row["key"]): row["this_month"] for row in body["month_over_month"]}
    assert cells[f"campaign/{a}.responses"] == "20"
    assert cells[f"campaign/{a}.response_rate"] == "50.0%"
    assert cells[f"campaign/{a}.nps"] == f"{rows[('campaign', f'{a}.nps')]:.1f}"
    assert cells[f"campaign/{a}.overall_mean"] == f"{rows[('campaign', f'{a}.overall_mean')]:.2f}"
    assert cells["satisfaction/responses"] == "32"
    assert "各调查净推荐值 NPS by campaign" in page and page.count("<svg") >= 2
    assert f'data-key="campaign/{a}.responses" data-col="change">-10<' in page


def test_the_review_names_the_hotspot_threshold_in_force(client: FlaskClient, analytics_settings: Settings, city: dict) -> None:
    before = report(client, analytics_settings, scope="estate:NS01", month="2025-11").json
    assert (before["this_month"]["hotspots"][0]["threshold"], before["this_month"]["hotspots"][0]["reaches_threshold"]) == (3, False)
    assert (
        client.put(
            "/api/v1/analytics/hotspot-settings/estate:NS01", json={"threshold": 2}, headers=bearer(analytics_settings, **ADMIN)
        ).status_code
        == 201
    )
    after = report(client, analytics_settings, scope="estate:NS01", month="2025-11").json
    assert (after["this_month"]["hotspots"][0]["threshold"], after["this_month"]["hotspots"][0]["reaches_threshold"]) == (2, True)
    assert after["hotspot_setting"] == {"threshold": 2, "days": 30, "inherited_from": {"threshold": "estate:NS01", "days": "default"}}
    assert "阈值 Threshold: 2" in report(client, analytics_settings, scope="estate:NS01", month="2025-11", format="html").get_data(
        as_text=True
    )
