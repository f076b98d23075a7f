"""The monthly review (``analytics.domain.monthly.review``) as JSON data, a CSV table or a self-contained HTML page.

- JSON: the review as it is, times in UTC with ``Z``.
- CSV: one tidy table, columns ``scope, month, measure, dimension, value`` (the API contract's): each
  figure (``measure`` = its section, ``dimension`` = its key, e.g. ``on_time``, ``response.general.rate``)
  is a row of the month and a row of the month before (``month`` says which), and its change is a row
  of the month whose measure ends in ``.change``. UTF-8 with a BOM so that Excel opens Chinese text
  correctly; an empty value for a figure that does not exist that month.
- HTML: one page with no external resource (no CDN, no script, no web font), so it prints and works
  offline; zh-CN headings with English; bar charts drawn here as inline SVG. Every text is escaped.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from html import escape
from typing import Any

from analytics.report_satisfaction import campaign_section

BOM = "\ufeff"
CSV_COLUMNS = ("scope", "month", "measure", "dimension", "value")
CHANGE = ".change"


def plain(value: Any) -> Any:
    """Return a value with its times as ISO 8601 UTC strings, ready for JSON."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


def to_csv(report: Mapping[str, Any]) -> str:
    """Return the review as one tidy CSV table, with a BOM."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    scope, month, previous = report["scope"], report["month"], report["previous_month"]
    for row in report["month_over_month"]:
        section, key = row["section"], row["key"]
        writer.writerow([scope, month, section, key, _cell(row["this_month"])])
        writer.writerow([scope, previous, section, key, _cell(row["previous_month"])])
        writer.writerow([scope, month, section + CHANGE, key, _cell(row["change"])])
    return BOM + buffer.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _number(value: Any, *, percent: bool = False, hours: bool = False) -> str:
    if value is None:
        return "—"
    if percent:
        return f"{value * 100:.1f}%"
    if hours:
        return f"{value / 3600:.1f} h"
    return f"{value:g}" if isinstance(value, float) else str(value)


def bar_chart(title: str, this_month: Mapping[str, float], last_month: Mapping[str, float]) -> str:
    """Return an inline SVG bar chart of this month's counts (dark) beside last month's (light)."""
    keys = list(this_month) + [key for key in last_month if key not in this_month]
    if not keys:
        return f'<p class="empty">{escape(title)}: 无数据 No data</p>'
    top = max([*this_month.values(), *last_month.values(), 1])
    row_height, label_width, width = 26, 130, 520
    bars = []
    for index, key in enumerate(keys):
        y = index * row_height + 4
        now_width = (width - label_width - 50) * this_month.get(key, 0) / top
        then_width = (width - label_width - 50) * last_month.get(key, 0) / top
        bars.append(
            f'<text x="0" y="{y + 14}" font-size="12">{escape(str(key))}</text>'
            f'<rect x="{label_width}" y="{y}" width="{now_width:.1f}" height="10" fill="#1f5fa8"/>'
            f'<rect x="{label_width}" y="{y + 11}" width="{then_width:.1f}" height="8" fill="#a9c4e4"/>'
            f'<text x="{label_width + now_width + 4:.1f}" y="{y + 10}" font-size="11">{escape(_number(this_month.get(key, 0)))}</text>'
        )
    height = len(keys) * row_height + 8
    return (
        f"<figure><figcaption>{escape(title)}</figcaption>"
        f'<svg role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" width="100%" xmlns="http://www.w3.org/2000/svg">'
        + "".join(bars)
        + "</svg></figure>"
    )


def _threshold(spot: Mapping[str, Any]) -> str:
    if spot.get("threshold") is None:
        return "—"
    return f"{spot['threshold']} ✔" if spot.get("reaches_threshold") else str(spot["threshold"])


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{escape(header)}</th>" for header in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


STYLE = """
*{box-sizing:border-box}
body{font-family:system-ui,"PingFang SC","Microsoft YaHei",sans-serif;margin:1rem auto;max-width:60rem;padding:0 1rem;color:#222}
h1{font-size:1.4rem}h2{font-size:1.1rem;border-bottom:1px solid #ccc;margin-top:1.6rem}h3{font-size:1rem;margin:1rem 0 .3rem}
table{border-collapse:collapse;width:100%;font-size:.9rem;table-layout:fixed}
th,td{border:1px solid #ddd;padding:.25rem .4rem;text-align:left;overflow-wrap:anywhere}td.num{text-align:right}
.green{background:#d9f2d9}.yellow{background:#fff3c4}.red{background:#f7d4d4}.empty{color:#777}
figure{margin:.5rem 0}figcaption{font-size:.9rem;color:#444}svg{display:block;max-width:100%;height:auto}
@media (max-width:40rem){body{padding:0 .5rem}h1{font-size:1.15rem}table{font-size:.75rem}th,td{padding:.2rem .25rem}}
@media print{@page{margin:12mm}body{max-width:none;margin:0;padding:0;font-size:10pt}
h2,h3{break-after:avoid}table,figure{break-inside:avoid}.green,.yellow,.red{print-color-adjust:exact;-webkit-print-color-adjust:exact}}
"""


def to_html(report: Mapping[str, Any]) -> str:
    """Return the review as one self-contained HTML page."""
    this, last = report["this_month"], report["last_month"]
    sections = [
        f"<h1>月度复盘 Monthly review · {escape(report['scope'])} · {escape(report['month'])}</h1>",
        f"<p>时区 Time zone: {escape(report['timezone'])} · 上月 Previous month: {escape(report['previous_month'])}"
        f" · 生成于 Generated at {escape(plain(report['generated_at']))}</p>",
    ]
    if not report["has_data"]:
        sections.append('<p class="empty">本月无投诉数据 No complaints this month.</p>')
    sections.append("<h2>投诉量 Volume</h2>")
    sections.append(
        f"<p>本月 This month: {this['volume']['total']} · 上月 Last month: {last['volume']['total']}"
        f" · 已取消 Cancelled: {this['volume']['cancelled']}</p>"
    )
    for dimension, title in (
        ("category", "按类别 By category"),
        ("subcategory", "按子类 By subcategory"),
        ("channel", "按渠道 By channel"),
        ("tier", "按优先级 By tier"),
    ):
        sections.append(bar_chart(title, this["volume"][f"by_{dimension}"], last["volume"][f"by_{dimension}"]))
    sections.append("<h2>时效达标率 On-time rate</h2>")
    on_time_rows = []
    for target, tiers in this["on_time"].items():
        for tier, entry in tiers.items():
            before = (last["on_time"].get(target) or {}).get(tier) or {}
            on_time_rows.append(
                (target, tier, _number(entry["rate"], percent=True), entry["light"] or "—", _number(before.get("rate"), percent=True))
            )
    sections.append(
        _table(("目标 Target", "优先级 Tier", "本月 This month", "信号灯 Light", "上月 Last month"), on_time_rows)
        if on_time_rows
        else '<p class="empty">无可衡量的时效 Nothing measured.</p>'
    )
    sections.append("<h2>响应与办结时长 Response and resolution time</h2>")
    time_rows = [
        (label, _number(this[key][stat], hours=True), _number(last[key][stat], hours=True))
        for key, name in (("response_time", "响应 Response"), ("resolution_time", "办结 Resolution"))
        for stat, label in ((s, f"{name} {s}") for s in ("mean", "p50", "p90"))
    ]
    sections.append(_table(("指标 Measure", "本月 This month", "上月 Last month"), time_rows))
    sections.append("<h2>重复投诉率与回访 Reopen rate and follow-up</h2>")
    sections.append(
        _table(
            ("指标 Measure", "本月 This month", "上月 Last month"),
            [
                ("重复投诉率 Reopen rate", _number(this["reopen_rate"], percent=True), _number(last["reopen_rate"], percent=True)),
                ("办结率 Resolution rate", _number(this["resolution_rate"], percent=True), _number(last["resolution_rate"], percent=True)),
                (
                    "回访响应率 Follow-up response rate",
                    _number(this["survey"]["response_rate"], percent=True),
                    _number(last["survey"]["response_rate"], percent=True),
                ),
                ("满意度均分 CSAT mean", _number(this["survey"]["csat_mean"]), _number(last["survey"]["csat_mean"])),
                (
                    "4-5分占比 CSAT share 4-5",
                    _number(this["survey"]["csat_share_4_5"], percent=True),
                    _number(last["survey"]["csat_share_4_5"], percent=True),
                ),
            ],
        )
    )
    sections.append("<h2>高频投诉点 Hotspots</h2>")
    setting = report.get("hotspot_setting")
    if setting:
        sections.append(
            f"<p>阈值 Threshold: {setting['threshold']} 起 complaints within {setting['days']} 天 days"
            f" (本范围 at {escape(report['scope'])}; 各小区可不同 each estate may differ)</p>"
        )
    spots = this["hotspots"]
    sections.append(
        bar_chart("楼栋/子类 Building by subcategory", {f"{s['building'] or '-'}·{s['subcategory']}": s["count"] for s in spots}, {})
    )
    sections.append(
        _table(
            ("小区 Estate", "楼栋 Building", "子类 Subcategory", "数量 Count", "占比 Share", "阈值 Threshold"),
            [
                (
                    str(s["estate_id"]),
                    str(s["building"] or "—"),
                    s["subcategory"],
                    str(s["count"]),
                    _number(s["share"], percent=True),
                    _threshold(s),
                )
                for s in spots
            ],
        )
        if spots
        else '<p class="empty">无 None.</p>'
    )
    sections.extend(campaign_section(report))
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>月度复盘 Monthly review {escape(report['month'])}</title><style>{STYLE}</style></head><body>"
        + "\n".join(sections)
        + "</body></html>"
    )
