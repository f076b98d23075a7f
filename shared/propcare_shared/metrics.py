"""Prometheus metrics, correct under gunicorn with several workers.

When ``PROMETHEUS_MULTIPROC_DIR`` is set (gunicorn.conf.py sets it before Python starts and
wipes it at start), every process writes its own files and ``/metrics`` aggregates them; gauges
declare how they aggregate. Labels stay bounded: never a complaint, a person or a phone number.
docs/OBSERVABILITY.md lists every metric, its labels and the process that exports it.

Scrape-time gauges (``SCRAPE_GAUGES``): what is counted in MongoDB or RabbitMQ rather than in the
process (queue depth, outbox backlog, open complaints) is read when Prometheus scrapes a worker.
Guarantees:
- exported by one process per service only: the worker whose outbox relay holds the service's relay
  lease (``leases`` collection, renewed every second, 10 s long) is the gauge leader, and only it
  reads the shared state; other replicas and the web processes export ``gauge_leader 0`` and
  nothing else, so a sum over replicas never double counts;
- a scrape never hangs on a dependency: every read runs under ``pymongo.timeout`` (MongoDB) or a
  short connect timeout (the broker) of ``METRICS_DEPENDENCY_TIMEOUT`` seconds; a dependency that
  does not answer reads ``dependency_up 0`` and its gauges are left out of that scrape, while the
  process's own counters and histograms are served as always.

No ``_created`` series: ``disable_created_metrics()`` runs once when this module is imported (every
web and worker process imports it before it counts anything). Nothing reads them (no dashboard, rule
or test), and they were 30% of every service's series (docs/PERFORMANCE.md, "Metric series budget").
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

import pymongo
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from pymongo.database import Database

log = logging.getLogger(__name__)
disable_created_metrics()

HTTP_REQUESTS = Counter("http_requests_total", "HTTP requests handled.", ["service", "route", "method", "status"])
HTTP_DURATION = Histogram(
    "http_request_duration_seconds",
    "Time to answer an HTTP request.",
    ["service", "route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
EVENTS_PUBLISHED = Counter("events_published_total", "Events published with a broker confirm.", ["service", "type"])
EVENTS_CONSUMED = Counter("events_consumed_total", "Events taken from a queue, by outcome.", ["service", "type", "outcome"])
EVENT_HANDLING = Histogram(
    "event_handling_seconds",
    "Time a handler took for one event.",
    ["service", "type"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0),
)
EVENT_LAG = Histogram(
    "event_lag_seconds",
    "Time from an event's occurrence to its consumption.",
    ["service", "type"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0, 300.0),
)
EVENTS_IN_FLIGHT = Gauge("events_in_flight", "Events being handled now.", ["service"], multiprocess_mode="livesum")
PROCESS_STARTS = Counter("process_starts_total", "Processes started (a rise after the first is a restart).", ["service", "process"])


def count_process_start(service: str, process: str) -> None:
    """Count the start of a ``web`` or ``worker`` process of a service."""
    PROCESS_STARTS.labels(service, process).inc()


class EventMetrics:
    """The event metrics of one service."""

    def __init__(self, service: str) -> None:
        self.service = service

    def published(self, event_type: str) -> None:
        """Count a confirmed publish."""
        EVENTS_PUBLISHED.labels(self.service, event_type).inc()

    def consumed(self, event_type: str, outcome: str) -> None:
        """Count a consumed event by outcome: ok, retry, dead or duplicate."""
        EVENTS_CONSUMED.labels(self.service, event_type, outcome).inc()

    def handled(self, event_type: str, seconds: float) -> None:
        """Record the time a handler took."""
        EVENT_HANDLING.labels(self.service, event_type).observe(seconds)

    def lag(self, event_type: str, seconds: float) -> None:
        """Record how long after its occurrence an event was taken."""
        EVENT_LAG.labels(self.service, event_type).observe(max(seconds, 0.0))


Sample = tuple[dict[str, str], float]


class GaugeSource(Protocol):
    """Gauges of one service read from shared state at scrape time (only on the gauge leader)."""

    def read(self) -> Iterable[tuple[str, str, Sample]]:
        """Yield ``(metric name, help, (labels, value))``; may raise when a dependency is away."""
        ...


@dataclass
class ServiceGauges:
    """What one worker contributes at scrape time: its dependencies' health and, when leader, its sources."""

    service: str
    database: Database
    leader: Callable[[], bool]
    broker_up: Callable[[], bool] = lambda: True
    sources: list[GaugeSource] = field(default_factory=list)
    timeout: float = 1.0

    def samples(self) -> Iterator[tuple[str, str, Sample]]:
        """Yield this service's scrape-time samples; never raises, never waits longer than its timeouts."""
        service = {"service": self.service}
        mongodb_up = self._mongodb_up()
        yield "dependency_up", DEPENDENCY_HELP, ({**service, "dependency": "mongodb"}, float(mongodb_up))
        yield "dependency_up", DEPENDENCY_HELP, ({**service, "dependency": "rabbitmq"}, float(self._safely(self.broker_up)))
        leading = mongodb_up and self._safely(self.leader)
        yield "gauge_leader", LEADER_HELP, (service, float(leading))
        if not leading:
            return
        for source in self.sources:
            try:
                with pymongo.timeout(self.timeout):
                    read = list(source.read())
            except Exception as exc:  # noqa: BLE001 - a scrape must not fail because a dependency is away
                extra = {"service": self.service, "source": type(source).__name__, "error": str(exc)}
                log.warning("scrape-time gauges skipped", extra=extra)
                continue
            yield from read

    def _mongodb_up(self) -> bool:
        try:
            with pymongo.timeout(self.timeout):
                self.database.client.admin.command("ping")
        except Exception:  # noqa: BLE001 - reported as dependency_up 0
            return False
        return True

    def _safely(self, check: Callable[[], bool]) -> bool:
        try:
            with pymongo.timeout(self.timeout):
                return bool(check())
        except Exception:  # noqa: BLE001 - reported as 0
            return False


DEPENDENCY_HELP = "1 when the process reached the dependency at this scrape, else 0."
LEADER_HELP = "1 on the one worker of a service that exports the scrape-time gauges, else 0."


class ScrapeGauges:
    """The collector of every service's scrape-time gauges in this process (one in the one-process mode too)."""

    def __init__(self) -> None:
        self._services: list[ServiceGauges] = []
        self._lock = threading.Lock()

    def add(self, gauges: ServiceGauges) -> None:
        """Export a service's gauges from now on."""
        with self._lock:
            self._services.append(gauges)

    def remove(self, gauges: ServiceGauges) -> None:
        """Stop exporting a service's gauges (its worker stopped)."""
        with self._lock:
            if gauges in self._services:
                self._services.remove(gauges)

    def describe(self) -> Iterator[Metric]:
        """Name nothing at registration: the families depend on the services added."""
        return iter(())

    def collect(self) -> Iterator[Metric]:
        """Yield one gauge family per metric name, with every service's samples."""
        with self._lock:
            services = list(self._services)
        families: dict[str, GaugeMetricFamily] = {}
        started = time.perf_counter()
        for gauges in services:
            for name, documentation, (labels, value) in gauges.samples():
                family = families.get(name)
                if family is None:
                    family = families[name] = GaugeMetricFamily(name, documentation, labels=sorted(labels))
                family.add_metric([labels[key] for key in sorted(labels)], value)
        if services:
            duration = GaugeMetricFamily("scrape_gauges_seconds", "Time this scrape spent reading the scrape-time gauges.")
            duration.add_metric([], time.perf_counter() - started)
            yield duration
        yield from families.values()


SCRAPE_GAUGES = ScrapeGauges()
REGISTRY.register(SCRAPE_GAUGES)  # type: ignore[arg-type]


def metrics_registry() -> CollectorRegistry:
    """Return the registry to expose: every process's files in multiprocess mode, else this process."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry(auto_describe=False)
        multiprocess.MultiProcessCollector(registry)
        registry.register(SCRAPE_GAUGES)  # type: ignore[arg-type]
        return registry
    return REGISTRY


def render_metrics() -> tuple[bytes, str]:
    """Return the exposition text of this process, or of every process in multiprocess mode."""
    return generate_latest(metrics_registry()), CONTENT_TYPE_LATEST
