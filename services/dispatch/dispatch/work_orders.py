"""Work orders: made from received complaints, changed by actions, each change with its events.

Every function here runs inside a unit of work (``tx``): it reads the order with the transaction's
session, writes the order and its timeline, and emits its events into the outbox, so a change and
its events are committed together or not at all. A refused action (unknown order, a role that may
not act on this order, illegal transition, invalid values) raises before anything is written.

Choices:
- ``seq`` on the order is the complaint's event counter: intake's ``complaint.received`` is 1 (or the
  seq it carried), so the first dispatch event is the next one; each change advances it by the
  number of events it emits.
- A reopen (by a person or by a dissatisfied survey) keeps the assignee (routes again only when
  there is none), counts a repeat, and gives the ``response`` and ``resolve`` targets of the tier new
  deadlines computed from the time of the reopen; targets already met otherwise stay met.
- A reclassification recomputes the tier's targets from the time the complaint was received (plus
  any time on hold); targets already met stay met. When the department changes the order is routed
  again and ``complaint.assigned`` follows ``complaint.reclassified``.
- ``close`` meets the follow-up (回访) target; a survey that closed the order because nobody
  answered (``auto_closed``) leaves the follow-up missed.
- Every write of an order stores its ``next_check_at`` (``dispatch.domain.timers.next_check_at``), so the escalation
  scanner (``dispatch.escalation``) finds it when its next SLA step falls due, and not before.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from dispatch.domain import timers
from dispatch.domain.assignment import Routing, route
from dispatch.domain.classify import classify, department_for, tier_with_history
from dispatch.domain.roles import ownership_refusal, roles_acting_for_others
from dispatch.domain.sla import compute_deadlines, follow_up_deadline, shift_deadlines
from dispatch.domain.workflow import MAX_ESCALATION_LEVEL, Transition, apply
from dispatch.store import DispatchStore
from propcare_shared.events.envelope import Event
from propcare_shared.events.outbox import Transaction
from propcare_shared.mongo import new_id

HISTORY_WINDOW = timedelta(days=30)
DEFAULT_TIMEZONE = "Asia/Shanghai"
REOPEN_TARGETS = ("response", "resolve")


class WorkOrderNotFound(Exception):
    """Raised when no work order has the complaint id."""


class InvalidAction(Exception):
    """Raised when an action's values do not fit the order (unknown staff, nobody to assign)."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


class ActionRefused(Exception):
    """Raised when the actor's role may not take the action on this order (a handler on someone else's)."""

    def __init__(self, reason: str, *, required_roles: tuple[str, ...]) -> None:
        super().__init__(reason)
        self.reason = reason
        self.required_roles = required_roles


class UnplacedComplaint(Exception):
    """Raised for a received complaint without an estate: it is retried, then parked for a person."""


class ConcurrentChange(Exception):
    """Raised when the order changed between its read and its write inside one transaction."""


@dataclass
class Change:
    """What one change did: the order after it, the transition and the SLA targets it met or missed."""

    order: dict[str, Any]
    transition: Transition | None = None
    targets: list[timers.TargetResult] = field(default_factory=list)
    events: list[str] = field(default_factory=list)


def household_filter(data: Mapping[str, Any]) -> dict[str, Any] | None:
    """Return how to find a household's earlier orders: its id, else its building, unit and room."""
    if data.get("household_id"):
        return {"household_id": data["household_id"]}
    if data.get("building") and data.get("room"):
        return {"building": data["building"], "unit": data.get("unit"), "room": data["room"]}
    return None


def tenancy(order: Mapping[str, Any]) -> dict[str, Any]:
    """Return the envelope's tenancy ids of an order."""
    return {"group_id": order.get("group_id"), "region_id": order.get("region_id"), "estate_id": order.get("estate_id")}


def estate_of(store: DispatchStore, order: Mapping[str, Any], *, session: Any = None) -> dict[str, Any]:
    """Return the estate copy of an order's estate, or what the order itself knows of it."""
    return store.directory.estate(order["estate_id"], session=session) or {"estate_id": order["estate_id"], **tenancy(order)}


def route_order(store: DispatchStore, order: Mapping[str, Any], *, department: str | None = None, session: Any = None) -> Routing:
    """Route an order with its estate's staff, grids and open work."""
    staff = store.directory.staff_members(order["estate_id"], session=session)
    grids = store.directory.grid_values(order["estate_id"], session=session)
    counts = store.work_orders.open_counts(order["estate_id"], [member.staff_id for member in staff], session=session)
    return route(
        category=order["category"],
        subcategory=order["subcategory"],
        building=order.get("building"),
        staff=staff,
        grids=grids,
        open_counts=counts,
        department=department,
    )


def event_data(order: Mapping[str, Any], *, action: str, at: datetime, actor_id: str | None = None, **extra: Any) -> dict[str, Any]:
    """Return the ``WorkOrderChanged`` payload of an order after a change."""
    return {
        "complaint_id": order["_id"],
        "ticket_no": order["ticket_no"],
        "status": order["status"],
        "action": action,
        "at": at,
        "actor_id": actor_id,
        "channel": order.get("channel"),
        "category": order.get("category"),
        "subcategory": order.get("subcategory"),
        "tier": order.get("tier"),
        "department": order.get("department"),
        "assignee_id": order.get("assignee_id"),
        "confidence": order.get("confidence"),
        "needs_review": bool(order.get("needs_review")),
        "matched": list(order.get("matched") or ()),
        "deadlines": timers.due_times(order.get("deadlines") or {}),
        "escalation_level": int(order.get("escalation_level", 0)),
        "received_at": order.get("received_at"),
        **extra,
    }


def _emit(tx: Transaction, order: Mapping[str, Any], event_types: Iterable[str], *, first_seq: int, data: dict[str, Any]) -> None:
    for offset, event_type in enumerate(event_types):
        tx.emit(event_type, data=data, correlation_id=order["_id"], seq=first_seq + offset, **tenancy(order))


def timeline_entry(
    order: Mapping[str, Any],
    *,
    at: datetime,
    action: str,
    actor_id: str | None,
    note: str | None,
    from_status: str | None,
    to_status: str,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Return one timeline entry of a change to an order."""
    return {
        "_id": new_id(),
        "complaint_id": order["_id"],
        "at": at,
        "action": action,
        "actor_id": actor_id,
        "note": note,
        "from_status": from_status,
        "to_status": to_status,
        "details": details or {},
    }


def create_from_complaint(tx: Transaction, *, store: DispatchStore, event: Event, now: datetime) -> Change | None:
    """Classify, tier, route and time a received complaint, and store its work order; None if it exists."""
    data = event.data
    complaint_id = data["complaint_id"]
    session = tx.session
    if store.work_orders.work_order(complaint_id, session=session) is not None:
        return None
    if not event.estate_id:
        raise UnplacedComplaint(complaint_id)
    estate_id = event.estate_id
    text = "\n".join(part for part in (data.get("description"), data.get("demand")) if part)
    classification = classify(text, channel=data.get("channel"), category_hint=data.get("category_hint"))
    received_at: datetime = data["received_at"]
    since = received_at - HISTORY_WINDOW
    household = household_filter(data)
    household_count = (
        store.work_orders.count_recent(
            estate_id=estate_id, subcategory=classification.subcategory, since=since, household=household, session=session
        )
        if household
        else 0
    )
    building_count = store.work_orders.count_recent(
        estate_id=estate_id, subcategory=classification.subcategory, since=since, building=data.get("building"), session=session
    )
    tier, tier_reason = tier_with_history(
        classification.tier, household_same_subcategory_30d=household_count, building_same_subcategory_30d=building_count
    )
    estate = store.directory.estate(estate_id, session=session) or {
        "estate_id": estate_id,
        "group_id": event.group_id,
        "region_id": event.region_id,
    }
    timezone = data.get("timezone") or estate.get("timezone") or DEFAULT_TIMEZONE
    policy, calendar = store.policies.policy_and_calendar_for(estate, session=session)
    due = compute_deadlines(
        tier=tier,
        received_at=received_at,
        policy=policy,
        calendar=calendar,
        timezone=timezone,
        hotline_deadline=data.get("hotline_deadline"),
    )
    order: dict[str, Any] = {
        "_id": complaint_id,
        "ticket_no": data["ticket_no"],
        "group_id": event.group_id,
        "region_id": event.region_id,
        "estate_id": estate_id,
        "building": data.get("building"),
        "unit": data.get("unit"),
        "room": data.get("room"),
        "household_id": data.get("household_id"),
        "channel": data["channel"],
        "status": "classified",
        "category": classification.category,
        "subcategory": classification.subcategory,
        "tier": tier,
        "tier_reason": tier_reason,
        "department": classification.department,
        "assignee_id": None,
        "grid_id": None,
        "confidence": classification.confidence,
        "needs_review": classification.needs_review,
        "matched": list(classification.matched),
        "escalation_level": 0,
        "hotline": bool(data.get("hotline_ticket_id")) or data["channel"] == "gov_hotline",
        "hotline_deadline": data.get("hotline_deadline"),
        "first_responder_id": data.get("first_responder_id"),
        "received_at": received_at,
        "timezone": timezone,
        "deadlines": timers.new_deadlines(due, started_at=received_at),
        "paused_at": None,
        "paused_seconds": 0.0,
        "held_from": None,
        "resolved_at": None,
        "repeat_count": 0,
        "created_at": now,
        "updated_at": now,
    }
    routing = route_order(store, order, session=session)
    order.update(department=routing.department, grid_id=routing.grid_id, assignee_id=routing.assignee_id)
    events = ["complaint.classified"]
    if routing.assignee_id is not None:
        order["status"] = "assigned"
        events.append("complaint.assigned")
    first_seq = (event.seq or 1) + 1
    order["seq"] = first_seq + len(events) - 1
    order["next_check_at"] = timers.next_check_at(order)
    store.work_orders.insert_work_order(order, session=session)
    classified = {**order, "status": "classified", "assignee_id": None}
    entries = [
        timeline_entry(
            order,
            at=now,
            action="classify",
            actor_id=None,
            note=None,
            from_status="received",
            to_status="classified",
            details={
                "category": order["category"],
                "subcategory": order["subcategory"],
                "tier": tier,
                "tier_reason": tier_reason,
                "confidence": order["confidence"],
                "matched": order["matched"],
            },
        )
    ]
    tx.emit(
        "complaint.classified",
        data=event_data(classified, action="classify", at=now),
        correlation_id=complaint_id,
        seq=first_seq,
        **tenancy(order),
    )
    if routing.assignee_id is not None:
        entries.append(
            timeline_entry(
                order,
                at=now,
                action="assign",
                actor_id=None,
                note=None,
                from_status="classified",
                to_status="assigned",
                details={"assignee_id": routing.assignee_id, "department": routing.department, "rule": routing.rule},
            )
        )
        tx.emit(
            "complaint.assigned",
            data=event_data(order, action="assign", at=now),
            correlation_id=complaint_id,
            seq=first_seq + 1,
            **tenancy(order),
        )
    store.work_orders.append_timeline(entries, session=session)
    return Change(order=order, events=events)


def act(
    tx: Transaction,
    *,
    store: DispatchStore,
    complaint_id: str,
    action: str,
    values: Mapping[str, Any],
    actor_id: str | None,
    at: datetime,
    actor_role: str | None = None,
    follow_up_at: datetime | None = None,
    follow_up_missed: bool = False,
) -> Change:
    """Apply an action to a work order, with its timeline entry and its events.

    ``actor_role`` is the role of a person acting (None for a fact from another service): a role that
    acts only on its own orders is refused here, on the order as read in this unit of work, so an order
    reassigned meanwhile is not changed by its former assignee. ``follow_up_at`` meets the follow-up
    target at that time (a survey answer); ``follow_up_missed`` marks it missed (a survey closed for
    lack of an answer).
    """
    session = tx.session
    order = store.work_orders.work_order(complaint_id, session=session)
    if order is None:
        raise WorkOrderNotFound(complaint_id)
    if actor_role is not None:
        refusal = ownership_refusal(role=actor_role, action=action, actor_id=actor_id or "", assignee_id=order.get("assignee_id"))
        if refusal is not None:
            raise ActionRefused(refusal, required_roles=roles_acting_for_others(action))
    transition = apply(status=order["status"], action=action, held_from=order.get("held_from"))
    changes: dict[str, Any] = {"status": transition.to_status}
    deadlines = order.get("deadlines") or {}
    extra: dict[str, Any] = {}
    details: dict[str, Any] = {}
    events = list(transition.events)
    results: list[timers.TargetResult] = []

    if follow_up_at is not None:
        deadlines, met = timers.meet(deadlines, targets=["follow_up"], at=follow_up_at)
        results += met
    if follow_up_missed:
        deadlines, missed = timers.miss(deadlines, target="follow_up", at=at)
        results += missed
    meets = list(transition.meets) + (["follow_up"] if action == "close" and follow_up_at is None and not follow_up_missed else [])
    deadlines, met = timers.meet(deadlines, targets=meets, at=at)
    results += met

    if action == "accept":
        changes["accepted_at"] = at
        if order.get("assignee_id") is None:
            if not actor_id or store.directory.staff_member(order["estate_id"], actor_id, session=session) is None:
                raise InvalidAction({"actor_id": ["Only a staff member of this estate can accept an unassigned work order."]})
            changes["assignee_id"] = actor_id
    elif action == "hold":
        changes.update(paused_at=at, held_from=order["status"])
        deadlines = timers.pause(deadlines)
    elif action == "resume":
        paused_at = order.get("paused_at") or at
        deadlines = timers.resume(deadlines, paused_at=paused_at, at=at)
        changes.update(
            paused_at=None,
            held_from=None,
            paused_seconds=float(order.get("paused_seconds", 0.0)) + max((at - paused_at).total_seconds(), 0.0),
        )
    elif action == "resolve":
        changes["resolved_at"] = at
        extra["resolution"] = values.get("resolution") or values.get("note")
        deadlines = _with_follow_up(store, order, deadlines, resolved_at=at, session=session)
    elif action == "reassign":
        changes.update(_reassignment(store, order, values, session=session))
        details = {
            "from": {"assignee_id": order.get("assignee_id"), "department": order.get("department")},
            "to": {k: changes[k] for k in ("assignee_id", "department")},
        }
    elif action == "reclassify":
        reclassified, deadlines = _reclassification(store, order, values, deadlines, session=session)
        changes.update(reclassified)
        details = {
            "from": {k: order.get(k) for k in ("category", "subcategory", "tier", "department")},
            "to": {k: reclassified[k] for k in ("category", "subcategory", "tier", "department")},
        }
        if reclassified.get("assignee_id") != order.get("assignee_id"):
            events.append("complaint.assigned")
    elif action == "escalate":
        changes["escalation_level"] = min(int(order.get("escalation_level", 0)) + 1, MAX_ESCALATION_LEVEL)
    elif action == "reopen":
        changes.update(resolved_at=None, repeat_count=int(order.get("repeat_count", 0)) + 1, reopened_at=at)
        deadlines = _reopened_deadlines(store, order, deadlines, at=at, session=session)
        if order.get("assignee_id") is None:
            routing = route_order(store, order, session=session)
            changes.update(assignee_id=routing.assignee_id, grid_id=routing.grid_id)
            if routing.assignee_id is None:
                changes["status"] = "classified"
        extra["repeat"] = True
    elif action == "close":
        changes["closed_at"] = at
    elif action == "cancel":
        changes.update(cancelled_at=at, cancel_reason=values.get("reason"))
        extra["reason"] = values.get("reason")

    changes["deadlines"] = deadlines
    changes["next_check_at"] = timers.next_check_at({**order, **changes})
    if results:
        extra["targets_met"] = {result.target: result.outcome == "met" for result in results if result.outcome in {"met", "breached"}}
    updated = store.work_orders.update_work_order(
        complaint_id, expected_seq=order["seq"], changes=changes, events=len(events), session=session
    )
    if updated is None:
        raise ConcurrentChange(complaint_id)
    note = values.get("note")
    if action == "cancel":
        details["reason"] = values.get("reason")
    if results:
        details["targets"] = {result.target: result.outcome for result in results}
    store.work_orders.append_timeline(
        [
            timeline_entry(
                updated,
                at=at,
                action=action,
                actor_id=actor_id,
                note=note,
                from_status=order["status"],
                to_status=updated["status"],
                details=details,
            )
        ],
        session=session,
    )
    _emit(
        tx,
        updated,
        events,
        first_seq=order["seq"] + 1,
        data=event_data(updated, action=action, at=at, actor_id=actor_id, note=note, **extra),
    )
    return Change(order=updated, transition=transition, targets=results, events=events)


def _with_follow_up(
    store: DispatchStore, order: Mapping[str, Any], deadlines: dict[str, Any], *, resolved_at: datetime, session: Any
) -> dict[str, Any]:
    policy, calendar = store.policies.policy_and_calendar_for(estate_of(store, order, session=session), session=session)
    due = follow_up_deadline(
        tier=order["tier"], resolved_at=resolved_at, policy=policy, calendar=calendar, timezone=order.get("timezone") or DEFAULT_TIMEZONE
    )
    if due is None:
        return deadlines
    return {**deadlines, "follow_up": timers.new_entry(due_at=due, started_at=resolved_at)}


def _reopened_deadlines(
    store: DispatchStore, order: Mapping[str, Any], deadlines: dict[str, Any], *, at: datetime, session: Any
) -> dict[str, Any]:
    policy, calendar = store.policies.policy_and_calendar_for(estate_of(store, order, session=session), session=session)
    due = compute_deadlines(
        tier=order["tier"], received_at=at, policy=policy, calendar=calendar, timezone=order.get("timezone") or DEFAULT_TIMEZONE
    )
    return timers.rebase(deadlines, due=due, started_at=at, keep_met=False, only=REOPEN_TARGETS)


def _reassignment(store: DispatchStore, order: Mapping[str, Any], values: Mapping[str, Any], *, session: Any) -> dict[str, Any]:
    department = values.get("department")
    assignee_id = values.get("assignee_id")
    if assignee_id:
        if store.directory.staff_member(order["estate_id"], assignee_id, session=session) is None:
            raise InvalidAction({"assignee_id": ["Not a staff member of this estate."]})
        return {"assignee_id": assignee_id, "department": department or order.get("department")}
    routing = route_order(store, order, department=department, session=session)
    if routing.assignee_id is None:
        raise InvalidAction({"department": ["Nobody of this department can be assigned in this estate."]})
    return {"assignee_id": routing.assignee_id, "department": routing.department, "grid_id": routing.grid_id}


def _reclassification(
    store: DispatchStore, order: Mapping[str, Any], values: Mapping[str, Any], deadlines: dict[str, Any], *, session: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    category, subcategory, tier = values["category"], values["subcategory"], values["tier"]
    department = department_for(category, subcategory)
    changes: dict[str, Any] = {
        "category": category,
        "subcategory": subcategory,
        "tier": tier,
        "department": department,
        "needs_review": False,
        "assignee_id": order.get("assignee_id"),
    }
    if department != order.get("department"):
        routing = route_order(store, {**order, "category": category, "subcategory": subcategory}, session=session)
        if routing.assignee_id is not None:
            changes.update(assignee_id=routing.assignee_id, grid_id=routing.grid_id)
        changes["department"] = routing.department
    policy, calendar = store.policies.policy_and_calendar_for(estate_of(store, order, session=session), session=session)
    due = compute_deadlines(
        tier=tier,
        received_at=order["received_at"],
        policy=policy,
        calendar=calendar,
        timezone=order.get("timezone") or DEFAULT_TIMEZONE,
        hotline_deadline=order.get("hotline_deadline"),
    )
    paused = timedelta(seconds=float(order.get("paused_seconds", 0.0)))
    if paused:
        due = {
            target: moved for target, moved in shift_deadlines(due, open_targets=list(due), paused_for=paused).items() if moved is not None
        }
    rebased = timers.rebase(deadlines, due=due, started_at=order["received_at"], keep_met=True)
    for target, entry in rebased.items():
        if entry.get("met_at") is None and target in due:
            entry["paused_seconds"] = paused.total_seconds()
    if order["status"] == "on_hold":
        rebased = timers.pause(rebased)
    return changes, rebased
