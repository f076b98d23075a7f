"""Campaign answers as satisfaction figures: one campaign, a period across campaigns, month by month, and the monthly review's section.

Pure: the read-model records of ``domain.campaigns`` in, plain values out; the figures themselves are
``domain.satisfaction``'s. Rules:
- **One campaign**: its answers, with its own dimensions and complaint-handling question. A campaign
  whose ``campaign.started`` has not arrived yet has answers but no dimensions: its NPS and means are
  there, its dimensions come once the campaign is known.
- **A period across campaigns**: every answer of the scope answered in ``[from, to)``. Dimensions are
  merged by id (a dimension's questions are the union of its questions in the campaigns counted, in
  the order first met, campaigns taken by opening time then id), and each answer's complaint-handling
  score is that of its own campaign's question.
- **Month by month** (``by_month``): the answers grouped by the calendar month of ``answered_at`` in
  ``REPORT_TIMEZONE`` (Asia/Shanghai), with responses, overall mean and NPS; a month without answers
  has ``responses`` 0 and null figures, never a division by zero.
- **The monthly review's section** (``month_results``): the campaigns of the scope with answers in the
  month or closing in it (``closes_at`` or ``closed_at``); for each, the month's responses, its response
  rate as of the month's end (answers recorded up to then ÷ ``sample_size``; null for no sample), its
  overall mean and NPS over the month's answers, and up to ``TOP_FIX_FIRST`` ``fix_first`` dimensions
  (computed only from ``MIN_CELL`` answers or more, as a Pearson r of fewer means little). ``flatten``
  gives each figure a ``(section, key)`` so the review can set it beside last month's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from analytics.domain import satisfaction
from analytics.domain.kpis import ratio
from propcare_shared.vocabulary import DEFAULT_TIMEZONE

REPORT_TIMEZONE = DEFAULT_TIMEZONE
TOP_FIX_FIRST = 3
MIN_CELL = satisfaction.MIN_CELL
_TICK = timedelta(microseconds=1)

Record = Mapping[str, Any]


def month_key(moment: datetime) -> str:
    """Return the calendar month (``YYYY-MM``) of an instant in the report time zone."""
    return moment.astimezone(ZoneInfo(REPORT_TIMEZONE)).strftime("%Y-%m")


def months_between(start: datetime, end: datetime) -> list[str]:
    """Return the months that ``[start, end)`` touches, oldest first (the month of ``start`` for an empty period)."""
    first, last = month_key(start), month_key(max(start, end - _TICK))
    year, month = int(first[:4]), int(first[5:])
    months = []
    while f"{year:04d}-{month:02d}" <= last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def answer_record(answer: Record, campaign: Record | None) -> dict[str, Any]:
    """Return an answer as ``domain.satisfaction`` reads it, with its campaign's complaint-handling score."""
    question = (campaign or {}).get("complaint_handling_question")
    scores = dict(answer.get("answers") or {})
    return {
        "campaign_id": answer.get("campaign_id"),
        "household_type": answer.get("household_type"),
        "age_band": answer.get("age_band"),
        "channel": answer.get("channel"),
        "overall": answer.get("overall"),
        "recommend": answer.get("recommend"),
        "answers": scores,
        "complaint_handling": scores.get(question) if question else None,
        "answered_at": answer.get("answered_at"),
    }


def merged_dimensions(campaigns: Iterable[Record]) -> list[dict[str, Any]]:
    """Return the dimensions of several campaigns merged by id: each id once, its questions the union, in the order first met."""
    merged: dict[str, list[str]] = {}
    for campaign in sorted(campaigns, key=_opening):
        for dimension in campaign.get("dimensions") or []:
            questions = merged.setdefault(dimension["id"], [])
            questions.extend(question for question in dimension["questions"] if question not in questions)
    return [{"id": dimension_id, "questions": questions} for dimension_id, questions in merged.items()]


def by_month(records: Sequence[Record], *, months: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Return ``[{"month", "responses", "overall_mean", "nps"}]`` for ``months`` (default: those the answers fall in)."""
    grouped: dict[str, list[Record]] = {}
    for record in records:
        grouped.setdefault(month_key(record["answered_at"]), []).append(record)
    rows = []
    for month in months if months is not None else sorted(grouped):
        figures = satisfaction.summary(grouped.get(month, []))
        rows.append({"month": month, "responses": figures["n"], "overall_mean": figures["overall_mean"], "nps": figures["nps"]})
    return rows


def figures(
    answers: Sequence[Record],
    *,
    campaigns: Mapping[str, Record],
    months: Sequence[str] | None = None,
    campaign: Record | None = None,
) -> dict[str, Any]:
    """Return the satisfaction figures of answers: of one ``campaign`` when given, else across the campaigns they belong to."""
    records = [answer_record(answer, campaigns.get(answer["campaign_id"])) for answer in answers]
    if campaign is not None:
        dimensions = [dict(item) for item in campaign.get("dimensions") or []]
        question = campaign.get("complaint_handling_question")
    else:
        dimensions = merged_dimensions(campaigns[cid] for cid in sorted({r["campaign_id"] for r in records}) if cid in campaigns)
        question = None
    result = satisfaction.analyse(records, questionnaire=dimensions, complaint_handling_question=question)
    result["dimensions"] = [{"id": row["id"], "n": row["n"], "mean": row["mean"], "weight": row["weight"]} for row in result["dimensions"]]
    result["by_month"] = by_month(records, months=months)
    result["min_cell"] = MIN_CELL
    return result


def month_results(
    *,
    campaigns: Sequence[Record],
    answers: Sequence[Record],
    responded_by_end: Mapping[str, int],
) -> dict[str, Any]:
    """Return one month's campaign results: the totals of the month's answers and one row per campaign (see the module)."""
    known = {campaign["campaign_id"]: campaign for campaign in campaigns}
    records = [answer_record(answer, known.get(answer["campaign_id"])) for answer in answers]
    total = satisfaction.summary(records)
    by_campaign: dict[str, list[dict[str, Any]]] = {}
    for record in records:  # one pass, not one per campaign: a group's month has hundreds of campaigns
        by_campaign.setdefault(record["campaign_id"], []).append(record)
    rows = []
    for campaign in sorted(campaigns, key=lambda item: (item.get("estate_id") or "", item["campaign_id"])):
        own = by_campaign.get(campaign["campaign_id"], [])
        responded = int(responded_by_end.get(campaign["campaign_id"], 0))
        rows.append(campaign_row(campaign, summary=satisfaction.summary(own), responded=responded, fix_first=fix_first(own, campaign)))
    return results(total, rows)


def campaign_row(campaign: Record, *, summary: Mapping[str, Any], responded: int, fix_first: list[str]) -> dict[str, Any]:
    """Return one campaign's row of the month's results (shared with ``campaign_months``, which computes the same from counters)."""
    sample_size = int(campaign.get("sample_size") or 0)
    return {
        "campaign_id": campaign["campaign_id"],
        "estate_id": campaign.get("estate_id"),
        "kind": campaign.get("kind"),
        "opens_at": campaign.get("opens_at"),
        "closes_at": campaign.get("closes_at"),
        "closed_at": campaign.get("closed_at"),
        "sample_size": sample_size or None,
        "responses": summary["n"],
        "responded": responded,
        "response_rate": ratio(responded, sample_size),
        "overall_mean": summary["overall_mean"],
        "nps": summary["nps"],
        "fix_first": fix_first,
    }


def results(total: Mapping[str, Any], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the month's results: the totals of its answers and the campaign rows."""
    return {
        "status": "ok" if rows else "no_campaign_data",
        "responses": total["n"],
        "overall_mean": total["overall_mean"],
        "nps": total["nps"],
        "campaigns": rows,
    }


def fix_first(records: Sequence[Record], campaign: Record) -> list[str]:
    """Return up to ``TOP_FIX_FIRST`` dimensions of a campaign to fix first (high weight, low score); none below ``MIN_CELL`` answers."""
    if len(records) < MIN_CELL:
        return []
    rows = satisfaction.dimensions(records, campaign.get("dimensions") or [])
    matrix = satisfaction.priority_matrix(rows)
    return [item["dimension"] for item in matrix if item["quadrant"] == "fix_first"][:TOP_FIX_FIRST]


def flatten(results: Mapping[str, Any]) -> dict[tuple[str, str], Any]:
    """Return ``{(section, key): value}`` of one month's campaign results, one entry per figure."""
    rows: dict[tuple[str, str], Any] = {
        ("satisfaction", "campaigns"): len(results["campaigns"]),
        ("satisfaction", "responses"): results["responses"],
        ("satisfaction", "overall_mean"): results["overall_mean"],
        ("satisfaction", "nps"): results["nps"],
    }
    for campaign in results["campaigns"]:
        name = campaign["campaign_id"]
        for key in ("responses", "response_rate", "overall_mean", "nps"):
            rows[("campaign", f"{name}.{key}")] = campaign[key]
        rows[("campaign", f"{name}.fix_first")] = " ".join(campaign["fix_first"]) or None
    return rows


def _opening(campaign: Record) -> tuple[str, str]:
    opened = campaign.get("opens_at") or campaign.get("started_at")
    return (opened.isoformat() if isinstance(opened, datetime) else "", str(campaign.get("campaign_id")))
