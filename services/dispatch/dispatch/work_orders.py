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
- A follow-up answer (the survey's or the 12345 hotline's) goes through ``answer_follow_up``: the
  pure ``follow_up_action`` picks reopen or close from the order as read, or nothing.
- A work order is made once per complaint, classified, tiered with the household's and the
  building's complaints of the last 30 days, routed and timed; ``complaint.classified`` then, when
  someone could be assigned, ``complaint.assigned``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dispatch.domain import timers
from dispatch.domain.classify import classify
from dispatch.domain.decide import POLICY, ROUTING, STAFF, decide, facts_needed, follow_up_action
from dispatch.domain.decision import Actor, Emission, Facts
from dispatch.domain.opening import HISTORY_WINDOW, open_work_order
from dispatch.domain.work_order import WorkOrder
from dispatch.domain.workflow import Transition
from dispatch.store import DispatchStore
from propcare_shared.events.envelope import Event
from propcare_shared.events.outbox import Transaction
from propcare_shared.tenancy import Tenancy


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
    return store.directory.estate(order["estate_id"], session=session) or Tenancy.of(order).fields()


def load_facts(
    store: DispatchStore,
    order: Mapping[str, Any],
    *,
    needs: frozenset[str],
    session: Any,
    estate: Mapping[str, Any] | None = None,
    follow_up_answered_at: datetime | None = None,
    follow_up_unanswered: bool = False,
) -> Facts:
    """Read the facts a decision on an order needs (``dispatch.domain.decide.facts_needed``), and nothing else.

    ``estate`` is the order's estate when the caller has read it already; the policy and calendar are
    those in force there.
    """
    estate_id = order["estate_id"]
    staff = tuple(store.directory.staff_members(estate_id, session=session)) if {STAFF, ROUTING} & needs else ()
    grids = tuple(store.directory.grid_values(estate_id, session=session)) if ROUTING in needs else ()
    counts = store.work_orders.open_counts(estate_id, [member.staff_id for member in staff], session=session) if ROUTING in needs else {}
    policy, calendar = (
        store.policies.policy_and_calendar_for(estate or estate_of(store, order, session=session), session=session)
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
    """Classify, tier, route and time a received complaint, and store its work order; None if it exists.

    Round trips inside the transaction: the repeat counts (one aggregate), the open counts, the order's
    insert-if-absent, the timeline, then the kernel's outbox and commit. The estate, staff, grids and
    policy come from the routing cache (``dispatch.cache``, seconds old at most). Whether the order
    exists is learnt from its insert (``_id`` = complaint id), not from a look-up before: a second
    ``complaint.received`` of one complaint (another event id) costs a classification and some reads,
    then stores and emits nothing.
    """
    data = event.data
    complaint_id = data["complaint_id"]
    session = tx.session
    if not event.estate_id:
        raise UnplacedComplaint(complaint_id)
    placed = event.tenancy
    text = "\n".join(part for part in (data.get("description"), data.get("demand")) if part)
    classification = classify(text, channel=data.get("channel"), category_hint=data.get("category_hint"))
    household_repeats, building_repeats = _repeats(
        store, data, estate_id=event.estate_id, subcategory=classification.subcategory, session=session
    )
    estate = store.directory.cached_estate(event.estate_id) or placed.fields()
    facts = _routing_facts(store, estate_id=event.estate_id, estate=estate, session=session)
    opening = open_work_order(
        complaint=data,
        tenancy=placed,
        classification=classification,
        household_repeats=household_repeats,
        building_repeats=building_repeats,
        estate_timezone=estate.get("timezone"),
        facts=facts,
        received_seq=event.seq or 1,
        now=now,
    )
    if not store.work_orders.insert_work_order_if_absent(opening.order, session=session):
        return None
    _emit(tx, opening.events, complaint_id=complaint_id, tenancy=placed)
    store.work_orders.append_timeline(opening.timeline, session=session)
    return Change(order=opening.order, events=[emission.event_type for emission in opening.events])


def _routing_facts(store: DispatchStore, *, estate_id: str, estate: Mapping[str, Any], session: Any) -> Facts:
    """Return what routing and timing a new order need: the directory and policy cached, the open counts read now."""
    staff = tuple(store.directory.cached_staff_members(estate_id))
    policy, calendar = store.policies.cached_policy_and_calendar_for(estate)
    return Facts(
        staff=staff,
        grids=tuple(store.directory.cached_grid_values(estate_id)),
        open_counts=store.work_orders.open_counts(estate_id, [member.staff_id for member in staff], session=session),
        policy=policy,
        calendar=calendar,
    )


def _repeats(store: DispatchStore, data: Mapping[str, Any], *, estate_id: str, subcategory: str, session: Any) -> tuple[int, int]:
    """Count the household's and the building's complaints of a subcategory received in the window before this one."""
    since: datetime = data["received_at"] - HISTORY_WINDOW
    return store.work_orders.count_repeats(
        estate_id=estate_id,
        subcategory=subcategory,
        since=since,
        household=household_filter(data),
        building=data.get("building"),
        session=session,
    )


def _emit(tx: Transaction, events: Iterable[Emission], *, complaint_id: str, tenancy: Tenancy) -> None:
    for emission in events:
        tx.emit(emission.event_type, data=emission.data, correlation_id=complaint_id, seq=emission.seq, tenancy=tenancy)


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
    _emit(tx, decision.events, complaint_id=complaint_id, tenancy=Tenancy.of(updated))
    return Change(
        order=updated,
        transition=decision.transition,
        targets=list(decision.targets),
        events=[emission.event_type for emission in decision.events],
    )


def answer_follow_up(
    tx: Transaction,
    *,
    store: DispatchStore,
    complaint_id: str,
    satisfied: bool,
    note: str,
    at: datetime,
    answered_at: datetime | None,
    unanswered: bool = False,
) -> Change | None:
    """Reopen an order whose follow-up answer is not satisfied, close a resolved one that is; None when its status asks nothing.

    ``answered_at`` meets the follow-up target at the answer; ``unanswered`` marks it missed (a
    survey closed for lack of an answer). The order is acted on by nobody in person (``actor_id`` None).
    """
    order = store.work_orders.work_order(complaint_id, session=tx.session)
    action = None if order is None else follow_up_action(status=order["status"], satisfied=satisfied)
    if action is None:
        return None
    return act(
        tx,
        store=store,
        complaint_id=complaint_id,
        action=action,
        values={"note": note},
        actor_id=None,
        at=at,
        follow_up_at=None if unanswered else answered_at,
        follow_up_missed=unanswered,
    )
