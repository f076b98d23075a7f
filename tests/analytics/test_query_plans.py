"""Every query of analytics' read routes is served by an index, and an estate's cost does not grow with other estates.

The functions the routes call (``analytics.reports``: KPIs, hotspots, satisfaction, the monthly
review) run against seeded read models (the benchmark's generator: facts, monthly counters,
campaigns and answers, hotspots, the directory) under a recording client; each command they send is
explained (``tests/query_plans.py``). A find must examine no more than it returns (plus a little
slack); an aggregation legitimately returns groups, so its bound is the number of documents its
``$match`` selects in the scope (clauses an index cannot bound, such as ``$ne``, left out). Then
thirty more estates' data are seeded and an estate's queries must examine exactly as many keys as
before.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from pymongo import MongoClient
from pymongo.database import Database

from analytics import reports
from analytics.domain import monthly
from analytics.store import COMPLAINT_FACTS, INDEXES, AnalyticsStore
from propcare_shared.mongo import ensure_indexes
from propcare_shared.testing import unique_name
from tests.bench.analytics_scale import (
    GROUP,
    NOW,
    SETTING,
    FactsMaker,
    estate_id,
    region_of,
    scope_filter,
    seed_campaigns,
    seed_directory,
    seed_hotspots,
)
from tests.query_plans import Plan, Recorded, check_plan, explain_all, recording, recording_client

FIRST, MORE = range(10), range(10, 40)
ESTATE = 3
MONTH = monthly.Month(2026, 3)


@pytest.fixture
def plans_client(mongodb_url: str) -> Iterator[tuple[MongoClient, Any, Database]]:
    client, recorder = recording_client(mongodb_url)
    database = client[unique_name("test_analytics_plans_")]
    ensure_indexes(database, INDEXES)
    yield client, recorder, database
    client.drop_database(database.name)
    client.close()


def seed_estates(database: Database, estates: range, *, seed: int, facts: int) -> None:
    """Facts of these estates only (the generator's others left out), their campaigns, hotspots and directory entries."""
    maker = FactsMaker(seed, estates=estates.stop)
    documents = [maker.one(seed * 1_000_000 + number) for number in range(facts)]
    database[COMPLAINT_FACTS].insert_many([item for item in documents if int(item["estate_id"][1:]) in estates])
    seed_directory(database, estates=estates)
    seed_campaigns(database, seed=seed, estates=estates, answers_per_campaign=15)
    seed_hotspots(database, seed=seed, estates=estates, count=10 * len(estates))
    AnalyticsStore(database).rebuild_months()
    AnalyticsStore(database).rebuild_campaign_months()


def run_reports(store: AnalyticsStore, query: dict[str, Any], *, level: str) -> None:
    end = NOW - timedelta(days=40)
    reports.kpi_figures(store, query=query, start=end - timedelta(days=30), end=end, now=NOW)
    reports.hotspot_figures(store, query=query, now=end, days=30, limit=10, scope_setting=SETTING)
    reports.satisfaction_figures(store, query=query, campaign_id=None, campaign=None, start=end - timedelta(days=180), end=end)
    reports.monthly_review(store, scope=level, query=query, month=MONTH, now=NOW, scope_setting=SETTING)


def without_unbounded(node: Any) -> Any:
    """Return a filter without the clauses an index cannot bound (``$ne``): what an aggregation's scan may examine."""
    if isinstance(node, dict):
        kept = {name: without_unbounded(value) for name, value in node.items() if not (isinstance(value, dict) and "$ne" in value)}
        return {name: value for name, value in kept.items() if value not in ({}, [])}
    if isinstance(node, list):
        return [item for item in (without_unbounded(value) for value in node) if item != {}]
    return node


def selected(database: Database, command: dict[str, Any]) -> int:
    """Return how many documents an aggregation's first ``$match`` selects, unbounded clauses left out."""
    match = command["pipeline"][0]["$match"]
    return database[command["aggregate"]].count_documents(without_unbounded(match))


def checked(client: MongoClient, database: Database, recorded: list[Recorded]) -> list[Plan]:
    plans = explain_all(client, recorded)
    assert plans, "no query recorded"
    for plan in plans:
        if "aggregate" in plan.command:
            assert not plan.collection_scan, "collection scan: " + plan.describe()
            check_plan(plan, slack=selected(database, plan.command) + 10)
        else:
            check_plan(plan, slack=10)
    return plans


def test_every_report_query_uses_an_index_and_an_estate_costs_the_same_whatever_the_other_estates(
    plans_client: tuple[MongoClient, Any, Database],
) -> None:
    client, recorder, database = plans_client
    store = AnalyticsStore(database)
    seed_estates(database, FIRST, seed=1, facts=4000)
    scopes = {
        "estate": scope_filter("estate", estate_id(ESTATE)),
        "region": scope_filter("region", region_of(ESTATE)),
        "group": scope_filter("group", GROUP),
    }
    examined: dict[str, list[tuple[str, int, int]]] = {}
    for level, query in scopes.items():
        with recording(recorder, database.name) as recorded:
            run_reports(store, query, level=level)
        plans = checked(client, database, recorded)
        examined[level] = [(next(iter(plan.command)), plan.keys_examined, plan.docs_examined) for plan in plans]
    assert sum(keys for _name, keys, _docs in examined["estate"]) > 0

    seed_estates(database, MORE, seed=2, facts=12000)
    with recording(recorder, database.name) as recorded:
        run_reports(store, scopes["estate"], level="estate")
    plans = checked(client, database, recorded)
    assert [(next(iter(plan.command)), plan.keys_examined, plan.docs_examined) for plan in plans] == examined["estate"]
