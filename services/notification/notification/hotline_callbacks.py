"""Recording the callbacks owed to the 12345 hotline, inside the consuming handler's unit of work.

- ``hotline.accepted|returned|extension_requested`` (intake) record a callback for their ticket.
- ``complaint.plan_submitted|progress_updated|resolved`` (dispatch) record ``progress`` or
  ``completed`` when the complaint is a hotline one: its ``complaint.received`` carried a
  ``hotline_ticket_id``, kept on the complaint's contact. Other complaints record nothing here. A
  work-order event of a ``gov_hotline`` complaint whose ``complaint.received`` has not arrived raises
  ``ContactNotKnown`` (the bus retries it later), as resident messages do.
- Each recorded callback is ``pending``, numbered in its ticket (``hotline_store``), and
  ``hotline.callback_updated`` is emitted in the same transaction; with no ``HOTLINE_CALLBACK_URL``
  its ``last_error`` says so. Nothing is sent here: the hotline sender sends what was recorded, so a
  crash between recording and sending loses nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from notification.domain import hotline
from notification.hotline_store import CallbackStore
from notification.messages import ContactNotKnown
from notification.store import NotificationStore
from propcare_shared.events.envelope import Event
from propcare_shared.events.outbox import Transaction
from propcare_shared.mongo import new_id
from propcare_shared.tenancy import Tenancy


def record_callback(
    tx: Transaction, *, contacts: NotificationStore, callbacks: CallbackStore, event: Event, now: datetime, callback_url: str
) -> dict[str, Any] | None:
    """Record the hotline callback an event asks for; return it, or None when it asks for none."""
    if event.type not in hotline.CALLBACK_EVENTS:
        return None
    data = event.data
    contact: Mapping[str, Any] | None = None
    if event.type in hotline.ACTED_EVENTS:
        ticket_id = data["hotline_ticket_id"]
    else:
        contact = contacts.contact(data["complaint_id"], session=tx.session)
        if contact is None:
            if data.get("channel") == "gov_hotline":
                raise ContactNotKnown(f"no complaint.received yet for complaint {data['complaint_id']}")
            return None
        ticket_id = contact.get("hotline_ticket_id")
        if not ticket_id:
            return None
    tenancy = _tenancy(event, contact)
    callback = {
        "_id": new_id(),
        "hotline_ticket_id": ticket_id,
        "sequence": callbacks.next_sequence(ticket_id, at=now, session=tx.session),
        "complaint_id": data.get("complaint_id"),
        "event_id": event.id,
        "event_type": event.type,
        **hotline.callback_fields(event.type, data),
        "status": hotline.PENDING,
        "attempts": 0,
        "last_error": None if callback_url else hotline.NO_URL_ERROR,
        "not_before": now,
        "lease_until": None,
        "claimed_by": None,
        "delivered_at": None,
        "created_at": now,
        "updated_at": now,
        **tenancy.fields(),
    }
    callbacks.insert(callback, session=tx.session)
    emit_updated(tx, callback=callback, at=now)
    return callback


def emit_updated(tx: Transaction, *, callback: Mapping[str, Any], at: datetime) -> None:
    """Emit ``hotline.callback_updated`` with a callback's delivery state as it now stands."""
    tx.emit(
        "hotline.callback_updated",
        data={
            "hotline_ticket_id": callback["hotline_ticket_id"],
            "callback_id": callback["_id"],
            "event": callback["event"],
            "state": hotline.REPORTED_STATES[callback["status"]],
            "attempts": int(callback.get("attempts", 0)),
            "last_error": callback.get("last_error"),
            "at": at,
        },
        correlation_id=callback.get("complaint_id") or callback["hotline_ticket_id"],
        tenancy=Tenancy.of(callback),
    )


def _tenancy(event: Event, contact: Mapping[str, Any] | None) -> Tenancy:
    """Return the event's group, region and estate, each taken from the complaint's contact where the event has none."""
    return event.tenancy.completed_by(Tenancy.of(contact or {}))
