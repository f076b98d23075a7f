"""Notification's HTTP API: the messages in the caller's scope with their attempts, and the templates.

Staff only (JWT). A message's address is shown masked, and the token of any resident link in its
title or body (a survey or tracking link) is replaced by ``…``: staff never get a usable link; the
message as delivered keeps it. The kernel's one scope rule applies: lists filter with the caller's
scope (always their group); an ``estate_id`` filter or a message of another group (or none) is a
404, of the caller's group but outside their regions or estates a 403.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_smorest import Blueprint

from notification import opt_out_pages, templates
from notification.call_list import PROBLEMS as CALL_LIST_PROBLEMS
from notification.call_list import call_list
from notification.domain.compose import KINDS
from notification.domain.masking import mask_links, mask_recipient
from notification.schemas import NotificationListArgs, NotificationOut, NotificationPage, TemplateKindOut, TemplateList
from notification.store import NotificationStore
from propcare_shared.context import current_store
from propcare_shared.http.auth import STAFF_ROLES, authenticated, require_visible, scoped_query
from propcare_shared.http.errors import Problem, ProblemMap

notifications = Blueprint(
    "notifications",
    __name__,
    url_prefix="/api/v1/notifications",
    description="Messages to residents and staff, with their delivery attempts.",
)
template_pages = Blueprint("templates", __name__, url_prefix="/api/v1/templates", description="Message templates in zh-CN and en.")
BLUEPRINTS = (notifications, template_pages, call_list, opt_out_pages.pages)

VIEW_FIELDS = (
    "complaint_id", "ticket_no", "campaign_id", "household_id",
    "kind", "audience", "channel", "language", "title", "body", "tier", "status", "skip_reason",
    "not_before", "provider", "last_error", "sent_at", "failed_at", "created_at", "updated_at", "group_id", "region_id", "estate_id",
)  # fmt: skip


PROBLEMS: ProblemMap = {
    **CALL_LIST_PROBLEMS,
    templates.UnknownTemplate: lambda exc: Problem(
        404, "Not Found", detail=f"No template {exc.args[0]!r}; the kinds are {', '.join(KINDS)}."
    ),
}
"""How notification's domain refusals are answered (the kernel registers this table on the app)."""


def message_view(message: Mapping[str, Any], *, attempts: list[dict[str, Any]], call_task: Mapping[str, Any] | None) -> dict[str, Any]:
    """Return the API shape of a message: its address and links masked, its attempts and its call task."""
    view = {key: message.get(key) for key in VIEW_FIELDS}
    view.update(
        id=message["_id"],
        title=mask_links(message.get("title")),
        body=mask_links(message.get("body")),
        recipient=mask_recipient(message.get("recipient")),
        attempt_count=int(message.get("attempts", 0)),
        attempts=[{key: attempt.get(key) for key in ("number", "at", "provider", "status", "error")} for attempt in attempts],
        call_task=_call_task_view(call_task),
    )
    return view


def _call_task_view(task: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if task is None:
        return None
    return {"id": task["_id"], **{key: task.get(key) for key in ("reason", "status", "not_before", "created_at")}}


def _views(store: NotificationStore, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ids = [message["_id"] for message in messages]
    attempts, call_tasks = store.attempts_of(ids), store.call_tasks_of(ids)
    return [
        message_view(message, attempts=attempts.get(message["_id"], []), call_task=call_tasks.get(message["_id"])) for message in messages
    ]


@notifications.route("", methods=["GET"])
@authenticated(roles=STAFF_ROLES)
@notifications.arguments(NotificationListArgs, location="query")
@notifications.response(200, NotificationPage)
def list_notifications(args: dict[str, Any]) -> dict[str, Any]:
    """List the messages in the caller's scope, newest first, with their attempts."""
    store = current_store(NotificationStore)
    known = store.estate_tenancy(args["estate_id"]) if args["estate_id"] else None
    clauses: list[dict[str, Any]] = [scoped_query(estate_id=args["estate_id"], estate=known, records_only=True)]
    clauses += [{key: args[key]} for key in ("complaint_id", "status", "channel", "kind") if args[key]]
    items, next_cursor = store.messages(query={"$and": clauses}, limit=args["limit"], cursor=args["cursor"])
    return {"items": _views(store, items), "next_cursor": next_cursor}


@notifications.route("/<message_id>", methods=["GET"])
@authenticated(roles=STAFF_ROLES)
@notifications.response(200, NotificationOut)
def get_notification(message_id: str) -> dict[str, Any]:
    """Return one message with its attempts."""
    store = current_store(NotificationStore)
    message = require_visible(store.message(message_id), what="message", identifier=message_id)
    return _views(store, [message])[0]


@template_pages.route("", methods=["GET"])
@authenticated(roles=STAFF_ROLES)
@template_pages.response(200, TemplateList)
def list_templates() -> dict[str, Any]:
    """List every template: kind, audience, language, file and source."""
    return {"items": templates.catalogue()}


@template_pages.route("/<kind>", methods=["GET"])
@authenticated(roles=STAFF_ROLES)
@template_pages.response(200, TemplateKindOut)
def get_template(kind: str) -> dict[str, Any]:
    """Return one kind's template in every language (an unknown kind is answered by ``PROBLEMS``)."""
    return templates.of_kind(kind)
