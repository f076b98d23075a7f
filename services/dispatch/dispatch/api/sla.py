"""The SLA preview: the deadlines a complaint of a tier received at a time would get in an estate."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from dispatch.api.common import visible_estate
from dispatch.domain.roles import READERS
from dispatch.domain.sla import DEFAULT_TIMEZONE, compute_deadlines
from dispatch.schemas import SlaPreviewArgs, SlaPreviewOut
from dispatch.store import DispatchStore
from propcare_shared.context import current_context, current_store
from propcare_shared.http.auth import authenticated

sla = Blueprint("sla", __name__, url_prefix="/api/v1/sla", description="SLA deadlines.")


@sla.route("/preview", methods=["GET"])
@authenticated(roles=READERS)
@sla.arguments(SlaPreviewArgs, location="query")
@sla.response(200, SlaPreviewOut)
def preview_deadlines(args: dict[str, Any]) -> dict[str, Any]:
    """Return the deadlines a complaint of a tier received at a time would get in an estate the caller sees."""
    store = current_store(DispatchStore)
    estate = visible_estate(store, args["estate_id"])
    received_at = args["received_at"] or current_context().clock()
    policy, calendar = store.policies.policy_and_calendar_for(estate)
    deadlines = compute_deadlines(
        tier=args["tier"],
        received_at=received_at,
        policy=policy,
        calendar=calendar,
        timezone=estate.get("timezone") or DEFAULT_TIMEZONE,
    )
    return {"tier": args["tier"], "deadlines": deadlines}
