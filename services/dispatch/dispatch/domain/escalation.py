"""The escalation steps of an SLA target (SPEC §5): when each falls due and whom it alerts. Pure, no I/O.

A target's steps fall due at fractions of its running time, from its clock start to its deadline:
the warning at 80% (the assignee), the breach at 100% (level 1, the department supervisor), level 2
at 150% (the estate manager) and level 3 at 200% (regional operations); an emergency or a hotline
complaint reaches level 3 at once when breached. The warning is due at its instant, the others once
their instant has passed: a target met at its deadline is met.

Escalation is computed here, not fired: the scanner that owns the database (``dispatch.escalation``)
makes each step fire exactly once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal, NamedTuple

from dispatch.domain.sla import as_utc


class Step(NamedTuple):
    """One escalation step: ``warning`` (level 0), ``breached`` (level 1) or ``level`` (2 or 3), and whom it alerts."""

    kind: Literal["warning", "breached", "level"]
    level: int
    roles: tuple[str, ...]


ASSIGNEE = "assignee"
"""Not a staff role: the person the work order is assigned to (the event's ``assignee_id``)."""

ESCALATION_ROLES: dict[int, tuple[str, ...]] = {
    0: (ASSIGNEE,),
    1: ("supervisor",),
    2: ("manager",),
    3: ("regional_ops",),
}
"""Whom each level alerts (SPEC §5): the assignee, the department supervisor, the estate manager, regional operations."""

THRESHOLDS: dict[str, float] = {"warning": 0.8, "level_1": 1.0, "level_2": 1.5, "level_3": 2.0}
"""Fractions of the time from a target's start to its deadline; ``level_1`` is the breach."""

IMMEDIATE_LEVEL_3_TIERS = frozenset({"emergency"})


def escalation_thresholds(*, started_at: datetime, due_at: datetime) -> dict[str, datetime]:
    """Return the instants of the warning (80%), breach/level 1 (100%), level 2 (150%) and level 3 (200%).

    A deadline at or before its start (a hotline deadline already past) has no span: every
    threshold is the deadline itself.
    """
    start, due = as_utc(started_at), as_utc(due_at)
    span = max(due - start, timedelta(0))
    return {name: start + span * fraction if span else due for name, fraction in THRESHOLDS.items()}


def escalation_schedule(*, started_at: datetime, due_at: datetime, tier: str, hotline: bool) -> list[tuple[datetime, Step]]:
    """Return each escalation step of a target with the instant it falls due; an emergency or hotline breach reaches level 3 at once."""
    thresholds = escalation_thresholds(started_at=started_at, due_at=due_at)
    immediate = hotline or tier in IMMEDIATE_LEVEL_3_TIERS
    schedule = [
        (thresholds["warning"], Step("warning", 0, ESCALATION_ROLES[0])),
        (thresholds["level_1"], Step("breached", 1, ESCALATION_ROLES[1])),
    ]
    for level in (2, 3):
        at = thresholds["level_1"] if immediate else thresholds[f"level_{level}"]
        schedule.append((at, Step("level", level, ESCALATION_ROLES[level])))
    return schedule


def step_due(step: Step, *, at: datetime, now: datetime) -> bool:
    """Tell whether a step is due at ``now``: the warning from ``at``, the others after it (met at the deadline is met, SPEC §5)."""
    return now >= at if step.kind == "warning" else now > at


def escalation_due(*, started_at: datetime, due_at: datetime, now: datetime, tier: str, hotline: bool) -> list[Step]:
    """Return every escalation step due at ``now``, in order; the caller fires those not fired yet."""
    moment = as_utc(now)
    schedule = escalation_schedule(started_at=started_at, due_at=due_at, tier=tier, hotline=hotline)
    return [step for at, step in schedule if step_due(step, at=at, now=moment)]
