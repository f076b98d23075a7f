"""Factories for notification tests: events as intake, dispatch and survey emit them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from propcare_shared.context import ServiceContext
from propcare_shared.events.envelope import Event, new_event
from propcare_shared.mongo import new_id
from propcare_shared.sealing import DEVELOPMENT_PERSONAL_DATA_KEY, Sealer
from propcare_shared.tenancy import Tenancy

# Monday 23 November 2026, 10:00 in Shanghai.
MONDAY_MORNING = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
# The same Monday, 23:30 in Shanghai: inside the quiet hours.
MONDAY_NIGHT = datetime(2026, 11, 23, 15, 30, tzinfo=UTC)
# A general complaint received Monday: respond within 24 h, resolve by Thursday 23:59:59 local.
RESPONSE_DUE = MONDAY_MORNING + timedelta(hours=24)
RESOLVE_DUE = datetime(2026, 11, 26, 15, 59, 59, tzinfo=UTC)
RESOLVE_DUE_LOCAL = "2026-11-26 23:59"
# The phone as the resident wrote it, and as notification keeps and delivers it (E.164).
PHONE = "13800138000"
PHONE_E164 = "+8613800138000"
NAME = "王女士"
EMAIL = "wang.nvshi@example.com"
PURPOSES = ("messages",)
# Intake seals with the first of PERSONAL_DATA_KEYS; the test settings keep the development key.
INTAKE_SEALER = Sealer([DEVELOPMENT_PERSONAL_DATA_KEY])


def received_event(
    *,
    complaint_id: str | None = None,
    channel: str = "app",
    phone: str | None = PHONE,
    email: str | None = None,
    language: str = "zh-CN",
    estate_id: str = "NS01",
    region_id: str = "R1",
    received_at: datetime = MONDAY_MORNING,
    group_id: str = "G1",
    sealer: Sealer = INTAKE_SEALER,
) -> Event:
    """Return a ``complaint.received`` as intake emits it: the reporter's contact sealed, their role in clear."""
    complaint_id = complaint_id or new_id()
    return new_event(
        "complaint.received",
        producer="intake",
        data={
            "complaint_id": complaint_id,
            "ticket_no": f"{estate_id}-20261123-{complaint_id[-4:]}",
            "channel": channel,
            "building": "3",
            "unit": "2",
            "room": "1502",
            "description": "楼道的灯坏了",
            "received_at": received_at,
            "language": language,
            "timezone": "Asia/Shanghai",
            "reporter_role": "owner",
            "contact": sealer.seal({"name": NAME, "phone": phone, "email": email}),
        },
        correlation_id=complaint_id,
        group_id=group_id,
        region_id=region_id,
        estate_id=estate_id,
        seq=1,
    )


def about(received: Event) -> dict[str, Any]:
    """Return the envelope fields an event about a received complaint shares with it: its correlation id and tenancy."""
    tenancy = Tenancy(group_id=received.group_id, region_id=received.region_id, estate_id=received.estate_id)
    return {"correlation_id": received.data["complaint_id"], **tenancy.fields()}


def work_order_event(
    event_type: str,
    received: Event,
    *,
    tier: str = "general",
    action: str | None = None,
    status: str | None = None,
    deadlines: dict[str, datetime] | None = None,
    seq: int = 2,
    at: datetime = MONDAY_MORNING,
    **data: Any,
) -> Event:
    """Return a ``complaint.*`` event of dispatch about a received complaint."""
    verb = event_type.removeprefix("complaint.")
    return new_event(
        event_type,
        producer="dispatch",
        data={
            "complaint_id": received.data["complaint_id"],
            "ticket_no": received.data["ticket_no"],
            "status": status or verb,
            "action": action or verb,
            "at": at,
            "channel": received.data["channel"],
            "category": "facility",
            "subcategory": "electrical",
            "tier": tier,
            "department": "engineering",
            "assignee_id": "eng-1",
            "deadlines": {"response": RESPONSE_DUE, "resolve": RESOLVE_DUE} if deadlines is None else deadlines,
            **data,
        },
        **about(received),
        seq=seq,
    )


def sla_event(
    event_type: str,
    received: Event,
    *,
    target: str = "response",
    level: int = 1,
    notify_roles: tuple[str, ...] = ("supervisor",),
    assignee_id: str | None = "eng-1",
) -> Event:
    """Return an ``sla.warning`` or ``sla.breached`` of dispatch."""
    return new_event(
        event_type,
        producer="dispatch",
        data={
            "complaint_id": received.data["complaint_id"],
            "ticket_no": received.data["ticket_no"],
            "target": target,
            "tier": "general",
            "due_at": RESPONSE_DUE,
            "at": RESPONSE_DUE,
            "level": level,
            "notify_roles": list(notify_roles),
            "assignee_id": assignee_id,
            "department": "engineering",
        },
        **about(received),
    )


def survey_event(received: Event, *, invitation_id: str = "inv-1", reminder: bool = False) -> Event:
    """Return a ``survey.invited`` of survey for a complaint's follow-up."""
    return new_event(
        "survey.invited",
        producer="survey",
        data={
            "invitation_id": invitation_id,
            "kind": "follow_up",
            "link": f"http://127.0.0.1:8080/s/token-{invitation_id}",
            "expires_at": MONDAY_MORNING + timedelta(days=7),
            "complaint_id": received.data["complaint_id"],
            "reminder": reminder,
        },
        **about(received),
    )


def outbox_events(context: ServiceContext, event_type: str) -> list[dict[str, Any]]:
    """Return the outbox's events of one type, as stored."""
    return [document["event"] for document in context.database.outbox.find({"event.type": event_type})]
