"""The agent's call list: when a call task is due, and what an outcome does to it.

Pure: plain values in and out, ``now`` passed in. A call task is the verbal half of written and
verbal feedback (书面+口头): the agent calls the resident about the message it stands beside.

Due times come from the tier's targets:
- the call beside the acknowledgement is the first contact, so it is due at the complaint's response
  deadline as dispatch sent it (15 minutes after receipt for an emergency by default);
- any later call (progress, on hold, resolved …) is due the tier's response window after the message:
  the window dispatch applied to this complaint (response deadline minus received time) when the event
  says both, else the default policy's response target for the tier (``RESPONSE_WINDOWS``);
- a call is never due before its message may go (``not_before``: quiet hours hold non-emergency
  messages until 07:00 local, and their calls with them).

Outcomes (``OUTCOMES``): ``reached`` and ``wrong_number`` finish the task (``done``); ``no_answer``
keeps it open and due again later (``RETRY_AFTER`` for the tier, or the time the agent gives, moved out
of quiet hours unless the complaint is an emergency). ``MAX_ATTEMPTS`` calls without an answer finish
the task as well: the list must not grow with calls nobody will answer, and the written message went.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from notification.domain.schedule import not_before as quiet_not_before

OPEN = "open"
DONE = "done"
STATUSES = (OPEN, DONE)
REACHED = "reached"
NO_ANSWER = "no_answer"
WRONG_NUMBER = "wrong_number"
OUTCOMES = (REACHED, NO_ANSWER, WRONG_NUMBER)
MAX_ATTEMPTS = 5
NOTE_LIMIT = 1000

RESPONSE_WINDOWS = {
    "emergency": timedelta(minutes=15),
    "important": timedelta(hours=2),
    "complex": timedelta(hours=24),
    "general": timedelta(hours=24),
}
"""The default policy's response (first contact) target per tier (docs/PRODUCT.md, Time limits)."""
DEFAULT_WINDOW = timedelta(hours=24)
RETRY_AFTER = {"emergency": timedelta(minutes=10), "important": timedelta(minutes=30)}
DEFAULT_RETRY_AFTER = timedelta(hours=2)


class CallTaskClosed(Exception):
    """Raised when an outcome is given for a task that is done already."""


def response_window(*, tier: str | None, deadlines: Mapping[str, datetime | None], received_at: datetime | None) -> timedelta:
    """Return the time a resident may wait for a call: this complaint's response window, else the tier's default."""
    response = deadlines.get("response")
    if response is not None and received_at is not None and response > received_at:
        return response - received_at
    return RESPONSE_WINDOWS.get(tier or "", DEFAULT_WINDOW)


def first_due(
    *,
    kind: str,
    tier: str | None,
    deadlines: Mapping[str, datetime | None],
    received_at: datetime | None,
    at: datetime,
    not_before: datetime,
) -> datetime:
    """Return when a new call task is due: the response deadline beside the acknowledgement, else ``at`` plus the window."""
    response = deadlines.get("response")
    if kind == "acknowledgement" and response is not None and response > at:
        due = response
    else:
        due = at + response_window(tier=tier, deadlines=deadlines, received_at=received_at)
    return max(due, not_before)


def retry_due(*, tier: str | None, now: datetime, timezone: str | None, asked: datetime | None = None) -> datetime:
    """Return when to call again after no answer: the time asked for, else the tier's retry delay, out of quiet hours."""
    due = asked if asked is not None and asked > now else now + RETRY_AFTER.get(tier or "", DEFAULT_RETRY_AFTER)
    return quiet_not_before(at=due, timezone=timezone, quiet_hours=tier != "emergency")


def outcome_changes(
    task: Mapping[str, Any], *, outcome: str, note: str | None, actor_id: str | None, now: datetime, retry_at: datetime | None = None
) -> dict[str, Any]:
    """Return the fields an outcome sets on a task (status, attempts, the next due time, the outcome logged)."""
    if task.get("status") == DONE:
        raise CallTaskClosed(task["_id"])
    attempts = int(task.get("attempts", 0)) + 1
    retry = outcome == NO_ANSWER and attempts < MAX_ATTEMPTS
    logged = {"outcome": outcome, "note": note, "actor_id": actor_id, "at": now, "attempt": attempts}
    changes: dict[str, Any] = {"attempts": attempts, "last_outcome": outcome, "updated_at": now, "outcomes": logged}
    if retry:
        changes.update(status=OPEN, due_at=retry_due(tier=task.get("tier"), now=now, timezone=task.get("timezone"), asked=retry_at))
    else:
        changes.update(status=DONE, completed_at=now)
    return changes


def is_overdue(task: Mapping[str, Any], *, now: datetime) -> bool:
    """Tell whether an open task is past its due time."""
    due = task.get("due_at") or task.get("not_before")
    return task.get("status") == OPEN and due is not None and due < now
