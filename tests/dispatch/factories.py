"""Factories for dispatch tests: events as other services emit them, and outbox readers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from propcare_shared.events.envelope import Event, new_event
from propcare_shared.mongo import new_id
from propcare_shared.sealing import Sealer, new_key

# Monday 23 November 2026, 10:00 in Shanghai: a working day, far from holidays.
MONDAY_MORNING = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
PURPOSES = ("complaint-received", "survey-dissatisfied", "survey-completed", "estate-upserted")
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
