"""Factories for dispatch tests: events as other services emit them, and work orders as dispatch keeps them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from dispatch.domain import timers
from dispatch.domain.sla import DEFAULT_POLICY, compute_deadlines
from dispatch.domain.work_order import WorkOrder
from propcare_shared.calendar import WorkingCalendar
from propcare_shared.events.envelope import Event, new_event
from propcare_shared.mongo import new_id
from propcare_shared.sealing import Sealer, new_key

# Monday 23 November 2026, 10:00 in Shanghai: a working day, far from holidays.
MONDAY_MORNING = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
PURPOSES = ("complaint-received", "survey-dissatisfied", "survey-completed", "hotline-returned", "hotline-satisfaction", "estate-upserted")
LIFT_TRAPPED = "3号楼2单元电梯困人，里面有老人"
CORRIDOR_LIGHT = "楼道的灯坏了，晚上很黑"
# Intake seals the reporter's contact for notification; dispatch is never given a key to open it.
INTAKE_SEALER = Sealer([new_key()])
REPORTER_CONTACT = {"name": "王女士", "phone": "+8613800138000", "email": None}


def received_event(
    *,
    text: str = CORRIDOR_LIGHT,
    estate_id: str = "NS01",
    region_id: str = "R1",
    group_id: str = "G1",
    building: str = "3",
    unit: str = "2",
    room: str = "1502",
    household_id: str | None = None,
    channel: str = "app",
    received_at: datetime = MONDAY_MORNING,
    complaint_id: str | None = None,
    **data: Any,
) -> Event:
    """Return a ``complaint.received`` as intake emits it (seq 1): the reporter's role in clear, their contact sealed."""
    complaint_id = complaint_id or new_id()
    return new_event(
        "complaint.received",
        producer="intake",
        data={
            "complaint_id": complaint_id,
            "ticket_no": f"{estate_id}-20261123-{complaint_id[-4:]}",
            "channel": channel,
            "building": building,
            "unit": unit,
            "room": room,
            "household_id": household_id,
            "description": text,
            "received_at": received_at,
            "reporter_role": "owner",
            "contact": INTAKE_SEALER.seal(REPORTER_CONTACT),
            **data,
        },
        correlation_id=complaint_id,
        group_id=group_id,
        region_id=region_id,
        estate_id=estate_id,
        seq=1,
    )


def work_order(
    *,
    status: str = "assigned",
    tier: str = "general",
    assignee_id: str | None = "eng-1",
    received_at: datetime = MONDAY_MORNING,
    **fields: Any,
) -> WorkOrder:
    """Return a corridor-light work order of NS01 as dispatch stores it once classified and assigned, without a database.

    Its deadlines are the default policy's for the tier from ``received_at`` (Asia/Shanghai, the
    official calendar), all pending; ``seq`` 3 (intake's 1, then classified and assigned).
    """
    due = compute_deadlines(tier=tier, received_at=received_at, policy=DEFAULT_POLICY, calendar=WorkingCalendar(), timezone="Asia/Shanghai")
    order: dict[str, Any] = {
        "_id": "c-0001",
        "ticket_no": "NS01-20261123-0001",
        "group_id": "G1",
        "region_id": "R1",
        "estate_id": "NS01",
        "building": "3",
        "unit": "2",
        "room": "1502",
        "household_id": None,
        "channel": "app",
        "status": status,
        "category": "facility",
        "subcategory": "electrical",
        "tier": tier,
        "tier_reason": None,
        "department": "engineering",
        "assignee_id": assignee_id,
        "grid_id": None,
        "confidence": 0.9,
        "needs_review": False,
        "matched": ["electrical:灯"],
        "escalation_level": 0,
        "hotline": False,
        "hotline_deadline": None,
        "first_responder_id": None,
        "received_at": received_at,
        "timezone": "Asia/Shanghai",
        "deadlines": timers.new_deadlines(due, started_at=received_at),
        "paused_at": None,
        "paused_seconds": 0.0,
        "held_from": None,
        "resolved_at": None,
        "repeat_count": 0,
        "seq": 3,
        "next_check_at": None,
        "created_at": received_at,
        "updated_at": received_at,
        **fields,
    }
    order["next_check_at"] = timers.next_check_at(order)
    return cast(WorkOrder, order)
