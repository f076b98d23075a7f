"""What a message says: its kind (the template) and the values the template is given.

Values are plain and carry no personal data: ticket numbers, departments, times shown in the
estate's local time, staff notes, links and the estate's name. The resident's name and phone are
never template values.

``survey.invited`` is a complaint's follow-up (``survey_*``, about "your complaint") or, when it names
a campaign and a household and no complaint, a satisfaction campaign's invitation (``campaign_*``,
the estate's satisfaction survey, one reminder per invitation).

The time limit told to a resident is the resolve deadline, else the response deadline (an
emergency has no resolve target), as dispatch sent it in the event's ``deadlines``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from notification.domain.schedule import zone

RESIDENT = "resident"
STAFF = "staff"

RESIDENT_KINDS = (
    "acknowledgement",
    "assigned",
    "responded",
    "plan_submitted",
    "progress",
    "on_hold",
    "resumed",
    "resolved",
    "reopened",
    "closed",
    "cancelled",
    "survey_invitation",
    "survey_reminder",
    "campaign_invitation",
    "campaign_reminder",
)
STAFF_KINDS = ("sla_warning", "sla_breached", "escalated", "resident_update")
KINDS = RESIDENT_KINDS + STAFF_KINDS
CAMPAIGN_KINDS = frozenset({"campaign_invitation", "campaign_reminder"})
SURVEY_KINDS = frozenset({"survey_invitation", "survey_reminder"}) | CAMPAIGN_KINDS
# A campaign's online invitations are messaged; offline ones go on paper and phone ones are an agent's call.
MESSAGED_CAMPAIGN_CHANNELS = frozenset({None, "online"})

PROGRESS_KINDS = {
    "complaint.responded": "responded",
    "complaint.plan_submitted": "plan_submitted",
    "complaint.progress_updated": "progress",
    "complaint.on_hold": "on_hold",
    "complaint.resumed": "resumed",
    "complaint.resolved": "resolved",
    "complaint.reopened": "reopened",
    "complaint.closed": "closed",
    "complaint.cancelled": "cancelled",
}
ALERT_KINDS = {"sla.warning": "sla_warning", "sla.breached": "sla_breached", "complaint.escalated": "escalated"}
ACKNOWLEDGING_EVENTS = frozenset({"complaint.classified", "complaint.assigned"})
# A later complaint.assigned that moves the complaint to other hands is told to the resident.
REROUTING_ACTIONS = frozenset({"reassign", "reclassify"})
TIME_LIMIT_TARGETS = ("resolve", "response")
LOCAL_FORMAT = "%Y-%m-%d %H:%M"


def audience_of(kind: str) -> str:
    """Return who a kind of message is for: ``resident`` or ``staff``."""
    return STAFF if kind in STAFF_KINDS else RESIDENT


def campaign_kind(data: Mapping[str, Any]) -> str | None:
    """Return the kind of a campaign invitation's message, or None for a complaint's follow-up survey."""
    if data.get("complaint_id") or not (data.get("campaign_id") and data.get("household_id")):
        return None
    return "campaign_reminder" if data.get("reminder") else "campaign_invitation"


def held_by_quiet_hours(*, kind: str, tier: str | None) -> bool:
    """Tell whether quiet hours hold a message: residents' only, and not an emergency's (surveys always)."""
    if audience_of(kind) == STAFF:
        return False
    return kind in SURVEY_KINDS or tier != "emergency"


def time_limit(deadlines: Mapping[str, datetime | None]) -> tuple[str, datetime] | None:
    """Return the target and deadline to tell the resident: resolve, else response; None without either."""
    for target in TIME_LIMIT_TARGETS:
        due = deadlines.get(target)
        if due is not None:
            return target, due
    return None


def local_time(moment: datetime | None, timezone: str | None) -> str | None:
    """Return a time as the estate's local wall-clock time, to the minute."""
    if moment is None:
        return None
    return moment.astimezone(zone(timezone)).strftime(LOCAL_FORMAT)


def _time_limit_values(data: Mapping[str, Any], timezone: str | None) -> dict[str, Any]:
    limit = time_limit(data.get("deadlines") or {})
    if limit is None:
        return {"time_limit": None, "time_limit_target": None}
    target, due = limit
    return {"time_limit": local_time(due, timezone), "time_limit_target": target}


def resident_values(kind: str, data: Mapping[str, Any], *, ticket_no: str | None, timezone: str | None) -> dict[str, Any]:
    """Return the template values of a resident message made from an event's data."""
    values: dict[str, Any] = {"ticket_no": data.get("ticket_no") or ticket_no}
    if kind == "acknowledgement":
        values.update(_time_limit_values(data, timezone), department=data.get("department"), tier=data.get("tier"))
    elif kind == "assigned":
        values.update(department=data.get("department"))
    elif kind in {"responded", "on_hold", "plan_submitted", "progress"}:
        values.update(note=data.get("note"))
    elif kind == "cancelled":
        values.update(reason=data.get("reason") or data.get("note"))
    elif kind in {"resumed", "reopened"}:
        values.update(_time_limit_values(data, timezone))
    elif kind == "resolved":
        values.update(resolution=data.get("resolution") or data.get("note"))
    elif kind in SURVEY_KINDS:
        values.update(link=data["link"], expires_at=local_time(data.get("expires_at"), timezone))
    return values


def campaign_values(data: Mapping[str, Any], *, estate_name: str | None, timezone: str | None) -> dict[str, Any]:
    """Return the template values of a campaign invitation or reminder: the estate's name, the link and its expiry."""
    return {"estate_name": estate_name, "link": data["link"], "expires_at": local_time(data.get("expires_at"), timezone)}


def staff_values(kind: str, data: Mapping[str, Any], *, timezone: str | None) -> dict[str, Any]:
    """Return the template values of a staff alert (an SLA warning or breach, an escalation)."""
    values: dict[str, Any] = {
        "ticket_no": data.get("ticket_no"),
        "complaint_id": data.get("complaint_id"),
        "tier": data.get("tier"),
        "department": data.get("department"),
        "assignee_id": data.get("assignee_id"),
    }
    if kind == "resident_update":
        values.update(note=data.get("note"), photos=len(data.get("attachment_ids") or ()))
    elif kind == "escalated":
        values.update(level=data.get("escalation_level", 0), note=data.get("note"))
    else:
        values.update(level=data.get("level", 0), target=data.get("target"), due_at=local_time(data.get("due_at"), timezone))
    return values
