"""marshmallow schemas of dispatch's HTTP API (docs/API.md, Directory, Work orders, SLA policies and calendars)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from dispatch.domain.assignment import STAFF_ROLES
from dispatch.domain.classify import CATEGORIES, TIERS
from dispatch.domain.sla import CLOCKS, MAX_DURATION, TARGETS, Target, parse_duration
from dispatch.domain.workflow import ACTIONS, missing_or_invalid
from propcare_shared.fields import UtcDateTime
from propcare_shared.http.pagination import PageArgs
from propcare_shared.vocabulary import CHANNELS, DEPARTMENTS, STATUSES

DEADLINE_STATES = ("pending", "met", "breached", "paused")
ID = validate.Length(min=1, max=64)


class StaffIn(Schema):
    """A staff member of an estate, as put by an estate manager."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    department = fields.String(required=True, validate=validate.OneOf(DEPARTMENTS))
    role = fields.String(required=True, validate=validate.OneOf(STAFF_ROLES))
    grids = fields.List(fields.String(validate=ID), load_default=list, validate=validate.Length(max=100))
    on_duty = fields.Boolean(load_default=True)


class StaffOut(Schema):
    """A staff member as dispatch keeps them."""

    staff_id = fields.String()
    estate_id = fields.String()
    name = fields.String()
    department = fields.String()
    role = fields.String()
    grids = fields.List(fields.String())
    on_duty = fields.Boolean()
    updated_at = UtcDateTime()


class StaffListArgs(PageArgs):
    """Filters of the staff list."""

    department = fields.String(load_default=None, validate=validate.OneOf(DEPARTMENTS))
    role = fields.String(load_default=None, validate=validate.OneOf(STAFF_ROLES))


class StaffPage(Schema):
    """One page of staff."""

    items = fields.List(fields.Nested(StaffOut))
    next_cursor = fields.String(allow_none=True)


class GridIn(Schema):
    """A grid: the buildings it holds and its owner."""

    buildings = fields.List(fields.String(validate=validate.Length(min=1, max=32)), required=True, validate=validate.Length(max=500))
    owner_id = fields.String(load_default=None, allow_none=True, validate=ID)


class GridOut(Schema):
    """A grid as dispatch keeps it."""

    grid_id = fields.String()
    estate_id = fields.String()
    buildings = fields.List(fields.String())
    owner_id = fields.String(allow_none=True)
    updated_at = UtcDateTime()


class GridPage(Schema):
    """One page of grids."""

    items = fields.List(fields.Nested(GridOut))
    next_cursor = fields.String(allow_none=True)


class ActionIn(Schema):
    """An action on a work order; which fields are required depends on the action."""

    action = fields.String(required=True, validate=validate.OneOf(ACTIONS))
    actor_id = fields.String(
        load_default=None,
        allow_none=True,
        validate=ID,
        metadata={"description": "Optional; the actor is always the token's sub, and any other value is a 422."},
    )
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))
    resolution = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    assignee_id = fields.String(load_default=None, allow_none=True, validate=ID)
    department = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(DEPARTMENTS))
    category = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(CATEGORIES))
    subcategory = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=64))
    tier = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(TIERS))

    @validates_schema(skip_on_field_errors=True)
    def check_action_fields(self, values: dict[str, Any], **_: Any) -> None:
        """Refuse an action without the fields it needs (docs/PRODUCT.md §4, docs/API.md)."""
        errors = missing_or_invalid(values["action"], values)
        if errors:
            raise ValidationError(errors)


class DeadlineOut(Schema):
    """One SLA target of a work order."""

    due_at = UtcDateTime(allow_none=True)
    met_at = UtcDateTime(allow_none=True)
    state = fields.String(validate=validate.OneOf(DEADLINE_STATES))


class TimelineEntryOut(Schema):
    """One change in a work order's life."""

    at = UtcDateTime()
    action = fields.String()
    actor_id = fields.String(allow_none=True)
    note = fields.String(allow_none=True)


class WorkOrderSummary(Schema):
    """A work order without its timeline (lists)."""

    complaint_id = fields.String()
    ticket_no = fields.String()
    estate_id = fields.String()
    status = fields.String()
    category = fields.String(allow_none=True)
    subcategory = fields.String(allow_none=True)
    tier = fields.String(allow_none=True)
    department = fields.String(allow_none=True)
    assignee_id = fields.String(allow_none=True)
    grid_id = fields.String(allow_none=True)
    confidence = fields.Float(allow_none=True)
    needs_review = fields.Boolean()
    matched = fields.List(fields.String())
    escalation_level = fields.Integer()
    deadlines = fields.Dict(keys=fields.String(), values=fields.Nested(DeadlineOut))


class WorkOrderOut(WorkOrderSummary):
    """A work order with its last 200 timeline entries (docs/API.md)."""

    timeline = fields.List(fields.Nested(TimelineEntryOut))


class WorkOrderListArgs(PageArgs):
    """Filters of the work-order list."""

    estate_id = fields.String(load_default=None, validate=ID)
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    tier = fields.String(load_default=None, validate=validate.OneOf(TIERS))
    assignee_id = fields.String(load_default=None, validate=ID)
    overdue = fields.Boolean(load_default=None)
    needs_review = fields.Boolean(load_default=None)


class WorkOrderPage(Schema):
    """One page of work orders."""

    items = fields.List(fields.Nested(WorkOrderSummary))
    next_cursor = fields.String(allow_none=True)


def _not_blank(text: str) -> None:
    if not text.strip():
        raise ValidationError("Must contain something other than whitespace.")


class ClassifyIn(Schema):
    """A text to classify: 1 to 5,000 characters, not only whitespace."""

    text = fields.String(required=True, validate=[validate.Length(min=1, max=5000, error="Must be 1 to 5000 characters long."), _not_blank])
    channel = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(CHANNELS))


class ClassificationOut(Schema):
    """What the classifier made of a text, and why."""

    category = fields.String()
    subcategory = fields.String()
    tier = fields.String()
    department = fields.String()
    confidence = fields.Float()
    matched = fields.List(fields.String())
    needs_review = fields.Boolean()


class SlaPreviewArgs(Schema):
    """The deadlines a complaint of a tier would get in an estate."""

    estate_id = fields.String(required=True, validate=ID)
    tier = fields.String(required=True, validate=validate.OneOf(TIERS))
    received_at = UtcDateTime(load_default=None)


class SlaPreviewOut(Schema):
    """The deadline of each target of a tier."""

    tier = fields.String()
    deadlines = fields.Dict(keys=fields.String(), values=UtcDateTime())


# SLA policies and calendars ------------------------------------------------------------------------

_WHOLE_DAYS = re.compile(r"P(\d+)D")


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


class DottedErrors:
    """Report nested field errors under dotted keys (``tiers.general.response.duration``, ``closures.0``)."""

    def handle_error(self, error: ValidationError, data: Any, *, many: bool, **kwargs: Any) -> None:
        """Raise the same errors, flattened."""
        messages = error.messages if isinstance(error.messages, Mapping | list) else [str(error.messages)]
        raise ValidationError(flatten_errors(messages), data=data, valid_data=error.valid_data)


class PolicyIn(DottedErrors, PolicyOverrideSchema):
    """The cells a scope overrides: ``{"tiers": {tier: {target: {"duration": "PT24H", "clock": "calendar"}}}}``."""


class PolicyOut(Schema):
    """The effective policy of a scope (``tiers``) and the cells the scope itself overrides (``overrides``)."""

    scope = fields.String()
    tiers = fields.Dict()
    overrides = fields.Dict()


MAX_CALENDAR_DAYS = 1000


class CalendarIn(DottedErrors, Schema):
    """A scope's own closures and extra working days (ISO dates, ``YYYY-MM-DD``)."""

    closures = fields.List(fields.Date(), load_default=list, validate=validate.Length(max=MAX_CALENDAR_DAYS))
    extra_working_days = fields.List(fields.Date(), load_default=list, validate=validate.Length(max=MAX_CALENDAR_DAYS))

    @validates_schema(skip_on_field_errors=True)
    def check_disjoint(self, values: dict[str, Any], **_: Any) -> None:
        """Refuse a day that is both a closure and an extra working day."""
        both = sorted(set(values["closures"]) & set(values["extra_working_days"]))
        if both:
            raise ValidationError(
                f"A day cannot be both a closure and an extra working day: {', '.join(map(str, both))}.", field_name="extra_working_days"
            )


class CalendarDays(Schema):
    """Closures and extra working days, as ISO dates."""

    closures = fields.List(fields.String())
    extra_working_days = fields.List(fields.String())


class CalendarOut(CalendarDays):
    """A scope's own closures and extra working days, and those in force there (``effective``, with the wider scopes')."""

    scope = fields.String()
    effective = fields.Nested(CalendarDays)
