"""A complaint's facts: the analytics read model of one complaint, folded from its events.

Pure. ``apply(facts, event)`` returns the facts after one more event. The fold is order-independent
and idempotent: the same events applied in any order, or one of them twice, give the same facts,
because each field is merged by a rule that does not depend on arrival order (events of one
complaint reach analytics out of order: they come from several producers' relays and retries):
- what intake recorded (tenancy, ticket, building, channel, household type, age band, received_at,
  time zone) is set by ``complaint.received``; dispatch's copies only fill what is still unknown;
- the latest-state groups (status, classification, deadlines) keep the values of the event with the
  highest ``(seq, at)``, stored beside them (``status_seq``, ``classification_seq``, ``deadlines_seq``),
  so an older event never overwrites a newer one;
- first times keep the minimum (``responded_at``: first contact, ``cancelled_at``, ``invited_at``),
  last times the maximum (``resolved_at``: the last resolution, ``closed_at``);
- ``reopen_count`` counts distinct ``complaint.reopened`` events (by seq);
- a target's outcome is that of the first handling cycle: the work-order event of lowest seq that met
  or missed it (``met_at`` is when); an ``sla.breached`` alert stands only while no such event is
  known. A reopen re-arms dispatch's targets, but the repeat shows in the reopen rate instead;
- follow-up surveys are kept per invitation; a survey closed for lack of an answer (``auto_closed``)
  is an invitation without an answer.

Personal data never enters: the reporter's ``contact`` (sealed by intake for notification alone;
analytics has no key and neither stores nor opens it), the description, the demand, notes,
resolution texts and survey comments are not read, and neither are unit, room or household ids.
Only the fields named in ``_apply_received`` and ``_apply_work_order`` are copied, so a field added
to an event later stays out until it is named here.

The tenancy (group, region, estate) is the envelope's; a region id means nothing without its group,
so every query of the facts by region also names the group (``analytics.store``).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from propcare_shared.events.catalogue import WORK_ORDER_EVENTS
from propcare_shared.events.envelope import Event
from propcare_shared.tenancy import Tenancy
from propcare_shared.vocabulary import DEFAULT_TIMEZONE, OPEN_STATUSES

CLOCK_RUNNING_STATUSES = frozenset({"received", *OPEN_STATUSES} - {"on_hold"})
"""Statuses in which a passed deadline counts as breached: received or being handled, not paused on hold."""
RESOLVED_STATUSES = frozenset({"resolved", "closed"})
SURVEY_ANSWERS = ("survey.completed", "survey.dissatisfied")
FACT_EVENTS = frozenset({"complaint.received", *WORK_ORDER_EVENTS, "sla.breached", "survey.invited", *SURVEY_ANSWERS})
_NO_SEQ = -1

Facts = dict[str, Any]


def complaint_id_of(event: Event) -> str | None:
    """Return the complaint whose facts an event changes, or None when it changes none."""
    if event.type not in FACT_EVENTS:
        return None
    return event.data.get("complaint_id") or None


def new_facts(complaint_id: str) -> Facts:
    """Return the facts of a complaint no event has told anything about yet."""
    return {
        "_id": complaint_id,
        "complaint_id": complaint_id,
        "group_id": None,
        "region_id": None,
        "estate_id": None,
        "received_seen": False,
        "ticket_no": None,
        "building": None,
        "channel": None,
        "household_type": None,
        "age_band": None,
        "timezone": None,
        "hotline": False,
        "received_at": None,
        "category": None,
        "subcategory": None,
        "tier": None,
        "department": None,
        "classification_seq": None,
        "classification_at": None,
        "status": None,
        "status_seq": None,
        "status_at": None,
        "responded_at": None,
        "resolved_at": None,
        "closed_at": None,
        "cancelled_at": None,
        "reopened_seqs": [],
        "reopen_count": 0,
        "escalation_level": 0,
        "deadlines": {},
        "deadlines_seq": None,
        "deadlines_at": None,
        "outcomes": {},
        "surveys": {},
        "survey": None,
        "last_event_at": None,
    }


def apply(facts: Mapping[str, Any] | None, event: Event) -> Facts:
    """Return a complaint's facts after ``event``; ``facts`` None for a complaint not seen before."""
    complaint_id = complaint_id_of(event)
    if complaint_id is None:
        raise ValueError(f"{event.type} does not change a complaint's facts")
    result = copy.deepcopy(dict(facts)) if facts else new_facts(complaint_id)
    _apply_tenancy(result, event)
    if event.type == "complaint.received":
        _apply_received(result, event)
    elif event.type in WORK_ORDER_EVENTS:
        _apply_work_order(result, event)
    elif event.type == "sla.breached":
        _apply_breach_alert(result, event)
    elif event.type == "survey.invited":
        _apply_survey_invited(result, event)
    else:
        _apply_survey_answer(result, event)
    result["last_event_at"] = _latest(result["last_event_at"], event.occurred_at)
    result["reopen_count"] = len(result["reopened_seqs"])
    result["survey"] = survey_summary(result["surveys"])
    return result


def measured_outcome(facts: Mapping[str, Any], target: str, *, now: datetime) -> str | None:
    """Return ``met`` or ``breached`` for a target that can be judged now, else None.

    A recorded outcome stands. Without one, a deadline that has passed counts as breached while the
    complaint is still open (for ``follow_up``: while it waits resolved for its survey). A cancelled
    complaint, one on hold (its clocks are paused) or a target not yet due is not measured.
    """
    status = facts.get("status")
    if status == "cancelled":
        return None
    recorded = (facts.get("outcomes") or {}).get(target)
    if recorded is not None:
        return str(recorded["outcome"])
    due_at = (facts.get("deadlines") or {}).get(target)
    if due_at is None or due_at >= now:
        return None
    if target == "follow_up":
        return "breached" if status == "resolved" else None
    return "breached" if status in CLOCK_RUNNING_STATUSES else None


def survey_summary(surveys: Mapping[str, Mapping[str, Any]]) -> dict[str, Any] | None:
    """Return the complaint's follow-up in brief: first invitation, and its latest answer if any."""
    if not surveys:
        return None
    invited = [entry["invited_at"] for entry in surveys.values() if entry.get("invited_at") is not None]
    answered = [entry for entry in surveys.values() if entry.get("answered_at") is not None]
    latest = max(answered, key=_answer_rank) if answered else None
    return {
        "invitations": len(surveys),
        "invited_at": min(invited) if invited else None,
        "answered_at": latest["answered_at"] if latest else None,
        "solved": latest["solved"] if latest else None,
        "scores": dict(latest["scores"]) if latest else {},
        "satisfied": latest["satisfied"] if latest else None,
    }


def _apply_tenancy(facts: Facts, event: Event) -> None:
    authoritative = event.type == "complaint.received"
    for key, value in Tenancy(event.group_id, event.region_id, event.estate_id).fields().items():
        if value is not None and (authoritative or facts[key] is None):
            facts[key] = value


def _apply_received(facts: Facts, event: Event) -> None:
    data = event.data
    facts.update(
        received_seen=True,
        ticket_no=data["ticket_no"],
        channel=data["channel"],
        building=data.get("building"),
        household_type=data.get("household_type"),
        age_band=data.get("age_band"),
        timezone=data.get("timezone") or DEFAULT_TIMEZONE,
        received_at=data["received_at"],
    )
    facts["hotline"] = bool(facts["hotline"] or data.get("hotline_ticket_id") or data["channel"] == "gov_hotline")
    if _newer(facts, "status", seq=event.seq, at=data["received_at"]):
        _stamp(facts, "status", seq=event.seq, at=data["received_at"], status="received")


def _apply_work_order(facts: Facts, event: Event) -> None:
    data = event.data
    seq, at = event.seq, data["at"]
    if not facts["received_seen"]:
        for key in ("ticket_no", "channel", "received_at"):
            if facts[key] is None and data.get(key) is not None:
                facts[key] = data[key]
    facts["hotline"] = bool(facts["hotline"] or data.get("channel") == "gov_hotline")
    if data.get("category") is not None and _newer(facts, "classification", seq=seq, at=at):
        _stamp(facts, "classification", seq=seq, at=at, **{key: data.get(key) for key in ("category", "subcategory", "tier", "department")})
    if _newer(facts, "status", seq=seq, at=at):
        _stamp(facts, "status", seq=seq, at=at, status=data["status"])
    if _newer(facts, "deadlines", seq=seq, at=at):
        _stamp(facts, "deadlines", seq=seq, at=at, deadlines=dict(data.get("deadlines") or {}))
    targets_met: Mapping[str, bool] = data.get("targets_met") or {}
    for target, met in targets_met.items():
        _offer_outcome(facts, target, {"outcome": "met" if met else "breached", "met_at": at, "seq": seq, "source": "work_order"})
    if event.type == "complaint.responded" or "response" in targets_met:
        facts["responded_at"] = _earliest(facts["responded_at"], at)
    if event.type == "complaint.resolved":
        facts["resolved_at"] = _latest(facts["resolved_at"], at)
    elif event.type == "complaint.closed":
        facts["closed_at"] = _latest(facts["closed_at"], at)
    elif event.type == "complaint.cancelled":
        facts["cancelled_at"] = _earliest(facts["cancelled_at"], at)
    elif event.type == "complaint.reopened":
        mark = str(seq) if seq is not None else event.id
        facts["reopened_seqs"] = sorted({*facts["reopened_seqs"], mark})
    facts["escalation_level"] = max(int(facts["escalation_level"]), int(data.get("escalation_level") or 0))


def _apply_breach_alert(facts: Facts, event: Event) -> None:
    data = event.data
    _offer_outcome(facts, data["target"], {"outcome": "breached", "met_at": None, "seq": None, "source": "alert", "alerted_at": data["at"]})
    if facts["classification_seq"] is None and facts["tier"] is None:
        facts["tier"] = data["tier"]
    facts["escalation_level"] = max(int(facts["escalation_level"]), int(data.get("level") or 0))


def _apply_survey_invited(facts: Facts, event: Event) -> None:
    entry = _survey_entry(facts, event.data["invitation_id"])
    entry["invited_at"] = _earliest(entry["invited_at"], event.occurred_at)


def _apply_survey_answer(facts: Facts, event: Event) -> None:
    data = event.data
    entry = _survey_entry(facts, data["invitation_id"])
    if data.get("auto_closed"):
        entry["expired_at"] = _earliest(entry["expired_at"], data["answered_at"])
        return
    answer = {
        "answered_at": data["answered_at"],
        "solved": data.get("solved"),
        "scores": {name: float(score) for name, score in (data.get("scores") or {}).items()},
        "satisfied": bool(data["satisfied"]),
        "channel": data.get("channel"),
    }
    if entry["answered_at"] is None or _answer_rank(answer) > _answer_rank(entry):
        entry.update(answer)


def _survey_entry(facts: Facts, invitation_id: str) -> dict[str, Any]:
    empty: dict[str, Any] = {
        "invited_at": None,
        "answered_at": None,
        "expired_at": None,
        "solved": None,
        "scores": {},
        "satisfied": None,
        "channel": None,
    }
    entry: dict[str, Any] = facts["surveys"].setdefault(invitation_id, empty)
    return entry


def _answer_rank(answer: Mapping[str, Any]) -> tuple[datetime, bool, tuple[tuple[str, float], ...]]:
    """Order two answers of one invitation: the later wins; at the same time, the dissatisfied one."""
    return (answer["answered_at"], not answer["satisfied"], tuple(sorted((answer.get("scores") or {}).items())))


def _offer_outcome(facts: Facts, target: str, candidate: dict[str, Any]) -> None:
    current = facts["outcomes"].get(target)
    if current is None or _outcome_rank(candidate) < _outcome_rank(current):
        facts["outcomes"][target] = candidate


def _outcome_rank(outcome: Mapping[str, Any]) -> tuple[int, int, datetime]:
    """Order the candidate outcomes of one target: work-order events by seq, then alerts by time."""
    if outcome["source"] == "work_order":
        return (0, outcome["seq"] if outcome["seq"] is not None else _NO_SEQ, outcome["met_at"])
    return (1, _NO_SEQ, outcome["alerted_at"])


def _newer(facts: Mapping[str, Any], group: str, *, seq: int | None, at: datetime) -> bool:
    current_seq = facts[f"{group}_seq"]
    if current_seq is None and facts[f"{group}_at"] is None:
        return True
    return (seq if seq is not None else _NO_SEQ, at) > (current_seq, facts[f"{group}_at"])


def _stamp(facts: Facts, group: str, *, seq: int | None, at: datetime, **values: Any) -> None:
    facts.update(values)
    facts[f"{group}_seq"] = seq if seq is not None else _NO_SEQ
    facts[f"{group}_at"] = at


def _earliest(current: datetime | None, candidate: datetime | None) -> datetime | None:
    if current is None:
        return candidate
    if candidate is None:
        return current
    return min(current, candidate)


def _latest(current: datetime | None, candidate: datetime | None) -> datetime | None:
    if current is None:
        return candidate
    if candidate is None:
        return current
    return max(current, candidate)
