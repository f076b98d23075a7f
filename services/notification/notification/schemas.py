"""marshmallow schemas of notification's HTTP API: messages with their attempts, templates, and the call list."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from notification.domain import call_tasks
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


class CallTaskListArgs(PageArgs):
    """Filters of the call list: an estate and the tasks' status (open by default)."""

    estate_id = fields.String(load_default=None, validate=ID)
    status = fields.String(load_default=call_tasks.OPEN, validate=validate.OneOf(call_tasks.STATUSES))


class CallOutcomeIn(Schema):
    """An agent's call: how it went, a note, and for no answer optionally when to call again."""

    outcome = fields.String(required=True, validate=validate.OneOf(call_tasks.OUTCOMES))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=call_tasks.NOTE_LIMIT))
    retry_at = UtcDateTime(
        load_default=None, allow_none=True, metadata={"description": "no_answer only: when to call again (default: the tier's retry delay)"}
    )

    @validates_schema
    def _retry_only_without_answer(self, data: dict[str, object], **_kwargs: object) -> None:
        if data.get("retry_at") is not None and data.get("outcome") != call_tasks.NO_ANSWER:
            raise ValidationError({"retry_at": ["Only a no_answer outcome is called again."]})


class LoggedOutcomeOut(Schema):
    """One call made on a task."""

    outcome = fields.String()
    note = fields.String(allow_none=True)
    actor_id = fields.String(allow_none=True)
    at = UtcDateTime()
    attempt = fields.Integer()


class CallTaskItemOut(Schema):
    """A call an agent owes a resident: why, when it is due, the number to call and the calls made."""

    id = fields.String()
    complaint_id = fields.String()
    ticket_no = fields.String(allow_none=True)
    message_id = fields.String()
    kind = fields.String(metadata={"description": "the message the call stands beside"})
    reason = fields.String(metadata={"description": "phone_channel or verbal_feedback (书面+口头)"})
    tier = fields.String(allow_none=True)
    language = fields.String(allow_none=True)
    status = fields.String(metadata={"description": "open or done"})
    due_at = UtcDateTime(allow_none=True)
    overdue = fields.Boolean()
    not_before = UtcDateTime(allow_none=True)
    phone = fields.String(allow_none=True, metadata={"description": "In full for agent, supervisor and manager; masked for other roles."})
    attempts = fields.Integer()
    last_outcome = fields.String(allow_none=True)
    outcomes = fields.List(fields.Nested(LoggedOutcomeOut))
    completed_at = UtcDateTime(allow_none=True)
    created_at = UtcDateTime()
    group_id = fields.String(allow_none=True)
    region_id = fields.String(allow_none=True)
    estate_id = fields.String(allow_none=True)


class CallTaskPage(Schema):
    """One page of the call list, earliest due (most overdue) first."""

    items = fields.List(fields.Nested(CallTaskItemOut))
    next_cursor = fields.String(allow_none=True)
