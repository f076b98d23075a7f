"""Per-campaign monthly counters: the pre-aggregated read model behind the monthly review's campaign results.

Pure. An answer counts in the bucket of its campaign, the calendar month it was answered in
(``campaign_figures.month_key``, Asia/Shanghai) and its own tenancy (the scope filter of the review
reads the answers' tenancy, so the bucket keeps it). ``contribution(answer, campaign)`` is what one
answer adds, all of it ``$inc`` counters:
- ``n.responses``; the multisets of ``overall`` (``n.overall.<v>``) and ``recommend``
  (``n.recommend.<v>``), ``none`` for a missing score: the responses, overall mean and NPS;
- per dimension of the campaign, a joint histogram of the answer's dimension score and its overall
  (``n.dim.<dimension>.<score>|<overall>``). Dimension scores are means of 1-5 questions and overall
  is 1-10, so a dimension has at most a few dozen cells however many answers it has.

Why histograms rather than sums, sums of squares and cross-products: ``fix_first`` compares Pearson
weights with their median (``weight >= cut``) and means with theirs; r computed from running sums
rounds differently from the two-pass ``satisfaction.pearson`` and can flip a tie. Expanding a
histogram gives the very multiset of values the answers give, and ``satisfaction``'s functions sum
with ``math.fsum`` (order does not matter), so the figures are bit-for-bit those of the answer scan
(``tests/analytics/test_campaign_months.py``) at the cost of a small expansion per campaign read.

The dimensions are those of the campaign record when the answer is counted; when a campaign event
changes a campaign's dimensions (an answer that came before ``campaign.started``, or a new
description), the projection rebuilds that campaign's buckets from its answers (``rebuild``) in the
same unit of work. No personal data: ids, tenancy, months and scores only.
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from analytics.domain import campaign_figures, satisfaction
from analytics.domain.kpis import mean
from analytics.domain.month_counts import key, unkey

BucketKey = tuple[str, str, str | None, str | None, str | None]
"""(campaign id, month YYYY-MM, group, region, estate)."""

Record = Mapping[str, Any]


@dataclass(frozen=True)
class Write:
    """One bucket's counters to add (negative to remove)."""

    key: BucketKey
    inc: dict[str, int]


def bucket_id(bucket_key: BucketKey) -> str:
    """Return the ``_id`` of a bucket: campaign, month and tenancy (JSON, so no separator can collide)."""
    return json.dumps(list(bucket_key))


def _score(value: Any) -> str:
    return "none" if value is None else key(repr(value))


def contribution(answer: Record | None, campaign: Record | None) -> tuple[BucketKey, Counter[str]] | None:
    """Return the bucket an answer counts in and what it adds there, or None for no answer."""
    if answer is None or answer.get("answered_at") is None:
        return None
    bucket: BucketKey = (
        answer["campaign_id"],
        campaign_figures.month_key(answer["answered_at"]),
        answer.get("group_id"),
        answer.get("region_id"),
        answer.get("estate_id"),
    )
    counts: Counter[str] = Counter({"n.responses": 1})
    counts[f"n.overall.{_score(answer.get('overall'))}"] += 1
    counts[f"n.recommend.{_score(answer.get('recommend'))}"] += 1
    overall = answer.get("overall")
    for dimension in (campaign or {}).get("dimensions") or []:
        score = satisfaction.dimension_score(answer, dimension["questions"])
        if score is not None:
            cell = f"{score!r}|{'none' if overall is None else repr(float(overall))}"
            counts[f"n.dim.{key(dimension['id'])}.{key(cell)}"] += 1
    return bucket, counts


def delta(before: Record | None, after: Record | None, campaign: Record | None, before_campaign: Record | None = None) -> list[Write]:
    """Return the writes that replace ``before``'s contribution by ``after``'s (nothing when they are equal).

    ``before`` was counted with ``before_campaign``'s dimensions (default ``campaign``: the same campaign).
    """
    writes: dict[BucketKey, Counter[str]] = {}
    old, new = contribution(before, before_campaign or campaign), contribution(after, campaign)
    if old is not None:
        writes.setdefault(old[0], Counter()).subtract(old[1])
    if new is not None:
        writes.setdefault(new[0], Counter()).update(new[1])
    result = []
    for bucket, counts in writes.items():
        inc = {name: count for name, count in counts.items() if count}
        if inc:
            result.append(Write(bucket, inc))
    return result


def rebuild(answers: Iterable[Record], campaigns: Mapping[str, Record]) -> dict[BucketKey, Counter[str]]:
    """Return the buckets of these answers from scratch, each counted with its campaign's dimensions (a migration, a repair, a check)."""
    buckets: dict[BucketKey, Counter[str]] = {}
    for answer in answers:
        part = contribution(answer, campaigns.get(answer["campaign_id"]))
        if part is not None:
            buckets.setdefault(part[0], Counter()).update(part[1])
    return buckets


def stored(bucket_key: BucketKey, counts: Mapping[str, int]) -> dict[str, Any]:
    """Return a bucket as the projection's ``$inc`` writes leave it in MongoDB (dotted names nested)."""
    campaign_id, month, group_id, region_id, estate_id = bucket_key
    document: dict[str, Any] = {
        "_id": bucket_id(bucket_key),
        "campaign_id": campaign_id,
        "month": month,
        "group_id": group_id,
        "region_id": region_id,
        "estate_id": estate_id,
    }
    for name, count in counts.items():
        if not count:
            continue
        node = document
        *path, last = name.split(".")
        for part in path:
            node = node.setdefault(part, {})
        node[last] = count
    return document


# reading ------------------------------------------------------------------------------------------


def _expanded(histogram: Mapping[str, int]) -> list[float]:
    values = []
    for name, count in histogram.items():
        if name != "none" and count > 0:
            values.extend([float(str(unkey(name)))] * count)
    return values


def _summary(responses: int, overall: Mapping[str, int], recommend: Mapping[str, int]) -> dict[str, Any]:
    return {"n": responses, "overall_mean": mean(_expanded(overall)), **satisfaction.nps(_expanded(recommend))}


@dataclass
class CampaignMonth:
    """A campaign's month, its buckets summed: responses, overall and recommend multisets, dimension histograms."""

    responses: int
    overall: Counter[str]
    recommend: Counter[str]
    dimensions: dict[str, Counter[str]]


def merged(buckets: Iterable[Mapping[str, Any]]) -> dict[str, CampaignMonth]:
    """Return the stored buckets summed per campaign."""
    result: dict[str, CampaignMonth] = {}
    for bucket in buckets:
        counters = bucket.get("n") or {}
        entry = result.setdefault(bucket["campaign_id"], CampaignMonth(0, Counter(), Counter(), {}))
        entry.responses += int(counters.get("responses") or 0)
        entry.overall.update(counters.get("overall") or {})
        entry.recommend.update(counters.get("recommend") or {})
        for dimension, cells in (counters.get("dim") or {}).items():
            entry.dimensions.setdefault(str(unkey(dimension)), Counter()).update(cells)
    return result


@functools.lru_cache(maxsize=65536)
def _cell(name: str) -> tuple[float, float | None]:
    """Return a histogram cell's (dimension score, overall); cached: a group's month reads the same few hundred cells many times."""
    score_text, overall_text = str(unkey(name)).split("|")
    return float(score_text), None if overall_text == "none" else float(overall_text)


def dimension_rows(month: CampaignMonth, questionnaire: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Return ``satisfaction.dimensions``' rows of a campaign's month, from its histograms."""
    rows = []
    for dimension in questionnaire:
        scored: list[float] = []
        xs: list[float] = []
        ys: list[float] = []
        for cell, count in month.dimensions.get(dimension["id"], Counter()).items():
            if count <= 0:
                continue
            score, overall = _cell(cell)
            scored.extend([score] * count)
            if overall is not None:
                xs.extend([score] * count)
                ys.extend([overall] * count)
        rows.append({"id": dimension["id"], "n": len(scored), "mean": mean(scored), "weight": satisfaction.pearson(xs, ys)})
    return rows


def fix_first(month: CampaignMonth, campaign: Record) -> list[str]:
    """Return ``campaign_figures.fix_first`` of a campaign's month, from its histograms."""
    if month.responses < campaign_figures.MIN_CELL:
        return []
    matrix = satisfaction.priority_matrix(dimension_rows(month, campaign.get("dimensions") or []))
    return [item["dimension"] for item in matrix if item["quadrant"] == "fix_first"][: campaign_figures.TOP_FIX_FIRST]


def month_results(
    *, campaigns: Sequence[Record], buckets: Iterable[Mapping[str, Any]], responded_by_end: Mapping[str, int]
) -> dict[str, Any]:
    """Return ``campaign_figures.month_results`` of a scope's month from its campaigns' buckets (same figures, see the module)."""
    months = merged(buckets)
    empty = CampaignMonth(0, Counter(), Counter(), {})
    total_overall: Counter[str] = Counter()
    total_recommend: Counter[str] = Counter()
    for entry in months.values():
        total_overall.update(entry.overall)
        total_recommend.update(entry.recommend)
    total = _summary(sum(entry.responses for entry in months.values()), total_overall, total_recommend)
    rows = []
    for campaign in sorted(campaigns, key=lambda item: (item.get("estate_id") or "", item["campaign_id"])):
        own = months.get(campaign["campaign_id"], empty)
        summary = _summary(own.responses, own.overall, own.recommend)
        rows.append(
            campaign_figures.campaign_row(
                campaign,
                summary=summary,
                responded=int(responded_by_end.get(campaign["campaign_id"], 0)),
                fix_first=fix_first(own, campaign),
            )
        )
    return campaign_figures.results(total, rows)
