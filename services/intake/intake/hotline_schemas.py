"""marshmallow schemas of the 12345 hotline's HTTP API (docs/HOTLINE.md): what the hotline sends, what staff send and see."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from intake.domain.hotline import SATISFACTION_RESULTS, STATES
from propcare_shared.fields import UtcDateTime
from propcare_shared.http.pagination import PageArgs

TICKET_ID = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}$", error="1 to 64 letters, digits, '_', '.', ':' or '-'.")


class Caller(Schema):
    """Who called the hotline."""

    class Meta:
        unknown = EXCLUDE

    name = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=32))


class TransferIn(Schema):
    """A transfer as the hotline sends it (fields the contract does not name are ignored)."""

    class Meta:
        unknown = EXCLUDE

    hotline_ticket_id = fields.String(required=True, validate=TICKET_ID)
    transferred_at = UtcDateTime(required=True)
    caller = fields.Nested(Caller, required=True)
    estate_code = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=32))
    address = fields.String(required=True, validate=validate.Length(min=1, max=500))
    content = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    hotline_category = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    urgency = fields.String(required=True, validate=validate.OneOf(("normal", "urgent")))
    reply_deadline = UtcDateTime(required=True)


class TransferCreated(Schema):
    """The answer to a transfer: the complaint it became (``null`` while it waits in triage)."""

    complaint_id = fields.String(allow_none=True)
    ticket_no = fields.String(allow_none=True)
    hotline_ticket_id = fields.String()
    state = fields.String()


class ReturnIn(Schema):
    """Why a transfer goes back to the hotline (退单)."""

    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class ExtensionIn(Schema):
    """A request for more time (延期)."""

    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    until = UtcDateTime(required=True)


class EstateChoice(Schema):
    """The estate a triaged transfer belongs to."""

    estate_id = fields.String(required=True, validate=validate.Length(min=1, max=64))


class SatisfactionIn(Schema):
    """The hotline's own follow-up result (回访)."""

    class Meta:
        unknown = EXCLUDE

    result = fields.String(required=True, validate=validate.OneOf(SATISFACTION_RESULTS))
    comment = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class TransferListArgs(PageArgs):
    """The filters of the transfer list."""

    state = fields.String(load_default=None, validate=validate.OneOf(STATES))


class CallbackOut(Schema):
    """One callback to the hotline and how its delivery went (kept from notification's reports)."""

    callback_id = fields.String()
    event = fields.String()
    state = fields.String()
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    at = UtcDateTime()


class ExtensionOut(Schema):
    """The last extension asked for."""

    until = UtcDateTime()
    reason = fields.String()
    at = UtcDateTime()
    by = fields.String()


class SatisfactionOut(Schema):
    """The hotline's last follow-up result."""

    result = fields.String()
    comment = fields.String(allow_none=True)
    at = UtcDateTime()


class TransferOut(Schema):
    """A transfer as staff see it: its state, clocks and callbacks; the caller only masked."""

    hotline_ticket_id = fields.String()
    state = fields.String()
    allowed_actions = fields.List(fields.String())
    group_id = fields.String(allow_none=True)
    region_id = fields.String(allow_none=True)
    estate_id = fields.String(allow_none=True)
    complaint_id = fields.String(allow_none=True)
    ticket_no = fields.String(allow_none=True)
    estate_code = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    content = fields.String(allow_none=True)
    hotline_category = fields.String(allow_none=True)
    urgent = fields.Boolean()
    caller = fields.Dict(metadata={"description": "`name` and `phone` masked; `phone_refused` when the hotline sent no usable phone"})
    transferred_at = UtcDateTime()
    received_at = UtcDateTime()
    reply_deadline = UtcDateTime()
    reply_overdue = fields.Boolean()
    accept_due_at = UtcDateTime()
    accept_overdue = fields.Boolean()
    accepted_at = UtcDateTime(allow_none=True)
    accepted_by = fields.String(allow_none=True)
    returned_at = UtcDateTime(allow_none=True)
    return_reason = fields.String(allow_none=True)
    extension = fields.Nested(ExtensionOut, allow_none=True)
    satisfaction = fields.Nested(SatisfactionOut, allow_none=True)
    callbacks = fields.List(fields.Nested(CallbackOut))


class TransferPage(Schema):
    """A page of transfers."""

    items = fields.List(fields.Nested(TransferOut))
    next_cursor = fields.String(allow_none=True)
