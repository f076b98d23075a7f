"""Analytics at a million complaints: seed synthetic read models fast, then time each query per scope.

``rows()`` (the row format of ``tests/bench/__main__.py``: label, compared with, rate, latency) starts a
private mongod, seeds ``BENCH_ANALYTICS_FACTS`` complaints' facts (default 1,000,000) over 1,000 estates
in 20 regions of one group, spread over 12 months, with satisfaction campaigns and their answers,
builds analytics' indexes, then times the KPI, hotspot, satisfaction and monthly-review functions the
routes call (``analytics.reports``) for estates, regions and the group, ~20 runs each on different
estates, regions and months, beside a raw ``count_documents`` of the same scope and period.

Seeding does not go through the API or the projection: documents are copies of *archetypes* that were
folded by the real projection (``domain.facts.apply`` on the events of ``tests/analytics/factories``,
``domain.campaigns`` for campaigns and answers), with ids, tenancy, classification and times varied
by a fixed random seed; so they are shaped exactly as the projection writes them. The monthly
counters (``complaint_months``) are then built from the seeded facts by the projection's own
``month_delta`` (``analytics.store.rebuild_months``), the same code the projection runs per event, and
the per-campaign monthly counters (``campaign_months``) from the seeded answers
(``analytics.store.rebuild_campaign_months``, ``domain.campaign_months.contribution`` per answer). The
"by fact scan" rows compute the review as before the counters: the month's facts and answers scanned.

Run alone: ``BENCH_ANALYTICS_FACTS=100000 .venv/bin/python -m tests.bench.analytics_scale``.
"""

from __future__ import annotations

import os
import queue
import random
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import MongoClient
from pymongo.database import Database

from analytics.domain import campaigns as campaign_domain
from analytics.domain import monthly
from analytics.domain.facts import apply
from analytics.domain.hotspot_settings import HotspotSetting
from analytics.reports import hotspot_figures, kpi_figures, month_results_scanned, monthly_review, satisfaction_figures
from analytics.scopes import setting_view, settings_of_estates
from analytics.store import CAMPAIGN_ANSWERS, CAMPAIGNS, COMPLAINT_FACTS, HOTSPOTS, INDEXES, AnalyticsStore
from infra.local.mongod import MongodProcess
from propcare_shared.directory import ESTATES
from propcare_shared.events.envelope import Event
from propcare_shared.mongo import ensure_indexes
from propcare_shared.tenancy import Tenancy
from propcare_shared.vocabulary import SUBCATEGORIES
from tests.analytics.campaign_factories import QUESTIONNAIRE, SCALES, CampaignStory
from tests.analytics.factories import ComplaintStory

GROUP = "G1"
ESTATE_COUNT = 1000
REGION_COUNT = 20
SEED = 20260501
NOW = datetime(2026, 4, 30, 16, 0, tzinfo=UTC)
"""The end of the seeded year: 2026-05-01 00:00 in Asia/Shanghai, so the last full month is 2026-04."""
YEAR = timedelta(days=365)
YEAR_MS = YEAR // timedelta(milliseconds=1)
BASE = datetime(2025, 1, 1, tzinfo=UTC)
BATCH = 10_000
RUNS = 20
ANSWERS_PER_CAMPAIGN = 60
CHANNEL_WEIGHTS = {"app": 30, "wechat": 25, "phone": 20, "front_desk": 10, "web": 5, "gov_hotline": 5, "grid_visit": 3, "email": 2}
TIER_WEIGHTS = {"general": 70, "complex": 15, "important": 10, "emergency": 5}
SETTING = HotspotSetting(threshold=5, days=7, threshold_from="default", days_from="default")


def estate_id(index: int) -> str:
    return f"E{index:04d}"


def region_of(index: int) -> str:
    return f"R{index % REGION_COUNT + 1:02d}"


def _story() -> ComplaintStory:
    return ComplaintStory(received_at=BASE, complaint_id="C-ARCHETYPE", estate_id="E0000", region_id="R00", group_id=GROUP)


def _fold(events: list[Event]) -> dict[str, Any]:
    facts: dict[str, Any] | None = None
    for event in events:
        facts = apply(facts, event)
    assert facts is not None
    return facts


def archetypes() -> dict[str, dict[str, Any]]:
    """Return the facts of each kind of complaint story, folded by the projection's own ``apply``."""
    s = _story()
    head = [s.received(), s.classified(), s.assigned()]
    resolved = [*head, s.responded(), s.resolved()]
    unhappy = {"result": 2.0, "speed": 3.0, "attitude": 2.0}
    return {
        "received": _fold([s.received()]),
        "assigned": _fold(head),
        "responded": _fold([*head, s.responded()]),
        "late_response": _fold(
            [*head, s.work_order("complaint.responded", seq=4, seconds=30 * 3600, status="responded", targets_met={"response": False})]
        ),
        "resolved": _fold([*resolved, s.survey_invited()]),
        "surveyed": _fold([*resolved, s.survey_invited(), s.survey_completed()]),
        "unhappy": _fold([*resolved, s.survey_invited(), s.survey_completed(scores=unhappy)]),
        "closed": _fold([*resolved, s.work_order("complaint.closed", seq=6, seconds=4 * 86400, status="closed")]),
        "reopened": _fold([*resolved, s.reopened()]),
        "cancelled": _fold([s.received(), s.classified(), s.work_order("complaint.cancelled", seq=3, seconds=600, status="cancelled")]),
    }


OLD_MIX = {
    "resolved": 20,
    "surveyed": 30,
    "unhappy": 6,
    "closed": 25,
    "reopened": 4,
    "cancelled": 5,
    "late_response": 4,
    "assigned": 3,
    "responded": 3,
}
RECENT_MIX = {"received": 10, "assigned": 25, "responded": 25, "resolved": 20, "surveyed": 10, "cancelled": 5, "late_response": 5}


Builder = Callable[[datetime, float], Any]


def _has_time(value: Any) -> bool:
    if isinstance(value, datetime):
        return True
    if isinstance(value, dict):
        return any(_has_time(item) for item in value.values())
    if isinstance(value, list):
        return any(_has_time(item) for item in value)
    return False


def _compile(value: Any) -> Builder:
    """Return a builder of ``value`` with every time moved to a new receipt and every duration from the archetype's receipt scaled.

    Parts without a time are shared between the documents built (nothing mutates them before they
    are encoded), so a document costs one dict per level that holds a time.
    """
    if isinstance(value, datetime):
        offset = (value - BASE) // timedelta(milliseconds=1)
        return lambda received, scale: received + timedelta(milliseconds=int(offset * scale))
    if isinstance(value, dict):
        parts = [(key, _compile(item) if _has_time(item) else None, item) for key, item in value.items()]
        return lambda received, scale: {key: build(received, scale) if build else item for key, build, item in parts}
    if isinstance(value, list) and _has_time(value):
        builders = [_compile(item) for item in value]
        return lambda received, scale: [build(received, scale) for build in builders]
    return lambda _received, _scale: value


class FactsMaker:
    """Synthetic complaint facts: archetypes copied with varied ids, tenancy, classification and times."""

    def __init__(self, seed: int = SEED, *, estates: int = ESTATE_COUNT, now: datetime = NOW) -> None:
        self.rng = random.Random(seed)
        self.estates, self.now = estates, now
        self.kinds = {kind: _compile(facts) for kind, facts in archetypes().items()}
        weights = [self.rng.uniform(0.2, 3.0) for _ in range(estates)]
        self.estate_cumulative = list(_cumulative(weights))
        self.subcategories = list(SUBCATEGORIES)
        self.sub_weights = list(_cumulative([self.rng.uniform(0.5, 6.0) for _ in self.subcategories]))
        self.channels, self.channel_weights = list(CHANNEL_WEIGHTS), list(_cumulative(CHANNEL_WEIGHTS.values()))
        self.tiers, self.tier_weights = list(TIER_WEIGHTS), list(_cumulative(TIER_WEIGHTS.values()))
        self.old = (list(OLD_MIX), list(_cumulative(OLD_MIX.values())))
        self.recent = (list(RECENT_MIX), list(_cumulative(RECENT_MIX.values())))

    def one(self, number: int) -> dict[str, Any]:
        rng = self.rng
        index = rng.choices(range(self.estates), cum_weights=self.estate_cumulative)[0]
        received = self.now - timedelta(milliseconds=int(YEAR_MS * rng.random()))
        kinds, weights = self.recent if self.now - received < timedelta(days=5) else self.old
        kind = rng.choices(kinds, cum_weights=weights)[0]
        facts: dict[str, Any] = self.kinds[kind](received, rng.uniform(0.2, 2.5))
        subcategory = rng.choices(self.subcategories, cum_weights=self.sub_weights)[0]
        channel = rng.choices(self.channels, cum_weights=self.channel_weights)[0]
        complaint_id = f"C{number:08d}"
        estate = estate_id(index)
        facts.update(
            _id=complaint_id,
            complaint_id=complaint_id,
            group_id=GROUP,
            region_id=region_of(index),
            estate_id=estate,
            ticket_no=f"{estate}-{received:%Y%m%d}-{number % 10000:04d}",
            building=str(rng.randint(1, 24)),
            channel=channel,
            hotline=channel == "gov_hotline",
            household_type=rng.choice(("owner", "owner", "tenant", None)),
            age_band=rng.choice(("18-35", "36-59", "60+", None)),
        )
        if facts["category"] is not None:
            facts.update(
                category=SUBCATEGORIES[subcategory][0],
                subcategory=subcategory,
                tier=rng.choices(self.tiers, cum_weights=self.tier_weights)[0],
            )
        return facts


def _cumulative(weights: Any) -> Iterator[float]:
    total = 0.0
    for weight in weights:
        total += weight
        yield total


def _insert_pipelined(collection: Any, batches: Iterator[list[dict[str, Any]]]) -> None:
    """Insert batches from a generator while the next one is being generated (the driver releases the GIL on I/O)."""
    pending: queue.Queue[list[dict[str, Any]] | None] = queue.Queue(maxsize=2)
    failure: list[BaseException] = []

    def insert() -> None:
        while (batch := pending.get()) is not None:
            try:
                collection.insert_many(batch, ordered=False)
            except Exception as exc:  # noqa: BLE001 - raised again by the caller's thread
                failure.append(exc)

    inserter = threading.Thread(target=insert, daemon=True)
    inserter.start()
    for batch in batches:
        pending.put(batch)
    pending.put(None)
    inserter.join()
    if failure:
        raise failure[0]


def seed_facts(database: Database, count: int, *, seed: int = SEED) -> None:
    """Insert ``count`` complaints' facts in batches of ``BATCH``."""
    maker = FactsMaker(seed)

    def batches() -> Iterator[list[dict[str, Any]]]:
        for start in range(0, count, BATCH):
            yield [maker.one(number) for number in range(start, min(count, start + BATCH))]

    _insert_pipelined(database[COMPLAINT_FACTS], batches())


def seed_directory(database: Database, *, estates: Iterable[int] = range(ESTATE_COUNT)) -> None:
    """The directory's estates, as the kernel keeps them (``propcare_shared.directory``)."""
    database[ESTATES].insert_many(
        {
            "_id": estate_id(index),
            "group_id": GROUP,
            "region_id": region_of(index),
            "code": estate_id(index),
            "name": f"{estate_id(index)} 花园",
            "timezone": "Asia/Shanghai",
            "as_of": BASE,
            "updated_at": BASE,
        }
        for index in estates
    )


def seed_campaigns(
    database: Database, *, seed: int = SEED, estates: Iterable[int] = range(ESTATE_COUNT), answers_per_campaign: int = ANSWERS_PER_CAMPAIGN
) -> None:
    """Two campaigns a year per estate, each with its answers, folded by ``domain.campaigns`` from the survey's events."""
    rng = random.Random(seed + 1)
    records, answers = [], []
    for index in estates:
        for half in (0, 1):
            opens = NOW - YEAR + timedelta(days=rng.randrange(150) + 182 * half)
            story = CampaignStory(
                campaign_id=f"K{index:04d}-{half}",
                estate_id=estate_id(index),
                region_id=region_of(index),
                group_id=GROUP,
                opens_at=opens,
                closes_at=opens + timedelta(days=21),
            )
            template = campaign_domain.campaign_answer(None, story.generated(1, seed=0, days=21)[0])
            assert template is not None
            record = campaign_domain.campaign_record(None, story.started())
            records.append(campaign_domain.campaign_record(record, story.closed(answers_per_campaign)))
            answers += [_answer(template, rng, opens=opens, number=number) for number in range(answers_per_campaign)]
    database[CAMPAIGNS].insert_many(records)
    _insert_pipelined(database[CAMPAIGN_ANSWERS], (answers[start : start + BATCH] for start in range(0, len(answers), BATCH)))


def _answer(template: dict[str, Any], rng: random.Random, *, opens: datetime, number: int) -> dict[str, Any]:
    """An answer shaped as ``domain.campaigns.campaign_answer`` keeps it, scored as ``CampaignStory.generated`` scores one."""
    scores = {question: rng.randint(*SCALES[dimension["id"]]) for dimension in QUESTIONNAIRE for question in dimension["questions"]}
    if rng.random() < 0.1:
        del scores["events"]
    lean = (scores["elevator"] + scores["water_power"] + scores["public_facilities"] + 2 * scores["complaint_handling"]) / 5
    overall = max(1, min(10, round(2 * lean + rng.gauss(1, 1))))
    answered_at = opens + timedelta(milliseconds=rng.randrange(21 * 86400 * 1000))
    channel = rng.choice(("online", "online", "offline", "phone"))
    return {
        **template,
        "_id": f"{template['campaign_id']}-{number:04d}",
        "channel": channel,
        "source": "online" if channel == "online" else "import",
        "household_type": rng.choice(("owner", "owner", "tenant")),
        "age_band": rng.choice(("18-35", "36-59", "60+")),
        "answers": scores,
        "overall": overall,
        "recommend": max(0, min(10, overall + rng.randint(-2, 2))),
        "answered_at": answered_at,
        "rank": [answered_at.isoformat(), f"{template['campaign_id']}-{number:04d}"],
    }


def seed_hotspots(database: Database, *, seed: int = SEED, estates: Sequence[int] = range(ESTATE_COUNT), count: int = 3000) -> None:
    """Hotspots announced over the year, shaped as ``AnalyticsStore.record_hotspot`` keeps them."""
    rng = random.Random(seed + 2)
    documents = {}
    for _ in range(count):
        index = rng.choice(estates)
        start = NOW - YEAR * rng.random()
        subcategory = rng.choice(list(SUBCATEGORIES))
        cluster = {"group_id": GROUP, "estate_id": estate_id(index), "building": str(rng.randint(1, 24)), "subcategory": subcategory}
        key = (*cluster.values(), start.date().isoformat())
        documents[key] = {
            "_id": {**cluster, "start_day": start.date().isoformat()},
            **cluster,
            "region_id": region_of(index),
            "category": SUBCATEGORIES[subcategory][0],
            "start_day": start.date().isoformat(),
            "window_start": start,
            "window_end": start + timedelta(days=rng.randint(1, 7)),
            "count": 5,
            "threshold": 5,
            "days": 7,
            "complaint_ids": [f"C{rng.randrange(10**8):08d}" for _ in range(5)],
            "detected_at": start + timedelta(days=1),
        }
    database[HOTSPOTS].insert_many(list(documents.values()))


def seed(database: Database, facts: int, *, seed: int = SEED) -> dict[str, float]:
    """Seed every read model and build analytics' indexes; return the seconds each step took."""
    took = {}
    for name, step in (
        ("facts", lambda: seed_facts(database, facts, seed=seed)),
        (
            "directory, campaigns, hotspots",
            lambda: (seed_directory(database), seed_campaigns(database, seed=seed), seed_hotspots(database)),
        ),
        ("indexes", lambda: ensure_indexes(database, INDEXES)),
        ("monthly counters", lambda: AnalyticsStore(database).rebuild_months()),
        ("campaign counters", lambda: AnalyticsStore(database).rebuild_campaign_months()),
    ):
        started = time.perf_counter()
        step()
        took[name] = time.perf_counter() - started
        _progress(f"seeded {name} in {took[name]:.1f} s")
    return took


def _progress(text: str) -> None:
    print(f"[analytics_scale] {text}", file=sys.stderr, flush=True)


def monthly_review_by_scan(
    store: AnalyticsStore, *, scope: str, query: dict[str, Any], month: monthly.Month, now: datetime
) -> dict[str, Any]:
    """The monthly review as the route computed it before the monthly counters: two months of facts scanned and folded in Python."""
    previous = month.previous()
    this_facts = store.facts_received(query=query, start=month.start, end=month.end)
    last_facts = store.facts_received(query=query, start=previous.start, end=previous.end)
    estates = settings_of_estates(store, [Tenancy.of(item) for item in (*this_facts, *last_facts)])
    return monthly.review(
        scope=scope,
        month=month,
        this_facts=this_facts,
        last_facts=last_facts,
        now=now,
        this_campaigns=month_results_scanned(store, query=query, month=month),
        last_campaigns=month_results_scanned(store, query=query, month=previous),
        hotspot_setting=setting_view(SETTING),
        thresholds={estate_id: setting.threshold for estate_id, setting in estates.items()},
    )


# queries ---------------------------------------------------------------------------------------------


def scope_filter(level: str, identifier: str) -> dict[str, Any]:
    """The filter the routes build for a group administrator (``scopes.scope_query``)."""
    named = {"group_id": GROUP} if level == "group" else {"group_id": GROUP, f"{level}_id": identifier}
    return {"$and": [named, {"group_id": GROUP}]}


def _months(rng: random.Random) -> list[monthly.Month]:
    last = monthly.Month(2026, 4)
    months = [last]
    while len(months) < 11:
        months.append(months[-1].previous())
    return [rng.choice(months) for _ in range(RUNS)]


def _percentiles(latencies: list[float]) -> tuple[float, float]:
    ordered = sorted(latencies)
    return statistics.median(ordered) * 1000, ordered[max(0, round(0.95 * len(ordered)) - 1)] * 1000


def _timed(action: Callable[[int], object], runs: int) -> tuple[float, float, float]:
    latencies = []
    for run in range(runs):
        started = time.perf_counter()
        action(run)
        latencies.append(time.perf_counter() - started)
    p50, p95 = _percentiles(latencies)
    return runs / sum(latencies), p50, p95


def query_rows(database: Database, *, runs: int = RUNS) -> list[tuple[str, str, str, str]]:
    """Time each report per scope over ``runs`` different estates, regions and months, with a raw count as baseline."""
    store = AnalyticsStore(database)
    rng = random.Random(SEED + 3)
    scopes = {
        "estate": [estate_id(rng.randrange(ESTATE_COUNT)) for _ in range(runs)],
        "region": [region_of(rng.randrange(REGION_COUNT)) for _ in range(runs)],
        "group": [GROUP] * runs,
    }
    months = _months(rng)
    ends = [NOW - timedelta(days=rng.randrange(300)) for _ in range(runs)]
    rows = []
    for level, identifiers in scopes.items():
        query = [scope_filter(level, identifier) for identifier in identifiers]

        def count(run: int, query: list[dict[str, Any]] = query) -> int:
            received = {"received_at": {"$gte": ends[run] - timedelta(days=30), "$lt": ends[run]}}
            return database[COMPLAINT_FACTS].count_documents({"$and": [query[run], received]})

        rate, p50, p95 = _timed(count, runs)
        rows.append((f"analytics {level}: raw count_documents, 30 days", "baseline", f"{rate:,.2f} queries/s", _latency(p50, p95)))
        cases: dict[str, Callable[[int], object]] = {
            "KPIs, 30 days": lambda run, query=query: kpi_figures(
                store, query=query[run], start=ends[run] - timedelta(days=30), end=ends[run], now=NOW
            ),
            "hotspots, 30 days": lambda run, query=query: hotspot_figures(
                store, query=query[run], now=ends[run], days=30, limit=10, scope_setting=SETTING
            ),
            "satisfaction, 90 days": lambda run, query=query: satisfaction_figures(
                store, query=query[run], campaign_id=None, campaign=None, start=ends[run] - timedelta(days=90), end=ends[run]
            ),
            "monthly review (this + last month)": lambda run, query=query, names=[f"{level}:{i}" for i in identifiers]: monthly_review(
                store, scope=names[run], query=query[run], month=months[run], now=NOW, scope_setting=SETTING
            ),
        }
        for name, action in cases.items():
            rate, p50, p95 = _timed(action, runs)
            rows.append((f"analytics {level}: {name}", "vs raw count", f"{rate:,.2f} queries/s", _latency(p50, p95)))
            _progress(f"{level} {name}: {_latency(p50, p95)}")
        scans = max(3, runs // 4) if level == "group" else runs
        rate, p50, p95 = _timed(
            lambda run, query=query, level=level: monthly_review_by_scan(store, scope=level, query=query[run], month=months[run], now=NOW),
            scans,
        )
        rows.append(
            (
                f"analytics {level}: monthly review by fact scan ({scans} runs)",
                "before the counters",
                f"{rate:,.2f} queries/s",
                _latency(p50, p95),
            )
        )
        _progress(f"{level} monthly review by fact scan: {_latency(p50, p95)}")
    return rows


def _latency(p50: float, p95: float) -> str:
    return f"p50 {p50:.1f} ms, p95 {p95:.1f} ms"


def rows() -> list[tuple[str, str, str, str]]:
    """Seed ``BENCH_ANALYTICS_FACTS`` (default 1,000,000) complaints' facts in a private mongod and time analytics' queries."""
    facts = int(os.environ.get("BENCH_ANALYTICS_FACTS", "1000000"))
    with MongodProcess() as mongod:
        client: MongoClient = MongoClient(mongod.url, tz_aware=True)
        try:
            client.admin.command({"setParameter": 1, "wiredTigerEngineRuntimeConfig": "cache_size=2G"})
            database = client["bench_analytics"]
            took = seed(database, facts)
            seeded = [
                (
                    f"analytics: seed {facts:,} complaints' facts (insert_many of {BATCH:,})",
                    "setup",
                    f"{facts / took['facts']:,.0f} docs/s",
                    ", ".join(f"{name} {seconds:.1f} s" for name, seconds in took.items()),
                )
            ]
            return seeded + query_rows(database)
        finally:
            client.close()


if __name__ == "__main__":
    for row in rows():
        print(" | ".join(row))
