"""The SLA targets of one work order as stored in its ``deadlines`` map, and how actions change them.

Pure. Each target is ``{"due_at", "started_at", "met_at", "state", "warned", "breached", "levels",
"paused_seconds"}``; ``state`` is ``pending``, ``met``, ``breached`` or ``paused``. The escalation
scanner (``dispatch.escalation``) records the steps it fired in ``warned``, ``breached`` and
``levels`` through ``record_alerts``; actions set the rest. Invariants:
- a target's outcome is counted once: meeting a target late that the scanner already marked
  ``breached`` counts nothing more; meeting it late before the scanner saw it marks it ``breached``
  in the same write, so the scanner does not count it again;
- on hold every unmet target is ``paused``; resuming moves the unmet deadlines later by the time
  on hold (``shift_deadlines``) and adds it to ``paused_seconds``, so the time to a target that the
  metrics observe excludes time on hold;
- a target escalates while its order is worked on (the follow-up once the order is resolved), is
  not met and not paused; its steps fall due at 80/100/150/200% of its running time, counted from
  ``started_at`` plus ``paused_seconds`` to its (shifted) ``due_at`` (the breach and the levels once
  that instant has passed: a target met at its deadline is met);
- ``next_check_at`` of an order is the earliest step not recorded yet of its escalating targets, or
  None: every write of an order stores it, and the scanner reads only orders whose time has come.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from dispatch.domain.escalation import Step, escalation_schedule, step_due
from dispatch.domain.sla import DEADLINE_TARGETS, shift_deadlines, target_outcome
from dispatch.domain.workflow import OPEN_STATUSES

Deadlines = dict[str, dict[str, Any]]
ESCALATING_STATUSES = tuple(status for status in OPEN_STATUSES if status != "on_hold")
"""The statuses in which the targets that start at receipt escalate; ``resolved`` escalates the follow-up."""


@dataclass(frozen=True)
class TargetResult:
    """A target that was met or missed by an action: its outcome and the time it took."""

    target: str
    outcome: str
    seconds: float
    counted: bool
    observed: bool = True
    allowed: float = 0.0
    """The time the target allowed, less time on hold: ``seconds / allowed`` is the share of it that was used."""


def _copied(deadlines: Mapping[str, Mapping[str, Any]]) -> Deadlines:
    return {target: copy.deepcopy(dict(entry)) for target, entry in deadlines.items()}


def new_entry(*, due_at: datetime, started_at: datetime) -> dict[str, Any]:
    """Return a pending target."""
    return {
        "due_at": due_at,
        "started_at": started_at,
        "met_at": None,
        "state": "pending",
        "warned": False,
        "breached": False,
        "levels": [],
        "paused_seconds": 0.0,
    }


def new_deadlines(due: Mapping[str, datetime], *, started_at: datetime) -> Deadlines:
    """Return the deadlines map for the given due times, all pending."""
    return {target: new_entry(due_at=due_at, started_at=started_at) for target, due_at in due.items()}


def due_times(deadlines: Mapping[str, Mapping[str, Any]]) -> dict[str, datetime]:
    """Return ``{target: due_at}``, the form events carry."""
    return {target: entry["due_at"] for target, entry in deadlines.items()}


def unmet(deadlines: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Return the targets not met yet."""
    return [target for target, entry in deadlines.items() if entry.get("met_at") is None]


def allowed_seconds(entry: Mapping[str, Any]) -> float:
    """Return the time a target allows, less time on hold (resuming moved ``due_at`` later by it)."""
    return max((entry["due_at"] - entry["started_at"]).total_seconds() - float(entry.get("paused_seconds", 0.0)), 0.0)


def meet(deadlines: Mapping[str, Mapping[str, Any]], *, targets: Iterable[str], at: datetime) -> tuple[Deadlines, list[TargetResult]]:
    """Mark targets met at ``at`` (on time or late); targets absent or already met are left alone."""
    updated = _copied(deadlines)
    results: list[TargetResult] = []
    for target in targets:
        entry = updated.get(target)
        if entry is None or entry.get("met_at") is not None:
            continue
        outcome = target_outcome(due_at=entry["due_at"], met_at=at)
        already_breached = bool(entry.get("breached"))
        entry["met_at"] = at
        entry["state"] = outcome
        entry["breached"] = already_breached or outcome == "breached"
        seconds = max((at - entry["started_at"]).total_seconds() - float(entry.get("paused_seconds", 0.0)), 0.0)
        counted = not (outcome == "breached" and already_breached)
        results.append(TargetResult(target, outcome, seconds, counted=counted, allowed=allowed_seconds(entry)))
    return updated, results


def miss(deadlines: Mapping[str, Mapping[str, Any]], *, target: str, at: datetime) -> tuple[Deadlines, list[TargetResult]]:
    """Mark a target as never met (a follow-up nobody answered); breached once its deadline has passed."""
    updated = _copied(deadlines)
    entry = updated.get(target)
    if entry is None or entry.get("met_at") is not None or (at < entry["due_at"] and not entry.get("breached")):
        return updated, []
    already_breached = bool(entry.get("breached"))
    entry["state"] = "breached"
    entry["breached"] = True
    seconds = max((at - entry["started_at"]).total_seconds() - float(entry.get("paused_seconds", 0.0)), 0.0)
    allowed = allowed_seconds(entry)
    return updated, [TargetResult(target, "breached", seconds, counted=not already_breached, observed=False, allowed=allowed)]


def pause(deadlines: Mapping[str, Mapping[str, Any]]) -> Deadlines:
    """Pause every unmet target."""
    updated = _copied(deadlines)
    for entry in updated.values():
        if entry.get("met_at") is None:
            entry["state"] = "paused"
    return updated


def resume(deadlines: Mapping[str, Mapping[str, Any]], *, paused_at: datetime, at: datetime) -> Deadlines:
    """Resume paused targets, moving their deadlines later by the time on hold."""
    updated = _copied(deadlines)
    paused_for = max(at - paused_at, timedelta(0))
    open_targets = [target for target, entry in updated.items() if entry.get("state") == "paused"]
    shifted = shift_deadlines(due_times(updated), open_targets=open_targets, paused_for=paused_for)
    for target in open_targets:
        entry = updated[target]
        entry["due_at"] = shifted[target]
        entry["state"] = "breached" if entry.get("breached") else "pending"
        entry["paused_seconds"] = float(entry.get("paused_seconds", 0.0)) + paused_for.total_seconds()
    return updated


def rebase(
    deadlines: Mapping[str, Mapping[str, Any]],
    *,
    due: Mapping[str, datetime],
    started_at: datetime,
    keep_met: bool,
    only: Iterable[str] | None = None,
) -> Deadlines:
    """Replace targets by new due times; with ``keep_met`` a target already met, or whose deadline
    did not move, stays as it was (with the scanner's flags).

    ``only`` limits the change to some targets and keeps the others; without it, targets absent
    from ``due`` are dropped (a reclassification to a tier without them).
    """
    chosen = set(due) if only is None else set(only) & set(due)
    updated: Deadlines = {}
    for target, entry in deadlines.items():
        if target in chosen:
            continue
        if only is not None or target == "follow_up":
            updated[target] = copy.deepcopy(dict(entry))
    for target in chosen:
        previous = deadlines.get(target)
        if previous is not None and keep_met and (previous.get("met_at") is not None or previous.get("due_at") == due[target]):
            updated[target] = copy.deepcopy(dict(previous))
        else:
            updated[target] = new_entry(due_at=due[target], started_at=started_at)
    return updated


def view_state(entry: Mapping[str, Any], *, now: datetime) -> str:
    """Return the state a reader sees: a pending target past its deadline reads as breached."""
    if entry.get("met_at") is not None:
        return str(entry.get("state") or "met")
    if entry.get("state") == "paused":
        return "paused"
    if entry.get("breached") or entry.get("state") == "breached" or entry["due_at"] < now:
        return "breached"
    return "pending"


@dataclass(frozen=True)
class Alert:
    """One escalation step of one target, due and not fired yet."""

    target: str
    step: Step
    due_at: datetime
    started_at: datetime


def escalating_targets(status: str | None) -> tuple[str, ...]:
    """Return the targets that escalate in a status: those from receipt while worked on, the follow-up once resolved."""
    if status == "resolved":
        return ("follow_up",)
    if status in ESCALATING_STATUSES:
        return DEADLINE_TARGETS
    return ()


def clock_start(entry: Mapping[str, Any]) -> datetime:
    """Return when a target's clock would have started had it never been on hold."""
    started_at: datetime = entry["started_at"]
    return started_at + timedelta(seconds=float(entry.get("paused_seconds", 0.0)))


def _running(order: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    deadlines = order.get("deadlines") or {}
    for target in escalating_targets(order.get("status")):
        entry = deadlines.get(target)
        if entry is None or entry.get("met_at") is not None or entry.get("state") == "paused":
            continue
        yield target, entry


def _schedule(order: Mapping[str, Any], entry: Mapping[str, Any]) -> list[tuple[datetime, Step]]:
    return escalation_schedule(
        started_at=clock_start(entry), due_at=entry["due_at"], tier=str(order.get("tier")), hotline=bool(order.get("hotline"))
    )


def recorded(entry: Mapping[str, Any], step: Step) -> bool:
    """Tell whether a step of a target has fired already."""
    if step.kind == "warning":
        return bool(entry.get("warned"))
    if step.kind == "breached":
        return bool(entry.get("breached"))
    return step.level in (entry.get("levels") or ())


def due_alerts(order: Mapping[str, Any], *, now: datetime) -> list[Alert]:
    """Return the steps of an order's escalating targets that are due at ``now`` and not fired yet, target by target."""
    return [
        Alert(target, step, entry["due_at"], clock_start(entry))
        for target, entry in _running(order)
        for at, step in _schedule(order, entry)
        if step_due(step, at=at, now=now) and not recorded(entry, step)
    ]


def next_check_at(order: Mapping[str, Any]) -> datetime | None:
    """Return when the earliest step not fired yet of an order falls due, or None when nothing is left to fire."""
    return min(
        (at for _, entry in _running(order) for at, step in _schedule(order, entry) if not recorded(entry, step)),
        default=None,
    )


def record_alerts(deadlines: Mapping[str, Mapping[str, Any]], *, alerts: Iterable[Alert]) -> Deadlines:
    """Mark the alerts' steps fired: ``warned``, ``breached`` (the target's state too) and the ``levels`` reached."""
    updated = _copied(deadlines)
    for alert in alerts:
        entry = updated[alert.target]
        if alert.step.kind == "warning":
            entry["warned"] = True
            continue
        if alert.step.kind == "breached":
            entry["breached"] = True
            entry["state"] = "breached"
        entry["levels"] = sorted({*(entry.get("levels") or ()), alert.step.level})
    return updated
