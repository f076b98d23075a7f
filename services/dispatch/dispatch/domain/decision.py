"""The values a decision on a work order is made of: who acts, the facts it reads, what it decides.

Pure data, shared by ``dispatch.domain.decide`` (which makes decisions) and its callers (which read the
facts a decision needs and carry its outcome out).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dispatch.domain import timers
from dispatch.domain.assignment import Grid, Routing, StaffMember, route
from dispatch.domain.sla import Policy
from dispatch.domain.work_order import TimelineEntry, WorkOrder, WorkOrderChanges
from dispatch.domain.workflow import Transition
from propcare_shared.calendar import WorkingCalendar


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


@dataclass(frozen=True)
class Actor:
    """Who acts: a person (their id and role), or a fact from another service (neither)."""

    actor_id: str | None = None
    role: str | None = None


@dataclass(frozen=True)
class Facts:
    """What an action may need beyond the order, read once before deciding; what it does not need stays empty."""

    staff: tuple[StaffMember, ...] = ()
    grids: tuple[Grid, ...] = ()
    open_counts: Mapping[str, int] = field(default_factory=dict)
    policy: Policy | None = None
    calendar: WorkingCalendar | None = None
    follow_up_answered_at: datetime | None = None
    """When the resident answered the follow-up survey, for an action a survey's answer causes."""
    follow_up_unanswered: bool = False
    """Whether the follow-up survey closed for lack of an answer."""

    def is_staff(self, staff_id: str) -> bool:
        """Tell whether someone is staff of the order's estate."""
        return any(member.staff_id == staff_id for member in self.staff)

    def route(self, *, category: str, subcategory: str, building: str | None, department: str | None = None) -> Routing:
        """Return who would be assigned a complaint of the estate."""
        return route(
            category=category,
            subcategory=subcategory,
            building=building,
            staff=self.staff,
            grids=self.grids,
            open_counts=self.open_counts,
            department=department,
        )

    def policy_and_calendar(self) -> tuple[Policy, WorkingCalendar]:
        """Return the policy and calendar in force; they must have been read."""
        if self.policy is None or self.calendar is None:
            raise ValueError("this action needs the policy and calendar of the estate (facts_needed names them)")
        return self.policy, self.calendar


@dataclass(frozen=True)
class Emission:
    """One event to emit: its type, its payload and its place in the complaint's ``seq``."""

    event_type: str
    data: dict[str, Any]
    seq: int


@dataclass(frozen=True)
class Decision:
    """What an action does: the transition, the fields it changes, the timeline entry, the events and the targets met or missed."""

    transition: Transition
    changes: WorkOrderChanges
    timeline: TimelineEntry
    events: tuple[Emission, ...]
    targets: tuple[timers.TargetResult, ...]


@dataclass(frozen=True)
class Acting:
    """One action being decided: the order as read, the values, the facts, when, by whom, and its deadlines once its targets are met."""

    order: WorkOrder
    values: Mapping[str, Any]
    facts: Facts
    at: datetime
    actor: Actor
    deadlines: timers.Deadlines


@dataclass(frozen=True)
class Effect:
    """What one action adds to its transition: the fields it sets, its deadlines, and what the timeline and events record."""

    changes: WorkOrderChanges = field(default_factory=lambda: WorkOrderChanges())
    deadlines: timers.Deadlines | None = None
    """The deadlines after the action; None leaves them as the targets met made them."""
    details: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    """What the events carry beyond the order (a resolution, a reason, a repeat)."""
    also_emits: tuple[str, ...] = ()
