"""Dispatch's HTTP API (API.md): the estate directory (staff, grids), work orders and their actions,
the classifier, the SLA preview, and the SLA policies and calendars of groups, regions and estates.

Views parse with a schema, check the caller's scope, call the store or ``work_orders`` and dump with
a schema. A refused action changes nothing: it is refused inside the unit of work, before any write.
An estate dispatch has not heard of (no ``directory.estate.upserted`` yet) cannot get staff or grids:
422 on ``estate_id``. A policy or calendar put for a scope applies to the work orders made or timed
afterwards (new complaints, reclassifications, reopens, follow-ups) and to the preview; deadlines
already set stay as they are.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Response, current_app, jsonify
from flask_smorest import Blueprint

from dispatch import work_orders
from dispatch.domain.classify import classify
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
from propcare_shared.http.auth import STAFF_ROLES, authenticated, current_principal, require_scope
from propcare_shared.http.errors import Problem
from propcare_shared.http.idempotency import idempotent
from propcare_shared.http.pagination import PageArgs
from propcare_shared.scope import InvalidScope, Scope, parse_scope, scope_chain

DIRECTORY_ADMINS = ("manager", "supervisor", "regional_ops", "group_admin", "service")
SCOPE_ADMINS = ("manager", "regional_ops", "group_admin")
"""Who may change a policy or a calendar, each within their scope: a manager their estates, regional
operations their regions and the estates in them, a group admin the whole group."""

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


def _known_estate(store: DispatchStore, estate_id: str, *, reading: bool = False) -> dict[str, Any]:
    estate = store.estate(estate_id)
    if estate is None and reading:
        raise Problem(404, "Not Found", detail=f"Dispatch does not know the estate {estate_id!r}.")
    if estate is None:
        raise Problem(
            422,
            "Invalid request",
            detail="Dispatch does not know this estate yet; create it in the directory (PUT /api/v1/estates/{estate_id}) first.",
            errors={"estate_id": [f"Unknown estate {estate_id!r}."]},
        )
    require_scope(group_id=estate.get("group_id"), region_id=estate.get("region_id"), estate_id=estate_id)
    return estate


def _staff_view(document: dict[str, Any]) -> dict[str, Any]:
    return {key: document.get(key) for key in ("staff_id", "estate_id", "name", "department", "role", "grids", "on_duty", "updated_at")}


def _grid_view(document: dict[str, Any]) -> dict[str, Any]:
    return {key: document.get(key) for key in ("grid_id", "estate_id", "buildings", "owner_id", "updated_at")}


# directory ---------------------------------------------------------------------------------------


@directory.route("/<estate_id>/staff/<staff_id>", methods=["PUT"])
@authenticated(roles=DIRECTORY_ADMINS)
@directory.arguments(StaffIn)
@directory.response(200, StaffOut)
@directory.alt_response(201, schema=StaffOut, description="Created")
def put_staff(values: dict[str, Any], estate_id: str, staff_id: str) -> tuple[dict[str, Any], int]:
    """Create or replace a staff member of an estate.

    The estate must be known to dispatch (intake's ``directory.estate.upserted``): otherwise 422 on
    ``estate_id``. Names stay in dispatch's database; events and logs carry the staff id only.
    """
    store = _store()
    estate = _known_estate(store, estate_id)
    document, created = store.put_staff(estate=estate, staff_id=staff_id, values={**values, "grids": sorted(set(values["grids"]))})
    return _staff_view(document), 201 if created else 200


@directory.route("/<estate_id>/staff", methods=["GET"])
@authenticated(roles=STAFF_ROLES)
@directory.arguments(StaffListArgs, location="query")
@directory.response(200, StaffPage)
def list_staff(args: dict[str, Any], estate_id: str) -> dict[str, Any]:
    """List an estate's staff."""
    store = _store()
    _known_estate(store, estate_id, reading=True)
    items, next_cursor = store.list_staff(
        estate_id=estate_id, limit=args["limit"], cursor=args["cursor"], department=args["department"], role=args["role"]
    )
    return {"items": [_staff_view(item) for item in items], "next_cursor": next_cursor}


@directory.route("/<estate_id>/grids/<grid_id>", methods=["PUT"])
@authenticated(roles=DIRECTORY_ADMINS)
@directory.arguments(GridIn)
@directory.response(200, GridOut)
@directory.alt_response(201, schema=GridOut, description="Created")
def put_grid(values: dict[str, Any], estate_id: str, grid_id: str) -> tuple[dict[str, Any], int]:
    """Create or replace a grid: its buildings and its owner.

    422 on ``estate_id`` for an estate dispatch does not know yet, on ``owner_id`` for someone who is
    not staff of the estate, on ``buildings`` for a building another grid holds.
    """
    store = _store()
    estate = _known_estate(store, estate_id)
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
@authenticated(roles=STAFF_ROLES)
@directory.arguments(PageArgs, location="query")
@directory.response(200, GridPage)
def list_grids(args: dict[str, Any], estate_id: str) -> dict[str, Any]:
    """List an estate's grids."""
    store = _store()
    _known_estate(store, estate_id, reading=True)
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
    order = store.work_order(complaint_id)
    if order is None:
        raise Problem(404, "Not Found", detail=f"No work order for complaint {complaint_id!r}.")
    require_scope(group_id=order.get("group_id"), region_id=order.get("region_id"), estate_id=order.get("estate_id"))
    return order


@orders.route("", methods=["GET"])
@authenticated(roles=STAFF_ROLES)
@orders.arguments(WorkOrderListArgs, location="query")
@orders.response(200, WorkOrderPage)
def list_work_orders(args: dict[str, Any]) -> dict[str, Any]:
    """List the work orders in the caller's scope, newest first; ``overdue=true`` for those past a deadline."""
    store = _store()
    principal = current_principal()
    now = _context().clock()
    clauses: list[dict[str, Any]] = [principal.query()]
    if args["estate_id"]:
        estate = store.estate(args["estate_id"])
        if estate is not None and not principal.can_see(
            group_id=estate.get("group_id"), region_id=estate.get("region_id"), estate_id=args["estate_id"]
        ):
            raise Problem(403, "Forbidden", detail="This estate is outside your scope.")
        clauses.append({"estate_id": args["estate_id"]})
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
@authenticated(roles=STAFF_ROLES)
@orders.response(200, WorkOrderOut)
def get_work_order(complaint_id: str) -> dict[str, Any]:
    """Return a work order with its deadlines and its last 200 timeline entries."""
    store = _store()
    order = _visible_order(store, complaint_id)
    return work_order_view(order, now=_context().clock(), timeline=store.timeline(complaint_id))


@orders.route("/<complaint_id>/actions", methods=["POST"])
@authenticated(roles=STAFF_ROLES)
@orders.arguments(ActionIn)
@orders.response(200, WorkOrderOut)
@idempotent
def post_action(values: dict[str, Any], complaint_id: str) -> Response:
    """Act on a work order: 409 with the allowed actions when the status does not allow it.

    Answers a ready response (not a dict for the schema) so ``@idempotent`` can store and replay it.
    """
    context = _context()
    store = _store()
    _visible_order(store, complaint_id)
    actor_id = values.get("actor_id") or current_principal().sub
    at = context.clock()
    try:
        change = context.uow.run(
            lambda tx: work_orders.act(
                tx, store=store, complaint_id=complaint_id, action=values["action"], values=values, actor_id=actor_id, at=at
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
    except work_orders.InvalidAction as exc:
        raise Problem(422, "Invalid request", detail="Some fields are missing or invalid.", errors=exc.errors) from None
    except work_orders.ConcurrentChange:
        raise Problem(409, "Conflict", detail="The work order changed meanwhile; read it again and retry.") from None
    except work_orders.WorkOrderNotFound:
        raise Problem(404, "Not Found", detail=f"No work order for complaint {complaint_id!r}.") from None
    record_targets(tier=change.order.get("tier"), region=change.order.get("region_id"), results=change.targets)
    return jsonify(WorkOrderOut().dump(work_order_view(change.order, now=at, timeline=store.timeline(complaint_id))))


# classifier and SLA preview ----------------------------------------------------------------------


@classifier.route("", methods=["POST"])
@authenticated(roles=STAFF_ROLES)
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
@authenticated(roles=STAFF_ROLES)
@sla.arguments(SlaPreviewArgs, location="query")
@sla.response(200, SlaPreviewOut)
def preview_deadlines(args: dict[str, Any]) -> dict[str, Any]:
    """Return the deadlines a complaint of a tier received at a time would get in an estate."""
    store = _store()
    estate = _known_estate(store, args["estate_id"])
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


def _scope_chain(store: DispatchStore, text: str, *, reading: bool = False) -> tuple[Scope, list[str]]:
    """Return a scope and the scopes it inherits from (widest first, itself last), once the caller may see it."""
    try:
        scope = parse_scope(text)
    except InvalidScope as exc:
        raise Problem(422, "Invalid request", detail="Some fields are missing or invalid.", errors={"scope": [str(exc)]}) from None
    tenancy: dict[str, str | None] = {"group_id": None, "region_id": None, "estate_id": None}
    if scope.level == "estate":
        estate = _known_estate(store, scope.id, reading=reading)
        tenancy.update(group_id=estate.get("group_id"), region_id=estate.get("region_id"), estate_id=scope.id)
    elif scope.level == "region":
        group_id = store.region_group(scope.id)
        if group_id is None and reading:
            raise Problem(404, "Not Found", detail=f"Dispatch knows no estate in the region {scope.id!r}.")
        if group_id is None:
            raise Problem(
                422,
                "Invalid request",
                detail="Dispatch knows no estate in this region yet, so it cannot tell whose region it is.",
                errors={"scope": [f"Unknown region {scope.id!r}."]},
            )
        tenancy.update(group_id=group_id, region_id=scope.id)
    else:
        tenancy["group_id"] = scope.id
    require_scope(**tenancy)
    return scope, scope_chain(**tenancy)


def _policy_view(store: DispatchStore, scope: Scope, chain: list[str]) -> dict[str, Any]:
    policy, _ = store.effective_for(chain)
    own = store.policy_override(str(scope)) or {}
    return {"scope": str(scope), "tiers": serialize_policy(policy)["tiers"], "overrides": own.get("tiers") or {}}


def _calendar_view(store: DispatchStore, scope: Scope, chain: list[str]) -> dict[str, Any]:
    _, calendar = store.effective_for(chain)
    own = store.calendar_override(str(scope)) or {}
    return {
        "scope": str(scope),
        "closures": own.get("closures") or [],
        "extra_working_days": own.get("extra_working_days") or [],
        "effective": {
            "closures": [day.isoformat() for day in sorted(calendar.closures)],
            "extra_working_days": [day.isoformat() for day in sorted(calendar.extra_working_days)],
        },
    }


@policies.route("/<scope>", methods=["PUT"])
@authenticated(roles=SCOPE_ADMINS)
@policies.arguments(PolicyIn)
@policies.response(200, PolicyOut)
@policies.alt_response(201, schema=PolicyOut, description="Created")
def put_policy(values: dict[str, Any], scope: str) -> tuple[dict[str, Any], int]:
    """Replace the cells a scope overrides (the others inherit) and answer its effective policy; 422 or 403 store nothing."""
    store = _store()
    parsed, chain = _scope_chain(store, scope)
    tiers = {
        tier: {target: {"duration": format_duration(cell), "clock": cell.clock} for target, cell in cells.items()}
        for tier, cells in values["tiers"].items()
    }
    created = store.put_policy(scope=str(parsed), tiers=tiers, actor_id=current_principal().sub)
    return _policy_view(store, parsed, chain), 201 if created else 200


@policies.route("/<scope>", methods=["GET"])
@authenticated(roles=STAFF_ROLES)
@policies.response(200, PolicyOut)
def get_policy(scope: str) -> dict[str, Any]:
    """Return the effective policy of a scope (group, then region, then estate, over the defaults) and its own cells."""
    store = _store()
    parsed, chain = _scope_chain(store, scope, reading=True)
    return _policy_view(store, parsed, chain)


@calendars.route("/<scope>", methods=["PUT"])
@authenticated(roles=SCOPE_ADMINS)
@calendars.arguments(CalendarIn)
@calendars.response(200, CalendarOut)
@calendars.alt_response(201, schema=CalendarOut, description="Created")
def put_calendar(values: dict[str, Any], scope: str) -> tuple[dict[str, Any], int]:
    """Replace a scope's closures and extra working days; 422 for a value that is not a date, nothing stored then."""
    store = _store()
    parsed, chain = _scope_chain(store, scope)
    created = store.put_calendar(
        scope=str(parsed),
        closures=sorted({day.isoformat() for day in values["closures"]}),
        extra_working_days=sorted({day.isoformat() for day in values["extra_working_days"]}),
        actor_id=current_principal().sub,
    )
    return _calendar_view(store, parsed, chain), 201 if created else 200


@calendars.route("/<scope>", methods=["GET"])
@authenticated(roles=STAFF_ROLES)
@calendars.response(200, CalendarOut)
def get_calendar(scope: str) -> dict[str, Any]:
    """Return a scope's own closures and extra working days, and those in force there."""
    store = _store()
    parsed, chain = _scope_chain(store, scope, reading=True)
    return _calendar_view(store, parsed, chain)
