"""Dispatch's HTTP API (the API contract): the estate directory (staff, grids), work orders and their
actions, the classifier, the SLA preview, and the SLA policies and calendars of groups, regions and estates.

Views parse with a schema, check the caller's scope with the kernel's one rule, then their role
(``dispatch.domain.roles``), call the store or ``work_orders`` and dump with a schema. Guarantees:
- Lists are filtered by ``current_principal().query()`` (always the caller's group), narrowed by
  ``scoped_query`` for an ``estate_id`` filter; single records and estates go through
  ``require_visible``: 404 for another group's or a missing one (an estate dispatch has not heard of
  reads like another group's), 403 for one of the caller's group outside their regions or estates.
- ``region:R1`` in a URL is the caller's group's R1, stored under ``region:G1/R1``.
- The actor of an action is the token's ``sub``; a body ``actor_id`` naming anyone else is a 422.
- An action is checked for scope, role and ownership before its ``Idempotency-Key`` is looked at,
  and refused inside the unit of work, before any write, when the order changed meanwhile.
A policy or calendar put for a scope applies to the work orders made or timed afterwards (new
complaints, reclassifications, reopens, follow-ups) and to the preview; deadlines already set stay.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Response, current_app, jsonify
from flask_smorest import Blueprint

from dispatch import work_orders
from dispatch.domain.classify import classify
from dispatch.domain.roles import DIRECTORY_WRITERS, POLICY_WRITERS, READERS, ownership_refusal, roles_acting_for_others, roles_for
from dispatch.domain.sla import compute_deadlines, format_duration, serialize_policy
from dispatch.metrics import record_targets
from dispatch.schemas import (
    ActionIn,
    CalendarIn,
    CalendarOut,
    ClassificationOut,
    ClassifyIn,
    GridIn,
    GridOut,
    GridPage,
    PolicyIn,
    PolicyOut,
    SlaPreviewArgs,
    SlaPreviewOut,
    StaffIn,
    StaffListArgs,
    StaffOut,
    StaffPage,
    WorkOrderListArgs,
    WorkOrderOut,
    WorkOrderPage,
)
from dispatch.store import DispatchStore, overdue_query
from dispatch.timers import view_state
from dispatch.workflow import IllegalTransition
from propcare_shared.http.app import ServiceContext
from propcare_shared.http.auth import (
    Principal,
    authenticated,
    current_principal,
    require_role,
    require_scope,
    require_visible,
    scoped_query,
)
from propcare_shared.http.errors import Problem
from propcare_shared.http.idempotency import replayable
from propcare_shared.http.pagination import PageArgs
from propcare_shared.scope import InvalidScope, Scope, parse_scope, scope_chain
from propcare_shared.tenancy import Tenancy

directory = Blueprint(
    "directory", __name__, url_prefix="/api/v1/estates", description="The estate directory dispatch routes with: staff and grids."
)
orders = Blueprint(
    "work_orders",
    __name__,
    url_prefix="/api/v1/work-orders",
    description="Work orders: classification, assignment, SLA deadlines, actions, timeline.",
)
classifier = Blueprint("classify", __name__, url_prefix="/api/v1/classify", description="The complaint classifier.")
sla = Blueprint("sla", __name__, url_prefix="/api/v1/sla", description="SLA deadlines.")
policies = Blueprint(
    "sla_policies",
    __name__,
    url_prefix="/api/v1/sla-policies",
    description="SLA policies overridden per group, region or estate (ISO 8601 durations).",
)
calendars = Blueprint(
    "calendars", __name__, url_prefix="/api/v1/calendars", description="Closures and extra working days per group, region or estate."
)
BLUEPRINTS = (directory, orders, classifier, sla, policies, calendars)


def _context() -> ServiceContext:
    return current_app.extensions["propcare"]


def _store() -> DispatchStore:
    context = _context()
    return DispatchStore(context.database, clock=context.clock)


def _visible_estate(store: DispatchStore, estate_id: str) -> dict[str, Any]:
    """Return dispatch's copy of an estate the caller may see: 404 when unknown or another group's, 403 outside their scope."""
    return require_visible(store.estate(estate_id), what="estate", identifier=estate_id)


def _staff_view(document: dict[str, Any]) -> dict[str, Any]:
    return {key: document.get(key) for key in ("staff_id", "estate_id", "name", "department", "role", "grids", "on_duty", "updated_at")}


def _grid_view(document: dict[str, Any]) -> dict[str, Any]:
    return {key: document.get(key) for key in ("grid_id", "estate_id", "buildings", "owner_id", "updated_at")}


# directory ---------------------------------------------------------------------------------------


@directory.route("/<estate_id>/staff/<staff_id>", methods=["PUT"])
@authenticated(roles=DIRECTORY_WRITERS)
@directory.arguments(StaffIn)
@directory.response(200, StaffOut)
@directory.alt_response(201, schema=StaffOut, description="Created")
def put_staff(values: dict[str, Any], estate_id: str, staff_id: str) -> tuple[dict[str, Any], int]:
    """Create or replace a staff member of an estate.

    The estate must be known to dispatch (intake's ``directory.estate.upserted``) and within the
    caller's scope: otherwise 404 (unknown or another group's) or 403. Names stay in dispatch's
    database; events and logs carry the staff id only.
    """
    store = _store()
    estate = _visible_estate(store, estate_id)
    document, created = store.put_staff(estate=estate, staff_id=staff_id, values={**values, "grids": sorted(set(values["grids"]))})
    return _staff_view(document), 201 if created else 200


@directory.route("/<estate_id>/staff", methods=["GET"])
@authenticated(roles=READERS)
@directory.arguments(StaffListArgs, location="query")
@directory.response(200, StaffPage)
def list_staff(args: dict[str, Any], estate_id: str) -> dict[str, Any]:
    """List an estate's staff."""
    store = _store()
    _visible_estate(store, estate_id)
    items, next_cursor = store.list_staff(
        estate_id=estate_id, limit=args["limit"], cursor=args["cursor"], department=args["department"], role=args["role"]
    )
    return {"items": [_staff_view(item) for item in items], "next_cursor": next_cursor}


@directory.route("/<estate_id>/grids/<grid_id>", methods=["PUT"])
@authenticated(roles=DIRECTORY_WRITERS)
@directory.arguments(GridIn)
@directory.response(200, GridOut)
@directory.alt_response(201, schema=GridOut, description="Created")
def put_grid(values: dict[str, Any], estate_id: str, grid_id: str) -> tuple[dict[str, Any], int]:
    """Create or replace a grid: its buildings and its owner.

    404 for an estate dispatch does not know (or another group's), 403 outside the caller's scope;
    422 on ``owner_id`` for someone who is not staff of the estate, on ``buildings`` for a building
    another grid holds.
    """
    store = _store()
    estate = _visible_estate(store, estate_id)
    buildings = sorted(set(values["buildings"]))
    errors: dict[str, list[str]] = {}
    owner_id = values["owner_id"]
    if owner_id and store.staff_member(estate_id, owner_id) is None:
        errors["owner_id"] = [f"{owner_id!r} is not a staff member of this estate."]
    taken = store.grids_holding(estate_id, buildings, except_grid=grid_id)
    if taken:
        clashes = sorted(
            {f"{building} (grid {grid['grid_id']})" for grid in taken for building in grid["buildings"] if building in buildings}
        )
        errors["buildings"] = [f"Already in another grid: {', '.join(clashes)}."]
    if errors:
        raise Problem(422, "Invalid request", detail="Some fields are missing or invalid.", errors=errors)
    document, created = store.put_grid(estate=estate, grid_id=grid_id, buildings=buildings, owner_id=owner_id)
    return _grid_view(document), 201 if created else 200


@directory.route("/<estate_id>/grids", methods=["GET"])
@authenticated(roles=READERS)
@directory.arguments(PageArgs, location="query")
@directory.response(200, GridPage)
def list_grids(args: dict[str, Any], estate_id: str) -> dict[str, Any]:
    """List an estate's grids."""
    store = _store()
    _visible_estate(store, estate_id)
    items, next_cursor = store.list_grids(estate_id=estate_id, limit=args["limit"], cursor=args["cursor"])
    return {"items": [_grid_view(item) for item in items], "next_cursor": next_cursor}


# work orders -------------------------------------------------------------------------------------


def work_order_view(order: dict[str, Any], *, now: datetime, timeline: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Return the API.md shape of a work order; each target's state as a reader sees it now."""
    view = {
        "complaint_id": order["_id"],
        **{
            key: order.get(key)
            for key in (
                "ticket_no",
                "estate_id",
                "status",
                "category",
                "subcategory",
                "tier",
                "department",
                "assignee_id",
                "grid_id",
                "confidence",
            )
        },
        "escalation_level": int(order.get("escalation_level", 0)),
        "deadlines": {
            target: {"due_at": entry.get("due_at"), "met_at": entry.get("met_at"), "state": view_state(entry, now=now)}
            for target, entry in (order.get("deadlines") or {}).items()
        },
    }
    if timeline is not None:
        view["timeline"] = [{key: entry.get(key) for key in ("at", "action", "actor_id", "note")} for entry in timeline]
    return view


def _visible_order(store: DispatchStore, complaint_id: str) -> dict[str, Any]:
    """Return a work order the caller may see: 404 when missing or another group's, 403 outside their scope."""
    return require_visible(store.work_order(complaint_id), what="work order", identifier=complaint_id)


@orders.route("", methods=["GET"])
@authenticated(roles=READERS)
@orders.arguments(WorkOrderListArgs, location="query")
@orders.response(200, WorkOrderPage)
def list_work_orders(args: dict[str, Any]) -> dict[str, Any]:
    """List the work orders in the caller's scope, newest first; ``overdue=true`` for those past a deadline.

    An ``estate_id`` outside the caller's scope is refused (404 unknown or another group's, 403 within
    their group), never answered with an empty page.
    """
    store = _store()
    now = _context().clock()
    estate_id = args["estate_id"]
    clauses: list[dict[str, Any]] = [scoped_query(estate_id=estate_id, estate=store.estate(estate_id) if estate_id else None)]
    for key in ("status", "tier", "assignee_id"):
        if args[key]:
            clauses.append({key: args[key]})
    if args["overdue"] is True:
        clauses.append(overdue_query(now))
    elif args["overdue"] is False:
        clauses.append({"$nor": [overdue_query(now)]})
    items, next_cursor = store.list_work_orders(query={"$and": clauses}, limit=args["limit"], cursor=args["cursor"])
    return {"items": [work_order_view(item, now=now) for item in items], "next_cursor": next_cursor}


@orders.route("/<complaint_id>", methods=["GET"])
@authenticated(roles=READERS)
@orders.response(200, WorkOrderOut)
def get_work_order(complaint_id: str) -> dict[str, Any]:
    """Return a work order with its deadlines and its last 200 timeline entries."""
    store = _store()
    order = _visible_order(store, complaint_id)
    return work_order_view(order, now=_context().clock(), timeline=store.timeline(complaint_id))


@orders.route("/<complaint_id>/actions", methods=["POST"])
@authenticated(roles=READERS)
@orders.arguments(ActionIn)
@orders.response(200, WorkOrderOut)
def post_action(values: dict[str, Any], complaint_id: str) -> Response:
    """Act on a work order as the token's ``sub``; 403 for a role that may not, 409 when its status does not allow it.

    Scope, role, actor and ownership are checked before the ``Idempotency-Key`` is looked at, so a
    key replays only to its own caller and only once they may act. Answers a ready response (not a
    dict for the schema) so ``replayable`` can store and replay it.
    """
    principal = current_principal()
    store = _store()
    order = _visible_order(store, complaint_id)
    action = values["action"]
    require_role(roles_for(action), doing=f"the action {action!r}")
    if values.get("actor_id") not in (None, principal.sub):
        raise Problem(
            422,
            "Invalid request",
            detail="The actor of an action is the caller.",
            errors={"actor_id": [f"Must be the token's sub ({principal.sub!r}) or left out."]},
        )
    _refuse_unless_owner(principal, action=action, assignee_id=order.get("assignee_id"))
    return replayable(lambda: _act(store, principal, complaint_id=complaint_id, action=action, values=values))


def _refuse_unless_owner(principal: Principal, *, action: str, assignee_id: str | None) -> None:
    refusal = ownership_refusal(role=principal.role, action=action, actor_id=principal.sub, assignee_id=assignee_id)
    if refusal is not None:
        raise _forbidden(refusal, required_roles=roles_acting_for_others(action))


def _forbidden(detail: str, *, required_roles: tuple[str, ...]) -> Problem:
    return Problem(403, "Forbidden", detail=detail, required_roles=list(required_roles))


def _act(store: DispatchStore, principal: Principal, *, complaint_id: str, action: str, values: dict[str, Any]) -> Response:
    context = _context()
    at = context.clock()
    try:
        change = context.uow.run(
            lambda tx: work_orders.act(
                tx,
                store=store,
                complaint_id=complaint_id,
                action=action,
                values=values,
                actor_id=principal.sub,
                actor_role=principal.role,
                at=at,
            )
        )
    except IllegalTransition as exc:
        raise Problem(
            409,
            "Conflict",
            detail=f"{exc.action} is not allowed while the work order is {exc.status}.",
            allowed_actions=exc.allowed_actions,
            status_now=exc.status,
        ) from None
    except work_orders.ActionRefused as exc:
        raise _forbidden(exc.reason, required_roles=exc.required_roles) from None
    except work_orders.InvalidAction as exc:
        raise Problem(422, "Invalid request", detail="Some fields are missing or invalid.", errors=exc.errors) from None
    except work_orders.ConcurrentChange:
        raise Problem(409, "Conflict", detail="The work order changed meanwhile; read it again and retry.") from None
    except work_orders.WorkOrderNotFound:
        raise Problem(404, "Not Found", detail=f"No work order {complaint_id!r} within your scope.") from None
    record_targets(order=change.order, results=change.targets)
    return jsonify(WorkOrderOut().dump(work_order_view(change.order, now=at, timeline=store.timeline(complaint_id))))


# classifier and SLA preview ----------------------------------------------------------------------


@classifier.route("", methods=["POST"])
@authenticated(roles=READERS)
@classifier.arguments(ClassifyIn)
@classifier.response(200, ClassificationOut)
def post_classify(values: dict[str, Any]) -> dict[str, Any]:
    """Classify a text: category, subcategory, tier, department, confidence and the terms that matched."""
    result = classify(values["text"], channel=values["channel"])
    return {
        "category": result.category,
        "subcategory": result.subcategory,
        "tier": result.tier,
        "department": result.department,
        "confidence": result.confidence,
        "matched": list(result.matched),
        "needs_review": result.needs_review,
    }


@sla.route("/preview", methods=["GET"])
@authenticated(roles=READERS)
@sla.arguments(SlaPreviewArgs, location="query")
@sla.response(200, SlaPreviewOut)
def preview_deadlines(args: dict[str, Any]) -> dict[str, Any]:
    """Return the deadlines a complaint of a tier received at a time would get in an estate the caller sees."""
    store = _store()
    estate = _visible_estate(store, args["estate_id"])
    received_at = args["received_at"] or _context().clock()
    policy, calendar = store.policy_and_calendar_for(estate)
    deadlines = compute_deadlines(
        tier=args["tier"],
        received_at=received_at,
        policy=policy,
        calendar=calendar,
        timezone=estate.get("timezone") or work_orders.DEFAULT_TIMEZONE,
    )
    return {"tier": args["tier"], "deadlines": deadlines}


# SLA policies and calendars ----------------------------------------------------------------------


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
    try:
        scope = parse_scope(text)
    except InvalidScope as exc:
        raise Problem(422, "Invalid request", detail="Some fields are missing or invalid.", errors={"scope": [str(exc)]}) from None
    principal = current_principal()
    if scope.level == "estate":
        tenancy = Tenancy.of(_visible_estate(store, scope.id))
    elif scope.level == "region":
        tenancy = Tenancy(group_id=principal.group_id, region_id=scope.id)
        require_scope(**tenancy.fields(), what="region")
        if writing and not store.knows_region(group_id=principal.group_id, region_id=scope.id):
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
    policy, _ = store.effective_for(target.chain)
    own = store.policy_override(target.key) or {}
    return {"scope": str(target.scope), "tiers": serialize_policy(policy)["tiers"], "overrides": own.get("tiers") or {}}


def _calendar_view(store: DispatchStore, target: ScopeInForce) -> dict[str, Any]:
    _, calendar = store.effective_for(target.chain)
    own = store.calendar_override(target.key) or {}
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
    store = _store()
    target = _scope_in_force(store, scope, writing=True)
    tiers = {
        tier: {name: {"duration": format_duration(cell), "clock": cell.clock} for name, cell in cells.items()}
        for tier, cells in values["tiers"].items()
    }
    created = store.put_policy(scope_key=target.key, group_id=target.group_id, tiers=tiers, actor_id=current_principal().sub)
    return _policy_view(store, target), 201 if created else 200


@policies.route("/<scope>", methods=["GET"])
@authenticated(roles=READERS)
@policies.response(200, PolicyOut)
def get_policy(scope: str) -> dict[str, Any]:
    """Return the effective policy of a scope (group, then region, then estate, over the defaults) and its own cells."""
    store = _store()
    return _policy_view(store, _scope_in_force(store, scope))


@calendars.route("/<scope>", methods=["PUT"])
@authenticated(roles=POLICY_WRITERS)
@calendars.arguments(CalendarIn)
@calendars.response(200, CalendarOut)
@calendars.alt_response(201, schema=CalendarOut, description="Created")
def put_calendar(values: dict[str, Any], scope: str) -> tuple[dict[str, Any], int]:
    """Replace a scope's closures and extra working days; 422 for a value that is not a date, nothing stored then."""
    store = _store()
    target = _scope_in_force(store, scope, writing=True)
    created = store.put_calendar(
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
    store = _store()
    return _calendar_view(store, _scope_in_force(store, scope))
