"""Dispatch's SLA metrics in series: the contract's labels, every tier limit a bucket edge, the share without region, no _created."""

from __future__ import annotations

from prometheus_client import REGISTRY, generate_latest
from prometheus_client.samples import Sample

from dispatch.domain.sla import DEFAULT_POLICY
from dispatch.domain.timers import TargetResult
from dispatch.metrics import TARGET_BUCKETS, record_targets
from propcare_shared.metrics import render_metrics

DAY = 86400.0


def families() -> dict[str, set[frozenset[str]]]:
    """Return each SLA family's label-name sets (``le`` left out) as the registry exports them."""
    found: dict[str, set[frozenset[str]]] = {}
    for family in REGISTRY.collect():
        if family.name.startswith("complaint_target"):
            for sample in family.samples:
                found.setdefault(family.name, set()).add(frozenset(sample.labels) - {"le"})
    return found


def samples(name: str, tier: str) -> list[Sample]:
    """Return the samples of one family for one tier."""
    return [sample for family in REGISTRY.collect() if family.name == name for sample in family.samples if sample.labels["tier"] == tier]


def record(tier: str, region: str, target: str = "response", outcome: str = "met") -> None:
    order = {"group_id": "G9", "region_id": region, "tier": tier, "channel": "app"}
    record_targets(order=order, results=[TargetResult(target, outcome, 1800.0, True, True, 3600.0)])


def test_every_default_tier_limit_is_a_bucket_edge_and_only_30_days_besides() -> None:
    limits = {target.duration.total_seconds() for targets in DEFAULT_POLICY.values() for target in targets.values()}
    assert limits <= set(TARGET_BUCKETS)
    assert set(TARGET_BUCKETS) - limits == {30 * DAY}
    assert list(TARGET_BUCKETS) == sorted(TARGET_BUCKETS)
    assert {900.0, 1800.0, 7200.0, DAY, 5 * DAY, 15 * DAY} <= set(TARGET_BUCKETS)


def test_the_contracts_labels_stay_and_the_share_has_target_and_tier_only() -> None:
    record("metrics-labels", "R1")
    labels = families()
    assert labels["complaint_target_seconds"] == {frozenset({"target", "tier", "region"})}
    assert labels["complaint_targets"] == {frozenset({"target", "tier", "region", "outcome"})}
    assert labels["complaint_target_elapsed_ratio"] == {frozenset({"target", "tier"})}


def test_twenty_regions_make_twenty_label_sets_of_seconds_and_one_of_the_share() -> None:
    tier = "metrics-regions"
    for number in range(1, 21):
        record(tier, f"R{number:02d}")
    seconds = {s.labels["region"] for s in samples("complaint_target_seconds", tier)}
    assert len(seconds) == 20
    share = samples("complaint_target_elapsed_ratio", tier)
    assert {s.name for s in share} == {f"complaint_target_elapsed_ratio_{kind}" for kind in ("bucket", "sum", "count")}
    count = next(s.value for s in share if s.name.endswith("_count"))
    half = next(s.value for s in share if s.name.endswith("_bucket") and s.labels["le"] == "0.5")
    assert count == half == 20  # 1,800 s of a 3,600 s limit, once per region, all in one series


def test_no_created_series_are_exported() -> None:
    record("metrics-created", "R1", outcome="breached")
    body, _ = render_metrics()
    assert b"complaint_targets_total{" in body and b"complaint_target_seconds_count{" in body
    assert b"_created" not in body
    assert b"_created" not in generate_latest(REGISTRY)
