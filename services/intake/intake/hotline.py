"""The 12345 hotline's transfers in intake: receive, triage, act, hear the follow-up and the callbacks.

Guarantees (docs/HOTLINE.md):
- A transfer is stored once per ``hotline_ticket_id`` (a unique index): the first call makes it
  (and, with an estate, its complaint through ``complaints.receive``, so ``complaint.received`` goes
  out in the same transaction); a later or concurrent copy with the same body gets the same ids, one
  with another body is a ``TransferConflict``. Nothing is stored for a refused call.
- A transfer no estate matches is kept in ``triage`` with the group whose staff triage it, and becomes
  a complaint when an agent assigns it an estate; its 签收 clock runs from the transfer meanwhile.
- Each state change is one conditional write on the state it was decided on, committed with its
  ``hotline.*`` event: two concurrent actions never both succeed, and no event goes out for a refused one.
- The caller's name and phone stay in intake; events carry only the sealed contact of ``complaint.received``.
- ``hotline.callback_updated`` keeps each callback's delivery state; an older update never overwrites a
  newer one, and the first ``completed`` callback of open work completes the transfer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from intake import complaints
from intake.domain.hotline import (
    ACTION_STATES,
    IllegalAction,
    accept_due,
    match_estate,
    merge_callback,
    require_allowed,
    require_extension,
    state_after_callback,
    state_after_satisfaction,
    triage_group,
)
from intake.hotline_store import HotlineStore, TransferExists
from intake.store import IntakeStore
from propcare_shared.context import ServiceContext
from propcare_shared.events.envelope import Event
from propcare_shared.events.outbox import Transaction, UnitOfWork
from propcare_shared.handling import Handles
from propcare_shared.mongo import new_id
from propcare_shared.phones import InvalidPhone, normalise_phone
from propcare_shared.sealing import Sealer
from propcare_shared.tenancy import Tenancy

ACTION_EVENTS = {"accept": "hotline.accepted", "return": "hotline.returned", "extension": "hotline.extension_requested"}


class TransferConflict(Exception):
    """A hotline ticket id sent again with another body."""

    def __init__(self, hotline_ticket_id: str) -> None:
        super().__init__(hotline_ticket_id)
        self.hotline_ticket_id = hotline_ticket_id


@dataclass(frozen=True)
class Filed:
    """A stored transfer and whether this call stored it."""

    transfer: dict[str, Any]
    created: bool


def caller_phone(raw: str | None) -> str | None:
    """Return the caller's phone in E.164, or ``None`` when missing or not a phone (the transfer is kept without it)."""
    if not raw:
        return None
    try:
        return normalise_phone(raw)
    except InvalidPhone:
        return None


def receive_transfer(
    uow: UnitOfWork,
    *,
    hotline: HotlineStore,
    store: IntakeStore,
    values: Mapping[str, Any],
    digest: str,
    now: datetime,
    sealer: Sealer,
    configured_triage_group: str,
) -> Filed:
    """Store a transfer once per ticket id, as a complaint when an estate matches, else in triage."""
    existing = hotline.transfer(values["hotline_ticket_id"])
    if existing is not None:
        return _again(existing, digest=digest)
    estates = hotline.estates()
    estate = match_estate(estate_code=values.get("estate_code"), address=values.get("address"), estates=estates)
    caller = values.get("caller") or {}
    phone = caller_phone(caller.get("phone"))
    transfer: dict[str, Any] = {
        "_id": new_id(),
        "hotline_ticket_id": values["hotline_ticket_id"],
        "body_digest": digest,
        "state": "triage",
        **Tenancy(
            group_id=triage_group(configured=configured_triage_group, groups=(str(e["group_id"]) for e in estates if e.get("group_id")))
        ).fields(),
        "complaint_id": None,
        "ticket_no": None,
        "transferred_at": values["transferred_at"],
        "received_at": now,
        "urgent": values["urgency"] == "urgent",
        "reply_deadline": values["reply_deadline"],
        "accept_due_at": accept_due(transferred_at=values["transferred_at"], urgent=values["urgency"] == "urgent", timezone=None),
        "caller": {"name": caller.get("name"), "phone": phone, "phone_refused": bool(caller.get("phone")) and phone is None},
        **{key: values.get(key) for key in ("estate_code", "address", "content", "hotline_category")},
        "accepted_at": None,
        "accepted_by": None,
        "returned_at": None,
        "return_reason": None,
        "extension": None,
        "satisfaction": None,
        "callbacks": {},
        "updated_at": now,
    }

    def work(tx: Transaction) -> dict[str, Any]:
        if estate is not None:
            transfer.update(_as_complaint(tx, store=store, transfer=transfer, estate=estate, now=now, actor_id=None, sealer=sealer))
        hotline.insert_transfer(transfer, session=tx.session)
        return transfer

    try:
        return Filed(transfer=uow.run(work), created=True)
    except TransferExists:
        stored = hotline.transfer(values["hotline_ticket_id"])
        if stored is None:  # pragma: no cover - a unique index holds what it refused for
            raise
        return _again(stored, digest=digest)


def _again(existing: dict[str, Any], *, digest: str) -> Filed:
    if existing["body_digest"] != digest:
        raise TransferConflict(existing["hotline_ticket_id"])
    return Filed(transfer=existing, created=False)


def _as_complaint(
    tx: Transaction,
    *,
    store: IntakeStore,
    transfer: Mapping[str, Any],
    estate: Mapping[str, Any],
    now: datetime,
    actor_id: str | None,
    sealer: Sealer,
) -> dict[str, Any]:
    """Receive a transfer as a complaint of an estate; return the transfer's changes."""
    received = complaints.receive(
        tx,
        store=store,
        estate=estate,
        values={
            "channel": "gov_hotline",
            "description": transfer["content"],
            "reporter": {"name": transfer["caller"]["name"], "phone": transfer["caller"]["phone"], "role": "other"},
            "hotline_ticket_id": transfer["hotline_ticket_id"],
            "hotline_deadline": transfer["reply_deadline"],
            "urgent": transfer["urgent"],
            "language": "zh-CN",
        },
        now=now,
        actor_id=actor_id,
        sealer=sealer,
    )
    return {
        "state": "received",
        **Tenancy.of(estate, estate_key="_id").fields(),
        "complaint_id": received.complaint["_id"],
        "ticket_no": received.complaint["ticket_no"],
        "accept_due_at": accept_due(transferred_at=transfer["transferred_at"], urgent=transfer["urgent"], timezone=estate.get("timezone")),
    }


def assign_estate(
    uow: UnitOfWork,
    *,
    store: IntakeStore,
    hotline: HotlineStore,
    transfer: Mapping[str, Any],
    estate: Mapping[str, Any],
    now: datetime,
    actor_id: str,
    sealer: Sealer,
) -> dict[str, Any]:
    """Make a triaged transfer a complaint of the estate an agent chose; return the transfer as it is now."""
    require_allowed(state=transfer["state"], action="assign_estate")

    def work(tx: Transaction) -> dict[str, Any]:
        changes = {**_as_complaint(tx, store=store, transfer=transfer, estate=estate, now=now, actor_id=actor_id, sealer=sealer)}
        changes.update(assigned_by=actor_id, assigned_at=now, updated_at=now)
        if not hotline.update_transfer(transfer["_id"], changes=changes, expected_state="triage", session=tx.session):
            raise _moved_on(hotline, transfer, action="assign_estate")
        return {**transfer, **changes}

    return uow.run(work)


def act(
    uow: UnitOfWork,
    *,
    hotline: HotlineStore,
    transfer: Mapping[str, Any],
    action: str,
    actor_id: str,
    now: datetime,
    reason: str | None = None,
    until: datetime | None = None,
) -> dict[str, Any]:
    """Accept (签收), return (退单) or ask to extend (延期) a transfer and emit its ``hotline.*`` event."""
    require_allowed(state=transfer["state"], action=action)
    changes: dict[str, Any] = {"state": ACTION_STATES[action], "updated_at": now}
    if action == "accept":
        changes.update(accepted_at=now, accepted_by=actor_id)
    elif action == "return":
        changes.update(returned_at=now, returned_by=actor_id, return_reason=reason)
    else:
        assert until is not None, "an extension names its date"
        require_extension(state=transfer["state"], reply_deadline=transfer["reply_deadline"], until=until, now=now)
        changes["extension"] = {"until": until, "reason": reason, "at": now, "by": actor_id}

    def work(tx: Transaction) -> dict[str, Any]:
        if not hotline.update_transfer(transfer["_id"], changes=changes, expected_state=transfer["state"], session=tx.session):
            raise _moved_on(hotline, transfer, action=action)
        tx.emit(
            ACTION_EVENTS[action],
            data={
                "hotline_ticket_id": transfer["hotline_ticket_id"],
                "complaint_id": transfer.get("complaint_id"),
                "at": now,
                "actor_id": actor_id,
                "reason": reason,
                "until": until,
            },
            correlation_id=transfer.get("complaint_id") or transfer["_id"],
            tenancy=Tenancy.of(transfer),
        )
        return {**transfer, **changes}

    return uow.run(work)


def report_satisfaction(
    uow: UnitOfWork,
    *,
    hotline: HotlineStore,
    transfer: Mapping[str, Any],
    followup_id: str,
    result: str,
    comment: str | None,
    now: datetime,
) -> tuple[dict[str, Any], bool]:
    """Record the hotline's follow-up result once per signed call, move the transfer and emit ``hotline.satisfaction_reported``."""
    recorded = hotline.followup(followup_id)
    if recorded is not None:
        return recorded, False
    require_allowed(state=transfer["state"], action="satisfaction")
    followup = {
        "_id": followup_id,
        "hotline_ticket_id": transfer["hotline_ticket_id"],
        "complaint_id": transfer["complaint_id"],
        "result": result,
        "comment": comment,
        "at": now,
    }
    changes = {
        "state": state_after_satisfaction(result),
        "satisfaction": {"result": result, "comment": comment, "at": now},
        "updated_at": now,
    }

    def work(tx: Transaction) -> tuple[dict[str, Any], bool]:
        if not hotline.insert_followup(followup, session=tx.session):
            return followup, False
        if not hotline.update_transfer(transfer["_id"], changes=changes, expected_state=transfer["state"], session=tx.session):
            raise _moved_on(hotline, transfer, action="satisfaction")
        tx.emit(
            "hotline.satisfaction_reported",
            data={key: followup[key] for key in ("hotline_ticket_id", "complaint_id", "result", "comment", "at")},
            correlation_id=transfer["complaint_id"],
            tenancy=Tenancy.of(transfer),
        )
        return followup, True

    return uow.run(work)


def _moved_on(hotline: HotlineStore, transfer: Mapping[str, Any], *, action: str) -> IllegalAction:
    """Return the refusal of an action whose transfer changed state since it was read."""
    now_stored = hotline.transfer(transfer["hotline_ticket_id"]) or transfer
    return IllegalAction(action=action, state=now_stored["state"])


def follow_callback(tx: Transaction, *, hotline: HotlineStore, event: Event) -> bool:
    """Keep one callback's delivery state on its transfer; tell whether the transfer changed."""
    data = event.data
    transfer = hotline.transfer(data["hotline_ticket_id"], session=tx.session)
    if transfer is None:
        return False
    callbacks, new = merge_callback(transfer.get("callbacks") or {}, data)
    if callbacks == transfer.get("callbacks"):
        return False
    state = state_after_callback(state=transfer["state"], event=data["event"], new=new)
    changes: dict[str, Any] = {"callbacks": callbacks, "updated_at": data["at"]}
    if state != transfer["state"]:
        changes.update(state=state, completed_at=data["at"])
    return hotline.update_transfer(transfer["_id"], changes=changes, expected_state=transfer["state"], session=tx.session)


def on_callback_updated(context: ServiceContext, tx: Transaction, event: Event) -> bool:
    """Apply notification's report of one hotline callback to its transfer."""
    return follow_callback(tx, hotline=HotlineStore(context.database), event=event)


HOTLINE_HANDLERS = (Handles("hotline-callbacks", ("hotline.callback_updated",), on_callback_updated),)
