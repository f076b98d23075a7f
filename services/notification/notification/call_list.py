"""The agent's call list over HTTP: ``GET /api/v1/call-tasks`` and ``POST /api/v1/call-tasks/{id}/done``.

Scoped as every notification list (the kernel's ``scoped_query``: always the caller's group, then
their regions or estates); an ``estate_id`` outside the scope is refused (404 another group's or
unknown, 403 in the group), never answered with an empty page. Open tasks come earliest due first,
so the overdue ones lead the list.

The number to call is the work itself: ``phone`` is shown in full to the roles that call residents
(``CALLER_ROLES``) and masked for the others; it is never logged and never leaves in an event.
An outcome is logged by a person (not ``service``), as the token's ``sub``; a task done already, or
changed by another agent meanwhile, is a 409.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask_smorest import Blueprint

from notification.call_tasks import CallTaskChanged, log_outcome
from notification.domain import call_tasks
from notification.domain.masking import mask_recipient
from notification.schemas import CallOutcomeIn, CallTaskItemOut, CallTaskListArgs, CallTaskPage
from notification.store import NotificationStore
from propcare_shared.context import current_context, current_store
from propcare_shared.http.auth import PEOPLE_ROLES, STAFF_ROLES, authenticated, current_principal, require_visible, scoped_query
from propcare_shared.http.errors import Problem, ProblemMap

CALLER_ROLES = frozenset({"agent", "supervisor", "manager"})
"""The roles that call residents and see the number in full (the customer-service centre)."""

call_list = Blueprint(
    "call_tasks",
    __name__,
    url_prefix="/api/v1/call-tasks",
    description="The agent's call list: calls owed to residents beside written messages (书面+口头), and their outcomes.",
)

PROBLEMS: ProblemMap = {
    call_tasks.CallTaskClosed: lambda exc: Problem(
        409, "Conflict", detail=f"Call task {exc.args[0]} is done already; it takes no more outcomes."
    ),
    CallTaskChanged: lambda exc: Problem(
        409, "Conflict", detail=f"Another outcome was logged on call task {exc.args[0]} meanwhile; read it again."
    ),
}


def call_task_view(task: Mapping[str, Any], *, phone: str | None, now: datetime, full_phone: bool) -> dict[str, Any]:
    """Return the API shape of a call task: its due time and whether it is overdue, the number (masked unless the caller calls)."""
    view = {key: task.get(key) for key in CallTaskItemOut().fields}
    view.update(
        id=task["_id"],
        due_at=task.get("due_at") or task.get("not_before"),
        overdue=call_tasks.is_overdue(task, now=now),
        phone=phone if full_phone else mask_recipient(phone),
        attempts=int(task.get("attempts", 0)),
        outcomes=list(task.get("outcomes") or ()),
    )
    return view


def _views(store: NotificationStore, tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    phones = store.phones_of([task["complaint_id"] for task in tasks])
    full_phone = current_principal().role in CALLER_ROLES
    now = current_context().clock()
    return [call_task_view(task, phone=phones.get(task["complaint_id"]), now=now, full_phone=full_phone) for task in tasks]


@call_list.route("", methods=["GET"])
@authenticated(roles=STAFF_ROLES)
@call_list.arguments(CallTaskListArgs, location="query")
@call_list.response(200, CallTaskPage)
def list_call_tasks(args: dict[str, Any]) -> dict[str, Any]:
    """List the call tasks in the caller's scope by due time, overdue first (``status=open`` by default)."""
    store = current_store(NotificationStore)
    known = store.estate_tenancy(args["estate_id"]) if args["estate_id"] else None
    query = {"$and": [scoped_query(estate_id=args["estate_id"], estate=known, records_only=True), {"status": args["status"]}]}
    items, next_cursor = store.call_tasks(query=query, limit=args["limit"], cursor=args["cursor"])
    return {"items": _views(store, items), "next_cursor": next_cursor}


@call_list.route("/<task_id>/done", methods=["POST"])
@authenticated(roles=PEOPLE_ROLES)
@call_list.arguments(CallOutcomeIn)
@call_list.response(200, CallTaskItemOut)
def post_call_done(values: dict[str, Any], task_id: str) -> dict[str, Any]:
    """Log a call's outcome: reached or wrong_number finish the task, no_answer keeps it open and due again later."""
    context = current_context()
    store = current_store(NotificationStore)
    principal = current_principal()
    task = require_visible(store.call_task(task_id), what="call task", identifier=task_id)
    note = (values["note"] or "").strip() or None
    updated = context.uow.run(
        lambda tx: log_outcome(
            tx,
            store=store,
            task=task,
            outcome=values["outcome"],
            note=note,
            actor_id=principal.sub,
            now=context.clock(),
            retry_at=values["retry_at"],
        )
    )
    return _views(store, [updated])[0]
