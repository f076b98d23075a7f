"""Dispatch's SLA metrics (the API contract's Metrics; docs/PRODUCT.md §12).

``region`` is always the region within its group, ``G1/R1`` (``propcare_shared.tenancy.region_key``):
region ids are chosen by each group, so two groups' ``R1`` are two label values and never add up.

``channel`` is the complaint's channel (``propcare_shared.vocabulary.CHANNELS``; anything else reads
``unknown``), so a 12345 transfer's targets are ``channel="gov_hotline"``, the ones the company is
rated on by the hotline.

- ``complaint_target_seconds{target,tier,region,channel}``: time from the start of a target's clock to the
  action that met it, less time on hold. Its bucket edges include every tier limit of the default
  policy exactly (working-day limits as N x 86400 s, the nominal length), so the share within a
  limit reads straight from one bucket.
- ``complaint_targets_total{target,tier,region,channel,outcome}``: each target counted once, ``met`` or
  ``breached``, when it is met or missed (the escalation scanner counts the breaches it finds
  first; see ``dispatch.domain.timers``).
- ``complaints_open{tier,region,channel}`` and ``complaints_overdue{tier,region,channel}``: computed from MongoDB by a
  collector at scrape time, not kept in process. Why: every gunicorn worker and the consumer would
  otherwise each hold a partial or stale view; a gauge set from one process (``livemax``) would only
  be seen where that process writes its files, and the worker container is not the one scraped. The
  database is the one place that knows the true count, the query is one aggregation over the open
  orders (index on status), and it is computed once per scrape, so nothing is double counted.

Labels stay bounded: target (5), tier (4), region (about 20 per group), channel (10, and ``unknown``),
outcome (2). The gauges show 0 for every tier and channel of every known region, so a series falls to
0 rather than vanishing when its last order closes: 40 series per region and gauge.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric

from dispatch.domain.classify import TIERS
from dispatch.domain.sla import DEFAULT_POLICY, Target
from dispatch.domain.timers import TargetResult
from dispatch.store import DispatchStore
from propcare_shared.clock import Clock
from propcare_shared.tenancy import region_key
from propcare_shared.vocabulary import CHANNELS

log = logging.getLogger(__name__)

DAY = 86400
EXTRA_BUCKETS = (60, 300, 600, 1800, 3600, 4 * 3600, 8 * 3600, 12 * 3600, 2 * DAY, 10 * DAY, 30 * DAY)


def limit_seconds(policy: Mapping[str, Mapping[str, Target]]) -> set[float]:
    """Return every target limit of a policy in seconds (a working-days target as N x 86400)."""
    return {target.duration.total_seconds() for targets in policy.values() for target in targets.values()}


TARGET_BUCKETS = tuple(sorted(limit_seconds(DEFAULT_POLICY) | set(map(float, EXTRA_BUCKETS))))

TARGET_SECONDS = Histogram(
    "complaint_target_seconds",
    "Time from a target's start to the action that met it, less time on hold.",
    ["target", "tier", "region", "channel"],
    buckets=TARGET_BUCKETS,
)
TARGETS_TOTAL = Counter("complaint_targets_total", "SLA targets met or breached.", ["target", "tier", "region", "channel", "outcome"])
UNKNOWN = "unknown"
GAUGE_LABELS = ["tier", "region", "channel"]


def region_label(order: Mapping[str, Any]) -> str:
    """Return the ``region`` label of a work order: its region within its group, ``G1/R1``."""
    return region_key(order.get("group_id"), order.get("region_id")) or UNKNOWN


def channel_label(channel: str | None) -> str:
    """Return the ``channel`` label of a complaint's channel: one of ``CHANNELS``, else ``unknown``."""
    return channel if channel is not None and channel in CHANNELS else UNKNOWN


def record_targets(*, order: Mapping[str, Any], results: Iterable[TargetResult]) -> None:
    """Count and time the targets a committed change of a work order met or missed."""
    tier = order.get("tier") or "unknown"
    region = region_label(order)
    channel = channel_label(order.get("channel"))
    for result in results:
        labels = (result.target, tier, region, channel)
        if result.counted:
            TARGETS_TOTAL.labels(*labels, result.outcome).inc()
        if result.observed:
            TARGET_SECONDS.labels(*labels).observe(result.seconds)


class OpenComplaintsCollector:
    """``complaints_open`` and ``complaints_overdue`` per tier, region and channel, read from MongoDB at scrape time."""

    def __init__(self, *, store: DispatchStore | None = None, clock: Clock | None = None) -> None:
        self.store = store
        self.clock = clock

    def bind(self, *, store: DispatchStore, clock: Clock) -> None:
        """Read from this store from now on."""
        self.store, self.clock = store, clock

    def describe(self) -> Iterator[Metric]:
        """Name the two families without reading the database (at registration)."""
        yield GaugeMetricFamily("complaints_open", "Open work orders (classified to on hold).", labels=GAUGE_LABELS)
        yield GaugeMetricFamily("complaints_overdue", "Open work orders with a target past its deadline.", labels=GAUGE_LABELS)

    def collect(self) -> Iterator[Metric]:
        """Yield the two gauge families; nothing when the database cannot be read."""
        if self.store is None or self.clock is None:
            return
        try:
            rows = self.store.work_orders.open_and_overdue(now=self.clock())
            regions = set(self.store.directory.region_keys())
        except Exception as exc:  # noqa: BLE001 - a scrape must not fail because MongoDB is away
            log.warning("open complaints could not be counted", extra={"error": str(exc)})
            return
        opened = GaugeMetricFamily("complaints_open", "Open work orders (classified to on hold).", labels=GAUGE_LABELS)
        overdue = GaugeMetricFamily("complaints_overdue", "Open work orders with a target past its deadline.", labels=GAUGE_LABELS)
        counts: dict[tuple[str, str, str], tuple[int, int]] = {}
        for row in rows:
            key = (row["tier"] or UNKNOWN, row["region"] or UNKNOWN, channel_label(row.get("channel")))
            open_before, overdue_before = counts.get(key, (0, 0))
            counts[key] = (open_before + row["open"], overdue_before + row["overdue"])
        regions |= {region for _, region, _ in counts}
        for region in sorted(regions):
            for tier in TIERS:
                for channel in CHANNELS:
                    open_count, overdue_count = counts.pop((tier, region, channel), (0, 0))
                    opened.add_metric([tier, region, channel], open_count)
                    overdue.add_metric([tier, region, channel], overdue_count)
        for labels, (open_count, overdue_count) in sorted(counts.items()):
            opened.add_metric(list(labels), open_count)
            overdue.add_metric(list(labels), overdue_count)
        yield opened
        yield overdue


_PROCESS_COLLECTOR = OpenComplaintsCollector()
_registered = False


def multiprocess_mode() -> bool:
    """Tell whether metrics are aggregated over processes (gunicorn)."""
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


def install_collector(*, store: DispatchStore, clock: Clock) -> Callable[[], bytes]:
    """Make the open/overdue gauges part of ``/metrics``; return what to append to the kernel's output.

    In multiprocess mode the kernel renders only the processes' files, so the app appends its own
    collector's output. In a single process the collector is registered once in the process registry
    (the one-process gateway renders it) and bound to the latest app's store.
    """
    global _registered
    if multiprocess_mode():
        registry = CollectorRegistry(auto_describe=False)
        registry.register(OpenComplaintsCollector(store=store, clock=clock))  # type: ignore[arg-type]
        return lambda: generate_latest(registry)
    _PROCESS_COLLECTOR.bind(store=store, clock=clock)
    if not _registered:
        REGISTRY.register(_PROCESS_COLLECTOR)  # type: ignore[arg-type]
        _registered = True
    return lambda: b""
