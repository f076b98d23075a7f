"""Receiving a complaint and following what dispatch does with it.

``receive`` stores the complaint and the digest of its tracking token, links it to its resident
(one per phone in E.164 and group, upserted in the same transaction) and its household (by address;
a complaint without one takes the one household of this estate the resident is known at), and emits
``complaint.received`` (seq 1) in the same transaction: the complaint, its first timeline entry (kept
inside the complaint document, ``received_entry``: one insert fewer) and its outbox row commit
together, so a complaint that got a 201 is on the bus and a refused one left nothing behind but a
spent ticket number (an ``external_ref`` its group used already raises the store's
``ReferenceTaken``). The ticket number is taken from ``intake.ticket_numbers`` by an atomic
increment outside the transaction, so concurrent complaints of one estate never conflict on it
(gaps are allowed); the estate and household come from the per-process directory cache
(``intake.directory_cache``). The event carries the reporter's role in clear and their
name, phone (E.164) and e-mail only sealed (``contact``, opened by notification alone), so no queue,
parked message or replay shows them. The first timeline entry names who entered the complaint: the
token's ``sub`` for staff, nobody for a resident. ``follow`` applies a ``complaint.*`` event of dispatch to
intake's status view: the status moves only forward in ``seq``, so events arriving out of order or
twice leave the view at the latest one, and each event is one timeline entry however often it comes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from intake.domain.households import only_household_in
from intake.domain.tickets import local_day, new_tracking_token, ticket_no, token_digest
from intake.store import FOLLOWED_FIELDS, RECEIVED_ENTRY, IntakeStore
from propcare_shared.events.envelope import Event
from propcare_shared.events.outbox import Transaction
from propcare_shared.mongo import new_id
from propcare_shared.sealing import Sealer
from propcare_shared.tenancy import Tenancy
from propcare_shared.vocabulary import DEFAULT_TIMEZONE

RECEIVED_SEQ = 1
HOTLINE_FIELDS = ("hotline_ticket_id", "hotline_deadline", "urgent")
"""What a 12345 transfer adds to a complaint and its ``complaint.received`` (``intake.hotline``)."""


@dataclass(frozen=True)
class Received:
    """A stored complaint and the tracking token its reporter keeps (never stored in clear)."""

    complaint: dict[str, Any]
    tracking_token: str


def receive(
    tx: Transaction,
    *,
    store: IntakeStore,
    estate: Mapping[str, Any],
    values: Mapping[str, Any],
    now: datetime,
    actor_id: str | None,
    sealer: Sealer,
) -> Received:
    """Store a complaint and emit ``complaint.received`` with the reporter's contact sealed."""
    timezone = estate.get("timezone") or DEFAULT_TIMEZONE
    tenancy = Tenancy.of(estate, estate_key="_id")  # the directory keeps an estate's id as its ``_id``
    # Outside the transaction: an atomic increment no concurrent complaint conflicts with (a retried
    # attempt gets the number its first attempt took; gaps are allowed, see intake.ticket_numbers).
    sequence = store.next_ticket_sequence(tx, estate_id=estate["_id"], day=local_day(now, timezone=timezone))
    household = store.cached_household(
        estate_id=estate["_id"], building=values.get("building"), unit=values.get("unit"), room=values.get("room")
    )
    phone = values["reporter"].get("phone")
    resident = (
        store.resident_complained(
            group_id=estate["group_id"],
            phone=phone,
            name=values["reporter"].get("name"),
            household_id=household["_id"] if household else None,
            session=tx.session,
        )
        if phone
        else None
    )
    if household is None and resident is not None and not (values.get("building") and values.get("room")):
        known_here = only_household_in(resident.get("household_ids") or (), estate_id=estate["_id"])
        household = store.cached_household_by_id(known_here, estate_id=estate["_id"]) if known_here else None
    token = new_tracking_token()
    complaint: dict[str, Any] = {
        "_id": new_id(),
        "ticket_no": ticket_no(estate_code=estate["code"], day=local_day(now, timezone=timezone), sequence=sequence),
        "tracking_digest": token_digest(token),
        **tenancy.fields(),
        **{
            key: values.get(key)
            for key in (
                "building",
                "unit",
                "room",
                "channel",
                "description",
                "demand",
                "category_hint",
                "expected_by",
                "first_responder_id",
                "language",
            )
        },
        "reporter": {"name": None, "email": None, **values["reporter"]},
        "household_id": household["_id"] if household else None,
        "resident_id": resident["_id"] if resident else None,
        "status": "received",
        "seq": RECEIVED_SEQ,
        "deadlines": {},
        "attachments": [],
        "attachment_slots": 0,
        "received_at": now,
        "updated_at": now,
    }
    if values.get("external_ref"):
        complaint["external_ref"] = values["external_ref"]
    complaint.update({key: values[key] for key in HOTLINE_FIELDS if values.get(key) is not None})
    event = tx.emit(
        "complaint.received",
        data={
            "complaint_id": complaint["_id"],
            "ticket_no": complaint["ticket_no"],
            "channel": complaint["channel"],
            "building": complaint["building"],
            "unit": complaint["unit"],
            "room": complaint["room"],
            "household_id": complaint["household_id"],
            "household_type": household.get("household_type") if household else None,
            "age_band": household.get("age_band") if household else None,
            "description": complaint["description"],
            "demand": complaint["demand"],
            "category_hint": complaint["category_hint"],
            "expected_by": complaint["expected_by"],
            "first_responder_id": complaint["first_responder_id"],
            "received_at": now,
            "timezone": timezone,
            "language": complaint["language"],
            "reporter_role": complaint["reporter"].get("role"),
            "contact": sealer.seal({key: complaint["reporter"].get(key) for key in ("name", "phone", "email")}),
            **{key: values[key] for key in HOTLINE_FIELDS if values.get(key) is not None},
        },
        correlation_id=complaint["_id"],
        seq=RECEIVED_SEQ,
        tenancy=tenancy,
    )
    # The first timeline entry travels inside the complaint (one insert, not two; ``IntakeStore.timeline``).
    complaint[RECEIVED_ENTRY] = {
        "_id": event.id,
        "complaint_id": complaint["_id"],
        "at": now,
        "seq": RECEIVED_SEQ,
        "action": "receive",
        "status": "received",
        "actor_id": actor_id,
        "note": None,
    }
    store.insert_complaint(complaint, session=tx.session)
    return Received(complaint=complaint, tracking_token=token)


def follow(tx: Transaction, *, store: IntakeStore, event: Event) -> bool:
    """Apply one of dispatch's ``complaint.*`` events; tell whether the status view changed."""
    data = event.data
    complaint_id = data["complaint_id"]
    store.record_change(
        {
            "_id": event.id,
            "complaint_id": complaint_id,
            "at": data["at"],
            "seq": event.seq or 0,
            "action": data["action"],
            "status": data["status"],
            "actor_id": data.get("actor_id"),
            "note": data.get("note"),
        },
        session=tx.session,
    )
    changes: dict[str, Any] = {key: data[key] for key in FOLLOWED_FIELDS if data.get(key) is not None}
    if data.get("deadlines"):
        changes["deadlines"] = data["deadlines"]
    return store.follow(complaint_id=complaint_id, seq=event.seq or 0, status=data["status"], changes=changes, session=tx.session)
