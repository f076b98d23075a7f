"""The work-order state machine of docs/PRODUCT.md §4: which action is allowed in which status, what it needs,
where it leads, which SLA targets it meets and which events it emits.

Pure: plain values in, plain values out. Invariants:
- ``received`` exists only in intake's view; dispatch creates a work order already classified and
  assigned (or classified, when nobody could be assigned).
- ``reopened`` is an event, not a status: ``reopen`` moves ``resolved``/``closed`` back to ``assigned``
  and counts a repeat complaint (二次投诉).
- ``resume`` returns to the status the order was in when it was put on hold.
- The first action that takes an order out of ``classified``/``assigned`` towards the resident
  (respond, arrive, plan, resolve) makes the first contact, so it also meets the ``response`` target.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dispatch.domain.classify import CATEGORIES, TIERS, is_valid_subcategory
from propcare_shared.vocabulary import OPEN_STATUSES

ACTIVE_STATUSES = ("assigned", "responded", "in_progress")
FINAL_STATUSES = ("closed", "cancelled")
ACTIONS = (
    "accept",
    "respond",
    "arrive",
    "plan",
    "progress",
    "hold",
    "resume",
    "resolve",
    "reassign",
    "reclassify",
    "escalate",
    "reopen",
    "close",
    "cancel",
)
MAX_ESCALATION_LEVEL = 3
FIRST_CONTACT_ACTIONS = frozenset({"respond", "arrive", "plan", "resolve"})
BEFORE_FIRST_CONTACT = frozenset({"classified", "assigned"})


@dataclass(frozen=True)
class Rule:
    """What one action needs and does: the statuses it starts from, where it leads, what it meets."""

    from_statuses: frozenset[str]
    to_status: str | None
    events: tuple[str, ...]
    meets: tuple[str, ...] = ()
    required: tuple[str, ...] = ()


RULES: dict[str, Rule] = {
    "accept": Rule(frozenset({"classified", "assigned"}), "assigned", ("complaint.accepted",)),
    "respond": Rule(frozenset({"assigned"}), "responded", ("complaint.responded",), ("response",)),
    "arrive": Rule(frozenset({"assigned", "responded"}), "in_progress", ("complaint.arrived",), ("onsite",)),
    "plan": Rule(frozenset(ACTIVE_STATUSES), "in_progress", ("complaint.plan_submitted",), ("plan",), ("note",)),
    "progress": Rule(frozenset({"responded", "in_progress"}), "in_progress", ("complaint.progress_updated",)),
    "hold": Rule(frozenset(ACTIVE_STATUSES), "on_hold", ("complaint.on_hold",), (), ("note",)),
    "resume": Rule(frozenset({"on_hold"}), None, ("complaint.resumed",)),
    "resolve": Rule(frozenset(ACTIVE_STATUSES), "resolved", ("complaint.resolved",), ("resolve",), ("note",)),
    "reassign": Rule(frozenset(OPEN_STATUSES), None, ("complaint.reassigned", "complaint.assigned")),
    "reclassify": Rule(frozenset(OPEN_STATUSES), None, ("complaint.reclassified",), (), ("category", "subcategory", "tier")),
    "escalate": Rule(frozenset(OPEN_STATUSES), None, ("complaint.escalated",)),
    "reopen": Rule(frozenset({"resolved", "closed"}), "assigned", ("complaint.reopened",)),
    "close": Rule(frozenset({"resolved"}), "closed", ("complaint.closed",)),
    "cancel": Rule(frozenset({"received", *OPEN_STATUSES}), "cancelled", ("complaint.cancelled",), (), ("note", "reason")),
}


@dataclass(frozen=True)
class Transition:
    """The outcome of an allowed action: the new status, the targets met and the events to emit."""

    action: str
    from_status: str
    to_status: str
    meets: tuple[str, ...]
    events: tuple[str, ...]


class IllegalTransition(Exception):
    """Raised when an action is not allowed in the order's status."""

    def __init__(self, *, action: str, status: str, allowed_actions: list[str]) -> None:
        super().__init__(f"{action} is not allowed in status {status}")
        self.action = action
        self.status = status
        self.allowed_actions = allowed_actions


def allowed_actions(status: str) -> list[str]:
    """Return the actions allowed in a status, in the order of ``ACTIONS``."""
    return [action for action in ACTIONS if status in RULES[action].from_statuses]


def missing_or_invalid(action: str, values: Mapping[str, Any]) -> dict[str, list[str]]:
    """Return the field errors of an action's values; empty when the action may be tried."""
    if action not in RULES:
        return {"action": [f"Must be one of: {', '.join(ACTIONS)}."]}
    errors: dict[str, list[str]] = {}
    for name in RULES[action].required:
        value = values.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            errors[name] = [f"Required for {action}."]
    if action == "reassign" and not values.get("assignee_id") and not values.get("department"):
        message = "Give assignee_id or department for reassign."
        errors["assignee_id"] = [message]
        errors["department"] = [message]
    if action == "reclassify":
        errors.update(_reclassification_errors(values))
    return errors


def _reclassification_errors(values: Mapping[str, Any]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    category, subcategory, tier = values.get("category"), values.get("subcategory"), values.get("tier")
    if category and category not in CATEGORIES:
        errors["category"] = [f"Must be one of: {', '.join(CATEGORIES)}."]
    if tier and tier not in TIERS:
        errors["tier"] = [f"Must be one of: {', '.join(TIERS)}."]
    if category in CATEGORIES and subcategory and not is_valid_subcategory(category, subcategory):
        errors["subcategory"] = [f"{subcategory!r} is not a subcategory of {category!r}."]
    return errors


def apply(*, status: str, action: str, held_from: str | None = None) -> Transition:
    """Return the transition of ``action`` from ``status``; raise ``IllegalTransition`` when not allowed."""
    rule = RULES.get(action)
    if rule is None or status not in rule.from_statuses:
        raise IllegalTransition(action=action, status=status, allowed_actions=allowed_actions(status))
    to_status = rule.to_status or status
    if action == "resume":
        to_status = held_from if held_from in ACTIVE_STATUSES else "assigned"
    elif action == "reassign" and status == "classified":
        to_status = "assigned"
    meets = rule.meets
    if action in FIRST_CONTACT_ACTIONS and status in BEFORE_FIRST_CONTACT and "response" not in meets:
        meets = ("response", *meets)
    return Transition(action=action, from_status=status, to_status=to_status, meets=meets, events=rule.events)
