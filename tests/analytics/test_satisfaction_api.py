"""GET /api/v1/analytics/satisfaction: campaign answers delivered as events through the real handler, figures checked
against values computed here (statistics.fmean, statistics.correlation, a hand count of NPS), scope, and bad input."""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from flask.testing import FlaskClient

from analytics.store import CAMPAIGN_ANSWERS, CAMPAIGNS
from propcare_shared.context import ServiceContext
from propcare_shared.events.envelope import Event
from propcare_shared.settings import Settings
from propcare_shared.testing import bearer, wait_for
from tests.analytics.by_hand import expected, hand_nps
from tests.analytics.campaign_factories import QUESTIONNAIRE, CampaignStory, at
from tests.analytics.factories import estate_upserted

Feed = Callable[[Iterable[Event]], None]
ADMIN = {"role": "group_admin", "group_id": "G1"}


def get(client: FlaskClient, settings: Settings, *, token: dict[str, Any] | None = None, **query: Any) -> Any:
    return client.get("/api/v1/analytics/satisfaction", query_string=query, headers=bearer(settings, **(token or ADMIN)))


@pytest.fixture
def campaigns(feed: Feed) -> dict[str, Any]:
    """C1 in NS01 (R1) with 320 answers, 40 of them delivered before its campaign.started; C2 in FT01 (R2); C3 without answers."""
    feed([estate_upserted("NS01", region_id="R1"), estate_upserted("FT01", region_id="R2")])
    c1 = CampaignStory()
    c2 = CampaignStory(estate_id="FT01", region_id="R2", opens_at=at(2025, 10, 20), closes_at=at(2025, 11, 10))
    c2.dimensions = [{"id": "facility_maintenance", "questions": ["elevator", "water_power", "public_facilities", "parking"]}]
    c3 = CampaignStory(opens_at=at(2025, 11, 20), closes_at=at(2025, 12, 5))
    answers1 = c1.generated(320, seed=7)
    answers2 = [
        c2.response(
            answers={"elevator": 2, "parking": 1 + i % 5}, overall=3 + i % 6, recommend=i % 11, answered_at=at(2025, 10, 25 + i % 5, 3)
        )
        for i in range(30)
    ] + [c2.response(answers={"elevator": 4}, overall=8, recommend=9, answered_at=at(2025, 11, 2, 3)) for _ in range(10)]
    feed(answers1[:40])  # answers that arrive before their campaign is known
    feed([c1.started(), c2.started(), c3.started()])
    feed(answers1[40:] + answers2)
    feed([c1.closed(responded=320), c2.closed(responded=40)])
    return {"C1": c1, "C2": c2, "C3": c3, "answers1": [e.data for e in answers1], "answers2": [e.data for e in answers2]}


def test_a_campaigns_figures_match_those_computed_by_hand(client: FlaskClient, analytics_settings: Settings, campaigns: dict) -> None:
    c1 = campaigns["C1"]
    response = get(client, analytics_settings, scope="estate:NS01", campaign_id=c1.campaign_id)
    assert response.status_code == 200, response.json
    body, want = response.json, expected(campaigns["answers1"], QUESTIONNAIRE)
    assert body["responses"] == 320 and body["campaigns"] == [c1.campaign_id]
    assert body["overall_mean"] == pytest.approx(want["overall_mean"])
    assert body["nps"] == pytest.approx(want["nps"])
    assert (body["promoters"], body["detractors"]) == (want["promoters"], want["detractors"])
    assert body["promoters"] + body["passives"] + body["detractors"] == 320
    assert [row["id"] for row in body["dimensions"]] == [d["id"] for d in QUESTIONNAIRE]
    for row in body["dimensions"]:
        assert row["mean"] == pytest.approx(want["dimensions"][row["id"]]["mean"])
        assert row["weight"] == pytest.approx(want["dimensions"][row["id"]]["weight"])
    assert body["complaint_handling_r"] == pytest.approx(want["complaint_handling_r"])
    assert [(row["dimension"], row["quadrant"]) for row in body["priority_matrix"]] == want["priority"]
    assert body["priority_matrix"][0] == {
        "dimension": "facility_maintenance",
        "quadrant": "fix_first",
        "weight": pytest.approx(want["dimensions"]["facility_maintenance"]["weight"]),
        "score": pytest.approx(want["dimensions"]["facility_maintenance"]["mean"]),
    }


def test_cross_tables_report_small_cells_as_too_small(client: FlaskClient, analytics_settings: Settings, campaigns: dict) -> None:
    body = get(client, analytics_settings, scope="estate:NS01", campaign_id=campaigns["C1"].campaign_id).json
    answers = campaigns["answers1"]
    tenants = [a for a in answers if a["household_type"] == "tenant"]
    cell = body["cross_tables"]["household_type"]["tenant"]
    assert cell["n"] == len(tenants) and cell["too_small"] is False
    assert cell["overall_mean"] == pytest.approx(statistics.fmean(a["overall"] for a in tenants))
    assert cell["nps"] == pytest.approx(hand_nps([a["recommend"] for a in tenants]))
    assert body["cross_tables"]["household_type"]["other"] == {"n": 3, "too_small": True, "overall_mean": None, "nps": None}
    assert body["cross_tables"]["age_band"]["unknown"] == {"n": 2, "too_small": True, "overall_mean": None, "nps": None}
    phone = [a for a in answers if a["channel"] == "phone"]
    assert body["cross_tables"]["channel"]["phone"]["nps"] == pytest.approx(hand_nps([a["recommend"] for a in phone]))
    assert sum(cell["n"] for cell in body["cross_tables"]["channel"].values()) == 320


def test_the_same_events_again_or_reordered_change_nothing(
    client: FlaskClient, analytics_settings: Settings, campaigns: dict, feed: Feed, context: ServiceContext
) -> None:
    c1 = campaigns["C1"]
    before = get(client, analytics_settings, scope="estate:NS01", campaign_id=c1.campaign_id).json
    stored = context.database[CAMPAIGNS].find_one({"_id": c1.campaign_id})
    # the same facts under new event ids, in reverse order: closed before started, answers again
    again = [c1.closed(responded=320), c1.started()]
    repeats = [
        c1.response(
            **{
                k: a[k]
                for k in ("answers", "overall", "recommend", "answered_at", "household_type", "age_band", "channel", "invitation_id")
            }
        )
        for a in campaigns["answers1"][:25]
    ]
    random.Random(3).shuffle(repeats)
    feed(again + repeats)
    after = get(client, analytics_settings, scope="estate:NS01", campaign_id=c1.campaign_id).json
    assert {k: v for k, v in after.items() if k != "generated_at"} == {k: v for k, v in before.items() if k != "generated_at"}
    assert context.database[CAMPAIGN_ANSWERS].count_documents({"campaign_id": c1.campaign_id}) == 320
    record = context.database[CAMPAIGNS].find_one({"_id": c1.campaign_id})
    assert (record["started_at"], record["closed_at"], record["responded"]) == (stored["started_at"], stored["closed_at"], 320)
    assert record["dimensions"] == QUESTIONNAIRE


def test_answers_keep_no_household_and_no_comment(context: ServiceContext, campaigns: dict) -> None:
    document = context.database[CAMPAIGN_ANSWERS].find_one({"campaign_id": campaigns["C1"].campaign_id})
    assert set(document) == {
        "_id", "campaign_id", "channel", "source", "household_type", "age_band", "answers", "overall", "recommend",
        "answered_at", "rank", "group_id", "region_id", "estate_id",
    }  # fmt: skip


def test_a_campaign_without_answers_has_null_figures(client: FlaskClient, analytics_settings: Settings, campaigns: dict) -> None:
    response = get(client, analytics_settings, scope="estate:NS01", campaign_id=campaigns["C3"].campaign_id)
    assert response.status_code == 200, response.json
    body = response.json
    assert (body["responses"], body["overall_mean"], body["nps"], body["complaint_handling_r"]) == (0, None, None, None)
    assert (body["promoters"], body["passives"], body["detractors"]) == (0, 0, 0)
    assert [(row["id"], row["mean"], row["weight"]) for row in body["dimensions"]] == [(d["id"], None, None) for d in QUESTIONNAIRE]
    assert {row["quadrant"] for row in body["priority_matrix"]} == {"unrated"}
    assert body["cross_tables"] == {"household_type": {}, "age_band": {}, "channel": {}}
    assert body["by_month"] == []


def test_a_period_across_campaigns_merges_dimensions_and_goes_month_by_month(
    client: FlaskClient, analytics_settings: Settings, campaigns: dict
) -> None:
    response = get(client, analytics_settings, scope="group:G1", **{"from": "2025-10-01", "to": "2025-11-30"})
    assert response.status_code == 200, response.json
    body = response.json
    everything = campaigns["answers1"] + campaigns["answers2"]
    assert body["responses"] == 360
    assert body["nps"] == pytest.approx(hand_nps([a["recommend"] for a in everything]))
    assert sorted(body["campaigns"]) == sorted([campaigns["C1"].campaign_id, campaigns["C2"].campaign_id])
    # C2 opened first, so its facility_maintenance (with parking) leads; the other dimensions follow C1's order
    merged = [
        {"id": "facility_maintenance", "questions": ["elevator", "water_power", "public_facilities", "parking"]},
        *[d for d in QUESTIONNAIRE if d["id"] != "facility_maintenance"],
    ]
    want = expected(everything, merged)
    assert [row["id"] for row in body["dimensions"]] == [d["id"] for d in merged]
    for row in body["dimensions"]:
        assert row["mean"] == pytest.approx(want["dimensions"][row["id"]]["mean"])
        assert row["weight"] == pytest.approx(want["dimensions"][row["id"]]["weight"])
    october = [a for a in campaigns["answers2"] if a["answered_at"] < at(2025, 10, 31, 16)]
    november = [a for a in everything if a["answered_at"] >= at(2025, 10, 31, 16)]
    assert body["by_month"] == [
        {"month": "2025-10", "responses": 30, "overall_mean": pytest.approx(statistics.fmean(a["overall"] for a in october)),
         "nps": pytest.approx(hand_nps([a["recommend"] for a in october]))},
        {"month": "2025-11", "responses": len(november), "overall_mean": pytest.approx(statistics.fmean(a["overall"] for a in november)),
         "nps": pytest.approx(hand_nps([a["recommend"] for a in november]))},
    ]  # fmt: skip
    assert len(october) == 30
    # complaint handling only in C1's questionnaire: its r is over C1's answers
    assert body["complaint_handling_r"] == pytest.approx(expected(campaigns["answers1"], QUESTIONNAIRE)["complaint_handling_r"])


def test_a_month_in_a_region_counts_only_its_estates(client: FlaskClient, analytics_settings: Settings, campaigns: dict) -> None:
    body = get(client, analytics_settings, scope="region:R2", month="2025-10").json
    assert (body["responses"], body["campaigns"]) == (30, [campaigns["C2"].campaign_id])
    assert [row["month"] for row in body["by_month"]] == ["2025-10"]
    empty = get(client, analytics_settings, scope="region:R2", month="2025-06").json
    assert (empty["responses"], empty["nps"], empty["by_month"]) == (
        0,
        None,
        [{"month": "2025-06", "responses": 0, "overall_mean": None, "nps": None}],
    )


SCOPE_CASES = [
    ({"role": "manager", "estates": ["FT01"]}, "estate:NS01", "C1", 403),
    ({"role": "regional_ops", "regions": ["R1"]}, "region:R1", "C2", 403),
    ({"role": "group_admin", "group_id": "G2"}, "group:G2", "C1", 404),
    (ADMIN, "estate:NS01", "C2", 404),
    (ADMIN, "group:G1", "nope", 404),
    ({"role": "manager", "estates": ["NS01"]}, "estate:NS01", "C1", 200),
    ({"role": "regional_ops", "regions": ["R2"]}, "region:R2", "C2", 200),
]


def test_a_campaign_outside_the_callers_scope_is_refused(client: FlaskClient, analytics_settings: Settings, campaigns: dict) -> None:
    for token, scope, campaign, status in SCOPE_CASES:
        campaign_id = campaigns[campaign].campaign_id if campaign in campaigns else campaign
        response = get(client, analytics_settings, token=token, scope=scope, campaign_id=campaign_id)
        assert response.status_code == status, (token, scope, campaign, response.json)
        if status != 200:
            assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"month": "2025-11", "from": "2025-11-01"}, "month"),
        ({"from": "2025-11-20", "to": "2025-11-01"}, "from"),
        ({"month": "2025-13"}, "month"),
        ({"month": "2099-01"}, "month"),
        ({"scope": "estate"}, "scope"),
        ({"scope": "city:SZ"}, "scope"),
        ({"campaign_id": ""}, "campaign_id"),
        ({"from": "yesterday"}, "from"),
    ],
)
def test_bad_input_is_a_422(client: FlaskClient, analytics_settings: Settings, query: dict, field: str) -> None:
    response = get(client, analytics_settings, **{"scope": "group:G1", **query})
    assert response.status_code == 422, response.json
    assert response.mimetype == "application/problem+json"
    assert field in str(response.json["errors"])


def test_satisfaction_needs_a_token(client: FlaskClient) -> None:
    assert client.get("/api/v1/analytics/satisfaction", query_string={"scope": "group:G1"}).status_code == 401


def test_the_queue_is_bound_to_campaign_events_on_the_real_broker(
    worker: Any, publisher: Any, client: FlaskClient, context: ServiceContext, analytics_settings: Settings
) -> None:
    campaign = CampaignStory(estate_id="NS07", region_id="R7")
    answers = campaign.generated(6, seed=9)
    for event in [estate_upserted("NS07", region_id="R7"), *answers, campaign.started()]:
        publisher.publish(event)
    wait_for(lambda: context.database[CAMPAIGN_ANSWERS].count_documents({}) == 6, timeout=20, message="answers kept")
    wait_for(lambda: context.database[CAMPAIGNS].count_documents({}) == 1, timeout=20, message="campaign kept")
    body = get(client, analytics_settings, scope="estate:NS07", campaign_id=campaign.campaign_id).json
    assert body["responses"] == 6 and body["nps"] == pytest.approx(hand_nps([event.data["recommend"] for event in answers]))
    assert [row["id"] for row in body["dimensions"]] == [d["id"] for d in QUESTIONNAIRE]
