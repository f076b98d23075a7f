"""Deciding an action on a work order: the fields it changes, the timeline entry and the events to emit.

Pure: the order as read, the action with its values, the facts it needs (``Facts``), the actor and
the time in; a ``Decision`` out, or an exception before anything is decided. The caller
(``dispatch.work_orders.act``) reads the facts ``facts_needed`` names, writes the changes only if
the order's ``seq`` is still the one read, and emits the events in the same unit of work.

Guarantees, in this order:
- a person whose role acts only on their own orders is refused on someone else's (``ActionRefused``);
- an action the order's status does not allow is refused (``IllegalTransition``);
- values that do not fit the order are refused (``InvalidAction``: unknown staff, nobody to assign).

Choices, one small function per action (``ACTIONS``):
- the first contact and each action's own targets are met at the time of the action; ``close``
  meets the follow-up (回访) target, or the survey's answer does (``Facts.follow_up_answered_at``);
  a survey closed because nobody answered leaves it missed (``Facts.follow_up_unanswered``);
- ``resolve`` starts the follow-up target from the time of resolution;
- a follow-up answer (the survey's, or the 12345 hotline's own 回访) reopens a resolved or closed
  order when the answer is not satisfied and closes a resolved one when it is; in any other status
  it asks nothing (``follow_up_action``);
- a reopen keeps the assignee (routes again only when there is none, and stays ``classified`` when
  nobody can be assigned), counts a repeat, and gives the ``response`` and ``resolve`` targets new
  deadlines from the time of the reopen; targets already met otherwise stay met;
- a reclassification recomputes the tier's targets from the time the complaint was received (plus
  any time on hold); targets already met stay met. When the department changes the order is routed
  again and ``complaint.assigned`` follows ``complaint.reclassified``;
- every decision stores the order's ``next_check_at`` (``timers.next_check_at``), so the escalation
  scanner finds it when its next SLA step falls due, and not before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from dispatch.domain import timers
from dispatch.domain.classify import department_for
from dispatch.domain.decision import Acting, ActionRefused, Actor, Decision, Effect, Emission, Facts, InvalidAction
from dispatch.domain.roles import ownership_refusal, roles_acting_for_others
from dispatch.domain.sla import DEFAULT_TIMEZONE, compute_deadlines, follow_up_deadline, shift_deadlines
from dispatch.domain.work_order import WorkOrder, WorkOrderChanges, changed, event_data, timeline_entry
from dispatch.domain.workflow import MAX_ESCALATION_LEVEL, Transition, apply

REOPEN_TARGETS = ("response", "resolve")
STAFF = "staff"
"""A fact: the estate's staff (who may be assigned or accept)."""
ROUTING = "routing"
"""A fact: the estate's staff, grids and open work per person (who would be assigned)."""
POLICY = "policy"
"""A fact: the SLA policy and working calendar in force for the order's estate."""


def facts_needed(*, order: WorkOrder, action: str, values: Mapping[str, Any]) -> frozenset[str]:
    """Return the facts (``STAFF``, ``ROUTING``, ``POLICY``) an action on this order needs read."""
    unassigned = order.get("assignee_id") is None
    if action == "accept":
        return frozenset({STAFF} if unassigned else ())
    if action == "resolve":
        return frozenset({POLICY})
    if action == "reassign":
        return frozenset({STAFF} if values.get("assignee_id") else {ROUTING})
    if action == "reclassify":
        moves = department_for(values.get("category") or "", values.get("subcategory") or "") != order.get("department")
        return frozenset({POLICY, ROUTING} if moves else {POLICY})
    if action == "reopen":
        return frozenset({POLICY, ROUTING} if unassigned else {POLICY})
    return frozenset()


FOLLOW_UP_REOPENS = frozenset({"resolved", "closed"})
"""The statuses a dissatisfied follow-up answer reopens (重办)."""
FOLLOW_UP_CLOSES = frozenset({"resolved"})
"""The statuses a satisfied follow-up answer closes."""


def follow_up_action(*, status: str, satisfied: bool) -> str | None:
    """Return the action a follow-up answer takes on an order in a status (``reopen`` or ``close``), or None when it asks nothing."""
    if satisfied:
        return "close" if status in FOLLOW_UP_CLOSES else None
    return "reopen" if status in FOLLOW_UP_REOPENS else None


def decide(*, order: WorkOrder, action: str, values: Mapping[str, Any], facts: Facts, at: datetime, actor: Actor | None = None) -> Decision:
    """Return what an action does to a work order; raise ``ActionRefused``, ``IllegalTransition`` or ``InvalidAction`` instead."""
    actor = actor or Actor()
    if actor.role is not None:
        refusal = ownership_refusal(role=actor.role, action=action, actor_id=actor.actor_id or "", assignee_id=order.get("assignee_id"))
        if refusal is not None:
            raise ActionRefused(refusal, required_roles=roles_acting_for_others(action))
    transition = apply(status=order["status"], action=action, held_from=order.get("held_from"))
    deadlines, results = _meet_targets(order, action=action, transition=transition, facts=facts, at=at)
    effect = ACTIONS[action](Acting(order=order, values=values, facts=facts, at=at, actor=actor, deadlines=deadlines))
    changes: WorkOrderChanges = {"status": transition.to_status, **effect.changes}
    changes["deadlines"] = deadlines if effect.deadlines is None else effect.deadlines
    changes["next_check_at"] = timers.next_check_at(changed(order, changes))
    after = changed(order, changes)
    details, extra = dict(effect.details), dict(effect.extra)
    if results:
        extra["targets_met"] = {result.target: result.outcome == "met" for result in results if result.outcome in {"met", "breached"}}
        details["targets"] = {result.target: result.outcome for result in results}
    note = values.get("note")
    data = event_data(after, action=action, at=at, actor_id=actor.actor_id, note=note, **extra)
    event_types = (*transition.events, *effect.also_emits)
    return Decision(
        transition=transition,
        changes=changes,
        timeline=timeline_entry(
            complaint_id=order["_id"],
            at=at,
            action=action,
            actor_id=actor.actor_id,
            note=note,
            from_status=order["status"],
            to_status=after["status"],
            details=details,
        ),
        events=tuple(Emission(event_type, data, order["seq"] + 1 + offset) for offset, event_type in enumerate(event_types)),
        targets=tuple(results),
    )


def _meet_targets(
    order: WorkOrder, *, action: str, transition: Transition, facts: Facts, at: datetime
) -> tuple[timers.Deadlines, list[timers.TargetResult]]:
    deadlines: timers.Deadlines = order.get("deadlines") or {}
    results: list[timers.TargetResult] = []
    if facts.follow_up_answered_at is not None:
        deadlines, met = timers.meet(deadlines, targets=["follow_up"], at=facts.follow_up_answered_at)
        results += met
    if facts.follow_up_unanswered:
        deadlines, missed = timers.miss(deadlines, target="follow_up", at=at)
        results += missed
    closing_in_person = action == "close" and facts.follow_up_answered_at is None and not facts.follow_up_unanswered
    deadlines, met = timers.meet(deadlines, targets=[*transition.meets, *(["follow_up"] if closing_in_person else [])], at=at)
    return deadlines, results + met


def _accept(acting: Acting) -> Effect:
    changes: WorkOrderChanges = {"accepted_at": acting.at}
    if acting.order.get("assignee_id") is None:
        actor_id = acting.actor.actor_id
        if not actor_id or not acting.facts.is_staff(actor_id):
            raise InvalidAction({"actor_id": ["Only a staff member of this estate can accept an unassigned work order."]})
        changes["assignee_id"] = actor_id
    return Effect(changes)


def _recorded_only(_acting: Acting) -> Effect:
    return Effect()


def _hold(acting: Acting) -> Effect:
    return Effect({"paused_at": acting.at, "held_from": acting.order["status"]}, deadlines=timers.pause(acting.deadlines))


def _resume(acting: Acting) -> Effect:
    order, at = acting.order, acting.at
    paused_at = order.get("paused_at") or at
    held_for = max((at - paused_at).total_seconds(), 0.0)
    return Effect(
        {"paused_at": None, "held_from": None, "paused_seconds": float(order.get("paused_seconds", 0.0)) + held_for},
        deadlines=timers.resume(acting.deadlines, paused_at=paused_at, at=at),
    )


def _resolve(acting: Acting) -> Effect:
    order, at = acting.order, acting.at
    policy, calendar = acting.facts.policy_and_calendar()
    timezone = order.get("timezone") or DEFAULT_TIMEZONE
    due = follow_up_deadline(tier=order["tier"], resolved_at=at, policy=policy, calendar=calendar, timezone=timezone)
    deadlines = acting.deadlines if due is None else {**acting.deadlines, "follow_up": timers.new_entry(due_at=due, started_at=at)}
    resolution = acting.values.get("resolution") or acting.values.get("note")
    return Effect({"resolved_at": at}, deadlines=deadlines, extra={"resolution": resolution})


def _reassign(acting: Acting) -> Effect:
    order, values = acting.order, acting.values
    department, assignee_id = values.get("department"), values.get("assignee_id")
    changes: WorkOrderChanges
    if assignee_id:
        if not acting.facts.is_staff(assignee_id):
            raise InvalidAction({"assignee_id": ["Not a staff member of this estate."]})
        changes = {"assignee_id": assignee_id, "department": department or order["department"]}
    else:
        routing = acting.facts.route(
            category=order["category"], subcategory=order["subcategory"], building=order.get("building"), department=department
        )
        if routing.assignee_id is None:
            raise InvalidAction({"department": ["Nobody of this department can be assigned in this estate."]})
        changes = {"assignee_id": routing.assignee_id, "department": routing.department, "grid_id": routing.grid_id}
    details = {
        "from": {"assignee_id": order.get("assignee_id"), "department": order.get("department")},
        "to": {"assignee_id": changes.get("assignee_id"), "department": changes.get("department")},
    }
    return Effect(changes, details=details)


def _reclassify(acting: Acting) -> Effect:
    order, values = acting.order, acting.values
    category, subcategory, tier = values["category"], values["subcategory"], values["tier"]
    changes: WorkOrderChanges = {
        "category": category,
        "subcategory": subcategory,
        "tier": tier,
        "department": department_for(category, subcategory),
        "needs_review": False,
        "assignee_id": order.get("assignee_id"),
    }
    if changes["department"] != order.get("department"):
        routing = acting.facts.route(category=category, subcategory=subcategory, building=order.get("building"))
        if routing.assignee_id is not None:
            changes["assignee_id"] = routing.assignee_id
            changes["grid_id"] = routing.grid_id
        changes["department"] = routing.department
    moved = ("complaint.assigned",) if changes.get("assignee_id") != order.get("assignee_id") else ()
    details = {
        "from": {
            "category": order.get("category"),
            "subcategory": order.get("subcategory"),
            "tier": order.get("tier"),
            "department": order.get("department"),
        },
        "to": {"category": category, "subcategory": subcategory, "tier": tier, "department": changes["department"]},
    }
    return Effect(changes, deadlines=_reclassified_deadlines(acting, tier=tier), details=details, also_emits=moved)


def _reclassified_deadlines(acting: Acting, *, tier: str) -> timers.Deadlines:
    order = acting.order
    policy, calendar = acting.facts.policy_and_calendar()
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
        shifted = shift_deadlines(due, open_targets=list(due), paused_for=paused)
        due = {target: moved for target, moved in shifted.items() if moved is not None}
    rebased = timers.rebase(acting.deadlines, due=due, started_at=order["received_at"], keep_met=True)
    for target, entry in rebased.items():
        if entry.get("met_at") is None and target in due:
            entry["paused_seconds"] = paused.total_seconds()
    return timers.pause(rebased) if order["status"] == "on_hold" else rebased


def _escalate(acting: Acting) -> Effect:
    return Effect({"escalation_level": min(int(acting.order.get("escalation_level", 0)) + 1, MAX_ESCALATION_LEVEL)})


def _reopen(acting: Acting) -> Effect:
    order, at = acting.order, acting.at
    changes: WorkOrderChanges = {"resolved_at": None, "repeat_count": int(order.get("repeat_count", 0)) + 1, "reopened_at": at}
    policy, calendar = acting.facts.policy_and_calendar()
    due = compute_deadlines(
        tier=order["tier"], received_at=at, policy=policy, calendar=calendar, timezone=order.get("timezone") or DEFAULT_TIMEZONE
    )
    deadlines = timers.rebase(acting.deadlines, due=due, started_at=at, keep_met=False, only=REOPEN_TARGETS)
    if order.get("assignee_id") is None:
        routing = acting.facts.route(category=order["category"], subcategory=order["subcategory"], building=order.get("building"))
        changes["assignee_id"] = routing.assignee_id
        changes["grid_id"] = routing.grid_id
        if routing.assignee_id is None:
            changes["status"] = "classified"
    return Effect(changes, deadlines=deadlines, extra={"repeat": True})


def _close(acting: Acting) -> Effect:
    return Effect({"closed_at": acting.at})


def _cancel(acting: Acting) -> Effect:
    reason = acting.values.get("reason")
    return Effect({"cancelled_at": acting.at, "cancel_reason": reason}, details={"reason": reason}, extra={"reason": reason})


ACTIONS: dict[str, Callable[[Acting], Effect]] = {
    "accept": _accept,
    "respond": _recorded_only,
    "arrive": _recorded_only,
    "plan": _recorded_only,
    "progress": _recorded_only,
    "hold": _hold,
    "resume": _resume,
    "resolve": _resolve,
    "reassign": _reassign,
    "reclassify": _reclassify,
    "escalate": _escalate,
    "reopen": _reopen,
    "close": _close,
    "cancel": _cancel,
}
"""One function per action of the state machine (``dispatch.domain.workflow.ACTIONS``)."""
