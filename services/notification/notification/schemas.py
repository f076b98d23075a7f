"""marshmallow schemas of notification's HTTP API: messages with their attempts, and templates."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from notification.domain.channels import DELIVERY_CHANNELS
from notification.domain.compose import KINDS
from notification.store import MESSAGE_STATUSES
from propcare_shared.fields import UtcDateTime
from propcare_shared.http.pagination import PageArgs

ID = validate.Length(min=1, max=64)


class NotificationListArgs(PageArgs):
    """Filters of the message list."""

    complaint_id = fields.String(load_default=None, validate=ID)
    estate_id = fields.String(load_default=None, validate=ID)
    status = fields.String(load_default=None, validate=validate.OneOf(MESSAGE_STATUSES))
    channel = fields.String(load_default=None, validate=validate.OneOf(DELIVERY_CHANNELS))
    kind = fields.String(load_default=None, validate=validate.OneOf(KINDS))


class AttemptOut(Schema):
    """One delivery attempt."""

    number = fields.Integer()
    at = UtcDateTime()
    provider = fields.String()
    status = fields.String()
    error = fields.String(allow_none=True)


class CallTaskOut(Schema):
    """The call an agent owes the resident beside the written message."""

    id = fields.String()
    reason = fields.String()
    status = fields.String()
    not_before = UtcDateTime(allow_none=True)
    created_at = UtcDateTime()


class NotificationOut(Schema):
    """A message to one recipient, its state and every attempt to deliver it; the address masked."""

    id = fields.String()
    complaint_id = fields.String(allow_none=True)
    ticket_no = fields.String(allow_none=True)
    campaign_id = fields.String(allow_none=True, metadata={"description": "A satisfaction campaign's invitation: its campaign."})
    household_id = fields.String(allow_none=True, metadata={"description": "A satisfaction campaign's invitation: the household invited."})
    kind = fields.String()
    audience = fields.String()
    channel = fields.String()
    recipient = fields.String(allow_none=True, metadata={"description": "Masked, e.g. 138****8000; a role or staff id for staff."})
    language = fields.String()
    title = fields.String()
    body = fields.String()
    tier = fields.String(allow_none=True)
    status = fields.String(metadata={"description": "queued, sending, retrying, sent, failed or skipped"})
    skip_reason = fields.String(allow_none=True)
    not_before = UtcDateTime(allow_none=True)
    attempt_count = fields.Integer()
    provider = fields.String(allow_none=True)
    last_error = fields.String(allow_none=True)
    sent_at = UtcDateTime(allow_none=True)
    failed_at = UtcDateTime(allow_none=True)
    created_at = UtcDateTime()
    updated_at = UtcDateTime()
    group_id = fields.String(allow_none=True)
    region_id = fields.String(allow_none=True)
    estate_id = fields.String(allow_none=True)
    attempts = fields.List(fields.Nested(AttemptOut))
    call_task = fields.Nested(CallTaskOut, allow_none=True)


class NotificationPage(Schema):
    """One page of messages."""

    items = fields.List(fields.Nested(NotificationOut))
    next_cursor = fields.String(allow_none=True)


class TemplateOut(Schema):
    """One template in one language."""

    kind = fields.String()
    audience = fields.String()
    language = fields.String()
    file = fields.String()
    source = fields.String()


class TemplateList(Schema):
    """Every template."""

    items = fields.List(fields.Nested(TemplateOut))


class TemplateKindOut(Schema):
    """One kind of message in every language."""

    kind = fields.String()
    audience = fields.String()
    languages = fields.Dict(keys=fields.String(), values=fields.String())
