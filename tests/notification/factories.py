"""Factories for notification tests: events as intake, dispatch and survey emit them (complaints, the directory, campaigns)."""

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


ESTATE_NAME = "南山花园"
HOUSEHOLD = "NS01:3:2:1502"


def estate_event(*, estate_id: str = "NS01", timezone: str = "Asia/Shanghai", name: str = ESTATE_NAME) -> Event:
    """Return a ``directory.estate.upserted`` as intake emits it."""
    return new_event(
        "directory.estate.upserted",
        producer="intake",
        data={"estate_id": estate_id, "name": name, "code": estate_id, "region_id": "R1", "group_id": "G1", "timezone": timezone},
        group_id="G1",
        region_id="R1",
        estate_id=estate_id,
    )


def household(
    household_id: str = HOUSEHOLD, *, phone: str | None = PHONE, name: str | None = NAME, sealer: Sealer = INTAKE_SEALER
) -> dict[str, Any]:
    """Return a household as ``directory.households.imported`` carries it: the contact sealed, none without a phone."""
    _, building, unit, room = household_id.split(":")
    return {
        "household_id": household_id,
        "building": building,
        "unit": None if unit == "-" else unit,
        "room": room,
        "household_type": "owner",
        "age_band": None,
        "contact": sealer.seal({"name": name, "phone": phone}) if phone else None,
    }


def households_event(*households: dict[str, Any], estate_id: str = "NS01", at: datetime | None = None) -> Event:
    """Return a ``directory.households.imported`` of intake with these households (one with a phone by default)."""
    return new_event(
        "directory.households.imported",
        producer="intake",
        data={"households": list(households) or [household()]},
        group_id="G1",
        region_id="R1",
        estate_id=estate_id,
        occurred_at=at,
    )


def campaign_invited_event(
    household_id: str = HOUSEHOLD,
    *,
    invitation_id: str = "cinv-1",
    campaign_id: str = "camp-1",
    reminder: bool = False,
    channel: str = "online",
    estate_id: str = "NS01",
) -> Event:
    """Return a ``survey.invited`` of a satisfaction campaign to a household."""
    return new_event(
        "survey.invited",
        producer="survey",
        data={
            "invitation_id": invitation_id,
            "kind": "campaign",
            "link": f"http://127.0.0.1:8080/s/token-{invitation_id}",
            "expires_at": MONDAY_MORNING + timedelta(days=14),
            "channel": channel,
            "campaign_id": campaign_id,
            "household_id": household_id,
            "reminder": reminder,
        },
        correlation_id=campaign_id,
        group_id="G1",
        region_id="R1",
        estate_id=estate_id,
    )


def outbox_events(context: ServiceContext, event_type: str) -> list[dict[str, Any]]:
    """Return the outbox's events of one type, as stored."""
    return [document["event"] for document in context.database.outbox.find({"event.type": event_type})]
