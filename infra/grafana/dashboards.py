"""The three Grafana dashboards as code (grafana-foundation-sdk), written to infra/grafana/dashboards/*.json.

``python -m infra.grafana.dashboards`` rewrites the JSON; tests/infra/test_monitoring_dashboards.py
fails when it is stale, checks it against the SDK's dashboard model (generated from Grafana's
schema), and tests/infra/test_monitoring_prometheus.py runs every panel's query against a real
Prometheus. Grafana loads them through infra/grafana/provisioning/ (docker-compose.yml).

- *Regional operations*: open and overdue complaints by tier and region, on-time % per target
  against the traffic lights (green 95%, yellow 90%; met over met and breached of
  ``complaint_targets_total``, so per tier and region), response and resolve times against the tier
  limits (the limit as a threshold line), the share of each target's limit used (p90 per target over
  all regions: ``complaint_target_elapsed_ratio`` has no ``region``), escalations by level, hotspots,
  hotline transfers and their callbacks; ``region`` and ``tier`` variables.
- *Service health*: requests, errors and latency per service and route, events published,
  consumed, retried and parked per type, consumer lag, queue depth, outbox backlog, restarts.
- *Satisfaction*: follow-up response rate and CSAT, campaign response rate, NPS by region.
"""

# ruff: noqa: E501 - each panel's PromQL stays on one line, as it is read in Grafana
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.builders import common as common_builder
from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.builders import prometheus, stat, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models.dashboard import DataSourceRef, Threshold, ThresholdsMode, VariableRefresh

OUT = Path(__file__).resolve().parent / "dashboards"
DATASOURCE = DataSourceRef(type_val="prometheus", uid="prometheus")
REGION = 'region=~"$region"'
TIER = 'tier=~"$tier"'
WIDTH = 12
HEIGHT = 8
LIMITS = {"emergency": {"response": 900, "resolve": None}, "important": {"response": 7200, "resolve": 432000}}
"""Default tier limits drawn as threshold lines (seconds); a working-days resolve limit at its nominal days."""


def query(expr: str, legend: str = "", ref: str = "A") -> prometheus.Dataquery:
    """Return a Prometheus query of a panel."""
    return prometheus.Dataquery().expr(expr).legend_format(legend or "__auto").ref_id(ref).datasource(DATASOURCE)


def thresholds(*steps: tuple[float | None, str]) -> dash.ThresholdsConfig:
    """Return absolute thresholds, the first step from minus infinity."""
    return dash.ThresholdsConfig().mode(ThresholdsMode.ABSOLUTE).steps([Threshold(value=value, color=color) for value, color in steps])


def series(title: str, *queries: tuple[str, str], unit: str = "short", lines: dash.ThresholdsConfig | None = None) -> timeseries.Panel:
    """Return a time series panel; with ``lines`` its thresholds are drawn as lines."""
    panel = timeseries.Panel().title(title).datasource(DATASOURCE).unit(unit).height(HEIGHT).span(WIDTH)
    for index, (expr, legend) in enumerate(queries):
        panel = panel.with_target(query(expr, legend, chr(ord("A") + index)))
    if lines is not None:
        style = common_builder.GraphThresholdsStyleConfig().mode(common.GraphTresholdsStyleMode.LINE)
        panel = panel.thresholds(lines).thresholds_style(style)
    return panel


def single(title: str, expr: str, *, unit: str = "short", steps: dash.ThresholdsConfig | None = None) -> stat.Panel:
    """Return a stat panel of one figure (its color from ``steps``)."""
    panel = stat.Panel().title(title).datasource(DATASOURCE).with_target(query(expr)).unit(unit).height(HEIGHT // 2).span(WIDTH // 2)
    return panel.thresholds(steps) if steps is not None else panel


def label_variable(name: str, metric: str) -> dash.QueryVariable:
    """Return a multi-value variable over a label's values, ``All`` by default."""
    return (
        dash.QueryVariable(name)
        .label(name)
        .datasource(DATASOURCE)
        .query(f"label_values({metric}, {name})")
        .multi(True)
        .include_all(True)
        .all_value(".*")
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
    )


TRAFFIC_LIGHTS = thresholds((None, "red"), (0.9, "yellow"), (0.95, "green"))


def on_time(by: str) -> str:
    """Return met / judged over the dashboard's range, by ``by``."""
    selector = f"{REGION},{TIER}"
    return (
        f'sum by ({by}) (increase(complaint_targets_total{{outcome="met",{selector}}}[$__range]))'
        f" / sum by ({by}) (increase(complaint_targets_total{{{selector}}}[$__range]))"
    )


def quantile_seconds(target: str, tier: str) -> str:
    """Return the p90 time to a target of a tier, over the selected regions."""
    return (
        f"histogram_quantile(0.9, sum by (le) (rate(complaint_target_seconds_bucket"
        f'{{target="{target}",tier="{tier}",{REGION}}}[$__rate_interval])))'
    )


def regional_operations() -> dash.Dashboard:
    """Return the *Regional operations* dashboard."""
    share = f"complaint_target_elapsed_ratio_bucket{{{TIER}}}"  # no region label: "how late" per target and tier
    return (
        dash.Dashboard("Regional operations")
        .uid("propcare-regional-operations")
        .tags(["propcare"])
        .refresh("1m")
        .time("now-24h", "now")
        .with_variable(label_variable("region", "complaints_open"))
        .with_variable(label_variable("tier", "complaints_open"))
        .with_panel(
            series(
                "Open complaints by tier and region", (f"sum by (tier, region) (complaints_open{{{REGION},{TIER}}})", "{{region}} {{tier}}")
            )
        )
        .with_panel(
            series(
                "Overdue complaints by tier and region",
                (f"sum by (tier, region) (complaints_overdue{{{REGION},{TIER}}})", "{{region}} {{tier}}"),
            )
        )
        .with_panel(series("On-time % per target", (on_time("target"), "{{target}}"), unit="percentunit", lines=TRAFFIC_LIGHTS))
        .with_panel(single("On-time % (selection, range)", on_time("job"), unit="percentunit", steps=TRAFFIC_LIGHTS))
        .with_panel(
            single(
                "Targets breached (selection, range)",
                f'sum(increase(complaint_targets_total{{outcome="breached",{REGION},{TIER}}}[$__range]))',
            )
        )
        .with_panel(
            series(
                "Response time p90 against the tier limit (emergency 15 min)",
                (quantile_seconds("response", "emergency"), "emergency"),
                unit="s",
                lines=thresholds((None, "green"), (900, "red")),
            )
        )
        .with_panel(
            series(
                "Resolve time p90 against the tier limit (important 5 working days)",
                (quantile_seconds("resolve", "important"), "important"),
                unit="s",
                lines=thresholds((None, "green"), (432000, "red")),
            )
        )
        .with_panel(
            series(
                "Time used of each target's limit, p90, all regions (1 = the limit)",
                (f"histogram_quantile(0.9, sum by (target, le) (rate({share}[$__rate_interval])))", "{{target}}"),
                unit="percentunit",
                lines=thresholds((None, "green"), (0.8, "yellow"), (1, "red")),
            )
        )
        .with_panel(
            series(
                "Escalations by level",
                (f"sum by (level) (increase(complaint_escalations_total{{{REGION},{TIER}}}[$__rate_interval]))", "level {{level}}"),
            )
        )
        .with_panel(series("Hotspots (last 7 days) by category", (f"sum by (category) (hotspots_active{{{REGION}}})", "{{category}}")))
        .with_panel(series("Hotline transfers by state", (f"sum by (state) (hotline_transfers{{{REGION}}})", "{{state}}")))
        .with_panel(series("Hotline callbacks by delivery state", ("sum by (state) (hotline_callbacks)", "{{state}}")))
    )


def service_health() -> dash.Dashboard:
    """Return the *Service health* dashboard."""
    return (
        dash.Dashboard("Service health")
        .uid("propcare-service-health")
        .tags(["propcare"])
        .refresh("30s")
        .time("now-3h", "now")
        .with_panel(
            series(
                "Requests per second by service and route",
                ("sum by (service, route) (rate(http_requests_total[$__rate_interval]))", "{{service}} {{route}}"),
                unit="reqps",
            )
        )
        .with_panel(
            series(
                "5xx share by service",
                (
                    'sum by (service) (rate(http_requests_total{status=~"5.."}[$__rate_interval])) / sum by (service) (rate(http_requests_total[$__rate_interval]))',
                    "{{service}}",
                ),
                unit="percentunit",
                lines=thresholds((None, "green"), (0.05, "red")),
            )
        )
        .with_panel(
            series(
                "Latency p95 by service and route",
                (
                    "histogram_quantile(0.95, sum by (service, route, le) (rate(http_request_duration_seconds_bucket[$__rate_interval])))",
                    "{{service}} {{route}}",
                ),
                unit="s",
            )
        )
        .with_panel(
            series("Events published by type", ("sum by (type) (rate(events_published_total[$__rate_interval]))", "{{type}}"), unit="ops")
        )
        .with_panel(
            series(
                "Events consumed by outcome (ok, retry, dead, duplicate)",
                ("sum by (service, outcome) (rate(events_consumed_total[$__rate_interval]))", "{{service}} {{outcome}}"),
                unit="ops",
            )
        )
        .with_panel(
            series(
                "Handling time p95 by type",
                ("histogram_quantile(0.95, sum by (type, le) (rate(event_handling_seconds_bucket[$__rate_interval])))", "{{type}}"),
                unit="s",
            )
        )
        .with_panel(
            series(
                "Consumer lag p95 by service",
                ("histogram_quantile(0.95, sum by (service, le) (rate(event_lag_seconds_bucket[$__rate_interval])))", "{{service}}"),
                unit="s",
                lines=thresholds((None, "green"), (60, "red")),
            )
        )
        .with_panel(
            series(
                "Queue depth and parked messages",
                ("sum by (queue) (queue_messages)", "{{queue}}"),
                ("sum by (queue) (parked_messages)", "{{queue}} parked"),
            )
        )
        .with_panel(
            series(
                "Outbox backlog",
                ("sum by (service) (outbox_unpublished)", "{{service}} unpublished"),
                ("max by (service) (outbox_oldest_unpublished_age_seconds)", "{{service}} oldest (s)"),
            )
        )
        .with_panel(
            series(
                "Process starts (restarts after the first)",
                ("sum by (service, process) (increase(process_starts_total[$__range]))", "{{service}} {{process}}"),
            )
        )
        .with_panel(
            series("Dependencies reachable (1) per worker", ("min by (service, dependency) (dependency_up)", "{{service}} {{dependency}}"))
        )
        .with_panel(series("Scrape targets up", ("sum by (job) (up)", "{{job}}")))
    )


def satisfaction() -> dash.Dashboard:
    """Return the *Satisfaction* dashboard."""
    followup = 'sum by (region) (followup_surveys{{state="{state}",{region}}})'
    campaign = 'sum by (region) (campaign_households{{state="{state}",{region}}})'
    nps = 'sum by (region) (nps_answers{{class="{kind}",{region}}})'
    return (
        dash.Dashboard("Satisfaction")
        .uid("propcare-satisfaction")
        .tags(["propcare"])
        .refresh("5m")
        .time("now-7d", "now")
        .with_variable(label_variable("region", "complaints_open"))
        .with_panel(
            series(
                "Follow-up response rate (30 days)",
                (f"{followup.format(state='answered', region=REGION)} / {followup.format(state='invited', region=REGION)}", "{{region}}"),
                unit="percentunit",
            )
        )
        .with_panel(
            series(
                "CSAT: satisfied share of answered follow-ups (30 days)",
                (f"{followup.format(state='satisfied', region=REGION)} / {followup.format(state='answered', region=REGION)}", "{{region}}"),
                unit="percentunit",
                lines=TRAFFIC_LIGHTS,
            )
        )
        .with_panel(series("Follow-up answers by kind", ("sum by (kind) (increase(survey_responses_total[$__rate_interval]))", "{{kind}}")))
        .with_panel(
            series(
                "Campaign response rate (90 days)",
                (f"{campaign.format(state='responded', region=REGION)} / {campaign.format(state='sampled', region=REGION)}", "{{region}}"),
                unit="percentunit",
            )
        )
        .with_panel(
            series(
                "NPS by region (90 days)",
                (
                    f"100 * ({nps.format(kind='promoter', region=REGION)} - {nps.format(kind='detractor', region=REGION)})"
                    f" / sum by (region) (nps_answers{{{REGION}}})",
                    "{{region}}",
                ),
                lines=thresholds((None, "red"), (0, "yellow"), (30, "green")),
            )
        )
    )


DASHBOARDS = {"regional-operations": regional_operations, "service-health": service_health, "satisfaction": satisfaction}


def render(name: str) -> str:
    """Return the JSON of one dashboard, as committed."""
    model = DASHBOARDS[name]().build()
    return json.dumps(json.loads(json.dumps(model, cls=JSONEncoder)), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def expressions(document: dict[str, Any]) -> list[str]:
    """Return every query expression of a dashboard document."""
    return [target["expr"] for panel in document.get("panels", []) for target in panel.get("targets", []) if target.get("expr")]


def main() -> int:
    """Write every dashboard's JSON."""
    OUT.mkdir(exist_ok=True)
    for name in DASHBOARDS:
        (OUT / f"{name}.json").write_text(render(name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
