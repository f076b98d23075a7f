"""Satisfaction figures of campaigns (``GET /api/v1/analytics/satisfaction``), and the month's campaign results for the review.

The scope is checked as every analytics read (``analytics.scopes``). With ``campaign_id``: a campaign
analytics knows neither from ``campaign.started`` nor from an answer, or another group's, is a 404; one
of the caller's group outside their regions or estates a 403; one outside the ``scope`` named a 404.
Without it: every answer of the scope in the period, across campaigns. The figures are computed by
``domain.campaign_figures`` (method: docs/ANALYTICS.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_smorest import Blueprint

from analytics import reports
from analytics.domain import monthly
from analytics.domain.period import period
from analytics.satisfaction_schemas import SatisfactionArgs, SatisfactionOut
from analytics.scopes import authorized_query, within
from analytics.store import AnalyticsStore
from propcare_shared.context import current_context, current_store
from propcare_shared.http.auth import STAFF_ROLES, authenticated, not_yours, require_visible
from propcare_shared.scope import Scope
from propcare_shared.tenancy import Tenancy

satisfaction = Blueprint(
    "analytics_satisfaction",
    __name__,
    url_prefix="/api/v1/analytics",
    description="Satisfaction figures of campaigns: NPS, dimension means and weights, cross tables, the priority matrix.",
)


@satisfaction.route("/satisfaction", methods=["GET"])
@authenticated(roles=STAFF_ROLES)
@satisfaction.arguments(SatisfactionArgs, location="query")
@satisfaction.response(200, SatisfactionOut)
def get_satisfaction(args: dict[str, Any]) -> dict[str, Any]:
    """Return the satisfaction figures of one campaign, or of a scope's answers over a period, with month by month."""
    store = current_store(AnalyticsStore)
    now = current_context().clock()
    scope: Scope = args["scope"]
    query = authorized_query(store, scope)
    start, end = _period(args, now=now)
    campaign = _campaign(store, scope, args["campaign_id"]) if args["campaign_id"] else None
    campaign_ids, figures = reports.satisfaction_figures(
        store, query=query, campaign_id=args["campaign_id"], campaign=campaign, start=start, end=end
    )
    return {
        "scope": str(scope),
        "campaign_id": args["campaign_id"],
        "campaigns": campaign_ids,
        "from_": start,
        "to": end,
        "generated_at": now,
        **figures,
    }


def _period(args: dict[str, Any], *, now: datetime) -> tuple[datetime | None, datetime | None]:
    """Return the period asked for: a month, from/to, by default 30 days; for a campaign, only what was asked."""
    if args["month"]:
        month = monthly.parse_month(args["month"], now=now)
        return month.start, month.end
    if args["campaign_id"] and args["from_"] is None and args["to"] is None:
        return None, None
    return period(start=args["from_"], end=args["to"], now=now)


def _campaign(store: AnalyticsStore, scope: Scope, campaign_id: str) -> dict[str, Any]:
    """Return a campaign the caller may see within the scope, or its bare record when only its answers are known yet."""
    record = store.campaign(campaign_id)
    tenancy = Tenancy.of(record) if record else store.answer_tenancy(campaign_id)
    known = {**tenancy.fields(), "campaign_id": campaign_id} if tenancy is not None else None
    require_visible(known, what="campaign", identifier=campaign_id)
    if tenancy is None or not within(scope, tenancy):
        raise not_yours("campaign", campaign_id)
    return record or {"campaign_id": campaign_id, **tenancy.fields(), "dimensions": [], "complaint_handling_question": None}
