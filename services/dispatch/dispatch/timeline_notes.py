"""Facts of other services that go on a work order's timeline without changing the order.

- ``complaint.updated_by_resident`` (intake: the resident added information or photos on the tracking
  page) → a ``resident_update`` entry with the resident's note and the number of photos added, by
  nobody in person (``actor_id`` None). Nothing of the resident beyond the note they wrote: no name,
  no phone, no tracking token. Telling the assignee is notification's (it consumes the same event and
  addresses the assignee it knows from dispatch's events), so the fact keeps one owner, intake, and
  dispatch emits nothing for it.
- ``notification.call_logged`` (an agent's call from the call list) → a ``call`` entry with the
  outcome, the agent as actor, their note and, for no answer, when the next call is due.

Decisions:
- The status is never changed and no event is emitted, so ``seq`` does not move; the entry keeps the
  order's status as both ``from_status`` and ``to_status``.
- A closed or cancelled order still gets the entry (what the resident wrote is never dropped), marked
  ``details.after_final``; it does not reopen the order: reopening is the follow-up's decision (the
  survey, the hotline's follow-up) or a person's, and intake's tracking page tells the resident of a
  closed complaint to answer the survey or file a new complaint instead.
- An order not made yet (the update overtook ``complaint.received`` on another queue) raises
  ``WorkOrderNotFound``: the bus retries, then parks, as for a hotline return.
- Each entry is written once per event: the kernel's inbox marker commits with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from dispatch.domain.work_order import TimelineEntry, timeline_entry
from dispatch.domain.workflow import FINAL_STATUSES
from dispatch.store import DispatchStore
from dispatch.work_orders import WorkOrderNotFound
from propcare_shared.events.envelope import Event
from propcare_shared.events.outbox import Transaction

RESIDENT_UPDATE = "resident_update"
CALL = "call"
CALL_OUTCOMES = {"reached": "reached the resident", "no_answer": "no answer", "wrong_number": "wrong number"}


def record_resident_update(tx: Transaction, *, store: DispatchStore, event: Event, now: datetime) -> TimelineEntry:
    """Put what a resident added to their complaint on its work order's timeline."""
    data = event.data
    photos = len(data.get("attachment_ids") or ())
    return _append(
        tx,
        store=store,
        complaint_id=data["complaint_id"],
        at=event.occurred_at or now,
        action=RESIDENT_UPDATE,
        actor_id=None,
        note=data.get("note"),
        details={"photos": photos, "event_id": event.id},
    )


def record_call(tx: Transaction, *, store: DispatchStore, event: Event, now: datetime) -> TimelineEntry:
    """Put an agent's call to the resident, and its outcome, on the work order's timeline."""
    data = event.data
    outcome = data["outcome"]
    told = CALL_OUTCOMES.get(outcome, outcome)
    note = f"call to the resident ({data.get('kind')}): {told}" + (f": {data['note']}" if data.get("note") else "")
    return _append(
        tx,
        store=store,
        complaint_id=data["complaint_id"],
        at=data.get("at") or now,
        action=CALL,
        actor_id=data.get("actor_id"),
        note=note,
        details={
            "outcome": outcome,
            "call_task_id": data.get("call_task_id"),
            "attempt": data.get("attempt"),
            "next_due_at": data.get("next_due_at"),
        },
    )


def _append(
    tx: Transaction,
    *,
    store: DispatchStore,
    complaint_id: str,
    at: datetime,
    action: str,
    actor_id: str | None,
    note: str | None,
    details: Mapping[str, Any],
) -> TimelineEntry:
    order = store.work_orders.work_order(complaint_id, session=tx.session)
    if order is None:
        raise WorkOrderNotFound(complaint_id)
    status = order["status"]
    entry = timeline_entry(
        complaint_id=complaint_id,
        at=at,
        action=action,
        actor_id=actor_id,
        note=note,
        from_status=status,
        to_status=status,
        details={**details, "after_final": status in FINAL_STATUSES},
    )
    store.work_orders.append_timeline([entry], session=tx.session)
    return entry
