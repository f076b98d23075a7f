"""Work orders over HTTP: lists and reads in the caller's scope, and the actions (``dispatch.work_orders.act``).

The actor of an action is the token's ``sub``; a body ``actor_id`` naming anyone else is a 422. An
action is checked for scope, role and ownership before its ``Idempotency-Key`` is looked at, and
refused inside the unit of work, before any write, when the order changed meanwhile.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask import Response, jsonify
from flask_smorest import Blueprint

from dispatch import work_orders
from dispatch.domain.decision import ActionRefused, InvalidAction
from dispatch.domain.roles import READERS, ownership_refusal, roles_acting_for_others, roles_for
from dispatch.domain.timers import view_state
from dispatch.domain.workflow import IllegalTransition
from dispatch.metrics import record_targets
from dispatch.schemas import ActionIn, WorkOrderListArgs, WorkOrderOut, WorkOrderPage
from dispatch.store import DispatchStore, overdue_query
from propcare_shared.context import current_context, current_store
from propcare_shared.http.auth import Principal, authenticated, current_principal, require_role, require_visible, scoped_query
from propcare_shared.http.errors import Problem, ProblemMap
from propcare_shared.http.idempotency import replayable

orders = Blueprint(
    "work_orders",
    __name__,
    url_prefix="/api/v1/work-orders",
    description="Work orders: classification, assignment, SLA deadlines, actions, timeline.",
)


def work_order_view(order: Mapping[str, Any], *, now: datetime, timeline: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Return the docs/API.md shape of a work order; each target's state as a reader sees it now."""
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
        "needs_review": bool(order.get("needs_review")),
        "matched": list(order.get("matched") or []),
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
    return require_visible(store.work_orders.work_order(complaint_id), what="work order", identifier=complaint_id)


@orders.route("", methods=["GET"])
@authenticated(roles=READERS)
@orders.arguments(WorkOrderListArgs, location="query")
@orders.response(200, WorkOrderPage)
def list_work_orders(args: dict[str, Any]) -> dict[str, Any]:
    """List the work orders in the caller's scope, newest first; ``overdue=true`` for those past a deadline.

    ``needs_review=true`` lists those whose classification a person should check (low confidence, close
    categories, or moved by the safety stage) and nobody has reclassified since; ``false`` the others.

    An ``estate_id`` outside the caller's scope is refused (404 unknown or another group's, 403 within
    their group), never answered with an empty page.
    """
    store = current_store(DispatchStore)
    now = current_context().clock()
    estate_id = args["estate_id"]
    clauses: list[dict[str, Any]] = [scoped_query(estate_id=estate_id, estate=store.directory.estate(estate_id) if estate_id else None)]
    for key in ("status", "tier", "assignee_id"):
        if args[key]:
            clauses.append({key: args[key]})
    if args["needs_review"] is True:
        clauses.append({"needs_review": True})
    elif args["needs_review"] is False:
        clauses.append({"needs_review": {"$ne": True}})
    if args["overdue"] is True:
        clauses.append(overdue_query(now))
    elif args["overdue"] is False:
        clauses.append({"$nor": [overdue_query(now)]})
    items, next_cursor = store.work_orders.list_work_orders(query={"$and": clauses}, limit=args["limit"], cursor=args["cursor"])
    return {"items": [work_order_view(item, now=now) for item in items], "next_cursor": next_cursor}


@orders.route("/<complaint_id>", methods=["GET"])
@authenticated(roles=READERS)
@orders.response(200, WorkOrderOut)
def get_work_order(complaint_id: str) -> dict[str, Any]:
    """Return a work order with its deadlines and its last 200 timeline entries."""
    store = current_store(DispatchStore)
    order = _visible_order(store, complaint_id)
    return work_order_view(order, now=current_context().clock(), timeline=store.work_orders.timeline(complaint_id))


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
    store = current_store(DispatchStore)
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
    context = current_context()
    at = context.clock()
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
    record_targets(order=change.order, results=change.targets)
    return jsonify(WorkOrderOut().dump(work_order_view(change.order, now=at, timeline=store.work_orders.timeline(complaint_id))))


def _illegal(exc: IllegalTransition) -> Problem:
    return Problem(
        409,
        "Conflict",
        detail=f"{exc.action} is not allowed while the work order is {exc.status}.",
        allowed_actions=exc.allowed_actions,
        status_now=exc.status,
    )


def _refused(exc: ActionRefused) -> Problem:
    return _forbidden(exc.reason, required_roles=exc.required_roles)


def _invalid(exc: InvalidAction) -> Problem:
    return Problem(422, "Invalid request", detail="Some fields are missing or invalid.", errors=exc.errors)


def _changed_meanwhile(_exc: work_orders.ConcurrentChange) -> Problem:
    return Problem(409, "Conflict", detail="The work order changed meanwhile; read it again and retry.")


def _not_found(exc: work_orders.WorkOrderNotFound) -> Problem:
    return Problem(404, "Not Found", detail=f"No work order {exc.args[0]!r} within your scope.")


PROBLEMS: ProblemMap = {
    IllegalTransition: _illegal,
    ActionRefused: _refused,
    InvalidAction: _invalid,
    work_orders.ConcurrentChange: _changed_meanwhile,
    work_orders.WorkOrderNotFound: _not_found,
}
"""How the refusals of an action are answered: 409 for the status or a change meanwhile, 403 for the role, 422 for the values."""
