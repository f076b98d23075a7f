"""Analytics' HTTP API (docs/API.md, Analytics): complaint KPIs, complaint hotspots and the monthly review of a scope.

Views parse with a schema, check the scope with the kernel's one rule (``require_scope``), read the
read models through the store, compute with the pure domain and dump with a schema. The domain's
refusals (a period that ends before it starts) are answered by one table, ``PROBLEMS``.

The scope rule (``analytics.scopes``) is the kernel's ``require_scope``: 404 for another group's or an
unknown scope, 403 outside the caller's regions or estates. ``BLUEPRINTS`` also holds the
satisfaction figures (``satisfaction_routes``) and the hotspot settings (``settings_routes``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Response, jsonify
from flask_smorest import Blueprint

from analytics import report_formats, reports
from analytics.domain import monthly
from analytics.domain.period import PeriodOutOfOrder, period
from analytics.satisfaction_routes import satisfaction
from analytics.schemas import HotspotArgs, HotspotsOut, KpiArgs, KpisOut, MonthlyReportArgs
from analytics.scopes import authorized_query, scope_query, scope_tenancy, setting_at
from analytics.settings_routes import hotspot_settings
from analytics.store import AnalyticsStore
from propcare_shared.context import current_context, current_store
from propcare_shared.http.auth import STAFF_ROLES, authenticated
from propcare_shared.http.errors import Problem, ProblemMap

analytics = Blueprint(
    "analytics",
    __name__,
    url_prefix="/api/v1/analytics",
    description="Complaint KPIs and hotspots, from read models built only from events.",
)
BLUEPRINTS = (analytics, satisfaction, hotspot_settings)

PROBLEMS: ProblemMap = {
    PeriodOutOfOrder: lambda _exc: Problem(
        422, "Invalid request", detail="The period ends before it starts.", errors={"from": ["Must not be after `to` (default: now)."]}
    ),
    monthly.MonthMalformed: lambda exc: Problem(422, "Invalid request", detail=str(exc), errors={"month": ["Must be a month as YYYY-MM."]}),
    monthly.MonthInFuture: lambda exc: Problem(422, "Invalid request", detail=str(exc), errors={"month": ["Must not be in the future."]}),
}


@analytics.route("/kpis", methods=["GET"])
@authenticated(roles=STAFF_ROLES)
@analytics.arguments(KpiArgs, location="query")
@analytics.response(200, KpisOut)
def get_kpis(args: dict[str, Any]) -> dict[str, Any]:
    """Return the KPIs of the complaints of a scope received in a period."""
    store = current_store(AnalyticsStore)
    now = current_context().clock()
    query = authorized_query(store, args["scope"])
    start, end = period(start=args["from_"], end=args["to"], now=now)
    figures = reports.kpi_figures(store, query=query, start=start, end=end, now=now)
    return {"scope": str(args["scope"]), "from_": start, "to": end, "generated_at": now, **figures}


@analytics.route("/hotspots", methods=["GET"])
@authenticated(roles=STAFF_ROLES)
@analytics.arguments(HotspotArgs, location="query")
@analytics.response(200, HotspotsOut)
def get_hotspots(args: dict[str, Any]) -> dict[str, Any]:
    """Return the busiest buildings x subcategories of a scope in the last ``days`` days, with their share of volume.

    ``threshold`` and ``threshold_days`` are the hotspot setting in force at the scope; each item is
    judged against the setting of its own estate (``reaches_threshold``: its count in the window
    reaches that estate's threshold).
    """
    store = current_store(AnalyticsStore)
    now = current_context().clock()
    scope_setting = setting_at(store, scope_tenancy(store, args["scope"]))
    query = scope_query(args["scope"])
    since = now - timedelta(days=args["days"])
    total, items = reports.hotspot_figures(store, query=query, now=now, days=args["days"], limit=args["limit"], scope_setting=scope_setting)
    return {
        "scope": str(args["scope"]),
        "from_": since,
        "to": now,
        "days": args["days"],
        "threshold": scope_setting.threshold,
        "threshold_days": scope_setting.days,
        "total": total,
        "items": items,
    }


@analytics.route("/reports/monthly", methods=["GET"])
@authenticated(roles=STAFF_ROLES)
@analytics.arguments(MonthlyReportArgs, location="query")
def get_monthly_report(args: dict[str, Any]) -> Response:
    """Return the monthly review (复盘) of a scope as JSON, CSV or HTML: this month beside last month."""
    store = current_store(AnalyticsStore)
    now = current_context().clock()
    scope_setting = setting_at(store, scope_tenancy(store, args["scope"]))
    query = scope_query(args["scope"])
    month = monthly.parse_month(args["month"], now=now)
    report = reports.monthly_review(store, scope=str(args["scope"]), query=query, month=month, now=now, scope_setting=scope_setting)
    filename = f"monthly-review-{report['month']}"
    if args["format"] == "csv":
        return Response(
            report_formats.to_csv(report),
            mimetype="text/csv",
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'},
        )
    if args["format"] == "html":
        return Response(report_formats.to_html(report), content_type="text/html; charset=utf-8")
    return jsonify(report_formats.plain(report))
