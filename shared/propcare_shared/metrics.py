"""Prometheus metrics, correct under gunicorn with several workers.

When ``PROMETHEUS_MULTIPROC_DIR`` is set (gunicorn.conf.py sets it before Python starts and
wipes it at start), every process writes its own files and ``/metrics`` aggregates them; gauges
declare how they aggregate. Labels stay bounded: never a complaint, a person or a phone number.
"""

from __future__ import annotations

import os

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess

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


def metrics_registry() -> CollectorRegistry:
    """Return the registry to expose: every process's files in multiprocess mode, else this process."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    from prometheus_client import REGISTRY

    return REGISTRY


def render_metrics() -> tuple[bytes, str]:
    """Return the exposition text of this process, or of every process in multiprocess mode."""
    return generate_latest(metrics_registry()), CONTENT_TYPE_LATEST
