"""Monthly and daily counters of complaints per estate: the pre-aggregated read models behind the monthly review and the KPIs.

Pure. A complaint counts in the bucket of its estate and the calendar month it was received in
(``monthly.REPORT_TIMEZONE``), as the review counts it, and in its estate's calendar day (``grain``
``day``: the KPIs of a period read the whole days from these and only the partial days at its edges
from the facts). ``contribution(facts)`` is what one
complaint adds to its bucket: counters (``$inc``) and, for what a counter cannot hold exactly, a
value under the complaint's id (``$set``):
- ``n.*`` counters: total, cancelled, counted (not cancelled), resolved, the reopen pool and the
  reopened, volume by category / subcategory / channel / tier, follow-up invitations and answers,
  the multiset of survey scores (``n.score.<score>``), on-time tallies per target and tier (present,
  met, breached: the outcomes that do not depend on the clock) and hotspot counts per
  (building, subcategory);
- ``v.*`` values by complaint id: response and resolution times (percentiles need every value) and
  ``pending``: a target whose outcome depends on ``now`` (no recorded outcome, a deadline, a status
  whose clock runs), kept as ``[tier, due_at]`` and judged when the review is computed.
``delta(before, after)`` turns two versions of a complaint's facts into the bucket writes that move
its contribution from one to the other; the projection applies them in the unit of work that saves
the facts, so the counters stay exactly equal to a scan of the facts, and a duplicate delivery
(no change of facts, or an inbox marker already there) writes nothing. ``figures(buckets, now=...)``
gives the same values as ``kpis.compute`` and ``monthly.hotspots`` over those facts (the equality is
a test: ``tests/analytics/test_month_counts.py``).

No personal data: ids, tenancy, vocabulary values, building numbers, times and scores only.
Field names are escaped (``key``): a ``.`` or ``$`` in a building would otherwise be a path.
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from analytics.domain import kpis
from analytics.domain.facts import CLOCK_RUNNING_STATUSES, RESOLVED_STATUSES
from propcare_shared.vocabulary import DEFAULT_TIMEZONE

REPORT_ZONE = ZoneInfo(DEFAULT_TIMEZONE)
DIMENSIONS = (("category", kpis.UNCLASSIFIED), ("subcategory", kpis.UNCLASSIFIED), ("channel", kpis.UNKNOWN), ("tier", kpis.UNCLASSIFIED))

BucketKey = tuple[Any, str]
"""(estate id, month as YYYY-MM)."""


@dataclass
class Contribution:
    """What one complaint adds to its estate's month."""

    key: BucketKey
    tenancy: dict[str, Any]
    counts: Counter[str] = field(default_factory=Counter)
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Write:
    """One bucket's update: counters to add, values to set and values to remove."""

    key: BucketKey
    tenancy: dict[str, Any]
    inc: dict[str, int]
    set: dict[str, Any]
    unset: list[str]


def key(value: Any) -> str:
    """Return a value as one field name: ``%``, ``.`` and ``$`` escaped, None as ``%00``."""
    if value is None:
        return "%00"
    return str(value).replace("%", "%25").replace(".", "%2E").replace("$", "%24")


def unkey(name: str) -> str | None:
    """Return the value a field name was made of (``key``)."""
    if name == "%00":
        return None
    return name.replace("%24", "$").replace("%2E", ".").replace("%25", "%")


def month_of(moment: datetime) -> str:
    """Return the calendar month (``YYYY-MM``, report time zone) a complaint received at ``moment`` counts in."""
    return f"{moment.astimezone(REPORT_ZONE):%Y-%m}"


def day_of(moment: datetime) -> str:
    """Return the calendar day (``YYYY-MM-DD``, report time zone) a complaint received at ``moment`` counts in."""
    return f"{moment.astimezone(REPORT_ZONE):%Y-%m-%d}"


GRAINS = {"month": month_of, "day": day_of}
"""The buckets a complaint counts in: its estate's month (the monthly review) and its estate's day (KPIs of any period)."""


def contribution(facts: Mapping[str, Any] | None, grain: str = "month") -> Contribution | None:
    """Return what a complaint adds to its estate's month (or day), or None when it counts in no bucket yet."""
    if facts is None or facts.get("received_at") is None:
        return None
    complaint_id = key(facts["_id"])
    tenancy = {name: facts.get(name) for name in ("group_id", "region_id", "estate_id")}
    result = Contribution(key=(facts.get("estate_id"), GRAINS[grain](facts["received_at"])), tenancy=tenancy)
    counts = result.counts
    counts["n.total"] += 1
    for dimension, missing in DIMENSIONS:
        counts[f"n.{dimension}.{key(facts.get(dimension) or missing)}"] += 1
    invitations = list((facts.get("surveys") or {}).values())
    counts["n.survey.invited"] += len(invitations)
    for entry in invitations:
        if entry.get("answered_at") is not None:
            counts["n.survey.answered"] += 1
            for score in (entry.get("scores") or {}).values():
                counts[f"n.score.{key(repr(float(score)))}"] += 1
    if facts.get("status") == "cancelled":
        counts["n.cancelled"] += 1
        return _clean(result)
    counts["n.counted"] += 1
    status = facts.get("status")
    if status in RESOLVED_STATUSES:
        counts["n.resolved"] += 1
    if facts.get("resolved_at") or facts.get("reopen_count"):
        counts["n.reopen_pool"] += 1
        counts["n.reopened"] += 1 if facts.get("reopen_count") else 0
    _on_time(result, facts, complaint_id)
    if facts.get("received_at") and facts.get("responded_at"):
        result.values[f"v.response.{complaint_id}"] = kpis.response_times([facts])[0]
    if status in RESOLVED_STATUSES and facts.get("received_at") and facts.get("resolved_at"):
        result.values[f"v.resolution.{complaint_id}"] = kpis.resolution_times([facts])[0]
    if facts.get("subcategory") is not None:
        counts[f"n.spot.{key(json.dumps([facts.get('building'), facts['subcategory']]))}"] += 1
    return _clean(result)


def _on_time(result: Contribution, facts: Mapping[str, Any], complaint_id: str) -> None:
    tier = facts.get("tier")
    if tier is None:
        return
    status = facts.get("status")
    outcomes, deadlines = facts.get("outcomes") or {}, facts.get("deadlines") or {}
    for target in set(deadlines) | set(outcomes):
        prefix = f"n.on_time.{key(target)}.{key(tier)}"
        result.counts[f"{prefix}.present"] += 1
        recorded = outcomes.get(target)
        if recorded is not None:
            result.counts[f"{prefix}.{recorded['outcome']}"] += 1
            continue
        due_at = deadlines.get(target)
        running = status == "resolved" if target == "follow_up" else status in CLOCK_RUNNING_STATUSES
        if due_at is not None and running:
            result.values[f"v.pending.{complaint_id}.{key(target)}"] = [tier, due_at]


def _clean(result: Contribution) -> Contribution:
    result.counts = Counter({name: count for name, count in result.counts.items() if count})
    return result


def delta(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None, grain: str = "month") -> list[Write]:
    """Return the bucket writes that replace ``before``'s contribution by ``after``'s (nothing when they are equal).

    Every write names the bucket's tenancy, so a bucket exists with it from its first complaint on.
    """
    old, new = contribution(before, grain), contribution(after, grain)
    writes: dict[BucketKey, Write] = {}
    if old is not None:
        writes[old.key] = Write(old.key, old.tenancy, {name: -count for name, count in old.counts.items()}, {}, list(old.values))
    if new is not None:
        kept = writes.pop(new.key, None)
        inc = dict(kept.inc) if kept else {}
        for name, count in new.counts.items():
            inc[name] = inc.get(name, 0) + count
        previous = old.values if kept is not None and old is not None else {}
        changed = {name: value for name, value in new.values.items() if name not in previous or previous[name] != value}
        unset = [name for name in (kept.unset if kept else []) if name not in new.values]
        retenanted = kept is not None and kept.tenancy != new.tenancy
        write = Write(new.key, new.tenancy, {name: count for name, count in inc.items() if count}, changed, unset)
        if kept is None or retenanted or write.inc or write.set or write.unset:
            writes[new.key] = write
    return list(writes.values())


def rebuild(facts: Iterable[Mapping[str, Any]], grain: str = "month") -> dict[BucketKey, dict[str, Any]]:
    """Return the buckets of these facts from scratch (a migration or a check; the projection keeps them by ``delta``)."""
    return rebuild_grains(facts, (grain,))[grain]


def rebuild_grains(facts: Iterable[Mapping[str, Any]], grains: Iterable[str]) -> dict[str, dict[BucketKey, dict[str, Any]]]:
    """Return the buckets of each grain of these facts, in one pass over them."""
    result: dict[str, dict[BucketKey, dict[str, Any]]] = {grain: {} for grain in grains}
    for item in facts:
        for grain, buckets in result.items():
            part = contribution(item, grain)
            if part is None:
                continue
            bucket = buckets.setdefault(part.key, {"counts": Counter(), "values": {}, "tenancy": part.tenancy})
            bucket["counts"].update(part.counts)
            bucket["values"].update(part.values)
    return result


def stored(bucket_key: BucketKey, bucket: Mapping[str, Any], grain: str = "month") -> dict[str, Any]:
    """Return a bucket of ``rebuild`` as the projection's writes leave it in MongoDB (dotted names nested)."""
    document: dict[str, Any] = {**bucket["tenancy"], grain: bucket_key[1]}
    for name, value in [*bucket["counts"].items(), *bucket["values"].items()]:
        node = document
        *path, last = name.split(".")
        for part in path:
            node = node.setdefault(part, {})
        node[last] = value
    return document


# reading ------------------------------------------------------------------------------------------


def _flat(prefix: str, node: Mapping[str, Any], into: Counter[str]) -> None:
    """Add a bucket's nested counters to ``into`` under their dotted names (zeros left out)."""
    for name, value in node.items():
        if isinstance(value, dict):
            _flat(f"{prefix}{name}.", value, into)
        elif value:
            into[prefix + name] += value


@dataclass
class Merged:
    """Stored buckets summed: the counters, the response and resolution times, and the pending targets ``(target, tier, due_at)``."""

    counts: Counter[str] = field(default_factory=Counter)
    response: list[float] = field(default_factory=list)
    resolution: list[float] = field(default_factory=list)
    pending: list[tuple[str, str, datetime]] = field(default_factory=list)


def merged(buckets: Iterable[Mapping[str, Any]]) -> Merged:
    """Return the counters of stored buckets summed and their per-complaint values gathered.

    The values go straight into lists (no name per value, no filtering afterwards): a group's month
    holds ~85,000 response and resolution times, and this loop is most of the review's merge time.
    """
    result = Merged()
    counts = result.counts
    for bucket in buckets:
        _flat("n.", bucket.get("n") or {}, counts)
        stored = bucket.get("v") or {}
        result.response.extend((stored.get("response") or {}).values())
        result.resolution.extend((stored.get("resolution") or {}).values())
        for targets in (stored.get("pending") or {}).values():
            for target, (tier, due_at) in targets.items():
                result.pending.append((str(unkey(target)), tier, due_at))
    return result


def _by(counts: Mapping[str, int], dimension: str) -> dict[str, int]:
    prefix = f"n.{dimension}."
    found = {str(unkey(name[len(prefix) :])): count for name, count in counts.items() if name.startswith(prefix)}
    return dict(sorted(found.items(), key=lambda pair: (-pair[1], pair[0])))


def figures(buckets: Iterable[Mapping[str, Any]], *, now: datetime, limit: int) -> tuple[dict[str, Any], list[tuple[Any, ...]], int]:
    """Return ``kpis.compute``'s figures, the (estate, building, subcategory, count) rows of hotspots (best first) and the counted total."""
    stored = list(buckets)
    gathered = merged(stored)
    counts = gathered.counts
    total, counted = counts["n.total"], counts["n.counted"]
    figures_ = {
        "volume": {
            "total": total,
            "cancelled": counts["n.cancelled"],
            **{f"by_{dimension}": _by(counts, dimension) for dimension, _missing in DIMENSIONS},
        },
        "resolution_rate": kpis.ratio(counts["n.resolved"], counted),
        "on_time": _on_time_figures(counts, gathered.pending, now=now),
        "response_time": kpis.time_summary(gathered.response),
        "resolution_time": kpis.time_summary(gathered.resolution),
        "reopen_rate": kpis.ratio(counts["n.reopened"], counts["n.reopen_pool"]),
        "survey": _survey(counts),
    }
    return figures_, _spots(stored, limit=limit), counted


def _survey(counts: Mapping[str, int]) -> dict[str, Any]:
    scores = [
        float(str(unkey(name[len("n.score.") :]))) for name, count in counts.items() if name.startswith("n.score.") for _ in range(count)
    ]
    invited, answered = counts["n.survey.invited"], counts["n.survey.answered"]
    return {
        "invited": invited,
        "answered": answered,
        "response_rate": kpis.ratio(answered, invited),
        "csat_mean": kpis.mean(scores),
        "csat_share_4_5": kpis.ratio(sum(1 for score in scores if score >= 4), len(scores)),
    }


def _on_time_figures(
    counts: Mapping[str, int], pending: Iterable[tuple[str, str, datetime]], *, now: datetime
) -> dict[str, dict[str, dict[str, Any]]]:
    tallies: dict[tuple[str, str], Counter[str]] = {}
    for name, count in counts.items():
        if name.startswith("n.on_time."):
            target, tier, measure = name[len("n.on_time.") :].split(".")
            tallies.setdefault((str(unkey(target)), str(unkey(tier))), Counter())[measure] += count
    for target, tier, due_at in pending:
        if due_at < now:
            tallies.setdefault((target, tier), Counter())["breached"] += 1
    result: dict[str, dict[str, dict[str, Any]]] = {}
    ordered = sorted(tallies, key=lambda pair: (kpis._position(pair[0], kpis.TARGETS), kpis._position(pair[1], kpis.TIERS)))
    for target, tier in ordered:
        tally = tallies[(target, tier)]
        if not tally["present"]:
            continue
        met, breached = tally["met"], tally["breached"]
        result.setdefault(target, {})[tier] = {
            "rate": kpis.ratio(met, met + breached),
            "met": met,
            "breached": breached,
            "light": kpis.traffic_light(met=met, measured=met + breached),
        }
    return result


@functools.lru_cache(maxsize=65536)
def _spot(name: str) -> tuple[Any, Any]:
    """Return the (building, subcategory) of a hotspot counter's name; cached, as every month repeats each estate's few buildings."""
    building, subcategory = json.loads(str(unkey(name)))
    return building, subcategory


def _spots(buckets: list[Mapping[str, Any]], *, limit: int) -> list[tuple[Any, ...]]:
    counts: Counter[tuple[Any, ...]] = Counter()
    for bucket in buckets:
        for name, count in ((bucket.get("n") or {}).get("spot") or {}).items():
            if count:
                building, subcategory = _spot(name)
                counts[(bucket["estate_id"], building, subcategory)] += count
    rows = [(*place, count) for place, count in counts.items()]
    rows.sort(key=lambda row: (-row[3], tuple(str(part) for part in row[:3])))
    return rows[:limit]
