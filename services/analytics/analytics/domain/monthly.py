"""The monthly review (复盘) of a scope: this month's complaint figures beside last month's.

Pure: complaint facts in (``analytics.domain.facts``), plain values out. Rules:
- A month is a calendar month in ``REPORT_TIMEZONE`` (Asia/Shanghai, the vocabulary's
  ``DEFAULT_TIMEZONE``, until groups name their own): ``2026-11`` is ``[2026-11-01 00:00+08:00,
  2026-12-01 00:00+08:00)``, i.e. from 2026-10-31T16:00Z. A complaint belongs to the month it was
  received in.
- ``month`` must be ``YYYY-MM`` (``MonthMalformed``) and must have started (``MonthInFuture``); the current
  month is reported as far as it goes.
- The figures are those of ``analytics.domain.kpis.compute`` (same definitions), plus the top hotspots:
  the (estate, building, subcategory) with the most complaints of the month, cancelled ones and
  unclassified ones left out, each with its share of the month's complaints (cancelled left out).
- Each hotspot row carries the threshold in force at its estate (``domain.hotspot_settings``) and
  whether its month's count reaches it; the report names the setting in force at its scope.
- The month's campaign results (``domain.campaign_figures.month_results``): the campaigns of the scope
  with answers in the month or closing in it, each with its responses, response rate, overall mean,
  NPS and the dimensions to fix first, and the month's totals. A month without any has
  ``satisfaction.status`` ``no_campaign_data`` and says so.
- Month over month: every figure, the campaign results included, is flattened to ``(section, key)``
  and shown with this month's value, last month's and the change (this - last) when both are numbers.
  A month without complaints has ``None`` rates and times, never a division by zero, and ``has_data`` false.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from analytics.domain import campaign_figures, kpis
from propcare_shared.vocabulary import DEFAULT_TIMEZONE

REPORT_TIMEZONE = DEFAULT_TIMEZONE
TOP_HOTSPOTS = 10
NO_CAMPAIGNS = "本月无满意度调查结果 No campaign results this month."
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")

FactsDoc = Mapping[str, Any]


class MonthMalformed(ValueError):
    """Raised for a month that is not ``YYYY-MM``."""


class MonthInFuture(ValueError):
    """Raised for a month that has not started yet."""


@dataclass(frozen=True)
class Month:
    """A calendar month in the report time zone."""

    year: int
    month: int

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def start(self) -> datetime:
        """The first instant of the month, in UTC."""
        return datetime(self.year, self.month, 1, tzinfo=ZoneInfo(REPORT_TIMEZONE)).astimezone(UTC)

    @property
    def end(self) -> datetime:
        """The first instant of the next month, in UTC (the end is exclusive)."""
        return self.next().start

    def next(self) -> Month:
        """Return the month after this one."""
        return Month(self.year + 1, 1) if self.month == 12 else Month(self.year, self.month + 1)

    def previous(self) -> Month:
        """Return the month before this one."""
        return Month(self.year - 1, 12) if self.month == 1 else Month(self.year, self.month - 1)


def parse_month(text: str, *, now: datetime) -> Month:
    """Return the month of ``YYYY-MM``; refuse a malformed one or one that has not started by ``now``."""
    match = _MONTH.match(text or "")
    if match is None:
        raise MonthMalformed(f"{text!r} is not a month as YYYY-MM")
    month = Month(int(match.group(1)), int(match.group(2)))
    if month.start > now:
        raise MonthInFuture(f"{month} has not started yet")
    return month


def hotspots(facts: Sequence[FactsDoc], *, limit: int = TOP_HOTSPOTS, thresholds: Mapping[str, int] | None = None) -> list[dict[str, Any]]:
    """Return the busiest (estate, building, subcategory) of the complaints with their count, share and estate's threshold."""
    pool = kpis.counted(facts)
    counts = Counter(
        (item.get("estate_id"), item.get("building"), item["subcategory"]) for item in pool if item.get("subcategory") is not None
    )
    ranked = sorted(counts.items(), key=lambda pair: (-pair[1], tuple(str(part) for part in pair[0])))[:limit]
    return hotspot_items([(*place, count) for place, count in ranked], counted=len(pool), thresholds=thresholds)


def hotspot_items(rows: Sequence[tuple[Any, ...]], *, counted: int, thresholds: Mapping[str, int] | None = None) -> list[dict[str, Any]]:
    """Return hotspot rows ``(estate, building, subcategory, count)``, best first, with their share and their estate's threshold."""
    limits = thresholds or {}
    return [
        {
            "estate_id": estate_id,
            "building": building,
            "subcategory": subcategory,
            "count": count,
            "share": count / counted,
            "threshold": limits.get(str(estate_id)),
            "reaches_threshold": estate_id in limits and building is not None and count >= limits[str(estate_id)],
        }
        for estate_id, building, subcategory, count in rows
    ]


def figures(
    facts: Sequence[FactsDoc],
    *,
    now: datetime,
    campaigns: Mapping[str, Any] | None = None,
    thresholds: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """Return one month's figures: the KPIs of ``kpis.compute``, the top hotspots and the campaign results."""
    results = campaigns or campaign_figures.month_results(campaigns=[], answers=[], responded_by_end={})
    return {**kpis.compute(facts, now=now), "hotspots": hotspots(facts, thresholds=thresholds), "satisfaction": dict(results)}


def flatten(month_figures: Mapping[str, Any]) -> dict[tuple[str, str], Any]:
    """Return ``{(section, key): value}`` of one month's figures, one entry per figure."""
    rows: dict[tuple[str, str], Any] = {}
    volume = month_figures["volume"]
    rows[("volume", "total")] = volume["total"]
    rows[("volume", "cancelled")] = volume["cancelled"]
    for dimension in ("category", "subcategory", "channel", "tier"):
        for key, count in volume[f"by_{dimension}"].items():
            rows[(f"volume_by_{dimension}", key)] = count
    rows[("resolution", "resolution_rate")] = month_figures["resolution_rate"]
    for target, tiers in month_figures["on_time"].items():
        for tier, entry in tiers.items():
            rows[("on_time", f"{target}.{tier}.rate")] = entry["rate"]
            rows[("on_time", f"{target}.{tier}.light")] = entry["light"]
    for section in ("response_time", "resolution_time"):
        for key in ("count", "mean", "p50", "p90"):
            rows[(section, f"{key}_seconds" if key != "count" else key)] = month_figures[section][key]
    rows[("reopen", "reopen_rate")] = month_figures["reopen_rate"]
    for key, value in month_figures["survey"].items():
        rows[("follow_up_survey", key)] = value
    for spot in month_figures["hotspots"]:
        name = f"{spot['estate_id']}/{spot['building'] or '-'}/{spot['subcategory']}"
        rows[("hotspots", f"{name}.count")] = spot["count"]
        rows[("hotspots", f"{name}.share")] = spot["share"]
    if "satisfaction" in month_figures:
        rows.update(campaign_figures.flatten(month_figures["satisfaction"]))
    return rows


def compare(this_month: Mapping[str, Any], last_month: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return one row per figure of either month: section, key, this month, last month and the change."""
    current, previous = flatten(this_month), flatten(last_month)
    keys = list(current) + [key for key in previous if key not in current]
    rows = []
    for section, key in keys:
        value, before = current.get((section, key)), previous.get((section, key))
        change = _difference(value, before)
        rows.append(
            {
                "section": section,
                "key": key,
                "this_month": value,
                "previous_month": before,
                "change": change,
            }
        )
    return rows


def review(
    *,
    scope: str,
    month: Month,
    this_facts: Sequence[FactsDoc],
    last_facts: Sequence[FactsDoc],
    now: datetime,
    this_campaigns: Mapping[str, Any] | None = None,
    last_campaigns: Mapping[str, Any] | None = None,
    hotspot_setting: Mapping[str, Any] | None = None,
    thresholds: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """Return the monthly review of a scope: both months' figures and the month-over-month rows."""
    this_month = figures(this_facts, now=now, campaigns=this_campaigns, thresholds=thresholds)
    last_month = figures(last_facts, now=now, campaigns=last_campaigns, thresholds=thresholds)
    return assembled(
        scope=scope,
        month=month,
        this_month=this_month,
        last_month=last_month,
        now=now,
        has_data=bool(this_facts),
        hotspot_setting=hotspot_setting,
    )


def assembled(
    *,
    scope: str,
    month: Month,
    this_month: dict[str, Any],
    last_month: dict[str, Any],
    now: datetime,
    has_data: bool,
    hotspot_setting: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Return the monthly review of both months' figures (``figures``, or the same computed from monthly counters)."""
    campaigns_status = this_month["satisfaction"]["status"]
    return {
        "scope": scope,
        "month": str(month),
        "previous_month": str(month.previous()),
        "timezone": REPORT_TIMEZONE,
        "from": month.start,
        "to": month.end,
        "generated_at": now,
        "has_data": has_data,
        "this_month": this_month,
        "last_month": last_month,
        "month_over_month": compare(this_month, last_month),
        "hotspot_setting": dict(hotspot_setting) if hotspot_setting else None,
        "satisfaction": {"status": campaigns_status, "note": NO_CAMPAIGNS if campaigns_status == "no_campaign_data" else None},
    }


def _difference(value: Any, before: Any) -> float | int | None:
    numbers = all(isinstance(item, int | float) and not isinstance(item, bool) for item in (value, before))
    return value - before if numbers else None  # type: ignore[no-any-return]
