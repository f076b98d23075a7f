"""Work orders: made from received complaints, changed by actions, each change with its events.

Every function here is a use case that runs inside a unit of work (``tx``): it reads what the
decision needs with the transaction's session, lets the pure domain decide
(``dispatch.domain.decide``), then writes the order and its timeline and emits the events into the
outbox, so a change and its events are committed together or not at all. A refused action (unknown
order, a role that may not act on this order, illegal transition, invalid values) raises before
anything is written; an order changed between its read and its write raises ``ConcurrentChange``.

- ``seq`` on the order is the complaint's event counter: intake's ``complaint.received`` is 1 (or the
  seq it carried), so the first dispatch event is the next one; each change advances it by the
  number of events it emits.
- A work order is made once per complaint, classified, tiered with the household's and the
  building's complaints of the last 30 days, routed and timed; ``complaint.classified`` then, when
  someone could be assigned, ``complaint.assigned``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from dispatch.domain import timers
from dispatch.domain.classify import classify, tier_with_history
from dispatch.domain.decide import POLICY, ROUTING, STAFF, Actor, Facts, decide, facts_needed
from dispatch.domain.sla import DEFAULT_TIMEZONE, compute_deadlines
from dispatch.domain.work_order import TimelineEntry, WorkOrder, event_data, tenancy, timeline_entry
from dispatch.domain.workflow import Transition
from dispatch.store import DispatchStore
from propcare_shared.events.envelope import Event
from propcare_shared.events.outbox import Transaction

HISTORY_WINDOW = timedelta(days=30)


class WorkOrderNotFound(Exception):
    """Raised when no work order has the complaint id."""


class UnplacedComplaint(Exception):
    """Raised for a received complaint without an estate: it is retried, then parked for a person."""


class ConcurrentChange(Exception):
    """Raised when the order changed between its read and its write inside one transaction."""


@dataclass
class Change:
    """What one change did: the order after it, the transition and the SLA targets it met or missed."""

    order: WorkOrder
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


def estate_of(store: DispatchStore, order: Mapping[str, Any], *, session: Any = None) -> dict[str, Any]:
    """Return the estate copy of an order's estate, or what the order itself knows of it."""
    return store.directory.estate(order["estate_id"], session=session) or {"estate_id": order["estate_id"], **tenancy(order)}


def load_facts(
    store: DispatchStore,
    order: Mapping[str, Any],
    *,
    needs: frozenset[str],
    session: Any,
    follow_up_answered_at: datetime | None = None,
    follow_up_unanswered: bool = False,
) -> Facts:
    """Read the facts a decision on an order needs (``dispatch.domain.decide.facts_needed``), and nothing else."""
    estate_id = order["estate_id"]
    staff = tuple(store.directory.staff_members(estate_id, session=session)) if {STAFF, ROUTING} & needs else ()
    grids = tuple(store.directory.grid_values(estate_id, session=session)) if ROUTING in needs else ()
    counts = store.work_orders.open_counts(estate_id, [member.staff_id for member in staff], session=session) if ROUTING in needs else {}
    policy, calendar = (
        store.policies.policy_and_calendar_for(estate_of(store, order, session=session), session=session)
        if POLICY in needs
        else (None, None)
    )
    return Facts(
        staff=staff,
        grids=grids,
        open_counts=counts,
        policy=policy,
        calendar=calendar,
        follow_up_answered_at=follow_up_answered_at,
        follow_up_unanswered=follow_up_unanswered,
    )


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
    order: WorkOrder = {
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
        "seq": 0,
        "next_check_at": None,
    }
    facts = load_facts(store, order, needs=frozenset({ROUTING}), session=session)
    routing = facts.route(category=order["category"], subcategory=order["subcategory"], building=order.get("building"))
    order["department"], order["grid_id"], order["assignee_id"] = routing.department, routing.grid_id, routing.assignee_id
    events = ["complaint.classified"]
    if routing.assignee_id is not None:
        order["status"] = "assigned"
        events.append("complaint.assigned")
    first_seq = (event.seq or 1) + 1
    order["seq"] = first_seq + len(events) - 1
    order["next_check_at"] = timers.next_check_at(order)
    store.work_orders.insert_work_order(order, session=session)
    classified: WorkOrder = {**order, "status": "classified", "assignee_id": None}
    entries: list[TimelineEntry] = [
        timeline_entry(
            complaint_id=complaint_id,
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
                complaint_id=complaint_id,
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
    """Apply an action to a work order: read it and the facts the action needs, decide, write, emit.

    ``actor_role`` is the role of a person acting (None for a fact from another service): a role that
    acts only on its own orders is refused on the order as read in this unit of work, so an order
    reassigned meanwhile is not changed by its former assignee. ``follow_up_at`` meets the follow-up
    target at that time (a survey answer); ``follow_up_missed`` marks it missed (a survey closed for
    lack of an answer).
    """
    session = tx.session
    order = store.work_orders.work_order(complaint_id, session=session)
    if order is None:
        raise WorkOrderNotFound(complaint_id)
    facts = load_facts(
        store,
        order,
        needs=facts_needed(order=order, action=action, values=values),
        session=session,
        follow_up_answered_at=follow_up_at,
        follow_up_unanswered=follow_up_missed,
    )
    decision = decide(order=order, action=action, values=values, facts=facts, at=at, actor=Actor(actor_id=actor_id, role=actor_role))
    updated = store.work_orders.update_work_order(
        complaint_id, expected_seq=order["seq"], changes=decision.changes, events=len(decision.events), session=session
    )
    if updated is None:
        raise ConcurrentChange(complaint_id)
    store.work_orders.append_timeline([decision.timeline], session=session)
    for emission in decision.events:
        tx.emit(emission.event_type, data=emission.data, correlation_id=complaint_id, seq=emission.seq, **tenancy(updated))
    return Change(
        order=updated,
        transition=decision.transition,
        targets=list(decision.targets),
        events=[emission.event_type for emission in decision.events],
    )
