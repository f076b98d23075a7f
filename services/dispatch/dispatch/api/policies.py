"""SLA policies and calendars per group, region and estate: each scope's own overrides and what is in force there.

``region:R1`` in a URL is the caller's group's R1, stored under ``region:G1/R1``. A policy or calendar
put for a scope applies to the work orders made or timed afterwards (new complaints,
reclassifications, reopens, follow-ups) and to the preview; deadlines already set stay.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_smorest import Blueprint

from dispatch.api.common import visible_estate
from dispatch.domain.roles import POLICY_WRITERS, READERS
from dispatch.domain.sla import format_duration, serialize_policy
from dispatch.schemas import CalendarIn, CalendarOut, PolicyIn, PolicyOut
from dispatch.store import DispatchStore
from propcare_shared.context import current_store
from propcare_shared.http.auth import authenticated, current_principal, require_scope
from propcare_shared.http.errors import Problem
from propcare_shared.scope import Scope, parse_scope, scope_chain
from propcare_shared.tenancy import Tenancy

policies = Blueprint(
    "sla_policies",
    __name__,
    url_prefix="/api/v1/sla-policies",
    description="SLA policies overridden per group, region or estate (ISO 8601 durations).",
)
calendars = Blueprint(
    "calendars", __name__, url_prefix="/api/v1/calendars", description="Closures and extra working days per group, region or estate."
)


@dataclass(frozen=True)
class ScopeInForce:
    """A scope as the caller named it, its key in the deployment and the scopes it inherits from."""

    scope: Scope
    group_id: str
    key: str
    chain: list[str]


def _scope_in_force(store: DispatchStore, text: str, *, writing: bool = False) -> ScopeInForce:
    """Return a scope the caller may see (or change), with its key and its chain, widest first and itself last.

    ``estate:NS01``: 404 when dispatch does not know it or it is another group's. ``region:R1``: the
    caller's group's R1, by definition; writing one dispatch knows no estate of in that group is a
    422 (a region name with a typo would otherwise store a policy that applies to nothing), reading
    it answers what would apply there. ``group:G2`` of another group: 404. Then 403 outside the
    caller's regions or estates.
    """
    scope = parse_scope(text)  # an unreadable scope is the kernel's 422 on ``scope`` (InvalidScope)
    principal = current_principal()
    if scope.level == "estate":
        tenancy = Tenancy.of(visible_estate(store, scope.id))
    elif scope.level == "region":
        tenancy = Tenancy(group_id=principal.group_id, region_id=scope.id)
        require_scope(**tenancy.fields(), what="region")
        if writing and not store.directory.knows_region(group_id=principal.group_id, region_id=scope.id):
            raise Problem(
                422,
                "Invalid request",
                detail="Dispatch knows no estate of your group in this region, so a policy or calendar there would apply to nothing.",
                errors={"scope": [f"No estate of yours in the region {scope.id!r}."]},
            )
    else:
        tenancy = Tenancy(group_id=scope.id)
        require_scope(**tenancy.fields(), what="group")
    group_id = tenancy.group_id or principal.group_id
    return ScopeInForce(scope=scope, group_id=group_id, key=scope.key(group_id=group_id), chain=scope_chain(**tenancy.fields()))


def _policy_view(store: DispatchStore, target: ScopeInForce) -> dict[str, Any]:
    policy, _ = store.policies.effective_for(target.chain)
    own = store.policies.policy_override(target.key) or {}
    return {"scope": str(target.scope), "tiers": serialize_policy(policy)["tiers"], "overrides": own.get("tiers") or {}}


def _calendar_view(store: DispatchStore, target: ScopeInForce) -> dict[str, Any]:
    _, calendar = store.policies.effective_for(target.chain)
    own = store.policies.calendar_override(target.key) or {}
    return {
        "scope": str(target.scope),
        "closures": own.get("closures") or [],
        "extra_working_days": own.get("extra_working_days") or [],
        "effective": {
            "closures": [day.isoformat() for day in sorted(calendar.closures)],
            "extra_working_days": [day.isoformat() for day in sorted(calendar.extra_working_days)],
        },
    }


@policies.route("/<scope>", methods=["PUT"])
@authenticated(roles=POLICY_WRITERS)
@policies.arguments(PolicyIn)
@policies.response(200, PolicyOut)
@policies.alt_response(201, schema=PolicyOut, description="Created")
def put_policy(values: dict[str, Any], scope: str) -> tuple[dict[str, Any], int]:
    """Replace the cells a scope overrides (the others inherit) and answer its effective policy; 404, 403 or 422 store nothing."""
    store = current_store(DispatchStore)
    target = _scope_in_force(store, scope, writing=True)
    tiers = {
        tier: {name: {"duration": format_duration(cell), "clock": cell.clock} for name, cell in cells.items()}
        for tier, cells in values["tiers"].items()
    }
    created = store.policies.put_policy(scope_key=target.key, group_id=target.group_id, tiers=tiers, actor_id=current_principal().sub)
    return _policy_view(store, target), 201 if created else 200


@policies.route("/<scope>", methods=["GET"])
@authenticated(roles=READERS)
@policies.response(200, PolicyOut)
def get_policy(scope: str) -> dict[str, Any]:
    """Return the effective policy of a scope (group, then region, then estate, over the defaults) and its own cells."""
    store = current_store(DispatchStore)
    return _policy_view(store, _scope_in_force(store, scope))


@calendars.route("/<scope>", methods=["PUT"])
@authenticated(roles=POLICY_WRITERS)
@calendars.arguments(CalendarIn)
@calendars.response(200, CalendarOut)
@calendars.alt_response(201, schema=CalendarOut, description="Created")
def put_calendar(values: dict[str, Any], scope: str) -> tuple[dict[str, Any], int]:
    """Replace a scope's closures and extra working days; 422 for a value that is not a date, nothing stored then."""
    store = current_store(DispatchStore)
    target = _scope_in_force(store, scope, writing=True)
    created = store.policies.put_calendar(
        scope_key=target.key,
        group_id=target.group_id,
        closures=sorted({day.isoformat() for day in values["closures"]}),
        extra_working_days=sorted({day.isoformat() for day in values["extra_working_days"]}),
        actor_id=current_principal().sub,
    )
    return _calendar_view(store, target), 201 if created else 200


@calendars.route("/<scope>", methods=["GET"])
@authenticated(roles=READERS)
@calendars.response(200, CalendarOut)
def get_calendar(scope: str) -> dict[str, Any]:
    """Return a scope's own closures and extra working days, and those in force there."""
    store = current_store(DispatchStore)
    return _calendar_view(store, _scope_in_force(store, scope))
