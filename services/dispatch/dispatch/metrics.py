"""Dispatch's SLA metrics (the API contract's Metrics; docs/OBSERVABILITY.md lists them all).

``region`` is always the region within its group, ``G1/R1`` (``propcare_shared.tenancy.region_key``):
region ids are chosen by each group, so two groups' ``R1`` are two label values and never add up.

- ``complaint_target_seconds{target,tier,region}``: time from the start of a target's clock to the
  action that met it, less time on hold. Its bucket edges are the default policy's distinct tier limits
  exactly (15 min, 30 min, 2 h, 1, 2, 3, 5, 7 and 15 days; working-day limits as N x 86400 s, the
  nominal length) and 30 days, nothing else: each edge costs one series per target, tier and region
  (400 at 20 regions), and an edge that is no limit answers no question. The p90 against a limit
  reads from the limit's own bucket; 30 days bounds the late tail of the longest limit.
- ``complaint_target_elapsed_ratio{target,tier}``: the same time as a share of the time the target
  allowed (``elapsed / allowed``, both less time on hold; buckets 0.5, 0.8, 1, 1.5, 2, 3). It answers
  "how late" per target and tier, for working-day targets (3 to 10 calendar days depending on weekends
  and holidays) and policy overrides alike. No ``region``: by region it was 3,600 series at 20 regions
  for a question the counter below answers (on time % per tier and region).
- ``complaint_targets_total{target,tier,region,outcome}``: each target counted once, ``met`` or
  ``breached``, when it is met or missed (the escalation scanner counts the breaches it finds first;
  see ``dispatch.domain.timers``). On time % per tier and region is one expression over it.
- ``hotline_targets_total{target,region,outcome}``: the same for 12345 transfers (``channel
  gov_hotline``), the targets the company is rated on by the hotline.
- ``complaint_escalations_total{level,tier,region}``: each rise of an order's escalation level.
- ``complaints_open{tier,region}``, ``complaints_overdue{tier,region}`` and
  ``complaint_targets_overdue{target,tier,region}``: read from MongoDB at scrape time by
  ``OpenComplaints``, a source of the worker's scrape-time gauges, so only the gauge leader (the worker
  holding the relay lease, ``propcare_shared.metrics``) exports them: never the web replicas, never
  two workers, nothing double counted. Zero for every tier of every known region, so a series falls to
  0 rather than vanishing when its last order closes.

Labels stay bounded: target (5), tier (4), region (about 20 per group), outcome (2), level (3); no
``channel`` on these: it multiplied every series by 11 and broke the budget of 10,000 series a
service (docs/PERFORMANCE.md); the hotline's own counter answers the one question channel was for.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from prometheus_client import Counter, Histogram

from dispatch.domain.classify import TIERS
from dispatch.domain.sla import DEFAULT_POLICY, Target
from dispatch.domain.timers import TargetResult
from dispatch.store import DispatchStore
from propcare_shared.clock import Clock
from propcare_shared.metrics import Sample
from propcare_shared.tenancy import region_key

DAY = 86400
EXTRA_BUCKETS = (30 * DAY,)
SHARE_BUCKETS = (0.5, 0.8, 1.0, 1.5, 2.0, 3.0)
HOTLINE_CHANNEL = "gov_hotline"


def limit_seconds(policy: Mapping[str, Mapping[str, Target]]) -> set[float]:
    """Return every target limit of a policy in seconds (a working-days target as N x 86400)."""
    return {target.duration.total_seconds() for targets in policy.values() for target in targets.values()}


TARGET_BUCKETS = tuple(sorted(limit_seconds(DEFAULT_POLICY) | set(map(float, EXTRA_BUCKETS))))
"""The default policy's limits plus 30 days: the p90 against a limit reads from one bucket."""
POLICY_PAIRS = tuple((tier, target) for tier, targets in DEFAULT_POLICY.items() for target in targets)

TARGET_SECONDS = Histogram(
    "complaint_target_seconds",
    "Time from a target's start to the action that met it, less time on hold.",
    ["target", "tier", "region"],
    buckets=TARGET_BUCKETS,
)
TARGET_SHARE = Histogram(
    "complaint_target_elapsed_ratio",
    "Time to a target as a share of the time it allowed (1 = at the deadline), less time on hold.",
    ["target", "tier"],
    buckets=SHARE_BUCKETS,
)
TARGETS_TOTAL = Counter("complaint_targets_total", "SLA targets met or breached.", ["target", "tier", "region", "outcome"])
HOTLINE_TARGETS = Counter("hotline_targets_total", "SLA targets of 12345 transfers met or breached.", ["target", "region", "outcome"])
ESCALATIONS = Counter("complaint_escalations_total", "Rises of a work order's escalation level, by level.", ["level", "tier", "region"])
UNKNOWN = "unknown"


def region_label(order: Mapping[str, Any]) -> str:
    """Return the ``region`` label of a work order: its region within its group, ``G1/R1``."""
    return region_key(order.get("group_id"), order.get("region_id")) or UNKNOWN


def record_targets(*, order: Mapping[str, Any], results: Iterable[TargetResult]) -> None:
    """Count and time the targets a committed change of a work order met or missed."""
    tier = order.get("tier") or UNKNOWN
    region = region_label(order)
    hotline = order.get("channel") == HOTLINE_CHANNEL
    for result in results:
        labels = (result.target, tier, region)
        if result.counted:
            TARGETS_TOTAL.labels(*labels, result.outcome).inc()
            if hotline:
                HOTLINE_TARGETS.labels(result.target, region, result.outcome).inc()
        if result.observed:
            TARGET_SECONDS.labels(*labels).observe(result.seconds)
            if result.allowed > 0:
                TARGET_SHARE.labels(result.target, tier).observe(result.seconds / result.allowed)


def record_escalation(*, order: Mapping[str, Any], level: int | None) -> None:
    """Count a rise of an order's escalation level (committed)."""
    if level is not None:
        ESCALATIONS.labels(str(level), order.get("tier") or UNKNOWN, region_label(order)).inc()


OPEN_HELP = "Open work orders (classified to on hold)."
OVERDUE_HELP = "Open work orders with a target past its deadline."
TARGET_OVERDUE_HELP = "Open work orders whose target is unmet past its deadline, per target."


class OpenComplaints:
    """``complaints_open``, ``complaints_overdue`` and ``complaint_targets_overdue`` read from MongoDB (a scrape-time source)."""

    def __init__(self, *, store: DispatchStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def read(self) -> Iterator[tuple[str, str, Sample]]:
        """Yield the gauges per tier and region, 0 for every tier of every known region."""
        rows = self.store.work_orders.open_and_overdue(now=self.clock())
        regions = set(self.store.directory.region_keys())
        counts: dict[tuple[str, str], list[int]] = {}
        overdue_targets: dict[tuple[str, str, str], int] = {}
        for row in rows:
            key = (row["tier"] or UNKNOWN, row["region"] or UNKNOWN)
            found = counts.setdefault(key, [0, 0])
            found[0] += row["open"]
            found[1] += row["overdue"]
            for target, overdue in row.get("overdue_targets", {}).items():
                overdue_targets[(target, *key)] = overdue_targets.get((target, *key), 0) + overdue
        regions |= {region for _, region in counts}
        keys = sorted({(tier, region) for region in regions for tier in TIERS} | set(counts))
        for tier, region in keys:
            open_count, overdue_count = counts.get((tier, region), (0, 0))
            yield "complaints_open", OPEN_HELP, ({"tier": tier, "region": region}, float(open_count))
            yield "complaints_overdue", OVERDUE_HELP, ({"tier": tier, "region": region}, float(overdue_count))
        pairs = sorted({(target, tier, region) for region in regions for tier, target in POLICY_PAIRS if target != "follow_up"})
        for target, tier, region in sorted(set(pairs) | set(overdue_targets)):
            labels = {"target": target, "tier": tier, "region": region}
            yield "complaint_targets_overdue", TARGET_OVERDUE_HELP, (labels, float(overdue_targets.get((target, tier, region), 0)))
