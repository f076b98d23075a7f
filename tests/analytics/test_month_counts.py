"""The monthly and daily counters (``domain.month_counts``) answer exactly what a scan of the facts answers.

Two ways in: counters rebuilt from seeded facts (the benchmark's generator, every kind of complaint
story, open ones with deadlines that pass between two ``now``s), and counters kept by the projection
from events delivered twice and out of order. Each month's figures are compared for an estate, a
region and the group with ``kpis.compute`` and ``monthly.hotspots`` of the facts themselves, and the
KPIs of periods that start and end anywhere in a day (whole days from the daily counters, the edges
from the facts) with ``kpis.compute`` of the period's facts.
"""

from __future__ import annotations

import dataclasses
import random
import uuid
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

import pytest

from analytics.domain import kpis, month_counts, monthly
from analytics.reports import kpi_figures
from analytics.store import COMPLAINT_DAYS, COMPLAINT_FACTS, COMPLAINT_MONTHS, AnalyticsStore
from propcare_shared.context import ServiceContext
from propcare_shared.events.envelope import Event
from propcare_shared.events.outbox import AlreadyHandled
from tests.analytics.factories import ComplaintStory, utc_now
from tests.bench.analytics_scale import GROUP, NOW, FactsMaker, region_of

ESTATES = 40
NO_CAMPAIGNS = {"status": "no_campaign_data"}


def scopes(estate: str, region: str) -> dict[str, dict[str, Any]]:
    return {
        "estate": {"group_id": GROUP, "estate_id": estate},
        "region": {"group_id": GROUP, "region_id": region},
        "group": {"group_id": GROUP},
    }


def scanned(store: AnalyticsStore, query: dict[str, Any], month: monthly.Month, now: Any) -> dict[str, Any]:
    facts = list(store.database[COMPLAINT_FACTS].find({**query, "received_at": {"$gte": month.start, "$lt": month.end}}))
    return {**kpis.compute(facts, now=now), "hotspots": monthly.hotspots(facts)}


def counted(store: AnalyticsStore, query: dict[str, Any], month: monthly.Month, now: Any) -> dict[str, Any]:
    figures, rows, total = month_counts.figures(store.month_buckets(query=query, month=str(month)), now=now, limit=monthly.TOP_HOTSPOTS)
    return {**figures, "hotspots": monthly.hotspot_items(rows, counted=total)}


@pytest.fixture
def store(context: ServiceContext) -> AnalyticsStore:
    return AnalyticsStore(context.database)


def test_counters_rebuilt_from_seeded_facts_equal_the_fact_scan(store: AnalyticsStore) -> None:
    maker = FactsMaker(7, estates=ESTATES)
    store.database[COMPLAINT_FACTS].insert_many([maker.one(number) for number in range(6000)])
    assert store.rebuild_months() > 0
    months = [monthly.Month(2026, 4), monthly.Month(2026, 3), monthly.Month(2025, 9), monthly.Month(2025, 5)]
    compared = 0
    for now in (NOW, NOW - timedelta(days=2, hours=7)):
        for month in months:
            for level, query in scopes("E0003", region_of(3)).items():
                expected = scanned(store, query, month, now)
                assert counted(store, query, month, now) == expected, (level, str(month))
                compared += expected["volume"]["total"]
    assert compared > 3000
    assert any(bucket.get("v", {}).get("pending") for bucket in store.database[COMPLAINT_MONTHS].find())


def stories(count: int) -> list[ComplaintStory]:
    rng = random.Random(11)
    now = utc_now()
    estates = [rng.randrange(4) for _ in range(count)]
    return [
        ComplaintStory(
            received_at=now - timedelta(days=rng.randrange(70), hours=rng.randrange(24)),
            estate_id=f"E{estate:04d}",
            region_id=f"R{estate % 2 + 1:02d}",
            building=str(rng.randrange(1, 4)),
            subcategory=rng.choice(["elevator", "water", "noise"]),
            tier=rng.choice(["general", "important"]),
            channel=rng.choice(["app", "phone"]),
        )
        for estate in estates
    ]


def events_of(story: ComplaintStory, rng: random.Random) -> list[Event]:
    events = [story.received(), story.classified(), story.assigned()]
    if rng.random() < 0.7:
        events += [story.responded(), story.resolved(), story.survey_invited(), story.survey_completed()]
    if rng.random() < 0.2:
        events.append(story.reopened())
    if rng.random() < 0.1:
        events.append(story.work_order("complaint.cancelled", seq=9, seconds=7200, status="cancelled"))
    return events


def normalised(buckets: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Buckets without their zero counters and emptied maps, which a rebuild never writes."""

    def prune(node: Any) -> Any:
        if isinstance(node, dict):
            kept = {name: prune(value) for name, value in node.items() if name != "_id"}
            return {name: value for name, value in kept.items() if value not in (0, {})}
        return node

    return {bucket["_id"]: prune(bucket) for bucket in buckets}


def test_counters_kept_by_the_projection_under_duplicates_and_disorder(
    store: AnalyticsStore, feed: Callable[[Iterable[Event]], None]
) -> None:
    rng = random.Random(5)
    delivered: list[Event] = []
    redelivered: list[Event] = []
    for story in stories(60):
        events = events_of(story, rng)
        rng.shuffle(events)  # each complaint's events out of order
        again = rng.sample(events, 2)
        # the same fact under another event id (a producer's retry), and the same event a second time
        delivered += [*events, dataclasses.replace(again[0], id=str(uuid.uuid4()))]
        redelivered.append(again[1])
    feed(delivered)
    before = normalised(store.database[COMPLAINT_MONTHS].find())
    for event in redelivered:
        with pytest.raises(AlreadyHandled):
            feed([event])
    assert normalised(store.database[COMPLAINT_MONTHS].find()) == before
    kept = normalised(store.database[COMPLAINT_MONTHS].find())
    facts = list(store.database[COMPLAINT_FACTS].find())
    assert len(facts) == 60
    assert sum(bucket["n"]["total"] for bucket in kept.values()) == 60
    kept_days = normalised(store.database[COMPLAINT_DAYS].find())
    assert sum(bucket["n"]["total"] for bucket in kept_days.values()) == 60
    store.rebuild_months()
    assert normalised(store.database[COMPLAINT_MONTHS].find()) == kept
    assert normalised(store.database[COMPLAINT_DAYS].find()) == kept_days
    now = utc_now()
    month = monthly.parse_month(f"{now:%Y-%m}", now=now)
    for _ in range(3):
        for query in scopes("E0001", "R01").values():
            assert counted(store, query, month, now) == scanned(store, query, month, now)
            start, end = month.start + timedelta(days=3, hours=5), month.end - timedelta(days=2, minutes=17)
            assert kpi_figures(store, query=query, start=start, end=end, now=now) == kpis.compute(
                facts_in(store, query, start, end), now=now
            )
        month = month.previous()


def facts_in(store: AnalyticsStore, query: dict[str, Any], start: Any, end: Any) -> list[dict[str, Any]]:
    return list(store.database[COMPLAINT_FACTS].find({**query, "received_at": {"$gte": start, "$lt": end}}))


def test_kpis_of_any_period_from_daily_counters_equal_the_fact_scan(store: AnalyticsStore) -> None:
    maker = FactsMaker(9, estates=ESTATES)
    store.database[COMPLAINT_FACTS].insert_many([maker.one(number) for number in range(5000)])
    store.rebuild_months()
    rng = random.Random(3)
    periods = [(NOW - timedelta(days=30), NOW), (NOW - timedelta(hours=20), NOW), (NOW - timedelta(days=400), NOW)]
    for _ in range(5):  # edges anywhere in a day, in UTC and in the report's time zone alike
        end = NOW - timedelta(minutes=rng.randrange(200 * 24 * 60))
        periods.append((end - timedelta(minutes=rng.randrange(1, 60 * 24 * 60)), end))
    compared = 0
    for start, end in periods:
        for now in (NOW, end + timedelta(days=1)):
            for level, query in scopes("E0005", region_of(5)).items():
                expected = kpis.compute(facts_in(store, query, start, end), now=now)
                assert kpi_figures(store, query=query, start=start, end=end, now=now) == expected, (level, start, end)
                compared += expected["volume"]["total"]
    assert compared > 10000
