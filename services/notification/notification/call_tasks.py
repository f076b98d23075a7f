"""The agent's call list: call tasks made beside resident messages, and their outcomes.

- ``new_call_task`` is called by ``messages`` when a resident message that needs a call is recorded
  (a ``phone`` complaint, or an important or emergency one: 书面+口头), inside the handler's unit of
  work; its due time comes from the tier's targets (``domain.call_tasks``).
- ``log_outcome`` is the use case of ``POST /api/v1/call-tasks/{id}/done``: in one unit of work it
  changes the task only if nobody logged an outcome since it was read (the attempt count is the
  condition), and emits ``notification.call_logged`` for dispatch, which puts the outcome on the
  complaint's timeline. The event carries ids, the outcome and the agent's note, never the phone.
- ``wrong_number`` also marks the complaint's contact: its later messages are recorded as skipped with
  that reason, and no new call task is made for a number known to be someone else's.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from notification.domain import call_tasks
from notification.store import NotificationStore
from propcare_shared.events.outbox import Transaction
from propcare_shared.mongo import new_id
from propcare_shared.tenancy import Tenancy

WRONG_NUMBER_REASON = "an agent found the reporter's phone is a wrong number"


class CallTaskChanged(Exception):
    """Raised when another outcome was logged on the task between its read and this write."""


def new_call_task(
    *, message: Mapping[str, Any], reason: str, data: Mapping[str, Any], received_at: datetime | None, now: datetime
) -> dict[str, Any]:
    """Return the call task owed beside a recorded resident message, due by the tier's targets."""
    tier = message.get("tier")
    return {
        "_id": new_id(),
        "message_id": message["_id"],
        "complaint_id": message["complaint_id"],
        "ticket_no": message.get("ticket_no"),
        "kind": message["kind"],
        "reason": reason,
        "tier": tier,
        "language": message.get("language"),
        "timezone": message.get("timezone"),
        "status": call_tasks.OPEN,
        "not_before": message["not_before"],
        "due_at": call_tasks.first_due(
            kind=message["kind"],
            tier=tier,
            deadlines=data.get("deadlines") or {},
            received_at=data.get("received_at") or received_at,
            at=now,
            not_before=message["not_before"],
        ),
        "attempts": 0,
        "last_outcome": None,
        "outcomes": [],
        "completed_at": None,
        "created_at": now,
        "updated_at": now,
        **Tenancy.of(message).fields(),
    }


def log_outcome(
    tx: Transaction,
    *,
    store: NotificationStore,
    task: Mapping[str, Any],
    outcome: str,
    note: str | None,
    actor_id: str | None,
    now: datetime,
    retry_at: datetime | None = None,
) -> dict[str, Any]:
    """Record an agent's call outcome on a task, emit ``notification.call_logged``; return the task as it reads after."""
    changes = call_tasks.outcome_changes(task, outcome=outcome, note=note, actor_id=actor_id, now=now, retry_at=retry_at)
    updated = store.update_call_task(task["_id"], expected_attempts=int(task.get("attempts", 0)), changes=changes, session=tx.session)
    if updated is None:
        raise CallTaskChanged(task["_id"])
    if outcome == call_tasks.WRONG_NUMBER:
        store.mark_contact_problem(task["complaint_id"], problem=WRONG_NUMBER_REASON, at=now, session=tx.session)
    tx.emit(
        "notification.call_logged",
        data={
            "call_task_id": updated["_id"],
            "complaint_id": updated["complaint_id"],
            "ticket_no": updated.get("ticket_no"),
            "kind": updated["kind"],
            "outcome": outcome,
            "note": note,
            "attempt": updated["attempts"],
            "status": updated["status"],
            "next_due_at": updated["due_at"] if updated["status"] == call_tasks.OPEN else None,
            "actor_id": actor_id,
            "at": now,
        },
        correlation_id=updated["complaint_id"],
        tenancy=Tenancy.of(updated),
    )
    return updated
