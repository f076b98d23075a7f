"""The monthly review's campaign section as HTML: tables of this month beside last month, and an inline SVG NPS chart.

Every figure cell carries ``data-key="<section>/<key>"`` (the ``month_over_month`` row it shows) and
``data-col`` (``this``, ``last`` or ``change``), so a reader or a test can match the page to the JSON.
Figures are written by ``figure``: counts as whole numbers, rates as a percentage with one decimal,
means with two decimals, NPS with one; changes signed; a figure that does not exist as ``—``.
Every text is escaped; nothing is fetched from elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

MEASURES = (
    ("responses", "回复数 Responses"),
    ("response_rate", "回复率 Response rate"),
    ("overall_mean", "总体满意度均分 Overall mean (1-10)"),
    ("nps", "净推荐值 NPS"),
    ("fix_first", "优先改进 Fix first"),
)
TOTALS = (
    ("campaigns", "调查数 Campaigns"),
    ("responses", "回复数 Responses"),
    ("overall_mean", "总体满意度均分 Overall mean (1-10)"),
    ("nps", "净推荐值 NPS"),
)


def figure(key: str, value: Any, *, change: bool = False) -> str:
    """Return a figure as the page writes it (the measure is the last part of ``key``)."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    measure = key.rsplit(".", 1)[-1]
    sign = "+" if change and value > 0 else ""
    if measure == "response_rate":
        return f"{sign}{value * 100:.1f}%"
    if measure == "overall_mean":
        return f"{sign}{value:.2f}"
    if measure == "nps":
        return f"{sign}{value:.1f}"
    return f"{sign}{value}"


def _row(label: str, row: Mapping[str, Any]) -> str:
    key = f"{row['section']}/{row['key']}"
    cells = "".join(
        f'<td class="num" data-key="{escape(key)}" data-col="{col}">{escape(figure(row["key"], row[name], change=col == "change"))}</td>'
        for col, name in (("this", "this_month"), ("last", "previous_month"), ("change", "change"))
    )
    return f'<tr><th scope="row">{escape(label)}</th>{cells}</tr>'


def _table(rows: Sequence[str]) -> str:
    head = "<tr><th>指标 Measure</th><th>本月 This month</th><th>上月 Last month</th><th>变化 Change</th></tr>"
    return f'<table class="mom"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'


def nps_chart(this_month: Mapping[str, float | None], last_month: Mapping[str, float | None]) -> str:
    """Return an inline SVG of each campaign's NPS (-100 to 100 about a zero line): this month dark, last month light."""
    keys = list(this_month) + [key for key in last_month if key not in this_month]
    row_height, label_width, width = 30, 130, 520
    zero, half = label_width + (width - label_width) / 2, (width - label_width - 20) / 2
    parts = [f'<line x1="{zero:.1f}" y1="0" x2="{zero:.1f}" y2="{len(keys) * row_height + 8}" stroke="#888" stroke-width="1"/>']
    for index, key in enumerate(keys):
        y = index * row_height + 4
        parts.append(f'<text x="0" y="{y + 14}" font-size="12">{escape(key)}</text>')
        for value, offset, height, colour in ((this_month.get(key), 0, 11, "#1f5fa8"), (last_month.get(key), 12, 8, "#a9c4e4")):
            if value is None:
                continue
            length = half * value / 100
            x = zero + min(length, 0)
            parts.append(f'<rect x="{x:.1f}" y="{y + offset}" width="{abs(length):.1f}" height="{height}" fill="{colour}"/>')
        now = this_month.get(key)
        parts.append(f'<text x="{width - 4}" y="{y + 10}" font-size="11" text-anchor="end">{escape(figure("nps", now))}</text>')
    height = len(keys) * row_height + 8
    title = "各调查净推荐值 NPS by campaign (本月深色 this month dark, 上月浅色 last month light)"
    return (
        f'<figure class="chart"><figcaption>{escape(title)}</figcaption>'
        f'<svg role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" width="100%" xmlns="http://www.w3.org/2000/svg">'
        + "".join(parts)
        + "</svg></figure>"
    )


def campaign_section(report: Mapping[str, Any]) -> list[str]:
    """Return the HTML of the review's campaign results: totals and each campaign beside last month, and the NPS chart."""
    sections = ["<h2>满意度调查 Satisfaction campaigns</h2>"]
    this, last = report["this_month"]["satisfaction"], report["last_month"]["satisfaction"]
    if report["satisfaction"]["status"] == "no_campaign_data":
        sections.append(f'<p class="empty">{escape(report["satisfaction"]["note"])}</p>')
    rows = {(row["section"], row["key"]): row for row in report["month_over_month"]}
    sections.append(_table([_row(label, rows[("satisfaction", key)]) for key, label in TOTALS]))
    names = [item["campaign_id"] for item in this["campaigns"]]
    names += [item["campaign_id"] for item in last["campaigns"] if item["campaign_id"] not in names]
    if names:
        sections.append(
            nps_chart(
                {item["campaign_id"]: item["nps"] for item in this["campaigns"]},
                {item["campaign_id"]: item["nps"] for item in last["campaigns"]},
            )
        )
    estates = {item["campaign_id"]: item.get("estate_id") for item in (*last["campaigns"], *this["campaigns"])}
    for name in names:
        sections.append(f"<h3>调查 Campaign {escape(name)} · 小区 Estate {escape(str(estates.get(name) or '—'))}</h3>")
        sections.append(_table([_row(label, rows[("campaign", f"{name}.{key}")]) for key, label in MEASURES]))
    return sections
