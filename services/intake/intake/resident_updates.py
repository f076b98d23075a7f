"""The resident's side after filing: adding information, and hearing of the follow-up survey.

``add_information`` appends what a resident added through the tracking page to the complaint's
timeline and emits ``complaint.updated_by_resident`` in the same transaction (dispatch puts it on
its timeline and tells the assignee). The timeline entry's id is the event's id, so the entry and
the fact are one. The event has no ``seq``: ``seq`` orders dispatch's changes of a complaint, and a
resident's note changes no status. Photos are stored after the transaction by the page, in slots
reserved before it, so the limit of files per complaint holds whoever adds at the same time.

The handlers keep the follow-up link survey sent for a complaint (``survey.invited``) and whether it
was answered (``survey.completed``, ``survey.dissatisfied``), for the tracking page. They run in the
kernel's unit of work with the inbox under ``intake.resident-surveys``; both writes are idempotent
besides (the same invitation again changes nothing).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from intake.resident_store import ResidentStore
from intake.store import IntakeStore
from propcare_shared.context import ServiceContext
from propcare_shared.events.envelope import Event
from propcare_shared.events.outbox import Transaction
from propcare_shared.handling import Handles
from propcare_shared.tenancy import Tenancy

UPDATED_BY_RESIDENT = "updated_by_resident"
FOLLOW_UP = "follow_up"


def add_information(tx: Transaction, *, store: IntakeStore, complaint: Mapping[str, Any], note: str, now: datetime) -> Event:
    """Put a resident's addition on the complaint's timeline and emit ``complaint.updated_by_resident``."""
    event = tx.emit(
        "complaint.updated_by_resident",
        data={"complaint_id": complaint["_id"], "note": note},
        correlation_id=complaint["_id"],
        tenancy=Tenancy.of(complaint),
        occurred_at=now,
    )
    store.record_change(
        {
            "_id": event.id,
            "complaint_id": complaint["_id"],
            "at": now,
            "seq": complaint.get("seq") or 0,
            "action": UPDATED_BY_RESIDENT,
            "status": complaint.get("status"),
            "actor_id": None,
            "note": note or None,
        },
        session=tx.session,
    )
    return event


def on_survey_invited(context: ServiceContext, tx: Transaction, event: Event) -> None:
    """Keep the follow-up survey link of a complaint for its tracking page."""
    data = event.data
    if data.get("kind") != FOLLOW_UP or not data.get("complaint_id"):
        return
    ResidentStore(context.database).survey_invited(
        complaint_id=data["complaint_id"],
        invitation_id=data["invitation_id"],
        link=data["link"],
        expires_at=data["expires_at"],
        session=tx.session,
    )


def on_survey_answered(context: ServiceContext, tx: Transaction, event: Event) -> None:
    """Note that a complaint's follow-up survey was answered, and whether the resident was satisfied."""
    data = event.data
    if data.get("kind") != FOLLOW_UP or not data.get("complaint_id") or data.get("auto_closed"):
        return
    ResidentStore(context.database).survey_answered(
        complaint_id=data["complaint_id"], invitation_id=data["invitation_id"], satisfied=bool(data["satisfied"]), session=tx.session
    )


RESIDENT_HANDLERS = (
    Handles("resident-surveys", ("survey.invited",), on_survey_invited),
    Handles("resident-survey-answers", ("survey.completed", "survey.dissatisfied"), on_survey_answered),
)
