"""The series budget: 1,000 estates in 20 regions, every label value a real run can produce, under 10,000 series a service.

Not 1,000 real estates: synthetic observations through the services' own metric code, in a fresh
interpreter (so the registry holds only the simulation). For each of 1,000 estates, spread over 20
regions of one group: every target of every tier met and breached, on every channel (the hotline's
too), timed; every escalation level; every route and method of each service's real Flask app answered
with every status it can give; every event type it publishes and consumes with every outcome;
notifications on every channel with every outcome; every survey kind. Then ``/metrics`` as each
service's processes would export it (samples with its ``service`` label, and the metrics only it
defines) is counted, plus its scrape-time gauges counted from their label sets (``complaints_open``
per tier and region, ``hotline_transfers`` per state and region, ...). The figures are in
docs/PERFORMANCE.md ("Metric series budget").
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from collections import Counter as Tally
from pathlib import Path

from prometheus_client import REGISTRY

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("intake", "dispatch", "notification", "survey", "analytics")
BUDGET = 10_000
ESTATES = 1_000
REGIONS = tuple(f"G1/R{number:02d}" for number in range(1, 21))
STATUSES = ("200", "201", "202", "204", "304", "400", "401", "403", "404", "405", "409", "412", "413", "415", "422", "429", "500", "503")
OWN_METRICS = {"complaint_": "dispatch", "hotline_targets": "dispatch", "notifications": "notification", "survey_responses": "survey"}
"""Metrics without a ``service`` label, by name prefix: the service whose code defines them."""


def _routes(service: str, mongodb_url: str) -> list[tuple[str, str]]:
    from propcare_shared.http.app import ServiceContext
    from propcare_shared.service import definition_of
    from propcare_shared.settings import Settings

    settings = Settings.from_env(service, {"MONGODB_URL": mongodb_url, "MONGODB_DATABASE": f"budget_{service}_{os.getpid()}"})
    context = ServiceContext.open(settings)
    definition_of(service).configure(context, {})
    app = importlib.import_module(f"{service}.app").create_app(context)
    context.client.drop_database(settings.mongodb_database)
    return [(rule.rule, method) for rule in app.url_map.iter_rules() for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]


def _event_types() -> dict[str, tuple[set[str], set[str]]]:
    from infra.tools.event_catalogue import PRODUCERS, _by_prefix
    from propcare_shared.events.catalogue import CATALOGUE
    from propcare_shared.events.queues import PLATFORM_QUEUES

    types: dict[str, tuple[set[str], set[str]]] = {service: (set(), set()) for service in SERVICES}
    for event_type in CATALOGUE:
        types[_by_prefix(PRODUCERS, event_type)][0].add(event_type)
    for service, queues in PLATFORM_QUEUES.items():
        types[service][1].update(t for handled in queues.values() for t in handled)
    return types


def _simulate_dispatch() -> None:
    from dispatch.domain.timers import TargetResult
    from dispatch.metrics import record_escalation, record_targets
    from propcare_shared.vocabulary import CHANNELS, TARGETS, TIERS

    for estate in range(ESTATES):
        group, region = REGIONS[estate % len(REGIONS)].split("/")
        for tier in TIERS:  # every order has a tier (dispatch.domain.opening)
            for channel in CHANNELS:
                order = {"group_id": group, "region_id": region, "tier": tier, "channel": channel, "estate_id": f"E{estate:04d}"}
                results = [
                    TargetResult(target, outcome, 3600.0, True, True, 7200.0) for target in TARGETS for outcome in ("met", "breached")
                ]
                record_targets(order=order, results=results)
            for level in (1, 2, 3):
                record_escalation(order={"group_id": group, "region_id": region, "tier": tier}, level=level)


def _simulate(mongodb_url: str) -> dict[str, dict[str, int]]:
    """Feed every label combination through the metric code; return each service's series by metric family."""
    from notification import metrics as notification_metrics
    from notification.domain.channels import DELIVERY_CHANNELS
    from propcare_shared.metrics import EVENT_LAG, HTTP_DURATION, HTTP_REQUESTS, EventMetrics, count_process_start
    from survey.metrics import SURVEY_RESPONSES

    _simulate_dispatch()
    for channel in DELIVERY_CHANNELS:
        for outcome in ("sent", "failed", "retry", "skipped"):
            notification_metrics.count(channel, outcome)
    for kind in ("complaint", "campaign", "hotline"):
        SURVEY_RESPONSES.labels(kind).inc()
    for service, (published, consumed) in _event_types().items():
        events = EventMetrics(service)
        for event_type in published:
            events.published(event_type)
        for event_type in consumed:
            for outcome in ("ok", "retry", "dead", "duplicate"):
                events.consumed(event_type, outcome)
            events.handled(event_type, 0.01)
            events.lag(event_type, 0.5)
        EVENT_LAG.labels(service, "undecodable").observe(0.0)  # a parked undecodable message
        for route, method in [*_routes(service, mongodb_url), ("unmatched", "GET"), ("unmatched", "POST")]:
            for status in STATUSES:
                HTTP_REQUESTS.labels(service, route, method, status).inc()
            HTTP_DURATION.labels(service, route, method).observe(0.02)
        for process in ("web", "worker"):
            count_process_start(service, process)
    series: dict[str, Tally[str]] = {service: Tally() for service in SERVICES}
    for family in REGISTRY.collect():
        for sample in family.samples:
            owner = sample.labels.get("service") or next((s for p, s in OWN_METRICS.items() if family.name.startswith(p)), None)
            if owner in series:
                series[owner][family.name] += 1
    return {service: dict(found) for service, found in series.items()}


def scrape_gauges() -> dict[str, dict[str, int]]:
    """Return each service's scrape-time gauge series at 20 regions, from the label sets their code yields."""
    from dispatch.domain.taxonomy import CATEGORIES
    from dispatch.metrics import POLICY_PAIRS
    from intake.domain.hotline import STATES
    from propcare_shared.events.queues import PLATFORM_QUEUES
    from propcare_shared.vocabulary import TIERS

    regions = len(REGIONS) + 1  # and "unknown"
    gauges: dict[str, dict[str, int]] = {}
    for service in SERVICES:
        queues = len(PLATFORM_QUEUES.get(service, {}))
        gauges[service] = {"dependency_up": 2, "gauge_leader": 1, "queue_*": 3 * queues, "outbox_*": 2, "scrape_gauges_seconds": 1}
    gauges["dispatch"] |= {
        "complaints_open": (len(TIERS) + 1) * regions,
        "complaints_overdue": (len(TIERS) + 1) * regions,
        "complaint_targets_overdue": sum(1 for _, target in POLICY_PAIRS if target != "follow_up") * regions,
    }
    gauges["intake"] |= {"hotline_transfers": len(STATES) * regions}
    gauges["notification"] |= {"hotline_callbacks": 3}
    gauges["analytics"] |= {
        "hotspots_active": regions * (len(CATEGORIES) + 1),
        "followup_surveys": 3 * regions,
        "campaign_households": 2 * regions,
        "nps_answers": 3 * regions,
    }
    return gauges


def test_each_service_exports_fewer_than_10000_series_for_1000_estates_in_20_regions(mongodb_url: str) -> None:
    code = f"import json; from tests.infra.test_monitoring_series_budget import _simulate; print(json.dumps(_simulate({mongodb_url!r})))"
    # One process's registry, as a single web or worker process holds it: no multiprocess directory at all
    # (an empty PROMETHEUS_MULTIPROC_DIR would make prometheus_client write its *.db files into ROOT), and
    # _created series left on in the environment so that the kernel's disable_created_metrics() is what drops them.
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PROMETHEUS_DISABLE_CREATED_SERIES": "False"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    files = set(ROOT.glob("*.db"))
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stderr[-3000:]
    assert set(ROOT.glob("*.db")) == files, "the simulation wrote prometheus_client files into the repository"
    counted = json.loads(run.stdout.strip().splitlines()[-1])
    gauges = scrape_gauges()
    totals = {service: sum(counted[service].values()) + sum(gauges[service].values()) for service in SERVICES}
    print("\nseries per service at 1,000 estates in 20 regions:", json.dumps(totals))
    for service in SERVICES:
        print(service, dict(sorted({**counted[service], **gauges[service]}.items(), key=lambda item: -item[1])[:6]))
    assert counted["dispatch"]["complaint_targets"] > 0 and counted["intake"]["http_requests"] > 0, "the simulation ran"
    over = {service: total for service, total in totals.items() if total >= BUDGET}
    assert not over, f"over the budget of {BUDGET} series: {over}"


def test_an_estate_label_would_break_the_budget() -> None:
    """The count can fail: a per-estate label on the SLA counter alone is 1,000 x the tier, target and outcome pairs."""
    from propcare_shared.vocabulary import TARGETS, TIERS

    assert ESTATES * len(TIERS) * len(TARGETS) * 2 >= BUDGET
