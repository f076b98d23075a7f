"""SLA policies and deadlines (SPEC §5). Pure: plain values in, plain values out, no I/O, no marshmallow.

A policy maps each tier to up to five targets, each a ``Target`` (a duration and a clock). The
defaults are ``DEFAULT_POLICY``; overrides of a group, a region and an estate are laid over them
cell by cell by ``effective_policy`` (the most specific scope wins, a cell left out inherits).

Deadline rules (docs/DEADLINES.md has worked examples):
- ``calendar`` clock: received + duration, 24x7.
- ``working_days`` clock: the local date of receipt never counts; the deadline is 23:59:59 local
  time on the N-th working day after it (``WorkingCalendar``), returned in UTC.
- A hotline (12345) deadline applies to the ``resolve`` target only: it replaces the resolve
  deadline when earlier, and becomes the resolve deadline of a tier that has none (emergency). The
  hotline's date is when it wants the case finished (办结), so it constrains resolution, not the
  first contact, arrival or plan, which keep their own, shorter, limits.
- On hold pauses every open target; resuming moves each open deadline later by the time on hold
  (``shift_deadlines``), literally, so a working-day deadline may move off 23:59:59.

Every instant returned is an aware UTC datetime. Naive datetimes passed in are read as UTC (what
MongoDB stores). The escalation steps of a target are ``dispatch.domain.escalation``; the HTTP shape
of a policy (``PolicyIn``) is ``dispatch.schemas``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import isodate

from propcare_shared.calendar import WorkingCalendar
from propcare_shared.clock import isoformat_z
from propcare_shared.vocabulary import DEFAULT_TIMEZONE, TARGETS, TIERS

CLOCKS = ("calendar", "working_days")
DEADLINE_TARGETS = tuple(target for target in TARGETS if target != "follow_up")
"""The targets that start at receipt; ``follow_up`` starts when the complaint is resolved."""

END_OF_WORKING_DAY = time(23, 59, 59)

Clock = Literal["calendar", "working_days"]
Due = TypeVar("Due", datetime, datetime | None)

NOT_ISO_DURATION = "Not an ISO 8601 duration such as PT24H or P3D."
MAX_DURATION = timedelta(days=366)
"""The longest target on either clock: bounds the day-by-day working-day walk a PUT could otherwise make endless."""


@dataclass(frozen=True)
class Target:
    """One cell of a policy: a positive duration and the clock it runs on (whole days for working days)."""

    duration: timedelta
    clock: Clock = "calendar"

    def __post_init__(self) -> None:
        if self.clock not in CLOCKS:
            raise ValueError(f"clock must be one of {CLOCKS}, got {self.clock!r}")
        if not timedelta(0) < self.duration <= MAX_DURATION:
            raise ValueError(f"duration must be positive and at most {MAX_DURATION.days} days, got {self.duration}")
        if self.clock == "working_days" and self.duration % timedelta(days=1):
            raise ValueError(f"a working-days target needs whole days, got {self.duration}")

    @property
    def working_days(self) -> int:
        """Return the number of working days of a working-days target."""
        return self.duration.days


Policy = dict[str, dict[str, Target]]


def _calendar(duration: timedelta) -> Target:
    return Target(duration, "calendar")


def _working_days(days: int) -> Target:
    return Target(timedelta(days=days), "working_days")


DEFAULT_POLICY: Policy = {
    "emergency": {
        "response": _calendar(timedelta(minutes=15)),
        "onsite": _calendar(timedelta(minutes=30)),
        "plan": _calendar(timedelta(hours=24)),
        "follow_up": _calendar(timedelta(hours=48)),
    },
    "important": {
        "response": _calendar(timedelta(hours=2)),
        "onsite": _calendar(timedelta(hours=2)),
        "plan": _calendar(timedelta(hours=24)),
        "resolve": _working_days(5),
        "follow_up": _calendar(timedelta(hours=48)),
    },
    "complex": {
        "response": _calendar(timedelta(hours=24)),
        "plan": _working_days(7),
        "resolve": _working_days(15),
        "follow_up": _calendar(timedelta(hours=48)),
    },
    "general": {
        "response": _calendar(timedelta(hours=24)),
        "resolve": _working_days(3),
        "follow_up": _calendar(timedelta(hours=48)),
    },
}
"""SPEC §5's table. Never mutated: ``effective_policy`` builds new dicts."""


def parse_duration(text: str) -> timedelta:
    """Return the timedelta of an ISO 8601 duration in days, hours, minutes and seconds (no years or months)."""
    if not isinstance(text, str):
        raise ValueError(NOT_ISO_DURATION)
    try:
        parsed = isodate.parse_duration(text)
    except (isodate.ISO8601Error, ValueError) as error:
        raise ValueError(NOT_ISO_DURATION) from error
    if isinstance(parsed, isodate.Duration):
        if parsed.years or parsed.months:
            raise ValueError("Years and months have no fixed length: use days, hours, minutes or seconds.")
        parsed = parsed.tdelta
    return parsed


def format_duration(target: Target) -> str:
    """Return a target's duration as ISO 8601: ``PnD`` for working days, hours/minutes/seconds for calendar."""
    if target.clock == "working_days":
        return f"P{target.working_days}D"
    total = target.duration
    hours, rest = divmod(total, timedelta(hours=1))
    minutes, rest = divmod(rest, timedelta(minutes=1))
    seconds = rest.total_seconds()
    parts = [f"{hours}H" if hours else "", f"{minutes}M" if minutes else ""]
    if seconds:
        parts.append(f"{seconds:g}S")
    return "PT" + "".join(parts)


def _as_target(cell: Target | Mapping[str, Any]) -> Target:
    if isinstance(cell, Target):
        return cell
    duration = cell["duration"]
    if isinstance(duration, str):
        duration = parse_duration(duration)
    return Target(duration, cell["clock"])


def effective_policy(*, layers: Sequence[Mapping[str, Any] | None], defaults: Policy = DEFAULT_POLICY) -> Policy:
    """Return the defaults overridden cell by cell by each layer in turn (group, region, estate: widest first).

    A layer is ``{"tiers": {tier: {target: cell}}}`` (the PUT body as ``dispatch.schemas.PolicyIn`` loads it),
    a cell a ``Target`` or ``{"duration": timedelta | ISO string, "clock"}``; ``None`` is a scope
    without overrides. A cell may add a target a tier lacks by default.
    """
    policy: Policy = {tier: dict(targets) for tier, targets in defaults.items()}
    for layer in layers:
        if not layer:
            continue
        for tier, cells in (layer.get("tiers") or {}).items():
            if tier not in TIERS:
                raise ValueError(f"unknown tier {tier!r}")
            for target, cell in (cells or {}).items():
                if target not in TARGETS:
                    raise ValueError(f"unknown target {target!r}")
                policy.setdefault(tier, {})[target] = _as_target(cell)
    return policy


def serialize_policy(policy: Mapping[str, Mapping[str, Target]]) -> dict[str, Any]:
    """Return a policy as the API shows it: ``{"tiers": {tier: {target: {"duration": ISO 8601, "clock"}}}}``."""
    return {
        "tiers": {
            tier: {
                target: {"duration": format_duration(cell), "clock": cell.clock}
                for target, cell in sorted(targets.items(), key=lambda item: TARGETS.index(item[0]))
            }
            for tier, targets in policy.items()
        }
    }


def as_utc(moment: datetime) -> datetime:
    """Return an instant in UTC; a naive one is read as UTC (what MongoDB stores)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _zone(timezone: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {timezone!r}") from error


def _tier_targets(policy: Mapping[str, Mapping[str, Target]], tier: str) -> Mapping[str, Target]:
    if tier not in TIERS:
        raise ValueError(f"unknown tier {tier!r}")
    return policy.get(tier) or {}


def deadline_for(*, target: Target, start: datetime, calendar: WorkingCalendar, timezone: str = DEFAULT_TIMEZONE) -> datetime:
    """Return one target's deadline for a clock started at ``start``, in UTC."""
    start = as_utc(start)
    if target.clock == "calendar":
        return start + target.duration
    zone = _zone(timezone)
    local_day = start.astimezone(zone).date()
    due_day = calendar.add_working_days(local_day, target.working_days)
    return datetime.combine(due_day, END_OF_WORKING_DAY, tzinfo=zone).astimezone(UTC)


def compute_deadlines(
    *,
    tier: str,
    received_at: datetime,
    policy: Mapping[str, Mapping[str, Target]],
    calendar: WorkingCalendar,
    timezone: str = DEFAULT_TIMEZONE,
    hotline_deadline: datetime | None = None,
) -> dict[str, datetime]:
    """Return the UTC deadline of each of the tier's targets except ``follow_up``, the hotline's applied to resolve."""
    targets = _tier_targets(policy, tier)
    deadlines = {
        name: deadline_for(target=targets[name], start=received_at, calendar=calendar, timezone=timezone)
        for name in DEADLINE_TARGETS
        if name in targets
    }
    if hotline_deadline is not None:
        hotline = as_utc(hotline_deadline)
        resolve = deadlines.get("resolve")
        if resolve is None or hotline < resolve:
            deadlines["resolve"] = hotline
    return deadlines


def follow_up_deadline(
    *,
    tier: str,
    resolved_at: datetime,
    policy: Mapping[str, Mapping[str, Target]],
    calendar: WorkingCalendar,
    timezone: str = DEFAULT_TIMEZONE,
) -> datetime | None:
    """Return the follow-up (回访) deadline counted from resolution, or None when the tier has no follow-up target."""
    target = _tier_targets(policy, tier).get("follow_up")
    if target is None:
        return None
    return deadline_for(target=target, start=resolved_at, calendar=calendar, timezone=timezone)


def shift_deadlines(deadlines: Mapping[str, Due], *, open_targets: Iterable[str], paused_for: timedelta) -> dict[str, Due]:
    """Return the deadlines with each open (not yet met) one moved later by the time on hold; the others unchanged."""
    if paused_for < timedelta(0):
        raise ValueError(f"paused_for must not be negative, got {paused_for}")
    shifting = set(open_targets)
    return {target: (due + paused_for if due is not None and target in shifting else due) for target, due in deadlines.items()}


def met_late(*, due_at: datetime, met_at: datetime) -> bool:
    """Return whether a target was met after its deadline."""
    return as_utc(met_at) > as_utc(due_at)


def target_outcome(*, due_at: datetime, met_at: datetime) -> Literal["met", "breached"]:
    """Return ``met`` when the target was met at or before its deadline, else ``breached`` (met late)."""
    return "breached" if met_late(due_at=due_at, met_at=met_at) else "met"


def preview(
    *,
    tier: str,
    received_at: datetime,
    policy: Mapping[str, Mapping[str, Target]],
    calendar: WorkingCalendar,
    timezone: str = DEFAULT_TIMEZONE,
    hotline_deadline: datetime | None = None,
) -> dict[str, str]:
    """Return ``{target: ISO 8601 UTC with Z}`` for a tier received at a time (GET /api/v1/sla/preview)."""
    deadlines = compute_deadlines(
        tier=tier, received_at=received_at, policy=policy, calendar=calendar, timezone=timezone, hotline_deadline=hotline_deadline
    )
    return {target: isoformat_z(due) for target, due in deadlines.items()}
