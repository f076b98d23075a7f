"""The per-campaign monthly counters (``domain.campaign_months``) answer exactly what a scan of the answers answers.

Two ways in: counters rebuilt from seeded campaigns and answers (the benchmark's generator), and
counters kept by the projection from events delivered out of order, twice, under a second event id,
and answers that arrive before their campaign is known. Each month's campaign results (responses,
response rate, overall mean, NPS, ``fix_first``, the totals) are compared, with ``==``, for an estate,
a region and the group with ``reports.month_results_scanned`` (``campaign_figures.month_results`` of
the month's answers).
"""

from __future__ import annotations

import dataclasses
import random
import uuid
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

import pytest

from analytics import reports
from analytics.domain import campaign_figures, campaign_months, monthly
from analytics.store import CAMPAIGN_MONTHS, AnalyticsStore
from propcare_shared.context import ServiceContext
from propcare_shared.events.envelope import Event
from propcare_shared.events.outbox import AlreadyHandled
from tests.analytics.campaign_factories import QUESTIONNAIRE, CampaignStory, at
from tests.bench.analytics_scale import GROUP, NOW, estate_id, region_of, seed_campaigns

Feed = Callable[[Iterable[Event]], None]


@pytest.fixture
def store(context: ServiceContext) -> AnalyticsStore:
    return AnalyticsStore(context.database)


def scopes(estate: str, region: str, group: str) -> dict[str, dict[str, Any]]:
    return {
        "estate": {"group_id": group, "estate_id": estate},
        "region": {"group_id": group, "region_id": region},
        "group": {"group_id": group},
    }


def both(store: AnalyticsStore, query: dict[str, Any], month: monthly.Month) -> tuple[dict[str, Any], dict[str, Any]]:
    return reports.month_results(store, query=query, month=month), reports.month_results_scanned(store, query=query, month=month)


def test_counters_rebuilt_from_seeded_answers_equal_the_answer_scan(store: AnalyticsStore) -> None:
    seed_campaigns(store.database, seed=3, estates=range(24), answers_per_campaign=40)
    assert store.rebuild_campaign_months() > 0
    month = monthly.Month(2026, 4)
    compared = fixed = 0
    for _ in range(12):
        for level, query in scopes(estate_id(5), region_of(5), GROUP).items():
            counted, scanned = both(store, query, month)
            assert counted == scanned, (level, str(month))
            compared += scanned["responses"]
            fixed += sum(1 for row in scanned["campaigns"] if row["fix_first"])
        month = month.previous()
    assert compared > 1000
    assert fixed > 0  # fix_first was computed, not only empty lists compared


def normalised(store: AnalyticsStore) -> dict[str, Any]:
    """The buckets without the zero counters and emptied maps that ``$inc`` leaves and a rebuild never writes."""

    def prune(node: Any) -> Any:
        if isinstance(node, dict):
            kept = {name: prune(value) for name, value in node.items()}
            return {name: value for name, value in kept.items() if value not in (0, {})}
        return node

    return {bucket["_id"]: prune(bucket) for bucket in store.database[CAMPAIGN_MONTHS].find()}


def test_counters_kept_by_the_projection_under_duplicates_disorder_and_late_campaigns(store: AnalyticsStore, feed: Feed) -> None:
    rng = random.Random(8)
    early = CampaignStory(sample_size=60, opens_at=at(2025, 10, 20), closes_at=at(2025, 11, 12))
    late = CampaignStory(estate_id="FT01", region_id="R2", sample_size=30, opens_at=at(2025, 11, 2), closes_at=at(2025, 11, 28))
    other = CampaignStory(estate_id="NS02", sample_size=0, opens_at=at(2025, 11, 5), closes_at=at(2025, 12, 3))
    unknown = CampaignStory(estate_id="NS02", opens_at=at(2025, 11, 6))  # its campaign.started never arrives
    answers = [
        *early.generated(25, seed=1, start=at(2025, 10, 21), days=20),
        *late.generated(14, seed=2, days=20),
        *other.generated(9, seed=3, days=25),
        *unknown.generated(6, seed=4, days=10),
    ]
    # an invitation answered again later (ranked higher): its first answer's contribution must leave
    answers.append(
        dataclasses.replace(answers[0], id=str(uuid.uuid4()), data={**answers[0].data, "answered_at": at(2025, 11, 20), "overall": 2})
    )
    campaign_events = [early.started(), late.started(), other.started(), early.closed(responded=25)]
    delivered = [*answers, *campaign_events]
    rng.shuffle(delivered)  # answers before and after their campaign's start, closes before starts
    again = rng.sample(delivered, 6)
    delivered += [dataclasses.replace(event, id=str(uuid.uuid4())) for event in again[:3]]  # a producer's retry
    feed(delivered)
    kept = normalised(store)
    for event in again[3:]:
        with pytest.raises(AlreadyHandled):
            feed([event])
    assert normalised(store) == kept
    assert store.rebuild_campaign_months() > 0
    assert normalised(store) == kept
    compared = 0
    for month in (monthly.Month(2025, 10), monthly.Month(2025, 11), monthly.Month(2025, 12)):
        for estate, region in (("NS01", "R1"), ("FT01", "R2"), ("NS02", "R1")):
            for level, query in scopes(estate, region, "G1").items():
                counted, scanned = both(store, query, month)
                assert counted == scanned, (level, estate, str(month))
                compared += scanned["responses"]
    assert compared > 50
    november = reports.month_results(store, query={"group_id": "G1"}, month=monthly.Month(2025, 11))
    rows = {row["campaign_id"]: row for row in november["campaigns"]}
    assert rows[unknown.campaign_id]["fix_first"] == [] and rows[unknown.campaign_id]["responses"] == 6
    assert any(rows[story.campaign_id]["fix_first"] for story in (early, late, other))


def test_a_campaign_whose_dimensions_change_is_counted_again(store: AnalyticsStore, feed: Feed) -> None:
    story = CampaignStory(opens_at=at(2025, 11, 3))
    feed(story.generated(12, seed=6, days=10))
    feed([story.started()])
    renamed = dataclasses.replace(story, dimensions=[{"id": "all", "questions": [q for d in QUESTIONNAIRE for q in d["questions"]]}])
    feed([renamed.closed(responded=12)])  # a closing event ranks higher: its description stands
    bucket = store.database[CAMPAIGN_MONTHS].find_one({"campaign_id": story.campaign_id})
    assert bucket is not None and set(bucket["n"]["dim"]) == {"all"}
    counted, scanned = both(store, {"group_id": "G1"}, monthly.Month(2025, 11))
    assert counted == scanned


def test_the_counters_hold_no_personal_data_and_only_scores() -> None:
    answer = {
        "campaign_id": "C1",
        "answered_at": NOW - timedelta(days=3),
        "group_id": "G1",
        "region_id": "R1",
        "estate_id": "NS01",
        "household_type": "owner",
        "age_band": "60+",
        "channel": "phone",
        "answers": {"cleaning": 4, "security": 5},
        "overall": 8,
        "recommend": 9,
    }
    part = campaign_months.contribution(answer, {"dimensions": [{"id": "basic", "questions": ["cleaning", "security"]}]})
    assert part is not None
    bucket, counts = part
    assert bucket == ("C1", campaign_figures.month_key(answer["answered_at"]), "G1", "R1", "NS01")
    assert set(counts) == {"n.responses", "n.overall.8", "n.recommend.9", "n.dim.basic.4%2E5|8%2E0"}
