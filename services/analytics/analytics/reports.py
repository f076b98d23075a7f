"""The figures behind analytics' read routes, as plain functions of the store: KPIs, hotspots, satisfaction, the monthly review.

The routes (``routes``, ``satisfaction_routes``) check the scope and parse the arguments, then call
these; the benchmark (``tests/bench/analytics_scale.py``) and the query-plan tests call the same
functions, so what is measured is what a request runs. ``query`` is a scope's filter already checked
(``analytics.scopes``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, time, timedelta
from typing import Any

from analytics.domain import campaign_figures, campaign_months, kpis, month_counts, monthly
from analytics.domain.hotspot_settings import HotspotSetting
from analytics.scopes import setting_view, settings_of_estates
from analytics.store import AnalyticsStore
from propcare_shared.tenancy import Tenancy


def kpi_figures(store: AnalyticsStore, *, query: Mapping[str, Any], start: datetime, end: datetime, now: datetime) -> dict[str, Any]:
    """Return the KPIs of the complaints of ``query`` received in ``[start, end)``: ``kpis.compute`` of their facts.

    The whole days of the period come from the daily counters, the partial days at its edges from
    the facts (folded into counters the same way), so a region's 30 days read ~1,500 small documents
    and a few hundred facts instead of every fact of the period.
    """
    days = whole_days(start, end)
    if days is None:
        return kpis.compute(store.facts_received(query=query, start=start, end=end), now=now)
    first, last = days
    buckets = store.day_buckets(query=query, first=month_counts.day_of(first), last=month_counts.day_of(last))
    edges = [*store.facts_received(query=query, start=start, end=first), *store.facts_received(query=query, start=last, end=end)]
    folded = [month_counts.stored(key, bucket, "day") for key, bucket in month_counts.rebuild(edges, "day").items()]
    figures, _rows, _counted = month_counts.figures([*buckets, *folded], now=now, limit=0)
    return figures


def whole_days(start: datetime, end: datetime) -> tuple[datetime, datetime] | None:
    """Return the first and last midnight (report time zone) of the whole days in ``[start, end)``, or None when there is none."""
    zone = month_counts.REPORT_ZONE
    local = start.astimezone(zone)
    first = datetime.combine(local.date(), time(0), tzinfo=zone)
    if first < local:
        first = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=zone)
    last = datetime.combine(end.astimezone(zone).date(), time(0), tzinfo=zone)
    return (first, last) if first < last else None


def hotspot_figures(
    store: AnalyticsStore, *, query: Mapping[str, Any], now: datetime, days: int, limit: int, scope_setting: HotspotSetting
) -> tuple[int, list[dict[str, Any]]]:
    """Return the complaints of the last ``days`` days and the busiest locations, each judged against its estate's setting."""
    since = now - timedelta(days=days)
    total, rows = store.top_locations(query=query, since=since, until=now, limit=limit)
    detected = store.last_detections(query=query, since=since)
    estates = settings_of_estates(store, [store.estate_tenancy(row["estate_id"]) or Tenancy(row["group_id"]) for row in rows])
    items = []
    for row in rows:
        setting = estates.get(row["estate_id"], scope_setting)
        items.append(
            {
                **row,
                "share": row["count"] / total,
                "threshold": setting.threshold,
                "threshold_days": setting.days,
                "reaches_threshold": row["building"] is not None and row["count"] >= setting.threshold,
                "last_detected_at": detected.get((row["group_id"], row["estate_id"], row["building"], row["subcategory"])),
            }
        )
    return total, items


def satisfaction_figures(
    store: AnalyticsStore,
    *,
    query: Mapping[str, Any],
    campaign_id: str | None,
    campaign: Mapping[str, Any] | None,
    start: datetime | None,
    end: datetime | None,
) -> tuple[list[str], dict[str, Any]]:
    """Return the campaigns counted and the satisfaction figures of the answers of ``query`` (one campaign's when named)."""
    answers = store.answers(query=query, campaign_id=campaign_id, start=start, end=end)
    named = {campaign_id} if campaign is not None and campaign_id else set()
    campaign_ids = sorted({answer["campaign_id"] for answer in answers} | named)
    campaigns = store.campaigns(query=query, campaign_ids=campaign_ids)
    months = campaign_figures.months_between(start, end) if start is not None and end is not None else None
    return campaign_ids, campaign_figures.figures(answers, campaigns=campaigns, months=months, campaign=campaign)


def month_results(store: AnalyticsStore, *, query: Mapping[str, Any], month: monthly.Month) -> dict[str, Any]:
    """Return the campaign results of a scope's month: the campaigns answered or closing in it (``campaign_figures.month_results``).

    Read from the per-campaign monthly counters (``domain.campaign_months``), not the answers: a
    group's month is ~170 small documents instead of ~10,000 answers and their dimension scores.
    """
    buckets = store.campaign_month_buckets(query=query, month=str(month))
    records = _month_campaigns(store, query=query, month=month, seen=buckets)
    responded = store.campaign_responses_until(campaign_ids=records, month=str(month))
    return campaign_months.month_results(campaigns=list(records.values()), buckets=buckets, responded_by_end=responded)


def _month_campaigns(
    store: AnalyticsStore, *, query: Mapping[str, Any], month: monthly.Month, seen: Sequence[Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Return the campaign records of a month: those with rows in it (``seen``) and those closing in it.

    A campaign seen in the rows whose record analytics has not received yet stands in with its tenancy
    and no dimensions.
    """
    closing = store.campaigns_closing(query=query, start=month.start, end=month.end)
    records = store.campaigns(query=query, campaign_ids={row["campaign_id"] for row in seen} | set(closing))
    for row in seen:
        records.setdefault(row["campaign_id"], {"campaign_id": row["campaign_id"], **Tenancy.of(row).fields(), "dimensions": []})
    return records


def month_results_scanned(store: AnalyticsStore, *, query: Mapping[str, Any], month: monthly.Month) -> dict[str, Any]:
    """Return ``month_results`` computed from the answers themselves (the reference the counters are tested and measured against)."""
    answers = store.answers(query=query, start=month.start, end=month.end)
    records = _month_campaigns(store, query=query, month=month, seen=answers)
    responded = store.answers_counted(campaign_ids=records, before=month.end)
    return campaign_figures.month_results(campaigns=list(records.values()), answers=answers, responded_by_end=responded)


def month_figures(store: AnalyticsStore, *, query: Mapping[str, Any], month: monthly.Month, now: datetime) -> tuple[dict[str, Any], bool]:
    """Return a scope's figures of one month from the monthly counters, and whether it has data.

    The figures equal ``monthly.figures`` of the month's facts (``tests/analytics/test_month_counts.py``).
    """
    buckets = store.month_buckets(query=query, month=str(month))
    figures, rows, counted = month_counts.figures(buckets, now=now, limit=monthly.TOP_HOTSPOTS)
    estates = settings_of_estates(store, [Tenancy.of(bucket) for bucket in buckets if bucket["estate_id"] in {row[0] for row in rows}])
    thresholds = {estate_id: setting.threshold for estate_id, setting in estates.items()}
    hotspots = monthly.hotspot_items(rows, counted=counted, thresholds=thresholds)
    results = month_results(store, query=query, month=month)
    return {**figures, "hotspots": hotspots, "satisfaction": results}, figures["volume"]["total"] > 0


def monthly_review(
    store: AnalyticsStore, *, scope: str, query: Mapping[str, Any], month: monthly.Month, now: datetime, scope_setting: HotspotSetting
) -> dict[str, Any]:
    """Return the monthly review of a scope: this month beside last month, from the monthly counters (``domain.month_counts``)."""
    this_month, has_data = month_figures(store, query=query, month=month, now=now)
    last_month, _ = month_figures(store, query=query, month=month.previous(), now=now)
    return monthly.assembled(
        scope=scope,
        month=month,
        this_month=this_month,
        last_month=last_month,
        now=now,
        has_data=has_data,
        hotspot_setting=setting_view(scope_setting),
    )
