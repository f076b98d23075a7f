"""A work order as dispatch keeps it (``WorkOrder``), the changes an action makes to it, its timeline
entries and the payload of the events about it.

Pure: plain values in and out. ``WorkOrder`` names every key of the stored document so mypy checks
them; documents written before a key existed may lack it, so readers of the optional ones use
``.get``. Invariants:
- ``_id`` is the complaint's id, shared with intake and every event about the complaint;
- ``seq`` is the complaint's event counter: the last ``seq`` emitted about it, advanced by each change;
- ``deadlines`` maps each SLA target to its entry (``dispatch.domain.timers``), and ``next_check_at``
  is the earliest escalation step not fired yet of those entries, or None.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, NotRequired, TypedDict

from dispatch.domain import timers


class WorkOrder(TypedDict):
    """One complaint's work order, as stored in ``work_orders``."""

    _id: str
    ticket_no: str
    group_id: str | None
    region_id: str | None
    estate_id: str
    building: str | None
    unit: str | None
    room: str | None
    household_id: str | None
    channel: str
    status: str
    category: str
    subcategory: str
    tier: str
    tier_reason: str | None
    department: str
    assignee_id: str | None
    grid_id: str | None
    confidence: float
    needs_review: bool
    matched: list[str]
    escalation_level: int
    hotline: bool
    hotline_ticket_id: NotRequired[str | None]
    hotline_deadline: datetime | None
    first_responder_id: str | None
    received_at: datetime
    timezone: str
    deadlines: timers.Deadlines
    paused_at: datetime | None
    paused_seconds: float
    held_from: str | None
    resolved_at: datetime | None
    repeat_count: int
    seq: int
    next_check_at: datetime | None
    created_at: datetime
    updated_at: datetime
    accepted_at: NotRequired[datetime]
    reopened_at: NotRequired[datetime]
    closed_at: NotRequired[datetime]
    cancelled_at: NotRequired[datetime]
    cancel_reason: NotRequired[str | None]


class WorkOrderChanges(TypedDict, total=False):
    """The fields an action sets on a work order (the store adds ``updated_at`` and advances ``seq``)."""

    status: str
    category: str
    subcategory: str
    tier: str
    department: str
    assignee_id: str | None
    grid_id: str | None
    needs_review: bool
    escalation_level: int
    deadlines: timers.Deadlines
    next_check_at: datetime | None
    paused_at: datetime | None
    paused_seconds: float
    held_from: str | None
    resolved_at: datetime | None
    repeat_count: int
    accepted_at: datetime
    reopened_at: datetime
    closed_at: datetime
    cancelled_at: datetime
    cancel_reason: str | None


class TimelineEntry(TypedDict):
    """One change in a work order's life, as stored in ``timeline`` (the store's writer adds ``_id``)."""

    complaint_id: str
    at: datetime
    action: str
    actor_id: str | None
    note: str | None
    from_status: str | None
    to_status: str
    details: dict[str, Any]


def changed(order: WorkOrder, changes: WorkOrderChanges) -> WorkOrder:
    """Return the order as it reads after the changes."""
    return {**order, **changes}


def timeline_entry(
    *,
    complaint_id: str,
    at: datetime,
    action: str,
    actor_id: str | None,
    note: str | None,
    from_status: str | None,
    to_status: str,
    details: dict[str, Any] | None = None,
) -> TimelineEntry:
    """Return one timeline entry of a change to an order."""
    return {
        "complaint_id": complaint_id,
        "at": at,
        "action": action,
        "actor_id": actor_id,
        "note": note,
        "from_status": from_status,
        "to_status": to_status,
        "details": details or {},
    }


def event_data(order: Mapping[str, Any], *, action: str, at: datetime, actor_id: str | None = None, **extra: Any) -> dict[str, Any]:
    """Return the ``WorkOrderChanged`` payload of an order after a change."""
    return {
        "complaint_id": order["_id"],
        "ticket_no": order["ticket_no"],
        "status": order["status"],
        "action": action,
        "at": at,
        "actor_id": actor_id,
        "channel": order.get("channel"),
        "category": order.get("category"),
        "subcategory": order.get("subcategory"),
        "tier": order.get("tier"),
        "department": order.get("department"),
        "assignee_id": order.get("assignee_id"),
        "confidence": order.get("confidence"),
        "needs_review": bool(order.get("needs_review")),
        "matched": list(order.get("matched") or ()),
        "deadlines": timers.due_times(order.get("deadlines") or {}),
        "escalation_level": int(order.get("escalation_level", 0)),
        "received_at": order.get("received_at"),
        **extra,
    }
