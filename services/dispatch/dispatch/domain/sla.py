"""SLA policies, deadlines and escalation steps (SPEC §5). Pure: plain values in, plain values out, no I/O.

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
MongoDB stores). Escalation is computed, not fired: the scanner that owns the database
(``dispatch.escalation``) makes each warning and breach fire exactly once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any, Literal, NamedTuple, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import isodate
from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from propcare_shared.calendar import WorkingCalendar
from propcare_shared.clock import isoformat_z

TARGETS = ("response", "onsite", "plan", "resolve", "follow_up")
TIERS = ("emergency", "important", "complex", "general")
CLOCKS = ("calendar", "working_days")
DEADLINE_TARGETS = tuple(target for target in TARGETS if target != "follow_up")
"""The targets that start at receipt; ``follow_up`` starts when the complaint is resolved."""

DEFAULT_TIMEZONE = "Asia/Shanghai"
END_OF_WORKING_DAY = time(23, 59, 59)

Clock = Literal["calendar", "working_days"]
Due = TypeVar("Due", datetime, datetime | None)

_WHOLE_DAYS = re.compile(r"P(\d+)D")
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

    A layer is ``{"tiers": {tier: {target: cell}}}`` (the PUT body or ``PolicyOverrideSchema``'s load),
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


class IsoDuration(fields.Field):
    """An ISO 8601 duration (``PT24H``, ``P3D``) loaded as a positive timedelta."""

    default_error_messages = {
        "not_positive": "The duration must be longer than zero.",
        "too_long": f"The duration must be at most P{MAX_DURATION.days}D.",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any) -> timedelta:
        try:
            parsed = parse_duration(value)
        except ValueError as error:
            raise ValidationError(str(error)) from error
        if parsed <= timedelta(0):
            raise self.make_error("not_positive")
        if parsed > MAX_DURATION:
            raise self.make_error("too_long")
        return parsed


class TargetSchema(Schema):
    """One cell: ``{"duration": "PT24H", "clock": "calendar"}``; a working-days cell is written ``PnD``."""

    duration = IsoDuration(required=True)
    clock = fields.String(required=True, validate=validate.OneOf(CLOCKS))

    @validates_schema(pass_original=True)
    def _whole_days_for_working_days(self, data: Mapping[str, Any], original_data: Any, **kwargs: Any) -> None:
        if data.get("clock") == "working_days" and not _WHOLE_DAYS.fullmatch(str(original_data.get("duration"))):
            raise ValidationError("A working-days target needs a whole number of days written PnD, such as P3D.", field_name="duration")

    @post_load
    def _target(self, data: Mapping[str, Any], **kwargs: Any) -> Target:
        return Target(data["duration"], data["clock"])


class TierTargetsSchema(Schema):
    """The cells of one tier that a scope overrides."""

    error_messages = {"unknown": f"Unknown target; expected one of: {', '.join(TARGETS)}."}

    response = fields.Nested(TargetSchema)
    onsite = fields.Nested(TargetSchema)
    plan = fields.Nested(TargetSchema)
    resolve = fields.Nested(TargetSchema)
    follow_up = fields.Nested(TargetSchema)


class TiersSchema(Schema):
    """The tiers a scope overrides."""

    error_messages = {"unknown": f"Unknown tier; expected one of: {', '.join(TIERS)}."}

    emergency = fields.Nested(TierTargetsSchema)
    important = fields.Nested(TierTargetsSchema)
    complex = fields.Nested(TierTargetsSchema)
    general = fields.Nested(TierTargetsSchema)


class PolicyOverrideSchema(Schema):
    """The body of ``PUT /api/v1/sla-policies/{scope}``; loads to ``{"tiers": {tier: {target: Target}}}``."""

    tiers = fields.Nested(TiersSchema, required=True)


def flatten_errors(errors: Mapping[str, Any] | list[Any], *, prefix: str = "") -> dict[str, list[str]]:
    """Return marshmallow's nested errors keyed by dotted path (``tiers.general.response.duration``)."""
    if not isinstance(errors, Mapping):
        return {prefix or "_schema": [str(message) for message in errors]}
    flat: dict[str, list[str]] = {}
    for key, value in errors.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            flat.update(flatten_errors(value, prefix=path))
        else:
            flat[path] = [str(message) for message in (value if isinstance(value, list | tuple) else [value])]
    return flat


def _utc(moment: datetime) -> datetime:
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
    start = _utc(start)
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
        hotline = _utc(hotline_deadline)
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
    return _utc(met_at) > _utc(due_at)


def target_outcome(*, due_at: datetime, met_at: datetime) -> Literal["met", "breached"]:
    """Return ``met`` when the target was met at or before its deadline, else ``breached`` (met late)."""
    return "breached" if met_late(due_at=due_at, met_at=met_at) else "met"


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
    start, due = _utc(started_at), _utc(due_at)
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
    moment = _utc(now)
    schedule = escalation_schedule(started_at=started_at, due_at=due_at, tier=tier, hotline=hotline)
    return [step for at, step in schedule if step_due(step, at=at, now=moment)]


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
