"""Analytics' HTTP API (docs/API.md, Analytics): complaint KPIs, complaint hotspots and the monthly review of a scope.

Views parse with a schema, check the scope with the kernel's one rule (``require_scope``), read the
read models through the store, compute with the pure domain and dump with a schema. The domain's
refusals (a period that ends before it starts) are answered by one table, ``PROBLEMS``.

The scope rule for ``scope=group:G|region:R|estate:E``:
- ``group:G`` names the caller's group or nothing: another group is a 404, like a missing record.
- ``region:R`` always means the caller's group's R (region ids are only unique within a group);
  a region the caller's group has no estate or complaint in is a 404. Another group's R1 is never
  reached, whatever the name.
- ``estate:E`` is a 404 when analytics knows no such estate or it belongs to another group.
- A scope of the caller's own group outside their regions or estates is a 403.
Every query is then ``Scope.query(group_id=<caller's group>)`` AND ``Principal.query()``, so even a
scope check gone wrong could not return another group's rows.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Response, jsonify
from flask_smorest import Blueprint

from analytics import report_formats
from analytics.domain import kpis, monthly
from analytics.domain.hotspots import THRESHOLD, WINDOW_DAYS
from analytics.domain.period import PeriodOutOfOrder, period
from analytics.schemas import HotspotArgs, HotspotsOut, KpiArgs, KpisOut, MonthlyReportArgs
from analytics.store import AnalyticsStore
from propcare_shared.context import current_context, current_store
from propcare_shared.http.auth import STAFF_ROLES, authenticated, current_principal, require_scope
from propcare_shared.http.errors import Problem, ProblemMap
from propcare_shared.scope import Scope
from propcare_shared.tenancy import Tenancy

analytics = Blueprint(
    "analytics",
    __name__,
    url_prefix="/api/v1/analytics",
    description="Complaint KPIs and hotspots, from read models built only from events.",
)
BLUEPRINTS = (analytics,)

PROBLEMS: ProblemMap = {
    PeriodOutOfOrder: lambda _exc: Problem(
        422, "Invalid request", detail="The period ends before it starts.", errors={"from": ["Must not be after `to` (default: now)."]}
    ),
    monthly.MonthMalformed: lambda exc: Problem(422, "Invalid request", detail=str(exc), errors={"month": ["Must be a month as YYYY-MM."]}),
    monthly.MonthInFuture: lambda exc: Problem(422, "Invalid request", detail=str(exc), errors={"month": ["Must not be in the future."]}),
}


def authorized_query(store: AnalyticsStore, scope: Scope) -> dict[str, Any]:
    """Return the filter of a scope within the caller's; 404 for another group's or an unknown scope, 403 outside theirs."""
    principal = current_principal()
    if scope.level == "estate":
        tenancy = store.estate_tenancy(scope.id) or Tenancy(group_id=None, estate_id=scope.id)
        require_scope(**tenancy.fields(), what="estate")
    elif scope.level == "region":
        known = store.region_known(group_id=principal.group_id, region_id=scope.id)
        require_scope(**Tenancy(principal.group_id if known else None, scope.id).fields(), what="region")
    else:
        require_scope(**Tenancy(scope.id).fields(), what="group")
    return {"$and": [scope.query(group_id=principal.group_id), principal.query()]}


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
    facts = store.facts_received(query=query, start=start, end=end)
    return {"scope": str(args["scope"]), "from_": start, "to": end, "generated_at": now, **kpis.compute(facts, now=now)}


@analytics.route("/hotspots", methods=["GET"])
@authenticated(roles=STAFF_ROLES)
@analytics.arguments(HotspotArgs, location="query")
@analytics.response(200, HotspotsOut)
def get_hotspots(args: dict[str, Any]) -> dict[str, Any]:
    """Return the busiest buildings x subcategories of a scope in the last ``days`` days, with their share of volume."""
    store = current_store(AnalyticsStore)
    now = current_context().clock()
    query = authorized_query(store, args["scope"])
    since = now - timedelta(days=args["days"])
    total, rows = store.top_locations(query=query, since=since, until=now, limit=args["limit"])
    detected = store.last_detections(query=query, since=since)
    items = [
        {
            **row,
            "share": row["count"] / total,
            "reaches_threshold": row["building"] is not None and row["count"] >= THRESHOLD,
            "last_detected_at": detected.get((row["group_id"], row["estate_id"], row["building"], row["subcategory"])),
        }
        for row in rows
    ]
    return {
        "scope": str(args["scope"]),
        "from_": since,
        "to": now,
        "days": args["days"],
        "threshold": THRESHOLD,
        "threshold_days": WINDOW_DAYS,
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
    query = authorized_query(store, args["scope"])
    month = monthly.parse_month(args["month"], now=now)
    previous = month.previous()
    report = monthly.review(
        scope=str(args["scope"]),
        month=month,
        this_facts=store.facts_received(query=query, start=month.start, end=month.end),
        last_facts=store.facts_received(query=query, start=previous.start, end=previous.end),
        now=now,
    )
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
