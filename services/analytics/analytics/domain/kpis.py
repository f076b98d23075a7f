"""The complaint-handling KPIs of docs/PRODUCT.md §10, computed from complaint facts (``analytics.domain.facts``).

Pure: plain values in, plain values out. Definitions (the monthly review and the dashboards rely on them):
- Percentiles use linear interpolation between the closest ranks (Hyndman & Fan type 7, the default
  of numpy, Excel's PERCENTILE.INC and PostgreSQL's ``percentile_cont``): for sorted values
  ``x[0..n-1]`` the q-quantile is at rank ``h = (n - 1) q``, ``x[⌊h⌋] + (h - ⌊h⌋)(x[⌊h⌋+1] - x[⌊h⌋])``.
- Volume counts every complaint received in the period, cancelled ones included (they were taken in;
  ``cancelled`` says how many); a complaint not classified yet counts as ``unclassified``.
- Resolution rate = complaints resolved or closed ÷ complaints received, both without the cancelled
  ones (duplicates and invalid complaints are not work the centre could resolve).
- On-time rate per target and tier = met ÷ (met + breached), over the targets that can be judged
  (``facts.measured_outcome``); None when nothing was measured. Traffic light (docs/PRODUCT.md §10): green at
  95 % or more, yellow from 90 % to under 95 %, red under 90 %, None when nothing was measured.
- Response time = first contact - received; resolution time = last resolution - received, for the
  complaints resolved or closed. Wall-clock seconds, time on hold included: the time the resident
  waited (dispatch's SLA metrics exclude holds). Cancelled complaints are left out.
- Reopen (repeat, 二次投诉) rate = complaints reopened at least once ÷ complaints resolved at least once.
- Survey response rate = answered follow-up invitations ÷ invitations (a survey closed for lack of an
  answer is an invitation without an answer). CSAT = mean of every score of every answer (result,
  speed and attitude alike, 1-5), and the share of those scores that are 4 or 5.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from analytics.domain.facts import RESOLVED_STATUSES, measured_outcome
from propcare_shared.vocabulary import TARGETS, TIERS

GREEN_PERCENT = 95
YELLOW_PERCENT = 90
UNCLASSIFIED = "unclassified"
UNKNOWN = "unknown"

FactsDoc = Mapping[str, Any]


def mean(values: Sequence[float]) -> float | None:
    """Return the arithmetic mean, or None for no values."""
    return math.fsum(values) / len(values) if values else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """Return the q-quantile (0 ≤ q ≤ 1) by linear interpolation between closest ranks; None for no values."""
    if not 0 <= q <= 1:
        raise ValueError("q must lie between 0 and 1")
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q
    lower = math.floor(rank)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (rank - lower) * (ordered[upper] - ordered[lower])


def time_summary(seconds: Sequence[float]) -> dict[str, float | int | None]:
    """Return the count, mean, p50 and p90 of durations in seconds."""
    ordered = sorted(seconds)  # once: percentile's own sort of a sorted list is linear
    return {"count": len(ordered), "mean": mean(ordered), "p50": percentile(ordered, 0.5), "p90": percentile(ordered, 0.9)}


def ratio(part: int, whole: int) -> float | None:
    """Return part ÷ whole, or None when the whole is empty."""
    return part / whole if whole else None


def traffic_light(*, met: int, measured: int) -> str | None:
    """Return green (≥ 95 %), yellow (90 % to under 95 %) or red (< 90 %) for an on-time share; None if nothing measured."""
    if measured == 0:
        return None
    if met * 100 >= GREEN_PERCENT * measured:
        return "green"
    if met * 100 >= YELLOW_PERCENT * measured:
        return "yellow"
    return "red"


def counted(facts: Iterable[FactsDoc]) -> list[FactsDoc]:
    """Return the complaints the rates count: all but the cancelled."""
    return [item for item in facts if item.get("status") != "cancelled"]


def volume(facts: Sequence[FactsDoc]) -> dict[str, Any]:
    """Return the number of complaints, the cancelled among them, and the counts by category, subcategory, channel and tier."""

    def by(key: str, missing: str) -> dict[str, int]:
        counts = Counter(item.get(key) or missing for item in facts)
        return dict(sorted(counts.items(), key=lambda pair: (-pair[1], pair[0])))

    return {
        "total": len(facts),
        "cancelled": sum(1 for item in facts if item.get("status") == "cancelled"),
        "by_category": by("category", UNCLASSIFIED),
        "by_subcategory": by("subcategory", UNCLASSIFIED),
        "by_channel": by("channel", UNKNOWN),
        "by_tier": by("tier", UNCLASSIFIED),
    }


def resolution_rate(facts: Sequence[FactsDoc]) -> float | None:
    """Return the share of complaints resolved or closed, cancelled ones left out."""
    pool = counted(facts)
    return ratio(sum(1 for item in pool if item.get("status") in RESOLVED_STATUSES), len(pool))


def on_time(facts: Sequence[FactsDoc], *, now: datetime) -> dict[str, dict[str, dict[str, Any]]]:
    """Return ``{target: {tier: {rate, met, breached, light}}}`` for every target and tier the complaints have."""
    tallies: dict[tuple[str, str], Counter[str]] = {}
    for item in counted(facts):
        tier = item.get("tier")
        if tier is None:
            continue
        for target in set(item.get("deadlines") or {}) | set(item.get("outcomes") or {}):
            tally = tallies.setdefault((target, tier), Counter())
            outcome = measured_outcome(item, target, now=now)
            if outcome is not None:
                tally[outcome] += 1
    result: dict[str, dict[str, dict[str, Any]]] = {}
    for target, tier in sorted(tallies, key=lambda key: (_position(key[0], TARGETS), _position(key[1], TIERS))):
        tally = tallies[(target, tier)]
        met, breached = tally["met"], tally["breached"]
        result.setdefault(target, {})[tier] = {
            "rate": ratio(met, met + breached),
            "met": met,
            "breached": breached,
            "light": traffic_light(met=met, measured=met + breached),
        }
    return result


def response_times(facts: Sequence[FactsDoc]) -> list[float]:
    """Return the seconds from receipt to first contact of each complaint that had one."""
    return [
        _seconds(item["received_at"], item["responded_at"])
        for item in counted(facts)
        if item.get("received_at") and item.get("responded_at")
    ]


def resolution_times(facts: Sequence[FactsDoc]) -> list[float]:
    """Return the seconds from receipt to the last resolution of each complaint resolved or closed."""
    return [
        _seconds(item["received_at"], item["resolved_at"])
        for item in counted(facts)
        if item.get("status") in RESOLVED_STATUSES and item.get("received_at") and item.get("resolved_at")
    ]


def reopen_rate(facts: Sequence[FactsDoc]) -> float | None:
    """Return the share of complaints resolved at least once that were reopened at least once."""
    pool = [item for item in counted(facts) if item.get("resolved_at") or item.get("reopen_count")]
    return ratio(sum(1 for item in pool if item.get("reopen_count")), len(pool))


def survey(facts: Sequence[FactsDoc]) -> dict[str, Any]:
    """Return the follow-up survey figures: invited, answered, response rate, CSAT mean and share of 4-5."""
    invitations = [entry for item in facts for entry in (item.get("surveys") or {}).values()]
    answers = [entry for entry in invitations if entry.get("answered_at") is not None]
    scores = [float(score) for entry in answers for score in (entry.get("scores") or {}).values()]
    return {
        "invited": len(invitations),
        "answered": len(answers),
        "response_rate": ratio(len(answers), len(invitations)),
        "csat_mean": mean(scores),
        "csat_share_4_5": ratio(sum(1 for score in scores if score >= 4), len(scores)),
    }


def compute(facts: Sequence[FactsDoc], *, now: datetime) -> dict[str, Any]:
    """Return every KPI of the complaints received in a period (see the module's definitions)."""
    return {
        "volume": volume(facts),
        "resolution_rate": resolution_rate(facts),
        "on_time": on_time(facts, now=now),
        "response_time": time_summary(response_times(facts)),
        "resolution_time": time_summary(resolution_times(facts)),
        "reopen_rate": reopen_rate(facts),
        "survey": survey(facts),
    }


def _seconds(start: datetime, end: datetime) -> float:
    return max((end - start).total_seconds(), 0.0)


def _position(name: str, order: Sequence[str]) -> tuple[int, str]:
    return (order.index(name), name) if name in order else (len(order), name)
