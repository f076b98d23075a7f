"""marshmallow schemas of intake's HTTP API (docs/API.md, Intake)."""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from intake.domain.people import REPORTER_ROLES, Phone
from propcare_shared.fields import UtcDateTime
from propcare_shared.http.pagination import PageArgs
from propcare_shared.vocabulary import CHANNELS, DEFAULT_TIMEZONE, STAFF_CHANNELS, STATUSES

# The contract's list filter names ``reopened`` too; no complaint holds it (a reopen leads back to
# ``assigned``), so it selects none rather than being refused.
STATUS_FILTERS = (*STATUSES, "reopened")
ID = validate.Length(min=1, max=64)
PART = validate.Length(min=1, max=32)


class EstateIn(Schema):
    """An estate of the directory."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    code = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9]{2,16}$", error="2 to 16 letters or digits."))
    region_id = fields.String(required=True, validate=ID)
    group_id = fields.String(required=True, validate=ID)
    timezone = fields.String(load_default=DEFAULT_TIMEZONE)

    @validates("timezone")
    def _known_zone(self, value: str, **_: Any) -> None:
        if value not in available_timezones():
            raise ValidationError(f"Not an IANA time zone, e.g. {DEFAULT_TIMEZONE}.")


class EstateOut(EstateIn):
    """An estate as intake keeps it."""

    estate_id = fields.String()
    updated_at = UtcDateTime()


class ImportOut(Schema):
    """A households import: its outcome, or its progress while it runs."""

    import_id = fields.String()
    status = fields.String(metadata={"description": "running, done, failed, or interrupted (running without progress for 10 minutes)."})
    rows = fields.Integer(metadata={"description": "The file's data rows."})
    processed = fields.Integer(metadata={"description": "The rows of the batches committed so far."})
    created = fields.Integer()
    updated = fields.Integer()
    rejected_count = fields.Integer()
    rejected = fields.List(
        fields.Dict(), metadata={"description": "Each refused row: `row` (from 1) and `errors` by column; the first 1,000."}
    )
    error = fields.String(allow_none=True)
    started_at = UtcDateTime()
    finished_at = UtcDateTime(allow_none=True)


class Reporter(Schema):
    """Who reports the complaint."""

    name = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    phone = Phone(required=True, metadata={"description": "Any way a person writes it; kept in E.164 (+86…)."})
    role = fields.String(load_default="owner", validate=validate.OneOf(REPORTER_ROLES))


class ComplaintIn(Schema):
    """A complaint as received (docs/API.md, Intake: ``POST /api/v1/complaints``)."""

    estate_id = fields.String(required=True, validate=ID)
    building = fields.String(load_default=None, allow_none=True, validate=PART)
    unit = fields.String(load_default=None, allow_none=True, validate=PART)
    room = fields.String(load_default=None, allow_none=True, validate=PART)
    reporter = fields.Nested(Reporter, required=True)
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    description = fields.String(required=True, validate=validate.Length(min=2, max=2000))
    demand = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))
    category_hint = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))
    expected_by = UtcDateTime(load_default=None, allow_none=True)
    # marshmallow formats a validator's message ({min}, {max}): the braces of the path are doubled to stay literal.
    attachments = fields.List(
        fields.String(validate=ID),
        load_default=list,
        validate=validate.Length(max=0, error="Upload files after creating the complaint: POST /api/v1/complaints/{{id}}/attachments."),
    )
    first_responder_id = fields.String(load_default=None, allow_none=True, validate=ID)
    external_ref = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=128))
    language = fields.String(load_default="zh-CN", validate=validate.OneOf(("zh-CN", "en")))

    @validates_schema
    def _first_responder_for_staff_channels(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("channel") in STAFF_CHANNELS and not data.get("first_responder_id"):
            raise ValidationError(f"Required for the channels {', '.join(STAFF_CHANNELS)}.", "first_responder_id")

    @validates_schema
    def _description_is_not_blank(self, data: dict[str, Any], **_: Any) -> None:
        if isinstance(data.get("description"), str) and not data["description"].strip():
            raise ValidationError("Say what the problem is.", "description")


class ComplaintCreated(Schema):
    """The answer to a received complaint: the resident keeps the tracking token."""

    id = fields.String()
    ticket_no = fields.String()
    status = fields.String()
    tracking_token = fields.String()
    received_at = UtcDateTime()


class TimelineEntry(Schema):
    """One change of a complaint as intake heard of it."""

    at = UtcDateTime()
    action = fields.String()
    status = fields.String()
    note = fields.String(allow_none=True)
    actor_id = fields.String(allow_none=True)


class ResidentTimelineEntry(Schema):
    """One change as the resident sees it: no staff ids."""

    at = UtcDateTime()
    action = fields.String()
    status = fields.String()


class ComplaintSummary(Schema):
    """A complaint as staff see it in lists."""

    id = fields.String(attribute="_id")
    ticket_no = fields.String()
    group_id = fields.String()
    region_id = fields.String()
    estate_id = fields.String()
    building = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)
    room = fields.String(allow_none=True)
    household_id = fields.String(allow_none=True)
    resident_id = fields.String(allow_none=True, metadata={"description": "The resident (one per phone in the group) who reported it."})
    reporter = fields.Dict()
    channel = fields.String()
    description = fields.String()
    demand = fields.String(allow_none=True)
    category_hint = fields.String(allow_none=True)
    expected_by = UtcDateTime(allow_none=True)
    first_responder_id = fields.String(allow_none=True)
    external_ref = fields.String(allow_none=True)
    status = fields.String()
    category = fields.String(allow_none=True)
    subcategory = fields.String(allow_none=True)
    tier = fields.String(allow_none=True)
    assignee_id = fields.String(allow_none=True)
    deadlines = fields.Dict(keys=fields.String(), values=UtcDateTime(allow_none=True))
    received_at = UtcDateTime()
    updated_at = UtcDateTime()
    attachments = fields.List(fields.Dict())


class ComplaintOut(ComplaintSummary):
    """A complaint as staff see it, with its timeline."""

    timeline = fields.List(fields.Nested(TimelineEntry))


class TrackOut(Schema):
    """What a resident sees of their own complaint through its tracking token."""

    ticket_no = fields.String()
    status = fields.String()
    channel = fields.String()
    description = fields.String()
    received_at = UtcDateTime()
    tier = fields.String(allow_none=True)
    deadlines = fields.Dict(
        keys=fields.String(), values=UtcDateTime(allow_none=True), metadata={"description": "The time limits, by target."}
    )
    timeline = fields.List(fields.Nested(ResidentTimelineEntry))


class ComplaintListArgs(PageArgs):
    """Filters of the complaint list."""

    estate_id = fields.String(load_default=None, validate=ID)
    status = fields.String(load_default=None, validate=validate.OneOf(STATUS_FILTERS))
    channel = fields.String(load_default=None, validate=validate.OneOf(CHANNELS))
    from_ = UtcDateTime(data_key="from", load_default=None)
    to = UtcDateTime(load_default=None)


class ComplaintPage(Schema):
    """One page of complaints."""

    items = fields.List(fields.Nested(ComplaintSummary))
    next_cursor = fields.String(allow_none=True)


class AttachmentOut(Schema):
    """A stored photo or video."""

    id = fields.String()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    uploaded_at = UtcDateTime()
